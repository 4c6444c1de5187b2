import math

import numpy as np
import pytest
import torch

from scaling_lab.lab.corpus import (MarkovSource, corrupt_corpus, load_corpus, markov_corpus,
                                    parse_corpus)
from scaling_lab.lab.model import GPT
from scaling_lab.lab.variants import (MLPOnlyLM, conditional_entropy, corrupted_floor, train_lm,
                                      window_loss)
from scaling_lab.flops import GPTShape


def test_corrupt_corpus_fraction_and_clean_validation():
    c = markov_corpus(8, 1, 0.3, 0, train_bytes=50_000, val_bytes=5_000)
    cc = corrupt_corpus(c, 0.2, seed=1)
    changed = (cc.train != c.train).float().mean().item()
    # a replaced byte equals the original with probability 1/256
    assert changed == pytest.approx(0.2 * 255 / 256, abs=0.01)
    assert torch.equal(cc.val, c.val)
    assert cc.fingerprint["corrupt_fraction"] == 0.2 and cc.fingerprint["sha256"] == c.fingerprint["sha256"]
    assert torch.equal(corrupt_corpus(c, 0.0).train, c.train)
    with pytest.raises(ValueError, match="fraction"):
        corrupt_corpus(c, 1.0)


def test_corrupt_option_in_corpus_descriptions():
    desc = parse_corpus("markov:order=1,alphabet=8,train_bytes=20000,val_bytes=3000,corrupt=0.1")
    assert desc["corrupt"] == 0.1
    c = load_corpus(desc)
    base = load_corpus({k: v for k, v in desc.items() if k != "corrupt"})
    assert c.fingerprint["corrupt_fraction"] == 0.1
    assert torch.equal(c.val, base.val) and not torch.equal(c.train, base.train)


def test_corrupted_floor_limits():
    src = MarkovSource(8, 1, 0.3, 0)
    H = src.entropy_rate()
    assert corrupted_floor(src, 0.0) == pytest.approx(H, rel=1e-12)
    rises = [corrupted_floor(src, p) - H for p in (0.05, 0.2, 0.5)]
    assert rises == sorted(rises) and all(r > 0 for r in rises)
    # about -ln(1 - p): clean continuations keep a fraction (1 - p) of their probability
    assert rises[1] == pytest.approx(-math.log(0.8), abs=0.02)
    with pytest.raises(ValueError):
        corrupted_floor(MarkovSource(8, 2, 0.3, 0), 0.1)


def test_conditional_entropy_orders():
    src = MarkovSource(6, 2, 0.3, 2)
    h0, h1, h2 = (conditional_entropy(src, k) for k in (0, 1, 2))
    assert h0 >= h1 >= h2 == pytest.approx(src.entropy_rate())
    assert h0 <= math.log(6) + 1e-12
    # empirical check of H(X_t | X_{t-1}) on a long sample
    x = src.sample(400_000, seed=5).astype(int)
    joint = np.zeros((6, 6))
    np.add.at(joint, (x[:-1], x[1:]), 1)
    cond = joint / joint.sum(1, keepdims=True)
    emp = -(joint / joint.sum() * np.log(cond)).sum()
    assert emp == pytest.approx(h1, abs=0.01)


def test_window_loss_near_entropy_rate():
    src = MarkovSource(8, 1, 0.3, 0)
    c = markov_corpus(8, 1, 0.3, 0, train_bytes=20_000, val_bytes=50_000)
    assert window_loss(src, c, 16, 16) == pytest.approx(src.entropy_rate(), abs=0.05)


def test_mlp_only_sees_only_its_own_byte_and_trains():
    torch.manual_seed(0)
    m = MLPOnlyLM(1, 16, d_ff=40)
    x = torch.randint(0, 256, (2, 8))
    x2 = x.clone()
    x2[:, :4] = 0
    assert m(x)[1] is None                                  # (logits, loss), like GPT
    assert torch.allclose(m(x2)[0][:, 4:], m(x)[0][:, 4:])  # nothing flows between positions
    c = markov_corpus(8, 1, 0.3, 0, train_bytes=30_000, val_bytes=5_000)
    r = train_lm(m, c, 8 * 16 * 60, n_ctx=8, batch_size=16, lr=3e-3, eval_batches=2, evals=2)
    assert len(r.history) == 2 and r.params == m.n_params() and r.steps == 60
    assert r.val_loss < math.log(256)
    g = GPT(GPTShape(n_layer=1, d_model=16, n_head=2, vocab_size=256, n_ctx=8))
    assert train_lm(g, c, 8 * 16 * 10, n_ctx=8, batch_size=16, eval_batches=1).steps == 10
    with pytest.raises(ValueError):
        train_lm(m, c, 10, n_ctx=8, batch_size=16)


def test_mixed_source_cross_entropy_and_shifted_validation():
    from scaling_lab.lab.variants import (MixedMarkovSource, cross_entropy_rate,
                                          evaluate_lm, shifted_validation)
    a = MarkovSource(alphabet=8, order=1, concentration=0.3, seed=0)
    same = MixedMarkovSource(alphabet=8, order=1, concentration=0.3, seed=0, shift=0.0)
    assert np.allclose(same.transition(), a.transition())
    mix = MixedMarkovSource(alphabet=8, order=1, concentration=0.3, seed=0, other_seed=1,
                            shift=0.5)
    assert np.allclose(mix.transition().sum(axis=1), 1.0)
    assert cross_entropy_rate(a, a) == pytest.approx(a.entropy_rate())
    assert cross_entropy_rate(mix, a) > mix.entropy_rate() + 0.01      # KL rate > 0
    with pytest.raises(ValueError, match="shift"):
        MixedMarkovSource(shift=1.5)
    with pytest.raises(ValueError, match="same alphabet"):
        cross_entropy_rate(a, MarkovSource(alphabet=4, order=1))
    c = markov_corpus(8, 1, 0.3, 0, train_bytes=20_000, val_bytes=3_000)
    sv = shifted_validation(c, mix, val_bytes=4_000)
    assert torch.equal(sv.train, c.train) and len(sv.val) == 4_000
    assert sv.entropy_floor == pytest.approx(mix.entropy_rate())
    torch.manual_seed(0)
    gpt = GPT(GPTShape(n_layer=1, d_model=16, n_head=2, vocab_size=256, n_ctx=8))
    assert evaluate_lm(gpt, sv, 8, 2) > 0
