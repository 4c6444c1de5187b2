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


# ----------------------------------------------------------------------------- smoke, trained
@pytest.fixture(scope="module")
def smoke_store(smoke_build, tmp_path_factory):
    """The smoke build's own store: chapter 7 trains the smoke preset's `lr` and `ladder` plans
    into it (84 runs), so the report reads runs the suite trained once; the BPE tokenizers' cache
    in a fresh directory."""
    store = smoke_build.out / "stage" / "notebooks" / "lab_results" / "smoke.jsonl"
    root = tmp_path_factory.mktemp("report")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCALING_LAB_TOKENIZER_CACHE", str(root / "tokenizers"))
        yield store


def _capture(*argv) -> tuple[int, str]:
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["report", *map(str, argv)])
    return code, buf.getvalue()


@pytest.fixture(scope="module")
def smoke_report(smoke_store):
    code, out = _capture("--preset", "smoke", "--store", smoke_store, "--json")
    assert code == 0
    return json.loads(out)


def _ordered(lo, v, hi):
    return lo is not None and hi is not None and lo <= v <= hi


@pytest.mark.slow
def test_smoke_report_has_every_part_with_its_fields(smoke_report, smoke_store):
    r = smoke_report
    assert set(r) == {"schema", "preset", "store", "runs_in_store", "bootstrap", "lr", "ladder",
                      "tokens"}
    assert (r["schema"], r["preset"], r["store"]) == ("scaling-lab-report/1", "smoke",
                                                      str(smoke_store))
    # the smoke build's store: every lab chapter's runs, the lr sweep's 24 and the ladder's 60
    from scaling_lab.lab.presets import get_preset

    keys = set(ResultStore(smoke_store).keys())
    smoke = get_preset("smoke")
    assert set(smoke.plan(["lr", "ladder"]).keys()) <= keys
    assert r["runs_in_store"] == len(keys) >= 24 + 60
    assert r["lr"]["status"] == r["ladder"]["status"] == r["tokens"]["status"] == "ok"


@pytest.mark.slow
def test_smoke_report_lr_law_with_intervals_and_eta_inside_the_sweep(smoke_report):
    from scaling_lab.lab.presets import SMOKE_LR_MULTS, SMOKE_LR_SIZES, SMOKE_LR_TOKENS

    lr = smoke_report["lr"]
    assert lr["by"] == "horizon" and lr["unit"] == "tokens" and lr["ok"] is True
    assert [law["horizon"] for law in lr["laws"]] == [float(t) for t in SMOKE_LR_TOKENS]
    for law in lr["laws"]:
        assert set(law) == {"horizon", "k", "k_lo", "k_hi", "c", "c_lo", "c_hi", "sizes_used",
                            "sizes"}
        assert _ordered(law["k_lo"], law["k"], law["k_hi"])
        assert _ordered(law["c_lo"], law["c"], law["c_hi"])
        assert law["sizes"] == len(SMOKE_LR_SIZES) and law["sizes_used"] >= 2
    assert len(lr["optima"]) == len(SMOKE_LR_SIZES) * len(SMOKE_LR_TOKENS)
    for o in lr["optima"]:
        assert o["inside"] is True
        assert o["lr_min"] <= o["lr_opt"] <= o["lr_max"]  # eta* inside the swept range
        assert o["lr_min"] < o["lr_best"] < o["lr_max"]
        assert min(SMOKE_LR_MULTS) <= o["lr_opt_mult"] <= max(SMOKE_LR_MULTS)
        assert o["lr_best_mult"] == pytest.approx(min(SMOKE_LR_MULTS, key=lambda m: abs(
            m - o["lr_best_mult"])))
    s = lr["shift"]
    assert (s["short"], s["long"]) == tuple(float(t) for t in SMOKE_LR_TOKENS)
    assert _ordered(s["ratio_lo"], s["ratio"], s["ratio_hi"]) and s["ratio"] > 0
    assert _ordered(s["slope_lo"], s["slope"], s["slope_hi"])
    assert (lr["published"]["coefficient"], lr["published"]["exponent"]) == (0.3118, -0.125)


