"""Hyperparameters across scale: the best peak learning rate of each size, and its power law.

A learning-rate sweep trains every size at several log-spaced peak learning rates (``lab.plans.
lr_plan``). Per size (and per horizon, the tokens a run is trained for):

* :func:`lr_optima` finds the best swept rate and reads the optimum eta* off a parabola in
  log(lr) through it and its two neighbours (the lowest point of the local valley, between the
  neighbours). ``inside`` says whether the best rate has a neighbour on each side: a best rate at
  the edge of the sweep means the optimum may lie beyond it, so its eta* is an extrapolation.
* :func:`fit_lr_law` fits eta*(x) = c x^-k in log space through the sizes whose best rate is
  inside (edges are reported and left out unless ``edges="keep"``, as in ``fit_isoflop``), x a
  size measure (parameters N, or compute C), with a bootstrap interval: resample the runs within
  each size, refind each size's vertex, refit the line; percentile interval.
* :func:`lr_shift` compares two horizons: eta*(long) / eta*(short), the geometric mean over the
  sizes inside at both, and the slope d log eta* / d log tokens, with the same bootstrap.

Every input is one value per run: a size measure, the peak learning rate, the final loss (and the
horizon for :func:`lr_optima` / :func:`lr_shift`). Runs that share a size measure (to 6
significant digits) are one size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._common import check_choice as _check_choice
from ._common import parabola, parabola_vertex
from ._common import rounded_groups as _groups
from ._common import (
    FitResult,
    _bootstrap_summary,
    _check_bootstrap,
    _check_finite,
    _check_lengths,
    _check_level,
    _check_positive_finite,
)
from .power import _ols_loglog

EDGES = ("exclude", "keep")
LAW_NAMES = ["k", "c"]
SHIFT_NAMES = ["ratio", "slope"]




def _vertex(llr, loss):
    """(log eta*, loss at it, inside, opens_up, best lr index, distinct lrs) for one size's runs.

    The best swept rate is the one with the lowest mean loss; the parabola is fitted (least
    squares, all runs at those rates) through it and its neighbours, or through the three rates
    at the sweep's end when the best is on an edge (then ``inside`` is False). The vertex is kept
    between the outer two of the three rates; a parabola that does not open upwards (a tie or a
    flat stretch) gives its lowest point among the three rates (``fitting._common.parabola_vertex``,
    the IsoFLOP estimator's rule)."""
    u = np.unique(llr)
    means = np.array([loss[llr == v].mean() for v in u])
    j = int(np.argmin(means))
    inside = 0 < j < u.size - 1
    lo = min(max(j - 1, 0), u.size - 3)
    win = u[lo:lo + 3]
    sel = (llr >= win[0]) & (llr <= win[-1])
    coef, x0 = parabola(llr[sel], loss[sel])
    xv, lv, _, up = parabola_vertex(coef, x0, win, clamp=True)
    return xv, lv, inside, up, j, u


def _check_runs(x_name, x, lr, loss, horizon=None):
    x = _check_positive_finite(x_name, x)
    lr = _check_positive_finite("lr", lr)
    loss = _check_finite("loss", loss)
    cols = {x_name: x, "lr": lr, "loss": loss}
    if horizon is not None:
        horizon = _check_positive_finite("horizon", horizon)
        cols["horizon"] = horizon
    _check_lengths(**cols)
    return x, lr, loss, horizon




def lr_optima(x, lr, loss, horizon=None, *, x_name: str = "N") -> list[dict]:
    """Per size (and horizon): the optimum peak learning rate of a sweep.

    x:       a size measure per run (parameters, FLOPs per token, ...): runs with the same x are
             one size; lr: the run's peak learning rate; loss: its final loss; horizon
             (optional): the tokens it was trained for, so that each horizon has its own optima.
    Returns a list of dicts, sorted by (horizon, x): ``x``, ``horizon`` (None without one),
    ``lr_opt`` (eta*, the local parabola's vertex), ``loss_opt``, ``lr_best`` (the best swept
    rate), ``inside`` (the best rate has a swept neighbour on each side), ``opens_up``,
    ``n_lrs`` (distinct rates), ``n_runs``, ``lr_range`` (the smallest and largest swept rate).

    A size with fewer than 3 distinct rates is a ValueError: a parabola needs three.
    """
    x, lr, loss, horizon = _check_runs(x_name, x, lr, loss, horizon)
    keys = (x,) if horizon is None else (horizon, x)
    out = []
    for key, idx in _groups(*keys):
        n_lr = np.unique(lr[idx]).size
        where = f"{x_name}={key[-1]:.6g}" + ("" if horizon is None else f", horizon={key[0]:.6g}")
        if n_lr < 3:
            raise ValueError(f"{where} has {n_lr} distinct learning rate(s) in lr; the optimum "
                             f"needs at least 3 (sweep at least 4 log-spaced rates per size, "
                             f"e.g. with lab.plans.lr_plan)")
        xv, lv, inside, up, j, u = _vertex(np.log(lr[idx]), loss[idx])
        out.append({
            "x": float(key[-1]), "horizon": None if horizon is None else float(key[0]),
            "lr_opt": float(np.exp(xv)), "loss_opt": lv, "lr_best": float(np.exp(u[j])),
            "inside": bool(inside), "opens_up": bool(up), "n_lrs": int(n_lr),
            "n_runs": int(len(idx)), "lr_range": (float(np.exp(u[0])), float(np.exp(u[-1]))),
        })
    return out


def _draw_vertices(rng, llr, loss, groups):
    """log eta* of each group for one bootstrap draw (runs resampled within each group), or None
    if a resample leaves a group with fewer than 3 distinct rates."""
    out = []
    for idx in groups:
        r = idx[rng.integers(0, len(idx), len(idx))]
        if np.unique(llr[r]).size < 3:
            return None
        out.append(_vertex(llr[r], loss[r])[0])
    return np.array(out)


@dataclass(frozen=True, kw_only=True, repr=False)
class LRLawFit(FitResult):
    """eta*(x) = c x^-k: the optimum peak learning rate against a size measure x.

    ``params``: k (the exponent: eta* falls as x^-k for k > 0) and c. Per size: ``x``,
    ``lr_opt`` (eta*), ``inside`` (best swept rate not on an edge), ``used`` (in the fit of k
    and c) and ``optima`` (the dicts of :func:`lr_optima`). ``residuals`` are log eta* of the
    sizes used minus the fitted line. ``x_name`` says what x is ("N", "C", ...).
    """

    x: np.ndarray | None = None
    lr_opt: np.ndarray | None = None
    inside: np.ndarray | None = None
    used: np.ndarray | None = None
    optima: list = field(default_factory=list)
    x_name: str = "N"
    edges: str = "exclude"

    def predict(self, x):
        """eta* at size measure(s) x."""
        return self.params["c"] * np.asarray(x, dtype=float) ** -self.params["k"]

    def interval(self, x):
        """Percentile interval of eta* at x from the bootstrap draws, or None without them."""
        if self.bootstrap is None:
            return None
        d = self.bootstrap[np.all(np.isfinite(self.bootstrap), axis=1)]
        if len(d) < 2:
            return None
        v = d[:, 1] * float(x) ** -d[:, 0]
        q = 100 * np.array([(1 - self.ci_level) / 2, (1 + self.ci_level) / 2])
        return tuple(float(t) for t in np.percentile(v, q))

    def _title(self):
        return f"eta*({self.x_name}) = c {self.x_name}^-k (optimum peak learning rate)"

    def _extra_dict(self):
        return {"x_name": self.x_name, "edges": self.edges, "optima": self.optima,
                "used": self.used}

    def _extra_summary(self):
        lines = [f"  {self.x_name:>12} {'eta*':>10} {'best swept':>10} {'inside':>7} {'used':>5}"]
        for o, u in zip(self.optima, self.used):
            lines.append(f"  {o['x']:>12.4g} {o['lr_opt']:>10.3g} {o['lr_best']:>10.3g} "
                         f"{str(o['inside']):>7} {str(bool(u)):>5}")
        return lines


def fit_lr_law(x, lr, loss, *, x_name: str = "N", edges: str = "exclude", bootstrap: int = 1000,
               seed: int = 0, ci_level: float = 0.95) -> LRLawFit:
    """The optimum peak learning rate of each size, then eta*(x) = c x^-k.

    x, lr, loss: one value per run, one horizon (pass the runs of one horizon; :func:`lr_shift`
                 compares two). Each size needs at least 3 distinct rates.
    edges:       "exclude" (default): sizes whose best swept rate is the smallest or largest are
                 reported (``inside``, ``message``) and left out of the fit; "keep" uses their
                 (clamped) vertices too.
    bootstrap:   refits for se and a percentile interval of k and c: each draw resamples the runs
                 within each size (with replacement), refinds its vertex and refits the line.
                 Draws that leave a size with fewer than 3 distinct rates are dropped (counted in
                 ``diagnostics``); with one run per rate that is about a third of them per size.
                 Sizes left out of the fit stay out.

    Needs at least 2 sizes in the fit (3 for an asymptotic se). ``ValueError`` names what is
    missing.
    """
    _check_choice("edges", edges, EDGES)
    ci_level = _check_level(ci_level)
    opt = lr_optima(x, lr, loss, x_name=x_name)
    x, lr, loss, _ = _check_runs(x_name, x, lr, loss)
    K = _check_bootstrap(bootstrap, len(x))
    xs = np.array([o["x"] for o in opt])
    eta = np.array([o["lr_opt"] for o in opt])
    inside = np.array([o["inside"] for o in opt])
    used = inside if edges == "exclude" else np.ones_like(inside)
    if used.sum() < 2:
        raise ValueError(
            f"fit_lr_law needs at least 2 sizes whose best learning rate is inside the sweep; "
            f"{int(used.sum())} of {len(opt)} are (the others are best at the smallest or "
            f"largest rate swept: extend their sweep past that edge, or pass edges='keep')")
    (lc, k), r, cov = _ols_loglog(np.log(xs[used]), np.log(eta[used]))
    params = {"k": float(k), "c": float(np.exp(lc))}
    with np.errstate(invalid="ignore"):
        se = {"k": float(np.sqrt(cov[1, 1])), "c": float(params["c"] * np.sqrt(cov[0, 0]))}
    msg = f"{int(used.sum())} of {len(opt)} sizes in the fit"
    edge = [o["x"] for o, i in zip(opt, inside) if not i]
    if edge:
        how = "left out" if edges == "exclude" else "kept (extrapolated vertices)"
        msg += f"; best rate on the sweep's edge at {x_name} = " + ", ".join(
            f"{v:.4g}" for v in edge) + f" ({how})"
    ci, draws, n_ok = None, None, 0
    if K:
        rng = np.random.default_rng(seed)
        llr = np.log(lr)
        groups = [idx for _, idx in _groups(x)]
        groups = [g for g, u in zip(groups, used) if u]
        lx = np.log(xs[used])
        draws = np.full((K, 2), np.nan)
        for b in range(K):
            v = _draw_vertices(rng, llr, loss, groups)
            if v is None:
                continue
            (lcb, kb), _, _ = _ols_loglog(lx, v)
            draws[b] = [kb, np.exp(lcb)]
        se_b, ci = _bootstrap_summary(draws, LAW_NAMES, ci_level)
        n_ok = int(np.all(np.isfinite(draws), 1).sum())
        if se_b is not None:
            se = se_b
        msg += f"; se and ci from {n_ok} of {K} bootstrap refits (runs resampled within sizes)"
    return LRLawFit(
        params=params, se=se, ci=ci, ci_level=ci_level, bootstrap=draws, converged=True,
        n_iter=0, objective=float(r @ r), residuals=-r, message=msg,
        diagnostics={"inside": inside.tolist(), "n_bootstrap_ok": n_ok,
                     "se_asymptotic": {"k": float(np.sqrt(cov[1, 1]))}},
        x=xs, lr_opt=eta, inside=inside, used=used, optima=opt, x_name=x_name, edges=edges)


@dataclass(frozen=True, kw_only=True, repr=False)
class LRShift(FitResult):
    """How eta* moves with the horizon: ``params`` ratio = eta*(long) / eta*(short) (geometric
    mean over the sizes inside at both horizons) and slope = log(ratio) / log(long / short), the
    exponent of eta* in the tokens trained. ``per_size`` lists each size's two optima and ratio.
    """

    short: float = 0.0
    long: float = 0.0
    per_size: list = field(default_factory=list)

    def predict(self, tokens):
        """eta*(tokens) / eta*(short) implied by the slope."""
        return (np.asarray(tokens, dtype=float) / self.short) ** self.params["slope"]

    def _title(self):
        return f"eta* at {self.long:.4g} tokens over eta* at {self.short:.4g} tokens"

    def _extra_dict(self):
        return {"short": self.short, "long": self.long, "per_size": self.per_size}


def lr_shift(x, lr, loss, horizon, *, short=None, long=None, x_name: str = "N",
             edges: str = "exclude", bootstrap: int = 1000, seed: int = 0,
             ci_level: float = 0.95) -> LRShift:
    """The shift of the optimum peak learning rate between two horizons (tokens trained).

    ``short`` and ``long`` default to the smallest and largest horizon among the runs. Sizes whose
    best swept rate is on an edge at either horizon are left out (``edges="keep"`` uses them).
    The bootstrap resamples runs within each (size, horizon) and refinds both vertices.
    """
    _check_choice("edges", edges, EDGES)
    ci_level = _check_level(ci_level)
    opt = lr_optima(x, lr, loss, horizon, x_name=x_name)
    x, lr, loss, horizon = _check_runs(x_name, x, lr, loss, horizon)
    K = _check_bootstrap(bootstrap, len(x))
    hs = sorted({o["horizon"] for o in opt})
    if len(hs) < 2:
        raise ValueError(f"horizon has {len(hs)} distinct value(s); lr_shift compares two "
                         f"(train each size's sweep at two token counts, e.g. WSD branches)")
    short = hs[0] if short is None else float(f"{float(short):.6g}")
    long = hs[-1] if long is None else float(f"{float(long):.6g}")
    for name, h in (("short", short), ("long", long)):
        if h not in hs:
            raise ValueError(f"{name}={h:.6g} is not among the runs' horizons "
                             f"{', '.join(f'{v:.6g}' for v in hs)}")
    if not long > short:
        raise ValueError(f"long ({long:.6g}) must be a larger horizon than short ({short:.6g})")
    at = {(o["horizon"], o["x"]): o for o in opt}
    sizes = sorted({o["x"] for o in opt if (short, o["x"]) in at and (long, o["x"]) in at})
    per, used = [], []
    for s in sizes:
        a, b = at[(short, s)], at[(long, s)]
        ok = (a["inside"] and b["inside"]) or edges == "keep"
        per.append({"x": s, "lr_opt_short": a["lr_opt"], "lr_opt_long": b["lr_opt"],
                    "ratio": b["lr_opt"] / a["lr_opt"], "inside": a["inside"] and b["inside"],
                    "used": bool(ok)})
        if ok:
            used.append(s)
    if not used:
        raise ValueError("no size has its best learning rate inside the sweep at both horizons; "
                         "extend the sweep past its edge, or pass edges='keep'")
    lt = np.log(long / short)
    lrat = np.mean([np.log(p["ratio"]) for p in per if p["used"]])
    params = {"ratio": float(np.exp(lrat)), "slope": float(lrat / lt)}
    se, ci, draws, n_ok = None, None, None, 0
    if K:
        rng = np.random.default_rng(seed)
        llr = np.log(lr)
        gi = {key: idx for key, idx in _groups(horizon, x)}
        gs = [gi[(short, s)] for s in used]
        gl = [gi[(long, s)] for s in used]
        draws = np.full((K, 2), np.nan)
        for b in range(K):
            vs = _draw_vertices(rng, llr, loss, gs)
            vl = _draw_vertices(rng, llr, loss, gl)
            if vs is None or vl is None:
                continue
            m = float(np.mean(vl - vs))
            draws[b] = [np.exp(m), m / lt]
        se, ci = _bootstrap_summary(draws, SHIFT_NAMES, ci_level)
        n_ok = int(np.all(np.isfinite(draws), 1).sum())
    msg = (f"{len(used)} of {len(sizes)} sizes inside at both horizons"
           + (f"; ci from {n_ok} of {K} bootstrap draws" if K else ""))
    return LRShift(
        params=params, se=se, ci=ci, ci_level=ci_level, bootstrap=draws, converged=True,
        n_iter=0, residuals=np.array([np.log(p["ratio"]) - lrat for p in per if p["used"]]),
        message=msg, diagnostics={"n_bootstrap_ok": n_ok}, short=short, long=long,
        per_size=per)
