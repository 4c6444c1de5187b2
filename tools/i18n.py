"""Translations of the book's pages (the 简体中文 edition), kept in step with the English.

A page's translation lives in ``i18n/<lang>/<page path without suffix>.yml`` (e.g.
``i18n/zh_CN/notebooks/01_power_laws.yml``) as a list of *units*:

* a chapter (``.ipynb``): one unit per markdown cell, ``id`` = the cell's id;
* a prose page (``.md``): one unit per section, split before every heading line outside code
  fences, ``id`` = the heading's slug (``_top`` for text before the first heading).

Every unit records ``en_sha``, the hash of the English text it translates (:func:`sha`), and that
text as ``en`` (so a reviewer sees what changed); ``zh`` is the translation. A unit is *stale*
when the page's English no longer hashes to ``en_sha``, *missing* when it has no translation.

    python tools/i18n.py extract PAGE...   add units for new English (empty zh); never touches
                                           a translated unit, so a stale one stays stale
    python tools/i18n.py refresh PAGE --ids ID...  after updating those units' zh: record the
                                           current English (en, en_sha) for them
    python tools/i18n.py check [PAGE...]   list stale, missing and orphaned units, and units
                                           whose markup differs from the English; exit 1 if any
                                           (no PAGE: every page with a translation file, as the
                                           build does)

A translation keeps the English unit's markup: the targets of its glue, cite, ref, numref, doc,
eq and term roles, the number of its $...$ and $$...$$ formulas, its directives (with the
argument of those whose argument is a name: glue:figure, solution, ...), their :label:, :name:,
:class: and :filter: options, its ``(label)=`` targets and its HTML comments
(:func:`markup_problems`). Prose, titles, captions and :alt: text are translated. The one
addition a translation may make is the chapter's 本章要点 (key points) admonition, whose markup
is not compared.
:func:`apply_notebook` and :func:`apply_md` put a page's translation in place of its English (the
build does this for the 简体中文 edition, tools/editions.py). :func:`term_problems` holds a
translation to the glossary's first Chinese term for each concept (tests/test_i18n.py).
Every function takes ``root`` (default: this repository) for a source tree elsewhere.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
LANG = "zh_CN"


def sha(text: str) -> str:
    """The hash a unit records: sha256 of the English text exactly as stored, 12 hex digits."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _slug(heading: str) -> str:
    s = re.sub(r"[^\w\s-]", "", heading.lstrip("#").strip().lower())
    return re.sub(r"[\s_]+", "-", s).strip("-") or "section"


def md_units(text: str) -> list[tuple[str, str]]:
    """[(id, text)] of a markdown page: sections split before each heading outside fences."""
    units, cur, uid, fence, seen = [], [], "_top", None, {}
    for line in text.splitlines(keepends=True):
        m = re.match(r"^\s*(`{3,}|~{3,}|:{3,})", line)
        if m:
            tok = m.group(1)
            if fence is None:
                fence = tok
            elif tok[0] == fence[0] and len(tok) >= len(fence) and line.strip() == tok:
                fence = None
        if fence is None and re.match(r"^#{1,6} ", line) and not m:
            if cur:
                units.append((uid, "".join(cur)))
            base = _slug(line)
            seen[base] = seen.get(base, 0) + 1
            uid = base if seen[base] == 1 else f"{base}-{seen[base]}"
            cur = []
        cur.append(line)
    if cur:
        units.append((uid, "".join(cur)))
    return units


def nb_units(path: Path) -> list[tuple[str, str]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for c in nb["cells"]:
        if c["cell_type"] != "markdown":
            continue
        src = c["source"] if isinstance(c["source"], str) else "".join(c["source"])
        out.append((c["id"], src))
    return out


def units(page: Path, root: Path = ROOT) -> list[tuple[str, str]]:
    """The English units of ``page`` (a path relative to ``root``, or absolute)."""
    page = page if page.is_absolute() else root / page
    if page.suffix == ".ipynb":
        return nb_units(page)
    if page.suffix == ".md":
        return md_units(page.read_text(encoding="utf-8"))
    raise ValueError(f"{page}: only .ipynb and .md pages are translated")


def tr_path(page: Path, lang: str = LANG, root: Path = ROOT) -> Path:
    """Where the translation of ``page`` (relative to ``root``, or absolute under it) lives."""
    rel = (page if not page.is_absolute() else page.relative_to(root)).with_suffix(".yml")
    return root / "i18n" / lang / rel


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper, s):
    style = "|" if "\n" in s else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", s, style=style)


