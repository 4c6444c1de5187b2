"""The ladder (lab.ladder): its plans, the re-binning of budgets per convention, the read of
intermediate losses, and RunSpec.eval_tokens."""

import numpy as np
import pandas as pd
import pytest

from scaling_lab.flops import flops_per_token, param_counts
from scaling_lab.lab import ladder as lad
from scaling_lab.lab import ladder_fit as lad_fit
from scaling_lab.lab.plans import isoflop_plan
from scaling_lab.lab.presets import (BOOK_COMMON, SMOKE_ISO_BUDGETS, SMOKE_ISO_SIZES,
                                     SMOKE_LADDER_BUDGETS, SMOKE_LADDER_LR_MULT,
                                     SMOKE_LADDER_SIZES, get_preset, smoke_ladder)
from scaling_lab.lab.spec import RunResult, RunSpec, lr_rule
from scaling_lab.lab.store import ResultStore

from .conftest import tiny_spec


# ----------------------------------------------------------------------------- structure
@pytest.fixture(scope="module")
def ladder():
    return smoke_ladder()


def test_every_step_present_with_its_convention(ladder):
    assert [s.step for s in ladder.steps] == [0, 1, 2, 3, 4]
    assert [s.convention for s in ladder.steps] == ["6n", "full", "full", "full", "full"]
    assert [s.read for s in ladder.steps] == ["curve"] * 3 + ["final"] * 2
    for st in ladder.steps[1:]:
        assert list(st.budgets) == SMOKE_LADDER_BUDGETS
    assert set(SMOKE_LADDER_BUDGETS) <= set(SMOKE_ISO_BUDGETS)


def test_step1_is_a_refit_of_step0(ladder):
    s0, s1 = ladder.steps[0], ladder.steps[1]
    assert s1.plan.keys() == s0.plan.keys()
    for spec in s0.plan.specs:  # evaluated where either convention reaches every budget
        for st in (s0, s1):
            pts = lad.read_points((spec.n_layer, spec.d_model, spec.n_head), st.budgets,
                                  st.convention, **BOOK_COMMON)
            assert set(pts.values()) <= set(spec.eval_tokens)
        assert spec.schedule == "cosine" and spec.lr is None
        assert spec.tokens > max(spec.eval_tokens)  # the long run is not matched to a budget


def test_step0_long_warmup_is_kaplans_share_and_step2_differs_only_there(ladder):
    """Kaplan's 3000 of 2.5e5 steps, every size alike: 1.2% of the longest long run for all."""
    frac = lad.kaplan_warmup_frac()
    assert frac == pytest.approx(3000 / 250_000)
    longest = max(s.steps for s in ladder.steps[0].plan.specs)
    for a, b in zip(ladder.steps[0].plan.specs, ladder.steps[2].plan.specs):
        assert a.warmup_steps == max(1, round(frac * longest))
        assert b.warmup_steps == BOOK_COMMON["warmup_steps"]
        assert a.replace(warmup_steps=b.warmup_steps) == b


def test_step3_runs_are_the_isoflop_designs(ladder):
    iso = isoflop_plan("i", SMOKE_LADDER_BUDGETS, SMOKE_LADDER_SIZES, flops="full",
                       schedule="wsd", **BOOK_COMMON)
    assert ladder.steps[3].plan.keys() == iso.keys()
    shared = isoflop_plan("i", SMOKE_LADDER_BUDGETS, SMOKE_ISO_SIZES, flops="full",
                          schedule="wsd", **BOOK_COMMON)  # the smoke IsoFLOP plan's sizes
    assert set(shared.keys()) <= set(get_preset("smoke").plan(["isoflop"]).keys())
    assert set(shared.keys()) <= set(iso.keys())


def test_step4_uses_the_tuned_rates(ladder):
    for spec in ladder.steps[4].plan.specs:
        assert spec.lr == pytest.approx(SMOKE_LADDER_LR_MULT * lr_rule(spec.d_model))
        assert spec.replace(lr=None).key() in ladder.steps[3].plan.keys()


def test_one_plan_trains_shared_runs_once(ladder):
    p = ladder.plan()
    assert len(p.items) == sum(len(s.plan.items) for s in ladder.steps)
    assert len(set(p.keys())) == len(p.items) - len(ladder.steps[1].plan.items)
    assert "ladder" in get_preset("smoke").plans
    assert "ladder" not in get_preset("smoke").default_plans


