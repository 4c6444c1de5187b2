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
    # distribution mismatch: clean training, shifted validation text; the gap above the shifted
    # text's own floor is about the divergence between the chains, and not a lack of training
    assert abs(n("m2_shift_own") - n("m2_H_val")) < 0.03
    assert n("m2_shift_gap") > 0.4
    assert abs(n("m2_shift_gap") - n("m2_shift_gap_pred")) < 0.12


def test_emergence_from_metric(n):
    assert n("m3_share") == 0.92
    assert n("m3_flat_decades") > 1.5 and n("m3_tok_at") > 0.5   # EM ~0 while tokens are mostly right
    assert n("ex2_shift") == pytest.approx(3.4, abs=0.1)          # log10(50)/0.5


def test_floor(n):
    assert n("m4_red_h") == 0.70 and n("m4_tot_h") > 0.9
    assert abs(n("m4_E_fit") - n("m2_H_val")) < 0.03            # fitted E lands on the floor
    assert n("m4_E_err") < 0.03
    assert n("m4_E_fit_c") > n("m4_E_fit") + 0.12
    # physical limits: Patterson et al.'s GPT-3 figures and the law's factor for halving L - E
    assert n("m4_gpt3_mwh") == 1287 and n("m4_gpt3_co2") == 552
    assert 30 < n("m4_halve") < 80
    assert n("m4_halve_gwh") == pytest.approx(n("m4_halve") * 1.287, rel=0.03)


def test_architecture_changes_the_law(n):
    assert n("m5_mlp_dev") < 0.05                                # MLP-only sits on its exact floor
    assert n("m5_gap_min") > 0.15                                # the transformer goes well below it
    assert n("m5_gpt_big") < n("m5_H21") - 0.15
    # sparse models: many stored parameters per used one, the same FLOPs per token, and a dense
    # law that cannot place them (the bracket between active and total N)
    assert n("m5_moe_ratio") > 50 and n("m5_moe_flops") < 1.02
    assert n("m5_moe_bracket") > 0.05
    assert n("m5_switch") == 7


def test_switch_speedup_through_epochs_law(n):
    """Switch's printed 7x, read as a compute multiplier in Epoch's law, recomputed here from
    the printed constants in closed form (the chapter goes through ChinchillaLaw.optimal) and
    from a parameter count of its own."""
    from scaling_lab import published
    from scaling_lab.flops import gpt2_small_shape, moe_param_counts

    c = published.BESIROGLU2024
    k = published.FEDUS2022_SWITCH.speedup
    n_eff = k ** (c.beta / (c.alpha + c.beta))            # N_opt ~ C^(beta/(alpha+beta))
    red = k ** (-c.alpha * c.beta / (c.alpha + c.beta))   # (L - E) ~ C^(-alpha beta/(a+b))
    assert n("m5_sw_N") == pytest.approx(n_eff, abs=0.006)
    assert n("m5_sw_red") == pytest.approx(red, abs=6e-4)

    m = moe_param_counts(gpt2_small_shape(), 128, top_k=1)
    D = 20 * m.active

    def loss(N):
        return c.E + c.A / N**c.alpha + c.B / D**c.beta

    assert n("m5_moe_L_act") == pytest.approx(loss(m.active), abs=6e-4)
    assert n("m5_moe_L_tot") == pytest.approx(loss(m.total), abs=6e-4)
    assert n("m5_sw_L") == pytest.approx(loss(n_eff * m.active), abs=6e-4)
    where = (loss(m.active) - loss(n_eff * m.active)) / (loss(m.active) - loss(m.total))
    assert n("m5_sw_where") == pytest.approx(where, abs=0.006)
    assert n("m5_sw_where") < 0.5          # closer to the active end, as the prose says
    assert n("m5_sw_share") == pytest.approx(n_eff / m.ratio, abs=6e-4)


def test_sections_1_to_5_are_the_source_misconceptions(smoke_build):
    """Sections 1-5 carry the source notes' 误区 1-5, in order, one per section."""
    import nbformat
    nb = nbformat.read(smoke_build.out / "stage" / "notebooks" / f"{CH}.ipynb", as_version=4)
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    heads = [md.index(f"## {k}. ") for k in range(1, 7)]
    for k in range(1, 6):
        label = md.index(f"(误区 {k}：")
        assert heads[k - 1] < label < heads[k], k


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


def test_intervals_are_glued_as_ranges(smoke_build, n):
    """Intervals read the same in both editions ('1.30–1.90'), low end first."""
    g = smoke_build.glue[CH]
    for key in ("m9_E_ci", "m9_a_ci", "m12_ci4"):
        lo, hi = (float(v) for v in g[key].split("–"))
        assert lo < hi, key
    lo, hi = (float(v) for v in g["m12_ci4"].split("–"))
    assert lo < n("m12_pred4") < hi
