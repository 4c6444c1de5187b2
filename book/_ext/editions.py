"""The two editions of the site: English at the root, 简体中文 under ``zh/`` (tools/editions.py).

Every page gets a language switch at the top of its text, linking to the same page in the other
edition (both editions have every page: one not yet translated is shown in English). In the
Chinese edition (``edition = "zh_CN"``, set by the build) the page's ``lang`` attribute is
``zh-CN``, its text is set in a CJK font stack (``editions_static/editions.css``), and the
download button fetches the English edition's notebook: both editions' Colab and download
buttons give the same executed notebook.
"""

from pathlib import Path

STATIC = Path(__file__).parent / "editions_static"
SWITCH = {  # edition -> (the other edition's root relative to this one's, its label, hreflang)
    "en": ("zh/", "简体中文", "zh-CN", "本页的中文版"),
    "zh_CN": ("../", "English", "en", "This page in English"),
}


def _add_static(app, config):
    config.html_static_path.append(str(STATIC))


def _links_to_english_sources(buttons, up):
    for b in buttons:
        if b.get("type") == "group":
            _links_to_english_sources(b.get("buttons", []), up)
        elif b.get("type") == "link" and "_sources/" in b.get("url", "") \
                and b["url"].endswith(".ipynb"):
            b["url"] = up + "../_sources/" + b["url"].split("_sources/", 1)[1]


def _page(app, pagename, templatename, context, doctree):
    edition = app.config.edition
    if not app.config.edition_switch:  # built without the other edition (build.py --no-zh)
        return
    up = "../" * pagename.count("/")  # from this page to its edition's root
    other, label, hreflang, title = SWITCH[edition]
    href = f"{up}{other}{pagename}.html"
    context["metatags"] = context.get("metatags", "") + (
        f'\n<link rel="alternate" hreflang="{hreflang}" href="{href}" />')
    if context.get("body") is not None:
        context["body"] = (f'<p class="edition-switch"><a href="{href}" hreflang="{hreflang}" '
                           f'lang="{hreflang}" title="{title}">{label}</a></p>\n'
                           + context["body"])
    if edition != "en":
        context["language"] = edition.replace("_", "-")  # <html lang="zh-CN">, a valid tag
        _links_to_english_sources(context.get("header_buttons", []), up)


def setup(app):
    app.add_config_value("edition", "en", "html")
    app.add_config_value("edition_switch", True, "html")
    app.connect("config-inited", _add_static)
    app.add_css_file("editions.css")
    app.connect("html-page-context", _page, priority=950)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
