"""Hoffmann et al.'s approaches 1 and 2: where is the compute-optimal model, budget by budget?

* Approach 2, :func:`fit_isoflop`: train several model sizes at each of a few fixed FLOP budgets C.
  Per budget, fit a parabola to loss against log N around the best run (or over all runs, or take
  the best run) and read off N_opt(C); then fit N_opt = G_N C^a and D_opt = G_D C^b
  (D = C / f(N), f = 6N unless given) by least squares in log-log space, with bootstrap intervals
  from resampled runs, resampled residuals or parametric noise. Budgets are grouped by one rule,
  :func:`budget_groups`.
* Approach 1, :func:`fit_envelope`: from the training curves of many runs, take the lower envelope of
  loss against FLOPs: at each FLOP count, which run is best? Its N is N_opt(C).

Both give exponents a (for N) and b (for D); with D = C / 6N exactly, a + b = 1 and G_D = 1 / (6 G_N).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._common import check_choice as _check_choice
from ._common import parabola as _parabola
from ._common import parabola_vertex as _vertex
from ._common import rounded_groups
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


METHODS = ("local", "parabola", "argmin")
RESAMPLES = ("runs", "residuals", "parametric")
EDGES = ("exclude", "keep")


def budget_groups(C, digits: int = 6):
    """The distinct budgets among the runs' FLOP counts ``C`` and the runs of each.

    Budgets are compared after rounding to ``digits`` significant digits, so that 1e20 and
    1.0000001e20 (float noise in a CSV) are one budget. Returns ``(budgets, groups)``: the sorted
    rounded budgets (array) and, per budget, the indices of its runs (list of int arrays). Every
    IsoFLOP analysis of the package groups runs by this one rule.

    >>> budgets, groups = budget_groups([2e11, 1e11, 1.0000001e11])
    >>> budgets.tolist(), [g.tolist() for g in groups]
    ([100000000000.0, 200000000000.0], [[1, 2], [0]])
    """
    C = _check_positive_finite("C", C)
    if int(digits) != digits or not 1 <= digits <= 15:
        raise ValueError(f"digits must be a whole number from 1 to 15; got {digits!r}")
    pairs = rounded_groups(C, digits=int(digits))
    return np.array([key[0] for key, _ in pairs]), [idx for _, idx in pairs]


@dataclass(frozen=True)
class _Budget:
    """One budget's runs as the vertex fit sees them (sizes sorted, log N) and its window."""

    x: np.ndarray        # log N of the runs in the window
    y: np.ndarray        # their losses
    inside: bool         # the best run is neither the smallest nor the largest size
    n_sizes: int         # distinct sizes in the budget

    def parabola(self):
        """(coef, x0, fitted losses, residuals) of the least-squares parabola of the window."""
        coef, x0 = _parabola(self.x, self.y)
        fitted = np.polyval(coef, self.x - x0)
        return coef, x0, fitted, self.y - fitted


def _window(lN, L, method: str, window: float) -> _Budget:
    """The runs a budget's vertex is fitted to: all of them ("parabola", "argmin"), or ("local")
    those whose size is within ``window`` decades of the best run's, widened on the side that has
    room to at least 3 sizes when the best run is near an edge."""
    sizes = np.unique(lN)
    j = int(np.searchsorted(sizes, lN[int(np.argmin(L))]))
    inside = 0 < j < sizes.size - 1
    if method != "local":
        return _Budget(lN, L, inside, sizes.size)
    near = np.flatnonzero(np.abs(sizes - sizes[j]) <= window * np.log(10) * (1 + 1e-9))
    lo, hi = int(near.min()), int(near.max()) + 1
    while hi - lo < 3 and (lo > 0 or hi < sizes.size):
        if lo > 0 and (hi == sizes.size or j - lo <= hi - 1 - j):
            lo -= 1
        else:
            hi += 1
    keep = (lN >= sizes[lo]) & (lN <= sizes[hi - 1])
    return _Budget(lN[keep], L[keep], inside, sizes.size)


