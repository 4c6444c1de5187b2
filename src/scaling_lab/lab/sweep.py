"""Sweep plans and a resumable, parallel runner.

A :class:`Plan` is a named list of :class:`Item` (a :class:`RunSpec` plus labels such as the
IsoFLOP budget it belongs to). Plans are built by

* :func:`grid_plan`     sizes at a fixed token count (an L(N) curve);
* :func:`isoflop_plan`  budgets x sizes, tokens = budget / FLOPs-per-token (full count by default);
* :func:`wsd_plan`      sizes x token counts with the WSD schedule.

:func:`run_plan` groups WSD specs that differ only in ``tokens`` into one long run with cooldown
branches (see :func:`scaling_lab.lab.wsd.train_wsd_group`), skips every spec whose key is already
in the store (that is how an interrupted sweep resumes and how chapters share runs), runs the rest in
worker processes with their thread counts set for a CPU, and appends each result atomically.
"""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

from .store import ResultStore, results_frame
from .spec import RunSpec
from .trainer import train
from .wsd import train_wsd_group, wsd_group_key


@dataclass(frozen=True)
class Shape:
    """A model size in a plan: layers, width, heads."""

    n_layer: int
    d_model: int
    n_head: int

    def __post_init__(self):
        for k in ("n_layer", "d_model", "n_head"):
            v = getattr(self, k)
            if not isinstance(v, int) or v <= 0:
                raise ValueError(f"size {k} must be a positive integer, got {v!r}; "
                                 f"give sizes as (n_layer, d_model, n_head) with all > 0")


def as_shape(s) -> Shape:
    if isinstance(s, Shape):
        return s
    if isinstance(s, dict):
        return Shape(**s)
    return Shape(*s)


@dataclass(frozen=True)
class Item:
    spec: RunSpec
    labels: tuple = ()  # (("budget", 1e12), ...): hashable


@dataclass
class Plan:
    name: str
    items: list[Item] = field(default_factory=list)

    @property
    def specs(self) -> list[RunSpec]:
        return [it.spec for it in self.items]

    def keys(self) -> list[str]:
        return [it.spec.key() for it in self.items]

    def __add__(self, other: "Plan") -> "Plan":
        return Plan(f"{self.name}+{other.name}", self.items + other.items)

    def frame(self, store: ResultStore):
        """The store's rows for this plan, with the plan's labels (e.g. ``budget``) as columns;
        a spec appearing under several labels gives one row per label."""
        import pandas as pd

        by_key = {r.key: r for r in store.results()}
        rows = []
        for it in self.items:
            r = by_key.get(it.spec.key())
            if r is None:
                continue
            df = results_frame([r])
            for k, v in it.labels:
                df[k] = v
            df["plan"] = self.name
            rows.append(df)
        return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()

    def jobs(self, done: set[str] = frozenset()) -> list[list[RunSpec]]:
        """Work still to do: single specs, and WSD groups (same spec up to ``tokens``)."""
        uniq: dict[str, RunSpec] = {}
        for s in self.specs:
            uniq.setdefault(s.key(), s)
        groups: dict[tuple, list[RunSpec]] = {}
        singles = []
        for k, s in uniq.items():
            if k in done:
                continue
            if s.schedule == "wsd":
                groups.setdefault(wsd_group_key(s), []).append(s)
            else:
                singles.append([s])
        jobs = singles + [sorted(g, key=lambda s: s.tokens) for g in groups.values()]
        jobs.sort(key=_job_cost, reverse=True)  # longest first: shorter makespan
        return jobs


def _spec_cost(s: RunSpec) -> float:
    from scaling_lab.flops import flops_per_token

    # FLOPs plus a per-step overhead of about 2e7 FLOP-equivalents (python, optimizer, launch)
    return s.tokens * flops_per_token(s.shape(), method="full") + 2e7 * s.steps


def _job_cost(job: list[RunSpec]) -> float:
    if len(job) == 1:
        return _spec_cost(job[0])
    longest = max(job, key=lambda s: s.tokens)
    return _spec_cost(longest) * (1 + longest.cooldown_frac * (len(job) - 1) / 2)


# ----------------------------------------------------------------------------- plan builders
def _common(kw: dict) -> dict:
    return {k: v for k, v in kw.items() if v is not None}


def _round_tokens(tokens: float, tps: int) -> int:
    return max(1, int(round(tokens / tps))) * tps


def grid_plan(name: str, sizes, tokens: int, schedule: str = "cosine", **spec_kw) -> Plan:
    if not sizes:
        raise ValueError("sizes is empty; give at least one (n_layer, d_model, n_head)")
    items = []
    for sz in map(as_shape, sizes):
        s = RunSpec(sz.n_layer, sz.d_model, sz.n_head, tokens=int(tokens), schedule=schedule,
                    **_common(spec_kw))
        items.append(Item(s, (("tokens_target", int(tokens)),)))
    return Plan(name, items)


def isoflop_plan(name: str, budgets, sizes, flops: str = "full", schedule: str = "wsd",
                 **spec_kw) -> Plan:
    """For every budget C and size: tokens = C / FLOPs-per-token(size), rounded to whole steps.
    ``sizes`` is one list for all budgets or a dict {budget: list} (grids centred per budget)."""
    from scaling_lab.flops import flops_per_token

    method = {"full": "full", "6n": "6N", "6N": "6N", "kaplan": "kaplan"}[flops]
    items = []
    for C in budgets:
        if not (C > 0):
            raise ValueError(f"budget {C!r} must be positive FLOPs")
        grid = sizes[C] if isinstance(sizes, dict) else sizes
        for sz in map(as_shape, grid):
            probe = RunSpec(sz.n_layer, sz.d_model, sz.n_head, tokens=10**9, schedule=schedule,
                            **_common(spec_kw))
            fpt = flops_per_token(probe.shape(), method=method)
            tps = probe.tokens_per_step
            if C < fpt * tps:
                raise ValueError(
                    f"budget {C:.3g} FLOPs is too small for one optimizer step of size "
                    f"{sz.n_layer}x{sz.d_model} ({fpt * tps:.3g} FLOPs per step of {tps} tokens); "
                    f"raise the budget or drop the larger sizes"
                )
            s = probe.replace(tokens=_round_tokens(C / fpt, tps))
            items.append(Item(s, (("budget", float(C)), ("flops_method", method))))
    return Plan(name, items)


