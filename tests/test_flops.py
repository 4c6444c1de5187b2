"""Parameter and FLOP accounting: exact counts, the three FLOP conventions, bad input."""

import pytest
from hypothesis import given, settings, strategies as st

from scaling_lab import flops as F
from scaling_lab.flops import GPTShape, param_counts


def test_gpt2_small_exact_counts():
    with_bias = param_counts(F.gpt2_small_shape())
    assert with_bias.total == 124_439_808
    assert with_bias.embedding == 50257 * 768 + 1024 * 768 == 39_383_808
    assert with_bias.non_embedding == 85_056_000
    assert param_counts(F.gpt2_small_shape(bias=False)).total == 124_337_664


def test_untied_head_and_no_positions():
    s = F.gpt2_small_shape()
    untied = param_counts(GPTShape(12, 768, 12, 50257, 1024, tied_embeddings=False))
    assert untied.total == 124_439_808 + 50257 * 768
    assert untied.non_embedding == param_counts(s).non_embedding
    rope = param_counts(GPTShape(12, 768, 12, 50257, 1024, learned_pos=False))
    assert rope.total == 124_439_808 - 1024 * 768


@settings(max_examples=200, deadline=None)
@given(L=st.integers(1, 64), h=st.integers(1, 16), dh=st.integers(1, 128),
       V=st.integers(2, 100_000), T=st.integers(1, 8192), bias=st.booleans())
def test_param_count_closed_form(L, h, dh, V, T, bias):
    d = h * dh
    c = param_counts(GPTShape(L, d, h, V, T, bias=bias))
    per_layer = 12 * d * d + (13 * d if bias else 2 * d)
    assert c.non_embedding == L * per_layer + (2 * d if bias else d)
    assert c.embedding == V * d + T * d
    assert c.total == c.embedding + c.non_embedding


def test_d_ff_override():
    a = param_counts(GPTShape(2, 64, 4, 100, 32, d_ff=128, bias=False))
    assert a.non_embedding == 2 * (4 * 64 * 64 + 2 * 64 * 128 + 2 * 64) + 64


def test_flops_gpt2_small():
    s = F.gpt2_small_shape()
    N = 85_056_000
    assert F.flops_per_token(s, "6N") == 6 * N
    assert F.forward_flops(s, "6N") == 2 * N
    assert F.flops_per_token(s, "kaplan") == 3 * (2 * N + 2 * 12 * 1024 * 768)
    # Hoffmann et al. Appendix F, written per sequence of 1024 tokens as in the paper
    seq, V, d, L, H, kv, ff = 1024, 50257, 768, 12, 12, 64, 3072
    emb = 2 * seq * V * d
    attn = (2 * 3 * seq * d * (kv * H) + 2 * seq * seq * (kv * H) + 3 * H * seq * seq
            + 2 * seq * seq * (kv * H) + 2 * seq * (kv * H) * d)
    dense = 2 * seq * (d * ff + d * ff)
    logits = 2 * seq * d * V
    forward = emb + L * (attn + dense) + logits
    assert F.forward_flops(s, "full") == pytest.approx(forward / seq, rel=1e-15)
    assert F.flops_per_token(s, "full") == pytest.approx(3 * forward / seq, rel=1e-15)
    assert F.training_flops(s, 1e9, "full") == pytest.approx(3e9 * forward / seq)


def test_full_count_matters_for_tiny_models_not_large_ones():
    tiny = GPTShape(2, 64, 4, 50257, 256)
    assert F.flops_per_token(tiny, "full") / F.flops_per_token(tiny, "6N") > 10
    chin = F.chinchilla_shape()
    ratio = F.flops_per_token(chin, "full") / (6 * param_counts(chin).total)
    assert 1.0 < ratio < 1.1


@settings(max_examples=100, deadline=None)
@given(L=st.integers(1, 48), h=st.integers(1, 16), dh=st.integers(8, 128),
       V=st.integers(256, 100_000), T=st.integers(16, 4096))