def _budget_vertex(b: _Budget, method: str, clamp: bool = False):
    if method == "argmin":
        i = int(np.argmin(b.y))
        return float(b.x[i]), float(b.y[i]), b.inside, True
    coef, x0 = _parabola(b.x, b.y)
    return _vertex(coef, x0, b.x, clamp)


def _draw_vertices(rng, resample, method, window, wins, fits, groups, lN, L, sigma):
    """log N_opt of every budget in ``wins`` for one bootstrap draw, or None if a resample of
    runs leaves a budget with fewer than 3 sizes for its parabola."""
    out = []
    for w, fit, idx in zip(wins, fits, groups):
        if resample == "runs":
            r = idx[rng.integers(0, len(idx), len(idx))]
            if method == "argmin":
                out.append(lN[r][int(np.argmin(L[r]))])
                continue
            w = _window(lN[r], L[r], method, window)
            if np.unique(w.x).size < 3:
                return None
            y = w.y
        elif resample == "residuals":
            y = fit[2] + rng.choice(fit[3], size=len(fit[3]), replace=True)
        else:  # parametric
            y = fit[2] + rng.normal(0, sigma, len(w.x))
        coef, x0 = _parabola(w.x, y)
        out.append(_vertex(coef, x0, w.x, clamp=True)[0])
    return out


def _fpt_6n(N):
    return 6.0 * np.asarray(N, dtype=float)


def _allocation_fit(C, N_opt, fpt=_fpt_6n):
    """Log-log OLS of N_opt and D_opt = C / fpt(N_opt) on C: params, residuals (log N), asymptotic se."""
    lC = np.log(C)
    (lgn, m_a), rN, covN = _ols_loglog(lC, np.log(N_opt))  # log N = lgn - m_a log C
    D_opt = C / np.asarray(fpt(N_opt), dtype=float)
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


@dataclass(frozen=True)
class IsoFLOPPoint:
    """The fitted allocation at one budget C: N_opt = G C^a, D_opt = C / f(N_opt) with f the fit's
    FLOPs per token, and percentile intervals from the bootstrap draws (None without them)."""

    C: float
    N_opt: float
    D_opt: float
    tokens_per_param: float
    N_opt_ci: tuple | None = None
    tokens_per_param_ci: tuple | None = None