def test_tuned_lrs_reads_a_law_and_missing_sizes_are_named():
    class Law:
        def predict(self, n):
            return 1e-2 * (n / 1e4) ** -0.5

    lrs = lad.tuned_lrs(Law(), SMOKE_ISO_SIZES, **BOOK_COMMON)
    assert set(lrs) == set(SMOKE_ISO_SIZES)
    assert set(SMOKE_ISO_SIZES) < set(SMOKE_LADDER_SIZES)
    assert lrs[(1, 16, 1)] == pytest.approx(1e-2 * (3312 / 1e4) ** -0.5)  # 3312 non-embedding
    with pytest.raises(ValueError, match="no learning rate for size 1x24"):
        lad.ladder_plan(SMOKE_ISO_SIZES, SMOKE_LADDER_BUDGETS, {(1, 16, 1): 1e-3},
                        **BOOK_COMMON)
    with pytest.raises(ValueError, match="at least 3 budgets"):
        lad.ladder_plan(SMOKE_ISO_SIZES, [1e11, 2e11], lrs, **BOOK_COMMON)


# ----------------------------------------------------------------------------- re-binning
SIZES = np.exp(np.linspace(np.log(2e4), np.log(2e6), 13))  # total N, 0.17 decades apart


def _world(on: str, alpha: float, beta: float, B: float, budgets_full, budgets_6n):
    """Synthetic long runs of 13 sizes, one row per (size, read point), with L = E + A/N^alpha
    + B/D^beta (A = 400) in N total (``on="full"``) or non-embedding (``on="6n"``). Full FLOPs
    per token are 6 N_total, the embedding a share that falls with size, so the conventions' C
    differ from run to run. Read points at both conventions' budgets (0.3% off, as if rounded
    to whole steps), and rows 7% off them that the re-binning must drop."""
    rows = []
    for i, Nt in enumerate(SIZES):
        Nn = Nt - 100 * Nt ** 0.5  # embedding 71% of the smallest, 7% of the largest
        fpt = {"full": 6 * Nt, "6n": 6 * Nn}
        pts = [C / fpt["full"] for C in budgets_full] + [C / fpt["6n"] for C in budgets_6n]
        pts = [D * 1.003 for D in pts] + [D * 1.07 for D in pts]
        for D in pts:
            N = Nt if on == "full" else Nn
            rows.append({"key": f"r{i}", "status": "ok", "tokens": D, "params_total": Nt,
                         "params_non_embedding": Nn, "flops_per_token_full": fpt["full"],
                         "val_loss": 1.7 + 400 / N ** alpha + B / D ** beta})
    return pd.DataFrame(rows)


def _ladder(budgets_full, budgets_6n):
    return lad.Ladder([lad.LadderStep(0, "6n", "6n", "curve", tuple(budgets_6n)),
                       lad.LadderStep(1, "full", "full", "curve", tuple(budgets_full))])


@pytest.mark.parametrize("on, alpha, beta, B", [("full", 0.34, 0.34, 400),
                                                 ("6n", 0.3, 0.45, 4000)])
def test_each_convention_recovers_a_from_its_own_world(on, alpha, beta, B):
    bf = [1e12 * 2 ** (k / 2) for k in range(7)]
    b6 = [0.7 * C for C in bf]
    df = _world(on, alpha, beta, B, bf, b6)
    table, fits = lad.ladder_table({0: df, 1: df}, _ladder(bf, b6), bootstrap=30)
    step = 0 if on == "6n" else 1
    row = table.set_index("step").loc[step]
    assert row["a"] == pytest.approx(beta / (alpha + beta), abs=0.02)
    assert row["a_lo"] - 1e-9 <= row["a"] <= row["a_hi"] + 1e-9
    assert row["budgets_used"] >= 5 and row["runs"] == len(SIZES)
    # the rows at the other convention's points and the 7% off ones were dropped
    d = lad.read_at_budgets(df, bf if step else b6, "full" if step else "6n")
    assert len(d) == len(SIZES) * len(bf)
    assert np.allclose(d["C_read"] / d["C"], 1.003)
    # tokens per parameter at the middle budget: D/N of the fitted line there
    mid = (bf if step else b6)[3]
    N = fits[step].params["G_N"] * mid ** fits[step].params["a"]
    f = 6 * N if on == "6n" else fits[step].flops_per_token(N)
    assert row["tokens_per_param"] == pytest.approx(mid / f / N, rel=1e-6)


