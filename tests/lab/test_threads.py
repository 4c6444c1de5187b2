"""Threads per sweep worker: one by default; a worker with several sleeps while it waits
(``OMP_WAIT_POLICY=PASSIVE``), set in the environment before its torch loads."""

import os

import pytest

from scaling_lab.lab import sweep
from scaling_lab.lab.presets import PRESETS
from scaling_lab.lab.spec import RunSpec


def test_one_thread_per_worker_by_default():
    assert [sweep.default_threads(w) for w in (1, 2, 8)] == [1, 1, 1]
    assert all(p.threads == 1 for p in PRESETS.values())


def test_worker_env_sets_passive_wait_only_for_several_threads(monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert sweep.worker_env(1) == {"OMP_NUM_THREADS": "1"}
    assert sweep.worker_env(2) == {"OMP_NUM_THREADS": "2", "OMP_WAIT_POLICY": "PASSIVE"}
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")          # the user's choice is kept
    assert sweep.worker_env(2)["OMP_WAIT_POLICY"] == "ACTIVE"


@pytest.mark.parametrize("threads", [0, -1, 1.5, True, "2"])
def test_bad_thread_counts_name_the_argument(tmp_path, threads):
    plan = sweep.Plan("p", [sweep.Item(RunSpec(1, 16, 1, tokens=16 * 128 * 4))])
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        sweep.run_plan(plan, tmp_path / "s.jsonl", threads=threads, progress=False, log=None)


def test_several_threads_run_in_new_processes_that_see_passive(tmp_path, monkeypatch):
    """Even one worker goes to a fresh process when it has several threads (this process's
    torch has read its wait policy already); the environment is restored afterwards."""
    seen = {}

    class Pool:  # stands in for ProcessPoolExecutor: records what a new worker would inherit
        def __init__(self, workers, **kw):
            seen.update(workers=workers, env={k: os.environ.get(k) for k in
                                              ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")})

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def submit(self, *a):
            raise RuntimeError("stop here")

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.setattr(sweep, "ProcessPoolExecutor", Pool)
    plan = sweep.Plan("p", [sweep.Item(RunSpec(1, 16, 1, tokens=16 * 128 * 4))])
    with pytest.raises(RuntimeError, match="stop here"):
        sweep.run_plan(plan, tmp_path / "s.jsonl", workers=1, threads=2, progress=False,
                       log=None)
    assert seen == {"workers": 1, "env": {"OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "2"}}
    assert "OMP_WAIT_POLICY" not in os.environ
