"""The 简体中文 edition: the English stage, executed once, with its prose translated.

After papermill, the guard and the English Sphinx build, ``tools/build.py`` calls
:func:`stage_zh`, which copies the executed stage to ``<out>/stage-zh`` and there

* replaces every markdown cell of every executed chapter by its translation (by cell id: code
  cells and their outputs, hence every glued number and figure, are the English build's own);
* replaces every section of every prose page by its translation (by heading slug);
* builds a page with no translation file yet in English, under a 本页尚未翻译 admonition;
* writes ``_config.yml`` (``language: zh_CN``, Chinese title and author) and ``_toc.yml``
  (Chinese part captions) from ``i18n/zh_CN/site.yml``, and the build page's table in Chinese.

Then a second ``jupyter-book build`` renders it into ``<out>/html/zh``. :func:`check` is what
fails the build early: a stale, missing or orphaned unit, or a unit whose markup (roles, math,
directives) differs from its English, in any page that has a translation file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import yaml

from tools import i18n

LANG = i18n.LANG
SUBDIR = "zh"  # <out>/html/zh
UNTRANSLATED = (":::{admonition} 本页尚未翻译 (not yet translated)\n:class: warning\n"
                "本页的中文译文尚未完成，下面是英文原文；数字和图与英文版相同。\n"
                "This page has no Chinese translation yet; the English text follows.\n:::\n")


def pages(root: Path) -> list[Path]:
    """Every page of ``_toc.yml`` (relative paths with suffix), in reading order."""
    from tools.build import toc_files

    out = []
    for f in toc_files(root):
        for suf in (".ipynb", ".md"):
            if (root / (f + suf)).exists():
                out.append(Path(f + suf))
                break
    return out


def untranslated(root: Path) -> list[str]:
    """The pages (toc entries without suffix) that have no translation file yet."""
    return [str(p.with_suffix("")) for p in pages(root) if not i18n.translated(p, root=root)]


def available(root: Path) -> bool:
    """Whether ``root`` has a Chinese edition to build (its ``i18n/zh_CN/site.yml``)."""
    return (root / "i18n" / LANG / "site.yml").exists()


def check(root: Path) -> list[str]:
    """Every problem of every page that has a translation file, one line each, plus the site
    strings (title, part captions) the edition needs."""
    out = []
    for p in pages(root):
        if i18n.translated(p, root=root):
            out += i18n.all_problems(p, root=root)
    site = site_strings(root)
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    for part in toc.get("parts", []):
        if part.get("caption") and part["caption"] not in site.get("captions", {}):
            out.append(f"i18n/{LANG}/site.yml: no translation of the part caption "
                       f"{part['caption']!r} of _toc.yml (add it under captions:)")
    if not site.get("title"):
        out.append(f"i18n/{LANG}/site.yml: no title")
    return out


def site_strings(root: Path) -> dict:
    path = root / "i18n" / LANG / "site.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}


def without_switch(stage: Path) -> None:
    """The English stage's config when no Chinese edition is built: no link to it."""
    cfg = yaml.safe_load((stage / "_config.yml").read_text(encoding="utf-8"))
    cfg.setdefault("sphinx", {}).setdefault("config", {})["edition_switch"] = False
    (stage / "_config.yml").write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False),
                                       encoding="utf-8")


def status_line(meta: dict) -> str:
    """The chapter's execution line (tools/build.py ``finish_page``) in Chinese."""
    line = (f"<small>以预设 <code>{meta['preset']}</code> 执行 · 提交 "
            f"<code>{meta['commit']}</code> · {meta['date']} · {meta['seconds']:.0f} 秒")
    if meta.get("changed"):
        values = "，".join(f"<code>{k} = {v!r}</code>" for k, v in meta["changed"].items())
        line += f" · 运行时使用 {values}，而非参数单元格中显示的值"
    return line + "</small>"


def _after_title(text: str, insert: str) -> str:
    """``text`` with ``insert`` after its first heading line (at the top if it has none)."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("# "):
            return "".join(lines[: i + 1]) + "\n" + insert + "\n" + "".join(lines[i + 1:])
    return insert + "\n" + text


def stage_zh(root: Path, stage: Path, dest: Path) -> list[str]:
    """Copy the executed English ``stage`` to ``dest`` and translate it. Returns the pages
    left in English (no translation file). Raises ValueError if a translation is not current."""
    bad = check(root)
    if bad:
        raise ValueError("\n".join(bad))
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(stage, dest, ignore=shutil.ignore_patterns("_build"))
    left = []
    for page in pages(root):
        has = i18n.translated(page, root=root)
        if not has:
            left.append(str(page.with_suffix("")))
        if page.suffix == ".ipynb":
            nb = nbformat.read(dest / page, as_version=4)
            if has:
                i18n.apply_notebook(nb, page, root=root)
            else:  # the notice right under the title, in the first markdown cell
                first = next(c for c in nb.cells if c.cell_type == "markdown")
                first.source = _after_title(first.source, UNTRANSLATED)
            for cell in nb.cells:
                meta = cell.metadata.get("execution_status")
                if meta:
                    cell.source = status_line(meta)
            nbformat.write(nb, dest / page)
        else:  # from the source tree: the stage's build page already has its English table
            text = (root / page).read_text(encoding="utf-8")
            text = i18n.apply_md(text, page, root=root) if has else _after_title(text, UNTRANSLATED)
            (dest / page).write_text(text, encoding="utf-8")
    site = site_strings(root)
    cfg = yaml.safe_load((dest / "_config.yml").read_text(encoding="utf-8"))
    cfg["title"] = site["title"]
    cfg["author"] = site.get("author", cfg.get("author"))
    cfg.setdefault("sphinx", {}).setdefault("config", {}).update(
        {"language": LANG, "edition": LANG,
         # sphinx-togglebutton translates its hints before the language is known
         "togglebutton_hint": "点击显示", "togglebutton_hint_hide": "点击隐藏"})
    if cfg.get("html", {}).get("baseurl"):
        cfg["html"]["baseurl"] = cfg["html"]["baseurl"].rstrip("/") + f"/{SUBDIR}/"
    (dest / "_config.yml").write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False),
                                      encoding="utf-8")
    toc = yaml.safe_load((dest / "_toc.yml").read_text(encoding="utf-8"))
    for part in toc.get("parts", []):
        if part.get("caption"):
            part["caption"] = site["captions"][part["caption"]]
    (dest / "_toc.yml").write_text(yaml.safe_dump(toc, allow_unicode=True, sort_keys=False),
                                   encoding="utf-8")
    return left