def test_flop_methods_ordered(L, h, dh, V, T):
    s = GPTShape(L, h * dh, h, V, T, bias=False)
    assert F.flops_per_token(s, "6N") < F.flops_per_token(s, "kaplan") < F.flops_per_token(s, "full")


def test_chinchilla_and_gopher_shapes():
    chin = F.chinchilla_shape()
    assert (chin.n_layer, chin.d_model, chin.n_head, chin.vocab_size, chin.n_ctx) == (80, 8192, 64, 32000, 2048)
    assert chin.d_head == 128 and not chin.learned_pos and not chin.bias
    c = param_counts(chin)
    # an honest count from the shape: ~64.7B, not the nominal 70B
    assert c.total == 80 * 12 * 8192 ** 2 + (2 * 80 + 1) * 8192 + 32000 * 8192 == 64_687_972_352
    assert param_counts(F.chinchilla_shape(tied_embeddings=False)).total == 64_687_972_352 + 32000 * 8192
    g = param_counts(F.gopher_shape())
    assert g.total == 80 * 12 * 16384 ** 2 + (2 * 80 + 1) * 16384 + 32000 * 16384


def test_gpu_hours_and_pearce():
    assert F.gpu_hours(1e21, 1e15, 0.5) == pytest.approx(1e21 / 5e14 / 3600)
    assert F.PF_DAY == 8.64e19
    assert F.gpu_hours(F.PF_DAY, 1e15, 1.0) == pytest.approx(24.0)
    assert F.total_params_pearce2024(1e9) == pytest.approx(1e9 + 47491 * 1e3)


@pytest.mark.parametrize("call, arg", [
    (lambda: GPTShape(0, 768, 12, 50257, 1024), "n_layer"),
    (lambda: GPTShape(12, 768.0, 12, 50257, 1024), "d_model"),
    (lambda: GPTShape(12, 768, 12, -1, 1024), "vocab_size"),
    (lambda: GPTShape(12, 768, 12, 50257, 1024, d_ff=0), "d_ff"),
    (lambda: GPTShape(12, 768, 7, 50257, 1024), "d_model"),
    (lambda: GPTShape(12, 768, 12, 50257, 1024, bias="yes"), "bias"),
    (lambda: F.flops_per_token(F.gpt2_small_shape(), "8N"), "method"),
    (lambda: F.param_counts((12, 768)), "shape"),
    (lambda: F.training_flops(F.gpt2_small_shape(), -1), "tokens"),
    (lambda: F.gpu_hours(1e21, 0, 0.5), "peak_flops_per_s"),
    (lambda: F.gpu_hours(1e21, 1e15, 1.5), "utilisation"),
    (lambda: F.total_params_pearce2024(0), "non_embedding"),
])
def test_bad_input_names_the_argument(call, arg):
    with pytest.raises(ValueError, match=rf"^{arg}"):
        call()


# ------------------------------------------------------------ SwiGLU, GQA, inference

def test_swiglu_and_gqa_blocks():
    assert F.swiglu_params(4096, 14336) == 3 * 4096 * 14336 == 176_160_768
    # multi-head attention is 4 d^2; 8 key/value heads of 128 shrink k and v to d x 1024
    assert F.attention_params(4096, 32) == 4 * 4096 ** 2
    assert F.attention_params(4096, 32, 8) == 2 * 4096 ** 2 + 2 * 4096 * 1024 == 41_943_040
    # a SwiGLU of width 8/3 d has the weights of a GELU MLP of width 4d
    assert F.swiglu_params(768, 2048) == 2 * 768 * 4 * 768


def test_llama3_8b_counts_to_its_published_size():
    s = F.llama3_8b_shape()
    assert (s.n_layer, s.d_model, s.n_head, s.n_kv_head, s.d_ff, s.vocab_size) == (
        32, 4096, 32, 8, 14336, 128000)
    assert s.d_head == 128 and not s.tied_embeddings
    per_layer = 2 * 4096 + 41_943_040 + 176_160_768
    c = F.llama_param_counts(s)
    assert c.non_embedding == 32 * per_layer + 4096 == 6_979_588_096
    assert c.embedding == 2 * 128000 * 4096
    assert c.total == 8_028_164_096
    # the released checkpoint's 128,256-row embedding: the familiar 8,030,261,248
    assert F.llama_param_counts(F.llama3_8b_shape(128256)).total == 8_030_261_248
    assert round(c.total / 1e9) == 8 == F.pub.LLAMA3_8B.params / 1e9


