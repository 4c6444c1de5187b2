"""The assignments: masters pass their own tests (otter assign runs them), student versions run
end to end without solutions or hidden tests, and the masters stay out of the website."""

import json
import shutil
import time
from pathlib import Path

import nbformat
import pytest
import yaml

from tools.assignments import masters
from tools.build import toc_files

ROOT = Path(__file__).resolve().parent.parent
MASTERS = masters(ROOT)
IDS = [m.stem for m in MASTERS]

# lines of each master's solutions that must not reach the student version
SOLUTION_LINES = {
    "a1_power_law": ["slope = float(dx @ (y - y.mean()) / (dx @ dx))",
                     "res = least_squares(lambda p:", "idx = rng.integers(0, len(N), len(N))",
                     'q4_answer = "b"', "**Model answer.**"],
    "a2_chinchilla": ["G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))", "def _tpp(fit):",
                      'reduction="mean")  #', 'converged = "sum"', "**Model answer.**"],
    "a3_scaling_project": ["lr_grid = 3e-3 * np.logspace(-1.0, 1.0, 7)",
                           "for C in (3e14, 1e15, 3e15, 1e16, 3e16, 6e16):",
                           "N_pred, D_pred, loss_pred = predict(p, TARGET_FLOPS)"],
}


def test_every_master_has_known_solution_lines():
    assert len(MASTERS) >= 3
    assert set(IDS) == set(SOLUTION_LINES)
    for m in MASTERS:
        src = m.read_text()
        for line in SOLUTION_LINES[m.stem]:
            assert json.dumps(line)[1:-1] in src, f"{m.name} no longer has {line!r}: update the test"


@pytest.mark.parametrize("path", MASTERS, ids=IDS)
def test_master_format(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].cell_type == "raw" and nb.cells[0].source.startswith("# ASSIGNMENT CONFIG")
    cfg = yaml.safe_load(nb.cells[0].source)
    assert cfg["name"] == path.stem and cfg["export_cell"]["pdf"] is False
    raw = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "raw"]
    n_q = raw.count("# BEGIN QUESTION")
    assert n_q >= 3 and raw.count("# END QUESTION") == n_q
    assert raw.count("# BEGIN SOLUTION") == raw.count("# END SOLUTION") == n_q
    hidden = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("# HIDDEN")]
    assert hidden, "a master needs hidden tests"
    for c in nb.cells:
        if c.cell_type == "code":
            assert not c.get("outputs") and c.get("execution_count") is None, "strip outputs"


def test_masters_are_not_in_the_site():
    listed = toc_files(ROOT)
    assert not [f for f in listed if f.startswith("notebooks/assignments")]
    assert "book/instructors" in listed and "book/assignments" in listed


