"""Parameter and FLOP accounting for a GPT-style decoder.

Parameter convention (nanoGPT layout, pre-LayerNorm blocks):

    token embedding   vocab * d
    position emb.     n_ctx * d                  (learned_pos; 0 otherwise)
    per layer         ln1 (d weight + d bias), attn qkv d*3d (+3d), attn proj d*d (+d),
                      ln2, mlp fc d*d_ff (+d_ff), mlp proj d_ff*d (+d)
    final ln          d (+d)
    head              0 if tied to the token embedding, vocab*d (no bias) if untied

``bias=False`` drops every bias, the LayerNorms' included.

*embedding* = token + position embeddings (+ the untied head);
*non_embedding* = total - embedding. The non-embedding count is Kaplan et al.'s N (it
excludes the position embeddings too, and includes LayerNorms and biases, which
Kaplan's approximation 12 n_layer d^2 drops). Hoffmann et al.'s N is the *total*.

FLOPs are per token, counting a multiply-add as 2 FLOPs; training = 3 x forward
(backward = 2 x forward). Methods:

- ``"6N"``:     6 * non-embedding parameters (forward 2N)
- ``"kaplan"``: forward 2N + 2 n_layer n_ctx d_attn (kaplan2020 Table 1), N non-embedding
- ``"full"``:   hoffmann2022 Appendix F: embeddings, QKV, QK^T logits, softmax,
                softmax @ V, attention output, dense block and final logits

Modern decoders (Llama layout, :class:`LlamaShape`): RMSNorm (a weight of d, no bias),
no biases, grouped-query attention (n_kv_head key/value heads shared by n_head query
heads, so K and V are d x (n_kv_head d_head) each) and a SwiGLU feed-forward of three
d x d_ff matrices (gate, up, down) instead of two:

    per layer         attn_norm d, q d*d, k d*kv, v d*kv, o d*d (kv = n_kv_head*d_head),
                      ffn_norm d, gate d*d_ff, up d*d_ff, down d_ff*d
    final norm        d
    token embedding   vocab * d; head vocab * d unless tied

Inference with a KV cache (:func:`inference_flops_per_token`): the new token's forward
pass multiplies every weight matrix once (2 FLOPs per weight, output head included)
and attends to the ``context`` cached positions: 2 * context * n_head * d_head for the
logits q.k and as many for the weighted sum of values, per layer. Normalisations,
softmax and the embedding lookup are left out (a few FLOPs per activation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import published as pub
from .published import PF_DAY

__all__ = [
    "GPTShape", "ParamCounts", "param_counts", "forward_flops", "flops_per_token",
    "training_flops", "gpu_hours", "gpt2_small_shape", "chinchilla_shape", "gopher_shape",
    "shape_from_record", "total_params_pearce2024", "METHODS", "PF_DAY",
    "LlamaShape", "llama_param_counts", "llama3_8b_shape", "swiglu_params",
    "attention_params", "matmul_weights", "inference_flops_per_token", "kv_cache_values",
]

METHODS = ("6N", "kaplan", "full")


def _check_fields(shape, ints: tuple[str, ...], flags: tuple[str, ...]) -> None:
    """A shape's fields: ``ints`` positive integers, ``flags`` booleans, and n_head dividing
    d_model; a ValueError names the field and the fix."""
    for name in ints:
        v = getattr(shape, name)
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise ValueError(f"{name} must be a positive integer; got {v!r}")
    if shape.d_model % shape.n_head:
        raise ValueError(f"d_model ({shape.d_model}) must be divisible by n_head "
                         f"({shape.n_head}); choose n_head among the divisors of d_model")
    for name in flags:
        if not isinstance(getattr(shape, name), bool):
            raise ValueError(f"{name} must be True or False; got {getattr(shape, name)!r}")


@dataclass(frozen=True)
class GPTShape:
    """Shape of a GPT decoder. ``d_ff`` defaults to 4 * d_model; d_attn = d_model."""

    n_layer: int
    d_model: int
    n_head: int
    vocab_size: int
    n_ctx: int
    d_ff: int | None = None
    tied_embeddings: bool = True
    bias: bool = True
    learned_pos: bool = True

    def __post_init__(self):
        if self.d_ff is None:
            object.__setattr__(self, "d_ff", 4 * self.d_model)
        _check_fields(self, ("n_layer", "d_model", "n_head", "vocab_size", "n_ctx", "d_ff"),
                     ("tied_embeddings", "bias", "learned_pos"))

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_head

    @property
    def d_attn(self) -> int:
        """Kaplan's d_attn: total width of the attention heads (= d_model here)."""
        return self.d_model


