"""Input checks shared by the package. Every message names the argument, shows what it got and
says what to pass instead; every check raises ``ValueError``.

- :func:`number`       one finite scalar: > 0 (or >= 0), at least a minimum, a whole number
- :func:`integer`      an ``int`` (never a bool or a float): seeds, world numbers
- :func:`array`        a number or an array of numbers, checked entry by entry (any shape)
- :func:`column`       the same as a non-empty 1-D array: one value per run
- :func:`same_length`  columns with one value per run each
- :func:`broadcast`    arrays that broadcast together
- :func:`chinchilla_like`  an object with the attributes of a Chinchilla-form law

``laws``, ``fitting``, ``budget`` and ``simulate`` call these; none writes its own.
"""

from __future__ import annotations

import math

import numpy as np

KINDS = ("positive", "non-negative", "finite")


def _show(x) -> str:
    """``repr(x)`` when short, else its type: a message is one line."""
    r = repr(x)
    return r if len(r) <= 60 else f"a {type(x).__name__}"


def number(name: str, value, *, allow_zero: bool = False, minimum: float | None = None,
           whole: bool = False, note: str = "") -> float:
    """``value`` as a float: finite and > 0 (>= 0 with ``allow_zero``), at least ``minimum``
    if given, a whole number if ``whole``; ``note`` (e.g. ``" (a count)"``) says what it is.

    >>> number("alpha_N", 0)
    Traceback (most recent call last):
    ...
    ValueError: alpha_N must be a positive, finite number; got 0
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number{note}; got {_show(value)}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        sign = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be a {sign}, finite number{note}; got {_show(value)}")
    if minimum is not None and v < minimum:
        raise ValueError(f"{name} must be at least {minimum:g}{note}; got {_show(value)}")
    if whole and not v.is_integer():
        raise ValueError(f"{name} must be a whole number{note}; got {_show(value)}")
    return v


def integer(name: str, value, *, minimum: int = 0) -> int:
    """``value`` as an int: an integer type (not a bool, not a float) and at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        what = "a non-negative integer" if minimum == 0 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {what}; got {_show(value)}")
    return int(value)


def _as_float(name: str, x) -> np.ndarray:
    try:
        return np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or an array of numbers; "
                         f"got {_show(x)}") from None


def _check_entries(name: str, a: np.ndarray, kind: str, hint: str) -> None:
    """ValueError at the first entry of ``a`` that is not ``kind`` and finite."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")
    ok = np.isfinite(a)
    if kind == "positive":
        ok &= a > 0
    elif kind == "non-negative":
        ok &= a >= 0
    if ok.all():
        return
    what = "finite" if kind == "finite" else f"{kind} and finite"
    if a.ndim == 0:
        raise ValueError(f"{name} must be {what}; got {a.item():g}{hint}")
    bad = np.flatnonzero(~ok.ravel())
    i = int(bad[0])
    where = i if a.ndim == 1 else tuple(int(j) for j in np.unravel_index(i, a.shape))
    more = f" and {bad.size - 1} more" if bad.size > 1 else ""
    raise ValueError(f"{name} must be {what}: found {a.ravel()[i]:g} at index {where}{more}{hint}")


def array(name: str, x, *, kind: str = "positive", hint: str = "") -> np.ndarray:
    """``x`` (a number or an array of any shape) as a float array whose every entry is
    ``kind`` (``"positive"``, ``"non-negative"`` or just ``"finite"``) and finite.

    >>> array("N", [1e9, 2e9, -3])
    Traceback (most recent call last):
    ...
    ValueError: N must be positive and finite: found -3 at index 2
    """
    a = _as_float(name, x)
    _check_entries(name, a, kind, hint)
    return a


def column(name: str, x, *, kind: str = "positive", hint: str = "") -> np.ndarray:
    """:func:`array` for one value per run: a scalar becomes length 1; 2-D or empty is refused."""
    a = _as_float(name, x)
    if a.ndim == 0:
        a = a.reshape(1)
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name} is empty; pass at least one value")
    _check_entries(name, a, kind, hint)
    return a


def same_length(**columns) -> int:
    """All columns as long as the first; else ``"N has 10 values but loss has 9"``."""
    (name0, a0), *rest = columns.items()
    for name, a in rest:
        if len(a) != len(a0):
            raise ValueError(f"{name0} has {len(a0)} values but {name} has {len(a)}; "
                             "pass one value per run")
    return len(a0)


def broadcast(**arrays) -> tuple[np.ndarray, ...]:
    """The arrays broadcast together, or a ValueError naming each one's shape."""
    try:
        return np.broadcast_arrays(*arrays.values())
    except ValueError:
        shapes = ", ".join(f"{k} {np.shape(v)}" for k, v in arrays.items())
        raise ValueError(f"shapes do not broadcast: {shapes}; "
                         "pass equal lengths or scalars") from None


CHINCHILLA_ATTRIBUTES = ("E", "A", "B", "alpha", "beta", "loss")


def chinchilla_like(law, needs: tuple[str, ...] = CHINCHILLA_ATTRIBUTES, name: str = "law") -> None:
    """A ValueError unless ``law`` has every attribute in ``needs`` (a
    :class:`scaling_lab.laws.ChinchillaLaw` has them all)."""
    missing = [k for k in needs if not hasattr(law, k)]
    if missing:
        raise ValueError(f"{name} must be a scaling_lab.laws.ChinchillaLaw "
                         f"(E + A/N^alpha + B/D^beta); got {type(law).__name__}, which has no "
                         f"{', '.join(missing)}")
