"""One training run: ``RunSpec -> train -> RunResult``.

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
*exactly* a branch of a longer WSD run taken at ``(1 - cooldown_frac) D`` tokens and cooled down.
:func:`train_wsd_group` uses this to give many token counts for the price of one long run; each
branch is recorded under the same key a standalone run would have.

Run under ``torchrun --nproc_per_node=K`` (or ``python -m torch.distributed.run``) the same entry
point trains with DistributedDataParallel: every rank draws the same global batch and keeps its
slice, so K processes follow the single-process run with the same global batch.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, field

import torch

from .corpus import load_corpus
from .model import GPT

SCHEDULES = ("cosine", "wsd", "constant")


def lr_rule(d_model: int) -> float:
    """Peak AdamW learning rate for a width: ``1e-3 * sqrt(384 / d_model)``, clipped to
    ``[3e-4, 4e-3]``. Narrow models take (and need) larger steps; the rule was set once on the
    stdlib byte corpus with batch 16 x 128. It is conservative for short runs: the book's WSD
    chapter measures, for a 2 x 32 model at 700 to 2,800 steps, that peaks 2-4x higher do better
    with both WSD and cosine. Every preset uses the rule as it is, so their runs are comparable;
    retuning it changes every stored result (new spec keys)."""
    return float(min(4e-3, max(3e-4, 1e-3 * math.sqrt(384 / d_model))))


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines a run's numbers. ``lr=None`` means :func:`lr_rule`."""

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
        warm = min(1.0, (step + 1) / self.warmup_steps) if self.warmup_steps > 0 else 1.0
        if self.schedule == "constant":
            return base * warm
        if self.schedule == "cosine":
            prog = min(1.0, step / max(1, self.steps - 1))
            f = self.min_lr_frac + (1 - self.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * prog))
            return base * min(warm, f) if step < self.warmup_steps else base * f
        # wsd
        c0 = self.cooldown_start
        if step < c0:
            return base * warm
        n_cool = self.steps - c0
        return base * (1 - math.sqrt((step - c0 + 1) / n_cool)) if n_cool else base

    def eval_steps(self) -> list[int]:
        """Steps (count of updates done) after which the model is evaluated.

        cosine / constant: every ``eval_every`` steps (default: 8 evaluations) and the last step.
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
            return sorted(pts)
        every = self.eval_every or max(1, S // 8)
        pts = set(range(every, S + 1, every)) | {S}
        if self.schedule == "wsd" and 0 < self.cooldown_start < S:
            pts.add(self.cooldown_start)
        return sorted(pts)

    # ---- identity
    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

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


# ----------------------------------------------------------------------------- helpers
def pick_device(device: str = "auto") -> torch.device:
    if device != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _dist_info():
    ws = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    return ws, rank, local


def _make_optimizer(model, spec: RunSpec):
    decay, no_decay = [], []
    for p in model.parameters():
        (decay if p.dim() >= 2 else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": spec.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=spec.peak_lr, betas=(0.9, spec.beta2), eps=1e-8)


def run_info(spec: RunSpec, corpus, device, world_size: int = 1) -> dict:
    from scaling_lab.flops import flops_per_token, param_counts

    shape = spec.shape()
    pc = param_counts(shape)
    return {
        "params_total": int(pc.total),
        "params_non_embedding": int(pc.non_embedding),
        "params_embedding": int(pc.embedding),
        "flops_per_token_6n": float(flops_per_token(shape, method="6N")),
        "flops_per_token_full": float(flops_per_token(shape, method="full")),
        "corpus": corpus.fingerprint,
        "entropy_floor": corpus.entropy_floor,
        "device": str(device),
        "world_size": world_size,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "peak_lr": spec.peak_lr,
        "steps": spec.steps,
        "tokens_per_step": spec.tokens_per_step,
    }


class _Trainer:
    """State of one run in progress: model, optimizer, data generator, per-step losses."""

    DIVERGE_FACTOR = 1.5  # loss above 1.5 x ln(vocab) (a uniform guess) counts as divergence

    def __init__(self, spec: RunSpec, device=None, progress: bool | None = None):
        self.spec = spec
        self.ws, self.rank, self.local_rank = _dist_info()
        self.ddp = self.ws > 1
        if self.ddp and not torch.distributed.is_initialized():
            backend = "nccl" if torch.cuda.is_available() else "gloo"
            torch.distributed.init_process_group(backend)
        if device is None:
            device = pick_device()
            if self.ddp and device.type == "cuda":
                device = torch.device("cuda", self.local_rank)
                torch.cuda.set_device(device)
        self.device = torch.device(device)
        if spec.batch_size % self.ws:
            raise ValueError(
                f"batch_size={spec.batch_size} must be divisible by the number of processes "
                f"({self.ws})"
            )
        self.corpus = load_corpus(spec.corpus)
        torch.manual_seed(spec.seed)
        self.model = GPT(spec.shape()).to(self.device)
        self.raw_model = self.model
        if self.ddp:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [self.device.index] if self.device.type == "cuda" else None
            self.model = DDP(self.model, device_ids=ids)
        self.opt = _make_optimizer(self.raw_model, spec)
        self.gen = torch.Generator().manual_seed(spec.seed + 1)
        self.step = 0
        self.losses: list[float] = []
        self.evals: dict[int, dict] = {}
        self.wall = 0.0
        self.status = "ok"
        use_bf16 = spec.dtype == "bf16" or (spec.dtype == "auto" and self.device.type == "cuda")
        self.autocast = (
            torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
            if use_bf16 else None
        )
        self.diverge_at = self.DIVERGE_FACTOR * math.log(spec.vocab_size)
        if progress is None:
            progress = sys.stderr.isatty() and self.rank == 0
        self.progress = progress
        self.info = run_info(spec, self.corpus, self.device, self.ws)

    # -- state for WSD branching
    def snapshot(self):
        return (copy.deepcopy(self.raw_model.state_dict()), copy.deepcopy(self.opt.state_dict()),
                self.gen.get_state(), self.step, list(self.losses), self.wall)

    def restore(self, snap):
        ms, os_, gs, step, losses, wall = snap
        self.raw_model.load_state_dict(ms)
        self.opt.load_state_dict(os_)
        self.gen.set_state(gs)
        self.step, self.losses, self.wall = step, list(losses), wall

    def _fwd(self, x, y):
        if self.autocast is not None:
            with self.autocast:
                return self.model(x, y)[1]
        return self.model(x, y)[1]

    @torch.no_grad()
    def evaluate(self, spec: RunSpec) -> float:
        self.raw_model.eval()
        g = torch.Generator().manual_seed(12345)  # the same validation windows for every run
        tot = 0.0
        for _ in range(spec.eval_batches):
            x, y = self.corpus.batch("val", 32, spec.n_ctx, g)
            x, y = x.to(self.device), y.to(self.device)
            if self.autocast is not None:
                with self.autocast:
                    tot += self.raw_model(x, y)[1].item()
            else:
                tot += self.raw_model(x, y)[1].item()
        self.raw_model.train()
        return tot / spec.eval_batches

    def train_until(self, spec: RunSpec, stop: int, eval_at: set[int], bar=None) -> bool:
        """Advance to ``stop`` optimizer steps using ``spec``'s schedule; evaluate after the
        steps in ``eval_at``. Returns False (status "diverged") on a non-finite/exploding loss."""
        b_local = spec.batch_size // self.ws
        lo = self.rank * b_local
        while self.step < stop:
            t0 = time.perf_counter()
            lr = spec.lr_at(self.step)
            for gr in self.opt.param_groups:
                gr["lr"] = lr
            x, y = self.corpus.batch("train", spec.batch_size, spec.n_ctx, self.gen)
            x, y = x[lo:lo + b_local].to(self.device), y[lo:lo + b_local].to(self.device)
            loss = self._fwd(x, y)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            if spec.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(self.raw_model.parameters(), spec.grad_clip)
            self.opt.step()
            lv = loss.detach()
            if self.ddp:
                torch.distributed.all_reduce(lv)
                lv /= self.ws
            lv = float(lv)
            self.losses.append(lv)
            self.step += 1
            self.wall += time.perf_counter() - t0
            if bar is not None:
                bar.update(1)
                if self.step % 20 == 0:
                    bar.set_postfix(loss=f"{lv:.3f}")
            if not math.isfinite(lv) or lv > self.diverge_at:
                self.status = "diverged"
                self.evals[self.step] = self._row(spec, float("nan") if not math.isfinite(lv)
                                                  else lv, diverged=True)
                return False
            if self.step in eval_at:
                self.evals[self.step] = self._row(spec, self.evaluate(spec))
        return True

    def _row(self, spec: RunSpec, val_loss: float, diverged: bool = False) -> dict:
        window = self.losses[-max(1, min(len(self.losses), 20)):]
        tokens = self.step * spec.tokens_per_step
        return {
            "step": self.step,
            "tokens": tokens,
            "flops_6n": tokens * self.info["flops_per_token_6n"],
            "flops_full": tokens * self.info["flops_per_token_full"],
            "train_loss": sum(window) / len(window),
            "val_loss": val_loss if not diverged else float("nan"),
            "lr": spec.lr_at(max(0, self.step - 1)),
            "wall_s": round(self.wall, 4),
        }

    def result(self, spec: RunSpec, rows: list[dict], status: str) -> RunResult:
        info = dict(self.info)
        info["steps"] = spec.steps
        return RunResult(spec.key(), spec.to_dict(), status, rows, info)


def _bar(total, desc, enabled):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True)


def train(spec: RunSpec, device=None, progress: bool | None = None) -> RunResult:
    """Train one model as ``spec`` says and return its :class:`RunResult` (never raises on a
    diverging loss: the result then has ``status == "diverged"``)."""
    tr = _Trainer(spec, device, progress)
    bar = _bar(spec.steps, f"{spec.n_layer}x{spec.d_model} {spec.tokens:.2g} tok", tr.progress)
    ok = tr.train_until(spec, spec.steps, set(spec.eval_steps()), bar)
    if bar is not None:
        bar.close()
    rows = [tr.evals[s] for s in sorted(tr.evals)]
    return tr.result(spec, rows, "ok" if ok else "diverged")


def wsd_group_key(spec: RunSpec) -> str:
    """Key shared by all WSD specs that differ only in ``tokens`` (one long run serves them)."""
    return spec.replace(tokens=spec.tokens_per_step).key()


def _save_checkpoint(path, tr: "_Trainer") -> None:
    """The stable phase's state at a branch point, written atomically (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    state = {"step": tr.step, "snap": tr.snapshot(),
             "evals": {k: v for k, v in tr.evals.items() if k <= tr.step}}
    with open(tmp, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def train_wsd_group(specs: list[RunSpec], device=None, progress: bool | None = None,
                    skip: set[str] | frozenset = frozenset(), on_result=None,
                    ckpt_dir=None) -> list[RunResult]:
    """One long WSD run with cooldown branches: a result per spec, each identical to what
    ``train(spec)`` gives on the same machine. ``specs`` must differ only in ``tokens`` (all WSD).
    Specs whose key is in ``skip`` are not cooled down (already in the store), but the shared
    stable phase still runs as far as the longest remaining spec needs. ``on_result(result)`` is
    called as soon as each branch is done (the sweep stores it at once).

    With ``ckpt_dir``, the stable phase's state at the latest branch point is kept on disk (one file
    per group, replaced atomically), so a killed group, or a group extended later with a longer run,
    continues the stable phase from there instead of from step 0; the numbers are the same."""
    if not specs:
        return []
    specs = sorted(specs, key=lambda s: s.tokens)
    base = specs[0].replace(tokens=specs[-1].tokens)
    for s in specs:
        if s.schedule != "wsd":
            raise ValueError("train_wsd_group needs schedule='wsd' specs")
        if s.replace(tokens=base.tokens) != base:
            raise ValueError("train_wsd_group specs must differ only in tokens")
    todo = [s for s in specs if s.key() not in skip]
    if not todo:
        return []
    longest = todo[-1]
    tr = _Trainer(longest, device, progress)
    # evaluation points of the stable phase, shared by all branches
    stable_evals = set()
    for s in todo:
        stable_evals |= {e for e in s.eval_steps() if e <= s.cooldown_start}
    ck = None
    resumed = 0
    if ckpt_dir is not None:
        from pathlib import Path

        ck = Path(ckpt_dir) / f"wsd-{wsd_group_key(base)}.pt"
        if ck.exists():
            try:
                state = torch.load(ck, weights_only=False)
            except Exception:  # unreadable checkpoint: start the stable phase again
                state = None
            if state is not None and state["step"] <= todo[0].cooldown_start:
                tr.restore(state["snap"])
                tr.evals = dict(state["evals"])
                resumed = tr.step
    tr.info["resumed_from_step"] = resumed
    bar = _bar(longest.steps, f"wsd {base.n_layer}x{base.d_model}", tr.progress)
    if bar is not None and resumed:
        bar.update(resumed)
    out = []
    for s in todo:
        c0 = s.cooldown_start
        ok = tr.train_until(longest, c0, stable_evals, bar)  # stable phase: same lr for all specs
        if not ok:
            rows = [tr.evals[e] for e in sorted(tr.evals)]
            for t in todo[todo.index(s):]:
                out.append(tr.result(t, rows, "diverged"))
                if on_result is not None:
                    on_result(out[-1])
            break
        if ck is not None and tr.step > resumed:
            _save_checkpoint(ck, tr)
        snap = tr.snapshot() if s is not longest else None
        saved_evals = dict(tr.evals)
        ok = tr.train_until(s, s.steps, set(s.eval_steps()), None)
        rows = [tr.evals[e] for e in sorted(tr.evals) if e in set(s.eval_steps())
                or (tr.status == "diverged" and e == max(tr.evals))]
        out.append(tr.result(s, rows, "ok" if ok else "diverged"))
        if on_result is not None:
            on_result(out[-1])
        if snap is not None:
            tr.restore(snap)
            tr.evals = saved_evals
            tr.status = "ok"
    if bar is not None:
        bar.close()
    return out


# ----------------------------------------------------------------------------- entry point
def main(argv=None) -> int:
    """``python -m scaling_lab.lab.train --spec JSON [--out FILE]``; also works under torchrun."""
    import argparse

    p = argparse.ArgumentParser(description="one training run (also under torchrun)")
    p.add_argument("--spec", required=True, help="RunSpec as JSON")
    p.add_argument("--out", help="write the RunResult JSON here (rank 0)")
    a = p.parse_args(argv)
    res = train(RunSpec.from_dict(json.loads(a.spec)))
    _, rank, _ = _dist_info()
    if rank == 0:
        blob = json.dumps(res.to_record())
        if a.out:
            with open(a.out, "w") as f:
                f.write(blob)
        else:
            print(blob)
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
