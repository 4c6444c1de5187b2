"""Reading quality of the built site (smoke build): figures with alt text, links that resolve,
math that MathJax will typeset, no raw errors or warnings, no papermill parameter cell."""

import copy
import functools
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest
from bs4 import BeautifulSoup

from tools.build import toc_files, toc_notebooks

from .conftest import ROOT

pytestmark = pytest.mark.slow
CHAPTERS = [p.stem for p in toc_notebooks(ROOT)]


@functools.lru_cache(maxsize=None)
def _parse(path: Path) -> BeautifulSoup:  # each page is parsed once (no test modifies a soup)
    return BeautifulSoup(path.read_text(), "html.parser")


@functools.lru_cache(maxsize=None)
def _ids(path: Path) -> frozenset:
    return frozenset(t.get("id") for t in _parse(path).find_all(id=True))


def page(build, entry: str) -> tuple[Path, BeautifulSoup]:
    path = build.out / "html" / f"{entry}.html"
    return path, _parse(path)


def main_content(soup):
    return soup.find("article") or soup.find("main") or soup


@pytest.mark.parametrize("nb", CHAPTERS)
def test_figures_exist_with_alt_text(smoke_build, nb):
    path, soup = page(smoke_build, f"notebooks/{nb}")
    images = main_content(soup).find_all("img")
    source = nbformat.read(ROOT / "notebooks" / f"{nb}.ipynb", as_version=4)
    n_figures = sum(c.source.count("{glue:figure}") for c in source.cells if c.cell_type == "markdown")
    assert len(images) >= n_figures, f"{nb}: {len(images)} images for {n_figures} glued figures"
    for img in images:
        assert img.get("alt", "").strip(), f"{nb}: image {img.get('src')} has no alt text"
        src = unquote(img["src"])
        if not src.startswith(("http:", "https:", "data:")):
            assert (path.parent / src).resolve().exists(), f"{nb}: missing image file {src}"


@pytest.mark.parametrize("entry", toc_files(ROOT))
def test_internal_links_resolve(smoke_build, entry):
    path, soup = page(smoke_build, entry)
    for a in soup.find_all("a", href=True):
        url = urlparse(a["href"])
        if url.scheme or a["href"].startswith(("mailto:", "javascript:")):
            continue
        target = path if not url.path else (path.parent / unquote(url.path)).resolve()
        assert target.exists(), f"{entry}: broken link {a['href']}"
        if url.fragment and target.suffix == ".html":
            assert url.fragment in _ids(target), f"{entry}: link {a['href']} points at a missing anchor"


@pytest.mark.parametrize("nb", CHAPTERS)
def test_math_is_marked_up_for_mathjax(smoke_build, nb):
    _, soup = page(smoke_build, f"notebooks/{nb}")
    assert soup.find(class_="math"), f"{nb}: no MathJax markup"
    assert any("mathjax" in (s.get("src") or "").lower() for s in soup.find_all("script"))
    body = copy.copy(main_content(soup))  # a copy: the cached page stays whole
    for code in body.find_all(["pre", "code"]):
        code.decompose()  # dollar signs in code (matplotlib labels) are not prose
    text = body.get_text()
    assert not re.search(r"(?<![\\\w])\$[^$\s][^$]*\$", text.replace("$$", "")), \
        f"{nb}: raw $...$ left in the text (dollarmath not applied?)"


@pytest.mark.parametrize("nb", CHAPTERS)
def test_no_raw_errors_or_warnings_in_outputs(smoke_build, nb):
    _, soup = page(smoke_build, f"notebooks/{nb}")
    for out in main_content(soup).select(".cell_output"):
        text = out.get_text()
        assert "Traceback (most recent call last)" not in text, f"{nb}: a traceback is shown"
        assert not re.search(r"\w+Warning:", text), f"{nb}: a warning is shown: {text[:300]}"


@pytest.mark.parametrize("entry", [f"notebooks/{c}" for c in CHAPTERS])
def test_cross_references_read_once(smoke_build, entry):
    """A numbered reference renders its own noun ("Exercise 14"): prose must not say it again."""
    _, soup = page(smoke_build, entry)
    text = " ".join(main_content(soup).get_text().split())
    doubled = re.findall(r".{0,40}\b(?:exercise|figure|table)\s+(?:Exercise|Fig\.|Table)\s+\d+", text, re.I)
    assert not doubled, f"{entry}: {doubled}"


@pytest.mark.parametrize("nb", CHAPTERS)
def test_no_papermill_parameter_cell_visible(smoke_build, nb):
    _, soup = page(smoke_build, f"notebooks/{nb}")
    assert "# Parameters" not in main_content(soup).get_text()
    assert not soup.select(".tag_injected-parameters")


@pytest.mark.parametrize("nb", CHAPTERS)
def test_launch_buttons_point_at_the_real_notebook(smoke_build, nb):
    import yaml

    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = cfg["repository"]["url"].rstrip("/").removeprefix("https://github.com/")
    _, soup = page(smoke_build, f"notebooks/{nb}")
    colab = [a["href"] for a in soup.find_all("a", href=True) if "colab.research.google.com" in a["href"]]
    assert colab == [f"https://colab.research.google.com/github/{repo}/blob/{cfg['repository']['branch']}"
                     f"/notebooks/{nb}.ipynb"]
    assert (ROOT / "notebooks" / f"{nb}.ipynb").exists()
