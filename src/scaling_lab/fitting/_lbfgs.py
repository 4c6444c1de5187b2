"""A batched L-BFGS: many independent small minimisations advanced together in numpy.

Fitting the Chinchilla law from Hoffmann et al.'s grid means 4500 runs of L-BFGS on a 5-parameter
problem. One scipy call per start costs ~10 ms of Python overhead each; here every iteration does
one vectorised objective/gradient evaluation for all still-running starts ("rows") at once, so the
work is a few (rows x points) array passes per iteration. Rows that have converged drop out of the
batch.

The algorithm per row is textbook L-BFGS (Nocedal & Wright, alg. 7.4 and 7.5): two-loop recursion
over the last ``m`` pairs (s, y), initial Hessian scaling gamma = s.y / y.y, a backtracking Armijo
line search starting at step 1 (the first iteration's step is capped at length 1), and pairs with
s.y <= 0 skipped so that the inverse-Hessian estimate stays positive definite.

Stopping rule per row (``converged`` True):  max|g| <= gtol, or the objective decreased by less
than ``ftol * max(|f|, f_floor)`` in an iteration. A row whose line search cannot decrease f any
more (at machine precision) also stops, flagged in ``status`` as 2.
"""

from __future__ import annotations

import numpy as np


def batched_lbfgs(fg, x0, *, m=10, maxiter=1000, gtol=1e-10, ftol=1e-12, f_floor=1e-300, max_ls=40, c1=1e-4):
    """Minimise B independent problems.

    fg:    callable (x (b, p), rows (b,) int) -> (f (b,), g (b, p)); rows index the batch so that the
           objective can differ per row (e.g. bootstrap weights).
    x0:    (B, p) starting points.
    Returns dict with x (B, p), f (B,), g (B, p), n_iter (B,), status (B,) in {0: hit maxiter,
    1: converged, 2: line search stalled}, n_eval (total objective evaluations over rows).
    """
    x = np.array(x0, dtype=float)
    B, p = x.shape
    rows_all = np.arange(B)
    f, g = fg(x, rows_all)
    f, g = f.copy(), g.copy()
    S = np.zeros((B, m, p))  # history pairs, ring buffer over the middle axis
    Y = np.zeros((B, m, p))
    rho = np.zeros((B, m))
    gamma = np.ones(B)
    first = np.ones(B, dtype=bool)
    n_iter = np.zeros(B, dtype=int)
    status = np.zeros(B, dtype=int)
    active = np.abs(g).max(1) > gtol
    status[~active] = 1
    active &= np.isfinite(f)
    n_eval = B
    for it in range(maxiter):
        A = np.flatnonzero(active)
        if A.size == 0:
            break
        xa, fa, ga = x[A], f[A], g[A]
        # two-loop recursion, newest pair first; ring buffer slot of iteration k is k % m
        q = ga.copy()
        SA, YA, rA = S[A], Y[A], rho[A]
        alph = np.zeros((m, A.size))
        order = [(it - 1 - j) % m for j in range(min(it, m))]
        for j in order:
            alph[j] = rA[:, j] * np.einsum("bp,bp->b", SA[:, j], q)
            q -= alph[j][:, None] * YA[:, j]
        r = gamma[A][:, None] * q
        for j in reversed(order):
            beta = rA[:, j] * np.einsum("bp,bp->b", YA[:, j], r)
            r += SA[:, j] * (alph[j] - beta)[:, None]
        d = -r
        gd = np.einsum("bp,bp->b", ga, d)
        bad = ~(gd < 0) | ~np.all(np.isfinite(d), 1)
        if bad.any():  # not a descent direction: fall back to steepest descent
            d[bad] = -ga[bad]
            gd[bad] = -np.einsum("bp,bp->b", ga[bad], ga[bad])
        t = np.ones(A.size)
        fst = first[A]
        if fst.any():
            t[fst] = np.minimum(1.0, 1.0 / np.linalg.norm(d[fst], axis=1))
        # backtracking Armijo line search, only rows still searching are re-evaluated
        xn = np.empty_like(xa)
        fn = np.empty(A.size)
        gn = np.empty_like(ga)
        todo = np.arange(A.size)
        ok = np.zeros(A.size, dtype=bool)
        for _ls in range(max_ls):
            xt = xa[todo] + t[todo, None] * d[todo]
            ft, gt = fg(xt, A[todo])
            n_eval += todo.size
            acc = np.isfinite(ft) & (ft <= fa[todo] + c1 * t[todo] * gd[todo])
            idx = todo[acc]
            xn[idx], fn[idx], gn[idx] = xt[acc], ft[acc], gt[acc]
            ok[idx] = True
            todo = todo[~acc]
            if todo.size == 0:
                break
            t[todo] *= 0.25 if _ls == 0 else 0.5
        stalled = ~ok
        # update history for rows that moved
        mv = np.flatnonzero(ok)
        slot = it % m
        s = xn[mv] - xa[mv]
        yv = gn[mv] - ga[mv]
        sy = np.einsum("bp,bp->b", s, yv)
        yy = np.einsum("bp,bp->b", yv, yv)
        good = (sy > 1e-12 * np.sqrt(yy * np.einsum("bp,bp->b", s, s))) & (yy > 0)
        Am = A[mv]
        S[Am, slot] = np.where(good[:, None], s, 0.0)
        Y[Am, slot] = np.where(good[:, None], yv, 0.0)
        rho[Am, slot] = np.where(good, 1.0 / np.where(good, sy, 1.0), 0.0)
        gamma[Am[good]] = sy[good] / yy[good]
        # rows that did not move keep an empty slot (rho 0 -> the pair is ignored)
        nm = A[~ok]
        S[nm, slot] = 0.0
        Y[nm, slot] = 0.0
        rho[nm, slot] = 0.0
        first[Am] = False
        decrease = fa[mv] - fn[mv]
        x[Am], f[Am], g[Am] = xn[mv], fn[mv], gn[mv]
        n_iter[A] += 1
        conv = (np.abs(gn[mv]).max(1) <= gtol) | (decrease <= ftol * np.maximum(np.abs(fn[mv]), f_floor))
        status[Am[conv]] = 1
        active[Am[conv]] = False
        status[A[stalled]] = 2
        active[A[stalled]] = False
    return {"x": x, "f": f, "g": g, "n_iter": n_iter, "status": status, "n_eval": n_eval}
