"""``scaling-lab train`` (one run) and ``scaling-lab sweep`` (a preset) for the lab in ``scaling_lab.lab``, registered into
``scaling_lab.cli``. Bad input raises ``ValueError`` naming the argument and the fix; the dispatcher
prints it as one line and exits with status 2."""

from __future__ import annotations

import json
import sys


def _positive_int(text: str) -> int:
    v = int(float(text))
    if v <= 0 or v != float(text):
        raise ValueError(f"expected a positive integer, got {text!r}")
    return v


def register(sub) -> None:
    t = sub.add_parser(
        "train",
        help="train one tiny GPT (also runs under torchrun for DDP)",
        description="Train one model. Under `torchrun --nproc_per_node=K -m scaling_lab.cli train` "
        "the same command trains with DistributedDataParallel (gloo on CPU, NCCL on CUDA).",
    )
    t.add_argument("--layers", type=int, default=2, help="n_layer")
    t.add_argument("--d-model", type=int, default=64, help="width d_model")
    t.add_argument("--heads", type=int, default=4, help="attention heads (divide d_model)")
    t.add_argument("--tokens", type=float, default=1e6, help="training tokens (e.g. 2e6)")
    t.add_argument("--budget", type=float, help="training FLOPs (full count) instead of --tokens")
    t.add_argument("--ctx", type=int, default=128, help="context length n_ctx")
    t.add_argument("--batch", type=int, default=16, help="global batch size in sequences")
    t.add_argument("--lr", type=float, help="peak learning rate (default: the per-width rule)")
    t.add_argument("--schedule", default="cosine", help="cosine | wsd | constant")
    t.add_argument("--warmup", type=int, default=50, help="warmup steps")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--corpus", default="stdlib",
                   help="stdlib | markov[:order=2,alphabet=16] | local:PATH | hf:NAME")
    t.add_argument("--untied", action="store_true", help="separate LM head (untied embeddings)")
    t.add_argument("--fused", action="store_true", help="fused AdamW (faster; a new spec key)")
    t.add_argument("--compile", action="store_true",
                   help="torch.compile the model (faster after a cold compile; a new spec key)")
    t.add_argument("--spec", help="the whole RunSpec as JSON (e.g. a stored result's spec); "
                   "the flags above are then ignored")
    t.add_argument("--store", help="append the result to this results store (JSONL)")
    t.add_argument("--out", help="write the result record as JSON to this file")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=cmd_train)

    s = sub.add_parser(
        "sweep",
        help="run a preset's sweeps into a resumable results store",
        description="Run a preset (smoke | book | gpu). Runs already in the store are reused, so an "
        "interrupted sweep resumes where it stopped and chapters share runs.",
    )
    s.add_argument("--preset", required=True, help="smoke | book | gpu")
    s.add_argument("--plan", action="append",
                   help="only this plan of the preset (repeatable); default: all")
    s.add_argument("--store", help="results store path (default: the preset's)")
    s.add_argument("--workers", type=int, help="worker processes (default: the preset's)")
    s.add_argument("--threads", type=int, help="torch threads per worker")
    s.add_argument("--resume", action="store_true",
                   help="continue an interrupted sweep (the default behaviour: finished runs in "
                   "the store are never redone)")
    s.add_argument("--dry-run", action="store_true",
                   help="build every model of the preset and take two steps of each on the CPU")
    s.add_argument("--no-fit", action="store_true", help="skip the preset's fit checks")
    s.add_argument("--quiet", action="store_true")
    s.set_defaults(func=cmd_sweep)


