"""Bad input, in one place: every case gets a clear error naming the argument, and no user file
is ever changed (issue 12, item 5).

CLI cases: exit status 2, one line on stderr naming the argument, no traceback; a case with a
victim file asserts its bytes are unchanged. API cases: the exception type and the words of its
message. No case trains: every output path is refused before the first step (the tiny shapes
below only keep a regression cheap).
"""

import json
import os

import numpy as np
import pandas as pd
import pytest

from scaling_lab.cli import main

TINY = ["--layers", "1", "--d-model", "16", "--heads", "2", "--ctx", "32", "--batch", "8",
        "--tokens", "4096", "--corpus", "markov:order=1,alphabet=8,train_bytes=60000,"
        "val_bytes=8000", "--quiet"]
RECORD = {"key": "k1", "status": "ok", "spec": {"n_layer": 1}, "history": [], "info": {}}


# ---------------------------------------------------------------------------------- victims
def note(tmp):  # a file without a final newline
    p = tmp / "notes.txt"
    p.write_bytes(b"my notes: do not lose\nsecond line, no newline")
    return p


def csv(tmp):  # a file that ends in a newline
    p = tmp / "runs.csv"
    p.write_bytes(b"N,D,loss\n1e6,2e7,3.1\n")
    return p


def dumped_ledger(tmp):  # json.dump: one line, no newline
    p = tmp / "ledger.json"
    p.write_text(json.dumps({"format": "scaling_lab.budget/1", "total_flops": 1e18, "runs": []}))
    return p


def budget_ledger(tmp):  # a real ledger written by Budget
    from scaling_lab.budget import Budget

    Budget(1e18, store=tmp / "b.json")
    return tmp / "b.json"


def a_dir(tmp):
    (tmp / "d").mkdir()
    return tmp / "d"


def law_json(tmp, **override):
    d = {"E": 1.8, "A": 480.0, "B": 2000.0, "alpha": 0.35, "beta": 0.37, **override}
    p = tmp / "f.json"
    p.write_text(json.dumps(d))
    return p


def runs_csv(tmp, frame):
    p = tmp / "r.csv"
    frame.to_csv(p, index=False)
    return p


def grid_frame(n=36):
    from scaling_lab.laws import ChinchillaLaw

    law = ChinchillaLaw(1.82, 482.0, 2085.0, 0.348, 0.366)
    N, D = np.meshgrid(np.logspace(7, 9, 6), np.logspace(9, 11, 6))
    N, D = N.ravel()[:n], D.ravel()[:n]
    return pd.DataFrame({"N": N, "D": D, "loss": law.loss(N, D)})


def identical_rows(tmp):
    return runs_csv(tmp, pd.DataFrame({"N": [1e8] * 30, "D": [2e9] * 30, "loss": [2.5] * 30}))


def d_c_disagree(tmp):
    df = grid_frame()
    df["C"] = 6 * df["N"] * df["D"]
    df.loc[4, "C"] *= 10
    return runs_csv(tmp, df)


def two_x(tmp):
    return runs_csv(tmp, pd.DataFrame({"x": [1.0, 1.0, 2.0, 2.0], "y": [3.0, 3.1, 2.0, 2.1]}))


