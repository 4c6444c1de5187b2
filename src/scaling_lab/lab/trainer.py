"""The training loop: :class:`Trainer` for any model, :func:`train` for a :class:`RunSpec`.

:class:`Trainer` trains any ``nn.Module`` whose ``forward(idx, targets)`` returns ``(logits,
loss)`` on random windows of a :class:`~scaling_lab.lab.corpus.Corpus`: AdamW (weight decay on
matrices only), gradient clipping, an optional bf16 autocast, evaluation on the corpus's fixed
validation windows, and a stop on a diverging loss. The learning rate comes from a function of
the step, so one trainer can follow several schedules in turn (``wsd.py`` branches cooldowns off
one stable phase that way). :func:`train` builds the lab's GPT for a spec and runs it.

Run under ``torchrun --nproc_per_node=K -m scaling_lab.cli train`` the same loop trains with
DistributedDataParallel: every rank draws the same global batch and keeps its slice, so K
processes follow the single-process run with the same global batch.
"""

from __future__ import annotations

import copy
import math
import os
import platform
import sys
import time
from typing import Callable

import torch

from .corpus import load_corpus
from .model import GPT
from .spec import RunResult, RunSpec


def pick_device(device: str = "auto") -> torch.device:
    if device != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def dist_info() -> tuple[int, int, int]:
    """``(world_size, rank, local_rank)`` as torchrun sets them (1, 0, 0 without torchrun)."""
    ws = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    return ws, rank, local


def _run_device(device) -> torch.device:
    """``device``, or the best one here (under torchrun on GPUs: this rank's own GPU)."""
    if device is not None:
        return torch.device(device)
    device = pick_device()
    ws, _, local = dist_info()
    if ws > 1 and device.type == "cuda":
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    return device


@torch.no_grad()
def val_loss(model, corpus, n_ctx: int, batches: int, device="cpu", autocast=None) -> float:
    """Mean loss of ``model`` on ``batches`` of ``corpus``'s fixed validation windows
    (``Corpus.val_batches``): the same text for every run and every model."""
    model.eval()
    tot = 0.0
    for x, y in corpus.val_batches(n_ctx, batches):
        x, y = x.to(device), y.to(device)
        if autocast is not None:
            with autocast:
                tot += model(x, y)[1].item()
        else:
            tot += model(x, y)[1].item()
    model.train()
    return tot / batches


