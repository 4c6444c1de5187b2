"""Small analyses of lab results that the lab chapters share.

* :func:`with_convention`  the two ways of counting a run's size and compute: ``"full"`` (total
  parameters, every FLOP including attention and the vocabulary projection; Hoffmann et al.'s N)
  and ``"6n"`` (non-embedding parameters, C = 6 N D; Kaplan et al.'s N);
* :func:`wsd_costs`        what a set of WSD runs cost when trained as one long run per size with
  cooldown branches, against separate runs (FLOPs from the optimizer steps actually taken, and
  wall time measured from the runs' evaluation records);
* :func:`flops_per_token_fn`  FLOPs per token as a smooth function of N from the runs' shapes;
* :func:`envelope_fit`     approach 1 on a results frame, keeping edge points only if it must;
* :func:`allocation_by_convention`  approaches 1 and 3 on the same runs counted either way;
* :func:`best_learning_rate`  per schedule and length, the run at the best learning rate.

The minimum of a fitted law along C = f(N) D is ``ChinchillaLaw.optimal_along`` (``laws``); the
IsoFLOP vertices and their intervals are ``scaling_lab.fitting.fit_isoflop``.
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


def flops_per_token_fn(N, fpt, deg: int = 2):
    """FLOPs per token as a smooth function of N, from the runs' own shapes: a polynomial of
    degree ``deg`` in log N fitted to log FLOPs per token (``N`` and ``fpt`` one value per run,
    e.g. total parameters and the full count). Returns ``f(N)``, for
    ``fit_isoflop(..., flops_per_token=f)`` and ``ChinchillaLaw.optimal_along``."""
    lN = np.log(np.asarray(N, float))
    lF = np.log(np.asarray(fpt, float))
    if lN.shape != lF.shape or lN.ndim != 1:
        raise ValueError(f"N and fpt must be 1-D with one value per run; got shapes {lN.shape} "
                         f"and {lF.shape}")
    if not (np.isfinite(lN).all() and np.isfinite(lF).all()):
        raise ValueError("N and fpt must be positive and finite (drop failed runs first)")
    distinct = np.unique(lN).size
    if distinct <= deg:
        raise ValueError(f"a degree-{deg} polynomial needs at least {deg + 1} distinct N; got "
                         f"{distinct} (pass a smaller deg)")
    coef = np.polyfit(lN, lF, deg)

    def f(n):
        return np.exp(np.polyval(coef, np.log(np.asarray(n, float))))

    return f


def envelope_fit(df, n_bins: int = 10):
    """Approach 1 (``fitting.fit_envelope``) on a results frame with columns ``run``, ``N``,
    ``C`` and ``val_loss``: envelope points won by the smallest or the largest size are dropped
    (the optimum may lie outside the grid); if that leaves too few, they are kept and the
    message says so."""
    from scaling_lab.fitting import fit_envelope

    runs = {"run": df["run"].to_numpy(), "N": df["N"].to_numpy(float),
            "C": df["C"].to_numpy(float), "loss": df["val_loss"].to_numpy(float)}
    try:
        return fit_envelope(runs, n_bins=n_bins)
    except ValueError:  # every envelope point on an edge size: keep them
        fit = fit_envelope(runs, n_bins=n_bins, drop_edges=False)
        return dataclasses.replace(fit, message=fit.message + "; points won by the smallest or "
                                   "largest size kept (too few others): optimum may lie outside "
                                   "the grid")


def allocation_by_convention(runs, convention: str, flops_per_token_full, seed: int = 0,
                             n_budgets: int = 5, N_range=(1e1, 1e12)) -> dict:
    """Approaches 1 and 3 on the same runs counted in one convention (``with_convention``):
    the envelope's exponent a, and the fitted L(N, D) minimised along C = f(N) D at
    ``n_budgets`` budgets log-spaced over the runs' range of C (f the full count, a function of
    total N, or 6N), with its exponent, and N_opt and tokens per parameter at the middle budget.

    runs: a results frame (one row per run) with ``run``, ``tokens``, ``val_loss`` and the
    columns ``with_convention`` reads; any ``N``, ``C``, ``fpt`` columns are recomputed."""
    from scaling_lab.fitting import fit_chinchilla

    df = with_convention(runs.drop(columns=[c for c in ("N", "C", "fpt") if c in runs]),
                         convention)
    env = envelope_fit(df)
    with np.errstate(over="ignore", invalid="ignore"):  # far-off starts overflow harmlessly
        f3 = fit_chinchilla(df["N"], df["tokens"], df["val_loss"], seed=seed)
    f = flops_per_token_full if convention == "full" else (lambda N: 6.0 * np.asarray(N))
    Cs = np.exp(np.linspace(np.log(df["C"].min()), np.log(df["C"].max()), n_budgets))
    o = f3.law.optimal_along(Cs, f, N_range=N_range)
    a3 = float(np.polyfit(np.log(Cs), np.log(o.N_opt), 1)[0])
    Cm = float(np.exp(np.mean(np.log(Cs))))
    Nm = float(np.exp(np.interp(np.log(Cm), np.log(Cs), np.log(o.N_opt))))
    return {
        "convention": convention,
        "a (approach 1)": float(env.params["a"]),
        "a (approach 3)": a3,
        "tokens/param at mid C (approach 3)": float(Cm / f(Nm) / Nm),
        "mid C": Cm,
        "N_opt at mid C": Nm,
    }


def best_learning_rate(df, index: str = "tokens", columns: str = "schedule",
                       lr: str = "lr_mult", loss: str = "val_loss") -> dict:
    """Each (``columns``, ``index``) cell's best run over the learning rates tried: ``rows`` (the
    best runs, a frame), and tables (``index`` x ``columns``) of their ``loss`` and ``lr``. With
    the defaults: per schedule and run length, the peak-learning-rate multiple that ended lowest
    (chapter 8's comparison of schedules, each at its own best learning rate)."""
    missing = [c for c in (index, columns, lr, loss) if c not in df]
    if missing:
        raise ValueError(f"df has no column {missing[0]!r}; found: {', '.join(map(str, df))}")
    rows = df.loc[df.groupby([columns, index])[loss].idxmin()]
    return {"rows": rows,
            "loss": rows.pivot_table(index=index, columns=columns, values=loss),
            "lr": rows.pivot_table(index=index, columns=columns, values=lr)}
