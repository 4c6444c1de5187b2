"""Chapter 6's glued numbers (lab: first runs), on the smoke preset: values, with tolerances that
can fail. The book preset's own bars (L(N) RMS <= 0.01 nats) are checked by the lab's tests."""

import pytest

pytestmark = pytest.mark.slow
CH = "06_lab_first_runs"


def test_counts_and_conventions(smoke_build):
    assert smoke_build.number(CH, "l6_ratio_small") > 3            # 6N undercounts a 10k model
    assert 1 < smoke_build.number(CH, "l6_ratio_large") < smoke_build.number(CH, "l6_ratio_small")
    # the smallest smoke size's full count over 6N, recounted here from its shape
    from scaling_lab.flops import flops_per_token
    from scaling_lab.lab.presets import get_preset

    shapes = sorted((s.shape() for s in get_preset("smoke").plan("lofn").specs),
                    key=lambda sh: flops_per_token(sh, "6N"))
    small = flops_per_token(shapes[0], "full") / flops_per_token(shapes[0], "6N")
    assert smoke_build.number(CH, "l6_ratio_small") == pytest.approx(small, abs=0.05)


def test_the_model_learns_python(smoke_build):
    bpb = smoke_build.number(CH, "l6_val_bpb")
    assert bpb < smoke_build.number(CH, "l6_unigram_bpb")           # beats byte frequencies
    assert bpb < smoke_build.number(CH, "l6_first_bpb")             # the curve falls
    assert smoke_build.number(CH, "l6_val_nats") == pytest.approx(bpb * 0.6931, abs=0.01)
    assert abs(smoke_build.number(CH, "l6_gap")) < 0.2              # no overfitting
    # the prose says the model ends above zlib's rate, by this many bits per byte
    assert smoke_build.number(CH, "l6_zlib_gap") == pytest.approx(
        bpb - smoke_build.number(CH, "l6_zlib_bpb"), abs=0.011)
    assert smoke_build.number(CH, "l6_zlib_gap") > 0


def test_lofn_fit_with_interval(smoke_build):
    a, lo, hi = (smoke_build.number(CH, k) for k in ("l6_alpha", "l6_alpha_lo", "l6_alpha_hi"))
    assert 0 < lo <= a <= hi
    assert smoke_build.number(CH, "l6_rms") < 0.03
    assert smoke_build.number(CH, "l6_ex_lo") <= smoke_build.number(CH, "l6_ex_pred") <= smoke_build.number(CH, "l6_ex_hi")


def test_exercise_solutions_compute_their_claims(smoke_build):
    g, num = smoke_build.glue[CH], lambda k: smoke_build.number(CH, k)
    # tokens: under the additive law only the floor moves at a fixed token count
    assert num("l6_ex_tok_a1") == num("l6_ex_tok_a4")
    assert num("l6_ex_tok_dE") == pytest.approx(num("l6_ex_tok_drop"), abs=0.002)
    assert num("l6_ex_tok_dE") > 0
    # local exponents: the fitted law's local slope can only shrink with N, and each
    # "large minus small" column is the difference of the two glued exponents
    assert num("l6_ex_pred_diff") <= 0
    assert num("l6_ex_pred_diff") == pytest.approx(
        num("l6_ex_pred_large") - num("l6_ex_pred_small"), abs=0.0015)
    assert num("l6_ex_a_diff") == pytest.approx(
        num("l6_ex_a_large") - num("l6_ex_a_small"), abs=0.0015)
    # the range is glued with an en dash, no words (both editions show it)
    assert g["l6_N_range"] == "6,592–100,096"
    # corpus: the entropy floor is computed, and one byte of context is not enough to reach it
    assert num("l6_ex_H16") < num("l6_ex_H16_1")
