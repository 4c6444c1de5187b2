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


def test_chinchilla_ffn_is_stated_not_guessed(smoke_build):
    g = smoke_build.glue[CH]
    assert smoke_build.number(CH, "chin_dff_ratio") == 4           # Table 4 caption
    assert "chin_dff_needed" not in g                              # no what-if width
    assert smoke_build.number(CH, "chin_count_B") == 64.7          # the stated shape
    assert g["chin_vocab_shared"] == "94.15%"                      # Section 4.1


def test_swiglu_and_gqa_block(smoke_build):
    n = lambda k: smoke_build.number(CH, k)
    assert n("s6_attn_mha_M") == 16.8                  # 4 * 2048^2
    assert n("s6_attn_gqa_M") == 10.5                  # 2 * 2048^2 + 2 * 2048 * 512
    assert n("s6_gqa_saving") == pytest.approx(0.375, abs=1e-3)
    assert n("s6_swiglu_M") == 34.6                    # 3 * 2048 * 5632


def test_llama3_8b_counts_to_its_published_size(smoke_build):
    n = lambda k: smoke_build.number(CH, k)
    assert n("l3_total") == 8_028_164_096
    assert n("l3_released") == 8_030_261_248
    assert round(n("l3_total") / 1e9) == n("l3_nominal_B") == 8
    assert n("l3_kv_gb") == 1.07 and n("l3_kv_gb_mha") == 4.29 and n("l3_kv_ratio") == 4


def test_inference_flops_with_kv_cache(smoke_build):
    n = lambda k: smoke_build.number(CH, k)
    # empty cache: 2 x (blocks + head); GPT-2's head makes it 1.45 x 2N (non-embedding)
    assert n("inf_gpt2_empty_M") == 247
    assert n("inf_gpt2_vs_2N") == 1.45
    assert n("inf_mini_full_M") > n("inf_mini_empty_M")
    # grouped-query attention: same FLOPs for attention, a quarter of the cache
    assert n("inf_mini_kv_MB") == 134                  # 2 * 16 * 4 * 128 * 4096 * 2 bytes
    assert n("inf_mha_kv_MB") == pytest.approx(4 * n("inf_mini_kv_MB"), abs=2)
    assert n("inf_mha_full_M") - n("inf_mha_empty_M") == pytest.approx(
        n("inf_mini_full_M") - n("inf_mini_empty_M"), abs=1)
