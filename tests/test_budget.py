"""The budgeted training API: charging, refusal, free repeats, persistence across processes."""

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scaling_lab.budget import Budget, LabBackend, SimulatorBackend, world_law, world_runs

ROOT = Path(__file__).resolve().parent.parent


def test_charges_6nd_and_reports_spent_and_remaining(tmp_path):
    b = Budget(1e18, store=tmp_path / "b.json", world=3)
    assert b.spent == 0 and b.remaining == 1e18 and b.history == []
    assert b.cost(N=2e7, D=4e8) == pytest.approx(6 * 2e7 * 4e8)
    r = b.train(N=2e7, D=4e8)
    assert r["flops"] == pytest.approx(4.8e16) and r["cached"] is False
    assert b.spent == pytest.approx(4.8e16)
    assert b.remaining == pytest.approx(1e18 - 4.8e16)
    r2 = b.train(N=1e7, D=1e9)
    assert b.spent == pytest.approx(4.8e16 + 6e16)
    assert [h["N"] for h in b.history] == [20_000_000, 10_000_000]
    assert list(b.frame()["loss"]) == [r["loss"], r2["loss"]]


def test_losses_follow_the_law_with_small_deterministic_noise(tmp_path):
    b = Budget(1e20, store=tmp_path / "b.json", world=3, noise=0.005)
    law = world_law(3)
    r = b.train(N=5e7, D=1e9)
    assert r["loss"] == pytest.approx(law.loss(5e7, 1e9), rel=0.03)
    assert r["loss"] != law.loss(5e7, 1e9)
    other = Budget(1e20, store=tmp_path / "c.json", world=3, noise=0.005)
    assert other.train(N=5e7, D=1e9)["loss"] == r["loss"]          # same query, same answer
    assert other.train(N=5e7, D=1e9, seed=1)["loss"] != r["loss"]  # a replicate: new noise
    exact = Budget(1e20, store=tmp_path / "d.json", world=3, noise=0.0)
    assert exact.train(N=5e7, D=1e9)["loss"] == pytest.approx(law.loss(5e7, 1e9), rel=1e-12)


def test_worlds_differ_and_are_plausible():
    laws = [world_law(w) for w in range(20)]
    assert len({round(l.alpha, 6) for l in laws}) == 20
    for l in laws:
        tpp = l.optimal(1e19).tokens_per_param
        assert 10 <= tpp <= 40 and 0.28 <= l.alpha <= 0.42 and 1.6 <= l.E <= 2.1



def test_world_runs_show_the_runs_and_nothing_of_the_law():
    """Assignment A2's sweep: the columns an experimenter sees (no noise-free loss), sizes
    centred on twenty tokens per parameter (not on the world's optimum), D = C / (6N), the
    world's optimum inside every budget's sizes, losses the law's within the noise, seeded."""
    import numpy as np

    C = np.logspace(18.5, 21, 6)
    runs = world_runs(21, C, 7, noise=0.01, seed=0, span=0.75)
    assert list(runs.columns) == ["C", "N", "D", "loss"] and len(runs) == 42
    law = world_law(21)
    for c, g in runs.groupby("C"):
        N = np.sort(g["N"].to_numpy())
        assert np.sqrt(N[0] * N[-1]) == pytest.approx(math.sqrt(c / 120), rel=1e-9)
        assert N[-1] / N[0] == pytest.approx(10 ** 1.5, rel=1e-9)
        assert N[0] < law.optimal(c).N_opt < N[-1]
        assert not np.isclose(N, law.optimal(c).N_opt, rtol=1e-3).any()  # no run at the answer
    assert np.allclose(6 * runs["N"] * runs["D"], runs["C"], rtol=1e-12)
    z = np.log(runs["loss"] / law.loss(runs["N"], runs["D"]))
    assert 0.005 < z.std() < 0.015 and abs(z.mean()) < 0.005
    assert world_runs(21, C, 7, seed=0).equals(runs) and not world_runs(21, C, 7, seed=1).equals(runs)
    with pytest.raises(ValueError, match="budgets"):
        world_runs(21, [1e19, -1.0])


