"""Hoffmann et al.'s approach 3, done right: fit L(N, D) = E + A/N^alpha + B/D^beta to runs.

The protocol (Hoffmann et al. 2022, section 3.3 and appendix D.2):

* parametrise in logs, ``log L = LSE(a - alpha log N, b - beta log D, e)`` with a = log A,
  b = log B, e = log E (LSE = log-sum-exp), so the three terms stay positive;
* measure misfit as the Huber loss (delta = 1e-3) of ``log L_hat - log L`` per run, robust to a few
  outlying runs, and **sum** it over runs;
* minimise with L-BFGS from every point of a 4500-point grid of starts (alpha, beta in
  {0, 0.5, 1, 1.5, 2}; e in {-1, -0.5, 0, 0.5, 1}; a, b in {0, 5, ..., 25}) and keep the best.

Why the reduction matters. Each Huber term is tiny (|r| ~ 1e-2, delta 1e-3, so ~1e-5), and scipy's
L-BFGS-B stops when the objective falls by less than ``ftol * max(|f|, 1)`` (ftol = 2.2e-9) in an
iteration: because of that ``max(., 1)`` the test is *absolute* when f < 1. The *mean* of the Huber
terms is n times smaller than the sum and the optimiser stops after a handful of iterations, far
from the optimum. Besiroglu et al. (2024) traced the published constants (E 1.69, A 406.4,
B 410.7, alpha 0.34, beta 0.28) to this; refits of the same data give alpha ~0.35, beta ~0.37,
E ~1.82. ``reduction="mean"`` reproduces the early stop (L-BFGS with scipy L-BFGS-B's default
stopping rule, from every grid start) for teaching; the default ``"sum"`` runs to convergence.

How it is computed. All starts run together in a batched L-BFGS (``_lbfgs.py``); the best few
distinct end points are then polished (same algorithm, fresh history, ftol 1e-15). The bootstrap refits all resamples in one batch too: a resample is the original runs
with integer weights (how often each was drawn), started from the full-data optimum and from every
other distinct local minimum the grid found with an objective within a factor 2 of the best (a
resample is a small perturbation of the data, so the 4500-point grid is not rerun).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import number
from ._common import (
    FitResult,
    _bootstrap_summary,
    _check_bootstrap,
    _check_enough,
    _check_lengths,
    _check_level,
    _check_positive_finite,
)
from ._lbfgs import batched_lbfgs

PARAM_NAMES = ["E", "A", "B", "alpha", "beta", "a", "b", "G"]
REL_GRAD_OK = 1e-3  # max|gradient| / objective (summed) below which a stalled polish counts as converged
GRID_MAX_POINTS = 1000  # above this many runs the 4500 starts are ranked on a subsample
SCIPY_FTOL = 1e7 * np.finfo(float).eps  # scipy L-BFGS-B default: factr 1e7 times machine epsilon


def hoffmann_grid() -> np.ndarray:
    """Hoffmann et al.'s 4500 starting points, array (4500, 5) with columns (log A, log B, log E, alpha, beta)."""
    ab = np.arange(0.0, 25.1, 5.0)
    e = np.arange(-1.0, 1.01, 0.5)
    ex = np.arange(0.0, 2.01, 0.5)
    g = np.meshgrid(ab, ab, e, ex, ex, indexing="ij")
    return np.column_stack([v.ravel() for v in g])