@dataclass(frozen=True)
class ParamCounts:
    """Parameter counts. embedding: token + position (+ untied head); non_embedding:
    total - embedding (Kaplan's N); total: everything (Hoffmann's N)."""

    embedding: int
    non_embedding: int
    total: int


def _check_shape(shape) -> GPTShape:
    if not isinstance(shape, GPTShape):
        raise ValueError(f"shape must be a GPTShape; got {type(shape).__name__}")
    return shape


def param_counts(shape: GPTShape) -> ParamCounts:
    """Exact parameter counts for ``shape`` (see the module docstring for the layout)."""
    s = _check_shape(shape)
    d, f, b = s.d_model, s.d_ff, int(s.bias)
    ln = d + b * d
    layer = (ln                                  # ln1
             + d * 3 * d + b * 3 * d             # attention qkv
             + d * d + b * d                     # attention output projection
             + ln                                # ln2
             + d * f + b * f                     # mlp fc
             + f * d + b * d)                    # mlp projection
    non_embedding = s.n_layer * layer + ln       # + final LayerNorm
    embedding = (s.vocab_size * d
                 + (s.n_ctx * d if s.learned_pos else 0)
                 + (0 if s.tied_embeddings else s.vocab_size * d))
    return ParamCounts(embedding=embedding, non_embedding=non_embedding,
                       total=embedding + non_embedding)


def forward_flops(shape: GPTShape, method: str = "6N") -> float:
    """Forward-pass FLOPs per token (see the module docstring for the methods)."""
    s = _check_shape(shape)
    N = param_counts(s).non_embedding
    if method == "6N":
        return 2.0 * N
    if method == "kaplan":
        return 2.0 * N + 2.0 * s.n_layer * s.n_ctx * s.d_attn
    if method == "full":
        # hoffmann2022 Appendix F, per sequence of n_ctx tokens divided by n_ctx.
        d, V, L, H, T = s.d_model, s.vocab_size, s.n_layer, s.n_head, s.n_ctx
        kh = s.d_head * H                                  # key_size * num_heads
        embeddings = 2.0 * V * d
        attention = (2.0 * 3 * d * kh                      # key, query, value projections
                     + 2.0 * T * kh                        # K @ Q logits
                     + 3.0 * H * T                         # softmax
                     + 2.0 * T * kh                        # softmax @ V reductions
                     + 2.0 * kh * d)                       # final linear
        dense = 2.0 * (d * s.d_ff + d * s.d_ff)
        logits = 2.0 * d * V
        return embeddings + L * (attention + dense) + logits
    raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")


def flops_per_token(shape: GPTShape, method: str = "6N") -> float:
    """Training FLOPs per token = 3 x forward (backward = 2 x forward)."""
    return 3.0 * forward_flops(shape, method)


def training_flops(shape: GPTShape, tokens: float, method: str = "6N") -> float:
    """Training FLOPs for ``tokens`` training tokens."""
    if not (isinstance(tokens, (int, float)) and math.isfinite(tokens) and tokens > 0):
        raise ValueError(f"tokens must be a positive finite number; got {tokens!r}")
    return flops_per_token(shape, method) * tokens


