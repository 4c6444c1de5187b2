"""The Chinchilla form L(N, D) = E + A/N^alpha + B/D^beta (hoffmann2022 eq. 2), N total
parameters: the published fits (Hoffmann rounded and unrounded, Besiroglu's refit), the
closed-form compute-optimal allocation and its numerical checks."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize_scalar

from .. import published as pub
from .._validate import array, broadcast, number
from ..published import Source
from ._common import Allocation, _out


@dataclass(frozen=True)
class ChinchillaLaw:
    """L(N, D) = E + A / N^alpha + B / D^beta (hoffmann2022 eq. 2), N total parameters.

    With C = 6ND, the loss-minimising allocation is N_opt = G (C/6)^a,
    D_opt = G^-1 (C/6)^b with G = (alpha A / (beta B))^(1/(alpha+beta)),
    a = beta/(alpha+beta), b = alpha/(alpha+beta).
    """

    E: float
    A: float
    B: float
    alpha: float
    beta: float
    name: str = field(default="", compare=False)
    source: Source | None = field(default=None, compare=False)
    fitted_flops: tuple[float, float] | None = field(default=None, compare=False)
    """(lowest, highest) training FLOPs of the runs the law was fitted on, if known."""

    def __post_init__(self):
        number("E", self.E, allow_zero=True)
        for k in ("A", "B", "alpha", "beta"):
            number(k, getattr(self, k))

    # -- constructors
    @classmethod
    def from_fit(cls, fit, name: str = "") -> "ChinchillaLaw":
        """A law from published constants (:class:`published.ChinchillaConstants`, which
        carry their source) or from a fit result (``fitting.fit_chinchilla(...)``: its
        ``params``; a law fitted on your own data has no published source)."""
        if isinstance(fit, pub.ChinchillaConstants):
            return cls(fit.E, fit.A, fit.B, fit.alpha, fit.beta, name=name, source=fit.source,
                       fitted_flops=pub.HOFFMANN2022_FITTED_FLOPS)
        params = getattr(fit, "params", None)
        if not isinstance(params, dict) or not {"E", "A", "B", "alpha", "beta"} <= set(params):
            raise TypeError("from_fit: fit must be published.ChinchillaConstants or a result "
                            f"of fitting.fit_chinchilla (with params E, A, B, alpha, beta); "
                            f"got {type(fit).__name__}")
        return cls(*(params[k] for k in ("E", "A", "B", "alpha", "beta")), name=name or "fit")

    @classmethod
    def hoffmann2022(cls) -> "ChinchillaLaw":
        """Approach 3 as printed (rounded): E 1.69, A 406.4, B 410.7, alpha 0.34, beta 0.28."""
        return cls.from_fit(pub.HOFFMANN2022_APPROACH3, "hoffmann2022")

    @classmethod
    def hoffmann2022_unrounded(cls) -> "ChinchillaLaw":
        """Approach 3 unrounded (from the TeX source)."""
        return cls.from_fit(pub.HOFFMANN2022_APPROACH3_UNROUNDED, "hoffmann2022-unrounded")

    @classmethod
    def besiroglu2024(cls) -> "ChinchillaLaw":
        """Epoch's refit of Approach 3."""
        return cls.from_fit(pub.BESIROGLU2024, "besiroglu2024")

    # -- the law
    def loss(self, N, D):
        N, D = broadcast(N=array("N", N), D=array("D", D))
        return _out(self.E + self.A * N ** (-self.alpha) + self.B * D ** (-self.beta))

    @property
    def G(self) -> float:
        return (self.alpha * self.A / (self.beta * self.B)) ** (1.0 / (self.alpha + self.beta))

    @property
    def a(self) -> float:
        return self.beta / (self.alpha + self.beta)

    @property
    def b(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    def to_dict(self) -> dict:
        """The constants and derived allocation exponents, JSON-friendly."""
        return {"name": self.name, "E": self.E, "A": self.A, "B": self.B, "alpha": self.alpha,
                "beta": self.beta, "a": self.a, "b": self.b, "G": self.G}

    def isoflop(self, C, N):
        """Loss along an IsoFLOP curve: L(N, C / (6N)), C in FLOPs."""
        C, N = broadcast(C=array("C", C), N=array("N", N))
        return self.loss(N, C / (6.0 * N))

    def optimal(self, C) -> Allocation:
        """Closed-form compute-optimal allocation for C FLOPs (vectorised)."""
        C = array("C", C)
        N = self.G * (C / 6.0) ** self.a
        D = (C / 6.0) ** self.b / self.G
        return Allocation(C=_out(C), N_opt=_out(N), D_opt=_out(D),
                          tokens_per_param=_out(D / N), loss=self.loss(N, D))

    def optimal_numeric(self, C) -> Allocation:
        """The same optimum by direct 1-D minimisation over log N (a check on the algebra).

        Minimises log(A N^-alpha + B D^-beta) with D = C / (6N), which is convex in
        log N (a log-sum-exp of affine functions), by bounded Brent over a wide bracket
        that does not use the closed form.
        """
        C = array("C", C)
        flat = C.ravel()
        N = np.empty_like(flat)
        la, lb = math.log(self.A), math.log(self.B)
        for i, c in enumerate(flat):
            lc = math.log(c / 6.0)

            def f(x, lc=lc):
                # log N = x, log D = lc - x
                return np.logaddexp(la - self.alpha * x, lb - self.beta * (lc - x))

            res = minimize_scalar(f, bounds=(-200.0, lc + 200.0), method="bounded",
                                  options={"xatol": 1e-11, "maxiter": 2000})
            N[i] = math.exp(res.x)
        N = N.reshape(C.shape)
        D = C / (6.0 * N)
        return Allocation(C=_out(C), N_opt=_out(N), D_opt=_out(D),
                          tokens_per_param=_out(D / N), loss=self.loss(N, D))

    def optimal_along(self, C, flops_per_token, N_range=(1e3, 1e9), n_grid=4001) -> Allocation:
        """The minimum of L(N, D) along C = flops_per_token(N) D, for each budget in ``C``.

        ``flops_per_token``: FLOPs per token as a vectorised function of N (``lambda N: 6 * N``
        gives :meth:`optimal`; a full count adds attention and the embeddings). The search is a
        log-spaced grid over ``N_range``; a minimum on its edge means the range was too narrow
        (``ValueError``). Fields are arrays, one entry per budget.
        """
        C = np.atleast_1d(array("C", C))
        lo, hi = (float(x) for x in N_range)
        if not 0 < lo < hi:
            raise ValueError(f"N_range must be (low, high) with 0 < low < high; got {N_range!r}")
        N = np.logspace(np.log10(lo), np.log10(hi), int(n_grid))
        D = C[:, None] / np.asarray(flops_per_token(N), float)[None, :]
        L = self.loss(N[None, :], D)
        i = np.argmin(L, axis=1)
        if np.any((i == 0) | (i == len(N) - 1)):
            raise ValueError(f"the optimum lies on the edge of N_range {N_range!r}; widen it")
        rows = np.arange(len(C))
        return Allocation(C=C, N_opt=N[i], D_opt=D[rows, i], tokens_per_param=D[rows, i] / N[i],
                          loss=L[rows, i])

    def compute_multiplier(self, k, C):
        """The compute a model of ``k`` x N_opt(C) needs to reach the optimal loss at C, as a
        multiple of C (6ND FLOPs; ``inf`` where the model is too small ever to reach it).

        With N = k N_opt, the loss L*(C) needs B D^-beta = L*(C) - E - A N^-alpha, so
        D = (B / slack)^(1/beta) and the multiple is 6 N D / C (1 at k = 1, > 1 elsewhere).
        """
        C, k = number("C", C), array("k", k)
        o = self.optimal(C)
        N = k * o.N_opt
        slack = o.loss - self.E - self.A * N ** -self.alpha
        need = np.full(k.shape, np.inf)
        ok = slack > 0
        need[ok] = 6 * N[ok] * (self.B / slack[ok]) ** (1 / self.beta) / C
        return _out(need)

    def compute_optimal_for_loss(self, loss_target: float) -> Allocation:
        """The compute-optimal (N, D, C) that reaches ``loss_target`` (> E).

        At the optimum alpha A N^-alpha = beta B D^-beta, so with R = loss - E:
        N = (A (1 + alpha/beta) / R)^(1/alpha), D = (B (1 + beta/alpha) / R)^(1/beta).
        """
        R = _reducible(self, loss_target)
        N = (self.A * (1 + self.alpha / self.beta) / R) ** (1 / self.alpha)
        D = (self.B * (1 + self.beta / self.alpha) / R) ** (1 / self.beta)
        return Allocation(C=6 * N * D, N_opt=N, D_opt=D, tokens_per_param=D / N,
                          loss=self.loss(N, D))


def _reducible(law: ChinchillaLaw, loss_target) -> float:
    R = number("loss_target", loss_target) - law.E
    if R <= 0:
        raise ValueError(f"loss_target must exceed the law's irreducible loss E = {law.E:.6g}; "
                         f"got {loss_target!r}")
    return R