def test_llama_counts_closed_form_and_tying():
    s = F.LlamaShape(2, 64, 4, 2, 160, 100, 32)
    kv = 2 * 16
    layer = 64 + (2 * 64 * 64 + 2 * 64 * kv) + 64 + 3 * 64 * 160
    c = F.llama_param_counts(s)
    assert c.non_embedding == 2 * layer + 64
    assert c.embedding == 2 * 100 * 64
    tied = F.llama_param_counts(F.LlamaShape(2, 64, 4, 2, 160, 100, 32, tied_embeddings=True))
    assert tied.total == c.total - 100 * 64


def test_inference_flops_with_kv_cache():
    s = F.llama3_8b_shape()
    w = 32 * (41_943_040 + 176_160_768) + 128000 * 4096
    assert F.matmul_weights(s) == w == 7_503_609_856
    assert F.inference_flops_per_token(s, 0) == 2 * w
    assert F.inference_flops_per_token(s, 8192) == 2 * w + 4 * 32 * 8192 * 4096
    # the cache: keys and values of 8 heads of 128 per layer, 4x smaller than 32 heads
    assert F.kv_cache_values(s, 8192) == 2 * 32 * 8 * 128 * 8192 == 536_870_912
    mha = F.LlamaShape(32, 4096, 32, 32, 14336, 128000, 8192)
    assert F.kv_cache_values(mha, 8192) == 4 * F.kv_cache_values(s, 8192)
    assert F.inference_flops_per_token(mha, 8192) - F.inference_flops_per_token(s, 8192) == (
        2 * 32 * 2 * 4096 * (4096 - 1024))   # only the k, v projections differ
    # GPT layout: 2 x (blocks + head); averaged over a causal context this is Kaplan's
    g = F.gpt2_small_shape()
    assert F.matmul_weights(g) == 12 * 12 * 768 ** 2 + 50257 * 768
    T = 1024
    mean_attn = sum(F.inference_flops_per_token(g, t) - F.inference_flops_per_token(g, 0)
                    for t in range(T)) / T
    assert mean_attn == pytest.approx(2 * 12 * (T - 1) * 768)


@pytest.mark.parametrize("call, arg", [
    (lambda: F.LlamaShape(32, 4096, 32, 5, 14336, 128000, 8192), "n_kv_head"),
    (lambda: F.LlamaShape(32, 4096, 32, 0, 14336, 128000, 8192), "n_kv_head"),
    (lambda: F.LlamaShape(32, 4096, 30, 6, 14336, 128000, 8192), "d_model"),
    (lambda: F.llama_param_counts(F.gpt2_small_shape()), "shape"),
    (lambda: F.matmul_weights((32, 4096)), "shape"),
    (lambda: F.inference_flops_per_token(F.llama3_8b_shape(), -1), "context"),
    (lambda: F.kv_cache_values(F.llama3_8b_shape(), 1.5), "context"),
])
def test_modern_bad_input_names_the_argument(call, arg):
    with pytest.raises(ValueError, match=rf"^{arg}"):
        call()

def test_moe_param_counts():
    from scaling_lab.flops import GPTShape, moe_param_counts, param_counts
    s = GPTShape(n_layer=2, d_model=16, n_head=2, vocab_size=256, n_ctx=8)
    one = moe_param_counts(s, 1)
    dense = param_counts(s).non_embedding
    assert one.total == one.active == dense + 2 * 16          # a 1-expert router only
    m = moe_param_counts(s, 8, top_k=2)
    mlp = 2 * (16 * 64 + 64 + 64 * 16 + 16)
    assert m.total - m.active == 6 * mlp and m.ratio > 1
    import pytest
    with pytest.raises(ValueError):
        moe_param_counts(s, 2, top_k=3)
