import pytest

import math

import numpy as np

from scaling_lab.flops import param_counts
from scaling_lab.lab.presets import PRESETS, check_isoflop, check_lofn, get_preset
from scaling_lab.lab.store import ResultStore
from scaling_lab.lab.sweep import grid_plan, run_plan


def test_presets_build_deterministic_plans():
    for name, p in PRESETS.items():
        a, b = p.plan(dry=True), p.plan(dry=True)
        assert a.keys() == b.keys() and len(a.keys()) > 0, name
    book = get_preset("book")
    iso = book.plans["isoflop"]()
    budgets = {dict(it.labels)["budget"] for it in iso.items}
    assert len(budgets) >= 3
    # the chapters' plans share one store: the WSD chapter reuses isoflop branches where specs match
    assert book.store_path().name == "book.jsonl"


def test_the_books_ladder_reads_its_learning_rate_sweep_first(tmp_path):
    """The ladder's tuned step needs the lr sweep's eta*(N): built from an empty store it names
    the command that fixes it; a dry plan stands the rule in (same shapes and lengths)."""
    book = get_preset("book")
    assert book.reads_store("ladder") and not book.reads_store("lr")
    with pytest.raises(ValueError, match="--plan lr"):
        book.plan("ladder", store=tmp_path / "empty.jsonl")
    dry = book.plan("ladder", dry=True)
    assert len(set(dry.keys())) == 130  # 80 IsoFLOP + 10 long + 40 tuned and not (tmp_path / "empty.jsonl").exists()


def test_unknown_preset_message():
    with pytest.raises(ValueError, match="known presets: smoke, book, gpu"):
        get_preset("large")


def test_reduced_smoke_fit(tmp_path):
    """A reduced smoke sweep (five tiny sizes, 60k tokens, stdlib bytes): the L(N) fit must show a
    positive exponent whose bootstrap interval excludes 0, and the loss must fall with size."""
    sizes = [(1, 8, 1), (1, 16, 2), (1, 24, 2), (2, 32, 2), (2, 48, 3)]
    plan = grid_plan("mini", sizes, tokens=8 * 32 * 240, n_ctx=32, batch_size=8,
                     warmup_steps=20, eval_batches=4, corpus="stdlib")
    run_plan(plan, tmp_path / "s.jsonl", workers=1, threads=1, progress=False, log=None)
    df = plan.frame(ResultStore(tmp_path / "s.jsonl"))
    assert len(df) == 5 and (df["status"] == "ok").all()
    loss = df.sort_values("params_non_embedding")["val_loss"].to_numpy()
    assert loss[0] > loss[-1] + 0.2
    res = check_lofn(df, bootstrap=100)
    assert res["ok"], res["lines"]
    assert 0.01 < res["alpha"] < 2.0


def test_dry_run_builds_and_steps_every_shape():
    """One row per distinct model shape of the plan, with the exact parameter count, and a loss
    after two steps still near a uniform guess over 256 bytes (ln 256 = 5.545)."""
    smoke = get_preset("smoke")
    rows = smoke.dry_run(log=None, plans=["isoflop"])
    specs = {(s.n_layer, s.d_model): s for s in smoke.plans["isoflop"]().specs}
    assert [(r["n_layer"], r["d_model"]) for r in rows] == list(specs)
    for r in rows:
        shape = specs[r["n_layer"], r["d_model"]].shape()
        assert r["ok"] and r["params"] == param_counts(shape).total
        assert abs(r["loss"] - math.log(256)) < 0.3
    # the same shapes again give the same numbers (the dry run is a real, seeded run)
    assert [r["loss"] for r in smoke.dry_run(log=None, plans=["isoflop"])] == \
        [r["loss"] for r in rows]


def test_dry_run_reports_a_diverging_shape():
    from scaling_lab.lab.sweep import Item, Plan, Preset
    from scaling_lab.lab.spec import RunSpec

    spec = RunSpec(1, 16, 2, tokens=2 * 32 * 10, n_ctx=32, lr=1e3, warmup_steps=0,
                   grad_clip=0.0, corpus="markov:order=1,alphabet=8,train_bytes=20000,"
                   "val_bytes=4000")
    p = Preset("wild", "a learning rate far too high", {"x": lambda: Plan("x", [Item(spec)])})
    with pytest.raises(ValueError, match="dry run: 1x16 diverged in 2 steps"):
        p.dry_run(log=None)


def _iso_frame(a_true=0.6, edge_budget=False, noise=0.002, seed=0):
    """An IsoFLOP results frame like a plan's: five sizes at every budget, losses parabolas in
    log N with vertices N_opt = G C^a (optionally one budget whose optimum is beyond the sizes)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    sizes = np.array([12736.0, 23712.0, 37760.0, 75072.0, 124672.0])
    budgets = [5e11 * 2 ** (k / 5) for k in range(8)]
    G = 22000.0 / 5e11**a_true  # N_opt from 22k to 51k over the budgets
    rows = []
    for k, C in enumerate(budgets):
        n_opt = G * C**a_true * (20 if edge_budget and k == 7 else 1)
        for n in sizes:
            loss = 2.0 - 0.05 * np.log(C / 5e11) + 0.04 * np.log(n / n_opt) ** 2
            rows.append({"status": "ok", "params_total": n, "budget": C,
                         "val_loss": loss + rng.normal(0, noise),
                         "flops_per_token_full": 6 * n + 1.5e5})
    return pd.DataFrame(rows), a_true


def test_check_isoflop_passes_a_good_grid_and_recovers_a():
    df, a_true = _iso_frame()
    res = check_isoflop(df, bootstrap=100, residual_draws=300)
    assert res["ok"], res["lines"]
    assert res["a"] == pytest.approx(a_true, abs=0.1)
    lo, hi = res["a_ci"]
    rlo, rhi = res["a_ci_residual"]
    assert rlo < a_true < rhi and rhi - rlo < 0.2
    # resampling the runs of five sizes leaves some budgets with three: wider (chapter 7)
    assert lo < res["a"] < hi and hi - lo > rhi - rlo
    fit = res["fit"]
    assert fit.used.all() and len(res["lines"]) == 1 + 8
    # tokens per parameter in the lines: C / f(N_opt) / N_opt with the runs' full FLOPs per token
    # (f a smooth fit through the five shapes' counts, within 1 % of the exact 6N + 1.5e5)
    o = fit.optima[0]
    tpp = fit.tokens_per_param()[0]
    assert tpp == pytest.approx(o["C"] / (6 * o["N_opt"] + 1.5e5) / o["N_opt"], rel=0.01)
    assert f"tokens/param ~{tpp:.0f}" in res["lines"][1]
    assert "a=" in res["lines"][0] and "-> ok" in res["lines"][0]


def test_check_isoflop_fails_on_an_edge_budget():
    df, a_true = _iso_frame(edge_budget=True)
    res = check_isoflop(df, bootstrap=50, residual_draws=100)
    assert not res["ok"]
    assert res["fit"].used.tolist() == [True] * 7 + [False]
    assert "best run on an edge (left out)" in res["lines"][-1] and "FAILED" in res["lines"][-1]
    assert res["lines"][0].startswith("IsoFLOP over 7 of 8 budgets")
    # the left-out budget does not pull the exponent
    assert res["a"] == pytest.approx(a_true, abs=0.1)
    # too few budgets with an inside minimum: no fit, a clear failure rather than an exception
    few = df[df.budget.isin(sorted(df.budget.unique())[-3:])]
    res = check_isoflop(few, bootstrap=0, residual_draws=0)
    assert not res["ok"] and "edges='keep'" in res["lines"][0]
