"""Build the book: stage, execute every chapter with papermill, guard, then Sphinx.

    python tools/build.py --preset book            # what `make book` runs
    python tools/build.py --preset smoke --strict  # what the test suite runs
    python tools/build.py --preset smoke --only 01_power_laws --no-html

Pipeline::

    params/<preset>.yaml + notebooks/*.ipynb --papermill--> <out>/stage/notebooks/*.ipynb
        --guard--> jupyter-book build <out>/stage -W -n --keep-going --> <out>/html
        --translate (tools/editions.py)--> <out>/stage-zh --jupyter-book--> <out>/html/zh

The 简体中文 edition is the same executed stage with its prose replaced by the translations in
``i18n/zh_CN/`` (tools/i18n.py): no chapter executes twice. A stale or missing translation, in a
page that has a translation file, stops the build before any chapter runs.

The stage keeps the repository's layout (``_config.yml``, ``_toc.yml``, ``book/``,
``notebooks/``), so launch buttons and relative links point at the real paths. Every notebook
runs once, in a fresh kernel, with working directory ``<out>/stage/notebooks`` (files a chapter
writes land in the build, never in the source tree). ``_config.yml`` sets
``execute_notebooks: "off"``: Sphinx renders papermill's outputs and never re-executes them.

Besides the site, the stage holds ``execution.json`` (preset, seconds, commit and date per
chapter) and ``glue.json`` (every glued value as text), which the tests read.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools import editions  # noqa: E402
from tools.guard import Problem, check_notebook, slow_note  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
COPY_TO_STAGE = ("_config.yml", "_toc.yml", "book")


# ----------------------------------------------------------------------------- inputs
def load_preset(root: Path, name: str) -> dict:
    path = root / "params" / f"{name}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in (root / "params").glob("*.yaml"))
        raise SystemExit(f"build: unknown preset {name!r}; known presets: {', '.join(known)}")
    preset = yaml.safe_load(path.read_text()) or {}
    preset.setdefault("name", name)
    preset.setdefault("parameters", {})
    preset.setdefault("notebooks", {})
    preset.setdefault("typical_s", 60)
    if "budget_s" in preset or any("budget_s" in (v or {}) for v in preset["notebooks"].values()):
        raise SystemExit(f"build: preset {name!r} sets budget_s, which is gone: record a chapter's "
                         "typical run time as typical_s (seconds on a quiet 2-core machine); the "
                         f"build stops a cell only after {HANG_FACTOR}x that (a hang)")
    return preset


# A machine that is merely busy runs a chapter 2-4x slower than its typical time; a hang runs
# forever. Only a hang stops the build: a cell is interrupted after HANG_FACTOR times its
# chapter's typical time (at least MIN_HANG_S). A chapter past SLOW_FACTOR times its typical time
# gets a warning, never a failure; a chapter that is really too slow is a benchmark finding.
HANG_FACTOR, MIN_HANG_S, SLOW_FACTOR = 5, 600, 2


def typical_seconds(preset: dict, stem: str) -> float:
    """A chapter's recorded typical run time under ``preset`` (seconds, quiet 2-core machine)."""
    return float((preset["notebooks"].get(stem) or {}).get("typical_s", preset["typical_s"]))


def hang_seconds(typical: float) -> int:
    """How long one cell may run before the build calls it a hang."""
    return int(max(HANG_FACTOR * typical, MIN_HANG_S))


