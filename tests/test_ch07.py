"""Chapter 7's glued numbers (lab: compute-optimal), on the smoke preset. Smoke's budgets are too
small to promise interior minima; the notebook itself asserts them on the book preset."""

import math

import pytest

pytestmark = pytest.mark.slow
CH = "07_lab_compute_optimal"


def _interior_budgets(build) -> int:
    """Budgets whose best run is neither the smallest nor the largest size, recounted from the
    build's own store (the runs chapter 7 read)."""
    from scaling_lab.lab.analysis import with_convention
    from scaling_lab.lab.presets import get_preset

    store = build.out / "stage" / "notebooks" / "lab_results" / "smoke.jsonl"
    iso = with_convention(get_preset("smoke").frame("isoflop", str(store)), "full")
    iso = iso[iso.status == "ok"]
    n = 0
    for _, sub in iso.groupby("budget"):
        best = sub.sort_values("N")["val_loss"].to_numpy().argmin()
        n += 0 < best < len(sub) - 1
    return n


def test_isoflop_sweep(smoke_build):
    assert smoke_build.number(CH, "l7_n_budgets") == 13
    assert smoke_build.number(CH, "l7_n_interior") == _interior_budgets(smoke_build)
    assert smoke_build.number(CH, "l7_n_runs") == 52
    assert smoke_build.number(CH, "l7_sizes_per_budget") == 4
    assert smoke_build.number(CH, "l7_spacing") == pytest.approx(2 ** (1 / 6), abs=0.01)


def test_exponent_and_ratio(smoke_build):
    a = smoke_build.number(CH, "l7_a2")
    assert math.isfinite(a) and -1 < a < 2
    assert smoke_build.number(CH, "l7_tpp2") > 20                   # tiny models: far more than 20
    assert smoke_build.number(CH, "l7_epoch_tpp") > 20              # Chinchilla's law, extrapolated down


def test_convention_moves_the_answer(smoke_build):
    assert smoke_build.number(CH, "l7_fpt_ratio_lo") > 1.2
    assert smoke_build.number(CH, "l7_fpt_ratio_hi") > smoke_build.number(CH, "l7_fpt_ratio_lo")
    assert smoke_build.number(CH, "l7_conv_tpp_factor") > 1.5       # 6N-non-embedding counts more tokens/param
