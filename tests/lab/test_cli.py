import subprocess

import pytest

from scaling_lab.cli import main

from .conftest import PY


def _run(capsys, *argv):
    code = main(list(argv))
    err = capsys.readouterr().err.strip()
    return code, err


def test_unknown_preset_lists_known(capsys):
    code, err = _run(capsys, "sweep", "--preset", "huge")
    assert code == 2 and "\n" not in err
    assert "unknown preset 'huge'" in err and "smoke" in err and "book" in err and "gpu" in err


def test_unknown_plan(capsys):
    code, err = _run(capsys, "sweep", "--preset", "smoke", "--plan", "nope", "--no-fit")
    assert code == 2 and "no plan 'nope'" in err and "\n" not in err


def test_budget_too_small_for_one_step(capsys):
    code, err = _run(capsys, "train", "--budget", "1e6", "--quiet")
    assert code == 2 and "too small for one optimizer step" in err and "--budget" in err


def test_tokens_below_one_step(capsys):
    code, err = _run(capsys, "train", "--tokens", "10", "--quiet")
    assert code == 2 and "less than one optimizer step" in err


def test_missing_corpus_path(capsys, tmp_path):
    code, err = _run(capsys, "train", "--corpus", f"local:{tmp_path}/missing", "--quiet")
    assert code == 2 and "does not exist" in err and "\n" not in err


@pytest.mark.parametrize("flag", ["--d-model", "--layers", "--heads"])
def test_non_positive_sizes(capsys, flag):
    code, err = _run(capsys, "train", flag, "0", "--quiet")
    assert code == 2 and "must be a positive integer" in err and "\n" not in err


def test_plan_level_bad_input():
    from scaling_lab.lab.sweep import grid_plan, isoflop_plan

    with pytest.raises(ValueError, match="positive integer"):
        grid_plan("x", [(1, 0, 1)], tokens=10**6)
    with pytest.raises(ValueError, match="too small for one optimizer step"):
        isoflop_plan("x", [1e6], [(1, 16, 2)])
    with pytest.raises(ValueError, match="budget"):
        isoflop_plan("x", [-1.0], [(1, 16, 2)])


def test_train_command_end_to_end(tmp_path, capsys):
    store = tmp_path / "r.jsonl"
    code = main(["train", "--layers", "1", "--d-model", "16", "--heads", "2", "--ctx", "32",
                 "--batch", "8", "--tokens", str(8 * 32 * 20), "--warmup", "5",
                 "--corpus", "markov:order=1,alphabet=8,train_bytes=20000,val_bytes=4000",
                 "--store", str(store), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("ok: 1x16")
    from scaling_lab.lab.store import ResultStore

    assert len(ResultStore(store)) == 1


def test_console_script_exit_code(tmp_path):
    r = subprocess.run([PY, "-m", "scaling_lab.cli", "sweep", "--preset", "nope"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


def test_sweep_dry_run(capsys, tmp_path, monkeypatch):
    """`sweep --dry-run` builds and steps every shape of the named plan, one line per shape,
    and writes nothing to the store."""
    from scaling_lab.lab.presets import get_preset

    monkeypatch.setenv("SCALING_LAB_RESULTS", str(tmp_path))
    code = main(["sweep", "--preset", "smoke", "--plan", "isoflop", "--dry-run"])
    out = capsys.readouterr().out.splitlines()
    shapes = {(s.n_layer, s.d_model) for s in get_preset("smoke").plans["isoflop"]().specs}
    printed = [tuple(int(v) for v in line.split()[0].split("x")) for line in out[:-1]]
    assert code == 0 and sorted(printed) == sorted(shapes)
    assert out[-1] == f"dry run: {len(shapes)} model shapes built and stepped twice on the CPU"
    assert all("loss after 2 steps=" in line for line in out[:-1])
    assert list(tmp_path.iterdir()) == []


def test_train_from_a_spec_json(tmp_path, capsys):
    """`train --spec JSON` trains exactly that spec (the path torchrun uses)."""
    import json

    from .conftest import tiny_spec

    spec = tiny_spec(tokens=8 * 32 * 10)
    out = tmp_path / "r.json"
    code = main(["train", "--spec", json.dumps(spec.to_dict()), "--out", str(out), "--quiet"])
    assert code == 0 and json.loads(out.read_text())["key"] == spec.key()
    capsys.readouterr()
    code, err = _run(capsys, "train", "--spec", "{not json", "--quiet")
    assert code == 2 and "--spec must be a RunSpec as JSON" in err
    code, err = _run(capsys, "train", "--spec", '{"n_layer": 1}', "--quiet")
    assert code == 2 and "RunSpec needs the fields ['d_model', 'n_head', 'tokens']" in err
