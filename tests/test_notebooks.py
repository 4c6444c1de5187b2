"""Notebook hygiene and the chapter template, checked on the committed sources (fast)."""

import json
import re
from pathlib import Path

import nbformat
import pytest
import yaml

from tools.build import toc_files, toc_notebooks

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
IDS = [p.stem for p in CHAPTERS]


def read(path):
    return nbformat.read(path, as_version=4)


def markdown(nb):
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_there_are_chapters():
    assert CHAPTERS, "no notebooks/NN_slug.ipynb found"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_committed_without_outputs(path):
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name} cell {i} has outputs: strip them"
            assert cell.get("execution_count") is None, f"{path.name} cell {i} has an execution count"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_exactly_one_parameters_cell(path):
    tagged = [c for c in read(path).cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: {len(tagged)} cells tagged 'parameters', want exactly 1"
    assert tagged[0].cell_type == "code"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_kernel_is_python3(path):
    assert read(path).metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_valid_nbformat(path):
    nbformat.validate(read(path))


def test_every_chapter_in_toc_and_every_toc_entry_exists():
    listed = {str(p) for p in toc_notebooks(ROOT)}
    on_disk = {str(p.relative_to(ROOT)) for p in CHAPTERS}
    assert on_disk - listed == set(), f"chapters missing from _toc.yml: {sorted(on_disk - listed)}"
    for entry in toc_files(ROOT):
        hits = [ROOT / (entry + s) for s in (".md", ".ipynb") if (ROOT / (entry + s)).exists()]
        assert hits, f"_toc.yml lists {entry!r} but no .md or .ipynb exists"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_chapter_template(path):
    """Learning goals and run time, takeaways, >= 3 exercises each with a solution, bibliography."""
    text = markdown(read(path))
    assert re.search(r"\{admonition\} Learning goals", text), "no 'Learning goals' box"
    assert "**Run time:**" in text, "no run time in the learning-goals box"
    assert re.search(r"\{admonition\} Takeaways", text), "no 'Takeaways' box"
    exercises = re.findall(r"\{exercise\}\s*\n:label:\s*(\S+)", text)
    assert len(exercises) >= 3, f"{len(exercises)} exercises, want >= 3"
    solved = set(re.findall(r"\{solution(?:-start)?\}\s+(\S+)", text))
    assert set(exercises) <= solved, f"exercises without solutions: {set(exercises) - solved}"
    assert "{bibliography}" in text and ":filter: docname in docnames" in text


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_presets_only_set_declared_parameters(path):
    """A preset override for a name the chapter does not declare would be silently ignored."""
    import papermill

    declared = set(papermill.inspect_notebook(str(path)))
    for preset in sorted((ROOT / "params").glob("*.yaml")):
        spec = yaml.safe_load(preset.read_text())
        own = set((spec.get("notebooks") or {}).get(path.stem, {}) or {}) - {"typical_s"}
        assert own <= declared, f"{preset.name} sets {own - declared} that {path.name} does not declare"


def test_config_keeps_required_settings():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert cfg["execute"]["execute_notebooks"] == "off"
    assert cfg["only_build_toc_files"] is True
    ext = set(cfg["parse"]["myst_enable_extensions"])
    assert {"dollarmath", "amsmath", "colon_fence"} <= ext
    assert {"sphinx_exercise", "sphinx_togglebutton"} <= set(cfg["sphinx"]["extra_extensions"])
    assert cfg["bibtex_bibfiles"] == ["book/references.bib"]
    assert cfg["repository"]["url"] and cfg["repository"]["branch"]
    assert cfg["launch_buttons"]["colab_url"]


def test_the_bibliography_parses_strictly():
    """references.bib parses with pybtex (what sphinxcontrib-bibtex reads it with) in strict
    mode: a lost brace or a duplicate key fails here, naming the line, not in a site build."""
    import pybtex.errors
    from pybtex.database import parse_string

    text = (ROOT / "book" / "references.bib").read_text()
    was = pybtex.errors.strict
    pybtex.errors.set_strict_mode(True)
    try:
        db = parse_string(text, "bibtex")
    finally:
        pybtex.errors.set_strict_mode(was)
    assert len(db.entries) == len(re.findall(r"^@\w+\{", text, re.M))


def test_every_cited_key_is_in_the_bibliography():
    bib = (ROOT / "book" / "references.bib").read_text()
    keys = set(re.findall(r"^@\w+\{([^,]+),", bib, re.M))
    sources = [markdown(read(p)) for p in CHAPTERS]
    sources += [p.read_text() for p in (ROOT / "book").glob("*.md")]
    cited = set()
    for text in sources:
        for group in re.findall(r"\{cite(?::[a-z]+)?\}`([^`]+)`", text):
            cited |= {k.strip() for k in group.split(",")}
    assert cited <= keys, f"cited but not in references.bib: {sorted(cited - keys)}"


def test_published_sources_are_in_the_bibliography():
    """Every bibtex key the package's constants point at exists in book/references.bib."""
    from scaling_lab import published

    bib = (ROOT / "book" / "references.bib").read_text()
    keys = set(re.findall(r"^@\w+\{([^,]+),", bib, re.M))
    assert set(published.BIBTEX_KEYS) <= keys, sorted(set(published.BIBTEX_KEYS) - keys)


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_first_code_cell_installs_the_package_on_colab_only(path):
    """Colab opens the committed notebook: its first code cell installs the package there, and
    only there (guarded by 'google.colab' in sys.modules), from the repository in _config.yml."""
    from tools.colab import cell_source, first_code_cell

    first = first_code_cell(read(path))
    assert first is not None and first.source == cell_source(), \
        f"{path.name}: run `python tools/colab.py` to add the Colab install cell"
    assert "remove-cell" in first.metadata.get("tags", [])


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_parameters_cell_shows_the_book_presets_values(path):
    """The website is built with params/book.yaml, and its pages show the parameters cell: the
    defaults there must be the values the book preset injects, or the page would misstate them."""
    import ast

    import papermill

    from tools.build import load_preset, parameters_for

    declared = papermill.inspect_notebook(str(path))
    injected = parameters_for(path, load_preset(ROOT, "book"))
    for name, value in injected.items():
        default = ast.literal_eval(declared[name]["default"])
        assert default == value, (f"{path.name}: parameters cell has {name} = {default!r} but "
                                  f"params/book.yaml injects {value!r}; make them agree")


PAGE_WIDTH = 88  # characters of code a page shows without scrolling (about 90 at a desktop)


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_code_lines_fit_the_page(path):
    """A code line wider than the page scrolls off its right edge on the website."""
    wide = [f"cell {i} line {j}: {len(line)} chars"
            for i, cell in enumerate(read(path).cells) if cell.cell_type == "code"
            for j, line in enumerate(cell.source.splitlines(), 1) if len(line) > PAGE_WIDTH]
    assert not wide, f"{path.name}: wrap at {PAGE_WIDTH} characters: {'; '.join(wide)}"


GLUE_ROLE = re.compile(r"\{glue(?::text)?\}`")
GLUE_PER_PARAGRAPH = 5  # "more than about four glued numbers gets a table instead" (issue 15)
PAGES = CHAPTERS + sorted((ROOT / "book").glob("*.md"))


def prose_units(text: str) -> list[str]:
    """Paragraphs of a markdown text, each list item its own unit; table rows and directive
    fences are separators (a table is the remedy, not the fault)."""
    units, cur = [], []
    for line in text.split("\n"):
        if not line.strip() or line.lstrip().startswith(("|", "```", ":::")):
            if cur:
                units.append(" ".join(cur))
                cur = []
            continue
        if re.match(r"\s*(?:[-*+]|\d+\.)\s", line) and cur:
            units.append(" ".join(cur))
            cur = []
        cur.append(line.strip())
    if cur:
        units.append(" ".join(cur))
    return units


def test_prose_units_counts_paragraphs_and_list_items_not_tables():
    text = "a {glue}`x` b\n{glue:text}`y`\n\n| {glue}`t` | {glue}`u` |\n\n- {glue}`z`\n- w"
    units = prose_units(text)
    assert [len(GLUE_ROLE.findall(u)) for u in units] == [2, 1, 0]


@pytest.mark.parametrize("path", PAGES, ids=[p.stem for p in PAGES])
def test_dense_paragraphs_become_tables(path):
    """A paragraph (or list item) with more than GLUE_PER_PARAGRAPH glued values reads as a
    wall of numbers: put them in a table."""
    if path.suffix == ".ipynb":
        texts = [c.source for c in read(path).cells if c.cell_type == "markdown"]
    else:
        texts = [path.read_text()]
    dense = [u[:100] for t in texts for u in prose_units(t)
             if len(GLUE_ROLE.findall(u)) > GLUE_PER_PARAGRAPH]
    assert not dense, f"{path.name}: paragraphs with > {GLUE_PER_PARAGRAPH} glued values: {dense}"


GLUE_LINES_VISIBLE = 6  # a few glue lines may end a cell; more belong in a removed cell
HIDDEN_TAGS = {"remove-cell", "remove-input", "hide-input"}


def glue_lines(source: str) -> int:
    """Lines of a cell's code spent in glue calls (``glue_figure`` excepted: a figure cell
    may end with the call that names its figure)."""
    import ast

    lines = set()
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id.startswith("glue_") and node.func.id != "glue_figure"):
            lines |= set(range(node.lineno, node.end_lineno + 1))
    return len(lines)


def test_glue_lines_counts_call_lines_not_figures():
    src = 'x = 1\nglue_number("a", x, ".2f")\nglue_many(\n    {"b": x},\n)\nglue_figure("f", 0)'
    assert glue_lines(src) == 4


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_visible_cells_carry_no_glue_blocks(path):
    """A reader of the website should not scroll past blocks of glue calls: a visible cell
    keeps the code that teaches, and its glue goes into a cell tagged remove-cell after it
    (one ``glue_many({...})`` call)."""
    heavy = [f"cell {i} ({c.get('id')}): {n} lines of glue"
             for i, c in enumerate(read(path).cells)
             if c.cell_type == "code" and not HIDDEN_TAGS & set(c.metadata.get("tags", []))
             for n in [glue_lines(c.source)] if n > GLUE_LINES_VISIBLE]
    assert not heavy, (f"{path.name}: move glue into a remove-cell cell: {'; '.join(heavy)}")
