"""Kaplan et al. 2020 (kaplan2020): single-variable laws in non-embedding N, D and C (eqs.
1.1-1.3), the joint law L(N, D) (eq. 1.5), the overfitting rule (eq. 4.4), the critical batch
size (eq. 1.4), the compute-efficient allocation (Table 6), and the additive form often
misquoted as Kaplan's (``AdditiveKM``). C is in FLOPs at the API, PF-days inside."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import published as pub
from .._validate import array, broadcast, number
from ..published import PF_DAY, Source
from ._common import Allocation, _out


@dataclass(frozen=True)
class KaplanN:
    """L(N) = (N_c / N)^alpha_N, N non-embedding parameters (kaplan2020 eq. 1.1).

    For models trained to convergence on enough data."""

    N_c: float
    alpha_N: float
    source: Source | None = field(default=None, compare=False)

    def __post_init__(self):
        number("N_c", self.N_c)
        number("alpha_N", self.alpha_N)

    @classmethod
    def from_published(cls) -> "KaplanN":
        k = pub.KAPLAN2020
        return cls(k.N_c, k.alpha_N, k.source)

    def loss(self, N):
        N = array("N", N)
        return _out((self.N_c / N) ** self.alpha_N)


@dataclass(frozen=True)
class KaplanD:
    """L(D) = (D_c / D)^alpha_D, D tokens, large models with early stopping (eq. 1.2)."""

    D_c: float
    alpha_D: float
    source: Source | None = field(default=None, compare=False)

    def __post_init__(self):
        number("D_c", self.D_c)
        number("alpha_D", self.alpha_D)

    @classmethod
    def from_published(cls) -> "KaplanD":
        k = pub.KAPLAN2020
        return cls(k.D_c, k.alpha_D, k.source)

    def loss(self, D):
        D = array("D", D)
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
        number("C_c_pf_days", self.C_c_pf_days)
        number("alpha_C", self.alpha_C)

    @classmethod
    def from_published(cls, minimal: bool = True) -> "KaplanC":
        k = pub.KAPLAN2020
        if minimal:
            return cls(k.C_c_min, k.alpha_C_min, k.source)
        return cls(k.C_c, k.alpha_C, k.source)

    def loss(self, C):
        C = array("C", C)
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
            number(k, getattr(self, k))

    @classmethod
    def from_published(cls) -> "KaplanND":
        k = pub.KAPLAN2020_ND
        return cls(k.N_c, k.D_c, k.alpha_N, k.alpha_D, k.source)

    def loss(self, N, D):
        N, D = broadcast(N=array("N", N), D=array("D", D))
        return _out(((self.N_c / N) ** (self.alpha_N / self.alpha_D) + self.D_c / D)
                    ** self.alpha_D)

    def loss_N_limit(self, N):
        """The D -> infinity limit (N_c/N)^alpha_N."""
        return _out((self.N_c / array("N", N)) ** self.alpha_N)

    def loss_D_limit(self, D):
        """The N -> infinity limit (D_c/D)^alpha_D."""
        return _out((self.D_c / array("D", D)) ** self.alpha_D)

    def overfit_penalty(self, N, D):
        """delta L = L(N, D) / L(N, infinity) - 1 = [1 + (N/N_c)^(alpha_N/alpha_D) D_c/D]^alpha_D - 1.

        The fractional excess loss from finite data (kaplan2020 Section 4.2)."""
        N, D = broadcast(N=array("N", N), D=array("D", D))
        return _out((1.0 + (N / self.N_c) ** (self.alpha_N / self.alpha_D) * self.D_c / D)
                    ** self.alpha_D - 1.0)

    def min_tokens(self, N, delta_L: float = pub.KAPLAN2020_OVERFITTING.delta_L):
        """The D at which ``overfit_penalty(N, D) == delta_L`` (solved in closed form).

        D = D_c (N/N_c)^(alpha_N/alpha_D) / ((1 + delta_L)^(1/alpha_D) - 1): a power law
        in N with exponent alpha_N/alpha_D, the origin of Kaplan's eq. 4.4."""
        number("delta_L", delta_L)
        N = array("N", N)
        return _out(self.D_c * (N / self.N_c) ** (self.alpha_N / self.alpha_D)
                    / ((1.0 + delta_L) ** (1.0 / self.alpha_D) - 1.0))


def kaplan_overfitting_tokens(N):
    """Kaplan eq. 4.4 as printed: D ~ 5e3 * N^0.74 tokens (N non-embedding parameters)."""
    r = pub.KAPLAN2020_OVERFITTING
    return _out(r.coefficient * array("N", N) ** r.exponent)


def critical_batch_size(loss, B_star: float = pub.KAPLAN2020.B_star,
                        alpha_B: float = pub.KAPLAN2020.alpha_B):
    """Kaplan eq. 1.4: B_crit(L) = B_* / L^(1/alpha_B), in tokens, L in nats per token.

    The batch size that balances time and compute (kaplan2020 Section 5.1); defaults are
    Table 5's B_* = 2.1e8 tokens and alpha_B = 0.21."""
    number("B_star", B_star)
    number("alpha_B", alpha_B)
    L = array("loss", loss)
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
            number(k, getattr(self, k))

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
        N, D = broadcast(N=array("N", N), D=array("D", D))
        return _out((self.N_c / N) ** self.alpha_N + (self.D_c / D) ** self.alpha_D)


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
        return array("C", C) / PF_DAY

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
        C_arr = array("C", C)
        N, D = self.N_opt(C_arr), self.D_opt(C_arr)
        return Allocation(C=_out(C_arr), N_opt=N, D_opt=D, tokens_per_param=_out(np.asarray(D) / N),
                          loss=self.loss_law.loss(C_arr))


KAPLAN_N = KaplanN.from_published()
KAPLAN_D = KaplanD.from_published()
KAPLAN_C = KaplanC.from_published(minimal=True)
KAPLAN_C_NAIVE = KaplanC.from_published(minimal=False)
KAPLAN_ND = KaplanND.from_published()
KAPLAN_ALLOCATION = KaplanAllocation.from_published()
