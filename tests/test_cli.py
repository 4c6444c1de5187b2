"""Tests of `scaling-lab fit ...` and `scaling-lab optimal ...` (in-process, plus one real subprocess)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scaling_lab.cli import main
from scaling_lab.laws import ChinchillaLaw

LAW = ChinchillaLaw(1.82, 482.0, 2085.0, 0.348, 0.366)


def isoflop_frame(per_budget=7, noise=0.003, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for C in np.logspace(18, 21, 5):
        n0 = LAW.optimal(C).N_opt
        for n in n0 * np.logspace(-0.7, 0.7, per_budget):
            rows.append({"N": n, "C": C, "loss": LAW.isoflop(C, n) * np.exp(noise * rng.standard_normal())})
    df = pd.DataFrame(rows)
    df["D"] = df["C"] / (6 * df["N"])
    return df


@pytest.fixture
def runs(tmp_path):
    p = tmp_path / "runs.csv"
    isoflop_frame().to_csv(p, index=False)
    return p


def run(argv, capsys):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def error_line(argv, capsys):
    """Run a failing command: exit 2, one line on stderr, no traceback; return that line."""
    rc, out, err = run(argv, capsys)
    assert rc == 2, (rc, out, err)
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


# ---------------------------------------------------------------------------------------------
# fit


def test_fit_chinchilla_json_and_text(runs, capsys, tmp_path):
    rc, out, _ = run(["fit", "chinchilla", runs, "--json"], capsys)
    assert rc == 0
    d = json.loads(out)
    assert {"E", "A", "B", "alpha", "beta", "a", "b", "G"} <= set(d)
    assert abs(d["alpha"] - 0.348) < 0.05 and abs(d["beta"] - 0.366) < 0.05 and abs(d["E"] - 1.82) < 0.1
    assert "se" not in d
    rc, out, _ = run(["fit", "chinchilla", runs], capsys)
    assert rc == 0 and "alpha" in out and "tokens/param" in out
    # D missing or C missing: derived with C = 6ND, same fit
    df = pd.read_csv(runs)
    df.drop(columns="D").to_csv(tmp_path / "noD.csv", index=False)
    df.drop(columns="C").to_csv(tmp_path / "noC.csv", index=False)
    for name in ("noD.csv", "noC.csv"):
        rc, out, _ = run(["fit", "chinchilla", tmp_path / name, "--json"], capsys)
        assert json.loads(out)["alpha"] == pytest.approx(d["alpha"], rel=1e-6)


def test_fit_chinchilla_bootstrap_json_then_optimal_from_it(runs, capsys, tmp_path):
    rc, out, _ = run(["fit", "chinchilla", runs, "--json", "--bootstrap", "50", "--seed", "3"], capsys)
    d = json.loads(out)
    assert set(d["se"]) >= {"E", "A", "B", "alpha", "beta", "a", "b", "G"}
    lo, hi = d["ci"]["alpha"]
    assert lo <= d["alpha"] <= hi
    fit_json = tmp_path / "fit.json"
    fit_json.write_text(out)
    rc, out, _ = run(["optimal", "--law", fit_json, "--flops", "1e22", "--json"], capsys)
    o = json.loads(out)
    law = ChinchillaLaw(d["E"], d["A"], d["B"], d["alpha"], d["beta"])
    assert o["N_opt"] == pytest.approx(law.optimal(1e22).N_opt, rel=1e-9)
    assert {"N_opt", "D_opt", "tokens_per_param", "loss"} <= set(o)


def test_fit_isoflop(runs, capsys):
    rc, out, _ = run(["fit", "isoflop", runs, "--json", "--bootstrap", "100"], capsys)
    d = json.loads(out)
    assert {"a", "b", "G_N", "G_D", "optima", "se", "ci"} <= set(d)
    assert abs(d["a"] - LAW.a) < 0.03
    assert len(d["optima"]) == 5 and {"C", "N_opt", "D_opt", "loss_opt", "interior"} <= set(d["optima"][0])
    rc, out, _ = run(["fit", "isoflop", runs, "--method", "argmin"], capsys)
    assert rc == 0 and "argmin" in out and "N_opt" in out
    rc, out, _ = run(["fit", "isoflop", runs, "--json", "--bootstrap", "50", "--resample",
                      "parametric", "--method", "parabola", "--keep-edges"], capsys)
    d = json.loads(out)
    assert d["resample"] == "parametric" and d["method"] == "parabola"
    assert abs(d["a"] - LAW.a) < 0.03 and all(o["used"] for o in d["optima"])


def test_fit_power(runs, capsys):
    rc, out, _ = run(["fit", "power", runs, "--x", "C", "--y", "loss", "--offset", "--json"], capsys)
    d = json.loads(out)
    assert {"E", "A", "alpha"} <= set(d) and d["x"] == "C" and d["offset"] is True
    rc, out, _ = run(["fit", "power", runs, "--x", "N", "--y", "loss"], capsys)
    assert rc == 0 and "A x^-alpha" in out


# ---------------------------------------------------------------------------------------------
# optimal


@pytest.mark.parametrize(
    "law, N_opt, tpp",
    [("hoffmann2022", 3.22e10, 92.6), ("hoffmann2022-unrounded", 4.04e10, 58.9), ("besiroglu2024", 7.2e10, 18.4)],
)
def test_optimal_published(law, N_opt, tpp, capsys):
    rc, out, _ = run(["optimal", "--law", law, "--flops", "5.76e23", "--json"], capsys)
    d = json.loads(out)
    assert d["N_opt"] == pytest.approx(N_opt, rel=5e-3)
    assert d["tokens_per_param"] == pytest.approx(tpp, rel=5e-3)
    assert d["D_opt"] == pytest.approx(5.76e23 / (6 * d["N_opt"]), rel=1e-9)


def test_optimal_kaplan_and_text(capsys):
    rc, out, _ = run(["optimal", "--law", "kaplan2020", "--flops", "1e21", "--json"], capsys)
    assert rc == 0 and json.loads(out)["N_opt"] > 0
    rc, out, _ = run(["optimal", "--law", "hoffmann2022", "--flops", "5.76e23"], capsys)
    assert rc == 0 and "tokens_per_param" in out and "92.6" in out


# ---------------------------------------------------------------------------------------------
# bad input: exit 2, one line naming the problem


def test_error_unreadable_file(tmp_path, capsys):
    line = error_line(["fit", "chinchilla", tmp_path / "missing.csv"], capsys)
    assert "cannot read" in line and "missing.csv" in line and "No such file" in line
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00\x81" * 50)
    assert "cannot read" in error_line(["fit", "isoflop", tmp_path / "bin.csv"], capsys)
    assert "cannot read" in error_line(["fit", "chinchilla", tmp_path], capsys)  # a directory


def test_error_missing_column(tmp_path, capsys):
    p = tmp_path / "r.csv"
    isoflop_frame().rename(columns={"loss": "val_loss"}).to_csv(p, index=False)
    line = error_line(["fit", "chinchilla", p], capsys)
    assert "no column 'loss'" in line and "found columns: N, C, val_loss, D" in line
    isoflop_frame().drop(columns=["C", "D"]).to_csv(p, index=False)
    line = error_line(["fit", "isoflop", p], capsys)
    assert "'D'" in line and "'C'" in line and "found columns: N, loss" in line
    line = error_line(["fit", "power", p, "--x", "flops", "--y", "loss"], capsys)
    assert "no column 'flops'" in line


def test_error_unknown_law(capsys):
    line = error_line(["optimal", "--law", "chinchilla70b", "--flops", "1e23"], capsys)
    assert "unknown law 'chinchilla70b'" in line and "hoffmann2022" in line and "besiroglu2024" in line


def test_error_bad_fit_json(tmp_path, capsys):
    p = tmp_path / "fit.json"
    p.write_text('{"E": 1.8, "A": 400}')
    assert "lacks B, alpha, beta" in error_line(["optimal", "--law", p, "--flops", "1e23"], capsys)
    p.write_text("not json")
    assert "not valid JSON" in error_line(["optimal", "--law", p, "--flops", "1e23"], capsys)
    assert "cannot read" in error_line(["optimal", "--law", tmp_path / "nope.json", "--flops", "1e23"], capsys)


def test_error_non_positive_values(tmp_path, capsys):
    p = tmp_path / "r.csv"
    df = isoflop_frame()
    df.loc[3, "N"] = 0
    df.to_csv(p, index=False)
    line = error_line(["fit", "chinchilla", p], capsys)
    assert "N must be positive and finite: found 0 at index 3 (drop or fix that row)" in line
    df = isoflop_frame().astype({"loss": object})
    df.loc[5, "loss"] = "abc"
    df.to_csv(p, index=False)
    assert "column 'loss' has a non-number 'abc' at row 5" in error_line(["fit", "chinchilla", p], capsys)
    assert "--flops must be a positive" in error_line(["optimal", "--law", "hoffmann2022", "--flops", "-1"], capsys)


def test_error_too_few_points(tmp_path, capsys):
    p = tmp_path / "r.csv"
    isoflop_frame().head(4).to_csv(p, index=False)
    line = error_line(["fit", "chinchilla", p], capsys)
    assert "fit_chinchilla needs at least 6 distinct (N, D) points (5 parameters); got 4" in line
    isoflop_frame().head(2).to_csv(p, index=False)
    assert "needs at least 3 points (2 parameters); got 2" in error_line(["fit", "power", p, "--x", "N", "--y", "loss"], capsys)


def test_error_budget_with_too_few_runs(tmp_path, capsys):
    p = tmp_path / "r.csv"
    df = isoflop_frame()
    df = df.drop(index=df.index[df["C"] == df["C"].unique()[2]][2:])  # keep 2 runs of the third budget
    df.to_csv(p, index=False)
    line = error_line(["fit", "isoflop", p], capsys)
    assert "has 2 runs; a parabola needs at least 3 per budget" in line and "method='argmin'" in line
    rc, out, _ = run(["fit", "isoflop", p, "--method", "argmin"], capsys)
    assert rc == 0


def test_argparse_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as e:
        main(["fit", "isoflop", "x.csv", "--method", "cubic"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid choice" in err


# ---------------------------------------------------------------------------------------------
# the installed console script


def test_console_script_installed(tmp_path):
    exe = Path(sys.executable).parent / "scaling-lab"
    assert exe.exists(), f"console script not installed at {exe}"
    r = subprocess.run([str(exe), "optimal", "--law", "hoffmann2022", "--flops", "5.76e23", "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["N_opt"] == pytest.approx(3.22e10, rel=5e-3)
    r = subprocess.run([str(exe), "fit", "chinchilla", str(tmp_path / "nope.csv")], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_cli_does_not_import_torch_for_fitting_commands():
    """`scaling-lab fit/optimal` must start fast: only `train` and `sweep` need torch."""
    import subprocess
    import sys

    code = ("import sys, scaling_lab.cli as c; c.build_parser(); "
            "c.main(['optimal', '--law', 'hoffmann2022', '--flops', '1e21', '--json']); "
            "sys.exit(3 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
