"""`scaling-lab report` (lab.summary, cli_report): the parts of a store that are missing are named
with the command that trains them; bad arguments are one line naming the argument; on the smoke
preset's trained `lr` and `ladder` plans, every part's structure and intervals (slow: trains)."""

import json

import pytest

from scaling_lab.cli import main
from scaling_lab.lab.presets import ladder_of
from scaling_lab.lab.spec import RunResult
from scaling_lab.lab.store import ResultStore

from .conftest import tiny_spec


def _run(capsys, *argv):
    code = main(["report", *map(str, argv)])
    out = capsys.readouterr()
    return code, out.out, out.err.strip()


@pytest.fixture
def one_run_store(tmp_path):
    """A store with one (fake) run that belongs to no plan of any preset."""
    path = tmp_path / "one.jsonl"
    spec = tiny_spec()
    ResultStore(path).append(RunResult(spec.key(), spec.to_dict(), "ok",
                                       [{"step": 1, "tokens": 256, "val_loss": 5.0}], {}))
    return path


# ----------------------------------------------------------------------------- missing parts
def test_missing_parts_name_the_command_that_trains_them(capsys, one_run_store):
    code, out, err = _run(capsys, "--preset", "smoke", "--store", one_run_store, "--json",
                          "--no-tokens")
    assert code == 0 and err == ""
    rep = json.loads(out)
    assert rep["schema"] == "scaling-lab-report/1" and rep["runs_in_store"] == 1
    assert rep["lr"]["status"] == rep["ladder"]["status"] == "missing"
    assert rep["lr"]["command"] == (f"scaling-lab sweep --preset smoke --plan lr --store "
                                    f"{one_run_store}")
    assert (rep["lr"]["runs_have"], rep["lr"]["runs_want"]) == (0, 24)
    assert rep["ladder"]["command"].endswith(f"--plan ladder --store {one_run_store}")
    assert rep["ladder"]["runs_want"] == len(set(ladder_of("smoke").plan().keys())) == 60
    assert rep["tokens"]["status"] == "absent"
    code, text, _ = _run(capsys, "--preset", "smoke", "--store", one_run_store, "--no-tokens")
    assert "MISSING: 0 of 24 runs of the 'lr' plan" in text
    assert "to fill it: scaling-lab sweep --preset smoke --plan ladder --store" in text


@pytest.mark.parametrize("preset", ["book", "gpu"])
def test_a_ladder_that_reads_the_lr_sweep_says_to_run_the_sweep_first(capsys, one_run_store,
                                                                      preset):
    code, out, _ = _run(capsys, "--preset", preset, "--store", one_run_store, "--json",
                        "--no-tokens")
    lad = json.loads(out)["ladder"]
    assert code == 0 and lad["status"] == "missing"
    assert lad["command"].startswith(f"scaling-lab sweep --preset {preset} --plan lr ")
    assert "--plan ladder" in lad["command"] and "--plan lr" in lad["error"]


# ----------------------------------------------------------------------------- bad arguments
@pytest.mark.parametrize("args, words", [
    (["--preset", "nope"], ["--preset", "unknown preset 'nope'", "smoke, book, gpu"]),
    (["--preset", "smoke", "--store", "{tmp}/missing.jsonl"], ["--store", "does not exist",
                                                               "scaling-lab sweep"]),
    (["--preset", "smoke", "--store", "{tmp}"], ["--store", "is a directory"]),
    (["--preset", "smoke", "--store", "{tmp}/notes.txt"], ["--store", "not a results store"]),
    (["--preset", "smoke", "--store", "{one}", "--vocab-sizes", "256,x"], ["--vocab-sizes"]),
    (["--preset", "smoke", "--store", "{one}", "--bootstrap", "-1"], ["--bootstrap"]),
])
def test_bad_arguments_are_one_line_naming_the_argument(capsys, tmp_path, one_run_store, args,
                                                        words):
    (tmp_path / "notes.txt").write_text("not a store\n")
    argv = [a.format(tmp=tmp_path, one=one_run_store) for a in args]
    code, out, err = _run(capsys, *argv)
    assert code == 2 and out == "" and "\n" not in err
    assert err.startswith("scaling-lab report: error: ")
    for w in words:
        assert w in err


# ----------------------------------------------------------------------------- gpu preset
def test_the_gpu_preset_has_the_lr_sweep_and_the_ladder_and_its_dry_run_covers_them():
    """`sweep --preset gpu --dry-run` builds every shape of every plan (no default_plans), the
    new ones included; the plans' FLOPs are the estimate its comments state (~25 TFLOP/s)."""
    from scaling_lab.lab.presets import get_preset
    from scaling_lab.lab.presets_gpu import (GPU_ISO_SIZES, GPU_LADDER_BUDGETS,
                                             GPU_LR_BUDGETS, plan_flops)

    gpu = get_preset("gpu")
    assert {"lofn", "isoflop", "lr", "ladder"} <= set(gpu.plans) and not gpu.default_plans
    assert gpu.reads_store("ladder") and "lr" in gpu.checks
    dry = gpu.plan(dry=True)  # what dry_run steps: every plan, the ladder's tuned step at the rule
    shapes = {(s.n_layer, s.d_model, s.n_head, s.n_ctx, s.batch_size) for s in dry.specs}
    lr, ladder, iso = (gpu.build(n, dry=True) for n in ("lr", "ladder", "isoflop"))
    assert set(lr.keys()) | set(ladder.keys()) <= set(dry.keys())
    assert {(s.n_layer, s.d_model, s.n_head, s.n_ctx, s.batch_size)
            for s in lr.specs + ladder.specs} <= shapes
    assert {(s.n_layer, s.d_model, s.n_head) for s in lr.specs} == set(GPU_ISO_SIZES)
    lad = ladder_of("gpu")
    assert [st.step for st in lad.steps] == [0, 1, 2, 3, 4]
    assert set(lad.steps[3].plan.keys()) <= set(iso.keys())  # step 3: the IsoFLOP runs
    assert set(GPU_LADDER_BUDGETS) <= set(lad.steps[3].budgets)
    assert set(lr.keys()) & set(iso.keys())  # the rule's runs are IsoFLOP runs
    assert sorted({dict(it.labels)["budget"] for it in lr.items}) == GPU_LR_BUDGETS
    # the estimate in presets_gpu's docstring: new FLOPs at 25 TFLOP/s, in minutes
    done = set(iso.keys())
    minutes = {n: plan_flops(p, done if n != "isoflop" else ()) / 25e12 / 60
               for n, p in (("lr", lr), ("ladder", ladder), ("isoflop", iso))}
    assert minutes["lr"] == pytest.approx(29, abs=1)
    assert minutes["ladder"] == pytest.approx(41, abs=1)
    assert minutes["isoflop"] == pytest.approx(27, abs=1)
    assert 45 < minutes["lr"] + minutes["ladder"] < 90  # about an hour
