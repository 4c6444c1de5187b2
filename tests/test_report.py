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