def _spec_from_args(a):
    from .lab.spec import RunSpec

    import math

    if a.spec is not None:
        try:
            d = json.loads(a.spec)
        except ValueError as exc:
            raise ValueError(f"--spec must be a RunSpec as JSON ({exc}); e.g. "
                             f"'{{\"n_layer\": 2, \"d_model\": 32, \"n_head\": 2, "
                             f"\"tokens\": 100000}}'") from None
        if not isinstance(d, dict):
            raise ValueError(f"--spec must be a JSON object of RunSpec fields, got {a.spec!r}")
        return RunSpec.from_dict(d)

    if a.budget is not None and not (math.isfinite(a.budget) and a.budget > 0):
        raise ValueError(f"--budget must be a positive, finite number of FLOPs (e.g. 1e12), "
                         f"got {a.budget}")
    if not math.isfinite(a.tokens):
        raise ValueError(f"--tokens must be a finite number of tokens (e.g. 2e6), got {a.tokens}")
    if a.warmup < 0:
        raise ValueError(f"--warmup must be a number of steps >= 0 (0 for none), got {a.warmup}")
    if a.lr is not None and not (math.isfinite(a.lr) and a.lr > 0):
        raise ValueError(f"--lr must be a positive, finite learning rate (e.g. 3e-3), got {a.lr}")
    for name in ("layers", "d_model", "heads", "ctx", "batch"):
        v = getattr(a, name)
        if v <= 0:
            raise ValueError(f"--{name.replace('_', '-')} must be a positive integer, got {v}")
    if a.tokens <= 0:
        raise ValueError(f"--tokens must be positive, got {a.tokens:g}")
    from .lab.corpus import parse_corpus

    parse_corpus(a.corpus)  # missing path / unknown kind -> ValueError with the fix
    spec = RunSpec(a.layers, a.d_model, a.heads, tokens=max(int(a.tokens), a.batch * a.ctx),
                   n_ctx=a.ctx, batch_size=a.batch, lr=a.lr, schedule=a.schedule,
                   warmup_steps=a.warmup, seed=a.seed, corpus=a.corpus,
                   tied_embeddings=not a.untied, fused=a.fused, compile=a.compile)
    if a.tokens < a.batch * a.ctx:
        raise ValueError(
            f"--tokens {a.tokens:g} is less than one optimizer step ({a.batch}x{a.ctx} = "
            f"{a.batch * a.ctx} tokens); raise --tokens or lower --batch/--ctx")
    if a.budget is not None:
        from scaling_lab.flops import flops_per_token

        fpt = flops_per_token(spec.shape(), method="full")
        step = fpt * spec.tokens_per_step
        if a.budget < step:
            raise ValueError(
                f"--budget {a.budget:.3g} FLOPs is too small for one optimizer step "
                f"({step:.3g} FLOPs for {spec.tokens_per_step} tokens); raise --budget or use a "
                f"smaller model")
        spec = spec.replace(tokens=int(a.budget / fpt) // spec.tokens_per_step
                            * spec.tokens_per_step)
    return spec


def _check_out(path: str) -> None:
    """--out will be (over)written with a result record: refuse anything else, before training."""
    import os

    if os.path.isdir(path):
        raise ValueError(f"--out {path} is a directory; pass a file path, e.g. "
                         f"{os.path.join(path, 'result.json')}")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise ValueError(f"--out {path}: directory {parent} does not exist; create it first or "
                         f"pass another --out")
    if os.path.exists(path):
        if not os.access(path, os.W_OK):
            raise ValueError(f"--out {path} is not writable (permission denied); fix its "
                             f"permissions or pass another --out")
        try:
            with open(path) as f:
                old = json.load(f)
        except (ValueError, UnicodeDecodeError):
            old = None
        if not (isinstance(old, dict) and {"key", "spec", "status"} <= set(old)):
            raise ValueError(f"--out {path} exists and is not a result written by `scaling-lab "
                             f"train`; it is left untouched: pass a new file name")
    elif not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"--out {path}: directory {parent} is not writable (permission "
                         f"denied); pass a path in a writable directory")


def cmd_train(a) -> int:
    from .lab.trainer import dist_info, train

    spec = _spec_from_args(a)
    if a.store:  # every output path is checked before the first training step
        from .lab.store import ResultStore

        try:
            ResultStore(a.store).check()
        except ValueError as exc:
            raise ValueError(f"--store: {exc}") from None
    if a.out:
        _check_out(a.out)
    res = train(spec, progress=None if not a.quiet else False)
    _, rank, _ = dist_info()
    if rank == 0:
        rec = res.to_record()
        if a.store:
            from .lab.store import ResultStore

            ResultStore(a.store).append(res)
        if a.out:
            with open(a.out, "w") as f:
                json.dump(rec, f)
        fin = res.final
        print(f"{res.status}: {spec.n_layer}x{spec.d_model} params={res.info['params_total']} "
              f"tokens={fin.get('tokens')} val_loss={fin.get('val_loss')} "
              f"train_loss={fin.get('train_loss'):.4f} wall={fin.get('wall_s'):.1f}s "
              f"key={res.key}")
    import torch

    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    return 0


def cmd_sweep(a) -> int:
    from .lab.presets import get_preset

    preset = get_preset(a.preset)
    if a.workers is not None and a.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {a.workers}")
    if a.threads is not None and a.threads < 1:
        raise ValueError(f"--threads must be >= 1 (torch threads per worker), got {a.threads}")
    if a.store:
        from .lab.store import ResultStore

        try:
            ResultStore(a.store).check()
        except ValueError as exc:
            raise ValueError(f"--store: {exc}") from None
    if a.dry_run:
        rows = preset.dry_run(log=print, plans=a.plan)
        print(f"dry run: {len(rows)} model shapes built and stepped twice on the CPU")
        return 0
    summary = preset.run(store=a.store, plans=a.plan, workers=a.workers, threads=a.threads,
                         progress=not a.quiet, log=print)
    if not a.no_fit:
        report = preset.check(store=a.store, plans=a.plan)
        for line in report["lines"]:
            print(line)
        if not report["ok"]:
            print("preset checks FAILED", file=sys.stderr)
            return 1
    print(f"total wall {summary['wall_s']:.1f} s")
    return 0
