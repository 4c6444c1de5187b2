"""A synthetic order-k Markov source over a small alphabet, whose losses are known exactly.

The lab's ``markov`` corpus samples it (``corpus.markov_corpus``), storing symbol ``s`` as the byte
``MARKOV_OFFSET + s`` (printable ASCII from 'A'), and ``variants`` computes exact floors from it.
Only numpy here: the source is mathematics, the corpus is bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MARKOV_OFFSET = 65  # symbol s is stored as byte 65 + s ('A', 'B', ...)


@dataclass(frozen=True)
class MarkovSource:
    """An order-``order`` Markov chain over ``alphabet`` byte values.

    Each context (the previous ``order`` symbols) has its own next-symbol distribution drawn from
    a symmetric Dirichlet(``concentration``): small concentration -> peaked, low-entropy rows that
    a tiny model can learn. ``entropy_rate`` is exact: sum over contexts of the stationary
    probability of the context times the entropy of its row.
    """

    alphabet: int = 16
    order: int = 2
    concentration: float = 0.3
    seed: int = 0

    def transition(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        n_ctx = self.alphabet**self.order
        P = rng.dirichlet(np.full(self.alphabet, self.concentration), size=n_ctx)
        # keep every transition possible (ergodic chain, finite loss for any model)
        P = 0.99 * P + 0.01 / self.alphabet
        return P / P.sum(axis=1, keepdims=True)

    def stationary(self, P: np.ndarray | None = None) -> np.ndarray:
        P = self.transition() if P is None else P
        k, a = self.order, self.alphabet
        n = a**k
        # context c = (s_1..s_k) as base-a number; next context drops s_1 and appends s
        nxt = (np.arange(n)[:, None] * a) % n + np.arange(a)[None, :]
        pi = np.full(n, 1.0 / n)
        for _ in range(10_000):
            new = np.zeros(n)
            np.add.at(new, nxt.ravel(), (pi[:, None] * P).ravel())
            if np.abs(new - pi).sum() < 1e-15:
                pi = new
                break
            pi = new
        return pi / pi.sum()

    def entropy_rate(self) -> float:
        """Exact entropy rate in nats per symbol (= per byte)."""
        P = self.transition()
        pi = self.stationary(P)
        row_h = -(P * np.log(P)).sum(axis=1)
        return float(pi @ row_h)

    def sample(self, n: int, seed: int, chains: int = 512) -> np.ndarray:
        """``n`` symbols: ``chains`` independent stationary chains run side by side (vectorised),
        laid end to end. Each chain starts from the stationary distribution, so every position is
        distributed exactly as the stationary process except the ``chains - 1`` joins."""
        P = self.transition()
        pi = self.stationary(P)
        rng = np.random.default_rng(seed)
        a, k = self.alphabet, self.order
        mod = a**k
        cdf = np.cumsum(P, axis=1)
        cdf[:, -1] = 1.0 + 1e-12
        chains = max(1, min(chains, n))
        length = -(-n // chains)
        ctx = rng.choice(mod, size=chains, p=pi)
        out = np.empty((chains, length), dtype=np.uint8)
        for t in range(length):
            u = rng.random(chains)
            s = (cdf[ctx] <= u[:, None]).sum(axis=1)
            out[:, t] = s
            ctx = (ctx * a) % mod + s
        return out.reshape(-1)[:n]
