"""scaling_lab.lab.analysis: counting conventions, WSD cost accounting, optimum along an iso-FLOP."""

import numpy as np
import pandas as pd
import pytest

from scaling_lab.lab.analysis import with_convention, wsd_costs, wsd_saving_ratio
from scaling_lab.laws import ChinchillaLaw
from scaling_lab.lab.trainer import train
from scaling_lab.lab.wsd import train_wsd_group

from .conftest import tiny_spec


def test_conventions():
    df = pd.DataFrame({"params_total": [100, 200], "params_non_embedding": [40, 150],
                       "flops_per_token_full": [900.0, 1500.0], "tokens": [10, 20]})
    f = with_convention(df, "full")
    assert list(f["N"]) == [100, 200] and list(f["C"]) == [9000, 30000]
    s = with_convention(df, "6n")
    assert list(s["N"]) == [40, 150] and list(s["C"]) == [6 * 40 * 10, 6 * 150 * 20]
    with pytest.raises(ValueError, match="convention"):
        with_convention(df, "kaplan")


def test_saving_ratio_formula():
    assert wsd_saving_ratio([1, 2, 4], 0.2) == pytest.approx(7 / (4 + 0.2 * 3))
    assert wsd_saving_ratio([5], 0.2) == 1.0
    # dense horizons approach 1 / cooldown_frac
    assert 4 < wsd_saving_ratio(np.arange(1, 200), 0.2) < 5


def test_wsd_costs_count_steps_and_wall():
    specs = [tiny_spec(tokens=8 * 32 * k, schedule="wsd", lr=3e-3) for k in (40, 80)]
    res = train_wsd_group(specs, progress=False)
    c = wsd_costs(res)
    # 80-step run: stable 64 steps + cooldown 16; the 40-step branch adds its 8 cooldown steps
    g = c["groups"][0]
    assert g["steps_wsd"] == 64 + 16 + 8 and g["steps_separate"] == 120
    assert c["flops_ratio"] == pytest.approx(120 / 88)
    assert c["wall_wsd"] < c["wall_separate"]
    assert c["flops_separate"] == pytest.approx(sum(r.final["flops_full"] for r in res))
    with pytest.raises(ValueError, match="WSD"):
        wsd_costs([train(tiny_spec(), progress=False)])


def test_optimal_along_matches_closed_form():
    """Along C = 6 N D the grid search finds the closed form's N_opt; a full count that adds
    FLOPs per token moves the optimum to larger N (a fixed cost per token favours fewer tokens)."""
    law = ChinchillaLaw(1.0, 400.0, 410.0, 0.34, 0.28)
    C = np.array([1e18, 1e20])
    o = law.optimal_along(C, lambda n: 6 * n, N_range=(1e5, 1e12), n_grid=20001)
    assert np.allclose(o.N_opt, law.optimal(C).N_opt, rtol=2e-3)
    assert np.allclose(6 * o.N_opt * o.D_opt, C) and np.allclose(o.loss, law.optimal(C).loss)
    full = law.optimal_along(C, lambda n: 6 * n + 1e9, N_range=(1e3, 1e12), n_grid=20001)
    assert (full.N_opt > o.N_opt).all()
    with pytest.raises(ValueError, match="edge"):
        law.optimal_along(C, lambda n: 6 * n, N_range=(1e2, 1e3))
    with pytest.raises(ValueError, match="N_range"):
        law.optimal_along(C, lambda n: 6 * n, N_range=(1e3, 1e2))


def test_plan_flops_and_horizons():
    from scaling_lab.lab.analysis import horizons, plan_flops

    specs = [tiny_spec(tokens=8 * 32 * k, schedule="wsd") for k in (40, 80)]
    pf = plan_flops(specs + [specs[0]])          # duplicates count once
    assert pf["runs"] == 2 and pf["ratio"] == pytest.approx(120 / 88)
    cos = plan_flops([s.replace(schedule="cosine") for s in specs])
    assert cos["ratio"] == 1.0
    h = horizons(1000 * 256, 4, 256, include=[256 * 100])
    assert h == [256 * 100, 256 * 250, 256 * 500, 256 * 750, 256 * 1000]