def wsd_plan(name: str, sizes, token_counts, **spec_kw) -> Plan:
    items = []
    for sz in map(as_shape, sizes):
        for D in token_counts:
            s = RunSpec(sz.n_layer, sz.d_model, sz.n_head, tokens=int(D), schedule="wsd",
                        **_common(spec_kw))
            items.append(Item(s, (("tokens_target", int(D)),)))
    return Plan(name, items)


# ----------------------------------------------------------------------------- runner
def _worker_init(threads: int):
    import torch

    os.environ["OMP_NUM_THREADS"] = str(threads)
    torch.set_num_threads(threads)


def worker_env(threads: int) -> dict[str, str]:
    """Environment for a worker process with ``threads`` torch threads.

    OpenMP threads that wait for work spin by default; when another process holds a core, a
    2-thread worker then runs far slower than a 1-thread one (``benchmarks/bench_threads.py``).
    ``OMP_WAIT_POLICY=PASSIVE`` makes them sleep instead. OpenMP reads it once, when torch loads,
    so it must be in the environment of a *new* process: setting it in a process that has
    already imported torch has no effect. A value the user set is kept.
    """
    env = {"OMP_NUM_THREADS": str(threads)}
    if threads > 1:
        env["OMP_WAIT_POLICY"] = os.environ.get("OMP_WAIT_POLICY", "PASSIVE")
    return env


def _run_job(spec_dicts: list[dict], store_path: str | None, done: list[str]) -> list[dict]:
    specs = [RunSpec.from_dict(d) for d in spec_dicts]
    store = ResultStore(store_path) if store_path else None
    out = []
    def keep(r):  # workers append as soon as a run ends: a kill loses at most the run in progress
        if store is not None:
            store.append(r)
        out.append(r.to_record())

    if len(specs) == 1 and specs[0].schedule != "wsd":
        keep(train(specs[0], progress=False))
    else:
        ckpt = (store_path + ".ckpt") if store_path else None
        train_wsd_group(specs, progress=False, skip=set(done), on_result=keep, ckpt_dir=ckpt)
    if os.environ.get("SCALING_LAB_TEST_SLEEP_AFTER_JOB"):  # test hook for kill -9 tests
        time.sleep(float(os.environ["SCALING_LAB_TEST_SLEEP_AFTER_JOB"]))
    return out


def default_threads(workers: int) -> int:
    """One torch thread per worker process: on a laptop or a shared server, parallel workers
    use the cores better than threads inside one run, and a 1-thread run never busy-waits
    for a core another process holds. ``workers`` is accepted for the call sites' sake."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    return 1


def run_plan(plan: Plan, store: ResultStore | str, workers: int = 1, threads: int | None = None,
             progress: bool = True, log=print) -> dict:
    """Run what the store does not hold yet. Returns a summary dict (counts, wall time)."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):
        raise ValueError(f"threads must be a positive integer (torch threads per worker, or "
                         f"None for the default of 1), got {threads!r}; use 1 unless a run "
                         f"has the machine to itself")
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    done = store.keys()
    jobs = plan.jobs(done)
    n_specs = len({k for k in plan.keys()})
    n_todo = sum(len(j) for j in jobs)
    threads = default_threads(workers) if threads is None else threads
    t0 = time.time()
    if log:
        log(f"[{plan.name}] {n_specs} runs, {n_specs - n_todo} already in {store.path}, "
            f"{n_todo} to train in {len(jobs)} jobs on {workers} worker(s) x {threads} thread(s)")
    if not jobs:
        return {"plan": plan.name, "runs": n_specs, "trained": 0, "diverged": 0, "wall_s": 0.0}
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_todo, desc=plan.name, unit="run", dynamic_ncols=True)
    diverged = trained = 0
    done_l = sorted(done)
    if workers == 1 and threads == 1:  # in this process: torch's wait policy does not matter
        import torch

        prev = torch.get_num_threads()
        _worker_init(threads)
        try:
            for job in jobs:
                for rec in _run_job([s.to_dict() for s in job], str(store.path), done_l):
                    trained += 1
                    diverged += rec["status"] == "diverged"
                    if bar is not None:
                        bar.update(1)
        finally:
            torch.set_num_threads(prev)
    else:
        import multiprocessing as mp

        ctx = mp.get_context("spawn")  # new processes: they read worker_env when torch loads
        saved = {k: os.environ.get(k) for k in worker_env(threads)}
        os.environ.update(worker_env(threads))
        try:
            with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init,
                                     initargs=(threads,)) as ex:
                futs = [ex.submit(_run_job, [s.to_dict() for s in job], str(store.path),
                                  done_l) for job in jobs]
                for f in as_completed(futs):
                    for rec in f.result():
                        trained += 1
                        diverged += rec["status"] == "diverged"
                        if bar is not None:
                            bar.update(1)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    if bar is not None:
        bar.close()
    wall = time.time() - t0
    if log:
        log(f"[{plan.name}] trained {trained} runs ({diverged} diverged) in {wall:.1f} s")
    return {"plan": plan.name, "runs": n_specs, "trained": trained, "diverged": diverged,
            "wall_s": wall}
