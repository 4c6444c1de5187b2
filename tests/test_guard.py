"""The guard refuses to publish a notebook that did not really run.

Unit tests feed crafted "executed" notebooks to ``check_notebook``; the integration tests plant a
failing chapter in a throw-away source tree and show that both the smoke run and the book build
stop, naming the notebook and the cell.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tools.guard import check_notebook, glue_references, slow_note

ROOT = Path(__file__).resolve().parent.parent


def executed(*cells, exception=False):
    nb = new_notebook(cells=list(cells))
    nb.metadata["papermill"] = {"exception": exception}
    return nb


def ran(src, n=1, outputs=(), tags=()):
    c = new_code_cell(src, execution_count=n, outputs=list(outputs))
    if tags:
        c.metadata["tags"] = list(tags)
    return c


def glued(key):
    return new_output("display_data", data={"text/plain": "1.0"},
                      metadata={"scrapbook": {"name": key, "mime_prefix": ""}})


ERROR = new_output("error", ename="ZeroDivisionError", evalue="division by zero", traceback=[])


def test_clean_notebook_passes():
    nb = executed(new_markdown_cell("# T\nvalue {glue}`k`"), ran("glue('k', 1)", outputs=[glued("k")]))
    assert check_notebook(nb, "nb.ipynb") == []


def test_papermill_exception_fails():
    problems = check_notebook(executed(ran("x"), exception=True), "nb.ipynb")
    assert any("papermill reported an exception" in str(p) for p in problems)


def test_error_output_fails_and_names_cell():
    nb = executed(new_markdown_cell("# T"), ran("x = 1"), ran("1/0", 2, [ERROR]))
    (p,) = check_notebook(nb, "ch.ipynb")
    assert str(p).startswith("ch.ipynb, cell 2: raised ZeroDivisionError")
    assert "[1/0]" in str(p)


def test_error_output_allowed_when_tagged_raises_exception():
    nb = executed(ran("1/0", 1, [ERROR], tags=["raises-exception"]))
    assert check_notebook(nb, "nb.ipynb") == []


def test_unexecuted_code_cell_fails_but_empty_cell_does_not():
    nb = executed(ran("x = 1"), new_code_cell("y = 2"), new_code_cell("   "))
    (p,) = check_notebook(nb, "nb.ipynb")
    assert "cell 1: code cell was never executed" in str(p)


def test_missing_glue_key_fails():
    nb = executed(new_markdown_cell("a {glue}`there` b {glue:text}`missing:.2f`\n"
                                    "```{glue:figure} fig_missing\n```"),
                  ran("", outputs=[glued("there")]))
    problems = [str(p) for p in check_notebook(nb, "nb.ipynb")]
    assert any("'missing'" in p for p in problems)
    assert any("'fig_missing'" in p for p in problems)
    assert not any("'there'" in p for p in problems)


def test_time_is_never_a_problem_only_a_note():
    assert check_notebook(executed(ran("x")), "nb.ipynb") == []
    assert slow_note("nb.ipynb", 19.0, 10.0) is None                 # under 2x typical: silent
    note = slow_note("nb.ipynb", 25.0, 10.0)
    assert "nb.ipynb took 25 s, 2.5x its typical 10 s" in note and "typical_s" in note


def test_hang_limit_is_far_above_a_loaded_machine():
    from tools.build import HANG_FACTOR, MIN_HANG_S, hang_seconds

    assert HANG_FACTOR >= 5 and MIN_HANG_S >= 600
    assert hang_seconds(3.0) == MIN_HANG_S                           # short chapters: 10 minutes
    assert hang_seconds(150.0) == 750                                # ch07 on smoke: 5x


def test_cell_numbers_ignore_the_injected_parameters_cell():
    inj = ran("seed = 1")
    inj.metadata["tags"] = ["injected-parameters"]
    nb = executed(ran("seed = 0", tags=["parameters"]), inj, ran("1/0", 3, [ERROR]))
    (p,) = check_notebook(nb, "nb.ipynb")
    assert "cell 1:" in str(p)  # the author's numbering: the failing cell is the second one


def test_glue_references_forms():
    nb = new_notebook(cells=[new_markdown_cell(
        "{glue}`a` {glue:}`b` {glue:text}`c:.3f` {glue:md}`d`\n```{glue:figure} e\n:alt: x\n```\n"
        ":::{glue:math} f\n:::")])
    assert [k for _, k in glue_references(nb)] == ["a", "b", "c", "d", "e", "f"]


# ------------------------------------------------------------------ integration: a planted failure
def planted_tree(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "notebooks").mkdir(parents=True)
    (src / "book").mkdir()
    shutil.copy(ROOT / "_config.yml", src / "_config.yml")
    shutil.copytree(ROOT / "params", src / "params")
    (src / "book" / "references.bib").write_text((ROOT / "book" / "references.bib").read_text())
    (src / "book" / "intro.md").write_text("# Intro\n")
    (src / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n"
                                  "  - file: notebooks/01_planted\n")
    params = new_code_cell("preset = 'book'\nseed = 0")
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[new_markdown_cell("# Planted"), params, new_code_cell("x = 1"),
                             new_code_cell("raise RuntimeError('planted failure')"),
                             new_code_cell("y = 2")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, src / "notebooks" / "01_planted.ipynb")
    return src


@pytest.mark.slow
@pytest.mark.parametrize("preset, extra", [("smoke", ["--strict"]), ("book", [])])
def test_guard_stops_the_build(tmp_path, preset, extra):
    src = planted_tree(tmp_path)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "build.py"), "--root", str(src),
                           "--out", str(out), "--preset", preset, *extra],
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "guard: refusing to build the site" in proc.stderr
    assert "notebooks/01_planted.ipynb, cell 3: raised RuntimeError: planted failure" in proc.stderr
    assert "cell 4: code cell was never executed" in proc.stderr
    assert not (out / "html" / "index.html").exists(), "the site was built despite the failure"


@pytest.mark.slow
def test_a_chapter_slower_than_its_typical_time_still_builds(tmp_path):
    """A planted ``time.sleep`` just past the chapter's typical time (a loaded machine, as far as
    the build can tell): the build succeeds, records the time and warns; it does not fail."""
    import json

    src = planted_tree(tmp_path)
    typical = 2.0
    (src / "params" / "smoke.yaml").write_text(
        "name: smoke\ntypical_s: 30\nparameters: {preset: smoke, seed: 0}\n"
        f"notebooks:\n  01_planted:\n    typical_s: {typical}\n")
    params = new_code_cell("preset = 'book'\nseed = 0")
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[new_markdown_cell("# Planted"), params,
                             new_code_cell(f"import time\ntime.sleep({2 * typical + 1})")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, src / "notebooks" / "01_planted.ipynb")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "build.py"), "--root", str(src),
                           "--out", str(out), "--preset", "smoke", "--no-html"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads((out / "stage" / "execution.json").read_text())["01_planted"]
    assert record["seconds"] > 2 * typical and record["typical_s"] == typical
    assert "guard: warning (not an error): notebooks/01_planted.ipynb took" in proc.stderr
    assert "refusing" not in proc.stderr


def test_presets_record_typical_times_not_budgets():
    from tools.build import load_preset

    for path in sorted((ROOT / "params").glob("*.yaml")):
        preset = load_preset(ROOT, path.stem)                    # refuses a leftover budget_s
        assert preset["typical_s"] > 0, path.name
