"""Small analyses of lab results that the lab chapters share.

* :func:`with_convention`  the two ways of counting a run's size and compute: ``"full"`` (total
  parameters, every FLOP including attention and the vocabulary projection; Hoffmann et al.'s N)
  and ``"6n"`` (non-embedding parameters, C = 6 N D; Kaplan et al.'s N);
* :func:`wsd_costs`        what a set of WSD runs cost when trained as one long run per size with
  cooldown branches, against separate runs (FLOPs from the optimizer steps actually taken, and
  wall time measured from the runs' evaluation records).

The minimum of a fitted law along C = f(N) D is ``ChinchillaLaw.optimal_along`` (``laws``).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .spec import RunResult, RunSpec
from .wsd import wsd_group_key

CONVENTIONS = ("full", "6n")


def with_convention(df, convention: str = "full"):
    """A copy of a results frame with columns ``N`` (parameters) and ``C`` (training FLOPs) in the
    chosen counting convention: ``"full"`` -> N = total parameters, C = tokens x full FLOPs per
    token; ``"6n"`` -> N = non-embedding parameters, C = 6 N tokens."""
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    out = df.copy()
    if convention == "full":
        out["N"] = out["params_total"].astype(float)
        out["fpt"] = out["flops_per_token_full"].astype(float)
    else:
        out["N"] = out["params_non_embedding"].astype(float)
        out["fpt"] = 6.0 * out["N"]
    out["C"] = out["tokens"].astype(float) * out["fpt"]
    return out


def spec_of(result: RunResult | dict) -> RunSpec:
    spec = result.spec if isinstance(result, RunResult) else result
    names = {f.name for f in dataclasses.fields(RunSpec)}
    return RunSpec.from_dict({k: v for k, v in spec.items() if k in names})


def _wall_at(result: RunResult, step: int) -> float | None:
    for h in result.history:
        if h["step"] == step:
            return float(h["wall_s"])
    return None


def wsd_costs(results) -> dict:
    """Cost of a set of WSD runs (RunResults) trained as one long run per group (same spec up to
    ``tokens``) with a cooldown branch per run, against training every run separately.

    FLOPs (full count) follow from optimizer steps: a group takes the stable steps of its longest
    run plus every run's cooldown steps; separate runs take all their steps. Wall time: a group
    costs its longest run's wall time plus, for every other run, the time of its cooldown (wall at
    the end minus wall at the cooldown start, both recorded); separately, the sum of the runs' own
    wall times (each includes the stable phase it shares). Returns totals and per-group rows."""
    groups: dict[str, list] = {}
    for r in results:
        s = spec_of(r)
        if s.schedule != "wsd":
            raise ValueError(f"wsd_costs needs WSD runs; {r.key} has schedule {s.schedule!r}")
        groups.setdefault(wsd_group_key(s), []).append((s, r))
    rows = []
    for key, members in groups.items():
        members.sort(key=lambda m: m[0].tokens)
        fpt = float(members[0][1].info["flops_per_token_full"])
        tps = members[0][0].tokens_per_step
        longest, r_long = members[-1]
        steps_group = longest.cooldown_start + sum(s.steps - s.cooldown_start for s, _ in members)
        steps_sep = sum(s.steps for s, _ in members)
        wall_group = float(r_long.final["wall_s"])
        wall_sep = 0.0
        for s, r in members:
            wall_sep += float(r.final["wall_s"])
            if r is not r_long:
                w0 = _wall_at(r, s.cooldown_start)
                wall_group += float(r.final["wall_s"]) - (w0 if w0 is not None else 0.0)
        rows.append({"group": key, "n_layer": longest.n_layer, "d_model": longest.d_model,
                     "runs": len(members), "steps_wsd": steps_group, "steps_separate": steps_sep,
                     "flops_wsd": steps_group * tps * fpt, "flops_separate": steps_sep * tps * fpt,
                     "wall_wsd": wall_group, "wall_separate": wall_sep})
    tot = {k: float(sum(r[k] for r in rows)) for k in
           ("flops_wsd", "flops_separate", "wall_wsd", "wall_separate")}
    tot["runs"] = int(sum(r["runs"] for r in rows))
    tot["flops_ratio"] = tot["flops_separate"] / tot["flops_wsd"] if rows else float("nan")
    tot["wall_ratio"] = tot["wall_separate"] / tot["wall_wsd"] if rows else float("nan")
    tot["groups"] = rows
    return tot


def wsd_saving_ratio(token_counts, cooldown_frac: float = 0.2) -> float:
    """FLOPs of separate runs / FLOPs of one WSD run with branches, for one size trained to each
    of ``token_counts`` (ignoring rounding to whole steps): sum(D) / (max(D) + f sum(D minus max))."""
    D = np.sort(np.asarray(token_counts, float))
    return float(D.sum() / (D[-1] + cooldown_frac * D[:-1].sum()))


def plan_flops(specs) -> dict:
    """Training FLOPs (full count) a list of RunSpecs costs before anything is run: every spec
    separately, and with the lab's grouping (WSD specs that differ only in ``tokens`` share one
    long run: the longest's stable steps plus every spec's cooldown steps)."""
    from scaling_lab.flops import flops_per_token

    uniq = {s.key(): s for s in specs}
    sep = grouped = 0.0
    groups: dict[str, list] = {}
    for s in uniq.values():
        f = s.tokens_per_step * flops_per_token(s.shape(), method="full")
        sep += s.steps * f
        if s.schedule == "wsd":
            groups.setdefault(wsd_group_key(s), []).append(s)
        else:
            grouped += s.steps * f
    for g in groups.values():
        f = g[0].tokens_per_step * flops_per_token(g[0].shape(), method="full")
        longest = max(g, key=lambda s: s.tokens)
        grouped += f * (longest.cooldown_start + sum(s.steps - s.cooldown_start for s in g))
    return {"runs": len(uniq), "flops_separate": sep, "flops_grouped": grouped,
            "ratio": sep / grouped if grouped else float("nan")}


def horizons(longest_tokens: int, n: int, tokens_per_step: int, include=()) -> list[int]:
    """``n`` token counts spaced evenly up to ``longest_tokens`` (rounded to whole optimizer steps),
    together with the counts in ``include``; sorted, without duplicates."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    out = {max(1, round(longest_tokens * k / n / tokens_per_step)) * tokens_per_step
           for k in range(1, n + 1)}
    out |= {int(t) for t in include}
    return sorted(out)


