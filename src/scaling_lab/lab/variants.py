"""Variations on the lab's corpus and model, for experiments that change one thing at a time.

* :func:`corrupt_corpus`  replace a fraction of the *training* bytes with uniform random bytes
                          (validation stays clean): a controlled drop in data quality (it lives
                          in ``corpus``, which applies it for ``markov:...,corrupt=0.2``);
* :func:`corrupted_floor` the exact loss, on clean data, of the best order-1 predictor of a
                          corrupted order-1 Markov stream: the floor that corruption raises;
* :class:`MixedMarkovSource` a Markov source whose rows are a mixture of two sources' rows:
                          a controlled *shift* of the distribution, for validation text the
                          model was not trained on;
* :func:`cross_entropy_rate` the exact loss of one source's predictor on another source's
                          text (entropy rate of the text plus the KL divergence rate);
* :func:`shifted_validation` a copy of a corpus whose validation bytes come from another source;
* :func:`conditional_entropy` the exact entropy of the next symbol of a :class:`MarkovSource`
                          given only the previous ``k`` symbols (the floor of a model that sees
                          ``k`` symbols of context);
* :class:`MLPOnlyLM`      the lab's GPT with the attention taken out: each position sees only its
                          own byte, so on an order-2 source its floor is ``conditional_entropy(1)``;
* :func:`train_lm`        a short, deterministic run of any such model through the lab's
                          :class:`~scaling_lab.lab.trainer.Trainer` (AdamW, warmup, cosine
                          decay), the same for every model class it is given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .corpus import Corpus, corrupt_corpus
from .markov import MARKOV_OFFSET, MarkovSource
from .model import MLP, GPT, LayerNorm
from .spec import cosine_lr
from .trainer import Trainer, val_loss

__all__ = ["corrupt_corpus", "corrupted_floor", "window_loss", "MixedMarkovSource",
           "cross_entropy_rate", "shifted_validation", "conditional_entropy", "MLPOnlyLM",
           "LMResult", "evaluate_lm", "train_lm"]


# ----------------------------------------------------------------------------- data quality
def corrupted_floor(source: MarkovSource, fraction: float, offset: int = MARKOV_OFFSET) -> float:
    """Loss (nats per byte) on *clean* data of the best order-1 predictor of the corrupted stream.

    The source is order 1 with symbols stored as bytes ``offset + s``; corruption replaces a byte
    by a uniform one of 256 with probability ``fraction``. Given a clean previous byte ``x``, the
    next training byte is clean with probability ``1 - fraction`` and uniform otherwise (the
    corruption of the previous byte does not matter when we condition on its observed value
    being ``x``: a corrupted byte that happens to equal ``x`` is rare and is handled exactly
    below). The best predictor is therefore q(y | x) = P_train(x, y) / P_train(x), and its loss on
    clean pairs is ``-sum pi(x) P(y|x) log q(y|x)``. With ``fraction = 0`` this is the entropy rate.
    """
    if source.order != 1:
        raise ValueError("corrupted_floor is exact for order-1 sources only")
    if not (0.0 <= fraction < 1.0):
        raise ValueError(f"fraction must lie in [0, 1); got {fraction!r}")
    P = source.transition()
    pi = source.stationary(P)
    # P_train(x, y) over the alphabet's byte values: both clean, one corrupted, both corrupted;
    # q(y | x) = P_train(x, y) / P_train(x). Clean data only ever asks for y in the alphabet.
    q = _order1_predictor(source, fraction)
    return float(-(pi[:, None] * P * np.log(q)).sum())


def window_loss(source: MarkovSource, corpus: Corpus, n_ctx: int, eval_batches: int,
                fraction: float = 0.0, offset: int = MARKOV_OFFSET) -> float:
    """Loss (nats per byte) of an exact order-1 predictor on the very validation windows the lab
    evaluates (``Corpus.val_batches``, as ``train`` and :func:`train_lm` use).
    ``fraction = 0``: the source's own transition matrix, the floor *of that sample* (it differs
    from the entropy rate by sampling noise); ``fraction > 0``: the best predictor of a corrupted
    training stream (see :func:`corrupted_floor`)."""
    if source.order != 1:
        raise ValueError("window_loss is exact for order-1 sources only")
    q = _order1_predictor(source, fraction)
    tot = 0.0
    for x, y in corpus.val_batches(n_ctx, eval_batches):
        tot += float(-np.log(q[x.numpy() - offset, y.numpy() - offset]).mean())
    return tot / eval_batches


def _order1_predictor(source: MarkovSource, fraction: float) -> np.ndarray:
    P = source.transition()
    pi = source.stationary(P)
    p, V = float(fraction), 256
    pair = ((1 - p) ** 2 * pi[:, None] * P + (1 - p) * p * pi[:, None] / V
            + p * (1 - p) * pi[None, :] / V + p * p / V ** 2)
    return pair / ((1 - p) * pi + p / V)[:, None]


@dataclass(frozen=True)
class MixedMarkovSource(MarkovSource):
    """A :class:`MarkovSource` whose transition rows are ``(1 - shift)`` times those of the
    source with ``seed`` plus ``shift`` times those of the source with ``other_seed`` (same
    alphabet, order and concentration). ``shift = 0`` is the first source, ``shift = 1`` the
    second: a distribution shift of adjustable size, with exact entropy rate and samples."""

    other_seed: int = 1
    shift: float = 0.5

    def __post_init__(self):
        if not (0.0 <= self.shift <= 1.0):
            raise ValueError(f"shift must lie in [0, 1]; got {self.shift!r}")

    def transition(self) -> np.ndarray:
        a = MarkovSource(self.alphabet, self.order, self.concentration, self.seed).transition()
        b = MarkovSource(self.alphabet, self.order, self.concentration,
                         self.other_seed).transition()
        return (1 - self.shift) * a + self.shift * b


def cross_entropy_rate(text: MarkovSource, model: MarkovSource) -> float:
    """Loss (nats per symbol) on stationary text from ``text`` of the exact predictor of
    ``model``: ``-sum pi_text(c) P_text(s|c) log P_model(s|c)``. Equals ``text``'s entropy rate
    when the two are the same source; the excess is the KL divergence rate, the part of the loss
    that training on ``model``'s distribution can never remove."""
    if (text.alphabet, text.order) != (model.alphabet, model.order):
        raise ValueError("cross_entropy_rate needs two sources with the same alphabet and order")
    P, Q = text.transition(), model.transition()
    pi = text.stationary(P)
    return float(-(pi[:, None] * P * np.log(Q)).sum())


