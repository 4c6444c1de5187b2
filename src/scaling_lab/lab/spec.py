"""What a run is: :class:`RunSpec` in, :class:`RunResult` out, and the learning-rate schedules.

Everything that changes the numbers lives in the frozen :class:`RunSpec`, whose :meth:`RunSpec.key`
(a hash of its canonical JSON) names the run in the results store. Same spec, same machine, same
thread count -> same numbers.

Schedules (all with a linear warmup of ``warmup_steps`` optimizer steps, fixed in steps so that it
does not depend on the run's length):

* ``cosine``   decay to ``min_lr_frac * lr`` at the last step;
* ``wsd``      warmup-stable-decay: constant, then a ``1 - sqrt`` cooldown to zero over the last
               ``cooldown_frac`` of the steps (Hägele et al. 2024);
* ``constant`` no decay.

Because the stable phase of a WSD run does not depend on its length, a WSD run of ``D`` tokens is
*exactly* a branch of a longer WSD run taken at ``(1 - cooldown_frac) D`` tokens and cooled down
(``wsd.py`` uses this). The loop that trains a spec is in ``trainer.py``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field

SCHEDULES = ("cosine", "wsd", "constant")
# options added after results were stored: left out of ``to_dict`` (and so of the key) at these
# values, so that every older spec keeps its key; switched on, they are part of both
OFF_BY_DEFAULT = {"fused": False, "compile": False, "eval_tokens": ()}


def lr_rule(d_model: int) -> float:
    """The *untuned* baseline peak AdamW learning rate for a width: ``1e-3 * sqrt(384 /
    d_model)``, clipped to ``[3e-4, 4e-3]``.

    A rule of thumb, not a measured optimum: narrow models take (and need) larger steps, and the
    rule was set once on the stdlib byte corpus with batch 16 x 128. It is conservative for short
    runs: the book's WSD chapter measures, for a 2 x 32 model at 700 to 2,800 steps, that peaks
    2-4x higher do better with both WSD and cosine. It stays as it is on purpose: it is the
    untuned setup that tuned sweeps are compared with (Kaplan-style runs use one rule for every
    size), every preset's existing runs use it (changing it changes every stored spec key), and
    ``lab.plans.lr_plan`` expresses its sweeps as multiples of it. A tuned learning rate comes
    from a sweep (``lr_plan``) and ``scaling_lab.fitting.fit_lr_law``, never from here."""
    return float(min(4e-3, max(3e-4, 1e-3 * math.sqrt(384 / d_model))))


def warmup_factor(step: int, warmup_steps: int) -> float:
    """Linear warmup: ``(step + 1) / warmup_steps`` at optimizer step ``step`` (0-based), then 1."""
    return min(1.0, (step + 1) / warmup_steps) if warmup_steps > 0 else 1.0


def cosine_lr(step: int, peak: float, steps: int, warmup_steps: int, min_lr_frac: float,
              cap_warmup: bool = True) -> float:
    """Learning rate of optimizer step ``step`` (0-based) of a ``steps``-step run: linear warmup,
    then a cosine from ``peak`` down to ``min_lr_frac * peak`` at the last step. With
    ``cap_warmup`` (every :class:`RunSpec`) a warmup step never exceeds the cosine at that step;
    ``variants.train_lm`` warms up to the peak regardless (``cap_warmup=False``)."""
    prog = min(1.0, step / max(1, steps - 1))
    f = min_lr_frac + (1 - min_lr_frac) * 0.5 * (1 + math.cos(math.pi * prog))
    if step >= warmup_steps:
        return peak * f
    warm = warmup_factor(step, warmup_steps)
    return peak * min(warm, f) if cap_warmup else peak * warm


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines a run's numbers. ``lr=None`` means :func:`lr_rule` (the untuned
    baseline)."""

    n_layer: int
    d_model: int
    n_head: int
    tokens: int
    n_ctx: int = 128
    vocab_size: int = 256
    d_ff: int | None = None
    tied_embeddings: bool = True
    batch_size: int = 16
    lr: float | None = None
    schedule: str = "cosine"
    warmup_steps: int = 50
    cooldown_frac: float = 0.2
    min_lr_frac: float = 0.1
    weight_decay: float = 0.1
    beta2: float = 0.95
    grad_clip: float = 1.0
    seed: int = 0
    corpus: str = "stdlib"  # command-line form, see corpus.parse_corpus
    eval_every: int = 0  # steps between evaluations; 0 -> about 8 evaluations per run
    eval_batches: int = 8
    dtype: str = "auto"  # "auto": bf16 autocast on CUDA, fp32 elsewhere
    fused: bool = False  # AdamW(fused=True): the same update in one kernel (last digits differ)
    compile: bool = False  # torch.compile the model for the training steps (evaluation is eager)
    # extra evaluations after these token counts (whole optimizer steps), besides eval_steps'
    # own: a long run read at given points of its learning curve (lab.ladder)
    eval_tokens: tuple = ()

    def __post_init__(self):
        for name in ("n_layer", "d_model", "n_head", "tokens", "n_ctx", "batch_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or v <= 0:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if self.d_model % self.n_head:
            raise ValueError(
                f"d_model={self.d_model} must be divisible by n_head={self.n_head}; "
                f"pick n_head among the divisors of d_model"
            )
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule {self.schedule!r} unknown; use one of {SCHEDULES}")
        if self.tokens < self.tokens_per_step:
            raise ValueError(
                f"tokens={self.tokens} is less than one optimizer step "
                f"(batch_size*n_ctx={self.tokens_per_step}); raise the budget/tokens or lower "
                f"batch_size or n_ctx"
            )
        if isinstance(self.warmup_steps, bool) or not isinstance(self.warmup_steps, int) \
                or self.warmup_steps < 0:
            raise ValueError(f"warmup_steps must be an integer >= 0 (0 for no warmup), got "
                             f"{self.warmup_steps!r}")
        if self.lr is not None and not (self.lr > 0):
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if not (0.0 <= self.cooldown_frac < 1.0):
            raise ValueError(f"cooldown_frac must be in [0, 1), got {self.cooldown_frac!r}")
        self._check_eval_tokens()
        for name in ("fused", "compile"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")

    def _check_eval_tokens(self):
        try:
            ts = sorted({int(t) for t in self.eval_tokens if int(t) == t})
        except (TypeError, ValueError):
            ts = None
        if ts is None or len(ts) != len(set(self.eval_tokens)) or isinstance(self.eval_tokens,
                                                                              (str, bytes)):
            raise ValueError(f"eval_tokens must be a list of whole token counts, got "
                             f"{self.eval_tokens!r}")
        bad = [t for t in ts if t <= 0 or t > self.tokens or t % self.tokens_per_step]
        if bad:
            raise ValueError(f"eval_tokens {bad[0]!r} is not a whole number of optimizer steps "
                             f"within the run: give multiples of batch_size*n_ctx="
                             f"{self.tokens_per_step} up to tokens={self.tokens}")
        object.__setattr__(self, "eval_tokens", tuple(ts))

    # ---- derived
    @property
    def tokens_per_step(self) -> int:
        return self.batch_size * self.n_ctx

    @property
    def steps(self) -> int:
        return self.tokens // self.tokens_per_step

    @property
    def peak_lr(self) -> float:
        return self.lr if self.lr is not None else lr_rule(self.d_model)

    @property
    def cooldown_start(self) -> int:
        """First step of the WSD cooldown (= steps for other schedules)."""
        if self.schedule != "wsd":
            return self.steps
        return self.steps - int(round(self.cooldown_frac * self.steps))

    def shape(self):
        from scaling_lab.flops import GPTShape

        return GPTShape(
            n_layer=self.n_layer,
            d_model=self.d_model,
            n_head=self.n_head,
            vocab_size=self.vocab_size,
            n_ctx=self.n_ctx,
            d_ff=self.d_ff,
            tied_embeddings=self.tied_embeddings,
        )

    def lr_at(self, step: int) -> float:
        """Learning rate used for optimizer step ``step`` (0-based)."""
        base = self.peak_lr
        warm = warmup_factor(step, self.warmup_steps)
        if self.schedule == "constant":
            return base * warm
        if self.schedule == "cosine":
            return cosine_lr(step, base, self.steps, self.warmup_steps, self.min_lr_frac)
        # wsd
        c0 = self.cooldown_start
        if step < c0:
            return base * warm
        n_cool = self.steps - c0
        return base * (1 - math.sqrt((step - c0 + 1) / n_cool)) if n_cool else base

    def eval_steps(self) -> list[int]:
        """Steps (count of updates done) after which the model is evaluated.

        cosine / constant: every ``eval_every`` steps (default: 8 evaluations) and the last step.
        Every spec also after the steps of ``eval_tokens`` (none by default).
        wsd: in the stable phase at powers of two (8, 16, 32, ...) and at the cooldown start, which
        do not depend on the run's length, so every branch of a long run (and a run resumed from
        a stable-phase checkpoint) has its evaluations; in the cooldown at quarters of it."""
        S = self.steps
        if self.schedule == "wsd" and not self.eval_every:
            c0 = self.cooldown_start
            pts = {2**k for k in range(3, 64) if 2**k <= c0} | {S}
            if c0 > 0:
                pts.add(c0)
            n_cool = S - c0
            pts |= {c0 + (j * n_cool) // 4 for j in range(1, 4) if (j * n_cool) // 4 > 0}
            return sorted(pts | self._extra_evals())
        every = self.eval_every or max(1, S // 8)
        pts = set(range(every, S + 1, every)) | {S}
        if self.schedule == "wsd" and 0 < self.cooldown_start < S:
            pts.add(self.cooldown_start)
        return sorted(pts | self._extra_evals())

    def _extra_evals(self) -> set[int]:
        return {t // self.tokens_per_step for t in self.eval_tokens}

    # ---- identity
    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        for name, off in OFF_BY_DEFAULT.items():
            if d[name] == off:
                del d[name]
        return d

    def key(self) -> str:
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:20]

    def replace(self, **kw) -> "RunSpec":
        return dataclasses.replace(self, **kw)

    @classmethod
    def from_dict(cls, d: dict) -> "RunSpec":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown RunSpec fields {sorted(unknown)}; known: {sorted(names)}")
        missing = [f.name for f in dataclasses.fields(cls)
                   if f.default is dataclasses.MISSING and f.name not in d]
        if missing:
            raise ValueError(f"RunSpec needs the fields {missing}; give them as well")
        return cls(**d)


@dataclass
class RunResult:
    key: str
    spec: dict
    status: str  # "ok" | "diverged"
    history: list[dict] = field(default_factory=list)  # one row per evaluation
    info: dict = field(default_factory=dict)  # params, flops/token, corpus fingerprint, machine

    @property
    def final(self) -> dict:
        return self.history[-1] if self.history else {}

    def to_record(self) -> dict:
        return {"key": self.key, "status": self.status, "spec": self.spec,
                "history": self.history, "info": self.info}

    @classmethod
    def from_record(cls, r: dict) -> "RunResult":
        return cls(r["key"], r["spec"], r["status"], r.get("history", []), r.get("info", {}))