class _HuberLSE:
    """Huber(delta) of log L_hat - log L, summed (or averaged) over runs, and its gradient.

    Evaluated for a batch of parameter rows theta = (log A, log B, log E, alpha, beta) at once, in
    chunks of rows small enough that the (rows x runs) temporaries stay in cache. With ``weights``
    (K, n) and ``group`` (rows -> k), row i uses run weights ``weights[group[i]]`` (bootstrap).
    """

    def __init__(self, N, D, L, delta=1e-3, reduction="sum", weights=None, group=None, chunk=256):
        self.lN, self.lD, self.lL = np.log(N), np.log(D), np.log(L)
        self.delta = float(delta)
        self.M1 = np.vstack([np.ones_like(self.lN), -self.lN])  # (2, n): (log A, alpha) -> exponent
        self.M2 = np.vstack([np.ones_like(self.lD), -self.lD])
        self.weights, self.group, self.chunk = weights, group, chunk
        n = len(self.lN)
        self.scale = 1.0 / n if reduction == "mean" else 1.0

    def residuals(self, theta):
        la, lb, le, al, be = theta
        return np.logaddexp(np.logaddexp(la - al * self.lN, lb - be * self.lD), le) - self.lL

    def _block(self, th, rows):
        t1 = th[:, [0, 3]] @ self.M1  # log A - alpha log N
        np.exp(t1, out=t1)  # A / N^alpha (overflow -> inf -> f = inf, rejected by the line search)
        t2 = th[:, [1, 4]] @ self.M2
        np.exp(t2, out=t2)
        E = np.exp(th[:, 2:3])
        s = t1 + t2
        s += E  # L_hat
        r = np.log(s)
        r -= self.lL  # residual in log space
        hp = np.clip(r, -self.delta, self.delta)  # Huber'(r)
        r -= 0.5 * hp
        r *= hp  # Huber(r) = hp (r - hp/2)
        if self.weights is not None:
            w = self.weights[self.group[rows]]
            f = np.einsum("ij,ij->i", r, w)
            hp *= w
        else:
            f = r.sum(1)
        hp /= s  # d Huber / d L_hat
        g = np.empty((th.shape[0], 5))
        g[:, 2] = E[:, 0] * hp.sum(1)
        t1 *= hp
        t2 *= hp
        g[:, [0, 3]] = t1 @ self.M1.T
        g[:, [1, 4]] = t2 @ self.M2.T
        return f * self.scale, g * self.scale

    def __call__(self, th, rows):
        with np.errstate(all="ignore"):
            b = th.shape[0]
            if b <= self.chunk:
                return self._block(th, rows)
            f, g = np.empty(b), np.empty((b, 5))
            for i in range(0, b, self.chunk):
                f[i : i + self.chunk], g[i : i + self.chunk] = self._block(th[i : i + self.chunk], rows[i : i + self.chunk])
            return f, g

    def scalar(self, theta):
        """(f, g) for one theta, the interface scipy.optimize.minimize(jac=True) wants."""
        f, g = self(np.asarray(theta, dtype=float)[None, :], np.zeros(1, dtype=int))
        return float(f[0]), g[0]


def _params_from_theta(theta) -> dict[str, float]:
    """(log A, log B, log E, alpha, beta) -> E, A, B, alpha, beta, a, b, G (inf/nan if degenerate)."""
    row = _params_matrix(np.asarray(theta, dtype=float)[None, :])[0]
    return {k: float(v) for k, v in zip(PARAM_NAMES, row)}


def _params_matrix(theta: np.ndarray) -> np.ndarray:
    """Vectorised _params_from_theta: (K, 5) -> (K, 8) in PARAM_NAMES order."""
    la, lb, le, al, be = theta.T
    with np.errstate(all="ignore"):
        s = al + be
        G = np.exp((np.log(al) + la - np.log(be) - lb) / s)
        return np.column_stack([np.exp(le), np.exp(la), np.exp(lb), al, be, be / s, al / s, G])


def _distinct(theta: np.ndarray, f: np.ndarray, tol=1e-3) -> np.ndarray:
    """Indices of distinct end points (different by more than tol in some coordinate), best first."""
    order = np.argsort(f)
    keep: list[int] = []
    for i in order:
        if not np.isfinite(f[i]):
            break
        if all(np.abs(theta[i] - theta[j]).max() > tol for j in keep):
            keep.append(int(i))
        if len(keep) >= 20:
            break
    return np.array(keep, dtype=int)


