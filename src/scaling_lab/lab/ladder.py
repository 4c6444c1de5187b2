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
                long_warmup_frac: float | None = None, budgets_6n=None, tuned_budgets=None,
                **common) -> Ladder:
    """The five steps' runs on ``sizes`` at ``budgets`` (full count, as ``isoflop_plan``).

    tuned_lrs:        {size: peak learning rate} for step 4 (e.g. from :func:`tuned_lrs`).
    overrun:          long runs go this many times past their last read point.
    long_warmup_frac: step 0's warmup, the same number of steps for every size, as a share of
                      the longest long run (default Kaplan's, :func:`kaplan_warmup_frac`: they
                      trained every size equally long); step 2's is ``common["warmup_steps"]``.
    budgets_6n:       step 0's budgets (default :func:`budgets_6n` of ``budgets`` and ``sizes``).
    tuned_budgets:    step 4's budgets (default ``budgets``): a thinner grid saves a new WSD
                      sweep's cooldowns; keep the middle budget among them (the table reads every
                      step's ratio there).
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
    tb = budgets if tuned_budgets is None else sorted(float(C) for C in tuned_budgets)
    if len(tb) < 3:
        raise ValueError(f"tuned_budgets needs at least 3 budgets; got {len(tb)}")
    tuned = Plan("ladder-tuned", [])
    for sz in sizes:
        one = isoflop_plan("x", tb, [sz], flops="full", schedule="wsd",
                           **{**common, "lr": _lr_of(tuned_lrs, sz)})
        tuned.items.extend(one.items)
    rows = [(0, "6n", "curve", b6, kap), (1, "full", "curve", budgets, kap),
            (2, "full", "curve", budgets, short), (3, "full", "final", budgets, iso),
            (4, "full", "final", tb, tuned)]
    return Ladder([LadderStep(k, SETUPS[k], conv, read, tuple(bs), plan)
                   for k, conv, read, bs, plan in rows])


# reading the ladder's runs: lab.ladder_fit
from .ladder_fit import ladder_table, read_at_budgets, with_porian  # noqa: E402,F401