@dataclass(frozen=True, kw_only=True, repr=False)
class AllocationFit(FitResult):
    """N_opt = G_N C^a, D_opt = G_D C^b (C in FLOPs). ``params``: a, b, G_N, G_D.

    ``residuals`` are log N_opt (per budget or envelope point) minus the fitted line.
    Approach 2 (:func:`fit_isoflop`) also fills the per-budget arrays: ``budgets`` (C), ``N_opt``,
    ``loss_opt``, ``inside`` (the budget's best run is not on the edge of its sizes), ``used`` (the
    budget is in the fit of a and G), and ``curves`` (per budget, the fitted parabola's
    coefficients, centre x0 and range of log N, for plotting; None for argmin).
    """

    optima: list = field(default_factory=list)
    method: str = ""
    resample: str = ""
    budgets: np.ndarray | None = None
    N_opt: np.ndarray | None = None
    loss_opt: np.ndarray | None = None
    inside: np.ndarray | None = None
    used: np.ndarray | None = None
    curves: list = field(default_factory=list)
    flops_per_token: object = None

    @property
    def G(self) -> float:
        """G in N_opt = G C^a (the same as ``G_N``)."""
        return self.params["G_N"]

    def _fpt(self, N):
        return np.asarray((self.flops_per_token or _fpt_6n)(N), dtype=float)

    def predict(self, C):
        """(N_opt, D_opt) at C FLOPs; D_opt = C / f(N_opt), f the fit's FLOPs per token (6N unless
        ``flops_per_token`` was given; then D_opt = G_D C^b exactly)."""
        C = np.asarray(C, dtype=float)
        p = self.params
        N = p["G_N"] * C ** p["a"]
        if self.flops_per_token is None:
            return N, p["G_D"] * C ** p["b"]
        return N, C / self._fpt(N)

    def tokens_per_param(self, C=None):
        """D_opt / N_opt at C (default: at every budget, from its own vertex)."""
        if C is None:
            if self.N_opt is None:
                raise ValueError("tokens_per_param() without C needs per-budget vertices "
                                 "(a fit_isoflop result); pass C")
            return self.budgets / self._fpt(self.N_opt) / self.N_opt
        N, D = self.predict(C)
        return D / N

    def curve(self, k: int, N):
        """Loss of budget ``k``'s fitted parabola at sizes ``N`` (for plotting the valleys)."""
        c = self.curves[k] if self.curves else None
        if c is None:
            raise ValueError("curve() needs the fitted parabolas: method 'local' or 'parabola'")
        return np.polyval(c["coef"], np.log(np.asarray(N, dtype=float)) - c["x0"])

    def draws_at(self, C: float):
        """(N_opt, tokens per parameter) at budget C for every finite bootstrap draw (two
        arrays; empty without a bootstrap)."""
        if self.bootstrap is None:
            return np.empty(0), np.empty(0)
        d = self.bootstrap[np.all(np.isfinite(self.bootstrap), axis=1)]
        Nd = d[:, 2] * float(C) ** d[:, 0]
        return Nd, float(C) / self._fpt(Nd) / Nd

    def at(self, C: float) -> IsoFLOPPoint:
        """N_opt, D_opt and tokens per parameter at one budget C, with bootstrap intervals."""
        C = float(C)
        N, D = (float(v) for v in self.predict(C))
        n_ci = t_ci = None
        if self.bootstrap is not None:
            Nd, td = self.draws_at(C)
            if len(Nd) >= 2:
                q = 100 * np.array([(1 - self.ci_level) / 2, (1 + self.ci_level) / 2])
                n_ci = tuple(float(v) for v in np.percentile(Nd, q))
                t_ci = tuple(float(v) for v in np.percentile(td, q))
        return IsoFLOPPoint(C, N, D, C / self._fpt(N).item() / N, n_ci, t_ci)

    def _title(self):
        return f"N_opt = G_N C^a, D_opt = G_D C^b ({self.method})"

    def _extra_dict(self):
        return {"method": self.method, "resample": self.resample, "optima": self.optima}

    def _extra_summary(self):
        keys = ("C", "N_opt", "D_opt", "loss_opt", "n_runs", "inside", "used", "interior",
                "opens_up", "run")
        cols = [k for k in keys if self.optima and k in self.optima[0]]
        lines = ["  " + " ".join(f"{c:>10}" for c in cols)]
        for o in self.optima:
            lines.append("  " + " ".join(f"{o[c]:>10.4g}" if isinstance(o[c], float) else f"{str(o[c]):>10}" for c in cols))
        return lines


