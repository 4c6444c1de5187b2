"""Hoffmann et al.'s approaches 1 and 2: where is the compute-optimal model, budget by budget?

* Approach 2, :func:`fit_isoflop`: train several model sizes at each of a few fixed FLOP budgets C.
  Per budget, fit a parabola to loss against log N (or take the best run) and read off N_opt(C);
  then fit N_opt = G_N C^a and D_opt = G_D C^b (D = C / 6N) by least squares in log-log space.
* Approach 1, :func:`fit_envelope`: from the training curves of many runs, take the lower envelope of
  loss against FLOPs: at each FLOP count, which run is best? Its N is N_opt(C).

Both give exponents a (for N) and b (for D); with D = C / 6N exactly, a + b = 1 and G_D = 1 / (6 G_N).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._common import (
    FitResult,
    _bootstrap_summary,
    _check_bootstrap,
    _check_enough,
    _check_finite,
    _check_lengths,
    _check_level,
    _check_positive_finite,
)
from .power import _ols_loglog

ISO_NAMES = ["a", "b", "G_N", "G_D"]


def _allocation_fit(C, N_opt):
    """Log-log OLS of N_opt and D_opt = C/(6 N_opt) on C: params, residuals (log N), asymptotic se."""
    lC = np.log(C)
    (lgn, m_a), rN, covN = _ols_loglog(lC, np.log(N_opt))  # log N = lgn - m_a log C
    D_opt = C / (6 * N_opt)
    (lgd, m_b), _, covD = _ols_loglog(lC, np.log(D_opt))
    params = {"a": -m_a, "b": -m_b, "G_N": float(np.exp(lgn)), "G_D": float(np.exp(lgd))}
    with np.errstate(invalid="ignore"):
        se = {
            "a": float(np.sqrt(covN[1, 1])),
            "b": float(np.sqrt(covD[1, 1])),
            "G_N": float(params["G_N"] * np.sqrt(covN[0, 0])),
            "G_D": float(params["G_D"] * np.sqrt(covD[0, 0])),
        }
    return {k: float(v) for k, v in params.items()}, -rN, se


@dataclass(frozen=True, kw_only=True, repr=False)
class AllocationFit(FitResult):
    """N_opt = G_N C^a, D_opt = G_D C^b (C in FLOPs). ``params``: a, b, G_N, G_D.

    ``residuals`` are log N_opt (per budget or envelope point) minus the fitted line.
    """

    optima: list = field(default_factory=list)
    method: str = ""

    def predict(self, C):
        """(N_opt, D_opt) at C FLOPs."""
        C = np.asarray(C, dtype=float)
        p = self.params
        return p["G_N"] * C ** p["a"], p["G_D"] * C ** p["b"]

    def _title(self):
        return f"N_opt = G_N C^a, D_opt = G_D C^b ({self.method})"

    def _extra_dict(self):
        return {"method": self.method, "optima": self.optima}

    def _extra_summary(self):
        cols = [k for k in ("C", "N_opt", "D_opt", "loss_opt", "n_runs", "interior", "opens_up", "run") if self.optima and k in self.optima[0]]
        lines = ["  " + " ".join(f"{c:>10}" for c in cols)]
        for o in self.optima:
            lines.append("  " + " ".join(f"{o[c]:>10.4g}" if isinstance(o[c], float) else f"{str(o[c]):>10}" for c in cols))
        return lines


# ----------------------------------------------------------------------------------------------
# approach 2


def _budget_keys(C: np.ndarray) -> np.ndarray:
    """Budgets compared after rounding to 6 significant digits (1e20 and 1.0000001e20 are one budget)."""
    return np.array([float(f"{c:.6g}") for c in C])


def _budget_optimum(lN, L, method):
    """(log N_opt, loss_opt, interior, opens_up) for one budget's runs."""
    if method == "argmin":
        i = int(np.argmin(L))
        return lN[i], L[i], bool(lN.min() < lN[i] < lN.max()), True
    x0 = lN.mean()
    p2, p1, p0 = np.polyfit(lN - x0, L, 2)
    if not p2 > 0:  # opens downward (or flat): no minimum; fall back to the best run
        i = int(np.argmin(L))
        return lN[i], L[i], False, False
    xv = -p1 / (2 * p2)
    return x0 + xv, p0 - p1 * p1 / (4 * p2), bool(lN.min() <= x0 + xv <= lN.max()), True