@pytest.mark.slow
def test_smoke_report_every_ladder_step_with_ordered_intervals(smoke_report):
    from scaling_lab.published import PORIAN2024_REFINEDWEB

    lad = smoke_report["ladder"]
    assert [s["step"] for s in lad["steps"]] == [0, 1, 2, 3, 4]
    assert [s["convention"] for s in lad["steps"]] == ["6n"] + ["full"] * 4
    assert [s["porian_a"] for s in lad["steps"]] == [s.a for s in PORIAN2024_REFINEDWEB]
    assert lad["porian_source"].startswith("porian2024, Figure 1")
    for s in lad["steps"]:
        assert s["status"] == "ok", s
        assert {"setup", "runs", "budgets", "budgets_used", "a", "a_lo", "a_hi", "C_mid",
                "N_opt_mid", "tokens_per_param", "tpp_lo", "tpp_hi", "porian_setup"} <= set(s)
        assert _ordered(s["a_lo"], s["a"], s["a_hi"]), s
        assert _ordered(s["tpp_lo"], s["tokens_per_param"], s["tpp_hi"]), s
        assert s["budgets"] == 5 and 3 <= s["budgets_used"] <= 5
        assert s["runs"] == len(ladder_of("smoke").steps[s["step"]].plan.specs)
    # steps 0 and 1 are the same runs read in two conventions; 0's budgets are 6N ones
    assert lad["steps"][0]["C_mid"] < lad["steps"][1]["C_mid"] == lad["steps"][4]["C_mid"]


@pytest.mark.slow
def test_smoke_report_bytes_per_token_and_the_optimum_in_tokens(smoke_report):
    from scaling_lab.lab.summary import SMOKE_VOCAB_SIZES

    tok = smoke_report["tokens"]
    assert tok["corpus"] == "stdlib"
    assert [r["vocab_size"] for r in tok["table"]] == [256, *SMOKE_VOCAB_SIZES]
    bpt = [r["bytes_per_token"] for r in tok["table"]]
    assert bpt[0] == 1.0 and 1 < bpt[1] < bpt[2] < 5
    for r in tok["table"]:
        assert r["bytes_per_token"] == pytest.approx(r["val_bytes"] / r["val_tokens"])
    o, last = tok["optimum"], smoke_report["ladder"]["steps"][-1]
    assert (o["step"], o["bytes_per_param"], o["lo"], o["hi"]) == (
        4, last["tokens_per_param"], last["tpp_lo"], last["tpp_hi"])
    for v, r in zip(o["per_vocab"], tok["table"][1:]):
        assert v["vocab_size"] == r["vocab_size"]
        for k, b in (("tokens_per_param", "bytes_per_param"), ("lo", "lo"), ("hi", "hi")):
            assert v[k] == pytest.approx(o[b] / r["bytes_per_token"])


@pytest.mark.slow
def test_smoke_report_text_and_json_agree(smoke_store, smoke_report):
    code, text = _capture("--preset", "smoke", "--store", smoke_store)
    assert code == 0
    rows = {int(line.split()[0]): line for line in text.splitlines()
            if line.startswith("  ") and line[2:3].isdigit()}  # the ladder's rows
    for s in smoke_report["ladder"]["steps"]:
        assert rows[s["step"]].split()[1:4] == [f"{s['a']:.3f}", f"[{s['a_lo']:.3f},",
                                                f"{s['a_hi']:.3f}]"]
        assert rows[s["step"]].endswith(s["setup"])
    law = smoke_report["lr"]["laws"][0]
    assert f"k = {law['k']:.3g} [{law['k_lo']:.3g}, {law['k_hi']:.3g}]" in text
    assert "vocabulary   1024:" in text and "tokens per parameter of the 4096-token" in text
    assert "MISSING" not in text and "FAILED" not in text
    # the same seeds give the same numbers
    assert json.loads(_capture("--preset", "smoke", "--store", smoke_store, "--json")[1]) == \
        smoke_report
