"""The 简体中文 edition (issue 17): translations current and faithful to the English markup, one
Chinese term per concept, and, in the smoke build, every zh page against its English page: the
same glued numbers, figures, exercises and solutions, no untranslated paragraph, a language
switch both ways, the same Colab and download notebook.

The fast tests read the committed translations (i18n/zh_CN/); the slow ones the smoke build."""

import copy
import collections
import functools
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from bs4 import BeautifulSoup

from tools import editions, i18n
from tools.build import toc_files, toc_notebooks

from .conftest import ROOT

# Pages the Chinese edition shows in English (no translation file yet). Every page is
# translated; a new page that lands before its translation is listed here (this set may only
# shrink again), and test_a_page_without_translation_is_built_in_english_under_a_notice
# covers how it is shown.
UNTRANSLATED: set[str] = set()
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff5e]")
LEFT = editions.untranslated(ROOT)  # what this tree leaves in English (a subset of the above)
TRANSLATED = [e for e in toc_files(ROOT) if e not in LEFT]


# ----------------------------------------------------------------------------- fast
def test_every_translation_is_current_and_keeps_the_markup():
    assert editions.check(ROOT) == []


def test_untranslated_pages_only_shrink():
    left = set(editions.untranslated(ROOT))
    assert left <= UNTRANSLATED, f"new untranslated pages: {sorted(left - UNTRANSLATED)}"
    assert "book/intro" not in left and "book/build_info" not in left


def _tree(tmp_path: Path) -> Path:
    """A source tree with the home page, its translation and the site strings."""
    src = tmp_path / "src"
    for rel in ("book/intro.md", "i18n/zh_CN/book/intro.yml", "i18n/zh_CN/site.yml",
                "_toc.yml", "_config.yml"):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, src / rel)
    shutil.copytree(ROOT / "params", src / "params")
    return src


def test_one_changed_english_sentence_fails_the_build_until_refreshed(tmp_path):
    from tools import build

    src = _tree(tmp_path)
    page = Path("book/intro.md")
    assert editions.check(src) == []
    text = (src / page).read_text()
    old = "Teaching a course with it?"
    assert old in text
    (src / page).write_text(text.replace(old, "Teaching a class with it?"))
    bad = editions.check(src)
    assert bad == [f"{page}: unit what-you-will-learn: stale translation (the English changed "
                   "since; update zh, then `python tools/i18n.py refresh book/intro.md --ids "
                   "what-you-will-learn`)"]
    # the build stops before it executes anything, naming the page and the unit
    rc = build.main(["--root", str(src), "--out", str(tmp_path / "out"), "--preset", "smoke"])
    assert rc == 1 and not (tmp_path / "out" / "stage").exists()
    with pytest.raises(ValueError, match="what-you-will-learn"):
        i18n.apply_md((src / page).read_text(), page, root=src)
    # the translator updates the Chinese, then records the English it now translates
    i18n.refresh(page, {"what-you-will-learn"}, root=src)
    assert editions.check(src) == []
    assert "要用本书开课" in i18n.apply_md((src / page).read_text(), page, root=src)


def test_a_page_without_translation_is_built_in_english_under_a_notice(tmp_path):
    """Every page is translated today; a new page may land before its translation, and the
    edition then shows it in English under the 本页尚未翻译 notice and lists it."""
    src = _tree(tmp_path)
    (src / "i18n" / "zh_CN" / "book" / "intro.yml").unlink()
    assert editions.untranslated(src) == ["book/intro"] and editions.check(src) == []
    left = editions.stage_zh(src, src, tmp_path / "zh")
    assert left == ["book/intro"]
    text = (tmp_path / "zh" / "book" / "intro.md").read_text(encoding="utf-8")
    title, rest = text.split("\n", 1)
    assert title.startswith("# ") and rest.lstrip().startswith(editions.UNTRANSLATED)