def _optima(groups, lN, L, method):
    out = []
    for _, idx in groups:
        out.append(_budget_optimum(lN[idx], L[idx], method))
    return out


def fit_isoflop(
    N,
    C,
    loss,
    *,
    method: str = "parabola",
    bootstrap: int = 0,
    seed: int = 0,
    ci_level: float = 0.95,
) -> AllocationFit:
    """Approach 2: per-budget optima, then N_opt = G_N C^a and D_opt = G_D C^b.

    N:         parameters per run; C: training FLOPs per run (runs sharing a budget share C, compared
               to 6 significant digits); loss: final loss per run (nats/token).
    method:    "parabola" (fit loss = p0 + p1 log N + p2 log^2 N per budget, needs >= 3 runs per
               budget; the vertex is N_opt) or "argmin" (the best run of each budget).
    bootstrap: resamples of the runs *within each budget* (with replacement), refit, for se and
               percentile ci of a, b, G_N, G_D.

    ``optima`` lists per budget: C, N_opt, D_opt = C/(6 N_opt), loss_opt, n_runs, ``interior``
    (False: the vertex lies outside the budget's range of N, an extrapolation: add runs on that
    side) and ``opens_up`` (False: the parabola opens downward, so the best run is used instead).
    """
    if method not in ("parabola", "argmin"):
        raise ValueError(f"method must be 'parabola' or 'argmin'; got {method!r}")
    N = _check_positive_finite("N", N)
    C = _check_positive_finite("C", C)
    L = _check_positive_finite("loss", loss)
    _check_lengths(N=N, C=C, loss=L)
    ci_level = _check_level(ci_level)
    K = _check_bootstrap(bootstrap, len(N))
    keys = _budget_keys(C)
    budgets = np.unique(keys)
    groups = [(b, np.flatnonzero(keys == b)) for b in budgets]
    if method == "parabola":
        for b, idx in groups:
            if len(idx) < 3:
                raise ValueError(
                    f"budget C={b:.6g} has {len(idx)} run{'s' if len(idx) != 1 else ''}; a parabola needs "
                    f"at least 3 per budget (add runs, drop that budget, or use method='argmin')"
                )
            if np.unique(N[idx]).size < 3:
                raise ValueError(f"budget C={b:.6g} has fewer than 3 distinct N; a parabola needs 3 model sizes")
    _check_enough("fit_isoflop", len(budgets), 2, what="budgets")

    lN = np.log(N)
    opt = _optima(groups, lN, L, method)
    N_opt = np.exp([o[0] for o in opt])
    params, resid, se_asym = _allocation_fit(budgets, N_opt)
    optima = [
        {
            "C": float(b),
            "N_opt": float(n),
            "D_opt": float(b / (6 * n)),
            "loss_opt": float(o[1]),
            "n_runs": int(len(idx)),
            "interior": bool(o[2]),
            "opens_up": bool(o[3]),
        }
        for (b, idx), n, o in zip(groups, N_opt, opt)
    ]
    msg = f"{len(budgets)} budgets, {method}"
    flagged = [o["C"] for o in optima if not (o["interior"] and o["opens_up"])]
    if flagged:
        msg += "; check budgets " + ", ".join(f"{c:.3g}" for c in flagged) + " (vertex outside the runs or parabola opens downward)"

    se, ci, draws = se_asym, None, None
    if K:
        rng = np.random.default_rng(seed)
        draws = np.full((K, 4), np.nan)
        for k in range(K):
            rs = [(b, idx[rng.integers(0, len(idx), len(idx))]) for b, idx in groups]
            if method == "parabola" and any(np.unique(N[i]).size < 3 for _, i in rs):
                continue  # a resample with fewer than 3 model sizes in a budget cannot fit a parabola
            o = _optima(rs, lN, L, method)
            p, _, _ = _allocation_fit(budgets, np.exp([v[0] for v in o]))
            draws[k] = [p[n] for n in ISO_NAMES]
        se, ci = _bootstrap_summary(draws, ISO_NAMES, ci_level)
        n_ok = int(np.all(np.isfinite(draws), 1).sum())
        msg += f"; se and ci from {n_ok} of {K} bootstrap refits (runs resampled within each budget)"
    return AllocationFit(
        params=params,
        se=se,
        ci=ci,
        ci_level=ci_level,
        bootstrap=draws,
        converged=True,
        n_iter=0,
        objective=float(resid @ resid),
        residuals=resid,
        message=msg,
        diagnostics={"interior": [o["interior"] for o in optima], "opens_up": [o["opens_up"] for o in optima], "se_asymptotic": se_asym},
        optima=optima,
        method=method,
    )