def gpu_hours(flops: float, peak_flops_per_s: float, utilisation: float = 0.4) -> float:
    """Wall-clock accelerator hours: flops / (peak_flops_per_s * utilisation) / 3600.

    ``utilisation`` is the model-FLOPs utilisation in (0, 1]."""
    for name, v in (("flops", flops), ("peak_flops_per_s", peak_flops_per_s)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a positive finite number; got {v!r}")
    if not (isinstance(utilisation, (int, float)) and 0 < utilisation <= 1):
        raise ValueError(f"utilisation must be in (0, 1], e.g. 0.4 for 40% MFU; got {utilisation!r}")
    return flops / (peak_flops_per_s * utilisation) / 3600.0


# ------------------------------------------------------------------ published shapes

def shape_from_record(record: pub.ModelRecord, **overrides) -> GPTShape:
    """A GPTShape from a published ModelRecord's shape fields (plus overrides)."""
    kw = dict(n_layer=record.n_layer, d_model=record.d_model, n_head=record.n_head,
              vocab_size=record.vocab_size, n_ctx=record.n_ctx)
    if record.d_ff is not None:
        kw["d_ff"] = record.d_ff
    kw.update(overrides)
    missing = [k for k, v in kw.items() if v is None]
    if missing:
        raise ValueError(f"{record.name} has no published {', '.join(missing)}; "
                         "pass them as keyword arguments")
    return GPTShape(**kw)


def gpt2_small_shape(bias: bool = True) -> GPTShape:
    """GPT-2 small (radford2019): 12 layers, d 768, 12 heads, vocab 50257, ctx 1024, tied."""
    return shape_from_record(pub.GPT2_SMALL, bias=bias)


def chinchilla_shape(**overrides) -> GPTShape:
    """Chinchilla 70B (hoffmann2022 Table 4): 80 layers, d 8192, 64 heads, vocab 32000,
    ctx 2048. Defaults: relative positions (learned_pos=False), no biases, tied head;
    the real model differs in details (RMSNorm, relative attention), so the count is an
    approximation of the architecture, not the paper's 70B."""
    kw = dict(learned_pos=False, bias=False, tied_embeddings=True)
    kw.update(overrides)
    return shape_from_record(pub.CHINCHILLA, **kw)


def gopher_shape(**overrides) -> GPTShape:
    """Gopher 280B (rae2021 Table 1): 80 layers, d 16384, 128 heads; defaults as chinchilla_shape."""
    kw = dict(learned_pos=False, bias=False, tied_embeddings=True)
    kw.update(overrides)
    return shape_from_record(pub.GOPHER, **kw)


def total_params_pearce2024(non_embedding: float) -> float:
    """N_total ~ N_nonemb + 47491 N_nonemb^(1/3) (pearce2024)."""
    if not (isinstance(non_embedding, (int, float)) and math.isfinite(non_embedding)
            and non_embedding > 0):
        raise ValueError(f"non_embedding must be a positive finite number; got {non_embedding!r}")
    p = pub.PEARCE2024
    return non_embedding + p.coefficient * non_embedding ** p.exponent


# ------------------------------------------------------------------ modern decoders

@dataclass(frozen=True)
class LlamaShape:
    """Shape of a Llama-style decoder: SwiGLU feed-forward, grouped-query attention,
    RMSNorm, no biases, rotary positions (no position parameters)."""

    n_layer: int
    d_model: int
    n_head: int
    n_kv_head: int
    d_ff: int
    vocab_size: int
    n_ctx: int
    tied_embeddings: bool = False

    def __post_init__(self):
        _check_fields(self, ("n_layer", "d_model", "n_head", "n_kv_head", "d_ff", "vocab_size",
                            "n_ctx"), ("tied_embeddings",))
        if self.n_head % self.n_kv_head:
            raise ValueError(f"n_kv_head ({self.n_kv_head}) must divide n_head "
                             f"({self.n_head}): each key/value head serves a group")

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_head

    @property
    def d_attn(self) -> int:
        """Total width of the query heads, n_head * d_head (= d_model)."""
        return self.n_head * self.d_head


def swiglu_params(d_model: int, d_ff: int) -> int:
    """Weights of a SwiGLU feed-forward: gate and up (d x d_ff each), down (d_ff x d)."""
    return 3 * d_model * d_ff


def attention_params(d_model: int, n_head: int, n_kv_head: int | None = None) -> int:
    """Weights of one attention block without biases: q and o are d x d; k and v are
    d x (n_kv_head d_head). n_kv_head = n_head is multi-head attention (4 d^2)."""
    kv = n_head if n_kv_head is None else n_kv_head
    d_head = d_model // n_head
    return 2 * d_model * d_model + 2 * d_model * kv * d_head


def llama_param_counts(shape: LlamaShape) -> ParamCounts:
    """Exact parameter counts of a Llama-style decoder (layout in the module docstring)."""
    if not isinstance(shape, LlamaShape):
        raise ValueError(f"shape must be a LlamaShape; got {type(shape).__name__}")
    s, d = shape, shape.d_model
    layer = (d + attention_params(d, s.n_head, s.n_kv_head)
             + d + swiglu_params(d, s.d_ff))
    non_embedding = s.n_layer * layer + d
    embedding = s.vocab_size * d * (1 if s.tied_embeddings else 2)
    return ParamCounts(embedding=embedding, non_embedding=non_embedding,
                       total=embedding + non_embedding)


def llama3_8b_shape(vocab_size: int | None = None) -> LlamaShape:
    """Llama 3 8B (dubey2024 Table 3): 32 layers, d 4096, 32 heads, 8 key/value heads,
    SwiGLU width 14,336, untied head; vocabulary as printed (128,000) unless given."""
    r = pub.LLAMA3_8B
    return LlamaShape(n_layer=r.n_layer, d_model=r.d_model, n_head=r.n_head,
                      n_kv_head=r.n_kv_head, d_ff=r.d_ff,
                      vocab_size=r.vocab_size if vocab_size is None else vocab_size,
                      n_ctx=r.n_ctx, tied_embeddings=bool(r.tied_embeddings))


def matmul_weights(shape) -> int:
    """Weights a token meets in matrix products: every block matrix plus the output
    head (tied or not). Biases, norms and the input lookup are not matrix products."""
    if isinstance(shape, LlamaShape):
        d = shape.d_model
        per_layer = attention_params(d, shape.n_head, shape.n_kv_head) + swiglu_params(
            d, shape.d_ff)
    elif isinstance(shape, GPTShape):
        d = shape.d_model
        per_layer = 4 * d * d + 2 * d * shape.d_ff
    else:
        raise ValueError(f"shape must be a GPTShape or LlamaShape; got {type(shape).__name__}")
    return shape.n_layer * per_layer + shape.vocab_size * d


def inference_flops_per_token(shape, context: int) -> int:
    """Forward FLOPs to generate one token with a KV cache holding ``context`` earlier
    positions: 2 x matmul_weights + 4 n_layer context n_head d_head (q.k and the
    weighted sum of values). Grouped-query attention shrinks the cache, not these FLOPs."""
    if isinstance(context, bool) or not isinstance(context, int) or context < 0:
        raise ValueError(f"context must be a non-negative integer; got {context!r}")
    w = matmul_weights(shape)
    return 2 * w + 4 * shape.n_layer * context * shape.n_head * shape.d_head


def kv_cache_values(shape, context: int) -> int:
    """Numbers held in the KV cache for ``context`` positions: keys and values of
    n_kv_head heads per layer (n_head for a GPTShape). Multiply by bytes per value."""
    if isinstance(context, bool) or not isinstance(context, int) or context < 0:
        raise ValueError(f"context must be a non-negative integer; got {context!r}")
    kv = shape.n_kv_head if isinstance(shape, LlamaShape) else shape.n_head
    return 2 * shape.n_layer * kv * shape.d_head * context

@dataclass(frozen=True)
class MoECounts:
    """Non-embedding parameters of a sparse mixture-of-experts decoder: ``total`` (what must be
    stored) and ``active`` (what one token uses, which sets the FLOPs per token, 6 * active)."""

    total: int
    active: int

    @property
    def ratio(self) -> float:
        return self.total / self.active


def moe_param_counts(shape: GPTShape, n_experts: int, top_k: int = 1) -> MoECounts:
    """Every MLP of ``shape`` replaced by ``n_experts`` copies and a linear router
    (``d_model x n_experts``); each token uses ``top_k`` of them (top_k = 1: the Switch
    Transformer's routing). Attention, LayerNorms and embeddings are shared and unchanged."""
    s = _check_shape(shape)
    for name, v in (("n_experts", n_experts), ("top_k", top_k)):
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise ValueError(f"{name} must be a positive integer; got {v!r}")
    if top_k > n_experts:
        raise ValueError(f"top_k ({top_k}) cannot exceed n_experts ({n_experts})")
    d, f, b = s.d_model, s.d_ff, int(s.bias)
    mlp = d * f + b * f + f * d + b * d
    dense = param_counts(s).non_embedding
    shared = dense - s.n_layer * mlp
    router = s.n_layer * d * n_experts
    return MoECounts(total=shared + router + s.n_layer * n_experts * mlp,
                     active=shared + router + s.n_layer * top_k * mlp)
