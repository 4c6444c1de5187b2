"""Glued values read the same in both editions (issue 17).

Both editions are built from one execution, so every value glued into the prose appears verbatim
on the 简体中文 page too. A text-valued glue must therefore carry numbers, symbols, units and
names only: "0.36–0.46", not "0.36 to 0.46" (``scaling_lab.report.format_range``); "1.5 × 10⁹",
not "1.5 billion" (``format_sci``); and a word that depends on a result ("smaller", "outside")
belongs in the translatable prose, with a hidden assert in the chapter that the result still
says it. This test reads the smoke build and fails on any glued text holding a word of
``ENGLISH``; model names ("GPT-3", "Llama 3 8B") and units ("FLOPs", "B") are not on the list.
"""

import re

import pytest

from tests.conftest import ROOT
from tools.build import toc_notebooks

# words that need translating: function words, comparisons and directions, number words, and
# the nouns a glued phrase would carry ("2 layers of width 32", "11 IsoFLOP budgets")
ENGLISH = frozenset("""
    a an the and or of to from in into on at by for with without than as is are was were be
    not no yes do does did if so but because which that this these those
    inside outside above below under over between within beyond about around near nearly
    more most fewer less least larger largest smaller smallest bigger higher lower better worse
    same different still only much many very clearly almost roughly approximately
    agree agrees disagree pass passes fail fails first second last part
    zero one two three four five six seven eight nine ten eleven twelve twenty hundred hundreds
    thousand thousands million millions billion billions trillion trillions half twice
    times factor decade decades
    layer layers width head heads model models run runs budget budgets epoch epochs
    token tokens parameter parameters step steps
""".split())

# glued text that may hold such words: names quoted from a published table, shown as quotations
# in the prose (the zh page quotes them in English with a translation beside them)
QUOTED = {
    ("05_kaplan_vs_chinchilla", "porian_last_label"): "Porian et al.'s label, a quoted name",
    ("05_kaplan_vs_chinchilla", "porian_cosine_label"): "Porian et al.'s label, a quoted name",
}

# TODO(issue 17): chapters 06-08 are being rewritten elsewhere; their glued phrases
# (l6_shape "2 layers of width 32 with 2 heads", l6_N_range "6,592 to 100,096", l6_zlib_cmp
# "still above", l7_N_range, l7_lr_range, l8_gpu_budgets, l8_verdict, ...) are to be made
# neutral there. Until then they are expected failures; non-strict, so that a fixed chapter
# shows as XPASS, and the mark can go.
PENDING = {"06_lab_first_runs", "07_lab_compute_optimal", "08_lab_wsd_sweeps"}

_FIGURE = re.compile(r"^<Figure size [\dx.]+ with \d+ Axes>$")


def english_words(text: str) -> list[str]:
    """The words of ``text`` that are on the ENGLISH list (case-insensitive)."""
    return [w for w in re.findall(r"[A-Za-z]+", text) if w.lower() in ENGLISH]


def offenders(glued: dict[str, str], chapter: str) -> dict[str, str]:
    """{key: value} of every text-valued glue of ``chapter`` that holds an English word."""
    return {k: v for k, v in sorted(glued.items())
            if not _FIGURE.match(v) and (chapter, k) not in QUOTED and english_words(v)}


def test_the_word_list_catches_what_it_should():
    assert english_words("0.36 to 0.46") == ["to"]
    assert english_words("1.5 billion") == ["billion"]
    assert english_words("2 layers of width 32") == ["layers", "of", "width"]
    assert english_words("Still ABOVE") == ["Still", "ABOVE"]
    for neutral in ("0.36–0.46", "1.5 × 10⁹", "−0.02–0.01", "9,139", "12%", "3.11.7",
                    "GPT-3", "Llama 3 8B", "70B", "5.76 × 10²³ FLOPs", "16 x 128", "1,697 + 93"):
        assert english_words(neutral) == [], neutral


def _chapters():
    out = []
    for path in toc_notebooks(ROOT):
        marks = [pytest.mark.xfail(reason="TODO(issue 17): glued English in a chapter being "
                                          "rewritten elsewhere", strict=False)] \
            if path.stem in PENDING else []
        out.append(pytest.param(path.stem, marks=marks, id=path.stem))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("chapter", _chapters())
def test_glued_text_has_no_english_words(smoke_build, chapter):
    glued = smoke_build.glue.get(chapter)
    assert glued, f"{chapter}: no glued values in the smoke build"
    bad = offenders(glued, chapter)
    assert not bad, (
        f"{chapter}: glued text the zh edition would show in English: {bad}. Glue numbers "
        "(format_range, format_sci) and put the words in the prose; see this module's docstring")