def shifted_validation(corpus: Corpus, source: MarkovSource, val_bytes: int = 100_000,
                       seed: int = 7, offset: int = MARKOV_OFFSET) -> Corpus:
    """A copy of ``corpus`` (same training bytes) whose validation bytes are ``val_bytes``
    symbols sampled from ``source``: the text a model is asked to predict after training on a
    different distribution."""
    va = (source.sample(val_bytes, seed=seed) + offset).astype(np.uint8)
    h = source.entropy_rate()
    return replace(corpus, name=f"{corpus.name}+shifted-val", val=torch.from_numpy(va),
                   entropy_floor=h, fingerprint=dict(corpus.fingerprint, val_source=repr(source)),
                   meta=dict(corpus.meta, val_entropy_rate=h))


def conditional_entropy(source: MarkovSource, k: int) -> float:
    """H(X_t | X_{t-k}, ..., X_{t-1}) in nats for a stationary :class:`MarkovSource`, exactly.

    For ``k >= order`` this is the entropy rate; for ``k < order`` it is larger: the floor of
    any model that sees only the last ``k`` symbols."""
    if not isinstance(k, int) or k < 0:
        raise ValueError(f"k must be an integer >= 0; got {k!r}")
    if k >= source.order:
        return source.entropy_rate()
    P = source.transition()
    pi = source.stationary(P)
    a, m = source.alphabet, source.order
    # joint of (context of m symbols, next symbol); marginalise the oldest m - k symbols
    joint = (pi[:, None] * P).reshape(a ** (m - k), a ** k, a).sum(axis=0)   # (a^k, a)
    cond = joint / joint.sum(axis=1, keepdims=True)
    return float(-(joint * np.log(cond)).sum())


# ----------------------------------------------------------------------------- another model class
class MLPBlock(nn.Module):
    def __init__(self, d_model: int, d_ff: int, bias: bool):
        super().__init__()
        self.ln = LayerNorm(d_model, bias)
        self.mlp = MLP(d_model, d_ff, bias)

    def forward(self, x):
        return x + self.mlp(self.ln(x))


