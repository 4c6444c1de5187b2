"""Helpers for chapters: put computed numbers and figures into the prose with ``myst_nb.glue``.

Every number in a chapter's text is glued from the cell that computed it::

    glue_number("alpha_hat", 0.0763, ".3f")    # prose: {glue}`alpha_hat`  ->  0.076
    glue_figure("fig_loglog", fig)             # prose: ```{glue:figure} fig_loglog
    glue_many({"a": 0.5123, "n": (9139, ",.0f"), "name": "Chinchilla"}, fmt=".2f")

``glue_number`` glues a value whose plain-text form is already formatted, so ``{glue}`` shows
``0.076`` rather than ``0.07631...`` or ``'0.076'`` (with quotes, as a glued ``str`` would).
"""

from __future__ import annotations


class Formatted(float):
    """A float that prints as its formatted text (what ``{glue}`` shows)."""

    def __new__(cls, value: float, fmt: str):
        obj = super().__new__(cls, value)
        obj.text = format(value, fmt)
        return obj

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__


class Text(str):
    """A string that prints without quotes."""

    def __repr__(self) -> str:
        return str(self)


def glue_number(name: str, value: float, fmt: str = ".3g", display: bool = False) -> None:
    """Glue ``value`` formatted with ``fmt`` (e.g. ``".3f"``, ``",.0f"``, ``".2e"``, ``".1%"``).

    Returns None on purpose: as the last line of a cell, a returned value would be displayed.
    """
    from myst_nb import glue

    glue(name, Formatted(float(value), fmt), display=display)


def glue_text(name: str, text: str, display: bool = False) -> None:
    """Glue a short piece of text (a model name, a formatted range like ``0.31-0.37``)."""
    from myst_nb import glue

    glue(name, Text(text), display=display)


def glue_figure(name: str, fig) -> None:
    """Glue a matplotlib figure for a ``{glue:figure}`` directive and close it (no duplicate)."""
    import matplotlib.pyplot as plt
    from myst_nb import glue

    glue(name, fig, display=False)
    plt.close(fig)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def format_sci(value: float, digits: int = 3) -> str:
    """``5.88e23`` as ``5.88 × 10²³`` (``digits`` significant digits; plain below 1e4)."""
    v = float(value)
    if v == 0 or 1e-3 <= abs(v) < 1e4:
        return format(v, f".{digits}g")
    mant, exp = f"{v:.{digits - 1}e}".split("e")
    return f"{mant} × 10{str(int(exp)).translate(_SUPERSCRIPT)}"


def format_range(lo: float, hi: float, fmt: str = ".2f") -> str:
    """An interval as ``0.51–0.69`` (an en dash, no words: the same text reads in both
    editions of the book; a negative end is written with a minus sign, ``−0.02–0.01``)."""
    def one(v):
        return format(float(v), fmt).replace("-", "−")

    return f"{one(lo)}–{one(hi)}"


def glue_sci(name: str, value: float, digits: int = 3, display: bool = False) -> None:
    """Glue a large or small number in scientific notation, e.g. ``5.88 × 10²³``."""
    glue_text(name, format_sci(value, digits), display=display)


def glue_many(values: dict, fmt: str = ".3g", display: bool = False) -> None:
    """Glue every entry of ``values`` in one call: a cell computes, then glues its results.

    A value is a number (formatted with ``fmt``), a ``(number, fmt)`` pair for its own format,
    or a string (glued as text)::

        glue_many({"a_hat": fit.a, "n_runs": (len(df), "d"), "best": name}, fmt=".2f")
    """
    if not isinstance(values, dict):
        raise TypeError(f"glue_many: values must be a dict of name -> value, got "
                        f"{type(values).__name__}")
    for name, value in values.items():
        if isinstance(value, str):
            glue_text(name, value, display=display)
        elif isinstance(value, tuple):
            if len(value) != 2 or not isinstance(value[1], str):
                raise TypeError(f"glue_many: {name!r} must be (number, fmt), got {value!r}")
            glue_number(name, value[0], value[1], display=display)
        else:
            glue_number(name, value, fmt, display=display)
