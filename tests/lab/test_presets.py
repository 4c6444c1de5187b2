import pytest

import math

from scaling_lab.flops import param_counts
from scaling_lab.lab.presets import PRESETS, check_lofn, get_preset
from scaling_lab.lab.store import ResultStore
from scaling_lab.lab.sweep import grid_plan, run_plan


def test_presets_build_deterministic_plans():
    for name, p in PRESETS.items():
        a, b = p.plan(), p.plan()
        assert a.keys() == b.keys() and len(a.keys()) > 0, name
    book = get_preset("book")
    iso = book.plans["isoflop"]()
    budgets = {dict(it.labels)["budget"] for it in iso.items}
    assert len(budgets) >= 3
    # the chapters' plans share one store: the WSD chapter reuses isoflop branches where specs match
    assert book.store_path().name == "book.jsonl"


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
