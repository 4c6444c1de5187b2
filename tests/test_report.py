"""report.format_sci: scientific notation for glued prose."""

from scaling_lab.report import format_sci


def test_format_sci():
    assert format_sci(5.88e23) == "5.88 × 10²³"
    assert format_sci(1.3e12, 2) == "1.3 × 10¹²"
    assert format_sci(2.5e-7, 2) == "2.5 × 10⁻⁷"
    assert format_sci(42.0) == "42"
