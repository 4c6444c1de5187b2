"""Beyond the compute-optimal Chinchilla allocation, each on a :class:`ChinchillaLaw`:
inference-aware allocation (sardana2024), repeated data (muennighoff2023) and the
non-embedding accounting that reconciles Kaplan with Chinchilla (pearce2024)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize_scalar

from .. import published as pub
from .._validate import array, broadcast, chinchilla_like, number
from ..published import Source
from ._common import Allocation, _out
from .chinchilla import ChinchillaLaw, _reducible

# -------------------------------------------------------------- inference-aware (Sardana)

@dataclass(frozen=True)
class InferenceAllocation:
    """Cheapest (N, D) reaching a loss when inference FLOPs count too (sardana2024).

    Total = training 6ND + inference 2N T_inf (T_inf tokens processed at inference).
    ``chinchilla`` is the compute-optimal allocation for the same loss and
    ``chinchilla_total_flops`` its total including the same inference.
    """

    loss: float
    inference_tokens: float
    N: float
    D: float
    training_flops: float
    inference_flops: float
    total_flops: float
    chinchilla: Allocation
    chinchilla_total_flops: float

    @property
    def tokens_per_param(self) -> float:
        return self.D / self.N

    @property
    def savings(self) -> float:
        """Fraction of total FLOPs saved relative to the Chinchilla-optimal model."""
        return 1.0 - self.total_flops / self.chinchilla_total_flops


def inference_optimal(law: ChinchillaLaw, loss_target: float,
                      inference_tokens: float) -> InferenceAllocation:
    """Minimise 6ND + 2N T_inf subject to law.loss(N, D) = loss_target (sardana2024).

    For each N the constraint gives D = (B / (L - E - A N^-alpha))^(1/beta) in closed
    form; the total is convex in log N, minimised by bounded Brent between the smallest
    N that can reach the loss and the Chinchilla-optimal N (T_inf = 0 lands there).
    """
    chinchilla_like(law, needs=("E", "A", "B", "alpha", "beta", "compute_optimal_for_loss"))
    R = _reducible(law, loss_target)
    T = number("inference_tokens", inference_tokens, allow_zero=True)
    chin = law.compute_optimal_for_loss(loss_target)

    def D_of(x: float) -> float:
        slack = R - law.A * math.exp(-law.alpha * x)
        return (law.B / slack) ** (1 / law.beta) if slack > 0 else math.inf

    def log_total(x: float) -> float:
        D = D_of(x)
        return x + math.log(6.0 * D + 2.0 * T) if math.isfinite(D) else 1e300

    x_min = math.log(law.A / R) / law.alpha          # N below which the loss is unreachable
    x_chin = math.log(chin.N_opt)
    if T == 0:
        x = x_chin
    else:
        res = minimize_scalar(log_total, bounds=(x_min, x_chin), method="bounded",
                              options={"xatol": 1e-10, "maxiter": 2000})
        x = res.x
    N, D = math.exp(x), D_of(x)
    train, infer = 6 * N * D, 2 * N * T
    return InferenceAllocation(
        loss=float(loss_target), inference_tokens=T, N=N, D=D, training_flops=train,
        inference_flops=infer, total_flops=train + infer, chinchilla=chin,
        chinchilla_total_flops=chin.C + 2 * chin.N_opt * T)


# ------------------------------------------------------------- data-constrained (Muennighoff)

def _effective(U, X, R_star, U_name, X_name, R_name):
    U, X = broadcast(**{U_name: array(U_name, U), X_name: array(X_name, X)})
    number(R_name, R_star)
    U = np.minimum(U, X)            # fewer than U seen: no repetition, X' = X
    R = X / U - 1.0
    return _out(U + U * R_star * (-np.expm1(-R / R_star)))


def effective_data(U_D, D, R_D_star: float = pub.MUENNIGHOFF2023.R_D_star):
    """Effective tokens D' = U_D + U_D R_D* (1 - exp(-R_D / R_D*)) (muennighoff2023).

    U_D unique tokens, D tokens seen in training, R_D = D / U_D - 1 repetitions
    (0 if D <= U_D, when D' = D). D' rises from U_D to at most U_D (1 + R_D*).
    """
    return _effective(U_D, D, R_D_star, "U_D", "D", "R_D_star")


def effective_params(U_N, N, R_N_star: float = pub.MUENNIGHOFF2023.R_N_star):
    """Effective parameters N' = U_N + U_N R_N* (1 - exp(-R_N / R_N*)) (muennighoff2023).

    U_N base parameters (those the unique data can use), R_N = N / U_N - 1.
    """
    return _effective(U_N, N, R_N_star, "U_N", "N", "R_N_star")


@dataclass(frozen=True)
class DataConstrainedLaw:
    """L = E + A / N'^alpha + B / D'^beta with effective N', D' (muennighoff2023).

    N total parameters, D tokens seen, U_D unique tokens. Unless given, the base
    parameters are U_N = min(N, G (G U_D)^(beta/alpha)): the compute-optimal size for
    U_D tokens under this law's own Chinchilla form.
    """

    E: float
    A: float
    B: float
    alpha: float
    beta: float
    R_D_star: float
    R_N_star: float
    source: Source | None = field(default=None, compare=False)

    def __post_init__(self):
        number("E", self.E, allow_zero=True)
        for k in ("A", "B", "alpha", "beta", "R_D_star", "R_N_star"):
            number(k, getattr(self, k))

    @classmethod
    def from_published(cls) -> "DataConstrainedLaw":
        m = pub.MUENNIGHOFF2023
        return cls(m.E, m.A, m.B, m.alpha, m.beta, m.R_D_star, m.R_N_star, m.source)

    @property
    def base(self) -> ChinchillaLaw:
        """The law without repetition (R_D = R_N = 0)."""
        return ChinchillaLaw(self.E, self.A, self.B, self.alpha, self.beta)

    def base_params(self, U_D):
        """G (G U_D)^(beta/alpha): compute-optimal parameters for U_D tokens."""
        G = self.base.G
        return _out(G * (G * array("U_D", U_D)) ** (self.beta / self.alpha))

    def loss(self, N, D, U_D, U_N=None):
        N, D, U_D = broadcast(N=array("N", N), D=array("D", D), U_D=array("U_D", U_D))
        if U_N is None:
            U_N = np.minimum(N, self.base_params(U_D))
        Np = np.asarray(effective_params(U_N, N, self.R_N_star))
        Dp = np.asarray(effective_data(U_D, D, self.R_D_star))
        return _out(self.E + self.A * Np ** (-self.alpha) + self.B * Dp ** (-self.beta))


# ---------------------------------------------------- non-embedding accounting (Pearce & Song)

@dataclass(frozen=True)
class NonEmbeddingFrontier:
    """A Chinchilla-form law's compute-optimal frontier seen in Kaplan's non-embedding terms.

    For each non-embedding size N_nonemb: total parameters N_total = N + c N^p, the tokens D that
    make it optimal, the non-embedding compute C_nonemb = 6 N_nonemb D, the total compute
    6 N_total D, and ``local_exponent`` = d log N_nonemb,opt / d log C_nonemb.
    """

    N_nonemb: np.ndarray
    N_total: np.ndarray
    D: np.ndarray
    C_nonemb: np.ndarray
    C_total: np.ndarray
    local_exponent: np.ndarray


def nonembedding_frontier(law: ChinchillaLaw, N_nonemb, coefficient: float = pub.PEARCE2024.coefficient,
                          exponent: float = pub.PEARCE2024.exponent) -> NonEmbeddingFrontier:
    """Pearce & Song's (pearce2024) argument in closed form.

    Take the law in *total* parameters, L = E + A/N_T^alpha + B/D^beta, with
    N_T = N + c N^p (N non-embedding), and minimise it at fixed non-embedding compute
    C = 6 N D, as Kaplan et al. did. Setting dL/dN = 0 with D = C / (6N) gives
    beta B D^-beta = alpha A N_T^-(alpha+1) N dN_T/dN, so the optimal D for each N is
    D = (beta B / (alpha A))^(1/beta) N_T^((1+alpha)/beta) (N dN_T/dN)^(-1/beta), and
    C = 6 N D. The local exponent is 1 / (d log C / d log N), computed analytically.
    As N grows the embedding term vanishes and the exponent tends to beta/(alpha+beta) = law.a.
    """
    N = array("N_nonemb", N_nonemb)
    number("coefficient", coefficient, allow_zero=True)
    number("exponent", exponent)
    c, p, al, be = float(coefficient), float(exponent), law.alpha, law.beta
    NT = N + c * N ** p
    NdNT = N + c * p * N ** p                       # N dN_T/dN
    D = (be * law.B / (al * law.A)) ** (1 / be) * NT ** ((1 + al) / be) * NdNT ** (-1 / be)
    # d log C / d log N = 1 + (1+alpha)/beta dlogNT/dlogN - 1/beta dlog(N dNT/dN)/dlogN
    dlogNT = NdNT / NT
    dlogNdNT = (N + c * p * p * N ** p) / NdNT
    g = 1 + (1 + al) / be * dlogNT - dlogNdNT / be
    return NonEmbeddingFrontier(N_nonemb=N, N_total=NT, D=D, C_nonemb=6 * N * D,
                                C_total=6 * NT * D, local_exponent=1 / g)


def nonembedding_optimum(law: ChinchillaLaw, C_nonemb, coefficient: float = pub.PEARCE2024.coefficient,
                         exponent: float = pub.PEARCE2024.exponent) -> np.ndarray:
    """N_nonemb minimising law.loss(N + c N^p, C / (6N)) at fixed non-embedding compute C,
    by bounded 1-D minimisation over log N (a numerical check on :func:`nonembedding_frontier`)."""
    C = array("C_nonemb", C_nonemb)
    out = np.empty(C.size)
    for i, c in enumerate(C.ravel()):
        def f(x, c=c):
            n = math.exp(x)
            return law.loss(n + coefficient * n ** exponent, c / (6 * n))
        hi = math.log(c / 6.0)                      # at least one token per parameter... and D >= 1
        res = minimize_scalar(f, bounds=(0.0, hi), method="bounded", options={"xatol": 1e-10, "maxiter": 5000})
        out[i] = math.exp(res.x)
    return _out(out.reshape(C.shape))