def toc_files(root: Path) -> list[str]:
    """Every ``file:`` entry of ``_toc.yml`` (root first), without suffix, in reading order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return [str(Path(f).with_suffix("")) for f in files]


def toc_notebooks(root: Path) -> list[Path]:
    """The ``.ipynb`` chapters that ``_toc.yml`` lists, as paths relative to ``root``."""
    return [Path(f + ".ipynb") for f in toc_files(root) if (root / (f + ".ipynb")).exists()]


def parameters_for(nb_path: Path, preset: dict) -> dict:
    """The preset's parameters this notebook declares, plus its own overrides.

    Global parameters go only to chapters whose ``parameters`` cell declares them; an override
    for a name the chapter does not declare is an error (it would be silently ignored).
    """
    import papermill

    declared = papermill.inspect_notebook(str(nb_path))
    params = {k: v for k, v in preset["parameters"].items() if k in declared}
    overrides = preset["notebooks"].get(nb_path.stem, {}) or {}
    overrides = {k: v for k, v in overrides.items() if k != "typical_s"}
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise SystemExit(
            f"build: preset {preset['name']!r} sets {unknown} for {nb_path.name}, whose "
            f"parameters cell declares only {sorted(declared)}; fix the preset or the cell")
    params.update(overrides)
    return params


def git_commit(root: Path) -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                             capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# ----------------------------------------------------------------------------- steps
def stage_sources(root: Path, stage: Path) -> None:
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    for name in COPY_TO_STAGE:
        src = root / name
        if src.is_dir():
            shutil.copytree(src, stage / name)
        elif src.exists():
            shutil.copy2(src, stage / name)
    (stage / "notebooks").mkdir(exist_ok=True)


def changed_from_defaults(nb_path: Path, params: dict) -> dict:
    """The injected parameters whose value differs from the default in the parameters cell."""
    import ast

    import papermill

    declared = papermill.inspect_notebook(str(nb_path))
    changed = {}
    for name, value in params.items():
        try:
            default = ast.literal_eval(declared[name]["default"])
        except (ValueError, SyntaxError):
            default = object()  # not a literal: treat as changed
        if default != value:
            changed[name] = value
    return changed


def children_cpu_seconds() -> float:
    """CPU seconds (user + system) of this process's finished children: a chapter's kernel and,
    through it, the sweep workers it waited for. Unlike wall time, this barely moves when other
    work shares the machine, so it is what to compare between builds (and what benchmarks use)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def execute(root: Path, stage: Path, nb_rel: Path, preset: dict) -> tuple[float, str | None, dict]:
    """Run one chapter with papermill into the stage.

    Returns (seconds, error or None, the parameters that differ from the cell's defaults)."""
    import papermill

    src, dst = root / nb_rel, stage / nb_rel
    dst.parent.mkdir(parents=True, exist_ok=True)
    params = parameters_for(src, preset)
    t0 = time.perf_counter()
    error = None
    try:
        papermill.execute_notebook(
            str(src), str(dst), parameters=params, kernel_name="python3",
            cwd=str(dst.parent), progress_bar=False, log_output=False,
            execution_timeout=hang_seconds(typical_seconds(preset, nb_rel.stem)))
    except Exception as exc:  # papermill already wrote the failing notebook to dst
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
    return time.perf_counter() - t0, error, changed_from_defaults(src, params)


def finish_page(nb, preset_name: str, commit: str, date: str, seconds: float,
                changed: dict | None = None) -> None:
    """Hide papermill's injected cell; say how the page was produced under its title, including
    any parameter whose value differs from what the (visible) parameters cell shows."""
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    line = (f"<small>Executed with preset <code>{preset_name}</code> · commit "
            f"<code>{commit}</code> · {date} · {seconds:.0f} s")
    if changed:
        values = ", ".join(f"<code>{k} = {v!r}</code>" for k, v in changed.items())
        line += f" · run with {values} instead of the values shown in the parameters cell"
    line += "</small>"
    status = nbformat.v4.new_markdown_cell(line)
    status.metadata["tags"] = ["execution-status"]
    # the Chinese edition writes the same line in Chinese from these (tools/editions.py)
    status.metadata["execution_status"] = {"preset": preset_name, "commit": commit, "date": date,
                                           "seconds": seconds, "changed": changed or {}}
    status["id"] = "execution-status"
    nb.cells.insert(1, status)


def glue_text(nb) -> dict[str, str]:
    """Every glued value as its plain-text form (what the tests assert on)."""
    out = {}
    for cell in nb.cells:
        for o in cell.get("outputs", []) if cell.cell_type == "code" else []:
            name = o.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                data = o.get("data", {})
                text = next((v for k, v in data.items() if k.endswith("text/plain")), "")
                out[name] = text if isinstance(text, str) else "".join(text)
    return out


# filled in after both builds (fill_build_times)
ZH_EXTRA, EN_SPHINX, ZH_EXTRA_CPU, EN_SPHINX_CPU = ("ZHEXTRASECONDS", "ENSPHINXSECONDS",
                                                   "ZHEXTRACPU", "ENSPHINXCPU")
BUILD_PAGE = {
    "en": {"head": "| chapter | preset | run time (s) | CPU time (s) | typical (s) | commit | date |",
           "total": "Total execution time: {total:.0f} s for {n} chapters.",
           "editions": ("The 简体中文 edition (the site under `zh/`) is built from these same "
                        "executed notebooks; no chapter runs again. Translating the stage and its "
                        "Sphinx build took " + ZH_EXTRA + " s (" + ZH_EXTRA_CPU + " CPU s) more, "
                        "beside " + EN_SPHINX + " s (" + EN_SPHINX_CPU + " CPU s) for the English "
                        "site's Sphinx build."),
           "left": "Pages not yet translated (the Chinese edition shows them in English):",
           "none": "Every page is translated."},
    "zh_CN": {"head": "| 章节 | 预设 | 运行时间 (秒) | CPU 时间 (秒) | 典型时间 (秒) | 提交 | 日期 |",
              "total": "总执行时间：{n} 章共 {total:.0f} 秒。",
              "editions": ("简体中文版由同一批已执行的笔记本生成，没有任何一章再次执行。替换译文并"
                           "用 Sphinx 生成中文版另用了 " + ZH_EXTRA + " 秒（CPU 时间 " + ZH_EXTRA_CPU +
                           " 秒；英文版的 Sphinx 生成用时 " + EN_SPHINX + " 秒，CPU 时间 " +
                           EN_SPHINX_CPU + " 秒）。"),
              "left": "尚未翻译的页面（中文版中以英文显示）：",
              "none": "所有页面均已翻译。"},
}


