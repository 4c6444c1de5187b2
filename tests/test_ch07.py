"""Chapter 7's glued numbers (lab: compute-optimal), on the smoke preset. Smoke's budgets are too
small to promise interior minima; the notebook itself asserts them on the book preset."""

import math

import pytest

pytestmark = pytest.mark.slow
CH = "07_lab_compute_optimal"


def test_isoflop_sweep(smoke_build):
    assert smoke_build.number(CH, "l7_n_budgets") == 3
    assert 0 <= smoke_build.number(CH, "l7_n_interior") <= 3
    assert smoke_build.number(CH, "l7_n_runs") == 12


def test_exponent_and_ratio(smoke_build):
    a = smoke_build.number(CH, "l7_a2")
    assert math.isfinite(a) and -1 < a < 2
    assert smoke_build.number(CH, "l7_tpp2") > 20                   # tiny models: far more than 20
    assert smoke_build.number(CH, "l7_epoch_tpp") > 20              # Chinchilla's law, extrapolated down


def test_convention_moves_the_answer(smoke_build):
    assert smoke_build.number(CH, "l7_fpt_ratio_lo") > 1.2
    assert smoke_build.number(CH, "l7_fpt_ratio_hi") > smoke_build.number(CH, "l7_fpt_ratio_lo")
    assert smoke_build.number(CH, "l7_conv_tpp_factor") > 1.5       # 6N-non-embedding counts more tokens/param
