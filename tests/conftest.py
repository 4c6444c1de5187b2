"""Shared fixtures. The repository root is importable, so tests can use ``tools.*``."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import json
import subprocess

import pytest


def run_build(*args: str, timeout: float = 3600) -> subprocess.CompletedProcess:
    """Run tools/build.py as `make book` does, with this interpreter; output captured."""
    return subprocess.run([sys.executable, str(ROOT / "tools" / "build.py"), *args],
                          capture_output=True, text=True, timeout=timeout)


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


@pytest.fixture(scope="session")
def smoke_build() -> Build:
    """Every chapter executed on the smoke preset and the site built strictly (-W -n), once per
    test session, into _build/test so that the result can be inspected after a failure."""
    out = ROOT / "_build" / "test"
    proc = run_build("--preset", "smoke", "--strict", "--out", str(out))
    if proc.returncode != 0:
        pytest.fail(f"smoke build failed (exit {proc.returncode}):\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}")
    return Build(out, proc)


@pytest.fixture
def n(smoke_build, request):
    """``n(key)``: a glued number of the chapter named by the test module's ``CH``."""
    return lambda key: smoke_build.number(request.module.CH, key)
