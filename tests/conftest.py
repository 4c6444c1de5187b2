"""Shared fixtures. The repository root is importable, so tests can use ``tools.*``.

The two smoke builds the suite needs (every chapter with a strict site build, and a second
execution of the chapters the determinism test compares) start in the background as soon as
collection shows that a selected test needs them; the package's unit tests run meanwhile, on
the core a chapter kernel leaves idle. A test that needs a build waits for it. Neither has a
timeout: the build itself stops a cell that hangs (tools/build.py, HANG_FACTOR).
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import json
import shutil
import subprocess

import pytest


def run_build(*args: str) -> subprocess.CompletedProcess:
    """Run tools/build.py as `make book` does, with this interpreter; output captured."""
    return subprocess.run([sys.executable, str(ROOT / "tools" / "build.py"), *args],
                          capture_output=True, text=True)


class Build:
    """A finished build: its directory, process, glued values and execution record."""

    def __init__(self, out: Path, proc: subprocess.CompletedProcess):
        self.out, self.proc = out, proc
        stage = out / "stage"
        self.glue = json.loads((stage / "glue.json").read_text()) if (stage / "glue.json").exists() else {}
        self.execution = (json.loads((stage / "execution.json").read_text())
                          if (stage / "execution.json").exists() else {})

    def number(self, chapter: str, key: str) -> float:
        """A glued value as a float ('9,139' -> 9139.0, '12%' -> 0.12)."""
        text = self.glue[chapter][key].replace(",", "").strip()
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)


def rerun_chapters() -> list[str]:
    """What the determinism test executes a second time: every chapter except the lab chapters
    after the first. Chapter 06 trains its models from an empty store (and chapter 09 trains a
    few); chapters 07 and 08 add more runs of the same trainer and sweep code and most of the
    time, so running them twice would double the suite's cost for no new code path."""
    from tools.build import load_preset, toc_notebooks

    smoke = load_preset(ROOT, "smoke")["notebooks"]
    lab = [p.stem for p in toc_notebooks(ROOT) if "store" in (smoke.get(p.stem) or {})]
    return [p.stem for p in toc_notebooks(ROOT) if p.stem not in lab[1:]]


class Background:
    """A build started now in its own process, its output going to ``<out>.log``."""

    def __init__(self, out: Path, args: list[str]):
        self.out, self.args = out, [sys.executable, str(ROOT / "tools" / "build.py"), *args,
                                    "--out", str(out)]
        if out.exists():
            shutil.rmtree(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        self.stdout = open(out.parent / f"{out.name}.stdout.log", "w+")
        self.stderr = open(out.parent / f"{out.name}.stderr.log", "w+")
        self.popen = subprocess.Popen(self.args, stdout=self.stdout, stderr=self.stderr, text=True)

    def wait(self) -> Build:
        rc = self.popen.wait()
        logs = []
        for f in (self.stdout, self.stderr):
            f.flush()
            f.seek(0)
            logs.append(f.read())
        return Build(self.out, subprocess.CompletedProcess(self.args, rc, *logs))

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()


BUILDS = {  # fixture name -> (output directory, build.py arguments)
    "smoke_build": (ROOT / "_build" / "test", ["--preset", "smoke", "--strict"]),
    "smoke_rerun": (ROOT / "_build" / "test-again", ["--preset", "smoke", "--no-html"]),
}
_started: dict[str, Background] = {}


def _start(name: str) -> Background:
    if name not in _started:
        out, args = BUILDS[name]
        if name == "smoke_rerun":
            args = args + [a for stem in rerun_chapters() for a in ("--only", stem)]
        _started[name] = Background(out, args)
    return _started[name]


def _needs_a_build(item) -> bool:
    return bool(set(BUILDS) & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(session, config, items):
    """Tests that read a build run last, so that everything else overlaps with the builds."""
    items.sort(key=_needs_a_build)  # stable: each group keeps its order


def pytest_collection_finish(session):
    """Start every build a selected test needs (directly or through the ``n`` fixture)."""
    needed = {f for item in session.items for f in getattr(item, "fixturenames", ())}  # n too
    for name in BUILDS:
        if name in needed:
            _start(name)


def pytest_sessionfinish(session, exitstatus):
    for bg in _started.values():  # interrupted or failed early: leave no build running
        bg.kill()


@pytest.fixture(scope="session")
def smoke_build() -> Build:
    """Every chapter executed on the smoke preset and the site built strictly (-W -n), once per
    test session, into _build/test so that the result can be inspected after a failure."""
    build = _start("smoke_build").wait()
    if build.proc.returncode != 0:
        pytest.fail(f"smoke build failed (exit {build.proc.returncode}):\n"
                    f"{build.proc.stdout[-6000:]}\n{build.proc.stderr[-6000:]}")
    return build


@pytest.fixture(scope="session")
def smoke_rerun() -> Build:
    """The chapters of ``rerun_chapters`` executed a second time, into _build/test-again."""
    build = _start("smoke_rerun").wait()
    assert build.proc.returncode == 0, build.proc.stderr[-4000:]
    return build


@pytest.fixture
def n(smoke_build, request):
    """``n(key)``: a glued number of the chapter named by the test module's ``CH``."""
    return lambda key: smoke_build.number(request.module.CH, key)