@dataclass(frozen=True, kw_only=True, repr=False)
class ChinchillaFit(FitResult):
    """Result of :func:`fit_chinchilla`.

    params: E (nats/token), A, B, alpha, beta of L = E + A/N^alpha + B/D^beta (N parameters,
    D tokens), and the implied allocation N_opt = G (C/6)^a, D_opt = G^-1 (C/6)^b: a, b, G.
    ``objective`` is the minimised Huber objective (sum or mean, see ``reduction``);
    ``diagnostics["objective_sum"]`` and ``diagnostics["rel_grad_sum"]`` (max |gradient| of the
    *summed* objective over the summed objective) compare the two reductions on one scale.
    """

    reduction: str = "sum"
    delta: float = 1e-3

    @property
    def law(self):
        """The fitted law as a :class:`scaling_lab.laws.ChinchillaLaw` (``loss``, ``optimal``, ...)."""
        from ..laws import ChinchillaLaw

        return ChinchillaLaw.from_fit(self, name="fit")

    def predict(self, N, D):
        """Predicted loss (nats/token) at N parameters and D tokens (broadcast)."""
        p = self.params
        N, D = np.asarray(N, dtype=float), np.asarray(D, dtype=float)
        return p["E"] + p["A"] * N ** -p["alpha"] + p["B"] * D ** -p["beta"]

    def _title(self):
        return f"L = E + A/N^alpha + B/D^beta (Huber delta={self.delta:g} on log L, {self.reduction})"

    def _extra_dict(self):
        return {"reduction": self.reduction, "delta": self.delta}

    def _extra_summary(self):
        d = self.diagnostics
        return [
            f"  starts: {d.get('n_starts')}, distinct minima: {d.get('n_distinct_minima')}; "
            f"max|grad| / objective (summed): {d.get('rel_grad_sum', float('nan')):.2g}"
        ]