def fit_isoflop(
    N,
    C,
    loss,
    *,
    method: str = "local",
    window: float = 1.0,
    edges: str = "exclude",
    bootstrap: int = 0,
    resample: str = "runs",
    seed: int = 0,
    ci_level: float = 0.95,
    flops_per_token=None,
) -> AllocationFit:
    """Approach 2: a vertex per budget, then N_opt = G_N C^a and D_opt = G_D C^b.

    N:      parameters per run; C: training FLOPs per run (runs share a budget if their C agree to
            6 significant digits, :func:`budget_groups`); loss: final loss per run.
    method: how a budget's N_opt is found:
            "local" (default): a parabola in log N through the runs within ``window`` decades
            of the budget's best run (at least 3 sizes). Over a wide grid (two decades of N) the
            valley is not a parabola (one side is steeper), and a parabola over the whole span
            pulls the vertex towards the middle of the sizes tried, by an amount that changes
            with the budget as the optimum moves across the grid, which biases a; near the best
            run a parabola is a good approximation. A grid of at most ``window`` decades is
            fitted whole, as with "parabola".
            "parabola": one parabola over all of a budget's runs (right for narrow, centred grids).
            "argmin": the best run itself.
    edges:  "exclude" (default): budgets whose best run is their smallest or largest size (the
            minimum may lie outside the grid, so any vertex is an extrapolation) are reported
            (``inside``, ``message``) and left out of the fit of a and G; "keep" uses them.
    bootstrap, resample: ``bootstrap`` refits for se and percentile intervals of a, b, G_N, G_D,
            with the data of each draw made by
            "runs": resampling the runs within each budget (with replacement);
            "residuals": adding resampled residuals of each budget's parabola to its fitted losses
            (the sizes stay fixed);
            "parametric": adding normal noise of the pooled residual level ``sigma`` (3
            coefficients per budget off the degrees of freedom) to the fitted losses.
            Draws keep each vertex within its window's sizes (a nearly flat resample cannot send
            it to infinity); budgets left out of the fit stay out.
    flops_per_token: f(N), FLOPs per token of a model of N parameters, so that D_opt = C / f(N_opt)
            (default 6N). Pass the full count when C is a full count.

    ``optima`` lists per budget: C, N_opt, D_opt, loss_opt, n_runs, ``inside``, ``used``,
    ``interior`` (the vertex lies within the fitted runs' sizes) and ``opens_up`` (False: the
    parabola opens downward and its lowest point among the runs stands in). The per-budget arrays are fields too
    (``budgets``, ``N_opt``, ``inside``, ...); ``at(C)`` and ``tokens_per_param(C)`` read the fitted
    line (with intervals from the draws).
    """
    _check_choice("method", method, METHODS)
    _check_choice("edges", edges, EDGES)
    _check_choice("resample", resample, RESAMPLES)
    try:
        window = float(window)
    except (TypeError, ValueError):
        window = float("nan")
    if not (np.isfinite(window) and window > 0):
        raise ValueError("window must be a positive number of decades of N either side of the "
                         "best run (e.g. 1.0)")
    if flops_per_token is not None and not callable(flops_per_token):
        raise TypeError("flops_per_token must be a function of N (FLOPs per token), or None for "
                        f"6N; got {type(flops_per_token).__name__}")
    N = _check_positive_finite("N", N)
    C = _check_positive_finite("C", C)
    L = _check_positive_finite("loss", loss)
    _check_lengths(N=N, C=C, loss=L)
    ci_level = _check_level(ci_level)
    K = _check_bootstrap(bootstrap, len(N))
    if K and method == "argmin" and resample != "runs":
        raise ValueError(f"resample={resample!r} refits parabolas; with method='argmin' use "
                         f"resample='runs' (or method='local')")
    budgets, groups = budget_groups(C)
    if method != "argmin":
        for b, idx in zip(budgets, groups):
            if len(idx) < 3:
                raise ValueError(
                    f"budget C={b:.6g} has {len(idx)} run{'s' if len(idx) != 1 else ''}; a parabola needs "
                    f"at least 3 per budget (add runs, drop that budget, or use method='argmin')"
                )
            if np.unique(N[idx]).size < 3:
                raise ValueError(f"budget C={b:.6g} has fewer than 3 distinct N; a parabola needs 3 model sizes")
    fpt = flops_per_token or _fpt_6n
    lN = np.log(N)
    wins = [_window(lN[idx], L[idx], method, window) for idx in groups]
    fits = [None if method == "argmin" else w.parabola() for w in wins]
    opt = [_budget_vertex(w, method) for w in wins]
    inside = np.array([w.inside for w in wins])
    used = inside if edges == "exclude" else np.ones(len(budgets), bool)
    edge = [b for b, ok in zip(budgets, inside) if not ok]
    if used.sum() < 3:
        extra = ""
        if edges == "exclude" and edge:
            extra = (f"; {len(edge)} budget(s) have their best run on the edge of their sizes ("
                     + ", ".join(f"{c:.3g}" for c in edge) + "): add sizes beyond that edge, "
                     "or pass edges='keep' to use their extrapolated vertices")
        raise ValueError(f"fit_isoflop needs at least 3 budgets (2 parameters); got "
                         f"{int(used.sum())}{extra}")
    N_opt = np.exp([o[0] for o in opt])
    params, resid, se_asym = _allocation_fit(budgets[used], N_opt[used], fpt)
    D_opt = budgets / np.asarray(fpt(N_opt), dtype=float)
    optima = [
        {
            "C": float(b),
            "N_opt": float(n),
            "D_opt": float(d),
            "loss_opt": float(o[1]),
            "n_runs": int(len(idx)),
            "inside": bool(w.inside),
            "used": bool(u),
            "interior": bool(o[2]),
            "opens_up": bool(o[3]),
        }
        for b, idx, n, d, o, w, u in zip(budgets, groups, N_opt, D_opt, opt, wins, used)
    ]
    curves = [None if f is None else
              {"coef": f[0], "x0": f[1], "x_range": (float(w.x.min()), float(w.x.max()))}
              for w, f in zip(wins, fits)]
    where = f"local, within {window:g} decades of the best run" if method == "local" else method
    msg = f"{int(used.sum())} of {len(budgets)} budgets used ({where})"
    if edge:
        msg += ("; best run on an edge of the sizes at " + ", ".join(f"{c:.3g}" for c in edge)
                + (" (left out; edges='keep' uses them)" if edges == "exclude"
                   else " (kept: extrapolated vertices)"))
    flagged = [o["C"] for o in optima if o["used"] and not (o["interior"] and o["opens_up"])]
    if flagged:
        msg += ("; check budgets " + ", ".join(f"{c:.3g}" for c in flagged)
                + " (vertex outside the runs or parabola opens downward)")

    ui = np.flatnonzero(used)
    sigma = None
    if method != "argmin":  # pooled residual level, 3 coefficients per budget off the dof
        dof = sum(len(wins[i].y) - 3 for i in ui)
        rss = sum(float(fits[i][3] @ fits[i][3]) for i in ui)
        sigma = float(np.sqrt(rss / dof)) if dof > 0 else None
    se, ci, draws = se_asym, None, None
    if K:
        if resample == "parametric" and sigma is None:
            raise ValueError("resample='parametric' estimates the noise from the parabolas' "
                             "residuals, but every window has exactly 3 runs; widen the windows "
                             "(window) or use resample='runs'")
        rng = np.random.default_rng(seed)
        draws = np.full((K, 4), np.nan)
        for k in range(K):
            lv = _draw_vertices(rng, resample, method, window, [wins[i] for i in ui],
                                [fits[i] for i in ui], [groups[i] for i in ui], lN, L, sigma)
            if lv is not None:
                p, _, _ = _allocation_fit(budgets[ui], np.exp(lv), fpt)
                draws[k] = [p[n] for n in ISO_NAMES]
        se, ci = _bootstrap_summary(draws, ISO_NAMES, ci_level)
        n_ok = int(np.all(np.isfinite(draws), 1).sum())
        how = {"runs": "runs resampled within each budget",
               "residuals": "parabola residuals resampled within each budget",
               "parametric": f"parametric, noise sigma = {sigma:.3g}" if sigma else ""}[resample]
        msg += f"; se and ci from {n_ok} of {K} bootstrap refits ({how})"
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
        diagnostics={"inside": inside.tolist(), "used": used.tolist(),
                     "interior": [o["interior"] for o in optima],
                     "opens_up": [o["opens_up"] for o in optima], "edge_budgets": [float(c) for c in edge],
                     "sigma": sigma, "se_asymptotic": se_asym},
        optima=optima,
        method=method,
        resample=resample if K else "",
        budgets=budgets,
        N_opt=N_opt,
        loss_opt=np.array([o[1] for o in opt]),
        inside=inside,
        used=used,
        curves=curves,
        flops_per_token=flops_per_token,
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
