"""A simulated world of language-model training, to be discovered (assignment A3).

::

    from scaling_lab.budget import Budget
    from scaling_lab.world import World, course_key

    key = course_key("my-course-2026")                   # the instructor's seed -> a public key
    b = Budget(1e18, store="a3_budget.json", backend="world", key=key)
    r = b.train(n_layer=4, d_model=256, tokens=200_000_000, lr=3e-3, batch=64)
    r["loss"], r["N"], r["flops"]                        # loss; non-embedding params; FLOPs charged

    World.from_key(key).optimum(1e19)                    # the truth at 1e19 FLOPs (for grading)

The world
---------
A run is a GPT decoder of ``n_layer`` layers and width ``d_model`` (heads of 64, vocabulary
:data:`VOCAB_SIZE`, context :data:`N_CTX`, the nanoGPT layout of :mod:`scaling_lab.flops`),
trained on ``tokens`` tokens with peak learning rate ``lr`` and ``batch`` sequences per step.
With N its *non-embedding* parameters (Kaplan et al.'s N, :func:`scaling_lab.flops.param_counts`)
and D = ``tokens``, its expected final loss (nats per token) is

    L = E + R(N, D) * (1 + P_shape + P_lr + P_batch)
    R(N, D) = A N^-alpha exp(-kappa/2 ln^2(N / N_REF)) + B D^-beta

* **data with a floor**: ``E`` is the loss no model reaches; ``B D^-beta`` the data term;
* **a departure from the Chinchilla form**: the exponent of the model term drifts with size,
  ``-d ln(term)/d ln N = alpha + kappa ln(N / N_REF)`` (``kappa`` of either sign, small: a pure
  power law fitted over a decade or two leaves curved residuals in N and extrapolates with a
  bias);
* **shape** (a weak dependence, as Kaplan et al. report: kaplan2020, Section 3.1 and Fig. 5):
  ``P_shape = k_shape ln^2(aspect / aspect_opt)`` with ``aspect = d_model / n_layer``;
* **learning rate**, an optimum that drifts with size: ``P_lr = k_lr ln^2(lr / lr_opt(N))``,
  ``lr_opt(N) = lr_ref (N / N_REF)^-lr_exp``;
* **batch size**, a mild penalty away from a critical batch that grows with size:
  ``P_batch = k_batch ln^2(batch / batch_opt(N))``,
  ``batch_opt(N) = batch_ref (N / N_REF)^batch_exp``.

Every penalty is >= 0 and vanishes at its optimum; the loss falls with D at any fixed shape and
hyperparameters. A run's reported loss is ``L * exp(noise * z)`` (noise 0.5 % by default), z a
standard normal seeded by the world and the run itself, so the same run always gives the same
loss. The cost of a run is its FULL training FLOPs, :func:`scaling_lab.flops.flops_per_token`
with ``method="full"`` times ``tokens`` (attention and the vocabulary projection included; not
6ND: for the smallest models the embedding and logits FLOPs exceed 6N).

Courses and seeds
-----------------
The constants are drawn from ranges (:func:`draw_constants`) by a random generator seeded with a
*course key*, a hash of the instructor's secret seed (:func:`course_key`). The student notebook
holds the key, never the seed or the constants; two seeds give two different worlds. Since the
package is open source a determined student can compute a world's truth from its key: the
written part and the ledger of runs are what show the work. The instructor's seed is read from
the environment variable :data:`SEED_ENV` or from the file named by :data:`SEED_FILE_ENV`
(:func:`instructor_seed`).

The truth and the grade
-----------------------
:meth:`World.optimum` minimises the expected loss over the shape (continuous ``n_layer`` and
``d_model``) and the tokens along a fixed FULL FLOP count, with the learning rate and batch at
their optima. :func:`grade` scores a submission (N, D, loss and a central 90 % interval for the
loss) against it: N and D by bands of their log-error, the loss by bands of its absolute error,
the interval by the interval score of Gneiting and Raftery (gneiting2007, Section 6.2), a
proper scoring rule, mapped to points by bands (:data:`BANDS`, :data:`POINTS`).
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._validate import integer, number

__all__ = [
    "VOCAB_SIZE", "N_CTX", "D_HEAD", "N_REF", "C_REF", "SEED_ENV", "SEED_FILE_ENV", "DEMO_SEED",
    "WorldConstants", "World", "Optimum", "WorldBackend", "course_key", "instructor_seed",
    "draw_constants", "interval_score", "band_fraction", "grade", "Grade", "BANDS", "POINTS",
    "INTERVAL_LEVEL", "continuous_counts", "RANGES",
]

VOCAB_SIZE = 8192        # tokens in the world's vocabulary (tied input and output embeddings)
N_CTX = 512              # context length: a batch of b sequences is b * N_CTX tokens
D_HEAD = 64              # default head width: n_head = d_model // D_HEAD
N_REF = 1e7              # reference size (non-embedding parameters) of the size-dependent terms
C_REF = 1e19             # reference budget at which the draw calibrates A and B (6ND FLOPs)
SEED_ENV = "SCALING_LAB_COURSE_SEED"
SEED_FILE_ENV = "SCALING_LAB_COURSE_SEED_FILE"
DEMO_SEED = "demo"       # the seed of the repository's master notebook: set your own
_KEY_SALT = "scaling_lab.world/1"


# ============================================================================ course seeds
def course_key(seed) -> str:
    """The public key of the world an instructor's ``seed`` (a non-empty string) draws:
    ``"w"`` and 16 hex digits of a SHA-256 hash. The key cannot be turned back into the seed."""
    if not isinstance(seed, str) or not seed.strip():
        raise ValueError(f"seed must be a non-empty string (the course's secret seed); got "
                         f"{seed!r}")
    return "w" + hashlib.sha256(f"{_KEY_SALT}|{seed.strip()}".encode()).hexdigest()[:16]


def _check_key(key) -> str:
    if (not isinstance(key, str) or len(key) != 17 or key[0] != "w"
            or any(c not in "0123456789abcdef" for c in key[1:])):
        raise ValueError(f"key must be a course key as course_key(seed) returns it ('w' and 16 "
                         f"hex digits); got {key!r}")
    return key


def instructor_seed(default: str | None = None) -> str:
    """The course seed: the environment variable ``SCALING_LAB_COURSE_SEED``, else the first
    line of the file named by ``SCALING_LAB_COURSE_SEED_FILE``, else ``default``; a ValueError
    if none is set."""
    seed = os.environ.get(SEED_ENV, "").strip()
    if seed:
        return seed
    path = os.environ.get(SEED_FILE_ENV, "").strip()
    if path:
        p = Path(path).expanduser()
        if not p.is_file():
            raise ValueError(f"{SEED_FILE_ENV}={path!r} is not a file; point it at the file "
                             f"holding your course seed (one line)")
        lines = p.read_text().strip().splitlines()
        if not lines or not lines[0].strip():
            raise ValueError(f"the seed file {path!r} is empty; write the course seed in it")
        return lines[0].strip()
    if default is not None:
        return default
    raise ValueError(f"no course seed: set the environment variable {SEED_ENV} (or "
                     f"{SEED_FILE_ENV} to a file holding it)")


# ============================================================================ the constants
@dataclass(frozen=True)
class WorldConstants:
    """The constants of one world (see the module docstring for the formula)."""

    E: float            # irreducible loss, nats per token
    A: float            # model term coefficient
    alpha: float        # model term exponent at N = N_REF
    kappa: float        # drift of the model exponent per e-fold of N
    B: float            # data term coefficient
    beta: float         # data term exponent
    aspect_opt: float   # optimal d_model / n_layer
    k_shape: float      # shape penalty per ln^2 of the aspect ratio's miss
    lr_ref: float       # optimal peak learning rate at N = N_REF
    lr_exp: float       # lr_opt(N) = lr_ref (N / N_REF)^-lr_exp
    k_lr: float         # learning-rate penalty per ln^2 of the miss
    batch_ref: float    # optimal batch (sequences of N_CTX tokens) at N = N_REF
    batch_exp: float    # batch_opt(N) = batch_ref (N / N_REF)^batch_exp
    k_batch: float      # batch penalty per ln^2 of the miss


RANGES = {
    "E": (1.9, 2.5), "alpha": (0.28, 0.40), "beta": (0.26, 0.36), "abs_kappa": (0.008, 0.016),
    "tokens_per_param": ((3.0, 6.0), (100.0, 300.0)), "reducible": (0.5, 0.9),
    "aspect_opt": (24.0, 96.0), "k_shape": (0.01, 0.025),
    "lr_ref": (1.5e-3, 6e-3), "lr_exp": (0.25, 0.5), "k_lr": (0.06, 0.12),
    "batch_ref": (24.0, 96.0), "batch_exp": (0.1, 0.3), "k_batch": (0.01, 0.025),
}
"""The ranges :func:`draw_constants` draws from (uniform; log-uniform for tokens_per_param,
aspect_opt, lr_ref and batch_ref). ``tokens_per_param`` and ``reducible`` calibrate A and B: at
C_REF = 1e19 FLOPs counted as 6ND, the optimum of R(N, D) has that many tokens per
non-embedding parameter and that reducible loss (the FULL count and the drift of the exponent
move the true optimum). ``tokens_per_param`` is drawn, with equal
odds, from one of two ranges that both avoid Chinchilla's twenty or so tokens per parameter
(hoffmann2022): a world whose answer is a published rule of thumb would test nothing."""


def draw_constants(key: str) -> WorldConstants:
    """The constants of the world with course key ``key``, drawn from :data:`RANGES`."""
    rng = np.random.default_rng(int(_check_key(key)[1:], 16))

    def u(name):
        lo, hi = RANGES[name]
        return float(rng.uniform(lo, hi))

    def logu(name):
        lo, hi = RANGES[name]
        return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))

    E, alpha, beta = u("E"), u("alpha"), u("beta")
    kappa = u("abs_kappa") * (1.0 if rng.uniform() < 0.5 else -1.0)
    lo, hi = RANGES["tokens_per_param"][int(rng.uniform() < 0.5)]
    tpp = float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
    R = u("reducible")
    N = math.sqrt(C_REF / (6.0 * tpp))
    D = tpp * N
    # there the two terms are in the ratio beta : alpha_local (the optimum along C = 6ND),
    # alpha_local = alpha + kappa ln(N / N_REF) the model term's exponent at that size
    ell = math.log(N / N_REF)
    a_loc = alpha + kappa * ell
    A = R * beta / (a_loc + beta) * N ** alpha * math.exp(kappa / 2 * ell ** 2)
    B = R * a_loc / (a_loc + beta) * D ** beta
    return WorldConstants(
        E=E, A=A, alpha=alpha, kappa=kappa, B=B, beta=beta,
        aspect_opt=logu("aspect_opt"), k_shape=u("k_shape"),
        lr_ref=logu("lr_ref"), lr_exp=u("lr_exp"), k_lr=u("k_lr"),
        batch_ref=logu("batch_ref"), batch_exp=u("batch_exp"), k_batch=u("k_batch"))


# ============================================================================ shapes and counts
def continuous_counts(n_layer, d_model):
    """(non-embedding parameters, total parameters, FULL training FLOPs per token) of the
    world's shape, as smooth functions of real ``n_layer`` and ``d_model`` (heads of D_HEAD).
    At whole shapes they equal :func:`scaling_lab.flops.param_counts` and
    ``flops_per_token(..., method="full")`` (a test checks), so the optimum can be searched
    continuously along the FLOP count the budget charges."""
    L, d = np.asarray(n_layer, float), np.asarray(d_model, float)
    V, T = VOCAB_SIZE, N_CTX
    non_emb = L * (12.0 * d * d + 13.0 * d) + 2.0 * d
    total = non_emb + V * d + T * d
    per_layer = 24.0 * d * d + 4.0 * T * d + 3.0 * (d / D_HEAD) * T
    fpt = 3.0 * (4.0 * V * d + L * per_layer)
    return non_emb, total, fpt


@dataclass(frozen=True)
class Optimum:
    """The compute-optimal run of a world at ``C`` FULL FLOPs (shape continuous)."""

    C: float
    n_layer: float
    d_model: float
    N: float            # non-embedding parameters
    N_total: float
    D: float            # tokens
    loss: float         # expected loss (no noise)
    lr: float
    batch: float

    @property
    def tokens_per_param(self) -> float:
        return self.D / self.N


class World:
    """One simulated world. ``World.from_key(key)`` (the key in the student notebook),
    ``World.from_seed(seed)`` (the instructor's seed) or ``World(constants)``."""

    def __init__(self, constants: WorldConstants, key: str | None = None):
        if not isinstance(constants, WorldConstants):
            raise TypeError(f"constants must be a WorldConstants; got {type(constants).__name__}"
                            f" (use World.from_key(key) or World.from_seed(seed))")
        self.constants = constants
        self.key = key

    @classmethod
    def from_key(cls, key: str) -> "World":
        return cls(draw_constants(key), key=key)

    @classmethod
    def from_seed(cls, seed: str) -> "World":
        return cls.from_key(course_key(seed))

    def __repr__(self) -> str:  # the key only: printing a world must not print its answer
        return f"World(key={self.key!r})"

    # ------------------------------------------------------------------ the law
    def shape(self, n_layer, d_model, n_head=None):
        """The :class:`~scaling_lab.flops.GPTShape` of a run (n_head defaults to d_model // 64,
        and then d_model must be a multiple of 64)."""
        from .flops import GPTShape

        n_layer = integer("n_layer", n_layer, minimum=1)
        d_model = integer("d_model", d_model, minimum=1)
        if n_head is None:
            if d_model % D_HEAD:
                raise ValueError(f"d_model must be a multiple of {D_HEAD} (heads of {D_HEAD}); "
                                 f"got {d_model}; or pass n_head= dividing it")
            n_head = d_model // D_HEAD
        n_head = integer("n_head", n_head, minimum=1)
        return GPTShape(n_layer=n_layer, d_model=d_model, n_head=n_head,
                        vocab_size=VOCAB_SIZE, n_ctx=N_CTX)

    def lr_opt(self, N):
        """The optimal peak learning rate of a model of N non-embedding parameters."""
        c = self.constants
        return c.lr_ref * (np.asarray(N, float) / N_REF) ** (-c.lr_exp)

    def batch_opt(self, N):
        """The critical batch (sequences of N_CTX tokens) of a model of N parameters."""
        c = self.constants
        return c.batch_ref * (np.asarray(N, float) / N_REF) ** c.batch_exp

    def reducible(self, N, D):
        """R(N, D): the loss above E at optimal shape and hyperparameters."""
        c = self.constants
        N, D = np.asarray(N, float), np.asarray(D, float)
        ell = np.log(N / N_REF)
        return c.A * N ** (-c.alpha) * np.exp(-c.kappa / 2 * ell ** 2) + c.B * D ** (-c.beta)

    def penalty(self, n_layer, d_model, lr, batch):
        """P_shape + P_lr + P_batch (>= 0, relative to R) of a run; arrays broadcast."""
        c = self.constants
        N = continuous_counts(n_layer, d_model)[0]
        aspect = np.asarray(d_model, float) / np.asarray(n_layer, float)
        return (c.k_shape * np.log(aspect / c.aspect_opt) ** 2
                + c.k_lr * np.log(np.asarray(lr, float) / self.lr_opt(N)) ** 2
                + c.k_batch * np.log(np.asarray(batch, float) / self.batch_opt(N)) ** 2)

    def loss(self, n_layer, d_model, tokens, lr, batch):
        """The expected final loss (no noise) of a run; arrays broadcast."""
        N = continuous_counts(n_layer, d_model)[0]
        L = (self.constants.E + self.reducible(N, tokens)
             * (1.0 + self.penalty(n_layer, d_model, lr, batch)))
        return float(L) if np.ndim(L) == 0 else L

    # ------------------------------------------------------------------ the truth
    def _best_loss(self, n_layer, d_model, C):
        N, _, fpt = continuous_counts(n_layer, d_model)
        c = self.constants
        P = c.k_shape * np.log(d_model / n_layer / c.aspect_opt) ** 2
        return c.E + self.reducible(N, C / fpt) * (1.0 + P)

    def optimum(self, C) -> Optimum:
        """The compute-optimal run at ``C`` FULL training FLOPs: the minimum of the expected
        loss over (n_layer, d_model) real and tokens = C / flops_per_token, learning rate and
        batch at their optima. Found by a grid over the log shape refined by Nelder-Mead
        (about 0.4 CPU-seconds); remembered per world and budget, since a grader asks for the
        same truth once per hidden test."""
        C = number("C", C, note=" (training FLOPs)")
        return _optimum_cached(self.constants, float(C))

    def _optimum(self, C: float) -> Optimum:
        from scipy.optimize import minimize

        c = self.constants
        # grid: d_model from 16 to 65536 at aspect ratios around the optimum
        ld = np.linspace(math.log(16.0), math.log(65536.0), 241)
        la = math.log(c.aspect_opt) + np.linspace(-1.5, 1.5, 31)
        LD, LA = np.meshgrid(ld, la)
        d, L = np.exp(LD), np.exp(LD - LA)
        f = self._best_loss(L, d, C)
        i = np.unravel_index(np.argmin(f), f.shape)
        if i[1] in (0, len(ld) - 1):
            raise ValueError(f"C={C:.3g} FLOPs puts the optimum outside the world's shapes "
                             f"(d_model 16 to 65536); use a budget between about 1e12 and 1e29")

        def obj(x):
            return float(self._best_loss(math.exp(x[0] - x[1]), math.exp(x[0]), C))

        res = minimize(obj, [LD[i], LA[i]], method="Nelder-Mead",
                       options={"xatol": 1e-9, "fatol": 1e-15, "maxiter": 4000})
        d_opt, L_opt = math.exp(res.x[0]), math.exp(res.x[0] - res.x[1])
        N, N_total, fpt = (float(v) for v in continuous_counts(L_opt, d_opt))
        return Optimum(C=C, n_layer=L_opt, d_model=d_opt, N=N, N_total=N_total, D=C / fpt,
                       loss=float(res.fun), lr=float(self.lr_opt(N)),
                       batch=float(self.batch_opt(N)))


@functools.lru_cache(maxsize=64)
def _optimum_cached(constants: WorldConstants, C: float) -> Optimum:
    """A world's optimum, computed once per (constants, C); an Optimum is frozen."""
    return World(constants)._optimum(C)


# ============================================================================ the backend
class WorldBackend:
    """The ``"world"`` backend of :class:`scaling_lab.budget.Budget`: runs of a :class:`World`,
    charged their FULL FLOPs. A query: ``n_layer``, ``d_model``, ``tokens``, ``lr``, ``batch``
    (sequences of N_CTX tokens; at least one step: tokens >= batch * N_CTX), optional
    ``n_head`` and ``seed``."""

    name = "world"

    def __init__(self, key: str | None = None, noise: float = 0.005, seed: str | None = None):
        if (key is None) == (seed is None):
            raise ValueError("the world backend needs key= (a course key, course_key(seed)) or "
                             "seed= (the instructor's seed), exactly one of them")
        self.key = _check_key(key) if key is not None else course_key(seed)
        self.noise = number("noise", noise, allow_zero=True, note=" (0.005 = 0.5 % of the loss)")
        self.world = World.from_key(self.key)

    def config(self) -> dict:
        return {"backend": "world", "key": self.key, "noise": self.noise}

    def query(self, n_layer=None, d_model=None, tokens=None, lr=None, batch=None, n_head=None,
              seed: int = 0, **extra) -> dict:
        if extra:
            raise ValueError(f"the world backend takes n_layer, d_model, tokens, lr, batch (and "
                             f"optionally n_head, seed); got also {sorted(extra)}")
        missing = [k for k, v in (("n_layer", n_layer), ("d_model", d_model),
                                  ("tokens", tokens), ("lr", lr), ("batch", batch)) if v is None]
        if missing:
            raise ValueError(f"the world backend needs {missing}, e.g. budget.train(n_layer=4, "
                             f"d_model=256, tokens=200_000_000, lr=3e-3, batch=64)")
        shape = self.world.shape(n_layer, d_model, n_head)
        tokens = int(round(number("tokens", tokens, minimum=1, note=" (a count)")))
        lr = number("lr", lr, note=" (the peak learning rate)")
        if lr >= 1.0:
            raise ValueError(f"lr must be below 1 (a peak learning rate such as 3e-3); got {lr!r}")
        batch = integer("batch", batch, minimum=1)
        if tokens < batch * N_CTX:
            raise ValueError(f"tokens ({tokens}) must be at least one batch, batch * {N_CTX} = "
                             f"{batch * N_CTX}; train on more tokens or use a smaller batch")
        return {"n_layer": shape.n_layer, "d_model": shape.d_model, "n_head": shape.n_head,
                "tokens": tokens, "lr": lr, "batch": batch, "seed": integer("seed", seed)}

    def _shape(self, q):
        return self.world.shape(q["n_layer"], q["d_model"], q["n_head"])

    def cost(self, q: dict) -> tuple[float, str]:
        from .flops import flops_per_token

        fpt = float(flops_per_token(self._shape(q), method="full"))
        return fpt * q["tokens"], (f"{q['tokens']:,} tokens x {fpt:.4g} FLOPs/token (full) for "
                                   f"{q['n_layer']}x{q['d_model']}")

    def run(self, q: dict) -> dict:
        from .budget import _digest
        from .flops import param_counts

        counts = param_counts(self._shape(q))
        truth = self.world.loss(q["n_layer"], q["d_model"], q["tokens"], q["lr"], q["batch"])
        key = _digest({"config": self.config(), "query": q})
        z = np.random.default_rng(int(key, 16)).standard_normal()
        return {"N": counts.non_embedding, "N_total": counts.total, "D": q["tokens"],
                "steps": q["tokens"] // (q["batch"] * N_CTX),
                "loss": truth * math.exp(self.noise * z), "status": "ok"}


# ============================================================================ grading
INTERVAL_LEVEL = 0.9
"""The submitted interval is a central 90 % prediction interval (alpha = 0.1 in the score)."""

BANDS = {
    "N": (math.log(1.4), math.log(1.6), math.log(2.0), math.log(3.0)),
    "D": (math.log(1.4), math.log(1.6), math.log(2.0), math.log(3.0)),
    "loss": (0.07, 0.1, 0.15, 0.3),
    "interval": (0.15, 0.25, 0.4, 0.8),
}
"""Error bands: an error at most the first bound earns the whole of a part's points, at most
the second 3/4, the third 1/2, the fourth 1/4, beyond it nothing. N and D: |ln(pred / truth)|
(so 1.4x off in either direction is the first band); loss: |pred - truth| in nats; interval:
its interval score in nats (the width if it covers the truth, plus 20x the miss if not).

The first bands are set by what a careful solution can reach: the master's, fitted to 1e18
FLOPs of runs and extrapolated to 10x that budget, measured over 80 course seeds (s0 to s79),
missed the true N by an rms 0.10 in ln N (largest 0.25), D by 0.10 (largest 0.23) and the
loss by an rms 0.021 nats (largest 0.066): the first bands, ln 1.4 = 0.34 and 0.07 nats, are
about 3.3 times those spreads, so its own solution earns full marks in practically every
world (bands of 1.3x and 0.04 nats cost it points in 9 of the 80)."""

POINTS = {"N": 3, "D": 2, "loss": 3, "interval": 3}
"""Points of each autograded part (11 in all); the written part is graded by a rubric."""


def band_fraction(error: float, bands) -> float:
    """1, 0.75, 0.5, 0.25 or 0: the share of a part's points an ``error`` earns in ``bands``."""
    error = number("error", error, allow_zero=True)
    for i, bound in enumerate(bands):
        if error <= bound:
            return 1.0 - i / len(bands)
    return 0.0


def interval_score(lower, upper, truth, alpha: float = 1.0 - INTERVAL_LEVEL) -> float:
    """The interval score of a central (1 - alpha) prediction interval [lower, upper] for
    ``truth`` (Gneiting and Raftery 2007, Section 6.2), negatively oriented (lower is better):
    ``(upper - lower) + (2/alpha)(lower - truth)[truth < lower] + (2/alpha)(truth - upper)[truth
    > upper]``. A proper scoring rule: its expectation is smallest when the bounds are the
    forecaster's true alpha/2 and 1 - alpha/2 quantiles, so neither a narrow interval that
    misses nor a wide one that always covers pays."""
    lo = float(number("lower", lower, allow_zero=True))
    hi = float(number("upper", upper, allow_zero=True))
    y = float(number("truth", truth, allow_zero=True))
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1) (0.1 for a 90 % interval); got {alpha!r}")
    if hi < lo:
        raise ValueError(f"the interval's upper bound ({hi}) is below its lower bound ({lo}); "
                         f"pass (lower, upper)")
    return (hi - lo) + 2.0 / alpha * max(lo - y, 0.0) + 2.0 / alpha * max(y - hi, 0.0)


