"""Chapter 10's glued numbers (beyond Chinchilla), on the smoke preset."""

import pytest

pytestmark = pytest.mark.slow
CH = "10_beyond_chinchilla"


def test_inference_aware_model_is_smaller_and_saves_compute(n):
    assert n("inf_save_1e11") < 0.01
    assert 0.3 < n("inf_shrink_1e13") < 0.7 and n("inf_save_1e13") > 0.15
    assert n("inf_shrink_1e14") < n("inf_shrink_1e13")
    assert n("inf_tpp_1e14") > n("inf_tpp_1e13") > 3 * n("inf_tpp_chin")


def test_data_constrained(n):
    assert n("dc_dL_4") < 0.02                              # ~4 epochs nearly free
    assert n("dc_N_last") < n("dc_N_free")                  # smaller model ...
    assert n("dc_epochs_last") > n("dc_epochs_free")        # ... more epochs
    assert n("dc_gain") < n("dc_gain_free")


def test_real_models(n):
    assert n("rm_gpt3") < 2 and n("rm_gopher") < 2
    assert n("rm_chin") == 20
    assert n("rm_l3_8") == 1875 and n("rm_l3_8_x") > 50


def test_loss_prediction(n):
    assert n("gpt4_ratio") == 10000
    assert n("pr_err") < 0.08
    # the truth lies at (or within a bootstrap wobble of) the 90 % interval
    assert n("pr_lo") - 0.02 <= n("pr_truth") <= n("pr_hi") + 0.02
    assert n("pr_hi") - n("pr_lo") > 0.05
    assert n("pr_pure") < n("pr_truth") - 0.2


def test_takeaway_matches_section_2(smoke_build, n):
    """The takeaway and section 2 print the same glued words (a smaller model, more epochs); both
    come from the same row of the optimisation, and the numbers must agree with the words."""
    g = smoke_build.glue[CH]
    assert g["dc_dir_N"] == "smaller" and g["dc_dir_ep"] == "more"
    assert n("dc_N_last") < n("dc_N_free") and n("dc_epochs_last") > n("dc_epochs_free")
    page = (smoke_build.out / "stage" / "notebooks" / f"{CH}.ipynb").read_text()
    assert page.count("{glue}`dc_dir_N`") >= 2 and "spends compute on size" not in page
