"""Chapter 9's glued numbers (misconceptions), on the smoke preset. Each test fails if the
demonstration stops showing its effect."""

import pytest

pytestmark = pytest.mark.slow
CH = "09_misconceptions"


def test_more_parameters_not_better_at_fixed_compute(n):
    assert n("m1_L_chin") < n("m1_L_gopher")                 # the smaller model wins
    assert n("m1_k_lo") < 0.7 and 1.8 < n("m1_k_hi") < 2.8   # a flat valley ...
    assert n("m1_mult_10") > 2                               # ... but not free far out


def test_data_limits_and_quality(n):
    assert n("m2_floor_1b") < n("m2_L_1b_20")
    assert n("m2_worth_4") > 0.85 and n("m2_worth_40") < 0.15
    # lab: the corrupted corpus raises the floor by about the predicted amount, for every seed
    assert 0.18 < n("m2_raise_pred") < 0.25
    assert n("m2_raise_meas_min") > 0.12
    assert abs(n("m2_raise_meas") - n("m2_raise_pred")) < 0.06
    assert abs(n("m2_clean_last") - n("m2_H_val")) < 0.03


def test_emergence_from_metric(n):
    assert n("m3_share") == 0.92
    assert n("m3_flat_decades") > 1.5 and n("m3_tok_at") > 0.5   # EM ~0 while tokens are mostly right
    assert n("ex2_shift") == pytest.approx(3.4, abs=0.1)          # log10(50)/0.5


def test_floor(n):
    assert n("m4_red_h") == 0.70 and n("m4_tot_h") > 0.9
    assert abs(n("m4_E_fit") - n("m2_H_val")) < 0.03            # fitted E lands on the floor
    assert n("m4_E_err") < 0.03
    assert n("m4_E_fit_c") > n("m4_E_fit") + 0.12


def test_architecture_changes_the_law(n):
    assert n("m5_mlp_dev") < 0.05                                # MLP-only sits on its exact floor
    assert n("m5_gap_min") > 0.15                                # the transformer goes well below it
    assert n("m5_gpt_big") < n("m5_H21") - 0.15


def test_ratios_exponents_tokenisers(n):
    assert n("m6_e_lo") < 20 < n("m6_p_lo")
    assert n("m7_tpp") == 1875 and n("m7_infer_ratio") > 5 and n("m7_dL") < 0.1
    assert n("m8_alpha") / n("m8_pure_C") > 5
    assert n("m9_corr") > 0.5
    assert n("m10_pair") / n("m10_byte") == pytest.approx(2.0, abs=0.05)
    assert n("m10_bpb_pair") == pytest.approx(n("m10_bpb_byte"), abs=0.02)
    assert n("m11_ratio") > 1.5


def test_extrapolation_fan_widens(n):
    assert n("m12_w4") > 5 * n("m12_w0")
    assert n("m12_red4") > n("m12_red0")