def test_makefile_has_assignments_target():
    text = (ROOT / "Makefile").read_text()
    assert "\nassignments: $(STAMP)\n\t$(BIN)/python tools/assignments.py" in text
    assert "otter-grader==" in (ROOT / "requirements.txt").read_text()


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """`make assignments` into a temporary directory: otter assign runs every master against all
    of its tests (public and hidden) and fails if any fails."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("assignments")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "assignments.py"), "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, f"make assignments failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return out, json.loads((out / "summary.json").read_text()), time.perf_counter() - t0


@pytest.mark.slow
def test_every_master_passes_its_own_tests(made):
    out, summary, _ = made
    assert [s["name"] for s in summary] == IDS
    assert all(s["tests_run"] for s in summary)
    assert all(s["cpu_seconds"] > 0 for s in summary)  # otter's kernel included
    for s in summary:
        assert Path(s["autograder_zip"]).exists() and Path(s["student"]).exists()


@pytest.mark.slow
@pytest.mark.parametrize("name", IDS)
def test_student_version_has_no_solutions_or_hidden_tests(made, name):
    out, _, _ = made
    student = out / name / "student" / f"{name}.ipynb"
    text = student.read_text()
    for line in SOLUTION_LINES[name]:
        assert json.dumps(line)[1:-1] not in text, f"solution text {line!r} in the student version"
    assert "# BEGIN SOLUTION" not in text and "# SOLUTION" not in text and "# HIDDEN" not in text
    nb = nbformat.read(student, as_version=4)
    tests = nb.metadata["otter"]["tests"]
    assert tests, "the student version keeps its public tests"
    for q, t in tests.items():
        cases = [c for suite in t["suites"] for c in suite["cases"]]
        assert cases, f"no public test for {q}"
        for case in cases:
            assert not case["hidden"], f"hidden test of {q} in the student version"
    # the master's hidden tests (recognisable by their private names) are gone
    assert "_wl(" not in text and "_ref = _fpl(" not in text and "_fc(runs" not in text
    assert "_grade(" not in text and "_W.from_key" not in text


@pytest.mark.slow
@pytest.mark.parametrize("name", IDS)
def test_student_version_runs_end_to_end(made, name, tmp_path):
    """Executed as handed out (every answer still `...`): no cell raises; the checks report."""
    import nbclient

    out, _, _ = made
    shutil.copy(out / name / "student" / f"{name}.ipynb", tmp_path)
    nb = nbformat.read(tmp_path / f"{name}.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=None, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    checks = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("grader.check(")]
    assert checks
    for c in nb.cells:
        for o in c.get("outputs", []):
            assert o.output_type != "error", f"cell raised: {c.source[:200]}"
    for c in checks:
        text = "".join(str(o.get("data", {}).get("text/plain", "")) for o in c.outputs)
        assert "failed" in text.lower(), f"an unanswered question passed its tests: {c.source}"


@pytest.mark.slow
def test_grading_a_solved_notebook_gives_full_marks(made, tmp_path):
    """`otter run` with the autograder zip on the master (solutions in) scores every point,
    hidden tests included; on the student version it scores zero."""
    import subprocess
    import sys

    out, summary, _ = made
    s = next(s for s in summary if s["name"] == "a3_scaling_project")
    for which, expect_full in (("autograder", True), ("student", False)):
        sub = tmp_path / which
        sub.mkdir()
        shutil.copy(out / s["name"] / which / f"{s['name']}.ipynb", sub)
        proc = subprocess.run([sys.executable, "-m", "otter", "run", "-a", s["autograder_zip"],
                               "-o", str(sub), str(sub / f"{s['name']}.ipynb")],
                              capture_output=True, text=True, cwd=sub)
        assert proc.returncode == 0, proc.stderr[-3000:]
        res = json.loads((sub / "results.json").read_text())
        scored = [t for t in res["tests"] if "max_score" in t]  # per question (Gradescope format)
        score = sum(t["score"] for t in scored)
        possible = sum(t["max_score"] for t in scored)
        assert possible > 0
        assert (score == possible) if expect_full else (score == 0), (which, score, possible)


@pytest.mark.slow
def test_a3_student_files_hold_no_constant_of_the_hidden_world(made):
    """The student notebook and the autograder's public tests name the course key, never the
    world's constants or its answer (the hidden tests compute those inside the grader)."""
    import zipfile

    from scaling_lab.world import DEMO_SEED, World, course_key

    out, summary, _ = made
    s = next(s for s in summary if s["name"] == "a3_scaling_project")
    key = s.get("course_key", course_key(DEMO_SEED))
    w = World.from_key(key)
    truth = w.optimum(1e19)
    values = [*vars(w.constants).values(), truth.N, truth.D, truth.loss, truth.n_layer,
              truth.d_model, float(w.lr_opt(1e7)), float(w.batch_opt(1e7))]
    student = (out / "a3_scaling_project" / "student" / "a3_scaling_project.ipynb").read_text()
    nb = nbformat.reads(student, as_version=4)
    public = json.dumps(nb.metadata["otter"]["tests"])
    with zipfile.ZipFile(s["autograder_zip"]) as z:
        names = [n for n in z.namelist() if n.endswith(".py") and "tests/" in n]
        graded = {n: z.read(n).decode() for n in names}
    assert key in student
    for v in values:
        for form in (repr(v), f"{v:.6g}", f"{v:.4g}", f"{v:.3e}"):
            assert form not in student and form not in public, (form, "in a student file")
    # the hidden tests in the zip find the world by its key too, not by its constants
    assert graded and any(key in t for t in graded.values())
    for t in graded.values():
        assert f"{w.constants.alpha!r}" not in t and f"{truth.N:.6g}" not in t


# what no student-facing cell may call or show: the simulators' laws and truths, which the
# hidden tests alone compute (A2's law, A3's world and its optimum, a noise-free loss)
HIDDEN_LAW_NAMES = ["world_law", "loss_true", "World.from_key", "World.from_seed",
                    ".optimum(", "draw_constants", "simulate_runs("]


def _student_facing_cells(nb) -> list[str]:
    """The sources of a master's cells that reach the student version: everything outside the
    solution blocks and the hidden tests."""
    inside, out = False, []
    for c in nb.cells:
        first = c.source.splitlines()[0] if c.source else ""
        if c.cell_type == "raw" and first in ("# BEGIN SOLUTION", "# END SOLUTION"):
            inside = first == "# BEGIN SOLUTION"
        elif not inside and not c.source.startswith("# HIDDEN"):
            out.append("\n".join(l for l in c.source.splitlines()
                                 if not l.rstrip().endswith("# SOLUTION")))
    return out


@pytest.mark.parametrize("path", MASTERS, ids=IDS)
def test_masters_show_students_no_hidden_law(path):
    """No cell that reaches the student names a simulator's law or truth (A2 once set
    `truth = world_law(21)` in a student cell, and its runs carried a noise-free loss)."""
    nb = nbformat.read(path, as_version=4)
    for src in _student_facing_cells(nb):
        for name in HIDDEN_LAW_NAMES:
            assert name not in src, f"{path.name}: a student-facing cell shows {name!r}:\n{src}"
        assert "truth =" not in src and "truth=" not in src, f"{path.name}: {src}"


