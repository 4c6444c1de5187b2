"""Make the assignments: student notebooks and autograder zips from the otter-grader masters.

    python tools/assignments.py                 # what `make assignments` runs: every master
    python tools/assignments.py --only a1_power_law --out /tmp/asg

For each master ``notebooks/assignments/aN_slug.ipynb`` this runs ``otter assign MASTER
<out>/aN_slug/``, which writes

* ``student/aN_slug.ipynb``   the notebook to hand out: solutions replaced by ``...``, hidden
                              tests removed, public tests in its metadata for ``grader.check``;
* ``autograder/aN_slug-autograder_<date>.zip``  the bundle ``otter run`` / ``otter grade`` (and
                              Gradescope) grade with, public and hidden tests included;
* ``autograder/aN_slug.ipynb`` the master with solutions, which otter assign *executes and grades
                              with every test*: a master that fails its own tests stops the run.

The masters are never part of the website. ``<out>/summary.json`` records what was made and how
long each took: ``seconds`` of wall time and ``cpu_seconds``, the CPU time of otter assign and
everything it started (the kernel, A4's training workers), which a busy machine does not
inflate.

A3's world is drawn per course: a master holding the demo course key (``course_key("demo")``)
is assigned with that key replaced by the key of the instructor's seed, read from the
environment variable ``SCALING_LAB_COURSE_SEED`` (or the file named by
``SCALING_LAB_COURSE_SEED_FILE``); unset, the demo world stays (see book/instructors.md).

A4 (``a4_lab_isoflop``) trains a small lab sweep whenever it is executed, so its ``otter assign``
takes minutes, not seconds: otter executes it in a temporary directory, where the notebook makes
its own results store (``a4_runs/``); nothing is written next to the master.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MASTERS = REPO / "notebooks" / "assignments"


def masters(root: Path = REPO) -> list[Path]:
    return sorted((root / "notebooks" / "assignments").glob("a[0-9]*_*.ipynb"))


def _demo_key() -> str:
    from scaling_lab.world import DEMO_SEED, course_key

    return course_key(DEMO_SEED)


def with_course_key(master: Path, workdir: Path,
                    seed: str | None = None) -> tuple[Path, str | None]:
    """``master`` itself if it holds no demo course key or no course seed is set; else a copy in
    ``workdir`` (with the masters' requirements.txt) whose demo key is the course's key."""
    from scaling_lab.world import DEMO_SEED, course_key, instructor_seed

    demo = course_key(DEMO_SEED)
    text = master.read_text()
    seed = seed if seed is not None else instructor_seed(default=DEMO_SEED)
    if demo not in text or seed == DEMO_SEED:
        return master, (demo if demo in text else None)
    key = course_key(seed)
    workdir.mkdir(parents=True, exist_ok=True)
    for extra in master.parent.glob("*.txt"):
        shutil.copy(extra, workdir / extra.name)
    copy = workdir / master.name
    copy.write_text(text.replace(demo, key))
    return copy, key


def _children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far, their own children
    (otter's kernel, the lab's training workers) included: the load-independent time."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def assign(master: Path, out: Path, run_tests: bool = True) -> dict:
    """``otter assign`` one master into ``out`` (replaced). Returns a summary; raises on failure."""
    import tempfile

    if out.exists():
        shutil.rmtree(out)
    tmp = Path(tempfile.mkdtemp(prefix="assign-"))
    master, key = with_course_key(master, tmp)
    cmd = [sys.executable, "-m", "otter", "assign", str(master), str(out)]
    if not run_tests:
        cmd.append("--no-run-tests")
    t0, cpu0 = time.perf_counter(), _children_cpu()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=master.parent)
    seconds, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    shutil.rmtree(tmp, ignore_errors=True)
    if proc.returncode != 0:
        hint = ""
        if key is not None and key != _demo_key():
            hint = (f"\n(the master ran in the world of your course seed, key {key}: if only "
                    f"its hidden grading tests failed, its own solution loses points in that "
                    f"world; choose another SCALING_LAB_COURSE_SEED, see book/instructors.md)")
        raise RuntimeError(f"otter assign failed for {master.name} (exit {proc.returncode}):\n"
                           f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}{hint}")
    student = out / "student" / master.name
    zips = sorted((out / "autograder").glob("*-autograder_*.zip"))
    if not student.exists() or not zips:
        raise RuntimeError(f"otter assign for {master.name} wrote no student notebook or zip in {out}")
    summary = {"name": master.stem, "seconds": round(seconds, 1),
               "cpu_seconds": round(cpu, 1), "student": str(student),
               "autograder_zip": str(zips[-1]), "tests_run": run_tests}
    if key is not None:
        summary["course_key"] = key
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "_build" / "assignments",
                    help="output directory (default: _build/assignments)")
    ap.add_argument("--only", action="append", default=[],
                    help="only this master (stem, e.g. a1_power_law); repeatable")
    ap.add_argument("--no-run-tests", action="store_true",
                    help="skip running each master against its own tests (faster, unchecked)")
    args = ap.parse_args(argv)

    found = masters()
    if args.only:
        unknown = set(args.only) - {m.stem for m in found}
        if unknown:
            raise SystemExit(f"assignments: --only {sorted(unknown)} is not a master in "
                             f"{MASTERS.relative_to(REPO)}; known: {[m.stem for m in found]}")
        found = [m for m in found if m.stem in args.only]
    if not found:
        raise SystemExit(f"assignments: no masters aN_slug.ipynb in {MASTERS}")
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    summary, t_all = [], time.perf_counter()
    for m in found:
        print(f"otter assign: {m.relative_to(REPO)}", flush=True)
        try:
            s = assign(m, out / m.stem, run_tests=not args.no_run_tests)
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 1
        summary.append(s)
        checked = "master passes its tests" if s["tests_run"] else "tests not run"
        print(f"         {s['seconds']:6.1f} s ({s['cpu_seconds']:.1f} CPU-s), {checked}\n"
              f"         student:    {Path(s['student']).relative_to(out)}\n"
              f"         autograder: {Path(s['autograder_zip']).relative_to(out)}", flush=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(f"made {len(summary)} assignment(s) in {time.perf_counter() - t_all:.0f} s into {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
