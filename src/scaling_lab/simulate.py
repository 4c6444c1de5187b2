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

from ._validate import array, broadcast, chinchilla_like, column, number


def zipf_frequencies(n_skills: int, a: float) -> np.ndarray:
    """Frequencies ``p_k ∝ k^-(1+a)`` of skills ``k = 1..n_skills``, normalised to sum to 1."""
    number("n_skills", n_skills, minimum=2, whole=True)
    number("a", a)
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
    number("tau", tau, whole=True)
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


# ----------------------------------------------------------------------------------------------
# Training runs simulated from a known Chinchilla-form law (chapter 4: do the fits recover it?)

def simulate_runs(law, budgets, sizes_per_budget: int = 9, noise: float = 0.01, seed: int = 0,
                  span: float = 1.0, center=None):
    """An IsoFLOP sweep drawn from a known law: for each budget C, ``sizes_per_budget`` model sizes.

    law:       a :class:`scaling_lab.laws.ChinchillaLaw` (the truth; N total parameters).
    budgets:   FLOP budgets C; every run of a budget has D = C / (6 N) tokens.
    sizes_per_budget: model sizes per budget, log-spaced over ``span`` decades either side of the
               centre (default: the law's own N_opt(C); pass ``center`` = an array of one N per budget
               to centre elsewhere, as an experimenter who does not know the optimum would).
    noise:     standard deviation of multiplicative log-normal noise on the loss (0.01 = about 1 %).
    seed:      seed of the noise.

    Returns a pandas DataFrame, one row per run: C, N, D, loss_true (the law), loss (with noise).
    """
    import pandas as pd

    chinchilla_like(law, needs=("loss", "optimal"))
    C = column("budgets", budgets, hint=" (FLOP budgets)")
    number("sizes_per_budget", sizes_per_budget, whole=True)
    number("noise", noise, allow_zero=True)
    number("span", span)
    mid = column("center", law.optimal(C).N_opt if center is None else center)
    if mid.size != C.size:
        raise ValueError(f"center must hold one positive N per budget ({C.size}); got {mid.size}")
    offsets = np.linspace(-span, span, int(sizes_per_budget)) if sizes_per_budget > 1 else np.zeros(1)
    N = (mid[:, None] * 10.0 ** offsets[None, :]).ravel()
    CC = np.repeat(C, offsets.size)
    D = CC / (6.0 * N)
    truth = np.asarray(law.loss(N, D), dtype=float)
    rng = np.random.default_rng(seed)
    loss = truth * np.exp(noise * rng.standard_normal(truth.size))
    return pd.DataFrame({"C": CC, "N": N, "D": D, "loss_true": truth, "loss": loss})


def simulate_training_curves(law, sizes, max_flops: float, points_per_run: int = 40,
                             noise: float = 0.005, seed: int = 0, min_tokens: float | None = None):
    """Training curves of several model sizes, as if every checkpoint were a run tuned to its length.

    Each model N is evaluated at log-spaced token counts D up to ``max_flops / (6 N)``; the loss at
    D is the law's L(N, D) with multiplicative log-normal noise ``noise``. This is the *ideal* case
    Hoffmann et al.'s approach 1 aims for (they trained each size with several schedule lengths);
    checkpoints of one long run are worse (see :func:`schedule_loss`).

    Returns a DataFrame with one row per checkpoint: run, N, D, C = 6 N D, loss_true, loss
    (the columns :func:`scaling_lab.fitting.fit_envelope` reads).
    """
    import pandas as pd

    chinchilla_like(law, needs=("loss", "optimal"))
    sizes = column("sizes", sizes, hint=" (parameter counts)")
    number("max_flops", max_flops)
    number("points_per_run", points_per_run, minimum=2, whole=True)
    rng = np.random.default_rng(seed)
    rows = []
    for i, N in enumerate(sizes):
        D_max = max_flops / (6.0 * N)
        D_min = min_tokens if min_tokens is not None else D_max / 1e3
        if D_max <= D_min:
            continue
        D = np.logspace(np.log10(D_min), np.log10(D_max), int(points_per_run))
        truth = np.asarray(law.loss(N, D), dtype=float)
        loss = truth * np.exp(noise * rng.standard_normal(D.size))
        rows.append(pd.DataFrame({"run": i, "N": N, "D": D, "C": 6.0 * N * D,
                                  "loss_true": truth, "loss": loss}))
    if not rows:
        raise ValueError("no run has a token range: raise max_flops or lower min_tokens")
    return pd.concat(rows, ignore_index=True)


# ----------------------------------------------------------------------------------------------
# A toy model of the loss under a cosine learning-rate schedule (chapter 5)

def cosine_lr(tokens, horizon, final_fraction: float = 0.1):
    """Cosine learning rate, as a fraction of its peak, after ``tokens`` of a run of ``horizon`` tokens.

    eta(t) / eta_max = f + (1 - f) (1 + cos(pi t / T)) / 2 for t <= T (warmup ignored), f the final
    fraction; it stays at f after T.
    """
    array("horizon", horizon)
    if not (0 <= final_fraction < 1):
        raise ValueError(f"final_fraction must lie in [0, 1); got {final_fraction!r}")
    t = np.minimum(np.asarray(tokens, dtype=float), horizon)
    return final_fraction + (1 - final_fraction) * 0.5 * (1 + np.cos(np.pi * t / horizon))


def cosine_lr_area(tokens, horizon, final_fraction: float = 0.1):
    """Integral of :func:`cosine_lr` from 0 to ``tokens`` (in tokens): the "distance travelled"."""
    array("horizon", horizon)
    t = np.asarray(tokens, dtype=float)
    tt = np.minimum(t, horizon)
    f = final_fraction
    area = f * tt + (1 - f) * 0.5 * (tt + horizon / np.pi * np.sin(np.pi * tt / horizon))
    return area + f * np.maximum(t - horizon, 0.0)


def schedule_loss(law, N, tokens, horizon, final_fraction: float = 0.1, kappa: float = 0.5):
    """A TOY model of the loss after ``tokens`` of a cosine run planned for ``horizon`` tokens.

    Not a published law: a two-term caricature chosen to behave like measured curves (a run is
    best at the end of the schedule it was tuned for; an unfinished schedule sits above it).

        L = E + A / N^alpha + B / D_eff^beta * (1 + kappa * (eta(t) - f) / (1 - f))

    * progress: D_eff = area under the learning-rate curve so far, rescaled so that a *finished*
      run (t = T) has D_eff = T. Mid-schedule the area is larger than a finished short run's, which
      helps a little;
    * noise: a loss excess proportional to how far the learning rate still is above its final
      value f (a high learning rate keeps the iterate bouncing around), a fraction ``kappa`` of the
      data term at peak learning rate. It vanishes at the end of the schedule.

    With t = T the model returns exactly ``law.loss(N, T)``: the law describes runs whose schedule
    ends where they are evaluated. Vectorised over N, tokens and horizon (broadcast).
    """
    chinchilla_like(law)
    number("kappa", kappa, allow_zero=True)
    N, t, T = broadcast(N=array("N", N), tokens=array("tokens", tokens),
                        horizon=array("horizon", horizon))
    f = final_fraction
    D_eff = cosine_lr_area(t, T, f) / ((1 + f) / 2)      # = T at the end of the schedule
    eta = cosine_lr(t, T, f)
    data_term = law.B * D_eff ** (-law.beta) * (1 + kappa * (eta - f) / (1 - f))
    out = law.E + law.A * N ** (-law.alpha) + data_term
    return float(out) if np.ndim(out) == 0 else out