def test_a_changed_notebook_cell_is_named(tmp_path):
    src = tmp_path / "src"
    (src / "notebooks").mkdir(parents=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"),
                                         nbformat.v4.new_code_cell("x = 1"),
                                         nbformat.v4.new_markdown_cell("Loss falls as $N$ grows.")])
    nb.cells[0]["id"], nb.cells[2]["id"] = "title", "falls"
    page = Path("notebooks/01_x.ipynb")
    nbformat.write(nb, src / page)
    i18n.extract(page, root=src)
    data = i18n.load(page, root=src)
    data["units"][0]["zh"], data["units"][1]["zh"] = "# 标题", "损失随 $N$ 增大而下降。"
    i18n.save(page, data, root=src)
    executed = copy.deepcopy(nb)
    executed.cells[1].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    assert i18n.apply_notebook(executed, page, root=src) == 2
    assert executed.cells[2].source == "损失随 $N$ 增大而下降。" and executed.cells[1].outputs
    nb.cells[2].source = "Loss falls as a power of $N$."
    nbformat.write(nb, src / page)
    with pytest.raises(ValueError, match=r"notebooks/01_x.ipynb: unit falls: stale translation"):
        i18n.apply_notebook(copy.deepcopy(nb), page, root=src)


def test_markup_must_survive_translation():
    en = ("As {cite:t}`kaplan2020scaling` found, $L \\propto N^{-\\alpha}$ with "
          "{glue}`alpha_n` ({numref}`fig-loss`, {doc}`01_power_laws`).\n\n"
          "```{glue:figure} fig_loss\n:name: fig-loss\n:alt: Loss against N\n\nThe loss.\n```\n")
    good = ("正如 {cite:t}`kaplan2020scaling` 所发现的，$L \\propto N^{-\\alpha}$，其中 "
            "{glue}`alpha_n`（{numref}`fig-loss`，{doc}`01_power_laws`）。\n\n"
            "```{glue:figure} fig_loss\n:name: fig-loss\n:alt: 损失与 N 的关系\n\n损失。\n```\n")
    assert i18n.markup_problems(en, good) == []
    bad = good.replace("{glue}`alpha_n`", "0.076").replace("$L \\propto N^{-\\alpha}$", "L ∝ N")
    found = " ".join(i18n.markup_problems(en, bad))
    assert "{glue}`alpha_n`" in found and "inline math" in found
    assert "fig_loss" in " ".join(i18n.markup_problems(en, good.replace(
        "{glue:figure} fig_loss", "{glue:figure} fig_other")))
    assert i18n.markup_problems(en, good.replace(":name: fig-loss", ":name: 图-loss"))


def test_key_points_box_and_math_over_a_line_break():
    en = "# Title\n\nThe loss is $L = E +\nA N^{-\\alpha}$, and {glue}`a`.\n"
    zh = ("# 标题\n\n:::{admonition} 本章要点\n:class: tip\n- 指数为 {glue}`b`，$x$。\n:::\n\n"
          "损失为 $L = E + A N^{-\\alpha}$，以及 {glue}`a`。\n")
    assert i18n.markup_problems(en, zh) == []  # the box is the Chinese edition's own
    assert i18n.markup_problems(en, zh.replace("本章要点", "要点"))  # any other box is compared
    assert i18n.markup_problems(en, zh.replace("$L = E + A N^{-\\alpha}$", "L"))


def test_glossary_term_rule():
    g = i18n.glossary_zh()
    assert g["scaling law"] == ["扩展法则", "缩放定律"] and g["power law"] == ["幂律"]
    assert g["cooldown"] == ["冷却"]  # the parenthesised gloss is not a term
    assert i18n.term_problems("缩放定律的指数", g) == [
        "uses 缩放定律 for 'scaling law': the glossary's term is 扩展法则"]
    assert i18n.term_problems("扩展法则（也称缩放定律）", g) == []  # naming both is fine
    assert i18n.term_problems("把数据遍历一遍", g) == []  # one-character alternatives: not checked


