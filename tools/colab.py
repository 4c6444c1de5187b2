"""Give every chapter the same first code cell: on Google Colab, and only there, install the
book's package from the repository named in ``_config.yml``.

    python tools/colab.py          # add or refresh the cell in every chapter and assignment
    python tools/colab.py --check  # exit 1 if a notebook lacks it or has a stale copy

The cell is tagged ``remove-cell``: the website does not show it, Colab runs it.

The assignments' masters (``notebooks/assignments/aN_slug.ipynb``) get two cells after their
title instead of otter's own init cell (their config says ``init_cell: false``): the Colab cell,
which there also installs otter-grader (the version pinned in ``requirements.txt``) and writes
the notebook's public tests from its metadata to ``tests/`` (otter's client refuses tests kept
in the notebook's metadata on Colab, and reads them from files there), then the usual
``grader = otter.Notebook("aN_slug.ipynb")``, locked as otter locks its own.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
TAG = "colab-install"
INIT_ID = "otter-init"


def _repo_url(root: Path) -> str:
    """The book's repository, from ``_config.yml``."""
    return yaml.safe_load((root / "_config.yml").read_text())["repository"]["url"].rstrip("/")


def cell_source(root: Path = ROOT) -> str:
    repo = _repo_url(root)
    return (
        "# On Google Colab, and only there, install this book's package from its repository.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    import subprocess\n"
        "\n"
        f'    url = "git+{repo}"\n'
        '    pip = [sys.executable, "-m", "pip", "install", "-q"]\n'
        '    subprocess.run(pip + [f"scaling-lab @ {url}"], check=True)'
    )


def _otter_pin(root: Path = ROOT) -> str:
    pins = [line.strip() for line in (root / "requirements.txt").read_text().splitlines()
            if line.strip().startswith("otter-grader==")]
    if len(pins) != 1:
        raise ValueError("requirements.txt must pin otter-grader once (otter-grader==X.Y.Z)")
    return pins[0]


def assignment_cell_source(name: str, root: Path = ROOT) -> str:
    """The Colab cell of assignment ``name``: the package and otter-grader; then the notebook
    as Colab holds it (``google.colab._message``'s ``get_ipynb``) written to ``name.ipynb``,
    which otter's init cell reads (on Colab the notebook is not a file), and its public tests,
    from its metadata, to ``tests/<question>.py`` in otter's OK format."""
    repo = _repo_url(root)
    return (
        "# On Google Colab, and only there: install this book's package and otter-grader, save\n"
        "# this notebook as a file and its public tests to tests/, where otter reads them.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    import json\n"
        "    import pathlib\n"
        "    import subprocess\n"
        "\n"
        "    from google.colab import _message\n"
        "\n"
        f'    url = "git+{repo}"\n'
        f'    pip = [sys.executable, "-m", "pip", "install", "-q", "{_otter_pin(root)}"]\n'
        '    subprocess.run(pip + [f"scaling-lab @ {url}"], check=True)\n'
        '    nb = _message.blocking_request("get_ipynb", timeout_sec=60)["ipynb"]\n'
        f'    pathlib.Path("{name}.ipynb").write_text(json.dumps(nb))\n'
        '    pathlib.Path("tests").mkdir(exist_ok=True)\n'
        '    for q, test in nb["metadata"]["otter"]["tests"].items():\n'
        '        text = f"OK_FORMAT = True\\n\\ntest = {test!r}\\n"\n'
        '        pathlib.Path("tests", f"{q}.py").write_text(text)'
    )


def init_cell_source(name: str) -> str:
    """otter's init cell, as ``otter assign`` would write it with ``init_cell: true``."""
    return f'# Initialize Otter\nimport otter\ngrader = otter.Notebook("{name}.ipynb")'


def ensure_assignment(path: Path, root: Path = ROOT) -> bool:
    """The Colab cell and the otter init cell right after the master's title (cells 2 and 3,
    after the config and the title), and ``init_cell: false`` in its config; True if the file
    changed."""
    nb = nbformat.read(path, as_version=4)
    before = nbformat.writes(nb)
    cfg = nb.cells[0]
    if cfg.cell_type != "raw" or not cfg.source.startswith("# ASSIGNMENT CONFIG"):
        raise ValueError(f"{path.name}: the first cell must be otter's # ASSIGNMENT CONFIG")
    if "\ninit_cell: true\n" in cfg.source:
        cfg.source = cfg.source.replace("\ninit_cell: true\n", "\ninit_cell: false\n")
    elif "\ninit_cell: false\n" not in cfg.source:
        raise ValueError(f"{path.name}: its config must set init_cell (true or false)")
    nb.cells = [c for c in nb.cells if c.get("id") not in (TAG, INIT_ID)]
    colab = nbformat.v4.new_code_cell(assignment_cell_source(path.stem, root))
    colab.metadata["tags"] = [TAG]
    colab["id"] = TAG
    init = nbformat.v4.new_code_cell(init_cell_source(path.stem))
    init.metadata.update({"deletable": False, "editable": False})
    init["id"] = INIT_ID
    nb.cells[2:2] = [colab, init]
    if nbformat.writes(nb) == before:
        return False
    nbformat.write(nb, path)
    return True


def assignment_is_current(path: Path, root: Path = ROOT) -> bool:
    nb = nbformat.read(path, as_version=4)
    ids = [c.get("id") for c in nb.cells[2:4]]
    return (ids == [TAG, INIT_ID] and nb.cells[2].source == assignment_cell_source(path.stem, root)
            and nb.cells[3].source == init_cell_source(path.stem)
            and "\ninit_cell: false\n" in nb.cells[0].source)


def first_code_cell(nb):
    return next((c for c in nb.cells if c.cell_type == "code"), None)


def ensure(path: Path, source: str) -> bool:
    """Insert or refresh the cell; True if the file changed."""
    nb = nbformat.read(path, as_version=4)
    first = first_code_cell(nb)
    if first is not None and TAG in first.metadata.get("tags", []):
        if first.source == source:
            return False
        first.source = source
    else:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = [TAG, "remove-cell"]
        cell["id"] = "colab-install"
        nb.cells.insert(1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0, cell)
    nbformat.write(nb, path)
    return True


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    source = cell_source()
    stale = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        if args.check:
            first = first_code_cell(nbformat.read(path, as_version=4))
            if first is None or first.source != source:
                stale.append(path.name)
        elif ensure(path, source):
            print(f"updated {path.relative_to(ROOT)}")
    for path in sorted((ROOT / "notebooks" / "assignments").glob("a[0-9]*_*.ipynb")):
        if args.check:
            if not assignment_is_current(path):
                stale.append(path.name)
        elif ensure_assignment(path):
            print(f"updated {path.relative_to(ROOT)}")
    if stale:
        print(f"missing or stale Colab cell: {', '.join(stale)}; run python tools/colab.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