@pytest.mark.slow
def test_a2_student_files_hold_no_constant_of_the_hidden_law(made):
    """A2's student notebook and public tests hold neither the simulated world's law (no call
    that returns it, no noise-free loss) nor any of its constants or allocations, in the forms a
    printout would take; the hidden test that compares with the law's exponent is in the
    autograder only."""
    import zipfile

    import numpy as np

    from scaling_lab.budget import world_law

    out, summary, _ = made
    s = next(s for s in summary if s["name"] == "a2_chinchilla")
    law = world_law(21)
    opt = law.optimal(np.logspace(18.5, 21, 6))
    values = [law.E, law.A, law.B, law.alpha, law.beta, law.a, law.b,
              *map(float, opt.N_opt), *map(float, opt.D_opt)]
    student = Path(s["student"]).read_text()
    public = json.dumps(nbformat.reads(student, as_version=4).metadata["otter"]["tests"])
    for name in HIDDEN_LAW_NAMES:
        assert name not in student, f"{name!r} in the student notebook"
    for v in values:
        for form in (repr(v), f"{v:.6g}", f"{v:.4g}", f"{v:.3e}"):
            assert form not in student and form not in public, (form, "in a student file")
    with zipfile.ZipFile(s["autograder_zip"]) as z:
        graded = " ".join(z.read(n).decode() for n in z.namelist()
                          if n.endswith(".py") and "tests/" in n)
    assert "world_law as _wl" in graded  # the hidden test alone reads the law


def test_the_course_seed_replaces_the_demo_key(tmp_path, monkeypatch):
    from tools.assignments import with_course_key

    from scaling_lab.world import DEMO_SEED, course_key

    master = next(m for m in MASTERS if m.stem == "a3_scaling_project")
    demo = course_key(DEMO_SEED)
    monkeypatch.delenv("SCALING_LAB_COURSE_SEED", raising=False)
    monkeypatch.delenv("SCALING_LAB_COURSE_SEED_FILE", raising=False)
    assert with_course_key(master, tmp_path / "a") == (master, demo)  # no seed: the demo
    monkeypatch.setenv("SCALING_LAB_COURSE_SEED", "spring-2027")
    copy, key = with_course_key(master, tmp_path / "b")
    text = copy.read_text()
    assert key == course_key("spring-2027") != demo
    assert demo not in text and text.count(key) == master.read_text().count(demo) >= 5
    assert (copy.parent / "requirements.txt").exists() and "spring-2027" not in text
    other = next(m for m in MASTERS if m.stem != "a3_scaling_project")
    assert with_course_key(other, tmp_path / "c") == (other, None)  # no world in it



@pytest.mark.parametrize("path", MASTERS, ids=IDS)
def test_masters_carry_the_colab_cell_and_otters_init_cell(path):
    """After the title: the Colab cell (generated by tools/colab.py from _config.yml and the
    otter-grader pin) and otter's init cell, which the config no longer asks otter to add."""
    from tools.colab import assignment_cell_source, assignment_is_current, init_cell_source

    assert assignment_is_current(path, ROOT), \
        f"{path.name}: run `python tools/colab.py`"
    nb = nbformat.read(path, as_version=4)
    assert yaml.safe_load(nb.cells[0].source)["init_cell"] is False
    assert nb.cells[3].source == init_cell_source(path.stem)
    src = nb.cells[2].source
    assert src == assignment_cell_source(path.stem, ROOT)
    assert 'if "google.colab" in sys.modules:' in src and "otter-grader==7.0.0" in src


@pytest.mark.slow
def test_the_colab_cell_writes_the_public_tests_otter_reads_there(made, tmp_path, monkeypatch):
    """Colab simulated: `google.colab._message` returns the student notebook, `pip` is recorded
    instead of run, in a directory without the notebook (on Colab it is not a file). The cell
    saves the notebook there, which otter's init cell needs, and one OK-format file per
    question with exactly the notebook's public tests; otter's client, started as the init
    cell starts it, checks from those files: every question fails with the answers left out
    and passes with the master's answers."""
    import subprocess
    import sys
    import types

    out, summary, _ = made
    name = "a1_power_law"
    student = nbformat.read(out / name / "student" / f"{name}.ipynb", as_version=4)
    master = nbformat.read(out / name / "autograder" / f"{name}.ipynb", as_version=4)
    meta = json.loads(json.dumps(student.metadata["otter"]["tests"]))
    colab = types.ModuleType("google.colab")
    colab._message = types.SimpleNamespace(
        blocking_request=lambda what, timeout_sec=None: {"ipynb": json.loads(
            nbformat.writes(student))} if what == "get_ipynb" else None)
    google = types.ModuleType("google")
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda args, **kw: calls.append(args))
    monkeypatch.chdir(tmp_path)
    cell = next(c.source for c in student.cells if c.get("id") == "colab-install")
    exec(cell, {})
    assert calls and "otter-grader==7.0.0" in calls[0] and any(
        a.startswith("scaling-lab @ git+") for a in calls[0])
    written = sorted(p.stem for p in (tmp_path / "tests").glob("*.py"))
    assert written == sorted(meta)
    saved = nbformat.read(tmp_path / f"{name}.ipynb", as_version=4)
    assert saved.metadata["otter"]["tests"] == meta
    monkeypatch.delitem(sys.modules, "google.colab")
    monkeypatch.delitem(sys.modules, "google")
    import otter

    grader = otter.Notebook(f"{name}.ipynb")  # as the init cell does
    env: dict = {}
    for c in master.cells:
        if (c.cell_type == "code" and c.get("id") not in ("colab-install", "otter-init")
                and not c.source.startswith(("grader.", "# Save your notebook"))):
            exec(c.source, env)
    for q in meta:
        assert grader.check(q, global_env={}).grade < 1, q
        assert grader.check(q, global_env=env).grade == 1, q



