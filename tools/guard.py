"""The guard: refuse to publish a notebook that did not really run.

Jupyter Book with ``execute_notebooks: "off"`` renders whatever it is given, so a notebook that
crashed half-way, or was never executed, would be published with exit status 0, even under
``-W``. The guard reads each papermill output and fails on:

* a papermill exception (``metadata.papermill.exception``),
* an error output in a cell not tagged ``raises-exception``,
* a code cell with source but no execution count (it never ran),
* a ``{glue}`` reference in the notebook's markdown to a key that no cell glued,

Time is not among them: a chapter that runs slower than usual on a busy machine is still a
correct chapter. ``slow_note`` words the warning the build prints for one, and the build stops
a cell only when it runs so long that it must have hung (``tools/build.py``, ``HANG_FACTOR``).

Each problem names the notebook and the cell (index and first line), so the message says where
to look. ``check_notebook`` is pure (notebook in, problems out) and is tested on crafted inputs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

# {glue}`key`, {glue:text}`key:.2f`, {glue:md}`key`, {glue:any}`key`, and ```{glue:figure} key
_GLUE_ROLE = re.compile(r"\{glue(?::(?:any|text|md|math)?)?\}`([^`]+)`")
_PAPERMILL_TAGS = {"injected-parameters", "papermill-error-cell-tag"}
_GLUE_DIRECTIVE = re.compile(r"[`:]{3,}\{glue(?::(?:any|figure|math|md))?\}\s+(\S+)")


@dataclass(frozen=True)
class Problem:
    notebook: str
    cell: int | None  # index in the notebook, None for notebook-wide problems
    what: str
    first_line: str = ""

    def __str__(self) -> str:
        where = self.notebook if self.cell is None else f"{self.notebook}, cell {self.cell}"
        line = f" [{self.first_line}]" if self.first_line else ""
        return f"{where}: {self.what}{line}"


def _first_line(cell) -> str:
    for line in cell.source.splitlines():
        if line.strip():
            return line.strip()[:80]
    return ""


def glued_keys(nb) -> set[str]:
    """The keys that ``myst_nb.glue`` recorded in an executed notebook."""
    keys = set()
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                keys.add(name)
    return keys


def _source_cells(nb):
    """(index in the committed notebook, cell): the cells papermill adds (injected parameters,
    error markers) are not counted, so a message's cell number is the one the author sees."""
    i = 0
    for cell in nb.cells:
        if _PAPERMILL_TAGS & set(cell.metadata.get("tags", [])):
            continue
        yield i, cell
        i += 1


def glue_references(nb) -> list[tuple[int, str]]:
    """(cell index, key) for every glue role or directive in the notebook's markdown."""
    refs = []
    for i, cell in _source_cells(nb):
        if cell.cell_type != "markdown":
            continue
        for pattern in (_GLUE_ROLE, _GLUE_DIRECTIVE):
            for match in pattern.finditer(cell.source):
                key = match.group(1).split(":", 1)[0]  # drop a format spec: key:.2f
                refs.append((i, key))
    return refs


def check_notebook(nb, name: str) -> list[Problem]:
    """All reasons not to publish one executed notebook (empty list: fine)."""
    problems: list[Problem] = []
    pm = nb.metadata.get("papermill", {})
    if pm.get("exception"):
        problems.append(Problem(name, None, "papermill reported an exception"))
    for i, cell in _source_cells(nb):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        tags = cell.metadata.get("tags", [])
        if cell.get("execution_count") is None:
            problems.append(Problem(name, i, "code cell was never executed", _first_line(cell)))
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and "raises-exception" not in tags:
                problems.append(Problem(
                    name, i, f"raised {out.get('ename', 'an error')}: {out.get('evalue', '')}"[:300],
                    _first_line(cell)))
    have = glued_keys(nb)
    for i, key in glue_references(nb):
        if key not in have:
            problems.append(Problem(name, i, f"glue key {key!r} is referenced but never glued"))
    return problems


def slow_note(name: str, elapsed: float, typical: float, factor: float = 2) -> str | None:
    """A warning for a chapter that took over ``factor`` times its typical time, else None."""
    if elapsed <= factor * typical:
        return None
    return (f"{name} took {elapsed:.0f} s, {elapsed / typical:.1f}x its typical {typical:.0f} s: "
            f"a busy machine, or a slower chapter (then measure it with benchmarks/ and update "
            f"typical_s in params/)")


def check_file(path: Path, **kwargs) -> list[Problem]:
    nb = nbformat.read(path, as_version=4)
    return check_notebook(nb, str(path), **kwargs)
