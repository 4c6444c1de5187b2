"""Sweep plans: what to train, as a named list of runs.

A :class:`Plan` is a named list of :class:`Item` (a :class:`RunSpec` plus labels such as the
IsoFLOP budget it belongs to). Plans are built by

* :func:`grid_plan`     sizes at a fixed token count (an L(N) curve);
* :func:`isoflop_plan`  budgets x sizes, tokens = budget / FLOPs-per-token (full count by default);
* :func:`wsd_plan`      sizes x token counts with the WSD schedule;
* :func:`lr_plan`       sizes x peak learning rates x horizons: a learning-rate sweep, WSD by
                        default, so that one run per (size, learning rate) serves every horizon.

:meth:`Plan.jobs` is the work still to do: single runs, and WSD specs that differ only in
``tokens`` grouped into one long run with cooldown branches (``wsd.py``). ``sweep.py`` runs
them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .spec import RunSpec, lr_rule
from .store import ResultStore, results_frame
from .wsd import wsd_group_key


@dataclass(frozen=True)
class Shape:
    """A model size in a plan: layers, width, heads."""

    n_layer: int
    d_model: int
    n_head: int

    def __post_init__(self):
        for k in ("n_layer", "d_model", "n_head"):
            v = getattr(self, k)
            if not isinstance(v, int) or v <= 0:
                raise ValueError(f"size {k} must be a positive integer, got {v!r}; "
                                 f"give sizes as (n_layer, d_model, n_head) with all > 0")


def as_shape(s) -> Shape:
    if isinstance(s, Shape):
        return s
    if isinstance(s, dict):
        return Shape(**s)
    return Shape(*s)


@dataclass(frozen=True)
class Item:
    spec: RunSpec
    labels: tuple = ()  # (("budget", 1e12), ...): hashable


@dataclass
class Plan:
    name: str
    items: list[Item] = field(default_factory=list)

    @property
    def specs(self) -> list[RunSpec]:
        return [it.spec for it in self.items]

    def keys(self) -> list[str]:
        return [it.spec.key() for it in self.items]

    def __add__(self, other: "Plan") -> "Plan":
        return Plan(f"{self.name}+{other.name}", self.items + other.items)

    def frame(self, store: ResultStore):
        """The store's rows for this plan, with the plan's labels (e.g. ``budget``) as columns;
        a spec appearing under several labels gives one row per label."""
        import pandas as pd

        by_key = {r.key: r for r in store.results()}
        rows = []
        for it in self.items:
            r = by_key.get(it.spec.key())
            if r is None:
                continue
            df = results_frame([r])
            for k, v in it.labels:
                df[k] = v
            df["plan"] = self.name
            rows.append(df)
        return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()

    def jobs(self, done: set[str] = frozenset()) -> list[list[RunSpec]]:
        """Work still to do: single specs, and WSD groups (same spec up to ``tokens``)."""
        uniq: dict[str, RunSpec] = {}
        for s in self.specs:
            uniq.setdefault(s.key(), s)
        groups: dict[tuple, list[RunSpec]] = {}
        singles = []
        for k, s in uniq.items():
            if k in done:
                continue
            if s.schedule == "wsd":
                groups.setdefault(wsd_group_key(s), []).append(s)
            else:
                singles.append([s])
        jobs = singles + [sorted(g, key=lambda s: s.tokens) for g in groups.values()]
        jobs.sort(key=_job_cost, reverse=True)  # longest first: shorter makespan
        return jobs


def _spec_cost(s: RunSpec) -> float:
    from scaling_lab.flops import flops_per_token

    # FLOPs plus a per-step overhead of about 2e7 FLOP-equivalents (python, optimizer, launch)
    return s.tokens * flops_per_token(s.shape(), method="full") + 2e7 * s.steps


def _job_cost(job: list[RunSpec]) -> float:
    if len(job) == 1:
        return _spec_cost(job[0])
    longest = max(job, key=lambda s: s.tokens)
    return _spec_cost(longest) * (1 + longest.cooldown_frac * (len(job) - 1) / 2)


# ----------------------------------------------------------------------------- plan builders
def _common(kw: dict) -> dict:
    return {k: v for k, v in kw.items() if v is not None}


def _round_tokens(tokens: float, tps: int) -> int:
    return max(1, int(round(tokens / tps))) * tps


def grid_plan(name: str, sizes, tokens: int, schedule: str = "cosine", **spec_kw) -> Plan:
    if not sizes:
        raise ValueError("sizes is empty; give at least one (n_layer, d_model, n_head)")
    items = []
    for sz in map(as_shape, sizes):
        s = RunSpec(sz.n_layer, sz.d_model, sz.n_head, tokens=int(tokens), schedule=schedule,
                    **_common(spec_kw))
        items.append(Item(s, (("tokens_target", int(tokens)),)))
    return Plan(name, items)


def isoflop_plan(name: str, budgets, sizes, flops: str = "full", schedule: str = "wsd",
                 **spec_kw) -> Plan:
    """For every budget C and size: tokens = C / FLOPs-per-token(size), rounded to whole steps.
    ``sizes`` is one list for all budgets or a dict {budget: list} (grids centred per budget)."""
    from scaling_lab.flops import flops_per_token

    method = {"full": "full", "6n": "6N", "6N": "6N", "kaplan": "kaplan"}[flops]
    items = []
    for C in budgets:
        if not (C > 0):
            raise ValueError(f"budget {C!r} must be positive FLOPs")
        grid = sizes[C] if isinstance(sizes, dict) else sizes
        for sz in map(as_shape, grid):
            probe = RunSpec(sz.n_layer, sz.d_model, sz.n_head, tokens=10**9, schedule=schedule,
                            **_common(spec_kw))
            fpt = flops_per_token(probe.shape(), method=method)
            tps = probe.tokens_per_step
            if C < fpt * tps:
                raise ValueError(
                    f"budget {C:.3g} FLOPs is too small for one optimizer step of size "
                    f"{sz.n_layer}x{sz.d_model} ({fpt * tps:.3g} FLOPs per step of {tps} tokens); "
                    f"raise the budget or drop the larger sizes"
                )
            s = probe.replace(tokens=_round_tokens(C / fpt, tps))
            items.append(Item(s, (("budget", float(C)), ("flops_method", method))))
    return Plan(name, items)


def wsd_plan(name: str, sizes, token_counts, **spec_kw) -> Plan:
    items = []
    for sz in map(as_shape, sizes):
        for D in token_counts:
            s = RunSpec(sz.n_layer, sz.d_model, sz.n_head, tokens=int(D), schedule="wsd",
                        **_common(spec_kw))
            items.append(Item(s, (("tokens_target", int(D)),)))
    return Plan(name, items)


def lr_plan(name: str, sizes, tokens_list=None, lr_mults=None, lrs=None, schedule: str = "wsd",
            budgets=None, **spec_kw) -> Plan:
    """A learning-rate sweep: every size at every peak learning rate, each at every horizon.

    sizes:       (n_layer, d_model, n_head) shapes.
    tokens_list: the horizons, in tokens (each rounded to whole optimizer steps). With
                 ``schedule="wsd"`` (the default) the specs of one (size, learning rate) differ
                 only in ``tokens``, so :meth:`Plan.jobs` trains them as one long run with a
                 cooldown branch at each horizon: a sweep of S sizes x L rates x H horizons
                 costs S x L runs, not S x L x H.
    lr_mults:    peak learning rates as multiples of :func:`~scaling_lab.lab.spec.lr_rule`
                 (the untuned per-width baseline), the same multiples for every size; multiple
                 1 leaves ``lr`` unset, so those runs are the rule's own (shared with the IsoFLOP
                 and WSD plans where their token counts agree).
    budgets:     or the horizons as training FLOPs (full count), instead of ``tokens_list``: each
                 size is trained for the tokens that spend each budget (``isoflop_plan``'s
                 rounding, so the rule's runs are the IsoFLOP sweep's), i.e. every size at the
                 run lengths it has in an IsoFLOP grid. Give one of the two.
    lrs:         or absolute peak learning rates, the same for every size. Give one of the two.
                 At least 4 distinct values, positive; log-spaced values are the useful design
                 (the optimum is read off a parabola in log(lr)).

    Labels on every item: ``size`` ("2x32"), ``lr`` (the peak learning rate), ``lr_mult`` (it
    over the rule's), ``horizon`` and ``tokens_target`` (the horizon's tokens), and with
    ``budgets`` also ``budget`` (group by it: ``checks.check_lr(df, by="budget")``).
    """
    if (lr_mults is None) == (lrs is None):
        raise ValueError("give exactly one of lr_mults (multiples of lr_rule) or lrs (absolute "
                         "peak learning rates)")
    which, vals = ("lr_mults", lr_mults) if lr_mults is not None else ("lrs", lrs)
    try:
        vals = sorted({float(v) for v in vals})
    except (TypeError, ValueError):
        raise ValueError(f"{which} must be a list of positive numbers; got {vals!r}") from None
    bad = [v for v in vals if not (v > 0 and v < float("inf"))]
    if bad:
        raise ValueError(f"{which} must be positive and finite; got {bad[0]!r}")
    if len(vals) < 4:
        raise ValueError(f"{which} has {len(vals)} distinct value(s); a sweep needs at least 4 "
                         f"(log-spaced, e.g. 0.5, 1, 2, 4) so that an interior optimum has a "
                         f"neighbour on each side")
    if not sizes:
        raise ValueError("sizes is empty; give at least one (n_layer, d_model, n_head)")
    if (tokens_list is None) == (budgets is None):
        raise ValueError("give exactly one of tokens_list (horizons in tokens, the same for every "
                         "size) or budgets (horizons in FLOPs, full count)")
    if tokens_list is not None and not len(tokens_list):
        raise ValueError("tokens_list is empty; give at least one horizon in tokens")
    if budgets is not None and not len(budgets):
        raise ValueError("budgets is empty; give at least one horizon in FLOPs")
    items = []
    for sz in map(as_shape, sizes):
        rule = lr_rule(sz.d_model)
        if budgets is not None:
            iso = isoflop_plan("x", sorted({float(C) for C in budgets}), [sz], flops="full",
                               schedule=schedule, **spec_kw)
            horizons = [(it.spec.tokens, dict(it.labels)["budget"]) for it in iso.items]
        else:
            horizons = [(D, None) for D in sorted({int(t) for t in tokens_list})]
        for v in vals:
            m, lr = (v, rule * v) if which == "lr_mults" else (v / rule, v)
            for D, C in horizons:
                probe = RunSpec(sz.n_layer, sz.d_model, sz.n_head, tokens=10**9,
                                schedule=schedule, **_common(spec_kw))
                s = probe.replace(tokens=_round_tokens(D, probe.tokens_per_step),
                                  lr=None if (which == "lr_mults" and v == 1.0) else lr)
                labels = (("size", f"{sz.n_layer}x{sz.d_model}"), ("lr", float(s.peak_lr)),
                          ("lr_mult", float(m)), ("horizon", int(s.tokens)),
                          ("tokens_target", int(D)))
                items.append(Item(s, labels + ((("budget", C),) if C is not None else ())))
    return Plan(name, items)
