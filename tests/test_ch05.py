"""Chapter 5's glued numbers (Kaplan vs Chinchilla), on the smoke preset."""

import pytest

pytestmark = pytest.mark.slow
CH = "05_kaplan_vs_chinchilla"


def test_pearce_song_local_exponent_near_kaplan(smoke_build):
    n = lambda k: smoke_build.number(CH, k)
    assert 0.74 <= n("ps_fit_hoff") <= 0.78
    assert 0.76 <= n("ps_fit_epoch") <= 0.81
    assert n("ps_a_epoch") == 0.51
    assert n("ps_local_peak") > 0.9 and n("ps_local_large") < 0.6
    assert n("ps_local_small") == pytest.approx(n("ps_local_limit"), abs=0.02)


def test_porian_steps(smoke_build):
    n = lambda k: smoke_build.number(CH, k)
    assert n("porian_first") == 0.835 and n("porian_last") == 0.497
    assert [n(f"porian_drop_{i}") for i in range(4)] == [0.129, 0.104, 0.031, 0.074]


def test_unfinished_schedule_biases_the_data_exponent(smoke_build):
    n = lambda k: smoke_build.number(CH, k)
    assert n("toy_gap_tenth") > 0
    assert n("beta_ckpt") > n("beta_tuned") == 0.366
    assert n("a_toy_app") > n("a_toy_true")


def test_porian_labels_are_the_authors(smoke_build):
    assert smoke_build.glue[CH]["porian_last_label"] == "Optimizer tuning (no decay)"
    assert smoke_build.glue[CH]["porian_cosine_label"] == "Cosine decay"
    assert smoke_build.number(CH, "porian_drop_3") == 0.074          # 0.571 -> 0.497


def test_kaplan_range_and_toy_setup_are_glued(smoke_build):
    g = smoke_build.glue[CH]
    assert (g["kaplan_min"], g["kaplan_max"]) == ("768", "1.5 × 10⁹")
    assert (g["toy_f"], g["toy_N"], g["toy_T"]) == ("0.1", "1.0 × 10⁸", "3.0 × 10¹⁰")