@dataclass(frozen=True)
class Grade:
    """A graded submission: per part its error, share of points (``fraction``) and points."""

    errors: dict
    fraction: dict
    points: dict
    total: float
    possible: float

    @property
    def share(self) -> float:
        return self.total / self.possible


def grade(world: World, C, N, D, loss, interval) -> Grade:
    """Grade a predicted compute-optimal run at ``C`` FULL FLOPs against ``world``'s truth
    (:meth:`World.optimum`): ``N`` non-embedding parameters, ``D`` tokens, the expected
    ``loss`` and ``interval`` = (lower, upper), a central 90 % interval for that loss. Errors
    are mapped to points by :data:`BANDS` and :data:`POINTS`."""
    if not isinstance(world, World):
        raise TypeError(f"world must be a World (World.from_key(key)); got {type(world).__name__}")
    try:
        lower, upper = (float(v) for v in interval)
    except (TypeError, ValueError):
        raise ValueError(f"interval must be (lower, upper), two numbers; got {interval!r}") \
            from None
    truth = world.optimum(C)
    errors = {"N": abs(math.log(number("N", N) / truth.N)),
              "D": abs(math.log(number("D", D) / truth.D)),
              "loss": abs(number("loss", loss) - truth.loss),
              "interval": interval_score(lower, upper, truth.loss)}
    fraction = {k: band_fraction(errors[k], BANDS[k]) for k in POINTS}
    points = {k: fraction[k] * POINTS[k] for k in POINTS}
    return Grade(errors=errors, fraction=fraction, points=points, total=sum(points.values()),
                 possible=float(sum(POINTS.values())))