# (id, argv builder: tmp -> (argv, victim or None), words the message must contain)
CLI_CASES = [
    ("tokens-inf", lambda t: (["train", *TINY, "--tokens", "inf"], None), ["--tokens"]),
    ("tokens-nan", lambda t: (["train", *TINY, "--tokens", "nan"], None), ["--tokens"]),
    ("budget-inf", lambda t: (["train", *TINY, "--budget", "inf"], None), ["--budget"]),
    ("budget-nan", lambda t: (["train", *TINY, "--budget", "nan"], None), ["--budget"]),
    ("budget-negative", lambda t: (["train", *TINY, "--budget", "-1"], None), ["--budget"]),
    ("warmup-negative", lambda t: (["train", *TINY, "--warmup", "-5"], None), ["--warmup"]),
    ("lr-negative", lambda t: (["train", *TINY, "--lr", "-1"], None), ["--lr"]),
    ("lr-nan", lambda t: (["train", *TINY, "--lr", "nan"], None), ["--lr"]),
    ("store-dir", lambda t: (["train", *TINY, "--store", str(a_dir(t))], None),
     ["--store", "directory"]),
    ("store-note", lambda t: (["train", *TINY, "--store", str(note(t))], note(t)),
     ["--store", "not a results store"]),
    ("store-csv", lambda t: (["train", *TINY, "--store", str(csv(t))], csv(t)),
     ["--store", "not a results store"]),
    ("store-dumped-ledger",
     lambda t: (["train", *TINY, "--store", str(dumped_ledger(t))], dumped_ledger(t)),
     ["--store", "not a results store"]),
    ("store-budget-ledger",
     lambda t: (["train", *TINY, "--store", str(budget_ledger(t))], t / "b.json"),
     ["--store", "not a results store"]),
    ("store-parent-is-file",
     lambda t: (["train", *TINY, "--store", str(csv(t) / "r.jsonl")], csv(t)),
     ["--store", "not a directory"]),
    ("out-dir", lambda t: (["train", *TINY, "--out", str(a_dir(t))], None),
     ["--out", "directory"]),
    ("out-missing-parent", lambda t: (["train", *TINY, "--out", str(t / "no" / "r.json")], None),
     ["--out", "does not exist"]),
    ("out-foreign-file", lambda t: (["train", *TINY, "--out", str(note(t))], note(t)),
     ["--out", "not a result"]),
    ("out-foreign-json", lambda t: (["train", *TINY, "--out", str(law_json(t))], law_json(t)),
     ["--out", "not a result"]),
    ("sweep-threads-negative", lambda t: (["sweep", "--preset", "smoke", "--threads", "-1"], None),
     ["--threads"]),
    ("sweep-threads-zero", lambda t: (["sweep", "--preset", "smoke", "--threads", "0"], None),
     ["--threads"]),
    ("sweep-store-note",
     lambda t: (["sweep", "--preset", "smoke", "--store", str(note(t))], note(t)),
     ["--store", "not a results store"]),
    ("report-preset-unknown", lambda t: (["report", "--preset", "huge"], None),
     ["--preset", "unknown preset 'huge'"]),
    ("report-store-note",
     lambda t: (["report", "--preset", "smoke", "--store", str(note(t))], note(t)),
     ["--store", "not a results store"]),
    ("report-store-csv",
     lambda t: (["report", "--preset", "smoke", "--store", str(csv(t))], csv(t)),
     ["--store", "not a results store"]),
    ("report-store-dir", lambda t: (["report", "--preset", "smoke", "--store", str(a_dir(t))],
                                    None), ["--store", "directory"]),
    ("report-store-missing",
     lambda t: (["report", "--preset", "smoke", "--store", str(t / "none.jsonl")], None),
     ["--store", "does not exist", "scaling-lab sweep --preset smoke"]),
    ("optimal-E-null", lambda t: (["optimal", "--law", str(law_json(t, E=None)), "--flops",
                                   "1e21"], None), ["--law", "E is null"]),
    ("optimal-alpha-text", lambda t: (["optimal", "--law", str(law_json(t, alpha="x")),
                                       "--flops", "1e21"], None), ["--law", "alpha"]),
    ("optimal-A-negative", lambda t: (["optimal", "--law", str(law_json(t, A=-1.0)),
                                       "--flops", "1e21"], None), ["--law", "A"]),
    ("optimal-flops-nan", lambda t: (["optimal", "--law", "hoffmann2022", "--flops", "nan"],
                                     None), ["--flops"]),
    ("optimal-flops-negative", lambda t: (["optimal", "--law", "hoffmann2022", "--flops",
                                           "-1"], None), ["--flops"]),
    ("fit-bootstrap-huge", lambda t: (["fit", "chinchilla", str(runs_csv(t, grid_frame())),
                                       "--bootstrap", "1000000000"], None), ["bootstrap"]),
    ("fit-power-bootstrap-huge",
     lambda t: (["fit", "power", str(two_x(t)), "--x", "x", "--y", "y",
                 "--bootstrap", "1000000000"], None), ["bootstrap"]),
    ("fit-isoflop-bootstrap-negative",
     lambda t: (["fit", "isoflop", str(runs_csv(t, grid_frame())), "--bootstrap", "-1"], None),
     ["bootstrap"]),
    ("fit-identical-rows", lambda t: (["fit", "chinchilla", str(identical_rows(t))], None),
     ["distinct (N, D) points"]),
    ("fit-D-C-disagree", lambda t: (["fit", "chinchilla", str(d_c_disagree(t))], None),
     ["'D'", "'C'", "row 4"]),
    ("fit-flops-inf", lambda t: (["fit", "chinchilla", str(runs_csv(t, grid_frame())),
                                  "--flops", "inf"], None), ["--flops"]),
    ("fit-power-offset-two-x", lambda t: (["fit", "power", str(two_x(t)), "--x", "x", "--y", "y",
                                           "--offset"], None), ["offset", "distinct values of x"]),
    ("fit-missing-file", lambda t: (["fit", "chinchilla", str(t / "nope.csv")], None),
     ["nope.csv"]),
]