_Dumper.add_representer(str, _str)


def load(page: Path, lang: str = LANG, root: Path = ROOT) -> dict:
    p = tr_path(page, lang, root)
    if not p.exists():
        return {"page": str(page), "units": []}
    data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    data.setdefault("units", [])
    return data


def save(page: Path, data: dict, lang: str = LANG, root: Path = ROOT) -> None:
    p = tr_path(page, lang, root)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".yml.tmp")
    tmp.write_text(yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False,
                             width=100), encoding="utf-8")
    tmp.replace(p)


def extract(page: Path, lang: str = LANG, root: Path = ROOT) -> int:
    """Add a unit (empty ``zh``) for every English unit the file lacks; keep the page's order.
    Returns how many were added."""
    data = load(page, lang, root)
    have = {u["id"]: u for u in data["units"]}
    new, added = [], 0
    for uid, text in units(page, root):
        if uid in have:
            new.append(have.pop(uid))
        else:
            new.append({"id": uid, "en_sha": sha(text), "en": text, "zh": ""})
            added += 1
    new.extend(have.values())  # orphans stay (check reports them) until a translator drops them
    save(page, {"page": str(page), "units": new}, lang, root)
    return added


def refresh(page: Path, ids, lang: str = LANG, root: Path = ROOT) -> None:
    eng = dict(units(page, root))
    data = load(page, lang, root)
    for u in data["units"]:
        if u["id"] in ids:
            if u["id"] not in eng:
                raise ValueError(f"{page}: unit {u['id']} is not on the English page")
            u["en"], u["en_sha"] = eng[u["id"]], sha(eng[u["id"]])
    save(page, data, lang, root)


def problems(page: Path, lang: str = LANG, root: Path = ROOT) -> list[str]:
    """Every stale, missing or orphaned unit of ``page``, one line each."""
    eng = units(page, root)
    data = load(page, lang, root)
    tr = {u["id"]: u for u in data["units"]}
    out = []
    for uid, text in eng:
        u = tr.get(uid)
        if u is None or not str(u.get("zh") or "").strip():
            out.append(f"{page}: unit {uid}: missing translation")
        elif u.get("en_sha") != sha(text):
            out.append(f"{page}: unit {uid}: stale translation (the English changed since; "
                       f"update zh, then `python tools/i18n.py refresh {page} --ids {uid}`)")
    ids = {uid for uid, _ in eng}
    out += [f"{page}: unit {uid}: orphaned (no such unit in the English page; delete it)"
            for uid in tr if uid not in ids]
    return out


# ----------------------------------------------------------------------------- markup
_ROLE = re.compile(r"\{(glue(?::[a-z]+)?|cite(?::[a-z]+)?|numref|ref|doc|eq|term)\}`([^`]*)`")
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,}|:{3,})[ \t]*\{([\w:\-]+)\}[ \t]*(.*)$", re.M)
_KEPT_ARG = {"glue:figure", "glue:math", "glue:md", "solution", "solution-start",
             "bibliography", "math", "figure", "image", "include", "literalinclude"}