# worlds where the master's solution once lost points (about 2 CPU-seconds each): its
# learning-rate rule (a parabola fitted to the log of the loss) 1.5x off at N = 2e8 (s9), its
# aspect ratio from shapes of mixed sizes 3x off (s18), its loss (s38) or N (s62) outside the
# former first bands; and the demo world. Over s0 to s79 it earns every point (measured).
A3_SEEDS = ["demo", "s9", "s18", "s38", "s62"]


@pytest.mark.parametrize("seed", A3_SEEDS)
def test_a3_master_scores_full_marks_in_other_worlds(seed, tmp_path, monkeypatch):
    """What `make assignments` does with a course seed, without otter: the master's cells run
    in the world of ``seed`` (its key in place of the demo key) and every test, public and
    hidden, passes: all 16 autograded points."""
    from scaling_lab.world import DEMO_SEED, course_key

    nb = nbformat.read(ROOT / "notebooks" / "assignments" / "a3_scaling_project.ipynb",
                       as_version=4)
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    failed = []
    for c in nb.cells:
        if c.cell_type != "code" or c.get("id") in ("colab-install", "otter-init"):
            continue
        src = c.source.replace(course_key(DEMO_SEED), course_key(seed))
        try:
            exec(src, ns)
        except AssertionError as e:
            failed.append(f"{src.splitlines()[0]}: {e}")
    assert ns["budget"].spent <= 1e18
    assert not failed, failed


# ---- A1 and A2 (issue 16 item 2): the student writes the estimators; one written question each


def _solution_code(nb) -> str:
    """The code cells inside the master's # BEGIN SOLUTION ... # END SOLUTION blocks."""
    inside, out = False, []
    for c in nb.cells:
        first = c.source.splitlines()[0] if c.source else ""
        if c.cell_type == "raw" and first in ("# BEGIN SOLUTION", "# END SOLUTION"):
            inside = first == "# BEGIN SOLUTION"
        elif inside and c.cell_type == "code":
            out.append(c.source)
    return "\n".join(out)


@pytest.mark.parametrize("name, banned", [
    ("a1_power_law", ["scaling_lab.fitting", "fit_power_law", "polyfit", "bootstrap_ci"]),
    ("a2_chinchilla", ["scaling_lab.laws", "ChinchillaLaw", ".optimal(", "minimize"]),
])
def test_a1_a2_solutions_are_the_students_own_estimators(name, banned):
    """The master's solutions implement the estimator (the package is only the hidden tests'
    reference), and a written question with a rubric is in the master and on the instructors'
    page, with its points and the assignment's measured machine time."""
    nb = nbformat.read(ROOT / "notebooks" / "assignments" / f"{name}.ipynb", as_version=4)
    code = _solution_code(nb)
    assert code.strip()
    for word in banned:
        assert word not in code, f"{name}: a solution cell uses {word!r}"
    configs = [yaml.safe_load(c.source) for c in nb.cells
               if c.cell_type == "raw" and c.source.startswith("# BEGIN QUESTION")]
    manual = [q for q in configs if q.get("manual")]
    assert len(manual) == 1 and manual[0]["points"] == 5, "one written question of 5 points"
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "*Rubric (5 points).*" in text
    page = (ROOT / "book" / "instructors.md").read_text()
    tag = name[:2].upper()
    section = page.split(f"\n## {tag}: ", 1)[1].split("\n## ", 1)[0]
    rows = [r.split("|") for r in section.splitlines() if r.startswith("| (")]
    assert rows and sum(int(r[2]) for r in rows) == manual[0]["points"], "rubric points"
    words = " ".join(section.split())
    assert "**Time.** Machine: `otter assign` executed and graded the master in" in words
    assert "Student: our estimate" in words