def test_flops_per_token_fn_is_smooth_and_exact_on_a_quadratic():
    from scaling_lab.lab.analysis import flops_per_token_fn

    N = np.array([1e4, 2e4, 4e4, 8e4, 1.6e5])
    fpt = np.exp(1.0 + 0.5 * np.log(N) + 0.03 * np.log(N) ** 2)  # exactly quadratic in log-log
    f = flops_per_token_fn(N, fpt)
    assert f(3e4) == pytest.approx(np.exp(1.0 + 0.5 * np.log(3e4) + 0.03 * np.log(3e4) ** 2))
    assert f(N) == pytest.approx(fpt)
    with pytest.raises(ValueError, match="at least 3 distinct N"):
        flops_per_token_fn([1e4, 1e4, 2e4], [1.0, 1.0, 2.0])


def _law_runs(law, fpt_extra=0.0):
    """Final losses of runs drawn from a known law: 8 sizes x 10 token counts, total N = 2 x
    non-embedding N, full FLOPs per token 6N (+ a constant)."""
    rows = []
    for i, n in enumerate(np.logspace(4, 5.5, 8)):
        for d in np.logspace(6, 8.5, 10):
            rows.append({"run": f"r{i}", "params_total": n, "params_non_embedding": n / 2,
                         "flops_per_token_full": 6 * n + fpt_extra, "tokens": d,
                         "val_loss": float(law.loss(n, d))})
    return pd.DataFrame(rows)


def test_allocation_by_convention_recovers_the_law_and_moves_with_the_count():
    from scaling_lab.lab.analysis import allocation_by_convention

    law = ChinchillaLaw(1.5, 300.0, 900.0, 0.35, 0.3)
    runs = _law_runs(law)
    full = allocation_by_convention(runs, "full", lambda N: 6.0 * np.asarray(N))
    assert full["a (approach 3)"] == pytest.approx(law.a, abs=0.01)
    o = law.optimal(full["mid C"])
    assert full["tokens/param at mid C (approach 3)"] == pytest.approx(o.tokens_per_param,
                                                                       rel=0.05)
    # counting half the parameters: same exponent (N' = N/2 rescales A), the same optimal
    # model at the same tokens, so twice the tokens per parameter at C' = C/2
    six = allocation_by_convention(runs, "6n", None)
    assert six["a (approach 3)"] == pytest.approx(full["a (approach 3)"], abs=0.01)
    assert six["mid C"] == pytest.approx(full["mid C"] / 2, rel=1e-9)
    assert six["N_opt at mid C"] == pytest.approx(full["N_opt at mid C"] / 2, rel=0.05)
    assert 0 < full["a (approach 1)"] < 1.5


def test_envelope_fit_keeps_edge_points_only_when_it_must():
    from scaling_lab.lab.analysis import envelope_fit, with_convention

    law = ChinchillaLaw(1.5, 300.0, 900.0, 0.35, 0.3)
    df = with_convention(_law_runs(law), "full")
    fit = envelope_fit(df)
    assert "kept" not in fit.message and fit.diagnostics["n_dropped_edge_points"] >= 0
    # two sizes only: every envelope point is won by an edge size
    two = df[df.run.isin(["r0", "r7"])]
    fit2 = envelope_fit(two)
    assert "smallest or largest size kept" in fit2.message
    assert fit2.diagnostics["n_dropped_edge_points"] == 0


def test_best_learning_rate_picks_each_cells_lowest_loss():
    from scaling_lab.lab.analysis import best_learning_rate

    rows = []
    for sched, best_m in (("wsd", 3.0), ("cosine", 2.0)):
        for tok in (100, 200):
            for m in (1.0, 2.0, 3.0, 4.0):
                rows.append({"schedule": sched, "tokens": tok, "lr_mult": m, "key": f"{sched}{tok}{m}",
                             "val_loss": 2.0 - tok / 1000 + 0.01 * (m - best_m) ** 2})
    df = pd.DataFrame(rows)
    b = best_learning_rate(df)
    assert b["lr"].loc[100, "wsd"] == 3.0 and b["lr"].loc[200, "cosine"] == 2.0
    assert b["loss"].loc[200, "wsd"] == pytest.approx(1.8)
    assert sorted(b["rows"]["key"]) == ["cosine1002.0", "cosine2002.0", "wsd1003.0", "wsd2003.0"]
    with pytest.raises(ValueError, match="no column 'lr_mult'"):
        best_learning_rate(df.drop(columns="lr_mult"))