class MLPOnlyLM(nn.Module):
    """The lab's GPT without attention: token embedding, ``n_layer`` pre-LayerNorm MLP blocks,
    final LayerNorm, tied head. Each position sees only its own byte (no position embedding:
    it could not use one), so it is an order-1 model however large it is. ``d_ff`` lets you
    match a transformer's parameter count at equal width and depth."""

    def __init__(self, n_layer: int, d_model: int, vocab_size: int = 256, d_ff: int | None = None,
                 bias: bool = True):
        super().__init__()
        for name, v in (("n_layer", n_layer), ("d_model", d_model), ("vocab_size", vocab_size)):
            if not isinstance(v, int) or v <= 0:
                raise ValueError(f"{name} must be a positive integer; got {v!r}")
        d_ff = d_ff or 4 * d_model
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.blocks = nn.ModuleList(MLPBlock(d_model, d_ff, bias) for _ in range(n_layer))
        self.ln_f = LayerNorm(d_model, bias)
        self.apply(GPT._init)
        for name, p in self.named_parameters():
            if name.endswith("proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * n_layer))

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, idx, targets=None):
        x = self.tok_emb(idx)
        for blk in self.blocks:
            x = blk(x)
        logits = F.linear(self.ln_f(x), self.tok_emb.weight)
        if targets is None:
            return logits, None
        return logits, F.cross_entropy(logits.view(-1, logits.size(-1)).float(), targets.view(-1))


# ----------------------------------------------------------------------------- training any of them
@dataclass
class LMResult:
    """Validation loss after training (nats per byte), with the history and the run's facts."""

    val_loss: float
    params: int
    tokens: int
    steps: int
    history: list = field(default_factory=list)   # (tokens, val_loss) at each evaluation
    wall_s: float = 0.0   # seconds spent in training steps (evaluations not counted)


def evaluate_lm(model: nn.Module, corpus: Corpus, n_ctx: int, batches: int = 8) -> float:
    """Validation loss (nats per byte) of a trained ``model`` on ``corpus``'s validation text, on
    the same windows :func:`train_lm` uses: to score one model on another distribution."""
    return val_loss(model, corpus, n_ctx, batches)


def train_lm(model: nn.Module, corpus: Corpus, tokens: int, *, n_ctx: int = 32,
             batch_size: int = 16, lr: float = 2e-3, warmup_steps: int = 20,
             min_lr_frac: float = 0.1, weight_decay: float = 0.1, seed: int = 0,
             eval_batches: int = 8, evals: int = 1) -> LMResult:
    """Train ``model`` (any module with ``forward(idx, targets) -> (logits, loss)``) on
    ``corpus`` for ``tokens`` tokens on the CPU, with the lab's :class:`Trainer`: AdamW, clipping
    at 1, a linear warmup to ``lr`` and a cosine decay to ``min_lr_frac * lr``
    (:func:`~scaling_lab.lab.spec.cosine_lr` with ``cap_warmup=False``), ``evals`` evaluations
    evenly spaced.

    The model's initial weights come from the caller (seed it before building it); ``seed`` sets
    the data order. Every model class given the same arguments sees the same batches. A run whose
    loss diverges stops there, with ``val_loss`` NaN."""
    steps = tokens // (n_ctx * batch_size)
    if steps < 1:
        raise ValueError(f"tokens={tokens} is less than one step of {n_ctx * batch_size} tokens")
    tr = Trainer(model, corpus, batch_size=batch_size, n_ctx=n_ctx, seed=seed,
                 weight_decay=weight_decay, eval_batches=eval_batches, device="cpu")

    def lr_at(step: int) -> float:
        return cosine_lr(step, lr, steps, warmup_steps, min_lr_frac, cap_warmup=False)

    eval_at = {int(round(steps * (i + 1) / evals)) for i in range(evals)}
    tr.train_until(steps, lr_at, eval_at)
    history = [(r["tokens"], r["val_loss"]) for r in tr.rows()]
    return LMResult(val_loss=history[-1][1], params=sum(p.numel() for p in model.parameters()),
                    tokens=steps * n_ctx * batch_size, steps=steps, history=history,
                    wall_s=tr.wall)
