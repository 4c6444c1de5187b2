"""Chapter 8's glued numbers (lab: WSD sweeps), on the smoke preset; the notebook asserts the book
preset's bars itself (losses within tolerance, >= 3x saved for the horizons sweep)."""

import pytest

pytestmark = pytest.mark.slow
CH = "08_lab_wsd_sweeps"


def test_wsd_matches_cosine(smoke_build):
    assert smoke_build.number(CH, "l8_max_diff") <= smoke_build.number(CH, "l8_tol") == 0.02


def test_measured_savings(smoke_build):
    iso = smoke_build.number(CH, "l8_iso_ratio")
    dense = smoke_build.number(CH, "l8_h_ratio")
    assert 1.2 < iso < 2.5                       # doubling budgets: the longest run dominates
    assert dense > iso and dense > 2.0           # many lengths per size: the saving grows
    assert dense < smoke_build.number(CH, "l8_limit") == 5
    assert smoke_build.number(CH, "l8_h_wall_ratio") > 1.2
    assert smoke_build.number(CH, "l8_ex_r20") == pytest.approx(31 / 19, abs=0.01)


def test_gpu_prices(smoke_build):
    assert smoke_build.number(CH, "l8_gpu_ratio") > 1.05          # WSD groups in the IsoFLOP part
    assert smoke_build.number(CH, "l8_gpu_hours") < smoke_build.number(CH, "l8_gpu_hours_sep")
