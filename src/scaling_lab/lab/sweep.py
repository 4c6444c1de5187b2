"""Running plans: a resumable, parallel runner, and :class:`Preset` (a named sweep).

:func:`run_plan` groups WSD specs that differ only in ``tokens`` into one long run with cooldown
branches (see :func:`scaling_lab.lab.wsd.train_wsd_group`), skips every spec whose key is already
in the store (that is how an interrupted sweep resumes and how chapters share runs), runs the rest in
worker processes with their thread counts set for a CPU, and appends each result atomically. The
plans themselves are built in ``plans.py`` (its names are importable from here too).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .plans import Item, Plan, Shape, as_shape, grid_plan, isoflop_plan, lr_plan, wsd_plan
from .spec import RunSpec
from .store import ResultStore
from .trainer import Trainer, train
from .wsd import train_wsd_group

__all__ = ["Item", "Plan", "Shape", "as_shape", "grid_plan", "isoflop_plan", "lr_plan", "wsd_plan",
           "worker_env", "default_threads", "run_plan", "Preset"]


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


# ----------------------------------------------------------------------------- presets
@dataclass
class Preset:
    """A named sweep: plans by name, the worker/thread layout that makes their numbers
    reproducible on a CPU, acceptance checks (fits), and one results store for all its plans.
    The presets themselves are in ``presets.py``."""

    name: str
    description: str
    plans: dict[str, Callable[[], Plan]]
    workers: int = 2
    threads: int | None = None  # torch threads per worker; None: default_threads (1)
    checks: dict[str, Callable] = field(default_factory=dict)
    default_store: str = ""
    default_plans: tuple = ()  # the plans run when none are named; () -> all

    def store_path(self, store: str | None = None) -> Path:
        if store:
            return Path(store)
        root = os.environ.get("SCALING_LAB_RESULTS", "results")
        return Path(root) / (self.default_store or f"{self.name}.jsonl")

    def reads_store(self, name: str) -> bool:
        """Whether plan ``name`` is built from results already in the store (a builder taking
        a ``store`` argument, e.g. the book's ladder, whose tuned step reads the ``lr`` sweep)."""
        import inspect

        return bool(inspect.signature(self.plans[name]).parameters)

    def build(self, name: str, store=None, dry: bool = False) -> Plan:
        """Plan ``name``; a plan that reads the store gets ``store`` (default: the preset's), or
        None for a ``dry`` run (it then stands in for what it would read; shapes and lengths are
        the same)."""
        self._names(name)
        if not self.reads_store(name):
            return self.plans[name]()
        return self.plans[name](None if dry else self.store_path(store))

    def plan(self, names=None, store=None, dry: bool = False) -> Plan:
        names = self._names(names)
        items = []
        for n in names:
            items.extend(self.build(n, store, dry).items)
        return Plan("+".join(names), items)

    def _names(self, names):
        if not names:
            return list(self.default_plans or self.plans)
        if isinstance(names, str):
            names = [names]
        bad = [n for n in names if n not in self.plans]
        if bad:
            raise ValueError(f"preset {self.name!r} has no plan {bad[0]!r}; known plans: "
                             f"{', '.join(self.plans)}")
        return list(names)

    def run(self, store=None, plans=None, workers=None, threads=None, progress=True,
            log=print) -> dict:
        """Train every run of the chosen plans that the store does not hold yet."""
        workers = workers or self.workers
        threads = threads or self.threads or default_threads(workers)
        t0 = time.time()
        names = self._names(plans)
        # plans that read the store (the ladder's tuned step reads the lr sweep) are built once
        # the others have run
        first = [n for n in names if not self.reads_store(n)]
        then = [n for n in names if self.reads_store(n)]
        summ = {}
        for group in ([first] if first else []) + [[n] for n in then]:
            s = run_plan(self.plan(group, store), self.store_path(store), workers=workers,
                         threads=threads, progress=progress, log=log)
            summ = s if not summ else {k: (summ.get(k, 0) + v
                                           if isinstance(v, (int, float)) else v)
                                       for k, v in s.items()}
        summ["wall_s"] = time.time() - t0
        return summ

    def frame(self, plan: str, store=None):
        """The results of one plan (with its labels, e.g. ``budget``) as a DataFrame."""
        self._names(plan)
        return self.build(plan, store).frame(ResultStore(self.store_path(store)))

    def check(self, store=None, plans=None) -> dict:
        """Run the preset's acceptance checks (fits) on the plans' results."""
        lines, ok, out = [], True, {}
        for n in self._names(plans):
            if n not in self.checks:
                continue
            res = self.checks[n](self.frame(n, store))
            out[n] = res
            ok &= res["ok"]
            lines.extend(res["lines"])
        return {"ok": ok, "lines": lines, "results": out}

    def dry_run(self, log=print, steps: int = 2, plans=None) -> list[dict]:
        """Build every model of the chosen plans (default: the preset's) and take ``steps``
        optimizer steps of each on the CPU (batch of 2 sequences, fp32). A row per shape;
        ``ValueError`` if one diverges."""
        rows, seen = [], set()
        for it in self.plan(plans, dry=True).items:
            s = it.spec
            shape_key = (s.n_layer, s.d_model, s.n_head, s.n_ctx, s.batch_size, s.corpus)
            if shape_key in seen:
                continue
            seen.add(shape_key)
            t0 = time.perf_counter()
            # batch of 2 sequences: the point is that every shape builds, runs and learns on
            # this machine's code path, not the GPU's speed
            small = s.replace(dtype="fp32", batch_size=2, tokens=2 * s.n_ctx * steps)
            tr = Trainer.for_spec(small, device="cpu", progress=False)
            ok = tr.train_until(steps, small.lr_at)
            rows.append({"n_layer": s.n_layer, "d_model": s.d_model,
                         "params": tr.info["params_total"], "loss": tr.losses[-1],
                         "ok": ok, "s": time.perf_counter() - t0})
            if log:
                log(f"  {s.n_layer:>2}x{s.d_model:<5} params={tr.info['params_total']:>11,} "
                    f"loss after {steps} steps={tr.losses[-1]:.3f} ({rows[-1]['s']:.1f} s)")
            if not ok:
                raise ValueError(f"dry run: {s.n_layer}x{s.d_model} diverged in {steps} steps")
        return rows
