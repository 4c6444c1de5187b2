"""lab.plans.lr_plan: learning-rate sweeps, and smoke's ``lr`` plan (issue 14, item 1)."""

import math

import pytest

from scaling_lab.lab.plans import lr_plan
from scaling_lab.lab.presets import (BOOK_COMMON, SMOKE_ISO_SIZES, SMOKE_LR_MULTS, SMOKE_LR_SIZES,
                                     SMOKE_LR_TOKENS, get_preset)
from scaling_lab.lab.spec import lr_rule


def test_every_size_rate_and_horizon_with_labels():
    sizes, toks, mults = [(1, 16, 1), (2, 32, 2)], [4096 * 10, 4096 * 20], (0.5, 1, 2, 4)
    p = lr_plan("lr", sizes, toks, lr_mults=mults, batch_size=16, n_ctx=256, warmup_steps=2)
    assert len(p.items) == 2 * 4 * 2
    labels = [dict(it.labels) for it in p.items]
    assert {(d["size"], d["lr_mult"], d["horizon"]) for d in labels} == {
        (f"{n}x{d}", float(m), t) for n, d, _ in sizes for m in mults for t in toks}
    for it, d in zip(p.items, labels):
        s = it.spec
        assert s.schedule == "wsd" and s.tokens == d["horizon"] == d["tokens_target"]
        assert d["lr"] == pytest.approx(d["lr_mult"] * lr_rule(s.d_model), rel=1e-12)
        assert s.peak_lr == d["lr"]
        # multiple 1 is the rule itself: lr left unset, so the spec is the untuned runs' own
        assert (s.lr is None) == (d["lr_mult"] == 1.0)
    # WSD: one long run per (size, rate) with a cooldown branch at each horizon
    jobs = p.jobs()
    assert len(jobs) == 2 * 4 and all(len(j) == 2 for j in jobs)
    assert all({s.tokens for s in j} == set(toks) for j in jobs)


def test_absolute_rates_and_other_schedules():
    p = lr_plan("lr", [(2, 32, 2)], [2048 * 8], lrs=[4e-3, 1e-3, 2e-3, 8e-3], schedule="cosine",
                warmup_steps=2)
    assert [s.lr for s in p.specs] == [1e-3, 2e-3, 4e-3, 8e-3]
    mults = [dict(it.labels)["lr_mult"] for it in p.items]
    assert mults == pytest.approx([v / lr_rule(32) for v in (1e-3, 2e-3, 4e-3, 8e-3)])
    assert len(p.jobs()) == 4 and {s.schedule for s in p.specs} == {"cosine"}


@pytest.mark.parametrize("kw, match", [
    (dict(), "exactly one of lr_mults"),
    (dict(lr_mults=[1, 2], lrs=[1e-3, 2e-3]), "exactly one of lr_mults"),
    (dict(lr_mults=[1, 2, 4]), r"lr_mults has 3 distinct value\(s\); a sweep needs at least 4"),
    (dict(lr_mults=[1, 2, 2, 2, 4]), "at least 4"),
    (dict(lrs=[1e-3, 0.0, 2e-3, 4e-3]), "lrs must be positive and finite; got 0.0"),
    (dict(lrs=[1e-3, "fast", 2e-3, 4e-3]), "lrs must be a list of positive numbers"),
])
def test_bad_input_is_named(kw, match):
    with pytest.raises(ValueError, match=match):
        lr_plan("lr", [(2, 32, 2)], [2048 * 8], **kw)


def test_empty_sizes_or_horizons_are_named():
    with pytest.raises(ValueError, match="sizes is empty"):
        lr_plan("lr", [], [2048 * 8], lr_mults=[1, 2, 4, 8])
    with pytest.raises(ValueError, match="tokens_list is empty"):
        lr_plan("lr", [(2, 32, 2)], [], lr_mults=[1, 2, 4, 8])


