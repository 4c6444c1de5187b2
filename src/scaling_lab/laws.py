"""Scaling laws as small frozen objects with a ``loss(...)`` method.

Conventions: N parameters, D tokens, C training FLOPs (C = 6ND unless said otherwise),
L loss in nats per token. Kaplan's laws use *non-embedding* N and PF-days internally;
Chinchilla-form laws (Hoffmann, Besiroglu, Muennighoff) use *total* N. Every ``loss``
accepts scalars or numpy arrays (broadcast together), returns a float for scalar input
and an array otherwise, and raises ``ValueError`` naming the argument for bad input.

Contents
- PowerLaw, SaturatingPowerLaw                 y = A x^-alpha, y = E + A x^-alpha
- KaplanN, KaplanD, KaplanC, KaplanND           Kaplan et al. 2020 (eqs. 1.1-1.3, 1.5)
- critical_batch_size, kaplan_overfitting_tokens Kaplan eqs. 1.4 and 4.4
- AdditiveKM                                   NOT Kaplan: the additive "lecture-notes" form
- KaplanAllocation                             Kaplan Table 6 compute-efficient allocation
- ChinchillaLaw                                E + A/N^alpha + B/D^beta, closed-form optimum
- LAWS, get_law                                registry by name (the CLI uses it)
- inference_optimal                            Sardana et al. 2024 training + inference
- effective_data, effective_params, DataConstrainedLaw   Muennighoff et al. 2023
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize_scalar

from . import published as pub
from .published import PF_DAY, Source

__all__ = [
    "PowerLaw", "SaturatingPowerLaw", "KaplanN", "KaplanD", "KaplanC", "KaplanND",
    "AdditiveKM", "KaplanAllocation", "Allocation", "ChinchillaLaw", "LAWS", "KNOWN_LAWS",
    "get_law", "InferenceAllocation", "inference_optimal", "effective_data",
    "effective_params", "DataConstrainedLaw", "KAPLAN_N", "KAPLAN_D", "KAPLAN_C",
    "KAPLAN_C_NAIVE", "KAPLAN_ND", "KAPLAN_ALLOCATION", "critical_batch_size",
    "kaplan_overfitting_tokens",
]


# ----------------------------------------------------------------------------- checks

def _array(name: str, x, *, allow_zero: bool = False) -> np.ndarray:
    """``x`` as a float array, or a ValueError naming ``name``: positive, finite."""
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or an array of numbers; got {x!r}") from None
    bad = ~np.isfinite(a) | ((a < 0) if allow_zero else (a <= 0))
    if bad.any():
        what = "non-negative" if allow_zero else "positive"
        if a.ndim == 0:
            raise ValueError(f"{name} must be {what} and finite; got {a.item():.10g}")
        i = int(np.flatnonzero(bad.ravel())[0])
        raise ValueError(f"{name} must be {what} and finite; got {a.ravel()[i]:.10g} at index "
                         f"{tuple(int(j) for j in np.unravel_index(i, a.shape)) if a.ndim > 1 else i}")
    return a


def _param(name: str, value, *, allow_zero: bool = False) -> None:
    """Validate one constructor parameter (a positive finite scalar)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number; got {value!r}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        what = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be {what} and finite; got {value!r}")


def _out(y: np.ndarray):
    """A float for 0-d results, the array otherwise."""
    return float(y) if np.ndim(y) == 0 else y