def write_build_page(stage: Path, record: dict, lang: str = "en",
                     untranslated: list[str] | None = None) -> None:
    """Fill the table of ``book/build_info.md`` (in the stage only) from the execution record,
    in the edition's language; say what the Chinese edition added and which pages it left in
    English (``untranslated``; None: no Chinese edition is built)."""
    page = stage / "book" / "build_info.md"
    if not page.exists():
        return
    words = BUILD_PAGE[lang]
    rows = [words["head"], "|---|---|---:|---:|---:|---|---|"]
    for name, rec in record.items():
        rows.append(f"| {{doc}}`{name} <../notebooks/{name}>` | `{rec['preset']}` | "
                    f"{rec['seconds']:.0f} | {rec.get('cpu_s', float('nan')):.0f} | "
                    f"{rec['typical_s']:.0f} | `{rec['commit']}` | {rec['date']} |")
    total = sum(rec["seconds"] for rec in record.values())
    rows.append("\n" + words["total"].format(total=total, n=len(record)))
    if untranslated is not None:
        rows.append("\n" + words["editions"])
        rows.append("\n" + (words["left"] + "\n\n" + "\n".join(
            f"- {{doc}}`../{p}`" for p in untranslated) if untranslated else words["none"]))
    page.write_text(page.read_text().replace("<!-- execution-table -->", "\n".join(rows)))


def fill_build_times(html: Path, zh_extra: float, en_sphinx: float, zh_cpu: float = float("nan"),
                     en_cpu: float = float("nan")) -> None:
    """Put the measured Sphinx times on both editions' build pages (known only after both), and
    in the page sources their download buttons offer."""
    for site in (html, html / editions.SUBDIR):
        for page in (site / "book" / "build_info.html", site / "_sources" / "book" / "build_info.md"):
            if not page.exists():
                continue
            text = page.read_text(encoding="utf-8")
            for token, value in ((ZH_EXTRA, zh_extra), (EN_SPHINX, en_sphinx),
                                 (ZH_EXTRA_CPU, zh_cpu), (EN_SPHINX_CPU, en_cpu)):
                text = text.replace(token, f"{value:.0f}")
            page.write_text(text, encoding="utf-8")


def build_html(stage: Path, html: Path, strict: bool) -> int:
    jb = Path(sys.executable).parent / "jupyter-book"  # the one installed beside this Python
    cmd = [str(jb), "build", str(stage), "--builder", "html", "--all"]
    if strict:
        cmd += ["-W", "-n", "--keep-going"]
    print("build: jupyter-book", " ".join(cmd[1:]), flush=True)
    rc = subprocess.run(cmd).returncode
    if rc == 0:
        if html.exists():
            shutil.rmtree(html)
        shutil.copytree(stage / "_build" / "html", html)
    return rc


