"""Chapter 1's glued numbers, on the smoke preset: values, with tolerances that can fail."""

import pytest

pytestmark = pytest.mark.slow
CH = "01_power_laws"


def test_scale_free_doubling(smoke_build):
    assert smoke_build.number(CH, "alpha_N") == 0.076
    assert smoke_build.number(CH, "doubling_factor") == 0.949      # 2 ** -0.076
    assert smoke_build.number(CH, "halving_factor") == 9139         # 2 ** (1 / 0.076)


def test_estimators_each_win_under_their_own_noise(smoke_build):
    assert smoke_build.number(CH, "ratio_mult") > 2
    assert smoke_build.number(CH, "ratio_add") > 2
    assert smoke_build.number(CH, "bias_log_add") > 0


def test_floor_bends_the_exponent(smoke_build):
    assert smoke_build.number(CH, "alpha_offset") == pytest.approx(0.34, abs=1e-3)
    assert smoke_build.number(CH, "alpha_apparent") < 0.1
    assert smoke_build.number(CH, "slope_small") > smoke_build.number(CH, "slope_large")


def test_extrapolation_intervals_widen(smoke_build):
    widths = [smoke_build.number(CH, f"width_red_{k}") for k in range(4)]
    assert widths == sorted(widths) and widths[3] > 1.5 * widths[0]


def test_quanta_exponents_match_theory(smoke_build):
    assert smoke_build.number(CH, "quanta_cap_fit") == pytest.approx(0.5, abs=0.03)
    assert smoke_build.number(CH, "quanta_data_fit") == pytest.approx(1 / 3, abs=0.02)
    assert smoke_build.number(CH, "zipf1_cap") == pytest.approx(1.0, abs=0.05)
    assert smoke_build.number(CH, "zipf1_data") == pytest.approx(0.5, abs=0.03)


def test_exponent_interval_is_glued_as_a_range(smoke_build):
    """alpha_ci reads the same in both editions ('0.36–0.46') and brackets the estimate."""
    lo, hi = (float(v) for v in smoke_build.glue[CH]["alpha_ci"].split("–"))
    assert lo < smoke_build.number(CH, "alpha_fit") < hi
