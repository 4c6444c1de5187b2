"""Give every chapter the same first code cell: on Google Colab, and only there, install the
book's package from the repository named in ``_config.yml``.

    python tools/colab.py          # add or refresh the cell in every chapter
    python tools/colab.py --check  # exit 1 if a chapter lacks it or has a stale copy

The cell is tagged ``remove-cell``: the website does not show it, Colab runs it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
TAG = "colab-install"


def cell_source(root: Path = ROOT) -> str:
    repo = yaml.safe_load((root / "_config.yml").read_text())["repository"]["url"].rstrip("/")
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
    if stale:
        print(f"missing or stale Colab cell: {', '.join(stale)}; run python tools/colab.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