def fit_chinchilla(
    N,
    D,
    loss,
    *,
    delta: float = 1e-3,
    reduction: str = "sum",
    grid="hoffmann",
    bootstrap: int = 0,
    seed: int = 0,
    maxiter: int = 1000,
    ci_level: float = 0.95,
) -> ChinchillaFit:
    """Fit L(N, D) = E + A/N^alpha + B/D^beta by Hoffmann et al.'s approach 3 (see module docstring).

    N:         parameters per run (say which: Hoffmann count total parameters).
    D:         training tokens per run.
    loss:      final loss per run, nats per token (> 0).
    delta:     Huber threshold on log-loss residuals (1e-3 as in the paper).
    reduction: "sum" (default, converges) or "mean" (for teaching: reproduces the published early
               stop, L-BFGS with scipy L-BFGS-B's default stopping rule on the mean of Huber terms).
    grid:      "hoffmann" for the 4500-point grid, or an array (k, 5) of starts with columns
               (log A, log B, log E, alpha, beta).
    bootstrap: number of resamples of the runs (with replacement) to refit for ``se`` and percentile
               ``ci`` of every parameter including a, b, G; the draws are in ``.bootstrap``.
    seed:      seed of the bootstrap's random generator.
    maxiter:   iteration cap per start.
    ci_level:  coverage of the percentile intervals.
    """
    N = _check_positive_finite("N", N)
    D = _check_positive_finite("D", D)
    L = _check_positive_finite("loss", loss)
    _check_lengths(N=N, D=D, loss=L)
    if reduction not in ("sum", "mean"):
        raise ValueError(f"reduction must be 'sum' or 'mean'; got {reduction!r}")
    number("delta", delta, note=" (Hoffmann et al. use 1e-3)")
    ci_level = _check_level(ci_level)
    K = _check_bootstrap(bootstrap, len(N))
    if isinstance(grid, str):
        if grid != "hoffmann":
            raise ValueError(f"grid must be 'hoffmann' or an array (k, 5) of starts; got {grid!r}")
        starts = hoffmann_grid()
    else:
        starts = np.atleast_2d(np.asarray(grid, dtype=float))
        if starts.ndim != 2 or starts.shape[1] != 5 or not np.all(np.isfinite(starts)):
            raise ValueError(
                f"grid must be an array (k, 5) of finite starts (log A, log B, log E, alpha, beta); got shape {starts.shape}"
            )

    # identical runs add no information: count distinct (N, D) points, and both must vary
    n_points = len(np.unique(np.column_stack([N, D]), axis=0))
    _check_enough("fit_chinchilla", n_points, 5, what="distinct (N, D) points")
    for name, v in (("N", N), ("D", D)):
        if np.unique(v).size < 2:
            raise ValueError(f"fit_chinchilla needs at least 2 distinct values of {name} to fit "
                             f"its exponent; all {len(v)} runs have {name} = {v[0]:g}")

    obj_sum = _HuberLSE(N, D, L, delta, "sum")
    obj_grid = None
    if len(N) > GRID_MAX_POINTS:  # rank the starts on a fixed subsample, polish on all runs
        sub = np.sort(np.random.default_rng(0).choice(len(N), GRID_MAX_POINTS, replace=False))
        obj_grid = _HuberLSE(N[sub], D[sub], L[sub], delta, "sum")
    if reduction == "sum":
        theta, n_iter, ok, msg, diag = _fit_sum(obj_sum, starts, maxiter, obj_grid)
    else:
        theta, n_iter, ok, msg, diag = _fit_mean(_HuberLSE(N, D, L, delta, "mean"), starts, maxiter)

    f_sum, g_sum = obj_sum.scalar(theta)
    diag["objective_sum"] = f_sum
    diag["grad_sum"] = float(np.abs(g_sum).max())
    diag["rel_grad_sum"] = float(np.abs(g_sum).max() / max(f_sum, 1e-300))
    diag["fitted_flops"] = [float((6 * N * D).min()), float((6 * N * D).max())]
    diag["log_params"] = dict(zip(["log_A", "log_B", "log_E", "alpha", "beta"], map(float, theta)))
    objective = f_sum if reduction == "sum" else f_sum / len(N)
    params = _params_from_theta(theta)

    se = ci = draws = None
    if K:
        draws, n_ok = _bootstrap(N, D, L, delta, theta, diag.pop("_other_minima"), K, seed, maxiter)
        se, ci = _bootstrap_summary(draws, PARAM_NAMES, ci_level)
        msg += f"; se and ci from {n_ok} of {K} bootstrap refits"
    diag.pop("_other_minima", None)

    return ChinchillaFit(
        params=params,
        se=se,
        ci=ci,
        ci_level=ci_level,
        bootstrap=draws,
        converged=ok,
        n_iter=n_iter,
        objective=objective,
        residuals=obj_sum.residuals(theta),
        message=msg,
        diagnostics=diag,
        reduction=reduction,
        delta=float(delta),
    )


