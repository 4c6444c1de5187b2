"""Glossary terms are linked ({term} role) at their first use in chapters 2-5.

A term's *use* is a whole-word, case-insensitive match of its name (without a trailing
parenthesis such as "(MFU)", plural "s" allowed) in the prose of the markdown cells.
Headings, directive lines and options, math, inline code and other roles are not prose.
Longer terms are matched first, so "power law" inside "saturating power law" belongs to
the longer term. A capitalised "Epoch" (Epoch AI, the organisation) is not a use of "epoch".
"""

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = ("02_counting_compute", "03_kaplan_laws", "04_chinchilla",
            "05_kaplan_vs_chinchilla")
ROLE = re.compile(r"\{([\w:-]+)\}`([^`]*)`")
MASKS = (re.compile(r"\$\$.*?\$\$", re.S), re.compile(r"\$[^$\n]+\$"),
         re.compile(r"^\s*#.*$", re.M), re.compile(r"^\s*(```|:::).*$", re.M),
         re.compile(r"^\s*:[\w-]+:.*$", re.M), re.compile(r"^\s*\([\w-]+\)=\s*$", re.M))


def glossary_terms() -> list[str]:
    text = (ROOT / "book" / "glossary.md").read_text()
    block = text.split("```{glossary}", 1)[1].split("\n```", 1)[0]
    return [ln.strip() for ln in block.splitlines() if ln and not ln[0].isspace()]


NOT_A_USE = {"epoch": r"(?!(?-i:Epoch))"}   # capitalised: Epoch AI, the organisation


def term_pattern(term: str) -> re.Pattern:
    name = re.sub(r"\s*\(.*\)\s*$", "", term)
    guard = NOT_A_USE.get(term, "")
    return re.compile(rf"(?<![\w-]){guard}{re.escape(name)}(s|es)?(?![\w-])", re.I)


def prose(src: str) -> str:
    """``src`` with everything that is not prose blanked out (same length)."""
    def blank(m):
        return re.sub(r"[^\n]", " ", m.group(0))
    out = src
    for rx in MASKS:
        out = rx.sub(blank, out)
    out = re.sub(r"(?<!\})`[^`\n]*`", blank, out)   # inline code
    out = ROLE.sub(blank, out)                       # every role, {term} included
    return out


def term_roles(src: str):
    """(position, target) of each {term} role in ``src``."""
    for m in ROLE.finditer(src):
        if m.group(1) == "term":
            body = m.group(2)
            target = body.rsplit("<", 1)[1].rstrip(">").strip() if "<" in body else body
            yield m.start(), target.strip()


def markdown_cells(stem: str) -> list[str]:
    nb = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]


def first_uses(stem: str):
    """{term: ("link" | "plain", cell index, position)} for each term used in ``stem``."""
    terms = sorted(glossary_terms(), key=len, reverse=True)
    found = {}
    for i, src in enumerate(markdown_cells(stem)):
        text = prose(src)
        links = {}
        for pos, target in term_roles(src):
            links.setdefault(target.lower(), pos)
        claimed = list(text)
        for term in terms:
            if term in found:
                continue
            hits = []
            if term.lower() in links:
                hits.append(("link", links[term.lower()]))
            m = term_pattern(term).search("".join(claimed))
            if m:
                hits.append(("plain", m.start()))
                for k in range(m.start(), m.end()):      # a longer term owns its words
                    claimed[k] = " "
            if hits:
                kind, pos = min(hits, key=lambda h: h[1])
                found[term] = (kind, i, pos)
    return found


def test_every_term_role_names_a_glossary_term():
    terms = {t.lower() for t in glossary_terms()}
    for stem in CHAPTERS:
        for src in markdown_cells(stem):
            for _, target in term_roles(src):
                assert target.lower() in terms, (stem, target)


@pytest.mark.parametrize("stem", CHAPTERS)
def test_glossary_terms_linked_at_first_use(stem):
    unlinked = {t: v for t, v in first_uses(stem).items() if v[0] == "plain"}
    assert not unlinked, f"{stem}: first use not linked: {sorted(unlinked)}"
