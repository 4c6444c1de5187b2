"""Shared pieces of the estimators: the result object, input checks and bootstrap intervals.

Every estimator in ``scaling_lab.fitting`` returns a subclass of :class:`FitResult`, modelled on
``scipy.optimize.OptimizeResult``: the estimates (``params``), their uncertainty (``se``, ``ci``, the
raw ``bootstrap`` draws), diagnostics (``converged``, ``n_iter``, ``objective``, ``residuals``,
``message``, ``diagnostics``) and a ``predict`` method.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._validate import column, same_length

# ----------------------------------------------------------------------------------------------
# input checks: every message names the argument and says what to do about it. The array checks
# are the package's (``scaling_lab._validate``); for data, the fix is to drop or fix the row.

_ROW = " (drop or fix that row)"


def _check_positive_finite(name: str, arr) -> np.ndarray:
    """``arr`` as a 1-D float array, all entries > 0 and finite.

    >>> _check_positive_finite("N", [1e6, 0.0])
    Traceback (most recent call last):
    ...
    ValueError: N must be positive and finite: found 0 at index 1 (drop or fix that row)
    """
    return column(name, arr, hint=_ROW)


def _check_finite(name: str, arr) -> np.ndarray:
    """``arr`` as a 1-D float array, all entries finite."""
    return column(name, arr, kind="finite", hint=_ROW)


_check_lengths = same_length


def _check_enough(func: str, n: int, n_params: int, what: str = "points") -> None:
    """At least one more point than parameters, so that there is a residual to estimate noise from."""
    need = n_params + 1
    if n < need:
        raise ValueError(f"{func} needs at least {need} {what} ({n_params} parameters); got {n}")


def _check_level(level: float) -> float:
    level = float(level)
    if not 0 < level < 1:
        raise ValueError(f"ci_level must be between 0 and 1 (e.g. 0.95); got {level:g}")
    return level


MAX_BOOTSTRAP_DRAWS = 20_000_000  # resamples x points: the (K, n) resample matrix, ~160 MB


def _check_bootstrap(bootstrap, n_points: int = 1) -> int:
    """A whole number of resamples >= 0, small enough that K x n_points resample indices fit in
    memory (``MAX_BOOTSTRAP_DRAWS``); percentile intervals settle by a few thousand resamples."""
    try:
        k = int(bootstrap)
    except (TypeError, ValueError, OverflowError):
        k = -1
    if k < 0 or k != bootstrap:
        raise ValueError(f"bootstrap must be a whole number of resamples >= 0; got {bootstrap!r}")
    if k * max(1, n_points) > MAX_BOOTSTRAP_DRAWS:
        most = max(1, MAX_BOOTSTRAP_DRAWS // max(1, n_points))
        raise ValueError(f"bootstrap={k} resamples of {n_points} points would not fit in memory; "
                         f"pass bootstrap <= {most} (1000 to 10000 is plenty for a 95% interval)")
    return k


# ----------------------------------------------------------------------------------------------
# bootstrap intervals


def bootstrap_ci(draws, level: float = 0.95, names: list[str] | None = None):
    """Percentile interval of bootstrap draws.

    draws: array (K, p) of K refits of p parameters (NaN rows, i.e. failed refits, are ignored).
    level: central coverage, e.g. 0.95 gives the 2.5th and 97.5th percentiles.
    Returns an array (2, p) of (lo, hi), or with ``names`` a dict ``name -> (lo, hi)``.
    """
    level = _check_level(level)
    d = np.asarray(draws, dtype=float)
    if d.ndim == 1:
        d = d[:, None]
    q = 100 * np.array([(1 - level) / 2, (1 + level) / 2])
    lohi = np.nanpercentile(d, q, axis=0)
    if names is None:
        return lohi
    return {n: (float(lohi[0, j]), float(lohi[1, j])) for j, n in enumerate(names)}


def _bootstrap_summary(draws: np.ndarray, names: list[str], level: float):
    """se (std of draws) and percentile ci as dicts, ignoring failed (NaN) draws."""
    ok = np.all(np.isfinite(draws), axis=1)
    good = draws[ok]
    if len(good) < 2:
        return None, None
    se = {n: float(np.std(good[:, j], ddof=1)) for j, n in enumerate(names)}
    return se, bootstrap_ci(good, level, names)


def _resample_indices(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """k bootstrap resamples of n points (with replacement): int array (k, n)."""
    return rng.integers(0, n, size=(k, n))


# ----------------------------------------------------------------------------------------------
# the result object


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.ndarray):
        return _jsonable(v.tolist())
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer, int)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        v = float(v)
        return v if math.isfinite(v) else None
    return v


def _fmt(x: float) -> str:
    return f"{x:.6g}" if x is not None and np.isfinite(x) else "nan"


@dataclass(frozen=True, kw_only=True, repr=False)
class FitResult:
    """What an estimator found, how sure it is, and whether the optimiser can be trusted.

    params:      the estimates, ``name -> value`` (also readable as attributes: ``res.alpha``)
    se:          bootstrap (or asymptotic, see ``message``) standard errors, or None
    ci:          percentile intervals ``name -> (lo, hi)`` at ``ci_level``, or None
    bootstrap:   the raw bootstrap draws, shape (K, len(params)), columns in ``params`` order
    converged:   did the optimiser meet its own convergence test
    n_iter:      optimiser iterations (0 for closed forms)
    objective:   the minimised objective at ``params`` (see each estimator for its definition)
    residuals:   per-point residuals in the space the objective is computed in
    diagnostics: anything else worth a look (gradient norms, flags, ...)
    """

    params: dict[str, float]
    converged: bool = True
    n_iter: int = 0
    objective: float = float("nan")
    residuals: np.ndarray = field(default_factory=lambda: np.zeros(0))
    message: str = ""
    se: dict[str, float] | None = None
    ci: dict[str, tuple[float, float]] | None = None
    ci_level: float = 0.95
    bootstrap: np.ndarray | None = None
    diagnostics: dict = field(default_factory=dict)

    # params as attributes ---------------------------------------------------------------
    def __getattr__(self, name):
        params = self.__dict__.get("params")
        if params is not None and name in params:
            return params[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    @property
    def n_points(self) -> int:
        return int(len(self.residuals))

    def predict(self, *args, **kwargs):  # pragma: no cover - each estimator defines it
        raise NotImplementedError

    # reporting ----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-ready dict: params flat at top level, then ``se``, ``ci`` and diagnostics."""
        out = {k: float(v) for k, v in self.params.items()}
        if self.se is not None:
            out["se"] = dict(self.se)
        if self.ci is not None:
            out["ci"] = {k: [lo, hi] for k, (lo, hi) in self.ci.items()}
            out["ci_level"] = self.ci_level
        if self.bootstrap is not None:
            out["n_bootstrap"] = int(len(self.bootstrap))
        out.update(
            estimator=type(self).__name__,
            converged=self.converged,
            n_iter=self.n_iter,
            objective=self.objective,
            n_points=self.n_points,
            message=self.message,
            diagnostics=self.diagnostics,
        )
        out.update(self._extra_dict())
        return _jsonable(out)

    def _extra_dict(self) -> dict:
        return {}

    def summary(self) -> str:
        """A readable multi-line table of estimates with uncertainty and diagnostics."""
        pct = f"{100 * self.ci_level:g}% ci"
        lines = [f"{type(self).__name__}: {self._title()}"]
        lines.append(f"  {'param':<8} {'estimate':>12} {'se':>12}   {pct}")
        for k, v in self.params.items():
            se = _fmt(self.se[k]) if self.se and k in self.se else ""
            ci = f"[{_fmt(self.ci[k][0])}, {_fmt(self.ci[k][1])}]" if self.ci and k in self.ci else ""
            lines.append(f"  {k:<8} {_fmt(v):>12} {se:>12}   {ci}")
        boot = f", bootstrap {len(self.bootstrap)} resamples" if self.bootstrap is not None else ""
        lines.append(
            f"  {self.n_points} points{boot}; converged={self.converged}, n_iter={self.n_iter}, "
            f"objective={_fmt(self.objective)}"
        )
        if self.message:
            lines.append(f"  {self.message}")
        lines.extend(self._extra_summary())
        return "\n".join(lines)

    def _title(self) -> str:
        return ""

    def _extra_summary(self) -> list[str]:
        return []

    def __repr__(self) -> str:
        ps = ", ".join(f"{k}={_fmt(v)}" for k, v in self.params.items())
        return f"{type(self).__name__}({ps}, converged={self.converged})"