_OPTION = re.compile(r"^[ \t]*:(label|name|class|filter|nb-kernel):[ \t]*(.*?)[ \t]*$", re.M)
_CODE_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(?!\s*\{)[^\n]*\n.*?^\1\2[ \t]*$", re.M | re.S)
_DISPLAY = re.compile(r"\$\$.+?\$\$", re.S)
# inline math may run over a line break, not over a blank line (MyST's dollarmath)
_INLINE = re.compile(r"(?<![\\$])\$(?=[^\s$])(?:[^$\n]|\n(?![ \t]*\n))*?(?<![\\\s])\$(?!\$)")


# The 本章要点 (key points) box that opens each chapter of the Chinese edition (issue 17) has no
# English counterpart: its markup is not compared (its glued numbers repeat the chapter's).
KEY_POINTS = "本章要点"
_KEY_POINTS_BOX = re.compile(r"^(:{3,})\{admonition\}[ \t]*" + KEY_POINTS + r"[^\n]*\n.*?^\1[ \t]*$",
                             re.M | re.S)


def without_key_points(zh: str) -> str:
    """``zh`` without its 本章要点 box (the Chinese edition's own addition)."""
    return _KEY_POINTS_BOX.sub("", zh)


def markup(text: str) -> dict[str, collections.Counter]:
    """What of a unit's markup must survive translation, as counters by kind."""
    bare = _CODE_FENCE.sub("", text)  # ```python ...```: neither $ nor roles are markup there
    roles = collections.Counter()
    for m in _ROLE.finditer(bare):
        role, body = m.groups()
        kind = "cite" if role.startswith("cite") else role
        if kind.startswith("glue") or kind == "cite":
            keys = [body] if kind.startswith("glue") else body.split(",")
        else:
            t = re.search(r"<([^<>]*)>\s*$", body)
            keys = [t.group(1) if t else body]
        roles.update(f"{{{kind}}}`{k.strip()}`" for k in keys)
    prose = re.sub(r"`[^`\n]+`", " ", _ROLE.sub(" ", bare))  # then inline code
    no_display = _DISPLAY.sub(" ", prose)
    directives = collections.Counter(
        f"{{{m.group(2)}}}" + (f" {m.group(3).strip()}" if m.group(2) in _KEPT_ARG else "")
        for m in _FENCE.finditer(bare))
    return {
        "roles (glue, cite, ref, numref, doc, eq, term targets)": collections.Counter(set(roles)),
        "display math ($$...$$)": collections.Counter({"$$": len(_DISPLAY.findall(prose))}),
        "inline math ($...$)": collections.Counter({"$": len(_INLINE.findall(no_display))}),
        "directives": directives,
        "directive options (:label:, :name:, :class:, :filter:)": collections.Counter(
            f":{m.group(1)}: {m.group(2)}" for m in _OPTION.finditer(bare)),
        "targets ((label)=)": collections.Counter(re.findall(r"^\(([^)\s]+)\)=\s*$", bare, re.M)),
        "HTML comments": collections.Counter(re.findall(r"<!--.*?-->", bare, re.S)),
    }


def markup_problems(en: str, zh: str) -> list[str]:
    """How the markup of translation ``zh`` differs from that of its English ``en``."""
    out = []
    a, b = markup(en), markup(without_key_points(zh))
    for kind in a:
        if a[kind] != b[kind]:
            lost, extra = a[kind] - b[kind], b[kind] - a[kind]
            what = "; ".join(x for x in (
                f"the English has {dict(lost)} more" if lost else "",
                f"the Chinese has {dict(extra)} more" if extra else "") if x)
            out.append(f"{kind} differ: {what}")
    return out


def all_problems(page: Path, lang: str = LANG, root: Path = ROOT) -> list[str]:
    """:func:`problems` and, for every current translated unit, :func:`markup_problems`."""
    out = problems(page, lang, root)
    eng = dict(units(page, root))
    for u in load(page, lang, root)["units"]:
        zh = str(u.get("zh") or "")
        if u["id"] in eng and zh.strip() and u.get("en_sha") == sha(eng[u["id"]]):
            out += [f"{page}: unit {u['id']}: {p} (keep the English markup)"
                    for p in markup_problems(eng[u["id"]], zh)]
    return out


# ----------------------------------------------------------------------------- apply
def _zh_by_id(page: Path, lang: str, root: Path) -> dict[str, str]:
    bad = all_problems(page, lang, root)
    if bad:
        raise ValueError("\n".join(bad))
    data = load(page, lang, root)
    return {u["id"]: str(u["zh"]) for u in data["units"]}


def apply_notebook(nb, page: Path, lang: str = LANG, root: Path = ROOT) -> int:
    """Replace each markdown cell's source of notebook ``nb`` (an executed copy of ``page``,
    a ``nbformat`` notebook or its JSON dict) by its translation, by cell id; code cells and
    outputs stay. Raises ValueError naming every stale, missing or broken unit. Returns the
    number of cells replaced. Cells the English page lacks (the build's status line) stay."""
    zh = _zh_by_id(page, lang, root)
    done = 0
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown" and cell.get("id") in zh:
            cell["source"] = zh[cell["id"]]
            done += 1
    return done


def apply_md(text: str, page: Path, lang: str = LANG, root: Path = ROOT) -> str:
    """The prose page ``text`` (the English of ``page``) with every section translated."""
    zh = _zh_by_id(page, lang, root)
    out = []
    for uid, _ in md_units(text):
        piece = zh[uid]
        out.append(piece if piece.endswith("\n") else piece + "\n\n")
    return "".join(out)


def translated(page: Path, lang: str = LANG, root: Path = ROOT) -> bool:
    """Whether ``page`` has a translation file (then every unit must be current)."""
    return tr_path(page, lang, root).exists()


# ----------------------------------------------------------------------------- glossary
def glossary_zh(path: Path = ROOT / "book" / "glossary.md") -> dict[str, list[str]]:
    """English term -> its Chinese terms, in the glossary's order (the first is canonical).
    An entry's definition starts with the Chinese terms, separated by " / ", before the first
    ". "; a parenthesised gloss after a term is not part of it."""
    text = path.read_text(encoding="utf-8")
    body = text.split("```{glossary}", 1)[1].split("\n```", 1)[0]
    lines, out = body.splitlines(), {}
    for i, line in enumerate(lines):
        if line.strip() and not line[0].isspace() and i + 1 < len(lines):
            head = lines[i + 1].strip().split(". ", 1)[0]
            terms = [re.split(r"\s*[(（]", t.strip(), maxsplit=1)[0].strip() for t in head.split(" / ")]
            out[line.strip()] = [t for t in terms if re.search(r"[\u4e00-\u9fff]", t)]
    return out


def term_problems(zh: str, glossary: dict[str, list[str]] | None = None) -> list[str]:
    """One Chinese term per concept: for every glossary entry with two or more Chinese terms, a
    text that uses a later one and never the first (canonical) one is flagged. Alternatives of a
    single character (遍 for epoch) are not checked: as ordinary words they are too common."""
    glossary = glossary_zh() if glossary is None else glossary
    out = []
    for en, terms in glossary.items():
        if len(terms) < 2 or terms[0] in zh:
            continue
        for alt in terms[1:]:
            if len(alt) >= 2 and alt in zh:
                out.append(f"uses {alt} for '{en}': the glossary's term is {terms[0]}")
    return out


def pages() -> list[Path]:
    """Every page of the table of contents, relative to the root."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    out = []
    for f in files:
        for suf in (".ipynb", ".md"):
            if (ROOT / (f + suf)).exists():
                out.append(Path(f + suf))
                break
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("extract", "check"):
        s = sub.add_parser(name)
        s.add_argument("pages", nargs="*", type=Path)
    r = sub.add_parser("refresh")
    r.add_argument("page", type=Path)
    r.add_argument("--ids", nargs="+", required=True)
    a = ap.parse_args(argv)
    if a.cmd == "refresh":
        refresh(a.page, set(a.ids))
        return 0
    chosen = a.pages or pages()
    if a.cmd == "extract":
        for p in chosen:
            print(f"{p}: {extract(p)} unit(s) added -> {tr_path(p).relative_to(ROOT)}")
        return 0
    if not a.pages:  # what the build checks: the pages that have a translation file
        left = [p for p in chosen if not translated(p)]
        chosen = [p for p in chosen if translated(p)]
        if left:
            print(f"not yet translated (built in English): {', '.join(map(str, left))}")
    bad = [line for p in chosen for line in all_problems(p)]
    print("\n".join(bad) if bad else f"{len(chosen)} page(s): every unit translated and current")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