def test_smoke_lr_plan():
    """3 sizes x 4 log-spaced rates x 2 horizons, shapes of the smoke IsoFLOP grid, 12 WSD runs;
    not a default plan of the CLI's smoke sweep, and no chapter's plan changes."""
    smoke = get_preset("smoke")
    p = smoke.plan("lr")
    assert len(p.items) == 24 and len(p.jobs()) == 12
    assert set(SMOKE_LR_SIZES) <= set(SMOKE_ISO_SIZES) and len(SMOKE_LR_SIZES) == 3
    ratios = [b / a for a, b in zip(SMOKE_LR_MULTS, SMOKE_LR_MULTS[1:])]
    assert len(SMOKE_LR_MULTS) == 4 and all(math.isclose(r, ratios[0]) for r in ratios)
    assert {s.tokens for s in p.specs} == set(SMOKE_LR_TOKENS)
    assert all(getattr(s, k) == v for s in p.specs for k, v in BOOK_COMMON.items())
    assert smoke.plan().name == "lofn"


def test_book_lr_plan_spends_isoflop_budgets_and_shares_the_rules_runs():
    """The book's sweep: every IsoFLOP size at six rates a factor 2 apart, each size at the token
    counts of two IsoFLOP budgets; the rule's runs (multiple 1) are the IsoFLOP plan's (same
    keys), and a (size, rate) is one WSD group serving both budgets."""
    from scaling_lab.lab.presets import BOOK_ISO_SIZES, BOOK_LR_BUDGETS, BOOK_LR_MULTS

    book = get_preset("book")
    p = book.plan("lr")
    assert len(p.items) == len(BOOK_ISO_SIZES) * len(BOOK_LR_MULTS) * len(BOOK_LR_BUDGETS)
    assert len(p.jobs()) == len(BOOK_ISO_SIZES) * len(BOOK_LR_MULTS)
    iso = set(book.plan("isoflop").keys())
    rule = {it.spec.key() for it in p.items if dict(it.labels)["lr_mult"] == 1.0}
    assert len(rule) == len(BOOK_ISO_SIZES) * len(BOOK_LR_BUDGETS) and rule <= iso
    assert {dict(it.labels)["budget"] for it in p.items} == set(BOOK_LR_BUDGETS)


def test_lr_plan_takes_tokens_or_budgets_not_both():
    with pytest.raises(ValueError, match="exactly one of tokens_list"):
        lr_plan("lr", [(2, 32, 2)], [2048 * 8], lr_mults=[1, 2, 4, 8], budgets=[1e12])
    with pytest.raises(ValueError, match="exactly one of tokens_list"):
        lr_plan("lr", [(2, 32, 2)], lr_mults=[1, 2, 4, 8])


def _sweep_frame(k=0.5, edge_size=None):
    """A frame like lr_plan's (labels lr, horizon) with synthetic final losses: eta*(N) =
    0.5 N^-k at the short horizon, 1.2x that at the long one; a valley of curvature 0.1 in ln lr."""
    import numpy as np
    import pandas as pd

    rows = []
    for n, d in ((3000, 16), (12000, 32), (48000, 64)):
        for h, f in ((262144, 1.0), (524288, 1.2)):
            eo = 0.5 * n**-k * f
            for m in (0.25, 0.5, 1, 2, 4):
                lr = 0.5 * n**-k * 1.1 * m * (0.2 if n == edge_size else 1.0)
                rows.append(dict(params_non_embedding=n, d_model=d, lr=lr, horizon=h,
                                 status="ok", val_loss=3 + 0.1 * np.log(lr / eo) ** 2))
    return pd.DataFrame(rows)


def test_check_lr_reads_a_sweep():
    from scaling_lab.lab.presets import check_lr

    res = check_lr(_sweep_frame(), bootstrap=50)
    assert res["ok"], res["lines"]
    assert len(res["optima"]) == 6 and all(o["inside"] for o in res["optima"])
    for h, fit in res["fits"].items():
        assert fit.k == pytest.approx(0.5, abs=1e-6)
    assert res["shift"].ratio == pytest.approx(1.2, rel=1e-6)
    assert res["lines"][0].endswith("-> ok") and "k=0.500" in res["lines"][1]
    # a size whose sweep stops below its optimum fails the check and is named
    bad = check_lr(_sweep_frame(edge_size=48000), bootstrap=50)
    assert not bad["ok"] and any("ON THE EDGE" in line for line in bad["lines"])
