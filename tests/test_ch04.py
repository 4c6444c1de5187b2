"""Chapter 4's glued numbers (Chinchilla), on the smoke preset: values, with tolerances that can fail."""

import pytest

pytestmark = pytest.mark.slow
CH = "04_chinchilla"


def test_closed_form_allocation(smoke_build):
    n = lambda k: smoke_build.number(CH, k)
    assert n("G_r") == pytest.approx(1.3447, abs=1e-4)
    assert n("a_r") == pytest.approx(0.28 / (0.34 + 0.28), abs=1e-3)          # beta / (alpha + beta)
    assert n("a_r") + n("b_r") == pytest.approx(1.0, abs=2e-3)


def test_rounding_moves_tokens_per_parameter(smoke_build):
    assert smoke_build.number(CH, "tpp_epoch") == 18.4
    assert smoke_build.number(CH, "tpp_unrounded") == 58.9
    assert smoke_build.number(CH, "tpp_rounded") == 92.6


def test_table3_rows(smoke_build):
    n = lambda k: smoke_build.number(CH, k)
    assert n("t3_tpp_400M") == 20.0
    assert n("t3_tpp_67B") == 22.4
    assert n("t3_tpp_10T") == 21.6
    assert n("t3_tpp_min") == 20.0 and n("t3_tpp_max") == 22.4
    assert n("t3_6nd_max_dev") < 0.05
    assert n("chin_tpp") == 20
    assert n("t3_law_r_min") > 30                      # the printed law does not give 20
    assert 14 < n("t3_law_e_min") < n("t3_law_e_max") < 25


def test_chinchilla_beats_gopher(smoke_build):
    assert smoke_build.number(CH, "L_chin") == 1.937
    assert smoke_build.number(CH, "L_goph") == 1.993


def test_approaches_recover_the_truth(smoke_build):
    n = lambda k: smoke_build.number(CH, k)
    assert n("a_true") == 0.513
    for k in ("a_env", "a_iso", "a_par"):
        assert n(k) == pytest.approx(n("a_true"), abs=0.04), k


def test_mean_of_huber_stops_early(smoke_build):
    n = lambda k: smoke_build.number(CH, k)
    assert n("iter_mean") < n("iter_sum")
    assert n("obj_mean") > n("obj_sum")
    assert n("grad_mean") > 0.1 > n("grad_sum")
    assert n("a_mean") < n("a_par")


def test_bootstrap_interval_far_wider_than_published(smoke_build):
    assert smoke_build.number(CH, "h_a3_width") == 0.001
    assert smoke_build.number(CH, "boot_width") > 10 * 0.001


def test_isoflop_floors_found_by_grid_match_the_closed_form(smoke_build):
    n = lambda k: smoke_build.number(CH, k)
    assert n("iso_slope") == pytest.approx(n("a_r"), abs=0.01)


def test_besiroglu_standard_errors_as_printed(smoke_build):
    n = lambda k: smoke_build.number(CH, k)
    assert n("se_alpha_e") == 0.02 and n("se_beta_e") == 0.02      # Table 1
    assert n("se_alpha_e") > 10 * n("h_a3_width")


def test_simulation_setup_and_rounding_direction_are_glued(smoke_build):
    n = lambda k: smoke_build.number(CH, k)
    g = smoke_build.glue[CH]
    assert (g["C_sweep_lo"], g["C_sweep_hi"]) == ("3.2 × 10¹⁸", "3.2 × 10²¹")  # 10^18.5, 10^21.5
    assert n("n_budgets") == 7 and n("n_curve_sizes") == 16 and n("ex_off_span") == 0.5
    # the early stop, then the rounding, each raise the tokens per parameter
    assert n("tpp_epoch") < n("tpp_unrounded") < n("tpp_rounded")
    ratio = n("tpp_rounded") / n("tpp_unrounded")
    assert n("tpp_factor_round") == pytest.approx(ratio, abs=0.05)
    assert n("ex_off_edge") <= n("n_budgets") and n("ex_off_outside") <= n("n_budgets")
