"""A tiny decoder-only GPT, in the spirit of nanoGPT: readable in one sitting.

Pre-LayerNorm blocks, causal self-attention through ``F.scaled_dot_product_attention``, a GELU MLP,
learned positional embeddings and (optionally) a language-model head tied to the token embedding.
The layout matches ``scaling_lab.flops.param_counts`` exactly, so ``sum(p.numel())`` equals
``param_counts(shape).total`` for every shape (a test checks it).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (PyTorch's has none to switch off before 2.1)."""

    def __init__(self, d: int, bias: bool):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.bias = nn.Parameter(torch.zeros(d)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model: int, n_head: int, bias: bool):
        super().__init__()
        if d_model % n_head:
            raise ValueError(f"d_model={d_model} must be divisible by n_head={n_head}")
        self.n_head = n_head
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=bias)
        self.proj = nn.Linear(d_model, d_model, bias=bias)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).contiguous().view(B, T, C))


class MLP(nn.Module):
    def __init__(self, d_model: int, d_ff: int, bias: bool):
        super().__init__()
        self.fc = nn.Linear(d_model, d_ff, bias=bias)
        self.proj = nn.Linear(d_ff, d_model, bias=bias)

    def forward(self, x):
        return self.proj(F.gelu(self.fc(x)))


class Block(nn.Module):
    def __init__(self, d_model: int, n_head: int, d_ff: int, bias: bool):
        super().__init__()
        self.ln1 = LayerNorm(d_model, bias)
        self.attn = CausalSelfAttention(d_model, n_head, bias)
        self.ln2 = LayerNorm(d_model, bias)
        self.mlp = MLP(d_model, d_ff, bias)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """``GPT(shape)`` where ``shape`` is a :class:`scaling_lab.flops.GPTShape`. ``model(idx,
    targets)`` returns ``(logits, loss)``; without targets the loss is ``None``."""

    def __init__(self, shape):
        super().__init__()
        self.shape = shape
        d, d_ff = shape.d_model, shape.d_ff or 4 * shape.d_model
        self.tok_emb = nn.Embedding(shape.vocab_size, d)
        self.pos_emb = nn.Embedding(shape.n_ctx, d) if shape.learned_pos else None
        self.blocks = nn.ModuleList(
            Block(d, shape.n_head, d_ff, shape.bias) for _ in range(shape.n_layer)
        )
        self.ln_f = LayerNorm(d, shape.bias)
        self.head = None if shape.tied_embeddings else nn.Linear(d, shape.vocab_size, bias=False)
        self.apply(self._init)
        # GPT-2 scaled init of the residual projections
        for name, p in self.named_parameters():
            if name.endswith("proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * shape.n_layer))

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, 0.02)

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, idx, targets=None):
        T = idx.shape[1]
        if T > self.shape.n_ctx:
            raise ValueError(f"sequence length {T} exceeds n_ctx={self.shape.n_ctx}")
        x = self.tok_emb(idx)
        if self.pos_emb is not None:
            x = x + self.pos_emb(torch.arange(T, device=idx.device))
        for blk in self.blocks:
            x = blk(x)
        x = self.ln_f(x)
        w = self.tok_emb.weight if self.head is None else self.head.weight
        logits = F.linear(x, w)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)).float(), targets.view(-1))
        return logits, loss
