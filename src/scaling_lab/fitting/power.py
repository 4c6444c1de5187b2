"""Power laws ``y = A x^-alpha`` and saturating power laws ``y = E + A x^-alpha``.

Which estimator, and when it is biased
--------------------------------------
* ``method="log"`` minimises squared residuals of ``log y``. With no offset it is ordinary least
  squares of ``log y`` on ``log x`` (closed form, analytic standard errors). It is the right choice
  when noise is *multiplicative* (a constant relative error, typical of losses and of anything
  spanning decades). If the noise is *additive* (constant absolute error) the small-y points carry
  relatively more noise and log-OLS is biased: E[log(y + eps)] != log y, and the low-y points drag
  the slope.
* ``method="nls"`` minimises squared residuals of ``y`` itself (nonlinear least squares). It is
  right for additive noise of constant size, but on data spanning decades the fit is dominated by
  the largest values of y (the smallest x): the points that matter for extrapolation barely count.
* ``offset=True`` adds an irreducible floor E (constrained to 0 <= E < min y). It is nonlinear in
  either space; we start from a grid over E (for each E, ``log(y - E)`` is linear in ``log x``) and
  refine with ``scipy.optimize.least_squares``. E trades off against alpha: with data far from the
  floor the two are nearly unidentifiable, which the bootstrap intervals will show.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from ._common import (
    FitResult,
    _bootstrap_summary,
    _check_bootstrap,
    _check_enough,
    _check_lengths,
    _check_level,
    _check_positive_finite,
    _resample_indices,
)


@dataclass(frozen=True, kw_only=True, repr=False)
class PowerLawFit(FitResult):
    """Result of :func:`fit_power_law`. ``params``: ``A, alpha`` and, with an offset, ``E``."""

    offset: bool = False
    method: str = "log"

    def predict(self, x):
        """y at x (same units as the fitted x and y)."""
        x = np.asarray(x, dtype=float)
        return self.params.get("E", 0.0) + self.params["A"] * x ** (-self.params["alpha"])

    def predict_draws(self, x, reducible: bool = False) -> np.ndarray:
        """Predictions of every successful bootstrap refit at x: array (K', len(x)), K' <= K (a
        resample whose refit failed is left out); needs ``bootstrap > 0``.

        reducible: predict only the part above the floor, ``A x^-alpha`` (what a larger x buys).
        """
        if self.bootstrap is None:
            raise ValueError("predict_draws needs bootstrap draws: refit with bootstrap=200 (or more)")
        x = np.atleast_1d(np.asarray(x, dtype=float))
        names = list(self.params)
        d = self.bootstrap[np.all(np.isfinite(self.bootstrap), axis=1)]
        A, alpha = d[:, names.index("A"), None], d[:, names.index("alpha"), None]
        E = d[:, names.index("E"), None] if "E" in names and not reducible else 0.0
        return E + A * x[None, :] ** (-alpha)

    def predict_interval(self, x, level: float | None = None):
        """(lo, hi) percentile band of the bootstrap refits' predictions at x.

        The band widens with the distance from the data in log x: that is the honest extrapolation
        error of the *fit* (it does not include the risk that the law itself changes).
        """
        level = _check_level(self.ci_level if level is None else level)
        p = self.predict_draws(x)
        lo, hi = np.percentile(p, [100 * (1 - level) / 2, 100 * (1 + level) / 2], axis=0)
        return lo, hi

    def _title(self):
        form = "y = E + A x^-alpha" if self.offset else "y = A x^-alpha"
        return f"{form} ({self.method} residuals)"

    def _extra_dict(self):
        return {"offset": self.offset, "method": self.method}


# ----------------------------------------------------------------------------------------------
# one fit; theta = (log A, alpha) or (E, log A, alpha)


def _model(theta, x, offset):
    if offset:
        E, logA, alpha = theta
        return E + np.exp(logA - alpha * np.log(x))
    logA, alpha = theta
    return np.exp(logA - alpha * np.log(x))


def _residual_fn(x, y, offset, method):
    ly = np.log(y)
    if method == "log":
        return lambda th: np.log(_model(th, x, offset)) - ly
    return lambda th: _model(th, x, offset) - y


def _ols_loglog(lx, ly):
    """OLS of ly on (1, -lx): returns (logA, alpha), residuals (model - data), cov of (logA, alpha)."""
    X = np.column_stack([np.ones_like(lx), -lx])
    coef, *_ = np.linalg.lstsq(X, ly, rcond=None)
    r = X @ coef - ly
    dof = len(ly) - 2
    s2 = float(r @ r) / dof if dof > 0 else np.nan
    try:
        cov = s2 * np.linalg.inv(X.T @ X)
    except np.linalg.LinAlgError:
        cov = np.full((2, 2), np.nan)
    return coef, r, cov


def _grid_start_offset(x, y, method, n_grid=200):
    """Best (E, log A, alpha) over a grid of E in [0, min y): for fixed E, log(y - E) is linear in log x."""
    ymin = y.min()
    frac = np.concatenate([[0.0], 1 - np.logspace(-4, 0, n_grid - 1)[::-1][:-1], [0.999]])
    frac = np.unique(np.clip(frac, 0, 0.9999))
    E = ymin * frac  # (G,)
    lx = np.log(x)
    Z = np.log(y[None, :] - E[:, None])  # (G, n)
    xm = lx.mean()
    dx = lx - xm
    slope = (Z - Z.mean(1, keepdims=True)) @ dx / (dx @ dx)
    inter = Z.mean(1) - slope * xm
    pred = E[:, None] + np.exp(inter[:, None] + slope[:, None] * lx[None, :])
    if method == "log":
        sse = ((np.log(pred) - np.log(y)) ** 2).sum(1)
    else:
        sse = ((pred - y) ** 2).sum(1)
    g = int(np.nanargmin(sse))
    return np.array([E[g], inter[g], -slope[g]])


def _fit_once(x, y, offset, method, start=None):
    """Returns theta, cov(theta), residuals, objective, n_iter, converged, message."""
    lx, ly = np.log(x), np.log(y)
    if not offset and method == "log":
        theta, r, cov = _ols_loglog(lx, ly)
        return theta, cov, r, float(r @ r), 0, True, "closed form (OLS of log y on log x)"
    if start is None:
        start = _grid_start_offset(x, y, method) if offset else _ols_loglog(lx, ly)[0]
    fun = _residual_fn(x, y, offset, method)
    if offset:
        hi = y.min() * (1 - 1e-9)
        lb, ub = [0.0, -np.inf, -np.inf], [hi, np.inf, np.inf]
        start = np.array(start, dtype=float)
        start[0] = np.clip(start[0], 0.0, hi * (1 - 1e-9))
    else:
        lb, ub = -np.inf, np.inf
    sol = least_squares(fun, start, bounds=(lb, ub), method="trf", x_scale="jac", xtol=1e-12, ftol=1e-12, gtol=1e-12, max_nfev=2000)
    r = sol.fun
    dof = len(y) - len(sol.x)
    s2 = float(r @ r) / dof if dof > 0 else np.nan
    try:
        cov = s2 * np.linalg.pinv(sol.jac.T @ sol.jac)
    except np.linalg.LinAlgError:
        cov = np.full((len(sol.x), len(sol.x)), np.nan)
    return sol.x, cov, r, float(r @ r), int(sol.nfev), bool(sol.status > 0), str(sol.message)


def _theta_to_params(theta, offset):
    if offset:
        E, logA, alpha = theta
        return {"E": float(E), "A": float(np.exp(logA)), "alpha": float(alpha)}
    logA, alpha = theta
    return {"A": float(np.exp(logA)), "alpha": float(alpha)}


def fit_power_law(
    x,
    y,
    offset: bool = False,
    method: str = "log",
    bootstrap: int = 0,
    ci_level: float = 0.95,
    seed: int = 0,
) -> PowerLawFit:
    """Fit ``y = A x^-alpha`` (or ``y = E + A x^-alpha`` with ``offset=True``).

    x, y:      positive, finite 1-D arrays of equal length (any units; A carries y's units
               times x's units to the alpha, E carries y's units).
    offset:    fit the irreducible floor E too (kept in [0, min y)).
    method:    "log" = least squares on log y (right for multiplicative noise; biased for additive
               noise), "nls" = least squares on y (right for additive noise; dominated by the largest
               y values when y spans decades). See the module docstring.
    bootstrap: number of resamples (points drawn with replacement, then refit) for ``se``, the
               percentile ``ci`` and ``predict_interval``; 0 gives asymptotic standard errors only.
    ci_level:  coverage of the percentile intervals (stored on the result as ``ci_level``).
    seed:      seed of the bootstrap's random generator.

    Returns a :class:`PowerLawFit`: ``params`` A, alpha (and E); ``residuals`` are model minus data
    in the fitted space (log y for "log"); ``objective`` is their sum of squares.
    """
    if method not in ("log", "nls"):
        raise ValueError(f"method must be 'log' or 'nls'; got {method!r}")
    x = _check_positive_finite("x", x)
    y = _check_positive_finite("y", y)
    _check_lengths(x=x, y=y)
    names = ["E", "A", "alpha"] if offset else ["A", "alpha"]
    _check_enough("fit_power_law" + (" with offset=True" if offset else ""), len(x), len(names))
    if np.unique(x).size < 2:
        raise ValueError("x must take at least 2 distinct values to fit an exponent; all x are equal")
    if offset and np.unique(x).size < 3:
        raise ValueError("fit_power_law with offset=True needs at least 3 distinct values of x "
                         "(E, A and alpha are 3 parameters); add runs at another x or fit "
                         "without offset")
    ci_level = _check_level(ci_level)
    K = _check_bootstrap(bootstrap, len(x))

    theta, cov, r, obj, n_iter, ok, msg = _fit_once(x, y, offset, method)
    params = _theta_to_params(theta, offset)
    # asymptotic standard errors; A by the delta method from log A
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    i_logA = 1 if offset else 0
    se_asym = {"A": params["A"] * sd[i_logA], "alpha": sd[i_logA + 1]}
    if offset:
        se_asym = {"E": sd[0], **se_asym}
    se_asym = {k: float(se_asym[k]) for k in names}
    params = {k: params[k] for k in names}

    se, ci, draws = se_asym, None, None
    if K:
        rng = np.random.default_rng(seed)
        idx = _resample_indices(rng, len(x), K)
        draws = np.full((K, len(names)), np.nan)
        for k in range(K):
            xi, yi = x[idx[k]], y[idx[k]]
            if np.unique(xi).size < (3 if offset else 2):
                continue  # a degenerate resample cannot identify the exponent
            th = _fit_once(xi, yi, offset, method, start=theta if offset or method == "nls" else None)[0]
            p = _theta_to_params(th, offset)
            draws[k] = [p[n] for n in names]
        se, ci = _bootstrap_summary(draws, names, ci_level)
        msg += f"; se and ci from {int(np.all(np.isfinite(draws), 1).sum())} of {K} bootstrap refits"
    else:
        msg += "; se asymptotic (from the Jacobian), no ci: pass bootstrap=K for intervals"

    return PowerLawFit(
        params=params,
        se=se,
        ci=ci,
        ci_level=ci_level,
        bootstrap=draws,
        converged=ok,
        n_iter=n_iter,
        objective=obj,
        residuals=np.asarray(r),
        message=msg,
        diagnostics={"se_asymptotic": se_asym},
        offset=bool(offset),
        method=method,
    )
