"""Emit each inline script once per page.

Jupyter Book 1.x loads sphinx-thebe, whose configuration script is registered twice, so every
page declared ``const THEBE_JS_URL`` twice and the browser logged a SyntaxError. This extension
drops exact duplicates from the page's script list before the page is written.
"""


def _unique_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        # same file ("" or None for inline) and same attributes (the inline body is one): a
        # duplicate, whatever priority it was registered with
        key = (getattr(js, "filename", None) or "", repr(sorted(getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _unique_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
