"""The ladder: from Kaplan's setup to Hoffmann's one change at a time, on the same sizes and
budgets (the lab's version of Porian et al. 2024's reproduction). Every step adds one change to
the step before it:

0. **Kaplan's setup.** Non-embedding N and C = 6 N D; the untuned ``lr_rule``; a long warmup:
   Kaplan et al. trained every size for the same 2.5e5 steps with the same 3000-step warmup
   (``published.KAPLAN2020_WARMUP_STEPS`` of ``KAPLAN2020_TRAIN_STEPS``, 1.2%), so here every size
   warms up for the same number of steps, 1.2% of the longest long run; one long cosine run per
   size, not matched to any budget, read at the token counts where its C reaches each budget
   (``RunSpec.eval_tokens``), as Kaplan read his learning curves. Like Kaplan's, the fixed warmup
   is a large share of the early read points of the larger models.
1. **+ the full FLOP count and total N.** Step 0's runs read where the full count reaches each
   budget (they are evaluated there too): a refit, no new runs.
2. **+ a short warmup.** New long cosine runs, the same as step 0's except for the warmup: the
   common spec's ``warmup_steps`` (the lab's standard, the IsoFLOP plan's).
3. **+ a schedule that ends at each run's own budget.** WSD cooldown branches:
   ``plans.isoflop_plan`` with the full count, the IsoFLOP plan's design, specs and keys.
4. **+ the tuned learning rate per size.** Step 3 with each size's ``lr`` from a learning-rate
   sweep (:func:`tuned_lrs` reads it off ``fitting.fit_lr_law``).

Runs are shared wherever setups agree (same spec, same key: a cache hit). The budgets are given
in the full count (the IsoFLOP design's); step 0's 6N budgets are them times one factor, the
geometric mean over the sizes of 6 N_non-embedding / full FLOPs per token (3 significant
digits), so that both conventions' budgets span the same run lengths on average. Tables:
:func:`ladder_table`; Porian's published ladder beside it: :func:`with_porian`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .analysis import flops_per_token_fn, with_convention
from .plans import Item, Plan, as_shape, isoflop_plan
from .spec import RunSpec

SETUPS = ("Kaplan's setup: 6N, non-embedding N, untuned lr, long warmup, one long cosine",
          "+ full FLOP count and total N", "+ short warmup",
          "+ schedule ending at each budget (WSD branches)", "+ tuned learning rate per size")


def kaplan_warmup_frac() -> float:
    """Kaplan et al.'s warmup as a share of their runs: 3000 of 2.5e5 steps (kaplan2020,
    Section 2.2; see ``published.KAPLAN2020_TRAINING_SOURCE`` for how it was checked)."""
    from scaling_lab.published import KAPLAN2020_TRAIN_STEPS, KAPLAN2020_WARMUP_STEPS

    return KAPLAN2020_WARMUP_STEPS / KAPLAN2020_TRAIN_STEPS


@dataclass(frozen=True)
class LadderStep:
    """One step: what it adds, its counting convention ("6n" or "full"), how losses are read
    ("curve": evaluations along long runs; "final": each run's last one), its budgets (in its
    own convention) and its runs (a plan; None for frames made elsewhere)."""

    step: int
    setup: str
    convention: str
    read: str
    budgets: tuple
    plan: Plan | None = None


@dataclass
class Ladder:
    steps: list[LadderStep] = field(default_factory=list)

    def plan(self, name: str = "ladder") -> Plan:
        """Every step's runs as one plan (labels ``ladder_step``; shared runs appear under each
        of their steps and are trained once)."""
        items = [Item(it.spec, it.labels + (("ladder_step", st.step),))
                 for st in self.steps if st.plan is not None for it in st.plan.items]
        return Plan(name, items)


def _probe(size, **common) -> RunSpec:
    s = as_shape(size)
    return RunSpec(s.n_layer, s.d_model, s.n_head, tokens=10**9, **common)


def _fpt(size, convention: str, **common) -> float:
    from scaling_lab.flops import flops_per_token, param_counts

    shape = _probe(size, **common).shape()
    if convention == "6n":
        return 6.0 * param_counts(shape).non_embedding
    return float(flops_per_token(shape, method="full"))


def budgets_6n(budgets, sizes, **common) -> list[float]:
    """The 6N budgets of step 0: the full-count ``budgets`` times the geometric mean over
    ``sizes`` of 6N / full FLOPs per token, to 3 significant digits."""
    r = float(np.exp(np.mean([np.log(_fpt(s, "6n", **common) / _fpt(s, "full", **common))
                              for s in sizes])))
    return [float(f"{C * r:.3g}") for C in budgets]


def read_points(size, budgets, convention: str, **common) -> dict:
    """{budget: token count} where a run of ``size`` reaches each budget (C counted in
    ``convention``), rounded to whole optimizer steps (at least one)."""
    tps = _probe(size, **common).tokens_per_step
    f = _fpt(size, convention, **common)
    return {float(C): max(1, round(C / f / tps)) * tps for C in budgets}


def long_run_plan(name: str, sizes, reads: dict, warmup, overrun: float = 1.25,
                  **common) -> Plan:
    """One cosine run per size, ``overrun`` times longer than its last read point (so no
    budget's point is the end of its schedule), evaluated at every read point, decaying to zero
    as Kaplan et al.'s schedule does (kaplan2020, Section 2.2).

    reads:  {convention: budgets}; every size is evaluated where it reaches each.
    warmup: warmup steps (an int), or a share of the run's steps (a float below 1)."""
    if not (overrun >= 1):
        raise ValueError(f"overrun must be >= 1 (the run covers its last read point); got "
                         f"{overrun!r}")
    items = []
    for sz in map(as_shape, sizes):
        pts = sorted({t for conv, bs in reads.items()
                      for t in read_points(sz, bs, conv, **common).values()})
        tps = _probe(sz, **common).tokens_per_step
        tokens = max(1, round(overrun * pts[-1] / tps)) * tps
        w = warmup if isinstance(warmup, int) else max(1, round(warmup * tokens / tps))
        spec = RunSpec(sz.n_layer, sz.d_model, sz.n_head, tokens=tokens, schedule="cosine",
                       **{"min_lr_frac": 0.0, **common, "warmup_steps": w}
                       ).replace(eval_tokens=tuple(pts))
        items.append(Item(spec, (("size", f"{sz.n_layer}x{sz.d_model}"),)))
    return Plan(name, items)


def tuned_lrs(fit, sizes, n: str = "non_embedding", **common) -> dict:
    """{(n_layer, d_model, n_head): eta*} at each size from a learning-rate law
    (``fitting.fit_lr_law``) fitted against parameter count ``n`` ("non_embedding", as
    ``checks.check_lr`` fits it, or "total")."""
    from scaling_lab.flops import param_counts

    if n not in ("non_embedding", "total"):
        raise ValueError(f"n must be 'non_embedding' or 'total' (what the law was fitted "
                         f"against); got {n!r}")
    out = {}
    for sz in map(as_shape, sizes):
        shape = _probe(sz, **common).shape()
        out[(sz.n_layer, sz.d_model, sz.n_head)] = float(
            fit.predict(getattr(param_counts(shape), n)))
    return out


def _lr_of(lrs: dict, sz) -> float:
    for k in ((sz.n_layer, sz.d_model, sz.n_head), f"{sz.n_layer}x{sz.d_model}", sz):
        if k in lrs:
            return float(lrs[k])
    raise ValueError(f"tuned_lrs has no learning rate for size {sz.n_layer}x{sz.d_model}; give "
                     f"one per size, keyed (n_layer, d_model, n_head) or 'LxD' (see tuned_lrs)")


def ladder_plan(sizes, budgets, tuned_lrs: dict, *, overrun: float = 1.25,
                long_warmup_frac: float | None = None, budgets_6n=None, **common) -> Ladder:
    """The five steps' runs on ``sizes`` at ``budgets`` (full count, as ``isoflop_plan``).

    tuned_lrs:        {size: peak learning rate} for step 4 (e.g. from :func:`tuned_lrs`).
    overrun:          long runs go this many times past their last read point.
    long_warmup_frac: step 0's warmup, the same number of steps for every size, as a share of
                      the longest long run (default Kaplan's, :func:`kaplan_warmup_frac`: they
                      trained every size equally long); step 2's is ``common["warmup_steps"]``.
    budgets_6n:       step 0's budgets (default :func:`budgets_6n` of ``budgets`` and ``sizes``).
    common:           RunSpec fields shared by every run (n_ctx, batch_size, warmup_steps, ...).
    """
    sizes = [as_shape(s) for s in sizes]
    budgets = sorted(float(C) for C in budgets)
    if len(budgets) < 3 or len(sizes) < 3:
        raise ValueError(f"a ladder needs at least 3 budgets and 3 sizes (a parabola per budget, "
                         f"a line through the budgets); got {len(budgets)} and {len(sizes)}")
    frac = kaplan_warmup_frac() if long_warmup_frac is None else float(long_warmup_frac)
    if not 0 < frac < 1:
        raise ValueError(f"long_warmup_frac must be a share of the run in (0, 1); got {frac!r}")
    b6 = (globals()["budgets_6n"](budgets, sizes, **common) if budgets_6n is None
          else sorted(float(C) for C in budgets_6n))
    reads = {"6n": b6, "full": budgets}
    short = long_run_plan("ladder-short-warmup", sizes, reads,
                          int(common.get("warmup_steps", RunSpec.warmup_steps)), overrun, **common)
    longest = max(it.spec.steps for it in short.items)
    kap = long_run_plan("ladder-kaplan", sizes, reads, max(1, round(frac * longest)), overrun,
                        **common)
    iso = isoflop_plan("ladder-matched", budgets, sizes, flops="full", schedule="wsd", **common)
    tuned = Plan("ladder-tuned", [])
    for sz in sizes:
        one = isoflop_plan("x", budgets, [sz], flops="full", schedule="wsd",
                           **{**common, "lr": _lr_of(tuned_lrs, sz)})
        tuned.items.extend(one.items)
    rows = [(0, "6n", "curve", b6, kap), (1, "full", "curve", budgets, kap),
            (2, "full", "curve", budgets, short), (3, "full", "final", budgets, iso),
            (4, "full", "final", budgets, tuned)]
    return Ladder([LadderStep(k, SETUPS[k], conv, read, tuple(bs), plan)
                   for k, conv, read, bs, plan in rows])


# ----------------------------------------------------------------------------- analysis
def read_at_budgets(df, budgets, convention: str, tol: float = 0.02):
    """The rows of a results or history frame that sit at ``budgets`` in ``convention``.

    Re-binning: every row's C is recomputed as tokens x the convention's FLOPs per token
    (``analysis.with_convention``: 6 N_non-embedding, or the full count with total N), so rows
    that shared a budget in one convention need not share it in another. A row belongs to the
    budget nearest in log C if its C is within a factor ``1 + tol`` of it (the rounding of read
    points to whole optimizer steps is well inside; budgets a fifth of an octave apart are 15%
    apart), and per (run ``key``, budget) the nearest row is kept; other rows are dropped. The
    kept rows' ``C`` is the budget (``C_read`` keeps their own), so that ``fit_isoflop`` groups
    them."""
    b = np.sort(np.asarray(budgets, float))
    d = with_convention(df.drop(columns=[c for c in ("N", "C", "fpt") if c in df]), convention)
    d = d[(d["status"] == "ok") & np.isfinite(d["val_loss"].astype(float))].copy()
    lc = np.log(d["C"].to_numpy(float))
    j = np.abs(lc[:, None] - np.log(b)[None, :]).argmin(1)
    dist = np.abs(lc - np.log(b)[j])
    d["budget"], d["dist"], d["C_read"] = b[j], dist, d["C"]
    d = d[dist <= np.log1p(tol)].sort_values("dist").drop_duplicates(["key", "budget"])
    d["C"] = d["budget"]
    return d.drop(columns="dist").sort_values(["budget", "N"]).reset_index(drop=True)


def _frames(source, ladder: Ladder) -> dict:
    if isinstance(source, dict):
        return source
    from .store import ResultStore, results_frame

    store = ResultStore(source) if not isinstance(source, ResultStore) else source
    out = {}
    for st in ladder.steps:
        keys = set(st.plan.keys())
        out[st.step] = (store.history_frame(keys) if st.read == "curve"
                        else results_frame(store.results(), keys))
    return out


def ladder_table(source, ladder: Ladder, *, bootstrap: int = 200, seed: int = 0,
                 tol: float = 0.02, edges: str = "exclude", resample: str = "runs",
                 ci_level: float = 0.95):
    """Approach 2 for every step: ``(table, fits)``.

    source: a ``ResultStore`` (or its path), read per step through the ladder's plans (history
            rows of "curve" steps, last rows of "final" ones), or {step: frame} made elsewhere
            (columns key, status, tokens, val_loss, params_total, params_non_embedding,
            flops_per_token_full).
    Per step: rows re-binned to its budgets in its convention (:func:`read_at_budgets`), then
    ``fitting.fit_isoflop`` (local parabolas; ``edges``; ``bootstrap`` refits, ``resample``)
    with N in the step's convention and D = C / f(N), f = 6N or the full count as a smooth
    function of total N (``analysis.flops_per_token_fn``). The table: a and its interval, and
    tokens per parameter at the middle budget (the step's own, in its convention) with its
    interval; ``fits`` maps step -> AllocationFit."""
    import pandas as pd

    from scaling_lab.fitting import fit_isoflop

    frames = _frames(source, ladder)
    rows, fits = [], {}
    for st in ladder.steps:
        if st.step not in frames:
            raise ValueError(f"no runs for ladder step {st.step}; give a frame for every step")
        d = read_at_budgets(frames[st.step], st.budgets, st.convention, tol)
        if st.convention == "6n":
            def f(N):
                return 6.0 * np.asarray(N, float)
        else:
            f = flops_per_token_fn(d["N"], d["fpt"])
        try:
            fit = fit_isoflop(d["N"], d["C"], d["val_loss"], flops_per_token=f, edges=edges,
                              bootstrap=bootstrap, resample=resample, seed=seed,
                              ci_level=ci_level)
        except ValueError as e:
            raise ValueError(f"ladder step {st.step} ({st.setup}): {e}") from e
        C_mid = sorted(st.budgets)[len(st.budgets) // 2]
        p = fit.at(C_mid)
        (a_lo, a_hi) = fit.ci["a"] if fit.ci else (np.nan, np.nan)
        (t_lo, t_hi) = p.tokens_per_param_ci or (np.nan, np.nan)
        rows.append({"step": st.step, "setup": st.setup, "convention": st.convention,
                     "runs": int(d["key"].nunique()), "budgets": len(st.budgets),
                     "budgets_used": int(fit.used.sum()), "a": fit.params["a"], "a_lo": a_lo,
                     "a_hi": a_hi, "C_mid": C_mid, "N_opt_mid": p.N_opt,
                     "tokens_per_param": p.tokens_per_param, "tpp_lo": t_lo, "tpp_hi": t_hi})
        fits[st.step] = fit
    return pd.DataFrame(rows), fits


def with_porian(table=None):
    """Porian et al.'s published ladder (``published.PORIAN2024_REFINEDWEB``, RefinedWeb) step by
    step, beside the lab's ``table`` from :func:`ladder_table` when given: columns step,
    porian_setup, porian_a (and the table's columns)."""
    import pandas as pd

    from scaling_lab.published import PORIAN2024_REFINEDWEB, PORIAN2024_SOURCE

    pub = pd.DataFrame({"step": range(len(PORIAN2024_REFINEDWEB)),
                        "porian_setup": [s.label for s in PORIAN2024_REFINEDWEB],
                        "porian_a": [s.a for s in PORIAN2024_REFINEDWEB],
                        "porian_source": str(PORIAN2024_SOURCE.key + ", "
                                             + PORIAN2024_SOURCE.where)})
    return pub if table is None else table.merge(pub, on="step", how="left")
