"""A real (tiny) learning-rate sweep end to end: lr_plan -> run_plan (WSD branches) -> check_lr."""

from scaling_lab.lab.plans import lr_plan
from scaling_lab.lab.presets import check_lr
from scaling_lab.lab.store import ResultStore
from scaling_lab.lab.sweep import run_plan


def test_tiny_sweep_trains_one_run_per_size_and_rate(tmp_path):
    toks = [8 * 32 * 30, 8 * 32 * 60]
    plan = lr_plan("lr", [(1, 8, 1), (1, 16, 2)], toks, lr_mults=(0.5, 1, 2, 4), n_ctx=32,
                   batch_size=8, warmup_steps=5, eval_batches=2, corpus="stdlib")
    assert len(plan.jobs()) == 8  # 2 sizes x 4 rates; each job cools down at both horizons
    summ = run_plan(plan, tmp_path / "s.jsonl", workers=1, threads=1, progress=False, log=None)
    assert summ["trained"] == 16
    df = plan.frame(ResultStore(tmp_path / "s.jsonl"))
    assert len(df) == 16 and (df["status"] == "ok").all()
    assert sorted(set(df["horizon"])) == toks and set(df["tokens"]) == set(toks)
    assert (df["lr"] == df["peak_lr"]).all()
    res = check_lr(df, bootstrap=20)
    assert len(res["optima"]) == 4 and set(res["fits"]) <= {float(t) for t in toks}
    assert res["lines"][0].startswith("learning-rate sweep: 4 (size, horizon) optima")
