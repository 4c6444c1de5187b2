"""Chapter 7's glued numbers (lab: compute-optimal), on the smoke preset. Smoke's budgets are too
small to promise interior minima; the notebook itself asserts them on the book preset."""

import math

import pytest

pytestmark = pytest.mark.slow
CH = "07_lab_compute_optimal"


def _iso(build):
    """The IsoFLOP runs chapter 7 read, from the build's own store (full count)."""
    from scaling_lab.lab.analysis import with_convention
    from scaling_lab.lab.presets import get_preset

    store = build.out / "stage" / "notebooks" / "lab_results" / "smoke.jsonl"
    iso = with_convention(get_preset("smoke").frame("isoflop", str(store)), "full")
    return iso[iso.status == "ok"]


def _interior_budgets(build) -> int:
    """Budgets whose best run is neither the smallest nor the largest size, recounted from the
    build's own store (the runs chapter 7 read)."""
    iso = _iso(build)
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


def test_approach_2_is_the_package_estimator(smoke_build):
    """Section 2's exponent, interval and tokens per parameter are fit_isoflop's (local
    parabolas, edge budgets left out, parametric bootstrap with the smoke preset's 100 draws),
    refitted here from the build's store."""
    import numpy as np

    from scaling_lab.fitting import fit_isoflop
    from scaling_lab.lab.analysis import flops_per_token_fn

    iso = _iso(smoke_build)
    fpt = flops_per_token_fn(iso["N"], iso["fpt"])
    fit = fit_isoflop(iso["N"], iso["budget"], iso["val_loss"], bootstrap=100,
                      resample="parametric", seed=0, flops_per_token=fpt)
    num = lambda k: smoke_build.number(CH, k)  # noqa: E731
    assert num("l7_n_interior") == int(fit.inside.sum())
    assert num("l7_a2") == pytest.approx(fit.a, abs=0.0051)
    assert num("l7_a2_lo") == pytest.approx(fit.ci["a"][0], abs=0.0051)
    assert num("l7_a2_hi") == pytest.approx(fit.ci["a"][1], abs=0.0051)
    assert num("l7_sigma") == pytest.approx(fit.diagnostics["sigma"], abs=0.00051)
    mid = fit.at(float(np.exp(np.mean(np.log(fit.budgets)))))
    assert num("l7_tpp2") == pytest.approx(mid.tokens_per_param, abs=0.51)
    assert num("l7_tpp_first") == pytest.approx(fit.tokens_per_param()[fit.used][0], abs=0.51)


def test_exponent_and_ratio(smoke_build):
    a = smoke_build.number(CH, "l7_a2")
    assert math.isfinite(a) and -1 < a < 2
    assert smoke_build.number(CH, "l7_tpp2") > 20                   # tiny models: far more than 20
    assert smoke_build.number(CH, "l7_epoch_tpp") > 20              # Chinchilla's law, extrapolated down


def test_convention_moves_the_answer(smoke_build):
    assert smoke_build.number(CH, "l7_fpt_ratio_lo") > 1.2
    assert smoke_build.number(CH, "l7_fpt_ratio_hi") > smoke_build.number(CH, "l7_fpt_ratio_lo")
    assert smoke_build.number(CH, "l7_conv_tpp_factor") > 1.5       # 6N-non-embedding counts more tokens/param


def _range(build, key):
    """A glued interval 'lo–hi' (report.format_range) as two floats."""
    lo, hi = build.glue[CH][key].replace(",", "").replace("−", "-").split("–")
    return float(lo), float(hi)


def test_ladder_every_step_with_ordered_intervals(smoke_build):
    """Section 5's ladder on smoke: all five steps present, each exponent inside its interval,
    each ratio inside its interval; the factors between steps multiply step 0's ratio into
    step 4's (the chain the breakdown table shows)."""
    num = lambda k: smoke_build.number(CH, k)  # noqa: E731
    for k in range(5):
        lo, hi = _range(smoke_build, f"l7_ld_a{k}_ci")
        assert lo <= num(f"l7_ld_a{k}") <= hi, k
        t_lo, t_hi = _range(smoke_build, f"l7_ld_tpp{k}_ci")
        assert 0 < t_lo <= num(f"l7_ld_tpp{k}") <= t_hi, k
    prod = math.prod(num(f"l7_fac{k}") for k in range(1, 5))
    assert prod * num("l7_ld_tpp0") == pytest.approx(num("l7_ld_tpp4"), rel=0.08)  # 2-digit glue


def test_bytes_per_token_and_the_chain(smoke_build):
    num = lambda k: smoke_build.number(CH, k)  # noqa: E731
    assert 1 < num("l7_bpt_lo") <= num("l7_bpt_4096") <= num("l7_bpt_hi") < 8
    assert num("l7_inv_bpt") == pytest.approx(1 / num("l7_bpt_4096"), abs=0.006)
    assert num("l7_chain_tok") == pytest.approx(num("l7_ld_tpp4") / num("l7_bpt_4096"), rel=0.02)
    assert 0 < num("l7_drift") < 1      # Epoch's law: the ratio falls from here to Chinchilla's C
