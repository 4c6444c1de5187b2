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


def test_there_are_three_masters_with_known_solution_lines():
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