@pytest.mark.parametrize("case", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_bad_input(case, tmp_path, capsys):
    _, build, words = case
    argv, victim = build(tmp_path)
    before = victim.read_bytes() if victim else None
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 2, (rc, out, err)
    assert "Traceback" not in out + err
    assert err.count("\n") == 1, err
    for w in words:
        assert w in err, (w, err)
    if victim:
        assert victim.read_bytes() == before


# ---------------------------------------------------------------------------------- the API
def _store(path):
    from scaling_lab.lab.store import ResultStore

    return ResultStore(path)


def _pending_budget(tmp, owner, **kw):
    """A Budget whose ledger holds a pending charge for the query N=1e6, D=2e7 by ``owner``."""
    from scaling_lab.budget import Budget, _digest

    b = Budget(1e18, store=tmp / "b.json", **kw)
    q = b.backend.query(N=1e6, D=2e7)
    doc = json.loads((tmp / "b.json").read_text())
    doc["runs"].append({"key": _digest(q), "query": q, "flops": 6 * 1e6 * 2e7, "how": "",
                        "status": "pending", "owner": owner})
    (tmp / "b.json").write_text(json.dumps(doc))
    return b


def _unrelated_owner(start_offset=None):
    """An owner record naming a live process that is not training anything (our parent)."""
    import socket

    from scaling_lab.budget import _start_time

    o = {"host": socket.gethostname(), "pid": os.getppid()}
    if start_offset is not None:
        o["start"] = _start_time(os.getppid()) + start_offset
    return o


def _ledger(tmp, **run_fields):
    from scaling_lab.budget import Budget

    Budget(1e18, store=tmp / "b.json")
    doc = json.loads((tmp / "b.json").read_text())
    run = {"key": "k", "query": {"N": 1, "D": 1, "seed": 0}, "flops": 6.0, "status": "done",
           "result": {"loss": 3.0}, **run_fields}
    doc["runs"].append({k: v for k, v in run.items() if v is not None})
    (tmp / "b.json").write_text(json.dumps(doc))
    return lambda: Budget(1e18, store=tmp / "b.json").train(N=1e6, D=2e7)


def _fit_chinchilla(**kw):
    from scaling_lab.fitting import fit_chinchilla

    df = grid_frame()
    args = dict(N=df["N"], D=df["D"], loss=df["loss"])
    args.update(kw)
    return lambda: fit_chinchilla(args.pop("N"), args.pop("D"), args.pop("loss"), **args)


def _fit_power(x, y, **kw):
    from scaling_lab.fitting import fit_power_law

    return lambda: fit_power_law(x, y, **kw)


def _runspec(**kw):
    from scaling_lab.lab.spec import RunSpec

    return lambda: RunSpec(1, 16, 2, tokens=4096, n_ctx=32, batch_size=8, **kw)


def _run_plan(**kw):
    from scaling_lab.lab.sweep import grid_plan, run_plan

    return lambda: run_plan(grid_plan("x", [(1, 16, 2)], tokens=10**6), kw.pop("store"), **kw)


# (id, builder: tmp -> (callable, victim or None), exception, words in the message)
API_CASES = [
    ("store-append-note", lambda t: (lambda: _store(note(t)).append(RECORD), note(t)),
     ValueError, ["not a results store"]),
    ("store-append-csv", lambda t: (lambda: _store(csv(t)).append(RECORD), csv(t)),
     ValueError, ["not a results store"]),
    ("store-append-dumped-ledger",
     lambda t: (lambda: _store(dumped_ledger(t)).append(RECORD), dumped_ledger(t)),
     ValueError, ["not a results store"]),
    ("store-read-budget-ledger",
     lambda t: (lambda: _store(t / "b.json").keys(), budget_ledger(t)),
     ValueError, ["not a results store"]),
    ("store-check-dir", lambda t: (lambda: _store(a_dir(t)).check(), None),
     ValueError, ["directory"]),
    ("store-append-invalid-record",
     lambda t: (lambda: _store(t / "s.jsonl").append({"key": "k"}), None),
     ValueError, ["not a run record", "status"]),
    ("budget-pending-unrelated-pid",
     lambda t: (lambda: _pending_budget(t, _unrelated_owner(), wait_timeout=0.2)
                .train(N=1e6, D=2e7), None), ValueError, ["pending", "wait_timeout"]),
    ("budget-wait-timeout-negative",
     lambda t: (lambda: _pending_budget(t, None, wait_timeout=-1), None),
     ValueError, ["wait_timeout"]),
    ("ledger-negative-flops", lambda t: (_ledger(t, flops=-1e30), t / "b.json"),
     ValueError, ["runs[0].flops", "-1e+30"]),
    ("ledger-flops-text", lambda t: (_ledger(t, flops="lots"), t / "b.json"),
     ValueError, ["runs[0].flops"]),
    ("ledger-no-key", lambda t: (_ledger(t, key=None), t / "b.json"),
     ValueError, ["runs[0]", "'key'"]),
    ("ledger-bad-status", lambda t: (_ledger(t, status="maybe"), t / "b.json"),
     ValueError, ["runs[0].status"]),
    ("ledger-done-without-result", lambda t: (_ledger(t, result=None), t / "b.json"),
     ValueError, ["runs[0]", "'result'"]),
    ("fit-chinchilla-identical-rows",
     lambda t: (_fit_chinchilla(N=[1e8] * 30, D=[2e9] * 30, loss=[2.5] * 30), None),
     ValueError, ["distinct (N, D) points"]),
    ("fit-chinchilla-one-D",
     lambda t: (_fit_chinchilla(N=np.logspace(7, 9, 8), D=[2e9] * 8, loss=np.linspace(3, 2, 8)),
                None), ValueError, ["2 distinct values of D"]),
    ("fit-chinchilla-bootstrap-huge", lambda t: (_fit_chinchilla(bootstrap=10**9), None),
     ValueError, ["bootstrap", "memory"]),
    ("fit-chinchilla-bootstrap-inf", lambda t: (_fit_chinchilla(bootstrap=float("inf")), None),
     ValueError, ["bootstrap"]),
    ("fit-power-offset-two-x",
     lambda t: (_fit_power([1.0, 1.0, 2.0, 2.0], [3.0, 3.1, 2.0, 2.1], offset=True), None),
     ValueError, ["offset=True", "3 distinct values of x"]),
    ("fit-power-bootstrap-huge",
     lambda t: (_fit_power([1.0, 2.0, 4.0], [3.0, 2.0, 1.5], bootstrap=10**9), None),
     ValueError, ["bootstrap"]),
    ("runspec-warmup-negative", lambda t: (_runspec(warmup_steps=-1), None),
     ValueError, ["warmup_steps"]),
    ("run-plan-threads-negative",
     lambda t: (_run_plan(store=t / "s.jsonl", threads=-1), None), ValueError, ["threads"]),
    ("run-plan-store-note", lambda t: (_run_plan(store=note(t)), note(t)),
     ValueError, ["not a results store"]),
]


@pytest.mark.parametrize("case", API_CASES, ids=[c[0] for c in API_CASES])
def test_api_bad_input(case, tmp_path):
    _, build, exc, words = case
    call, victim = build(tmp_path)
    before = victim.read_bytes() if victim else None
    with pytest.raises(exc) as info:
        call()
    for w in words:
        assert w in str(info.value), (w, str(info.value))
    if victim:
        assert victim.read_bytes() == before


# ----------------------------------------------------------- what must keep working, not fail
def test_store_keeps_a_last_record_missing_its_newline(tmp_path):
    p = tmp_path / "s.jsonl"
    first = json.dumps(RECORD, sort_keys=True).encode()
    p.write_bytes(first)  # a complete record, no newline
    assert _store(p).append({**RECORD, "key": "k2"})
    assert p.read_bytes().startswith(first + b"\n")
    assert _store(p).keys() == {"k1", "k2"}


def test_store_cuts_only_a_torn_tail(tmp_path):
    p = tmp_path / "s.jsonl"
    good = json.dumps(RECORD, sort_keys=True).encode() + b"\n"
    p.write_bytes(good + b'{"history": [], "in')  # killed mid-write
    assert _store(p).keys() == {"k1"}  # the torn line is never read back
    assert _store(p).append({**RECORD, "key": "k2"})
    assert p.read_bytes().startswith(good) and _store(p).keys() == {"k1", "k2"}


def test_store_stub_never_shadows_the_real_record(tmp_path):
    p = tmp_path / "s.jsonl"
    p.write_text(json.dumps(RECORD) + "\n" + json.dumps({"key": "k2"}) + "\n"
                 + json.dumps({**RECORD, "key": "k2", "status": "diverged"}) + "\n")
    s = _store(p)
    with pytest.warns(UserWarning, match="line 2"):
        assert s.get("k2").status == "diverged"
    assert s.problems and "line 2" in s.problems[0]


def test_budget_pending_owner_with_reused_pid_is_resumed(tmp_path):
    b = _pending_budget(tmp_path, _unrelated_owner(start_offset=1))  # start time differs
    out = b.train(N=1e6, D=2e7)
    assert out.get("resumed") and b.spent == pytest.approx(6 * 1e6 * 2e7)  # charged once


@pytest.mark.parametrize("flops", ["1e-300", "1e60"])
def test_optimal_far_outside_the_fitted_range_warns(flops, capsys):
    assert main(["optimal", "--law", "hoffmann2022", "--flops", flops]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "--flops" in err and "extrapolation" in err


def test_optimal_inside_the_fitted_range_is_quiet(capsys):
    assert main(["optimal", "--law", "hoffmann2022", "--flops", "5.76e23"]) == 0
    assert capsys.readouterr().err == ""


def test_cases_count():
    assert len(CLI_CASES) + len(API_CASES) >= 40
