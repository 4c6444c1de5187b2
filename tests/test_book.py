"""The whole pipeline on the smoke preset: every chapter executes, the guard passes, Sphinx builds
the site with zero warnings under -W -n, and the pages show what they should."""

import json
import re
from pathlib import Path

import pytest

from tools.build import toc_files, toc_notebooks

from .conftest import ROOT, rerun_chapters

pytestmark = pytest.mark.slow


def test_every_toc_entry_has_a_page(smoke_build):
    for entry in toc_files(ROOT):
        assert (smoke_build.out / "html" / (entry + ".html")).exists(), entry
    assert (smoke_build.out / "html" / "index.html").exists()


def test_no_sphinx_warnings(smoke_build):
    log = smoke_build.proc.stdout + smoke_build.proc.stderr
    # the chapter kernels' own log lines (papermill's ipykernel) are not Sphinx's
    log = "\n".join(ln for ln in log.splitlines() if not ln.startswith("[IPKernelApp]"))
    found = re.search(r".*(WARNING|ERROR).*", log)
    assert not found, found.group(0)[:2000] if found else ""


def test_every_chapter_executed_on_the_smoke_preset(smoke_build):
    chapters = {p.stem for p in toc_notebooks(ROOT)}
    assert set(smoke_build.execution) == chapters
    for name, rec in smoke_build.execution.items():
        assert rec["preset"] == "smoke"
        assert rec["seconds"] > 0 and rec["typical_s"] > 0   # recorded; time is never a failure


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


def test_same_preset_gives_identical_glued_numbers(smoke_build, smoke_rerun):
    """The chapters of ``rerun_chapters`` (all but the lab chapters after 06) executed a second
    time: every glued value that is not a wall-clock measurement must be the same, digit for
    digit (losses, fits, counts, intervals)."""
    again_list = rerun_chapters()
    assert "06_lab_first_runs" in again_list and "09_misconceptions" in again_list
    store = smoke_rerun.out / "stage" / "notebooks" / "lab_results" / "smoke.jsonl"
    assert len(store.read_text().splitlines()) >= 5, "the second execution trained no model"
    assert smoke_rerun.glue.keys() == set(again_list)
    compared = total = 0
    for chapter in again_list:
        values = smoke_build.glue[chapter]
        assert smoke_rerun.glue[chapter].keys() == values.keys(), chapter
        for key, text in values.items():
            total += 1
            if WALL_CLOCK.search(key):
                continue
            again = smoke_rerun.glue[chapter][key]
            assert again == text, f"{chapter}:{key} {text!r} then {again!r}"
            compared += 1
    assert compared > 0.9 * total


def test_build_page_lists_every_chapter_with_its_preset_and_time(smoke_build):
    html = (smoke_build.out / "html" / "book" / "build_info.html").read_text()
    assert "<!-- execution-table -->" not in html
    assert "CPU time (s)" in html
    for name, rec in smoke_build.execution.items():
        assert f"notebooks/{name}.html" in html, f"{name} missing from the build page"
        assert rec["cpu_s"] > 0, name  # the kernel's (and its workers') processor seconds
    assert html.count("<code class=\"docutils literal notranslate\"><span class=\"pre\">smoke</span></code>") == len(smoke_build.execution)