def _fit_sum(obj, starts, maxiter, obj_grid=None):
    """All starts in one batched L-BFGS, then a tight-tolerance polish of the best distinct end points.

    (The polish is the same batched L-BFGS with fresh history and ftol 1e-15, not scipy's
    L-BFGS-B: on a busy machine scipy's per-iteration BLAS calls cost milliseconds each.)
    """
    # the batch only has to rank the starts: a relative decrease below 1e-7 ends a row
    res = batched_lbfgs(obj_grid or obj, starts, maxiter=maxiter, gtol=1e-14, ftol=1e-7)
    cand = _distinct(res["x"], res["f"])
    f_grid, best_grid = res["f"].copy(), None
    if obj_grid is not None:  # compare the distinct end points on the full data
        best_grid = float(f_grid[cand[0]])
        res["f"][cand] = obj(res["x"][cand], np.zeros(len(cand), dtype=int))[0]
        cand = cand[np.argsort(res["f"][cand], kind="stable")]
    pol = batched_lbfgs(obj, res["x"][cand[:3]], maxiter=max(maxiter, 2000), gtol=1e-14, ftol=1e-15)
    j = int(np.argmin(pol["f"]))
    i = int(cand[j])
    theta, f_best = pol["x"][j], float(pol["f"][j])
    n_iter = int(res["n_iter"][i] + pol["n_iter"][j])
    rel_grad = float(np.abs(pol["g"][j]).max() / max(f_best, 1e-300))
    # converged: met the tolerance, or stopped at machine precision with a small relative gradient
    ok = bool(pol["status"][j] == 1 or (pol["status"][j] == 2 and rel_grad < REL_GRAD_OK))
    fb = res["f"][cand]
    others = res["x"][cand[(fb <= 2 * f_best) & (np.arange(len(cand)) > 0)]][:3]
    diag = {
        "n_starts": int(len(starts)),
        "n_starts_converged": int((res["status"] == 1).sum()),
        "n_starts_at_best": int((f_grid <= (f_best if best_grid is None else best_grid)
                                 * (1 + 1e-6) + 1e-300).sum()),
        "n_distinct_minima": int(len(cand)),
        "n_objective_evaluations": int(res["n_eval"] + pol["n_eval"]),
        "_other_minima": others,
    }
    how = {1: "converged", 2: "stopped at machine precision", 0: "hit maxiter"}[int(pol["status"][j])]
    msg = f"batched L-BFGS from {len(starts)} starts, best distinct end points polished: {how}"
    if obj_grid is not None:
        msg += f" (starts ranked on {GRID_MAX_POINTS} of the runs, polished on all)"
    return theta, n_iter, ok, msg, diag


def _fit_mean(obj_mean, starts, maxiter):
    """Hoffmann et al.'s setting: L-BFGS with scipy L-BFGS-B's default stopping rule on the mean.

    scipy stops when (f_k - f_k+1) / max(|f_k|, |f_k+1|, 1) <= 2.22e-9 or max|projected g| <= 1e-5.
    The batched L-BFGS applies the same rule to every start (4500 scipy calls take over a minute);
    ``tests/test_fitting.py`` checks that scipy itself stops as early from the same starts.
    """
    res = batched_lbfgs(obj_mean, starts, maxiter=maxiter, gtol=1e-5, ftol=SCIPY_FTOL, f_floor=1.0)
    i = int(np.nanargmin(np.where(np.isfinite(res["f"]), res["f"], np.inf)))
    diag = {
        "n_starts": int(len(starts)),
        "n_starts_converged": int((res["status"] == 1).sum()),
        "median_iterations_per_start": float(np.median(res["n_iter"])),
        "n_distinct_minima": int(len(_distinct(res["x"], res["f"]))),
        "n_objective_evaluations": int(res["n_eval"]),
        "_other_minima": np.zeros((0, 5)),
    }
    msg = (f"L-BFGS with scipy's default stopping rule on the MEAN of Huber terms from {len(starts)} "
           f"starts: stopped by its tolerance, not at the optimum; see diagnostics['rel_grad_sum']")
    return res["x"][i], int(res["n_iter"][i]), bool(res["status"][i] == 1), msg, diag


def _bootstrap(N, D, L, delta, theta, others, K, seed, maxiter):
    """K resamples as integer weights on the runs; each refit from the optimum and the other minima."""
    n = len(N)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(K, n))
    W = np.zeros((K, n))
    np.add.at(W, (np.repeat(np.arange(K), n), idx.ravel()), 1.0)
    st = np.vstack([theta[None, :], others]) if len(others) else theta[None, :]
    S = len(st)
    group = np.repeat(np.arange(K), S)
    obj = _HuberLSE(N, D, L, delta, "sum", weights=W, group=group)
    res = batched_lbfgs(obj, np.tile(st, (K, 1)), maxiter=maxiter, gtol=1e-12, ftol=1e-12)
    f = res["f"].reshape(K, S)
    j = np.nanargmin(np.where(np.isfinite(f), f, np.inf), axis=1)
    th = res["x"].reshape(K, S, 5)[np.arange(K), j]
    draws = _params_matrix(th)
    good = np.isfinite(f[np.arange(K), j]) & np.all(np.isfinite(draws), axis=1)
    draws[~good] = np.nan
    return draws, int(good.sum())
