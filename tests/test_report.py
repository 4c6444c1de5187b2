"""report.format_sci: scientific notation for glued prose."""

from scaling_lab.report import format_sci


def test_format_sci():
    assert format_sci(5.88e23) == "5.88 × 10²³"
    assert format_sci(1.3e12, 2) == "1.3 × 10¹²"
    assert format_sci(2.5e-7, 2) == "2.5 × 10⁻⁷"
    assert format_sci(42.0) == "42"


def test_glue_helpers_return_nothing_and_print_formatted(capsys):
    """A glue call as a cell's last line must not display a stray value on the page."""
    from scaling_lab.report import Formatted, Text, glue_number, glue_sci, glue_text

    assert glue_number("k", 0.07631, ".3f") is None
    assert glue_text("t", "a to b") is None
    assert glue_sci("s", 5.88e23) is None
    assert repr(Formatted(0.07631, ".3f")) == "0.076" and repr(Text("x y")) == "x y"


def test_glue_many_glues_each_value_with_its_format(monkeypatch):
    """One call, three kinds of value: a number in the shared format, a (number, fmt) pair, a
    string; each reaches myst_nb.glue formatted as the prose will show it."""
    import myst_nb

    from scaling_lab.report import glue_many

    seen = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display=False: seen.update(
        {name: repr(value)}))
    assert glue_many({"a": 0.51234, "n": (9139, ",.0f"), "who": "Chinchilla"}, fmt=".2f") is None
    assert seen == {"a": "0.51", "n": "9,139", "who": "Chinchilla"}


def test_glue_many_names_a_bad_value():
    import pytest

    from scaling_lab.report import glue_many

    with pytest.raises(TypeError, match="'x' must be \\(number, fmt\\)"):
        glue_many({"x": (1.0, 2.0)})
    with pytest.raises(TypeError, match="values must be a dict"):
        glue_many([("x", 1.0)])
