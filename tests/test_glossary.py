"""The glossary promises a link on each term's first use: every term of book/glossary.md that a
chapter uses is a {term} link where the chapter first uses it (prose only: not headings, code,
math, figure options or roles). Fast: reads the committed notebooks."""

import pytest

from tools.build import toc_notebooks
from tools.glossary import ROOT, aliases, chapter_markdown, first_unlinked, glossary_terms

def test_glossary_parses():
    terms = glossary_terms()
    assert len(terms) > 40 and "scaling law" in terms and "FLOP" in terms
    assert aliases("model-FLOPs utilisation (MFU)") == ["model-FLOPs utilisation", "MFU"]
    assert aliases("quantum (of skill)") == ["quantum"]


def test_detector_sees_plain_and_linked_first_uses():
    terms = ["scaling law", "epoch", "emergent ability"]
    assert [b[0] for b in first_unlinked(["A scaling law here.", "{term}`scaling law`"], terms)] \
        == ["scaling law"]
    assert first_unlinked(["{term}`Scaling laws <scaling law>` then scaling laws."], terms) == []
    # headings, code, math and Epoch (the institute) are not uses
    assert first_unlinked(["# A scaling law\n`epoch` $epoch$ Epoch's refit"], terms) == []
    assert [b[0] for b in first_unlinked(["two emergent abilities"], terms)] == ["emergent ability"]


@pytest.mark.parametrize("nb", [p.stem for p in toc_notebooks(ROOT)])
def test_every_term_linked_at_first_use(nb):
    bad = first_unlinked(chapter_markdown(ROOT / "notebooks" / f"{nb}.ipynb"))
    assert not bad, [t for t, *_ in bad]
