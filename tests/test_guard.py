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

from tools.guard import check_notebook, glue_references

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


def test_over_budget_fails():
    problems = check_notebook(executed(ran("x")), "nb.ipynb", elapsed=12.0, budget=10.0)
    assert any("over its budget of 10 s" in str(p) for p in problems)


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
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "guard: refusing to build the site" in proc.stderr
    assert "notebooks/01_planted.ipynb, cell 3: raised RuntimeError: planted failure" in proc.stderr
    assert "cell 4: code cell was never executed" in proc.stderr
    assert not (out / "html" / "index.html").exists(), "the site was built despite the failure"