# ----------------------------------------------------------------------------------------------
# approach 1


def _column(runs, *names):
    for n in names:
        if n in runs:
            return np.asarray(runs[n])
    return None


def fit_envelope(runs, n_bins: int = 30, drop_edges: bool = True, ci_level: float = 0.95) -> AllocationFit:
    """Approach 1: the lower envelope of loss against FLOPs over many training curves.

    runs:   a DataFrame or dict of equal-length arrays, one row per evaluation point of a training
            curve, with columns ``run`` (or ``run_id``; an id per run), ``N`` (parameters), ``C``
            (or ``flops``; FLOPs spent so far) and ``loss``.
    n_bins: number of log-spaced FLOP bins over the range of C; in each bin that holds points, the
            point with the lowest loss is on the envelope and its run's N is N_opt at that C.
    drop_edges: leave out envelope points won by the smallest or the largest model: there the
            optimum may lie outside the sizes trained (the envelope saturates), biasing a.

    Fits N_opt = G_N C^a and D_opt = G_D C^b (D = C/6N) through the envelope points by log-log OLS;
    se are asymptotic (the points along one curve are not independent: treat them as optimistic).
    ``optima`` lists the envelope points (C, N_opt, D_opt, loss_opt, run).
    """
    if not hasattr(runs, "__getitem__") or not hasattr(runs, "__contains__"):
        raise ValueError("runs must be a DataFrame or a dict of arrays with columns run, N, C (or flops), loss")
    found = list(runs.keys()) if hasattr(runs, "keys") else []
    cols = {"run": ("run", "run_id"), "N": ("N",), "C": ("C", "flops"), "loss": ("loss",)}
    vals = {}
    for k, names in cols.items():
        v = _column(runs, *names)
        if v is None:
            raise ValueError(f"runs has no column {' or '.join(map(repr, names))}; found columns: {', '.join(map(str, found))}")
        vals[k] = v
    run = vals["run"]
    N = _check_positive_finite("N", vals["N"])
    C = _check_positive_finite("C", vals["C"])
    L = _check_finite("loss", vals["loss"])
    _check_lengths(N=N, C=C, loss=L, run=run)
    n_bins = int(n_bins)
    if n_bins < 3:
        raise ValueError(f"n_bins must be at least 3; got {n_bins}")
    edges = np.logspace(np.log10(C.min()), np.log10(C.max()), n_bins + 1)
    which = np.clip(np.searchsorted(edges, C, side="right") - 1, 0, n_bins - 1)
    env = []
    for j in range(n_bins):
        idx = np.flatnonzero(which == j)
        if idx.size:
            i = idx[np.argmin(L[idx])]
            env.append(i)
    env = np.array(env)
    n_all = len(env)
    if drop_edges:
        env = env[(N[env] > N.min()) & (N[env] < N.max())]
    _check_enough("fit_envelope", len(env), 2, what="occupied FLOP bins")
    params, resid, se = _allocation_fit(C[env], N[env])
    optima = [
        {"C": float(C[i]), "N_opt": float(N[i]), "D_opt": float(C[i] / (6 * N[i])), "loss_opt": float(L[i]),
         "run": run[i].item() if hasattr(run[i], "item") else run[i]}
        for i in env
    ]
    n_runs = len(set(o["run"] for o in optima))
    return AllocationFit(
        params=params,
        se=se,
        ci=None,
        ci_level=_check_level(ci_level),
        converged=True,
        n_iter=0,
        objective=float(resid @ resid),
        residuals=resid,
        message=f"lower envelope over {len(env)} FLOP bins, {n_runs} distinct runs on it; se asymptotic",
        diagnostics={"n_envelope_runs": n_runs, "n_dropped_edge_points": int(n_all - len(env))},
        optima=optima,
        method="envelope",
    )
