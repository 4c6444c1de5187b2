"""Chapter 3's glued numbers, on the smoke preset: Kaplan's constants and what follows from them."""

import pytest

pytestmark = pytest.mark.slow
CH = "03_kaplan_laws"


def test_doubling_factors(smoke_build):
    assert smoke_build.number(CH, "doubling_N") == 0.949       # 2 ** -0.076
    assert smoke_build.number(CH, "doubling_D") == 0.936       # 2 ** -0.095
    assert smoke_build.number(CH, "doubling_C") == 0.966       # 2 ** -0.050


def test_overfitting_rule_derived_from_eq_1_5(smoke_build):
    assert smoke_build.number(CH, "derived_exp") == 0.738      # 0.076 / 0.103
    assert smoke_build.number(CH, "derived_coef") == pytest.approx(5e3, rel=0.15)
    assert smoke_build.number(CH, "ovf_coef") == 5000


def test_frontier_and_gpt3(smoke_build):
    assert smoke_build.number(CH, "x10_N") == 5.4
    assert smoke_build.number(CH, "x10_D") == 1.9
    assert smoke_build.number(CH, "g3_tpp") == 1.71
    assert smoke_build.number(CH, "g3_kaplan_tpp") == pytest.approx(0.35, abs=0.01)
    assert smoke_build.number(CH, "NeDe_ratio") == pytest.approx(1.81, abs=0.01)


def test_additive_form_is_far_from_eq_1_5(smoke_build):
    lo, hi = smoke_build.number(CH, "ratio_min"), smoke_build.number(CH, "ratio_max")
    assert 1.4 < lo < hi < 2.1
    assert smoke_build.number(CH, "ex_true") == 2.42
    assert smoke_build.number(CH, "ex_add") == 4.64


def test_ten_times_compute_quoted_and_computed(smoke_build):
    # Hoffmann et al.'s summary of Kaplan, as printed (their Section 1) ...
    assert smoke_build.number(CH, "h_x10_N") == 5.5
    assert smoke_build.number(CH, "h_x10_D") == 1.8
    # ... and the book's own arithmetic with Table 6's exponents, 10^0.73 and 10^0.27
    assert smoke_build.number(CH, "x10_N") == 5.4
    assert smoke_build.number(CH, "x10_D") == 1.9


def test_critical_batch_section_points_at_the_factor_two(smoke_build):
    assert smoke_build.number(CH, "NeDe_ratio") == pytest.approx(2, abs=0.25)
