"""Claims about papers worded as the papers print them (issue 15), checked on the committed
sources: fast, no build. Numbers are pinned in test_published.py and the chapter tests."""

from pathlib import Path

import nbformat

from scaling_lab import published as pub

ROOT = Path(__file__).resolve().parent.parent


def markdown(stem: str) -> str:
    nb = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_schaeffer_metrics_nonlinear_and_discontinuous():
    doc = " ".join(pub.EmergenceMetrics.__doc__.split())
    assert "*nonlinear*" in doc and "*discontinuous*" in doc
    md = " ".join(markdown("09_misconceptions").split())
    assert "exact string match, which is *nonlinear*" in md
    assert "multiple-choice grade, which is *discontinuous*" in md


def test_first_measurements_cite_hestness():
    md = markdown("09_misconceptions")
    assert "{cite:t}`hestness2017`" in md


def test_gpt4_caption_says_at_least():
    md = " ".join(markdown("10_beyond_chinchilla").split())
    assert "at least {glue}`gpt4_ratio` times less compute" in md
    assert "up to 10^4" not in md and "up to {glue}`gpt4_ratio`" not in md


def test_switch_and_sparse_energy_quoted_from_the_abstracts():
    # Fedus et al., JMLR abstract; Patterson et al., arXiv abstract (as printed)
    assert pub.FEDUS2022_SWITCH.speedup == 7 and pub.FEDUS2022_SWITCH_XXL.speedup == 4
    assert pub.FEDUS2022_SWITCH.source.where == "Abstract"
    assert ("up to 7x increases in pre-training speed with the same computational resources"
            in pub.FEDUS2022_SWITCH.source.note)
    assert "a 4x speedup over the T5-XXL model" in pub.FEDUS2022_SWITCH_XXL.source.note
    assert pub.PATTERSON2021_SPARSE_ENERGY == 0.1
    assert pub.PATTERSON2021_SPARSE_SOURCE.where == "Abstract"


def test_chapter9_reads_switch_through_a_law_not_a_guess():
    """Section 5 quotes Switch's speed-up as printed and labels the reading through Epoch's
    law as the book's arithmetic; it does not print routed-law constants it has not checked."""
    md = " ".join(markdown("09_misconceptions").split())
    assert '"up to {glue}`m5_switch`x increases in pre-training speed with the same ' \
           'computational resources"' in md
    assert "the arithmetic is the book's" in md
    for key in ("m5_sw_N", "m5_sw_red", "m5_sw_L", "m5_sw_where", "m5_sw_share"):
        assert f"{{glue}}`{key}`" in md
