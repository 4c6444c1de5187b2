"""Many WSD runs for the price of one: cooldown branches off a shared stable phase.

A WSD run's learning rate before its cooldown does not depend on its length (``spec.py``), so WSD
specs that differ only in ``tokens`` share their stable phase exactly. :func:`train_wsd_group`
trains that phase once, as far as the longest spec needs; at each shorter spec's cooldown start
it saves the state, cools a copy down to the spec's end, records the result under the key a
standalone run would have, and restores the state to go on. With a checkpoint directory the
stable phase's state at the latest branch point is also kept on disk, so a killed group, or one
extended later by a longer run, continues from there; the numbers are the same.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from .spec import RunResult, RunSpec
from .trainer import Trainer, progress_bar, spec_result


def wsd_group_key(spec: RunSpec) -> str:
    """Key shared by all WSD specs that differ only in ``tokens`` (one long run serves them)."""
    return spec.replace(tokens=spec.tokens_per_step).key()


def _save_checkpoint(path, tr: Trainer) -> None:
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
    tr = Trainer.for_spec(longest, device, progress)
    # evaluation points of the stable phase, shared by all branches
    stable_evals = set()
    for s in todo:
        stable_evals |= {e for e in s.eval_steps() if e <= s.cooldown_start}
    ck = None
    resumed = 0
    if ckpt_dir is not None:
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
    bar = progress_bar(longest.steps, f"wsd {base.n_layer}x{base.d_model}", tr.progress)
    if bar is not None and resumed:
        bar.update(resumed)
    out = []
    for s in todo:
        c0 = s.cooldown_start
        ok = tr.train_until(c0, longest.lr_at, stable_evals, bar)  # stable phase: same lr for all
        if not ok:
            rows = tr.rows()
            for t in todo[todo.index(s):]:
                out.append(spec_result(tr, t, rows, "diverged"))
                if on_result is not None:
                    on_result(out[-1])
            break
        if ck is not None and tr.step > resumed:
            _save_checkpoint(ck, tr)
        snap = tr.snapshot() if s is not longest else None
        saved_evals = dict(tr.evals)
        ok = tr.train_until(s.steps, s.lr_at, set(s.eval_steps()))
        rows = [tr.evals[e] for e in sorted(tr.evals) if e in set(s.eval_steps())
                or (tr.status == "diverged" and e == max(tr.evals))]
        out.append(spec_result(tr, s, rows, "ok" if ok else "diverged"))
        if on_result is not None:
            on_result(out[-1])
        if snap is not None:
            tr.restore(snap)
            tr.evals = saved_evals
            tr.status = "ok"
    if bar is not None:
        bar.close()
    return out