class Trainer:
    """One run in progress: model, AdamW, the data generator, per-step losses and evaluations.

    ``model``'s initial weights come from the caller (seed torch before building it); ``seed``
    sets the order of the training windows. ``fused`` (AdamW's one-kernel update) and
    ``compile`` (``torch.compile`` for the training steps) are for speed; they change the numbers
    in the last digits. ``info`` is recorded with the run; when it holds
    ``flops_per_token_6n`` and ``flops_per_token_full`` every evaluation row counts FLOPs too."""

    DIVERGE_FACTOR = 1.5  # loss above 1.5 x ln(vocab) (a uniform guess) counts as divergence

    def __init__(self, model: torch.nn.Module, corpus, *, batch_size: int, n_ctx: int,
                 seed: int = 0, weight_decay: float = 0.1, beta2: float = 0.95,
                 grad_clip: float = 1.0, eval_batches: int = 8, bf16: bool = False,
                 fused: bool = False, compile: bool = False, vocab_size: int | None = None,
                 device=None, progress: bool | None = False, info: dict | None = None):
        self.ws, self.rank, self.local_rank = dist_info()
        self.ddp = self.ws > 1
        if self.ddp and not torch.distributed.is_initialized():
            torch.distributed.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        self.device = _run_device(device)
        if batch_size % self.ws:
            raise ValueError(f"batch_size={batch_size} must be divisible by the number of "
                             f"processes ({self.ws})")
        self.corpus, self.batch_size, self.n_ctx = corpus, batch_size, n_ctx
        self.grad_clip, self.eval_batches = grad_clip, eval_batches
        self.raw_model = self.model = model.to(self.device)
        self.raw_model.train()
        if self.ddp:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [self.device.index] if self.device.type == "cuda" else None
            self.model = DDP(self.raw_model, device_ids=ids)
        if compile:  # training steps only; evaluation and checkpoints use the eager module
            self.model = torch.compile(self.model)
        decay = [p for p in self.raw_model.parameters() if p.dim() >= 2]
        rest = [p for p in self.raw_model.parameters() if p.dim() < 2]
        self.opt = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                                      {"params": rest, "weight_decay": 0.0}],
                                     betas=(0.9, beta2), eps=1e-8,
                                     # not fused=False: on CUDA that turns off the default
                                     # multi-tensor kernels
                                     **({"fused": True} if fused else {}))
        self.gen = torch.Generator().manual_seed(seed + 1)
        self.step = 0
        self.losses: list[float] = []
        self.evals: dict[int, dict] = {}
        self.wall = 0.0
        self.status = "ok"
        self.autocast = (torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
                         if bf16 else None)
        self.diverge_at = self.DIVERGE_FACTOR * math.log(vocab_size or corpus.vocab_size)
        if progress is None:
            progress = sys.stderr.isatty() and self.rank == 0
        self.progress = progress
        self.info = dict(info or {})

    @classmethod
    def for_spec(cls, spec: RunSpec, device=None, progress: bool | None = None) -> "Trainer":
        """The lab's GPT of ``spec`` (initialised with ``torch.manual_seed(spec.seed)``) on the
        spec's corpus, with the spec's optimizer, batch and precision."""
        corpus = load_corpus(spec.corpus)
        torch.manual_seed(spec.seed)
        model = GPT(spec.shape())
        dev = _run_device(device)
        bf16 = spec.dtype == "bf16" or (spec.dtype == "auto" and dev.type == "cuda")
        tr = cls(model, corpus, batch_size=spec.batch_size, n_ctx=spec.n_ctx, seed=spec.seed,
                 weight_decay=spec.weight_decay, beta2=spec.beta2, grad_clip=spec.grad_clip,
                 eval_batches=spec.eval_batches, bf16=bf16, fused=spec.fused,
                 compile=spec.compile, vocab_size=spec.vocab_size, device=dev, progress=progress)
        tr.info = run_info(spec, corpus, tr.device, tr.ws)
        return tr

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

    def _loss(self, model, x, y):
        if self.autocast is not None:
            with self.autocast:
                return model(x, y)[1]
        return model(x, y)[1]

    def evaluate(self) -> float:
        """Mean loss on the corpus's fixed validation windows (:func:`val_loss`)."""
        return val_loss(self.raw_model, self.corpus, self.n_ctx, self.eval_batches, self.device,
                        self.autocast)

    def train_until(self, stop: int, lr_at: Callable[[int], float], eval_at=frozenset(),
                    bar=None) -> bool:
        """Take optimizer steps until ``stop`` are done, step ``s`` (0-based) at learning rate
        ``lr_at(s)``; evaluate after the steps in ``eval_at``. Returns False (status
        "diverged") on a non-finite or exploding loss."""
        b_local = self.batch_size // self.ws
        lo = self.rank * b_local
        while self.step < stop:
            t0 = time.perf_counter()
            for gr in self.opt.param_groups:
                gr["lr"] = lr_at(self.step)
            x, y = self.corpus.batch("train", self.batch_size, self.n_ctx, self.gen)
            x, y = x[lo:lo + b_local].to(self.device), y[lo:lo + b_local].to(self.device)
            loss = self._loss(self.model, x, y)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            if self.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(self.raw_model.parameters(), self.grad_clip)
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
                self.evals[self.step] = self._row(lr_at, float("nan"))
                return False
            if self.step in eval_at:
                self.evals[self.step] = self._row(lr_at, self.evaluate())
        return True

    def _row(self, lr_at, val_loss: float) -> dict:
        window = self.losses[-max(1, min(len(self.losses), 20)):]
        tokens = self.step * self.batch_size * self.n_ctx
        row = {"step": self.step, "tokens": tokens}
        if "flops_per_token_6n" in self.info:
            row["flops_6n"] = tokens * self.info["flops_per_token_6n"]
            row["flops_full"] = tokens * self.info["flops_per_token_full"]
        row.update(train_loss=sum(window) / len(window), val_loss=val_loss,
                   lr=lr_at(max(0, self.step - 1)), wall_s=round(self.wall, 4))
        return row

    def rows(self, steps=None) -> list[dict]:
        """The evaluation rows in step order (only those at ``steps`` when given)."""
        return [self.evals[s] for s in sorted(self.evals) if steps is None or s in steps]


def run_info(spec: RunSpec, corpus, device, world_size: int = 1) -> dict:
    """What is recorded with a run besides its spec: sizes, FLOPs per token, corpus, machine."""
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


def spec_result(tr: Trainer, spec: RunSpec, rows: list[dict], status: str) -> RunResult:
    """``spec``'s :class:`RunResult` from the rows ``tr`` recorded for it."""
    info = dict(tr.info)
    info["steps"] = spec.steps
    return RunResult(spec.key(), spec.to_dict(), status, rows, info)


def progress_bar(total: int, desc: str, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True)


def train(spec: RunSpec, device=None, progress: bool | None = None) -> RunResult:
    """Train one model as ``spec`` says and return its :class:`RunResult` (never raises on a
    diverging loss: the result then has ``status == "diverged"``)."""
    tr = Trainer.for_spec(spec, device, progress)
    bar = progress_bar(spec.steps, f"{spec.n_layer}x{spec.d_model} {spec.tokens:.2g} tok",
                       tr.progress)
    ok = tr.train_until(spec.steps, spec.lr_at, set(spec.eval_steps()), bar)
    if bar is not None:
        bar.close()
    return spec_result(tr, spec, tr.rows(), "ok" if ok else "diverged")