# ----------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", required=True, help="params/<preset>.yaml, e.g. smoke or book")
    ap.add_argument("--root", type=Path, default=REPO, help="source tree (default: this repo)")
    ap.add_argument("--out", type=Path, default=None, help="build directory (default: <root>/_build)")
    ap.add_argument("--only", action="append", default=[],
                    help="execute only this chapter (stem, e.g. 01_power_laws); repeatable")
    ap.add_argument("--no-html", action="store_true", help="execute and guard, skip Sphinx")
    ap.add_argument("--strict", action="store_true", help="Sphinx with -W -n --keep-going")
    ap.add_argument("--no-zh", action="store_true",
                    help="skip the 简体中文 edition (<out>/html/zh); built by default with the site")
    args = ap.parse_args(argv)

    root = args.root.resolve()
    out = (args.out or root / "_build").resolve()
    stage, html = out / "stage", out / "html"
    preset = load_preset(root, args.preset)
    notebooks = toc_notebooks(root)
    if args.only:
        unknown = set(args.only) - {p.stem for p in notebooks}
        if unknown:
            raise SystemExit(f"build: --only {sorted(unknown)} is not a chapter in _toc.yml")
        notebooks = [p for p in notebooks if p.stem in args.only]
        if not args.no_html:
            print("build: the site needs every chapter executed; --only implies --no-html")
            args.no_html = True

    # a source tree without i18n/zh_CN/site.yml (a test's planted tree) has no Chinese edition
    zh = not args.no_html and not args.no_zh and editions.available(root)
    if zh:  # before anything runs: a stale or missing translation fails the build now
        bad = editions.check(root)
        if bad:
            print("\ni18n: the 简体中文 edition cannot be built (run `python tools/i18n.py check`; "
                  "--no-zh skips it):", file=sys.stderr)
            for line in bad:
                print(f"  {line}", file=sys.stderr)
            return 1

    commit = git_commit(root)
    date = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    stage_sources(root, stage)
    if not zh and (stage / "_config.yml").exists():
        editions.without_switch(stage)
    problems: list[Problem] = []
    warnings: list[str] = []
    record, glue = {}, {}
    t_all = time.perf_counter()
    for nb_rel in notebooks:
        print(f"execute: {nb_rel} (preset {preset['name']})", flush=True)
        cpu0 = children_cpu_seconds()
        seconds, error, changed = execute(root, stage, nb_rel, preset)
        cpu_s = children_cpu_seconds() - cpu0
        typical = typical_seconds(preset, nb_rel.stem)
        dst = stage / nb_rel
        if not dst.exists():
            problems.append(Problem(str(nb_rel), None, f"papermill wrote no output ({error})"))
            continue
        nb = nbformat.read(dst, as_version=4)
        found = check_notebook(nb, str(nb_rel))
        if error and not found:
            found = [Problem(str(nb_rel), None, f"papermill failed: {error}")]
        problems += found
        print(f"         {seconds:6.1f} s ({cpu_s:.0f} CPU s), "
              f"{'ok' if not found else f'{len(found)} problem(s)'}", flush=True)
        note = slow_note(str(nb_rel), seconds, typical, SLOW_FACTOR)
        if note:
            warnings.append(note)
            print(f"         warning: {note}", flush=True)
        glue[nb_rel.stem] = glue_text(nb)
        record[nb_rel.stem] = {"preset": preset["name"], "seconds": round(seconds, 1),
                               "cpu_s": round(cpu_s, 1), "typical_s": typical,
                               "commit": commit, "date": date}
        finish_page(nb, preset["name"], commit, date, seconds, changed)
        nbformat.write(nb, dst)
    (stage / "execution.json").write_text(json.dumps(record, indent=1))
    untranslated = editions.untranslated(root) if zh else None
    write_build_page(stage, record, "en", untranslated)
    (stage / "glue.json").write_text(json.dumps(glue, indent=1, sort_keys=True))
    print(f"executed {len(notebooks)} chapter(s) in {time.perf_counter() - t_all:.0f} s", flush=True)
    for note in warnings:  # repeated at the end, where a reader of the log looks
        print(f"guard: warning (not an error): {note}", file=sys.stderr)

    if problems:
        print("\nguard: refusing to build the site:", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    if args.no_html:
        return 0
    t0, cpu0 = time.perf_counter(), children_cpu_seconds()
    rc = build_html(stage, html, args.strict)
    en_sphinx, en_cpu = time.perf_counter() - t0, children_cpu_seconds() - cpu0
    if rc != 0:
        print(f"build: Sphinx failed (exit {rc})", file=sys.stderr)
        return rc
    if zh:
        t0, cpu0 = time.perf_counter(), children_cpu_seconds() + time.process_time()
        stage_zh = out / "stage-zh"
        left = editions.stage_zh(root, stage, stage_zh)
        write_build_page(stage_zh, record, editions.LANG, left)
        rc = build_html(stage_zh, html / editions.SUBDIR, args.strict)
        zh_extra = time.perf_counter() - t0
        zh_cpu = children_cpu_seconds() + time.process_time() - cpu0
        if rc != 0:
            print(f"build: Sphinx failed on the 简体中文 edition (exit {rc})", file=sys.stderr)
            return rc
        fill_build_times(html, zh_extra, en_sphinx, zh_cpu, en_cpu)
        (stage / "editions.json").write_text(json.dumps(
            {"en_sphinx_s": round(en_sphinx, 1), "zh_extra_s": round(zh_extra, 1),
             "en_sphinx_cpu_s": round(en_cpu, 1), "zh_extra_cpu_s": round(zh_cpu, 1),
             "untranslated": left}, indent=1))
        print(f"build: the 简体中文 edition took {zh_extra:.0f} s ({zh_cpu:.0f} CPU s) more "
              f"(the English Sphinx build {en_sphinx:.0f} s, {en_cpu:.0f} CPU s); "
              f"{len(left)} page(s) not yet translated", flush=True)
    print(f"\nThe book is at {html / 'index.html'}")
    if zh:
        print(f"简体中文版: {html / editions.SUBDIR / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