# ----------------------------------------------------------------------------- shared by estimators
def parabola(x, y):
    """loss = p2 (x - x0)^2 + p1 (x - x0) + p0 by least squares, x0 the mean of x: (coef, x0)."""
    x0 = float(x.mean())
    return np.polyfit(x - x0, y, 2), x0


def parabola_vertex(coef, x0, x, clamp: bool):
    """(x at the minimum, loss there, interior, opens_up) of a parabola fitted over the runs x
    (e.g. log N of an IsoFLOP budget, or log learning rate of a sweep).

    A parabola that opens downward (or is flat) has no minimum: its lowest point among the runs'
    sizes (an end of their range) is used instead. ``clamp`` keeps the vertex within the runs'
    range of x (bootstrap draws: a nearly flat resample cannot send it to infinity); ``interior``
    says whether it needed no clamping."""
    p2, p1, p0 = coef
    if not p2 > 0:
        fitted = np.polyval(coef, x - x0)
        i = int(np.argmin(fitted))
        return float(x[i]), float(fitted[i]), False, False
    xv = x0 - p1 / (2 * p2)
    interior = bool(x.min() <= xv <= x.max())
    if clamp:
        xv = float(np.clip(xv, x.min(), x.max()))
    return float(xv), float(np.polyval(coef, xv - x0)), interior, True


def check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")


def rounded_groups(*keys, digits: int = 6):
    """Distinct combinations of the key columns, each value rounded to ``digits`` significant
    digits (float noise in a CSV must not split a group): a sorted list of (key tuple, run
    indices). The one grouping rule of the estimators (budgets, sizes, horizons)."""
    rounded = [[float(f"{v:.{digits}g}") for v in k] for k in keys]
    combos: dict = {}
    for i, t in enumerate(zip(*rounded)):
        combos.setdefault(t, []).append(i)
    return [(t, np.array(combos[t])) for t in sorted(combos)]