def test_the_wrong_convention_gives_another_a():
    bf = [1e12 * 2 ** (k / 2) for k in range(7)]
    b6 = [0.7 * C for C in bf]
    table, _ = lad.ladder_table({0: (df := _world("6n", 0.3, 0.45, 4000, bf, b6)), 1: df},
                                _ladder(bf, b6), bootstrap=0)
    a = table.set_index("step")["a"]
    assert a[0] == pytest.approx(0.6, abs=0.02) and abs(a[1] - 0.6) > 0.03


# ----------------------------------------------------------------------------- step 0's reads
def test_step0_reads_intermediate_losses_at_its_budgets(tmp_path, ladder):
    """A store of step-0 runs whose histories are L(tokens) = 2 + 1e3 / tokens^0.5 at every
    eval point: the read finds each size's loss where 6N D reaches each budget."""
    store = ResultStore(tmp_path / "s.jsonl")
    st = ladder.steps[0]
    for spec in st.plan.specs:
        hist = [{"step": s, "tokens": s * spec.tokens_per_step,
                 "val_loss": 2 + 1e3 / (s * spec.tokens_per_step) ** 0.5}
                for s in spec.eval_steps()]
        pc = param_counts(spec.shape())
        info = {"params_total": pc.total, "params_non_embedding": pc.non_embedding,
                "flops_per_token_full": flops_per_token(spec.shape(), method="full")}
        store.append(RunResult(spec.key(), spec.to_dict(), "ok", hist, info))
    frame = lad_fit._frames(store, ladder)[0]
    d = lad.read_at_budgets(frame, st.budgets, "6n")
    assert len(d) == len(st.plan.specs) * len(st.budgets)
    for spec in st.plan.specs:
        pts = lad.read_points((spec.n_layer, spec.d_model, spec.n_head), st.budgets, "6n",
                              **BOOK_COMMON)
        got = d[d["key"] == spec.key()].set_index("budget")
        for C, D in pts.items():
            assert got.loc[C, "tokens"] == D
            assert got.loc[C, "val_loss"] == pytest.approx(2 + 1e3 / D ** 0.5)


def test_with_porian_lines_up_the_published_steps():
    from scaling_lab.published import PORIAN2024_REFINEDWEB

    pub = lad.with_porian()
    assert list(pub["step"]) == [0, 1, 2, 3, 4]
    assert list(pub["porian_a"]) == [s.a for s in PORIAN2024_REFINEDWEB]
    both = lad.with_porian(pd.DataFrame({"step": [0, 4], "a": [0.7, 0.5]}))
    assert list(both["porian_a"]) == [0.835, 0.497]


# ----------------------------------------------------------------------------- eval_tokens
def test_eval_tokens_leaves_every_other_key_alone_and_adds_evaluations():
    s = tiny_spec()
    assert "eval_tokens" not in s.to_dict()
    t = s.replace(eval_tokens=[8 * 32 * 7, 8 * 32 * 3])
    assert t.eval_tokens == (8 * 32 * 3, 8 * 32 * 7) and t.key() != s.key()
    assert {3, 7} <= set(t.eval_steps()) and not {3, 7} & set(s.eval_steps())
    assert RunSpec.from_dict(t.to_dict()).key() == t.key()
    w = t.replace(schedule="wsd")
    assert {3, 7} <= set(w.eval_steps())
    for bad in ([100], [0], [8 * 32 * 41], "abc"):
        with pytest.raises(ValueError, match="eval_tokens"):
            s.replace(eval_tokens=bad)


def test_a_real_run_is_evaluated_at_its_eval_tokens():
    from scaling_lab.lab.trainer import train

    s = tiny_spec(tokens=8 * 32 * 12).replace(eval_tokens=(8 * 32 * 5,))
    r = train(s, device="cpu", progress=False)
    steps = [h["step"] for h in r.history]
    assert 5 in steps and steps[-1] == 12
    assert all(np.isfinite(h["val_loss"]) for h in r.history)


def test_step0_budgets_are_the_full_ones_times_one_factor(ladder):
    """6N budgets = full budgets x the geometric mean of 6 N_non-embedding / full FLOPs per
    token over the IsoFLOP sizes (3 significant digits)."""
    ratios = []
    for sz in SMOKE_ISO_SIZES:
        shape = RunSpec(*sz, tokens=10**6, **BOOK_COMMON).shape()
        ratios.append(6 * param_counts(shape).non_embedding
                      / flops_per_token(shape, method="full"))
    r = float(np.exp(np.mean(np.log(ratios))))
    assert 0.2 < r < 0.5
    for C6, C in zip(ladder.steps[0].budgets, SMOKE_LADDER_BUDGETS):
        assert C6 == pytest.approx(r * C, rel=5e-3)