def _all_units():
    for path in sorted((ROOT / "i18n" / i18n.LANG).rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for u in data.get("units") or []:
            yield path.relative_to(ROOT), u


def test_one_chinese_term_per_concept():
    """Every translated unit uses the glossary's first Chinese term for a concept, not an
    alternative alone (rule: tools.i18n.term_problems)."""
    g = i18n.glossary_zh()
    bad = [f"{path}: unit {u['id']}: {p}" for path, u in _all_units()
           for p in i18n.term_problems(str(u.get("zh") or ""), g)]
    assert not bad, "\n".join(bad)


def test_site_strings_cover_every_part_caption():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    site = editions.site_strings(ROOT)
    assert {p["caption"] for p in toc["parts"]} <= set(site["captions"])
    assert all(CJK.search(v) for v in site["captions"].values()) and CJK.search(site["title"])


def untranslated_paragraphs(article) -> list[str]:
    """Paragraphs without a CJK character that are not code, math, output, a citation, a
    bibliography entry or a bare link to a page (a page title); a few words (names, numbers)
    are not a paragraph of prose."""
    body = copy.copy(article)
    for el in body.select(".cell_output, .cell_input, pre, code, .math, script, .bibliography, "
                          "div.citation, .bibtex-citation, .edition-switch, .output"):
        el.decompose()
    out = []
    for p in body.find_all("p"):
        text = " ".join(p.get_text(" ").split())
        links = p.find_all("a")
        if len(links) == 1 and " ".join(links[0].get_text(" ").split()) == text:
            continue
        if not CJK.search(text) and len(re.findall(r"[A-Za-z]{2,}", text)) >= 4:
            out.append(text)
    return out


def test_untranslated_paragraph_detector():
    soup = BeautifulSoup(
        "<article><p>这是 <span class='math'>\\(x\\)</span> 译文。</p>"
        "<p>This sentence was left in English by mistake.</p>"
        "<div class='cell_output'><p>printed output in English words here</p></div>"
        "<p><a href='x.html'>How to use this book</a></p>"
        "<p><span class='math'>\\(L = E + A N^{-\\alpha} + B D^{-\\beta}\\)</span></p></article>",
        "html.parser").article
    assert untranslated_paragraphs(soup) == ["This sentence was left in English by mistake."]


# ----------------------------------------------------------------------------- the smoke build
@functools.lru_cache(maxsize=None)
def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def both(build, entry):
    en, zh = build.out / "html" / f"{entry}.html", build.out / "html" / "zh" / f"{entry}.html"
    return (en, _soup(en)), (zh, _soup(zh))


def article(soup):
    return soup.find("article") or soup.find("main")


def glued(soup) -> collections.Counter:
    """Every glued value shown inline in the prose (not a code cell's own output), outside the
    Chinese edition's own 本章要点 box (which repeats some of the chapter's numbers)."""
    body = copy.copy(article(soup))
    for title in body.select(".admonition-title"):
        if title.get_text().strip() == i18n.KEY_POINTS:
            title.parent.decompose()
    return collections.Counter(
        " ".join(el.get_text(" ").split()) for el in body.select(".output")
        if not el.find_parent(class_="cell_output") and "cell_output" not in el.get("class", []))


def images(path: Path, soup) -> list[bytes]:
    return [(path.parent / img["src"]).resolve().read_bytes()
            for img in article(soup).find_all("img") if not img["src"].startswith(("http", "data:"))]


slow = pytest.mark.slow


@slow
@pytest.mark.parametrize("entry", toc_files(ROOT))
def test_zh_page_has_the_same_numbers_figures_and_exercises(smoke_build, entry):
    (en_path, en), (zh_path, zh) = both(smoke_build, entry)
    assert glued(zh) == glued(en), f"{entry}: the glued values differ between the editions"
    assert images(zh_path, zh) == images(en_path, en), f"{entry}: the figures differ"
    for kind in ("exercise", "solution"):
        assert len(article(zh).select(f".{kind}")) == len(article(en).select(f".{kind}")), \
            f"{entry}: a different number of {kind}s"


@slow
@pytest.mark.parametrize("entry", TRANSLATED)
def test_translated_page_has_no_english_paragraph(smoke_build, entry):
    _, (_, zh) = both(smoke_build, entry)
    assert zh.find("html")["lang"] == "zh-CN"
    left = untranslated_paragraphs(article(zh))
    assert not left, f"{entry}: untranslated paragraphs: {left}"
    assert "本页尚未翻译" not in zh.get_text()


@slow
def test_build_page_lists_untranslated_pages_and_the_extra_time(smoke_build):
    import json

    record = json.loads((smoke_build.out / "stage" / "editions.json").read_text())
    assert record["untranslated"] == LEFT and set(LEFT) <= UNTRANSLATED
    assert record["zh_extra_s"] > 0 and record["en_sphinx_s"] > 0 and record["zh_extra_cpu_s"] > 0
    for lang, entry in (("en", "book/build_info"), ("zh", "zh/book/build_info")):
        html = (smoke_build.out / "html" / f"{entry}.html").read_text(encoding="utf-8")
        assert not re.search(r"ZHEXTRA|ENSPHINX", html), f"{entry}: a time left unfilled"
        pattern = r"took (\d+) s \((\d+) CPU s\) more" if lang == "en" else r"另用了 (\d+) 秒"
        assert re.search(pattern, html), f"{entry}: no extra time of the Chinese edition"
        for page in record["untranslated"]:
            assert f"{page.split('/')[-1]}.html" in html, f"{entry}: {page} not listed"
    zh = _soup(smoke_build.out / "html" / "zh" / "book" / "build_info.html")
    assert "运行时间 (秒)" in zh.get_text() and "总执行时间" in zh.get_text()


@slow
@pytest.mark.parametrize("entry", toc_files(ROOT))
def test_language_switch_links_the_same_page(smoke_build, entry):
    (en_path, en), (zh_path, zh) = both(smoke_build, entry)
    for path, soup, other in ((en_path, en, zh_path), (zh_path, zh, en_path)):
        link = soup.select_one("p.edition-switch a")
        assert link is not None, f"{path}: no language switch"
        assert (path.parent / link["href"]).resolve() == other.resolve(), f"{path}: {link['href']}"


@slow
@pytest.mark.parametrize("nb", [p.stem for p in toc_notebooks(ROOT)])
def test_both_editions_launch_and_download_the_same_notebook(smoke_build, nb):
    (en_path, en), (zh_path, zh) = both(smoke_build, f"notebooks/{nb}")

    def colab(soup):
        return [a["href"] for a in soup.find_all("a", href=True) if "colab.research" in a["href"]]

    def download(path, soup):
        return {(path.parent / a["href"]).resolve() for a in soup.find_all("a", href=True)
                if a["href"].endswith(".ipynb") and "_sources" in a["href"]}

    assert colab(zh) == colab(en) and len(colab(en)) == 1
    assert download(zh_path, zh) == download(en_path, en) != set()
    assert all(p.exists() for p in download(en_path, en))


@slow
def test_sphinx_interface_is_in_chinese(smoke_build):
    _, (_, zh) = both(smoke_build, "book/intro")
    assert zh.find("html")["lang"] == "zh-CN"
    assert "搜索" in str(zh)
    assert zh.find("title").get_text().strip().endswith(editions.site_strings(ROOT)["title"])
    _, (_, chapter) = both(smoke_build, "notebooks/01_power_laws")
    assert "点击显示" in str(chapter) and "Click to show" not in str(chapter)  # dropdown hints
    assert "练习" in article(chapter).get_text()  # sphinx-exercise's own "Exercise"