def _broadcast(**arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    try:
        return np.broadcast_arrays(*arrays.values())
    except ValueError:
        shapes = ", ".join(f"{k} {np.shape(v)}" for k, v in arrays.items())
        raise ValueError(f"shapes do not broadcast: {shapes}; pass equal lengths or scalars") from None


# ---------------------------------------------------------------------- simple forms

@dataclass(frozen=True)
class PowerLaw:
    """y = A * x^(-alpha)."""

    A: float
    alpha: float

    def __post_init__(self):
        _param("A", self.A)
        _param("alpha", self.alpha, allow_zero=True)

    def loss(self, x):
        x = _array("x", x)
        return _out(self.A * x ** (-self.alpha))

    __call__ = loss


@dataclass(frozen=True)
class SaturatingPowerLaw:
    """y = E + A * x^(-alpha): a power law approaching the floor E."""

    E: float
    A: float
    alpha: float

    def __post_init__(self):
        _param("E", self.E, allow_zero=True)
        _param("A", self.A)
        _param("alpha", self.alpha, allow_zero=True)

    def loss(self, x):
        x = _array("x", x)
        return _out(self.E + self.A * x ** (-self.alpha))

    __call__ = loss


# ---------------------------------------------------------------------------- Kaplan

@dataclass(frozen=True)
class KaplanN:
    """L(N) = (N_c / N)^alpha_N, N non-embedding parameters (kaplan2020 eq. 1.1).

    For models trained to convergence on enough data."""

    N_c: float
    alpha_N: float
    source: Source | None = field(default=None, compare=False)

    def __post_init__(self):
        _param("N_c", self.N_c)
        _param("alpha_N", self.alpha_N)

    @classmethod
    def from_published(cls) -> "KaplanN":
        k = pub.KAPLAN2020
        return cls(k.N_c, k.alpha_N, k.source)

    def loss(self, N):
        N = _array("N", N)
        return _out((self.N_c / N) ** self.alpha_N)


@dataclass(frozen=True)
class KaplanD:
    """L(D) = (D_c / D)^alpha_D, D tokens, large models with early stopping (eq. 1.2)."""

    D_c: float
    alpha_D: float
    source: Source | None = field(default=None, compare=False)

    def __post_init__(self):
        _param("D_c", self.D_c)
        _param("alpha_D", self.alpha_D)

    @classmethod
    def from_published(cls) -> "KaplanD":
        k = pub.KAPLAN2020
        return cls(k.D_c, k.alpha_D, k.source)

    def loss(self, D):
        D = _array("D", D)
        return _out((self.D_c / D) ** self.alpha_D)


@dataclass(frozen=True)
class KaplanC:
    """L(C) = (C_c / C)^alpha_C with C_c in PF-days; ``loss`` takes C in FLOPs.

    ``from_published(minimal=True)`` is eq. 1.3 (C_min, compute-efficient frontier,
    alpha 0.050, C_c 3.1e8 PF-days); ``minimal=False`` the naive fixed-batch fit
    (alpha 0.057, C_c 1.6e7 PF-days). C is Kaplan's non-embedding compute 6NBS.
    """

    C_c_pf_days: float
    alpha_C: float
    source: Source | None = field(default=None, compare=False)

    def __post_init__(self):
        _param("C_c_pf_days", self.C_c_pf_days)
        _param("alpha_C", self.alpha_C)

    @classmethod
    def from_published(cls, minimal: bool = True) -> "KaplanC":
        k = pub.KAPLAN2020
        if minimal:
            return cls(k.C_c_min, k.alpha_C_min, k.source)
        return cls(k.C_c, k.alpha_C, k.source)

    def loss(self, C):
        C = _array("C", C)
        return _out((self.C_c_pf_days / (C / PF_DAY)) ** self.alpha_C)


@dataclass(frozen=True)
class KaplanND:
    """Kaplan eq. 1.5: L(N, D) = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D.

    N non-embedding parameters, D tokens. Tends to L(N) as D -> inf and to
    (D_c/D)^alpha_D as N -> inf, and is never below either limit.
    """

    N_c: float
    D_c: float
    alpha_N: float
    alpha_D: float
    source: Source | None = field(default=None, compare=False)

    def __post_init__(self):
        for k in ("N_c", "D_c", "alpha_N", "alpha_D"):
            _param(k, getattr(self, k))

    @classmethod
    def from_published(cls) -> "KaplanND":
        k = pub.KAPLAN2020_ND
        return cls(k.N_c, k.D_c, k.alpha_N, k.alpha_D, k.source)

    def loss(self, N, D):
        N, D = _broadcast(N=_array("N", N), D=_array("D", D))
        return _out(((self.N_c / N) ** (self.alpha_N / self.alpha_D) + self.D_c / D)
                    ** self.alpha_D)

    def loss_N_limit(self, N):
        """The D -> infinity limit (N_c/N)^alpha_N."""
        return _out((self.N_c / _array("N", N)) ** self.alpha_N)

    def loss_D_limit(self, D):
        """The N -> infinity limit (D_c/D)^alpha_D."""
        return _out((self.D_c / _array("D", D)) ** self.alpha_D)

    def overfit_penalty(self, N, D):
        """delta L = L(N, D) / L(N, infinity) - 1 = [1 + (N/N_c)^(alpha_N/alpha_D) D_c/D]^alpha_D - 1.

        The fractional excess loss from finite data (kaplan2020 Section 4.2)."""
        N, D = _broadcast(N=_array("N", N), D=_array("D", D))
        return _out((1.0 + (N / self.N_c) ** (self.alpha_N / self.alpha_D) * self.D_c / D)
                    ** self.alpha_D - 1.0)

    def min_tokens(self, N, delta_L: float = pub.KAPLAN2020_OVERFITTING.delta_L):
        """The D at which ``overfit_penalty(N, D) == delta_L`` (solved in closed form).

        D = D_c (N/N_c)^(alpha_N/alpha_D) / ((1 + delta_L)^(1/alpha_D) - 1): a power law
        in N with exponent alpha_N/alpha_D, the origin of Kaplan's eq. 4.4."""
        _param("delta_L", delta_L)
        N = _array("N", N)
        return _out(self.D_c * (N / self.N_c) ** (self.alpha_N / self.alpha_D)
                    / ((1.0 + delta_L) ** (1.0 / self.alpha_D) - 1.0))


def kaplan_overfitting_tokens(N):
    """Kaplan eq. 4.4 as printed: D ~ 5e3 * N^0.74 tokens (N non-embedding parameters)."""
    r = pub.KAPLAN2020_OVERFITTING
    return _out(r.coefficient * _array("N", N) ** r.exponent)


def critical_batch_size(loss, B_star: float = pub.KAPLAN2020.B_star,
                        alpha_B: float = pub.KAPLAN2020.alpha_B):
    """Kaplan eq. 1.4: B_crit(L) = B_* / L^(1/alpha_B), in tokens, L in nats per token.

    The batch size that balances time and compute (kaplan2020 Section 5.1); defaults are
    Table 5's B_* = 2.1e8 tokens and alpha_B = 0.21."""
    _param("B_star", B_star)
    _param("alpha_B", alpha_B)
    L = _array("loss", loss)
    return _out(B_star / L ** (1.0 / alpha_B))


@dataclass(frozen=True)
class AdditiveKM:
    """(N_c/N)^alpha_N + (D_c/D)^alpha_D: a "lecture-notes" form. NOT Kaplan's eq. 1.5.

    Often quoted as Kaplan's joint law, it is not what the paper fits; a chapter
    compares the two. ``from_published("table5")`` plugs in the single-variable
    constants of Table 5, ``"eq1.5"`` the joint-fit constants of Table 2.
    """

    N_c: float
    D_c: float
    alpha_N: float
    alpha_D: float

    def __post_init__(self):
        for k in ("N_c", "D_c", "alpha_N", "alpha_D"):
            _param(k, getattr(self, k))

    @classmethod
    def from_published(cls, constants: str = "table5") -> "AdditiveKM":
        if constants == "table5":
            k = pub.KAPLAN2020
            return cls(k.N_c, k.D_c, k.alpha_N, k.alpha_D)
        if constants == "eq1.5":
            j = pub.KAPLAN2020_ND
            return cls(j.N_c, j.D_c, j.alpha_N, j.alpha_D)
        raise ValueError(f"constants must be 'table5' or 'eq1.5'; got {constants!r}")

    def loss(self, N, D):
        N, D = _broadcast(N=_array("N", N), D=_array("D", D))
        return _out((self.N_c / N) ** self.alpha_N + (self.D_c / D) ** self.alpha_D)


# ---------------------------------------------------------------------- allocations

@dataclass(frozen=True)
class Allocation:
    """A compute-optimal allocation for budget(s) C (FLOPs).

    N_opt parameters, D_opt tokens, tokens_per_param = D_opt / N_opt, predicted loss.
    Fields are floats for a scalar C and arrays otherwise.
    """

    C: float | np.ndarray
    N_opt: float | np.ndarray
    D_opt: float | np.ndarray
    tokens_per_param: float | np.ndarray
    loss: float | np.ndarray

    def to_dict(self) -> dict:
        """JSON-friendly: floats or lists of floats."""
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class KaplanAllocation:
    """Kaplan Table 6: N_opt = 1.3e9 C^0.73, D_opt = 2e10 C^0.27, C = C_min in PF-days.

    The API takes C in FLOPs and converts with 1 PF-day = 8.64e19 FLOPs. N_opt counts
    non-embedding parameters. The loss is L(C_min) = (3.1e8 / C)^0.050 (eq. 1.3). Note
    N_opt * D_opt = 2.6e19 C_pf ~ 0.30 C, not C/6: the fits are separate power laws.
    """

    fit: pub.KaplanAllocationFit = pub.KAPLAN2020_ALLOCATION
    loss_law: KaplanC = field(default_factory=KaplanC.from_published)
    name: str = "kaplan2020"

    @classmethod
    def from_published(cls) -> "KaplanAllocation":
        return cls()

    @property
    def source(self) -> Source:
        return self.fit.source

    def _pf(self, C) -> np.ndarray:
        return _array("C", C) / PF_DAY

    def N_opt(self, C):
        """Non-embedding parameters, C in FLOPs."""
        return _out(self.fit.N_e * self._pf(C) ** self.fit.p_N)

    def D_opt(self, C):
        """Tokens, C in FLOPs."""
        return _out(self.fit.D_e * self._pf(C) ** self.fit.p_D)

    def batch_size(self, C):
        """Batch size in tokens, C in FLOPs."""
        return _out(self.fit.B_e * self._pf(C) ** self.fit.p_B)

    def steps(self, C):
        """Minimum number of optimisation steps, C in FLOPs."""
        return _out(self.fit.S_e * self._pf(C) ** self.fit.p_S)

    def optimal(self, C) -> Allocation:
        C_arr = _array("C", C)
        N, D = self.N_opt(C_arr), self.D_opt(C_arr)
        return Allocation(C=_out(C_arr), N_opt=N, D_opt=D, tokens_per_param=_out(np.asarray(D) / N),
                          loss=self.loss_law.loss(C_arr))


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
        _param("E", self.E, allow_zero=True)
        for k in ("A", "B", "alpha", "beta"):
            _param(k, getattr(self, k))

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
        N, D = _broadcast(N=_array("N", N), D=_array("D", D))
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
        C, N = _broadcast(C=_array("C", C), N=_array("N", N))
        return self.loss(N, C / (6.0 * N))

    def optimal(self, C) -> Allocation:
        """Closed-form compute-optimal allocation for C FLOPs (vectorised)."""
        C = _array("C", C)
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
        C = _array("C", C)
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
        C = np.atleast_1d(_array("C", C))
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
        _param("C", C)
        C, k = float(C), _array("k", k)
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
    _param("loss_target", loss_target)
    R = float(loss_target) - law.E
    if R <= 0:
        raise ValueError(f"loss_target must exceed the law's irreducible loss E = {law.E:.6g}; "
                         f"got {loss_target!r}")
    return R


# --------------------------------------------------------------------------- registry

LAWS: dict[str, ChinchillaLaw] = {
    "hoffmann2022": ChinchillaLaw.hoffmann2022(),
    "hoffmann2022-unrounded": ChinchillaLaw.hoffmann2022_unrounded(),
    "besiroglu2024": ChinchillaLaw.besiroglu2024(),
}
"""Chinchilla-form laws by name. ``get_law`` also resolves ``"kaplan2020"``."""

KNOWN_LAWS = (*LAWS, "kaplan2020")


def get_law(name: str) -> ChinchillaLaw | KaplanAllocation:
    """A law by name; each has ``optimal(C)`` returning an :class:`Allocation`."""
    if name == "kaplan2020":
        return KaplanAllocation.from_published()
    if name in LAWS:
        return LAWS[name]
    raise ValueError(f"unknown law {name!r}; known laws: {', '.join(KNOWN_LAWS)} "
                     "(or a FIT.json from `scaling-lab fit` on the command line)")


KAPLAN_N = KaplanN.from_published()
KAPLAN_D = KaplanD.from_published()
KAPLAN_C = KaplanC.from_published(minimal=True)
KAPLAN_C_NAIVE = KaplanC.from_published(minimal=False)
KAPLAN_ND = KaplanND.from_published()
KAPLAN_ALLOCATION = KaplanAllocation.from_published()


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
    if not isinstance(law, ChinchillaLaw):
        raise ValueError(f"law must be a ChinchillaLaw (E + A/N^alpha + B/D^beta); "
                         f"got {type(law).__name__}")
    R = _reducible(law, loss_target)
    _param("inference_tokens", inference_tokens, allow_zero=True)
    T = float(inference_tokens)
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
    U, X = _broadcast(**{U_name: _array(U_name, U), X_name: _array(X_name, X)})
    _param(R_name, R_star)
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
        _param("E", self.E, allow_zero=True)
        for k in ("A", "B", "alpha", "beta", "R_D_star", "R_N_star"):
            _param(k, getattr(self, k))

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
        return _out(G * (G * _array("U_D", U_D)) ** (self.beta / self.alpha))

    def loss(self, N, D, U_D, U_N=None):
        N, D, U_D = _broadcast(N=_array("N", N), D=_array("D", D), U_D=_array("U_D", U_D))
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
    N = _array("N_nonemb", N_nonemb)
    _param("coefficient", coefficient, allow_zero=True)
    _param("exponent", exponent)
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
    C = _array("C_nonemb", C_nonemb)
    out = np.empty(C.size)
    for i, c in enumerate(C.ravel()):
        def f(x, c=c):
            n = math.exp(x)
            return law.loss(n + coefficient * n ** exponent, c / (6 * n))
        hi = math.log(c / 6.0)                      # at least one token per parameter... and D >= 1
        res = minimize_scalar(f, bounds=(0.0, hi), method="bounded", options={"xatol": 1e-10, "maxiter": 5000})
        out[i] = math.exp(res.x)
    return _out(out.reshape(C.shape))
