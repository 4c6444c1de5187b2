"""The lab's layout rules (issue 13): every module reads in one sitting, and no import cycle."""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "src" / "scaling_lab"
MAX_LINES = 300


@pytest.mark.parametrize("path", sorted((PKG / "lab").glob("*.py")), ids=lambda p: p.name)
def test_no_lab_module_over_300_lines(path):
    n = len(path.read_text().splitlines())
    assert n <= MAX_LINES, f"{path.name} has {n} lines; split it by concept (<= {MAX_LINES})"


def _imports(path: Path) -> set[str]:
    """The package modules ``path`` imports, at module level or inside functions."""
    mod = ".".join(path.relative_to(PKG.parent).with_suffix("").parts)
    if path.name == "__init__.py":
        mod = mod.rsplit(".", 1)[0]
    package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            for alias in node.names:
                out.add(f"{base}.{alias.name}" if base else alias.name)
                out.add(base)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m.startswith("scaling_lab.")}


def test_no_import_cycle_between_lab_modules():
    files = {".".join(p.relative_to(PKG.parent).with_suffix("").parts): p
             for p in (PKG / "lab").glob("*.py") if p.name != "__init__.py"}
    graph = {m: {d for d in _imports(p) if d in files and d != m} for m, p in files.items()}
    seen, stack = set(), []

    def visit(m):
        if m in stack:
            raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(m):] + [m]))
        if m in seen:
            return
        stack.append(m)
        for d in graph[m]:
            visit(d)
        stack.pop()
        seen.add(m)

    for m in graph:
        visit(m)
