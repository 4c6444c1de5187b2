"""Every page of the smoke build in a real browser (headless Debian Chromium, driven by Playwright).

Run with `make test-browser`, which installs a pinned MathJax from the npm
registries. Nothing downloads a browser: Chromium comes from the system (`apt-get install
chromium`). The site loads MathJax from a CDN; here that request is answered from the local copy,
so the test needs no internet. Screenshots of every page go to `_build/screenshots/` for review
(the 简体中文 edition's as `zh__<page>.png`).

The Chinese pages must be set in an installed CJK font: `fonts-noto-cjk` on Debian/Ubuntu, which
.ci/run installs with Chromium. The check is in the page: the font stack the edition's CSS applies
(book/_ext/editions_static/editions.css) names Noto Sans CJK SC, `document.fonts.check` accepts
it, and text in that font measures differently from the generic fallback alone: Chromium's
`document.fonts.check` also says true for a system font that is not installed, the width does not.
"""

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

from tools.build import toc_files

from ..conftest import ROOT

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
MATHJAX = ROOT / "_build" / "browser-deps" / "node_modules" / "mathjax"
SHOTS = ROOT / "_build" / "screenshots"
ENTRIES = toc_files(ROOT)


@pytest.fixture(scope="module")
def site(smoke_build):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(smoke_build.out / "html"))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="run `make test-browser`")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (or set CHROMIUM=...)")
    if not (MATHJAX / "es5" / "tex-mml-chtml.js").exists():
        pytest.skip("no local MathJax: run `make test-browser`")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


def serve_mathjax(route):
    rel = route.request.url.split("/npm/mathjax@3/", 1)[1].split("?", 1)[0]
    path = MATHJAX / rel
    if path.is_file():
        route.fulfill(path=str(path), content_type="application/javascript")
    else:
        route.fulfill(status=404)


@pytest.fixture
def page(browser, site):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.route("**/npm/mathjax@3/**", serve_mathjax)
    pg.route(lambda url: not url.startswith(site) and "/npm/mathjax@3/" not in url,
             lambda route: route.abort())  # nothing else may leave the machine
    pg.errors = []
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    ctx.close()


@pytest.mark.parametrize("entry", ENTRIES)
def test_page_renders(page, site, entry):
    page.goto(f"{site}/{entry}.html", wait_until="load")
    has_math = page.evaluate("() => document.querySelectorAll('.math').length")
    if page.locator("script[src*='mathjax']").count():  # Sphinx loads MathJax only where needed
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                               timeout=120_000)
        page.evaluate("() => MathJax.startup.promise")
    typeset = page.evaluate("() => document.querySelectorAll('mjx-container').length")
    assert typeset >= has_math, f"{entry}: {typeset} typeset of {has_math} math elements"
    assert not page.locator("mjx-merror").count(), f"{entry}: MathJax reported a TeX error"
    broken = page.evaluate(
        "() => Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
    assert not broken, f"{entry}: images that did not load: {broken}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / (entry.replace("/", "__") + ".png")), full_page=True)
    assert not page.errors, f"{entry}: console errors: {page.errors}"
    # no code line wider than the page: an 88-character line (the chapters' limit, a fast
    # test) fits its box at 1280 px (book/_ext/editions_static/editions.css sets the size)
    wide = page.evaluate("""() => [...document.querySelectorAll('div.cell_input pre')]
        .filter(e => e.scrollWidth > e.clientWidth + 1)
        .map(e => e.textContent.split('\\n').reduce((a, b) => a.length > b.length ? a : b))""")
    assert not wide, f"{entry}: code cells wider than their box at 1280 px: {wide}"


CJK_FONT = "Noto Sans CJK SC"


@pytest.mark.parametrize("entry", ENTRIES)
def test_zh_page_renders_in_a_cjk_font(page, site, entry):
    page.goto(f"{site}/zh/{entry}.html", wait_until="load")
    if page.locator("script[src*='mathjax']").count():
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                               timeout=120_000)
        page.evaluate("() => MathJax.startup.promise")
    assert page.evaluate("() => document.documentElement.lang") == "zh-CN"
    stack = page.evaluate("() => getComputedStyle(document.querySelector('article p')).fontFamily")
    assert CJK_FONT in stack, f"zh/{entry}: the text's font stack has no {CJK_FONT}: {stack}"
    page.evaluate("() => document.fonts.ready")
    assert page.evaluate(f"() => document.fonts.check('16px \"{CJK_FONT}\"', '中文')"), \
        f"zh/{entry}: {CJK_FONT} is not available (apt-get install fonts-noto-cjk)"
    # a face that is really installed measures differently from the generic fallback alone
    widths = page.evaluate(f"""() => {{
        const c = document.createElement('canvas').getContext('2d');
        const w = f => {{ c.font = f; return c.measureText('扩展法则 Scaling mmmll').width; }};
        return [w('32px "{CJK_FONT}", monospace'), w('32px monospace')];
    }}""")
    assert widths[0] != widths[1], f"zh/{entry}: {CJK_FONT} is not installed (same widths {widths})"
    broken = page.evaluate(
        "() => Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
    assert not broken, f"zh/{entry}: images that did not load: {broken}"
    switch = page.locator("p.edition-switch a")
    assert switch.count() == 1 and switch.get_attribute("href").endswith(f"{entry}.html")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / ("zh__" + entry.replace("/", "__") + ".png")), full_page=True)
    assert not page.errors, f"zh/{entry}: console errors: {page.errors}"


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.startswith("notebooks/")])
def test_dropdown_solution_opens_on_click(page, site, entry):
    page.goto(f"{site}/{entry}.html", wait_until="load")
    solution = page.locator(".solution.dropdown").first
    assert solution.count(), f"{entry}: no dropdown solution"
    body = solution.locator(".admonition-title ~ *").first
    assert not body.is_visible(), f"{entry}: the solution is visible before the click"
    solution.locator("button.toggle-button, .admonition-title").first.click()
    body.wait_for(state="visible", timeout=60_000)
    assert not page.errors, f"{entry}: console errors: {page.errors}"
