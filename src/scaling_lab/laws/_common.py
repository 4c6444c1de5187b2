"""What the law modules share: result shaping, the :class:`Allocation` every ``optimal(C)``
returns, and the two generic forms the published laws specialise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import array, number


def _out(y: np.ndarray):
    """A float for 0-d results, the array otherwise."""
    return float(y) if np.ndim(y) == 0 else y


@dataclass(frozen=True)
class PowerLaw:
    """y = A * x^(-alpha)."""

    A: float
    alpha: float

    def __post_init__(self):
        number("A", self.A)
        number("alpha", self.alpha, allow_zero=True)

    def loss(self, x):
        x = array("x", x)
        return _out(self.A * x ** (-self.alpha))

    __call__ = loss


@dataclass(frozen=True)
class SaturatingPowerLaw:
    """y = E + A * x^(-alpha): a power law approaching the floor E."""

    E: float
    A: float
    alpha: float

    def __post_init__(self):
        number("E", self.E, allow_zero=True)
        number("A", self.A)
        number("alpha", self.alpha, allow_zero=True)

    def loss(self, x):
        x = array("x", x)
        return _out(self.E + self.A * x ** (-self.alpha))

    __call__ = loss


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

