import math

import numpy as np
import pytest
import torch

from scaling_lab.flops import GPTShape, param_counts
from scaling_lab.lab.corpus import (MarkovSource, load_corpus, local_corpus, markov_corpus,
                                    parse_corpus)
from scaling_lab.lab.model import GPT


@pytest.mark.parametrize("kw", [
    dict(n_layer=1, d_model=16, n_head=2, vocab_size=256, n_ctx=32),
    dict(n_layer=3, d_model=48, n_head=3, vocab_size=256, n_ctx=128),
    dict(n_layer=2, d_model=32, n_head=4, vocab_size=100, n_ctx=64, tied_embeddings=False),
    dict(n_layer=2, d_model=32, n_head=2, vocab_size=256, n_ctx=16, bias=False),
    dict(n_layer=2, d_model=24, n_head=2, vocab_size=256, n_ctx=16, d_ff=40),
    dict(n_layer=1, d_model=8, n_head=1, vocab_size=50, n_ctx=8, learned_pos=False,
         tied_embeddings=False, bias=False),
])
def test_param_count_matches_flops_module(kw):
    shape = GPTShape(**kw)
    model = GPT(shape)
    pc = param_counts(shape)
    assert sum(p.numel() for p in model.parameters()) == pc.total
    emb = model.tok_emb.weight.numel()
    emb += model.pos_emb.weight.numel() if model.pos_emb is not None else 0
    emb += model.head.weight.numel() if model.head is not None else 0
    assert emb == pc.embedding


def test_model_forward_shapes_and_causality():
    torch.manual_seed(0)
    m = GPT(GPTShape(n_layer=2, d_model=16, n_head=2, vocab_size=256, n_ctx=16))
    x = torch.randint(0, 256, (2, 16))
    logits, loss = m(x)  # always the pair; no targets, no loss
    assert logits.shape == (2, 16, 256) and loss is None
    x2 = x.clone()
    x2[:, 10:] = 0  # changing the future must not change the past
    assert torch.allclose(m(x2)[0][:, :10], logits[:, :10], atol=1e-6)
    with pytest.raises(ValueError, match="n_ctx"):
        m(torch.zeros(1, 17, dtype=torch.long))


def test_stdlib_corpus_deterministic_split_by_file():
    c = load_corpus("stdlib")
    fp = c.fingerprint
    assert fp["files_val"] > 0 and fp["files_train"] > 10 * fp["files_val"]
    assert fp["train_bytes"] == len(c.train) and fp["val_bytes"] == len(c.val)
    assert len(fp["sha256"]) == 64 and fp["python"].count(".") == 2
    from scaling_lab.lab.corpus import stdlib_corpus

    again = stdlib_corpus()  # not the cache: a fresh read gives the same bytes
    assert again.fingerprint == fp


def test_markov_entropy_rate_exact():
    # order 1: the entropy rate has the textbook closed form with the left eigenvector
    src = MarkovSource(alphabet=5, order=1, concentration=0.5, seed=3)
    P = src.transition()
    w, v = np.linalg.eig(P.T)
    pi = np.real(v[:, np.argmin(np.abs(w - 1))])
    pi /= pi.sum()
    h = -(pi[:, None] * P * np.log(P)).sum()
    assert src.entropy_rate() == pytest.approx(h, rel=1e-10)
    # order 2: the empirical conditional entropy of a long sample converges to it
    src2 = MarkovSource(alphabet=4, order=2, concentration=0.5, seed=1)
    x = src2.sample(400_000, seed=5).astype(int)
    ctx = x[:-2] * 4 + x[1:-1]
    cnt = np.zeros((16, 4))
    np.add.at(cnt, (ctx, x[2:]), 1)
    p = cnt / cnt.sum(1, keepdims=True)
    emp = -(cnt * np.log(np.where(p > 0, p, 1))).sum() / cnt.sum()
    assert emp == pytest.approx(src2.entropy_rate(), abs=5e-3)


def test_markov_corpus_records_floor():
    c = markov_corpus(alphabet=8, order=1, train_bytes=10_000, val_bytes=1000, seed=2)
    assert c.entropy_floor == pytest.approx(c.fingerprint["entropy_rate"])
    assert 0 < c.entropy_floor < math.log(8)
    assert int(c.train.min()) >= 65 and int(c.train.max()) < 65 + 8


def test_local_corpus_file_and_folder(tmp_path):
    f = tmp_path / "a.txt"
    f.write_bytes(b"hello world\n" * 200)
    c = local_corpus(f)
    assert len(c.train) + len(c.val) == 2400 and len(c.val) > 0
    d = tmp_path / "dir"
    d.mkdir()
    for i in range(30):
        (d / f"f{i:02d}.txt").write_text(f"file {i} " * 20)
    c2 = load_corpus(f"local:{d}")
    assert len(c2.train) + len(c2.val) == sum(len(p.read_bytes()) for p in d.iterdir())
    assert c2.fingerprint["files_train"] + c2.fingerprint["files_val"] == 30


def test_missing_corpus_path_names_the_fix(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_corpus({"kind": "local", "path": str(tmp_path / "nope")})
    with pytest.raises(ValueError, match="not understood"):
        parse_corpus(str(tmp_path / "nope"))


def test_hf_loader_with_a_fake_datasets_module(monkeypatch):
    """The real code path of the `datasets` loader, with the package mocked (not installed here)."""
    import sys
    import types

    class FakeDS(list):
        column_names = ["text", "id"]

    calls = []

    def load_dataset(path, name=None, split=None, data_files=None):
        calls.append((path, name, split))
        if split == "validation":
            return FakeDS({"text": f"val line {i}", "id": i} for i in range(20))
        return FakeDS({"text": f"train line {i}", "id": i} for i in range(200))

    fake = types.ModuleType("datasets")
    fake.load_dataset = load_dataset
    monkeypatch.setitem(sys.modules, "datasets", fake)
    c = load_corpus({"kind": "hf", "path": "some/dataset", "name": "cfg"})
    assert bytes(c.train.numpy()).startswith(b"train line 0\ntrain line 1\n")
    assert bytes(c.val.numpy()).startswith(b"val line 0\n")
    assert ("some/dataset", "cfg", "train") in calls
    assert c.fingerprint["source"] == "hf:some/dataset/cfg"
    with pytest.raises(ValueError, match="text_field"):
        load_corpus({"kind": "hf", "path": "x", "text_field": "body"})


def test_hf_loader_real_package_on_local_text(tmp_path):
    pytest.importorskip("datasets")
    f = tmp_path / "t.txt"
    f.write_text("\n".join(f"line {i}" for i in range(500)))
    c = load_corpus({"kind": "hf", "path": "text", "data_files": str(f), "val_split": None})
    assert len(c.train) > 1000
