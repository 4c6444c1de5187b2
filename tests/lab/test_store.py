import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from scaling_lab.lab.store import ResultStore
from scaling_lab.lab.sweep import grid_plan, run_plan
from scaling_lab.lab.spec import RunResult

from .conftest import PY, TINY_CORPUS, tiny_spec


def _rec(key, v=1.0):
    return RunResult(key, {"tokens": 1, "n_layer": 1}, "ok", [{"val_loss": v, "tokens": 1}], {})


def test_append_read_no_duplicates(tmp_path):
    st = ResultStore(tmp_path / "r.jsonl")
    assert st.append(_rec("a")) and st.append(_rec("b"))
    assert not st.append(_rec("a", 2.0))  # a key is never written twice
    assert st.keys() == {"a", "b"} and len(st) == 2
    assert st.get("a").history[0]["val_loss"] == 1.0


def test_torn_last_line_ignored_then_repaired(tmp_path):
    p = tmp_path / "r.jsonl"
    st = ResultStore(p)
    st.append(_rec("a"))
    full = json.dumps(_rec("b").to_record())
    with open(p, "ab") as f:  # a writer killed half-way through its line
        f.write(full[: len(full) // 2].encode())
    assert ResultStore(p).keys() == {"a"}  # no partial record read back
    st.append(_rec("c"))
    lines = p.read_bytes().split(b"\n")
    assert lines[-1] == b"" and all(json.loads(x) for x in lines[:-1])
    assert ResultStore(p).keys() == {"a", "c"}


def test_nan_becomes_null(tmp_path):
    st = ResultStore(tmp_path / "r.jsonl")
    st.append(_rec("n", float("nan")))
    assert "NaN" not in (tmp_path / "r.jsonl").read_text()
    df = st.to_frame()
    assert df["val_loss"].isna().all()


SWEEP_SCRIPT = textwrap.dedent("""
    import sys, torch
    torch.set_num_threads(1)
    from scaling_lab.lab.sweep import grid_plan, run_plan
    from scaling_lab.lab.store import ResultStore
    CORPUS = {corpus!r}
    def plan():
        sizes = [(1, 8, 1), (1, 16, 2), (1, 24, 2), (2, 16, 2), (1, 32, 2)]
        return grid_plan("kill", sizes, tokens=8 * 32 * 30, n_ctx=32, batch_size=8,
                         warmup_steps=5, corpus=CORPUS, eval_batches=2)
    if __name__ == "__main__":
        run_plan(plan(), sys.argv[1], workers=1, threads=1, progress=False)
""")


def test_kill_9_then_resume_equals_uninterrupted(tmp_path, env_pythonpath):
    script = tmp_path / "sweep.py"
    script.write_text(SWEEP_SCRIPT.format(corpus=TINY_CORPUS))
    killed, clean = tmp_path / "killed.jsonl", tmp_path / "clean.jsonl"
    env = dict(env_pythonpath, SCALING_LAB_TEST_SLEEP_AFTER_JOB="0.4")
    proc = subprocess.Popen([PY, str(script), str(killed)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline and len(ResultStore(killed)) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_killed = len(ResultStore(killed))
    assert 2 <= n_killed < 5, "the kill should land mid-sweep"
    # a torn line as if the kill had landed inside a write
    with open(killed, "ab") as f:
        f.write(b'{"key": "torn", "status": "ok", "spe')
    # resume the killed sweep and run an uninterrupted one (same plan, same thread count)
    ns = {"__name__": "sweep_script"}
    exec(compile(script.read_text(), str(script), "exec"), ns)
    for out in (killed, clean):
        run_plan(ns["plan"](), out, workers=1, threads=1, progress=False, log=None)
    a, b = ResultStore(killed), ResultStore(clean)
    assert a.keys() == b.keys() and len(a) == 5
    lines = [json.loads(x) for x in killed.read_text().splitlines()]
    assert len(lines) == 5 and len({x["key"] for x in lines}) == 5  # no dupes, torn line gone
    fa, fb = a.to_frame().set_index("key"), b.to_frame().set_index("key")
    assert (fa.loc[fb.index, "val_loss"] - fb["val_loss"]).abs().max() < 1e-6


def test_sweep_continues_after_a_diverged_run(tmp_path):
    from scaling_lab.lab.sweep import Item, Plan

    good = tiny_spec()
    bad = tiny_spec(lr=1e6, seed=7)
    plan = Plan("div", [Item(bad), Item(good)])
    summary = run_plan(plan, tmp_path / "s.jsonl", workers=1, threads=1, progress=False, log=None)
    st = ResultStore(tmp_path / "s.jsonl")
    assert summary["trained"] == 2 and summary["diverged"] == 1
    assert st.get(bad.key()).status == "diverged" and st.get(good.key()).status == "ok"
    # a rerun is a cache hit: nothing retrained, the diverged run is not retried
    again = run_plan(plan, tmp_path / "s.jsonl", workers=1, threads=1, progress=False, log=None)
    assert again["trained"] == 0
