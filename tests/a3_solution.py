"""Two submissions to assignment A3's world, for the grading tests (tests/test_world.py).

* :func:`solve_true_form`: what a careful student does, through the budget only: sweeps the
  learning rate at three sizes and fits its drift, picks the aspect ratio and batch from small
  sweeps, runs IsoFLOP sweeps with those settings, fits the world's true functional form (a
  Chinchilla law whose model exponent drifts with size) to them, minimises it along the FULL
  FLOP count, and bootstraps a 90 % interval.
* :func:`solve_chinchilla`: Hoffmann et al.'s published constants, no experiment at all.

The master notebook's solution follows the same steps (notebooks/assignments/a3_scaling_project).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares

from scaling_lab.laws import ChinchillaLaw
from scaling_lab.world import D_HEAD, N_CTX, continuous_counts


def _shape_for(N, aspect):
    """A whole shape (n_layer, d_model a multiple of 64) of about N non-embedding parameters
    at about ``aspect`` = d_model / n_layer."""
    d = (N * aspect / 12.0) ** (1 / 3)
    best = None
    for dm in {max(D_HEAD, int(round(d / D_HEAD)) * D_HEAD + k * D_HEAD) for k in (-1, 0, 1)}:
        if dm < D_HEAD:
            continue
        L = max(1, int(round(N / (12.0 * dm * dm))))
        err = abs(np.log(continuous_counts(L, dm)[0] / N)) + 0.2 * abs(np.log(dm / L / aspect))
        if best is None or err < best[0]:
            best = (err, L, dm)
    return best[1], best[2]


def _vertex(x, y):
    """The minimum of a parabola fitted to (x, y): to the loss, not its log (over a wide grid
    whose optimum sits off-centre the log is no parabola and its vertex is biased)."""
    a, b, _ = np.polyfit(x, y, 2)
    return -b / (2 * a) if a > 0 else x[int(np.argmin(y))]


def _run(budget, rows, L, d, tokens, lr, batch):
    r = budget.train(n_layer=int(L), d_model=int(d), tokens=int(tokens), lr=float(lr),
                     batch=int(batch))
    rows.append((L, d, r["N"], r["D"], float(lr), int(batch), r["loss"]))
    return r["loss"]


def sweep_hyperparameters(budget, rows):
    """First estimates of the learning-rate rule, the aspect ratio and the batch rule, from
    small sweeps (their runs are appended to ``rows`` and enter the final fit too)."""
    aspect0, batch0 = 64.0, 64
    lr_grid = 3e-3 * np.logspace(-1.0, 1.0, 7)
    best = []
    for N in (5e5, 2e6, 8e6):
        L, d = _shape_for(N, aspect0)
        Nn = continuous_counts(L, d)[0]
        losses = [_run(budget, rows, L, d, 10 * Nn, lr, batch0) for lr in lr_grid]
        best.append((np.log(Nn), _vertex(np.log(lr_grid), losses)))
    slope, icpt = np.polyfit(*np.array(best).T, 1)
    lr_exp, lr_ref = -slope, float(np.exp(icpt + slope * np.log(1e7)))

    def lr_for(N):
        return lr_ref * (N / 1e7) ** (-lr_exp)

    # shapes of one size (about 5M parameters): across sizes the loss falls with N as well
    shapes = sorted({_shape_for(5e6, a) for a in (4, 8, 16, 32, 64, 128, 256, 512)})
    la, ll = [], []
    for L, d in shapes:
        Nn = continuous_counts(L, d)[0]
        la.append(np.log(d / L))
        ll.append(np.log(_run(budget, rows, L, d, 10 * Nn, lr_for(Nn), batch0)))
    aspect = float(np.clip(np.exp(_vertex(np.array(la), np.exp(ll))), 8.0, 256.0))
    bests = []
    for N in (1e6, 8e6):
        L, d = _shape_for(N, aspect)
        Nn = continuous_counts(L, d)[0]
        b_grid = np.array([8, 16, 32, 64, 128, 256])
        bl = [_run(budget, rows, L, d, 20 * Nn, lr_for(Nn), b) for b in b_grid]
        bests.append((np.log(Nn), _vertex(np.log(b_grid), np.array(bl))))
    b_slope, b_icpt = np.polyfit(*np.array(bests).T, 1)
    b_exp = float(np.clip(b_slope, 0.0, 0.6))
    b_ref = float(np.exp(b_icpt + b_slope * np.log(1e7)))
    init = dict(aspect=aspect, lr_ref=lr_ref, lr_exp=lr_exp, b_ref=b_ref, b_exp=b_exp)
    return init


def isoflop_runs(budget, rows, init, budgets=(3e14, 1e15, 3e15, 1e16, 3e16, 6e16), n=6):
    for C in budgets:
        N0 = np.sqrt(C / (6 * 20)) / 2
        for N in N0 * np.logspace(-1.0, 1.0, n):
            L, d = _shape_for(N, init["aspect"])
            Nn, _, fpt = continuous_counts(L, d)
            batch = max(1, int(round(init["b_ref"] * (Nn / 1e7) ** init["b_exp"])))
            tokens = int(C / fpt)
            if tokens < batch * N_CTX or budget.cost(n_layer=L, d_model=d, tokens=tokens,
                                                     lr=1e-3, batch=batch) > budget.remaining:
                continue
            _run(budget, rows, L, d, tokens, init["lr_ref"] * (Nn / 1e7) ** -init["lr_exp"],
                 batch)


NAMES = ("E", "lA", "alpha", "kappa", "lB", "beta", "l_aspect", "k_shape", "l_lr", "lr_exp",
         "k_lr", "l_batch", "batch_exp", "k_batch")


def full_law(p, L, d, N, D, lr, batch):
    """The world's functional form, every constant free (p in the order of NAMES)."""
    E, lA, alpha, kappa, lB, beta, la, ks, llr, lre, klr, lb, be, kb = p
    ell = np.log(N / 1e7)
    R = np.exp(lA - alpha * np.log(N) - kappa / 2 * ell ** 2) + np.exp(lB - beta * np.log(D))
    P = (ks * (np.log(d / L) - la) ** 2 + klr * (np.log(lr) - llr + lre * ell) ** 2
         + kb * (np.log(batch) - lb - be * ell) ** 2)
    return E + R * (1 + P)


