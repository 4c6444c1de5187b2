"""Simulations the chapters use to show where scaling laws come from.

The *quanta* (or "skills") model: text requires many discrete skills, skill ``k`` is needed with
frequency ``p_k ∝ k^-(1+a)`` (a Zipf law), and each token that needs a skill the model lacks costs
a fixed loss. Two ways of learning give two power laws (hutter2021; michaud2023):

* **capacity**: a model that can hold ``n`` skills learns the ``n`` most frequent ones, so its loss
  is the tail mass ``sum_{k>n} p_k ∝ n^-a``;
* **data**: a skill is learned once it has been seen ``tau`` times; after ``D`` samples skill ``k``
  is learned when ``D p_k ≳ tau``, so the loss falls as ``D^(-a/(1+a))``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _check(name: str, value, lo: float = 0.0, integer: bool = False) -> None:
    ok = np.isfinite(value) and value > lo and (not integer or float(value).is_integer())
    if not ok:
        kind = "an integer" if integer else "a number"
        raise ValueError(f"{name} must be {kind} > {lo:g}; got {value!r}")


def zipf_frequencies(n_skills: int, a: float) -> np.ndarray:
    """Frequencies ``p_k ∝ k^-(1+a)`` of skills ``k = 1..n_skills``, normalised to sum to 1."""
    _check("n_skills", n_skills, 1, integer=True)
    _check("a", a)
    p = np.arange(1, int(n_skills) + 1, dtype=float) ** -(1.0 + a)
    return p / p.sum()


@dataclass(frozen=True)
class QuantaCurves:
    """Loss (fraction of samples needing an unlearned skill) against capacity and against data."""

    a: float
    capacity: np.ndarray       # n: number of skills the model can hold
    loss_capacity: np.ndarray  # tail mass beyond the n most frequent skills
    samples: np.ndarray        # D: samples seen
    loss_data: np.ndarray      # mass of skills seen fewer than tau times after D samples

    @property
    def theory_capacity_exponent(self) -> float:
        return self.a

    @property
    def theory_data_exponent(self) -> float:
        return self.a / (1.0 + self.a)


def quanta_learning_curves(a: float = 0.5, n_skills: int = 1_000_000, tau: int = 3,
                           capacity=None, samples=None, seed: int = 0) -> QuantaCurves:
    """Simulate the quanta model for Zipf exponent ``1 + a``.

    capacity: skill counts n at which to evaluate the capacity curve (default 10..1e4; keep
              n well below ``n_skills`` or the finite tail steepens the curve).
    samples:  sample counts D (default 1e2..1e7); a single stream, so the curve is monotone:
              counts grow by Poisson increments ``Poisson((D_j - D_{j-1}) p_k)`` per skill.
    tau:      times a skill must be seen before it counts as learned.
    """
    _check("tau", tau, 0, integer=True)
    p = zipf_frequencies(n_skills, a)
    n = np.unique(np.logspace(1, 4, 13).astype(int)) if capacity is None else np.asarray(capacity)
    D = np.unique(np.logspace(2, 7, 26).astype(int)) if samples is None else np.asarray(samples)
    if np.any(n < 0) or np.any(n >= n_skills):
        raise ValueError(f"capacity must lie in [0, n_skills={n_skills}); got {n.min()}..{n.max()}")
    if np.any(D <= 0) or np.any(np.diff(D) <= 0):
        raise ValueError("samples must be positive and strictly increasing")
    tail = np.concatenate([np.cumsum(p[::-1])[::-1], [0.0]])  # tail[m] = sum_{k>m} p_k
    loss_capacity = tail[n.astype(int)]

    rng = np.random.default_rng(seed)
    counts = np.zeros(p.size, dtype=np.int64)
    loss_data, seen = np.empty(D.size), 0
    for j, d in enumerate(D):
        counts += rng.poisson((d - seen) * p)
        seen = d
        loss_data[j] = p[counts < tau].sum()
    return QuantaCurves(a, n.astype(float), loss_capacity, D.astype(float), loss_data)