def isoflop_parametric_bootstrap(N, C, loss, n_boot: int = 200, seed: int = 0, level: float = 0.95):
    """Approach 2 with a parametric bootstrap, for grids of few sizes per budget.

    Per budget a parabola in log N is fitted to the losses; the residuals of all budgets give one
    noise level sigma (pooled, with 3 fitted coefficients per budget taken off the degrees of
    freedom). Each resample adds N(0, sigma^2) noise to the fitted losses, refits every parabola,
    takes its vertex (clamped to the budget's range of N: an almost flat resample cannot send it to
    infinity) and fits log N_opt = log G + a log C. Resampling the runs themselves, the usual
    bootstrap, leaves budgets of five runs with three distinct sizes or fewer too often to be
    stable. Returns a dict with ``a``, ``G`` (point estimates), ``sigma``,
    ``draws`` (n_boot x 2: a, G), ``ci_a`` and per-budget ``C``, ``N_opt`` (vertices clamped to
    the budget's sizes in the point estimate too; ``interior`` says which needed no clamping)."""
    N, C, L = (np.asarray(v, float) for v in (N, C, loss))
    budgets = np.unique(np.round(C, 6 - int(np.floor(np.log10(C.max())))))
    groups = [np.flatnonzero(np.isclose(C, b, rtol=1e-6)) for b in budgets]
    if len(groups) < 2 or any(len(g) < 4 for g in groups):
        raise ValueError("need >= 2 budgets with >= 4 runs each (a parabola and one residual)")
    x = [np.log(N[g]) for g in groups]
    fits = [np.polyfit(xi, L[g], 2) for xi, g in zip(x, groups)]
    resid = np.concatenate([L[g] - np.polyval(p, xi) for p, xi, g in zip(fits, x, groups)])
    dof = len(resid) - 3 * len(groups)
    sigma = float(np.sqrt(resid @ resid / dof))

    def vertex(p, xi, clamp):
        if p[0] <= 0:
            v = xi[np.argmin(np.polyval(p, xi))]
        else:
            v = -p[1] / (2 * p[0])
        return float(np.clip(v, xi.min(), xi.max())) if clamp else float(v)

    def allocation(ps, clamp):
        lv = np.array([vertex(p, xi, clamp) for p, xi in zip(ps, x)])
        a, lg = np.polyfit(np.log(budgets), lv, 1)
        return a, float(np.exp(lg)), np.exp(lv)

    a, G, N_opt = allocation(fits, clamp=True)
    rng = np.random.default_rng(seed)
    draws = np.empty((n_boot, 2))
    for k in range(n_boot):
        ps = [np.polyfit(xi, np.polyval(p, xi) + rng.normal(0, sigma, len(xi)), 2)
              for p, xi in zip(fits, x)]
        draws[k, 0], draws[k, 1], _ = allocation(ps, clamp=True)
    q = (1 - level) / 2
    return {"a": float(a), "G": G, "sigma": sigma, "draws": draws, "C": budgets, "N_opt": N_opt,
            "ci_a": tuple(np.quantile(draws[:, 0], [q, 1 - q]))}