def fit_full(rows, init=None, p0=None):
    X = np.asarray(rows, float).T
    L, d, N, D, lr, batch, loss = X
    if p0 is not None:
        starts = [p0]
    else:
        starts = [np.array([E0, lA, 0.3, ka, lB, 0.3, np.log(init["aspect"]), 0.02,
                            np.log(init["lr_ref"]), init["lr_exp"], 0.08,
                            np.log(init["b_ref"]), init["b_exp"], 0.02])
                  for E0 in (1.5, 2.0, 2.5) for lA in (4.0, 7.0) for lB in (4.0, 7.0)
                  for ka in (-0.01, 0.01)]
    lo = [0, -10, 0, -0.1, -10, 0, 0, 0, -12, -1, 0, -2, -1, 0]
    hi = [5, 30, 1.5, 0.1, 30, 1.5, 7, 1, 0, 2, 2, 8, 2, 1]
    best = None
    for s in starts:
        r = least_squares(lambda p: np.log(full_law(p, L, d, N, D, lr, batch)) - np.log(loss),
                          np.clip(s, lo, hi), bounds=(lo, hi), method="trf")
        if best is None or r.cost < best.cost:
            best = r
    return best.x


def predict(p, C):
    """The minimum of the fitted law along C FULL FLOPs, shape continuous, hyperparameters at
    their fitted optima: (N, D, loss)."""
    from scipy.optimize import minimize

    def f(x):
        d, L = np.exp(x[0]), np.exp(x[0] - x[1])
        Nn, _, fpt = continuous_counts(L, d)
        ell = np.log(Nn / 1e7)
        lr = np.exp(p[8] - p[9] * ell)
        b = np.exp(p[11] + p[12] * ell)
        return float(full_law(p, L, d, Nn, C / fpt, lr, b))

    best = min((minimize(f, [x0, p[6]], method="Nelder-Mead",
                         options={"xatol": 1e-8, "fatol": 1e-12}) for x0 in (6.0, 7.0, 8.0)),
               key=lambda r: r.fun)
    d, L = np.exp(best.x[0]), np.exp(best.x[0] - best.x[1])
    Nn, _, fpt = continuous_counts(L, d)
    return float(Nn), float(C / fpt), float(best.fun)


def solve_true_form(budget, C, n_boot=40, seed=0):
    rows = []
    init = sweep_hyperparameters(budget, rows)
    isoflop_runs(budget, rows, init)
    p = fit_full(rows, init)
    N_pred, D_pred, loss_pred = predict(p, C)
    X = np.asarray(rows, float).T
    fitted = full_law(p, *X[:6])
    resid = np.log(X[6]) - np.log(fitted)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        Xb = X.copy()
        Xb[6] = fitted * np.exp(rng.choice(resid, len(resid)))
        boots.append(predict(fit_full(Xb.T, p0=p), C)[2])
    lo, hi = np.percentile(boots, [5, 95])
    # the bootstrap sees the noise, not the extrapolation: at least +-0.07 nats around it (over
    # 80 worlds this solution's loss missed by an rms 0.021 nats, largest 0.066)
    lo, hi = min(lo, loss_pred - 0.07), max(hi, loss_pred + 0.07)
    return {"N": N_pred, "D": D_pred, "loss": loss_pred, "interval": (float(lo), float(hi)),
            "params": p, "init": init, "rows": rows}


def solve_chinchilla(C):
    o = ChinchillaLaw.hoffmann2022().optimal(C)  # C read as 6ND, N total parameters
    return {"N": o.N_opt, "D": o.D_opt, "loss": o.loss, "interval": (o.loss - 0.05, o.loss + 0.05)}
