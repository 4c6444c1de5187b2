"""Chapter 2's glued numbers, on the smoke preset: exact counts and FLOP conversions."""

import pytest

pytestmark = pytest.mark.slow
CH = "02_counting_compute"


def test_gpt2_small_exact_counts(smoke_build):
    assert smoke_build.number(CH, "gpt2_total") == 124_439_808
    assert smoke_build.number(CH, "gpt2_total_nobias") == 124_337_664
    assert smoke_build.number(CH, "gpt2_emb") == 39_383_808
    assert smoke_build.number(CH, "gpt2_nonemb") == 85_056_000
    assert smoke_build.number(CH, "gpt2_train_mflop") == 510       # 6 * 85,056,000 / 1e6


def test_chinchilla_shape_count_and_gap(smoke_build):
    assert smoke_build.number(CH, "chin_count_B") == 64.7
    assert smoke_build.number(CH, "chin_nominal_B") == 70
    assert smoke_build.number(CH, "chin_gap") == pytest.approx(0.076, abs=1e-3)
    assert smoke_build.number(CH, "chin_untied_extra_B") == 0.26


def test_attention_matters_for_small_models_only(smoke_build):
    assert smoke_build.number(CH, "chin_kaplan_ratio") < 1.03
    assert smoke_build.number(CH, "chin_full_ratio") < 1.06
    assert smoke_build.number(CH, "gpt2_full_ratio") > 2
    assert smoke_build.number(CH, "small_full_ratio") > 10
    assert smoke_build.number(CH, "ctx_eq_gpt2") == 9229


def test_pf_days_and_gpu_hours(smoke_build):
    assert smoke_build.number(CH, "pf_day") == 8.64e19
    assert smoke_build.number(CH, "chin_pf_days") == 6667              # 5.76e23 / 8.64e19
    assert smoke_build.number(CH, "chin_gpu_hours") == 1_282_051       # / (312e12 * 0.4) / 3600
    assert smoke_build.number(CH, "g3_C") == 3.15e23
    assert smoke_build.number(CH, "g3_count_B") == pytest.approx(174.6, abs=0.05)