def test_refuses_a_run_past_the_budget_with_the_numbers_and_the_fix(tmp_path):
    b = Budget(1e17, store=tmp_path / "b.json")
    b.train(N=1e7, D=1e9)  # 6e16
    with pytest.raises(ValueError) as err:
        b.train(N=1e7, D=1e9, seed=1)  # another 6e16: only 4e16 left
    msg = str(err.value)
    assert "budget exceeded" in msg and "6e+16" in msg and "4e+16" in msg and "1e+17" in msg
    assert "smaller run" in msg and "budget.cost" in msg
    assert b.spent == pytest.approx(6e16) and len(b.history) == 1  # nothing charged
    b.train(N=1e7, D=int(4e16 // 6e7))  # exactly what is left is allowed
    assert b.remaining < 6e7  # less than one token of this model is left


def test_repeated_identical_query_is_free(tmp_path):
    b = Budget(1e17, store=tmp_path / "b.json")
    first = b.train(N=1e7, D=1e9)
    again = b.train(N=10_000_000, D=1_000_000_000.0)  # same run, written differently
    assert again["cached"] is True and again["loss"] == first["loss"]
    assert b.spent == pytest.approx(6e16) and len(b.history) == 1
    b.train(N=1e7, D=int(4e16 // 6e7))  # spend the rest
    assert b.train(N=1e7, D=1e9)["cached"] is True  # still free with nothing left


@pytest.mark.parametrize("kw,match", [
    (dict(N=-1, D=1e9), "N must be a positive"),
    (dict(N=1e7, D=float("nan")), "D must be a positive"),
    (dict(N=1e7), "needs N= .* and D="),
    (dict(N=1e7, D=1e9, seed=-2), "seed must be a non-negative integer"),
    (dict(shape=(2, 48, 3), tokens=1e6), "shape/tokens are for backend='lab'"),
])
def test_bad_queries_name_the_argument(tmp_path, kw, match):
    b = Budget(1e18, store=tmp_path / "b.json")
    with pytest.raises(ValueError, match=match):
        b.train(**kw)
    assert b.spent == 0


def test_bad_budgets_and_stores(tmp_path):
    with pytest.raises(ValueError, match="total_flops must be a positive"):
        Budget(0, store=tmp_path / "b.json")
    with pytest.raises(ValueError, match="store must be a file path"):
        Budget(1e18, store="")
    with pytest.raises(ValueError, match="backend must be one of"):
        Budget(1e18, store=tmp_path / "b.json", backend="gpu")
    Budget(1e18, store=tmp_path / "b.json", world=1)
    with pytest.raises(ValueError, match="total_flops=1e\\+18.*new store"):
        Budget(2e18, store=tmp_path / "b.json", world=1)
    with pytest.raises(ValueError, match="same backend options or use a new store"):
        Budget(1e18, store=tmp_path / "b.json", world=2)
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(ValueError, match="not a budget ledger"):
        Budget(1e18, store=tmp_path / "junk.json")


def test_ledger_does_not_print_the_worlds_law(tmp_path):
    b = Budget(1e18, store=tmp_path / "b.json", world=5)
    b.train(N=1e7, D=1e8)
    text = (tmp_path / "b.json").read_text()
    assert f"{world_law(5).alpha!r}" not in text and "law_digest" in text
    json.loads(text)


def test_failed_run_is_refunded(tmp_path):
    class Boom(SimulatorBackend):
        def run(self, q):
            raise RuntimeError("the run crashed")

    b = Budget(1e18, store=tmp_path / "b.json", backend=Boom())
    with pytest.raises(RuntimeError, match="crashed"):
        b.train(N=1e7, D=1e8)
    assert b.spent == 0 and b.history == []


def test_two_objects_share_one_store(tmp_path):
    a = Budget(1e18, store=tmp_path / "b.json")
    b = Budget(1e18, store=tmp_path / "b.json")
    a.train(N=1e7, D=1e9)
    assert b.spent == pytest.approx(6e16)
    assert b.train(N=1e7, D=1e9)["cached"] is True


CHILD = textwrap.dedent("""
    import json, sys
    from scaling_lab.budget import Budget
    b = Budget(1e18, store=sys.argv[1], world=2)
    out = []
    for i in range(int(sys.argv[2]), int(sys.argv[3])):
        r = b.train(N=1e7, D=1e9, seed=i)
        out.append(r["cached"])
    print(json.dumps({"spent": b.spent, "cached": out}))
""")


def _child(store, lo, hi):
    return subprocess.Popen([sys.executable, "-c", CHILD, str(store), str(lo), str(hi)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT)


def test_persistence_across_processes(tmp_path):
    store = tmp_path / "b.json"
    b = Budget(1e18, store=store, world=2)
    b.train(N=1e7, D=1e9, seed=0)
    p = _child(store, 0, 3)  # seed 0 is a cache hit, seeds 1 and 2 are charged
    out, err = p.communicate()
    assert p.returncode == 0, err
    res = json.loads(out)
    assert res["cached"] == [True, False, False]
    assert res["spent"] == pytest.approx(3 * 6e16)
    assert b.spent == pytest.approx(3 * 6e16)  # this process sees the other's spending
    assert b.train(N=1e7, D=1e9, seed=2)["cached"] is True


def test_concurrent_processes_never_overspend(tmp_path):
    store = tmp_path / "b.json"
    Budget(1e18, store=store, world=2)  # room for 16 runs of 6e16
    procs = [_child(store, 100 * k, 100 * k + 10) for k in range(2)]  # 20 distinct runs asked
    results = [p.communicate() for p in procs]
    assert any(p.returncode != 0 for p in procs)  # someone was refused
    assert any("budget exceeded" in err for _, err in results)
    doc = json.loads(store.read_text())
    assert len(doc["runs"]) == 16 and all(r["status"] == "done" for r in doc["runs"])
    assert sum(r["flops"] for r in doc["runs"]) <= 1e18


def test_lab_backend_costs_and_trains_a_tiny_run(tmp_path):
    from .lab.conftest import TINY_CORPUS

    kw = dict(n_ctx=32, batch_size=8, warmup_steps=5, corpus=TINY_CORPUS, eval_batches=2)
    b = Budget(1e10, store=tmp_path / "lab.json", backend="lab", **kw)
    cost = b.cost(shape=(1, 16, 2), tokens=8 * 32 * 30)
    from scaling_lab.flops import GPTShape, flops_per_token

    fpt = flops_per_token(GPTShape(n_layer=1, d_model=16, n_head=2, vocab_size=256, n_ctx=32),
                          method="full")
    assert cost == pytest.approx(8 * 32 * 30 * fpt)
    r = b.train(shape=(1, 16, 2), tokens=8 * 32 * 30)
    assert r["status"] == "ok" and math.isfinite(r["loss"]) and r["loss"] < math.log(256)
    assert r["flops"] == pytest.approx(cost) and b.spent == pytest.approx(cost)
    assert r["N"] > r["N_non_embedding"] > 0 and r["D"] == 8 * 32 * 30
    assert b.train(n_layer=1, d_model=16, n_head=2, tokens=8 * 32 * 30)["cached"] is True
    with pytest.raises(ValueError, match="budget exceeded"):
        b.train(shape=(1, 16, 2), tokens=int(2e10 / fpt))
    with pytest.raises(ValueError, match="N= and D= are for backend='simulator'"):
        b.train(N=1e6, D=1e6)
    with pytest.raises(ValueError, match="divisible by n_head"):
        b.cost(shape=(1, 30, 4), tokens=8 * 32 * 30)
    with pytest.raises(ValueError, match="count must be one of"):
        LabBackend(count="2N")
    six = Budget(1e10, store=tmp_path / "six.json", backend="lab", count="6N", **kw)
    assert six.cost(shape=(1, 16, 2), tokens=8 * 32 * 30) < cost
