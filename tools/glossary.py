"""The glossary's promise, checked: every term of ``book/glossary.md`` is linked (``{term}``) at
its first use in each chapter. ``first_unlinked`` lists the first uses that are plain text; with
``--fix`` the script links them in place (``python tools/glossary.py --fix 01_power_laws``)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# a capitalised first letter also counts as a use, except for these terms (Epoch is an institute)
CASE_SENSITIVE = {"epoch"}


def glossary_terms(path: Path = ROOT / "book" / "glossary.md") -> list[str]:
    """The terms of the ``{glossary}`` block: its unindented, non-empty lines."""
    text = path.read_text()
    body = text.split("```{glossary}", 1)[1].split("\n```", 1)[0]
    return [ln.strip() for ln in body.splitlines() if ln.strip() and not ln[0].isspace()]


def aliases(term: str) -> list[str]:
    """The words that count as a use of ``term``: the term without a parenthesis, and an
    abbreviation in capitals given in one ("model-FLOPs utilisation (MFU)" -> also "MFU")."""
    m = re.match(r"^(.*?)\s*\(([^)]*)\)\s*$", term)
    if not m:
        return [term]
    out = [m.group(1)]
    if re.fullmatch(r"[A-Z0-9]{2,}", m.group(2)):
        out.append(m.group(2))
    return out


def _pattern(word: str, term: str) -> re.Pattern:
    head, rest = word[0], re.escape(word[1:])
    if head.isalpha() and term not in CASE_SENSITIVE and not word.isupper():
        head = f"[{head.lower()}{head.upper()}]"
    else:
        head = re.escape(head)
    tail = r"(?:ies)" if word.endswith("y") else ""
    core = (head + re.escape(word[1:-1]) + f"(?:{re.escape(word[-1])}|ies)") if tail else head + rest
    return re.compile(r"(?<![\w\-`])" + core + r"(?:s|es)?(?![\w\-])")


_ROLE = re.compile(r"\{([a-z:]+)\}`([^`]*)`")
_MASKS = [re.compile(p, re.S) for p in (
    r"\$\$.*?\$\$", r"(?<!\\)\$[^$\n]+?\$", r"`[^`\n]*`", r"<!--.*?-->", r"\]\([^)]*\)",
    r"<[^>\n]+>")]


def _mask(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    """``text`` with everything that is not prose blanked (same length), and the spans of its
    ``{term}`` roles with their targets."""
    chars = list(text)

    def blank(a, b):
        chars[a:b] = [" "] * (b - a)

    links = []
    for m in _ROLE.finditer(text):
        if m.group(1) == "term":
            inner = m.group(2)
            t = re.search(r"<([^>]*)>\s*$", inner)
            links.append((m.start(), m.end(), (t.group(1) if t else inner).strip().lower()))
        blank(m.start(), m.end())
    masked = "".join(chars)
    for rx in _MASKS:
        for m in rx.finditer(masked):
            blank(m.start(), m.end())
        masked = "".join(chars)
    # line by line: headings, directive lines and options, plain code fences
    out, pos, in_code = [], 0, False
    for line in masked.split("\n"):
        stripped = line.strip()
        n = len(line)
        if stripped.startswith("```") or stripped.startswith(":::"):
            is_directive = "{" in stripped
            if not is_directive and stripped.strip("`:") == "" and in_code:
                in_code = False
            elif not is_directive and stripped.strip("`:") != "":
                in_code = True                  # ```python and the like
            elif not is_directive and not in_code and stripped.startswith("```"):
                pass
            line = " " * n
        elif in_code or stripped.startswith("#") or re.match(r"^:[a-z\-]+:", stripped):
            line = " " * n
        out.append(line)
        pos += n + 1
    return "\n".join(out), links


def first_unlinked(cells: list[str], terms: list[str] | None = None):
    """For a chapter given as its markdown cells: ``(term, cell index, start, end)`` for every
    term whose first use is not a ``{term}`` link."""
    terms = glossary_terms() if terms is None else terms
    masked = [_mask(c) for c in cells]
    bad = []
    for term in terms:
        names = {a.lower() for a in aliases(term)} | {term.lower()}
        pats = [_pattern(a, term) for a in aliases(term)]
        first = None
        for i, (text, links) in enumerate(masked):
            hits = [(m.start(), m.end(), "plain") for p in pats for m in p.finditer(text)]
            hits += [(a, b, "link") for a, b, tgt in links if tgt in names]
            if hits:
                first = (i,) + min(hits)
                break
        if first and first[3] == "plain":
            bad.append((term, first[0], first[1], first[2]))
    return bad


def chapter_markdown(nb_path: Path) -> list[str]:
    import nbformat
    nb = nbformat.read(nb_path, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


def fix(nb_path: Path) -> int:
    """Link every unlinked first use in the notebook, in place (cell ids unchanged)."""
    import nbformat
    nb = nbformat.read(nb_path, as_version=4)
    md = [c for c in nb.cells if c.cell_type == "markdown"]
    done = 0
    while True:
        bad = first_unlinked([c.source for c in md])
        if not bad:
            break
        term, i, a, b = bad[0]
        src = md[i].source
        word = src[a:b]
        target = term
        role = (f"{{term}}`{word}`" if word.lower() == term.lower()
                else f"{{term}}`{word} <{target}>`")
        md[i].source = src[:a] + role + src[b:]
        done += 1
    nbformat.write(nb, nb_path)
    return done


if __name__ == "__main__":
    args = sys.argv[1:]
    do_fix = "--fix" in args
    names = [a for a in args if a != "--fix"]
    for nb_path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        if names and nb_path.stem not in names:
            continue
        if do_fix:
            print(nb_path.stem, "linked", fix(nb_path))
        else:
            md = chapter_markdown(nb_path)
            for term, i, a, b in first_unlinked(md):
                print(f"{nb_path.stem}: {term!r} first used unlinked: ...{md[i][max(0, a-30):b+20]!r}")