# another correct A1, written differently from the master (lstsq for the line; a fine grid over
# E with no polishing; bootstrap by rng.choice with another seed; np.quantile), and a wrong one
# (the interval as mean +- one standard deviation of the draws; answer "a" to question 4)
_A1_OTHER = {
    "a1-08": """def fit_loglog(N, L):
    X = np.column_stack([np.ones(len(N)), np.log(N)])
    (c0, c1), *_ = np.linalg.lstsq(X, np.log(L), rcond=None)
    return float(np.exp(c0)), float(-c1)


fit_plain = fit_loglog(N, L)""",
    "a1-19": """def fit_offset(N, L):
    x, y = np.log(np.asarray(N, float)), np.asarray(L, float)
    E = np.linspace(0.0, y.min(), 4000, endpoint=False)[:, None]
    Z = np.log(y - E)
    X = np.column_stack([np.ones_like(x), x])
    coef = np.linalg.solve(X.T @ X, X.T @ Z.T)          # (2, grid): one line per E
    fitted = E + np.exp(coef[0][:, None] + coef[1][:, None] * x)
    k = int(np.argmin(((np.log(fitted) - np.log(y)) ** 2).sum(axis=1)))
    return float(E[k, 0]), float(np.exp(coef[0, k])), float(-coef[1, k])


fit_E = fit_offset(N, L)
pred_plain = float(fit_plain[0] * N_big ** -fit_plain[1])
pred_offset = float(fit_E[0] + fit_E[1] * N_big ** -fit_E[2])""",
    "a1-30": """def bootstrap_predictions(N, L, x_new, n_boot=1000, seed=2024):
    rng = np.random.default_rng(seed)
    N, L = np.asarray(N), np.asarray(L)
    preds = np.empty(n_boot)
    for k in range(n_boot):
        idx = rng.choice(len(N), size=len(N))
        while len(set(idx.tolist())) < 3:
            idx = rng.choice(len(N), size=len(N))
        E, A, a = fit_offset(N[idx], L[idx])
        preds[k] = E + A * x_new ** -a
    return preds


draws = bootstrap_predictions(N, L, N_big, n_boot, seed=2024)
interval = (float(np.quantile(draws, 0.025)), float(np.quantile(draws, 0.975)))""",
    "a1-42": """plain_inside = bool(interval[0] <= pred_plain <= interval[1])
q4_answer = "b\"""",
}
_A1_WRONG = {**_A1_OTHER,
             "a1-30": _A1_OTHER["a1-30"].replace(
                 "interval = (float(np.quantile(draws, 0.025)), float(np.quantile(draws, 0.975)))",
                 "interval = (float(draws.mean() - draws.std()), float(draws.mean() + draws.std()))"),
             "a1-42": _A1_OTHER["a1-42"].replace('"b"', '"a"')}


@pytest.mark.slow
def test_a1_grades_any_correct_method_fully_and_a_wrong_interval_low(made, tmp_path):
    """otter run with A1's autograder: a correct solution written differently from the master
    earns all 10 autograded points; a wrong interval (mean +- one standard deviation) and a wrong
    multiple choice lose points in questions 3 and 4 only."""
    import subprocess
    import sys

    out, summary, _ = made
    s = next(s for s in summary if s["name"] == "a1_power_law")
    student = out / "a1_power_law" / "student" / "a1_power_law.ipynb"
    scores = {}
    for which, answers in (("other", _A1_OTHER), ("wrong", _A1_WRONG)):
        nb = nbformat.read(student, as_version=4)
        for c in nb.cells:
            if c.get("id") in answers:
                c.source = answers[c.id]
        assert sum(c.get("id") in answers for c in nb.cells) == len(answers)
        sub = tmp_path / which
        sub.mkdir()
        nbformat.write(nb, sub / "a1_power_law.ipynb")
        proc = subprocess.run([sys.executable, "-m", "otter", "run", "-a", s["autograder_zip"],
                               "-o", str(sub), str(sub / "a1_power_law.ipynb")],
                              capture_output=True, text=True, cwd=sub)
        assert proc.returncode == 0, proc.stderr[-3000:]
        res = json.loads((sub / "results.json").read_text())
        scores[which] = {t["name"]: t["score"] for t in res["tests"] if "max_score" in t}
    assert scores["other"] == {"q1_loglog": 2, "q2_offset": 3, "q3_bootstrap": 3, "q4_meaning": 2}
    # otter splits a question's points evenly over its test cases: the wrong interval fails one
    # of question 3's four (the hidden width test), the wrong letter one of question 4's two
    assert scores["wrong"] == {"q1_loglog": 2, "q2_offset": 3, "q3_bootstrap": 2.25,
                               "q4_meaning": 1}


# ----------------------------------------------------------------------------- A4: the lab
# A4 trains a small IsoFLOP sweep (the smoke preset's plan isoflop_small) into a store the
# notebook creates next to itself; its hidden tests re-read that store and recompute the fits.
A4 = "a4_lab_isoflop"
A4_STORE = "a4_runs/isoflop_small.jsonl"
SOLUTION_LINES[A4] = ['summary = run_plan(plan, STORE, workers=workers)',
                      'resample="parametric", seed=seed)',
                      'draws.append(fit_isoflop(N_ne, C, y).params["a"]']
A4_HIDDEN_NAMES = ["_RS(", "_fi(", "_gp(", "_st[_k]"]  # private names of A4's hidden tests


