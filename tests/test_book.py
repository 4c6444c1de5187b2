"""The whole pipeline on the smoke preset: every chapter executes, the guard passes, Sphinx builds
the site with zero warnings under -W -n, and the pages show what they should."""

import json
import re
from pathlib import Path

import pytest

from tools.build import toc_files, toc_notebooks

from .conftest import ROOT, Build, run_build

pytestmark = pytest.mark.slow


def test_every_toc_entry_has_a_page(smoke_build):
    for entry in toc_files(ROOT):
        assert (smoke_build.out / "html" / (entry + ".html")).exists(), entry
    assert (smoke_build.out / "html" / "index.html").exists()


def test_no_sphinx_warnings(smoke_build):
    log = smoke_build.proc.stdout + smoke_build.proc.stderr
    assert not re.search(r"WARNING|ERROR", log.replace("[IPKernelApp] WARNING", "")), log[-4000:]


def test_every_chapter_executed_on_the_smoke_preset(smoke_build):
    chapters = {p.stem for p in toc_notebooks(ROOT)}
    assert set(smoke_build.execution) == chapters
    for name, rec in smoke_build.execution.items():
        assert rec["preset"] == "smoke"
        assert rec["seconds"] <= rec["budget_s"]


@pytest.mark.parametrize("nb", [p.stem for p in toc_notebooks(ROOT)])
def test_page_hides_injected_parameters_and_shows_how_it_ran(smoke_build, nb):
    html = (smoke_build.out / "html" / "notebooks" / f"{nb}.html").read_text()
    assert "# Parameters" not in html, "papermill's injected-parameters cell is visible"
    assert "Executed with preset <code>smoke</code>" in html
    assert "Traceback" not in html and 'class="output traceback' not in html


def test_status_line_names_parameters_that_differ_from_the_cell(smoke_build):
    """Smoke overrides chapter 1's n_boot; the page must say so rather than show 1000 silently."""
    html = (smoke_build.out / "html" / "notebooks" / "01_power_laws.html").read_text()
    assert "<code>n_boot = 200</code>" in html and "instead of the values shown" in html


# Wall-clock measurements (tokens per second, minutes of training, wall-time ratios) are glued under
# names that say so; they are the only values allowed to differ between two runs.
WALL_CLOCK = re.compile(r"wall|tok_s")


def test_same_preset_gives_identical_glued_numbers(smoke_build, tmp_path):
    """Execute every chapter a second time: every glued value that is not a wall-clock measurement
    must be the same, digit for digit (losses, fits, counts, intervals)."""
    proc = run_build("--preset", "smoke", "--no-html", "--out", str(tmp_path / "again"))
    assert proc.returncode == 0, proc.stderr[-4000:]
    again = Build(tmp_path / "again", proc)
    assert again.glue.keys() == smoke_build.glue.keys()
    compared = 0
    for chapter, values in smoke_build.glue.items():
        assert again.glue[chapter].keys() == values.keys(), chapter
        for key, text in values.items():
            if WALL_CLOCK.search(key):
                continue
            assert again.glue[chapter][key] == text, f"{chapter}:{key} {text!r} then {again.glue[chapter][key]!r}"
            compared += 1
    assert compared > 0.9 * sum(len(v) for v in smoke_build.glue.values())


def test_build_page_lists_every_chapter_with_its_preset_and_time(smoke_build):
    html = (smoke_build.out / "html" / "book" / "build_info.html").read_text()
    assert "<!-- execution-table -->" not in html
    for name, rec in smoke_build.execution.items():
        assert f"notebooks/{name}.html" in html, f"{name} missing from the build page"
    assert html.count("<code class=\"docutils literal notranslate\"><span class=\"pre\">smoke</span></code>") == len(smoke_build.execution)