def _a4_cells() -> dict:
    """The A4 master's code cells by role: ``setup`` (outside questions), and per question its
    ``solution`` cells and ``tests`` as (hidden, source)."""
    nb = nbformat.read(ROOT / "notebooks" / "assignments" / f"{A4}.ipynb", as_version=4)
    out, q, block = {"setup": []}, None, None
    for c in nb.cells:
        if c.cell_type == "raw":
            first, _, rest = c.source.partition("\n")
            if first == "# BEGIN QUESTION":
                q = yaml.safe_load(rest)["name"]
                out[q] = {"solution": [], "tests": []}
            elif first in ("# BEGIN SOLUTION", "# BEGIN TESTS"):
                block = first.split()[-1]
            elif first in ("# END SOLUTION", "# END TESTS"):
                block = None
            elif first == "# END QUESTION":
                q = None
        elif c.cell_type == "code":
            if c.get("id") in ("colab-install", "otter-init"):
                continue  # Colab's install cell and otter's init cell: not the assignment's
            if q is None:
                out["setup"].append(c.source)
            elif block == "SOLUTION":
                out[q]["solution"].append(c.source)
            elif block == "TESTS":
                out[q]["tests"].append((c.source.startswith("# HIDDEN"), c.source))
    return out


def _a4_world_store(path: Path, noise: float = 0.017, seed: int = 0) -> None:
    """A store holding every run of A4's plan without training: final losses from a law of the
    Chinchilla form in total N (constants fitted to the book's runs of these shapes, rounded),
    with normal noise of the runs' own level; sizes and FLOPs per token as the trainer records
    them."""
    import numpy as np

    from scaling_lab.flops import flops_per_token, param_counts
    from scaling_lab.lab import ResultStore
    from scaling_lab.lab.presets import get_preset
    from scaling_lab.lab.spec import RunResult

    rng = np.random.default_rng(seed)
    store = ResultStore(path)
    for s in get_preset("smoke").plans["isoflop_small"]().specs:
        pc = param_counts(s.shape())
        loss = 0.92 + 11600 * pc.total ** -1.055 + 435 * s.tokens ** -0.43
        info = {"params_total": int(pc.total), "params_non_embedding": int(pc.non_embedding),
                "params_embedding": int(pc.embedding),
                "flops_per_token_6n": float(flops_per_token(s.shape(), method="6N")),
                "flops_per_token_full": float(flops_per_token(s.shape(), method="full"))}
        final = {"step": s.steps, "tokens": s.steps * s.tokens_per_step, "wall_s": 0.0,
                 "val_loss": float(loss + rng.normal(0.0, noise)), "train_loss": float(loss)}
        store.append(RunResult(s.key(), s.to_dict(), "ok", [final], info))


def _a4_own_solution(runs, n_boot: int = 200, seed: int = 1) -> dict:
    """A correct solution written differently from the master's: a parabola in log L through
    each budget's four sizes, the line by np.polyfit, and a paired bootstrap that resamples the
    runs within each budget (no vertex clamping)."""
    import numpy as np

    C, L = runs["budget"].to_numpy(float), runs["val_loss"].to_numpy(float)
    Nt, Ne = runs["N"].to_numpy(float), runs["params_non_embedding"].to_numpy(float)
    budgets = np.unique(C)
    groups = [np.flatnonzero(C == b) for b in budgets]

    def exponent(N, sel):
        v = [(lambda c: -c[1] / (2 * c[0]))(np.polyfit(np.log(N[i]), np.log(L[i]), 2))
             for i in sel]
        return float(np.polyfit(np.log(budgets), v, 1)[0]), np.exp(v)

    a, N_opt = exponent(Nt, groups)
    a_ne, _ = exponent(Ne, groups)
    rng, d = np.random.default_rng(seed), []
    while len(d) < n_boot:
        sel = [i[rng.integers(0, len(i), len(i))] for i in groups]
        if min(np.unique(Nt[i]).size for i in sel) < 3:
            continue
        ta, tn = exponent(Nt, sel)[0], exponent(Ne, sel)[0]
        d.append((ta, tn - ta))
    d = np.array(d)
    return {"N_opt": N_opt, "a_hat": a, "a_nonemb": a_ne, "shift": a_ne - a,
            "a_interval": tuple(float(v) for v in np.percentile(d[:, 0], [2.5, 97.5])),
            "shift_interval": tuple(float(v) for v in np.percentile(d[:, 1], [2.5, 97.5]))}


def _a4_failures(ns: dict, q: str, cells: dict) -> list[str]:
    """The tests (public and hidden) of question ``q`` that fail in namespace ``ns``."""
    failed = []
    for hidden, src in cells[q]["tests"]:
        try:
            exec(src, ns)
        except AssertionError as e:
            failed.append(f"{'hidden' if hidden else 'public'}: {e}")
    return failed


def test_a4_plan_is_a_cut_of_the_book_grid():
    """isoflop_small: the book's four smallest two-layer sizes at every other of its first nine
    budgets (5e11 to 1.52e12 full FLOPs, a factor 1.32 apart), the same specs as the book's
    runs; tokens = budget / full FLOPs per token, in whole optimizer steps."""
    from scaling_lab.flops import flops_per_token
    from scaling_lab.lab.analysis import plan_flops
    from scaling_lab.lab.presets import SMALL_ISO_BUDGETS, SMALL_ISO_SIZES, get_preset

    plan = get_preset("smoke").plans["isoflop_small"]()
    book = get_preset("book").plans["isoflop"]()
    assert SMALL_ISO_BUDGETS == [5e11, 6.6e11, 8.71e11, 1.15e12, 1.52e12]
    assert SMALL_ISO_SIZES == [(2, 16, 1), (2, 24, 2), (2, 32, 2), (2, 48, 3)]
    assert len(plan.items) == 20 and set(plan.keys()) <= set(book.keys())
    for it in plan.items:
        s, C = it.spec, dict(it.labels)["budget"]
        fpt = flops_per_token(s.shape(), method="full")
        assert s.schedule == "wsd" and s.tokens % s.tokens_per_step == 0
        assert abs(s.tokens * fpt / C - 1) <= s.tokens_per_step * fpt / C / 2 + 1e-12
    jobs = plan.jobs()
    assert sorted(len(j) for j in jobs) == [5, 5, 5, 5]  # one WSD group per size
    cost = plan_flops(plan.specs)
    assert cost["runs"] == 20 and 2.0 < cost["ratio"] < 2.4  # branches: ~2.2x fewer FLOPs
    assert abs(cost["flops_grouped"] / 8.624e12 - 1) < 1e-3


def test_a4_master_writes_its_store_under_its_own_directory():
    """The setup cell makes the store's directory itself, next to the notebook; the hidden tests
    re-read exactly that store."""
    cells = _a4_cells()
    setup = "\n".join(cells["setup"])
    assert 'RUNS_DIR = Path("a4_runs")' in setup and "RUNS_DIR.mkdir(exist_ok=True)" in setup
    assert 'STORE = RUNS_DIR / "isoflop_small.jsonl"' in setup
    assert "STORE.touch()" in setup  # the export cell packs it even before the sweep ran
    reads = [src for q in ("q1_sweep", "q2_exponent", "q3_convention")
             for hidden, src in cells[q]["tests"] if hidden]
    assert len(reads) == 7 and all(f'"{A4_STORE}"' in src for src in reads)


def test_a4_rubric_in_the_master_and_for_instructors():
    """Question 4's rubric: criteria whose points add up to the total, in the notebook and in
    book/instructors.md, with the time estimates."""
    import re

    nb = nbformat.read(ROOT / "notebooks" / "assignments" / f"{A4}.ipynb", as_version=4)
    q4 = next(c.source for c in nb.cells if c.source.startswith("## Question 4"))
    total = int(re.search(r"\*Rubric \((\d+) points\)\.\*", q4).group(1))
    parts = [int(m[1]) for m in re.findall(r"\(([abc])\) (\d+):", q4)]
    assert len(parts) == 3 and sum(parts) == total == 8
    text = (ROOT / "book" / "instructors.md").read_text()
    sec = text[text.index("## A4"):]
    sec = sec[:sec.find("\n## ", 1)] if "\n## " in sec[1:] else sec
    assert "Rubric for question 4" in sec and "**Time.**" in sec
    rows = re.findall(r"^\| \(([abc])\)[^|]*\| (\d+) \|", sec, re.M)
    assert [r[0] for r in rows] == ["a", "b", "c"] and sum(int(r[1]) for r in rows) == total
    assert "a4_lab_isoflop" in (ROOT / "book" / "assignments.md").read_text() or \
        "A4." in (ROOT / "book" / "assignments.md").read_text()


def test_a4_hidden_tests_accept_any_correct_method_and_reject_an_unpaired_interval(
        tmp_path, monkeypatch):
    """On a store of simulated runs (no training): the master's own solution and a solution
    written differently pass every test of questions 1-3; argmin vertices (the grid's sizes,
    not a fitted vertex) fail question 2's hidden test of a; an interval of the shift from
    independent bootstraps of the two conventions fails question 3's paired test."""
    import numpy as np

    from scaling_lab.fitting import fit_isoflop

    monkeypatch.chdir(tmp_path)
    (tmp_path / "a4_runs").mkdir()
    _a4_world_store(tmp_path / A4_STORE)
    cells = _a4_cells()
    ns: dict = {}
    for src in cells["setup"]:
        exec(src, ns)
    for q in ("q1_sweep", "q2_exponent", "q3_convention"):
        for src in cells[q]["solution"]:
            exec(src, ns)  # q1's run_plan finds every run in the store: nothing to train
        assert _a4_failures(ns, q, cells) == [], q
    master = {k: ns[k] for k in ("a_hat", "a_interval", "a_nonemb", "shift", "shift_interval")}

    own = _a4_own_solution(ns["runs"])
    ns.update(own)
    assert abs(own["a_hat"] - master["a_hat"]) > 1e-3  # a different method, not the same numbers
    for q in ("q2_exponent", "q3_convention"):
        assert _a4_failures(ns, q, cells) == [], (q, own)

    # argmin: the best run's size per budget, a line through those
    runs = ns["runs"]
    best = runs.loc[runs.groupby("budget")["val_loss"].idxmin()].sort_values("budget")
    a_argmin = float(np.polyfit(np.log(best["budget"]), np.log(best["N"]), 1)[0])
    ns.update(master, N_opt=best["N"].to_numpy(float), a_hat=a_argmin)
    assert abs(a_argmin - master["a_hat"]) > 0.1
    failed = _a4_failures(ns, "q2_exponent", cells)
    assert any("more than 0.1" in f for f in failed), failed

    # unpaired: the two conventions refitted to independent perturbations of the losses
    ns.update(master)
    fit = ns["fit"]
    C, L = runs["budget"].to_numpy(float), runs["val_loss"].to_numpy(float)
    rng, d = np.random.default_rng(2), []
    while len(d) < 200:
        try:
            d.append(fit_isoflop(runs["params_non_embedding"], C,
                                 L + rng.normal(0, fit.diagnostics["sigma"], len(L))).a
                     - fit_isoflop(runs["N"], C,
                                   L + rng.normal(0, fit.diagnostics["sigma"], len(L))).a)
        except ValueError:
            continue
    ns["shift_interval"] = tuple(float(v) for v in np.percentile(d, [2.5, 97.5]))
    failed = _a4_failures(ns, "q3_convention", cells)
    assert any("not a paired interval" in f for f in failed), (ns["shift_interval"], failed)


@pytest.mark.slow
def test_a4_student_version_holds_no_hidden_test_or_store(made):
    out, summary, _ = made
    s = next(s for s in summary if s["name"] == A4)
    text = Path(s["student"]).read_text()
    for name in A4_HIDDEN_NAMES:
        assert name not in text, f"hidden-test code {name!r} in the student version"
    assert not list((out / A4).rglob("a4_runs")), "the store of a graded run leaked into the output"
    assert not (ROOT / "notebooks" / "assignments" / "a4_runs").exists()


def _a4_submission(notebook: Path, sub: Path) -> Path:
    """A submission zip as the student's export cell writes it: the notebook and the results
    store at its path (here a simulated store of every run of the plan)."""
    import zipfile

    sub.mkdir()
    shutil.copy(notebook, sub / notebook.name)
    (sub / "a4_runs").mkdir()
    _a4_world_store(sub / A4_STORE)
    zpath = sub / "submission.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for n in (notebook.name, A4_STORE):
            z.write(sub / n, n)
    return zpath


def test_a4_a_shipped_store_leaves_nothing_to_train(tmp_path):
    """The store a submission ships holds every run of the plan, so the notebook's run_plan
    under the grader trains no job (the sweep runner skips specs whose key is in the store)."""
    from scaling_lab.lab import ResultStore
    from scaling_lab.lab.presets import get_preset

    (tmp_path / "a4_runs").mkdir()
    _a4_world_store(tmp_path / A4_STORE)
    plan = get_preset("smoke").plans["isoflop_small"]()
    assert plan.jobs(ResultStore(tmp_path / A4_STORE).keys()) == []
    assert len(plan.jobs(set())) == 4


@pytest.mark.slow
def test_a4_otter_run_grades_the_master_fully_and_the_student_version_zero(made, tmp_path):
    """`otter run` with A4's autograder zip on submission zips as the export cell writes them
    (the notebook and its store): the grader re-executes the notebook, whose sweep finds every
    run in the shipped store (nothing trains), and the hidden tests recompute every reference
    from that store: every point for the master, none for the student version as handed out.
    The student's export cell ships the store; `otter assign` (the `made` fixture) has already
    graded the master on a sweep it trained itself."""
    import subprocess
    import sys

    out, summary, _ = made
    s = next(s for s in summary if s["name"] == A4)
    student = (out / A4 / "student" / f"{A4}.ipynb").read_text()
    assert "files=['a4_runs/isoflop_small.jsonl']" in student, "the export cell ships the store"
    for which, expect_full in (("autograder", True), ("student", False)):
        zpath = _a4_submission(out / A4 / which / f"{A4}.ipynb", tmp_path / which)
        proc = subprocess.run([sys.executable, "-m", "otter", "run", "-a", s["autograder_zip"],
                               "-o", str(zpath.parent), str(zpath)],
                              capture_output=True, text=True, cwd=zpath.parent)
        assert proc.returncode == 0, proc.stderr[-3000:]
        res = json.loads((zpath.parent / "results.json").read_text())
        scored = [t for t in res["tests"] if "max_score" in t]
        score = sum(t["score"] for t in scored)
        possible = sum(t["max_score"] for t in scored)
        assert possible == 9, possible  # questions 1-3: 2 + 4 + 3 points
        assert (score == possible) if expect_full else (score == 0), (which, score, res["tests"])
