"""Byte-level BPE on the lab corpus (scaling_lab.lab.tokens): round trip, determinism, measured
bytes per token, the conversion's arithmetic, bad input, and a cache that never overwrites."""

import json
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaling_lab.lab import bpe, bpe_cache
from scaling_lab.lab import tokens as T
from scaling_lab.lab.corpus import Corpus, _fingerprint, load_corpus

pytest.importorskip("tokenizers")

# the stdlib corpus these numbers were measured on (Python 3.11.7); other Pythons ship another
# standard library, hence other bytes: the pinned values are checked only on this one
STDLIB_SHA256 = "26393eb4f12f897eef845287144604939a0d10a95bd50ffa6388fd4e33934572"
SMALL_TRAIN, SMALL_VAL = 500_000, 200_000


def _small_stdlib() -> Corpus:
    """The first 500 kB of the stdlib training split and 200 kB of its validation split."""
    c = load_corpus("stdlib")
    tr, va = c.train[:SMALL_TRAIN].clone(), c.val[:SMALL_VAL].clone()
    fp = _fingerprint(tr.numpy().tobytes(), va.numpy().tobytes(), source="stdlib-small")
    return Corpus("stdlib-small", tr, va, fp)


@pytest.fixture(scope="module")
def small():
    return _small_stdlib()


@pytest.fixture(scope="module")
def tok512(small):
    return T.train_bpe(small, 512, cache_dir=False)


def _on_measured_stdlib():
    if load_corpus("stdlib").fingerprint["sha256"] != STDLIB_SHA256:
        pytest.skip("this Python's standard library is not the one the values were pinned on "
                    "(Python 3.11.7)")


# ----------------------------------------------------------------------------- byte symbols
def test_byte_symbols_are_the_tokenizers_byte_level_alphabet():
    from tokenizers import pre_tokenizers

    assert len(set(bpe._BYTE_SYMBOL)) == 256
    assert set(bpe._BYTE_SYMBOL) == set(pre_tokenizers.ByteLevel.alphabet())
    # the pre-tokenizer's own mapping of every byte that valid UTF-8 can contain
    pt = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    cps = list(range(0x800)) + list(range(0x800, 0xD800, 61)) + list(range(0xE000, 0x110000, 997))
    seen = set()
    for cp in cps:
        b = chr(cp).encode()
        seen.update(b)
        got = "".join(s for s, _ in pt.pre_tokenize_str(chr(cp)))
        assert got == "".join(bpe._BYTE_SYMBOL[x] for x in b), hex(cp)
    assert len(seen) >= 240  # all but the bytes UTF-8 never uses (C0, C1, F5-FF)


# ----------------------------------------------------------------------------- round trip
@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_round_trip(tok512, data):
    ids = tok512.encode(data)
    assert tok512.decode(ids) == data
    assert all(0 <= i < 512 for i in ids)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=40).map(str.encode), st.binary(max_size=8),
                          st.sampled_from([b"    def ", b"self.", b"\n", b"\r\n", b"\xff"])),
                max_size=20).map(b"".join))
def test_text_and_broken_utf8_round_trip(tok512, data):
    assert tok512.decode(tok512.encode(data)) == data


def test_cutting_at_safe_newlines_changes_no_id(tok512, small):
    val = small.val.numpy().tobytes()
    ids = tok512.encode(val)
    assert tok512.decode(ids) == val
    whole = tok512.tokenizer.encode(val.decode("utf-8"), add_special_tokens=False).ids
    assert ids == whole
    assert len(bpe._pieces(val)) > 100  # the text really was cut


def test_bytes_that_are_not_utf8_become_single_byte_tokens(tok512):
    toks = [tok512.token_bytes(i) for i in tok512.encode(b"ab\xff\xfe cd")]
    i = toks.index(b"\xff")
    assert toks[i + 1] == b"\xfe" and b"".join(toks[:i]) == b"ab"
    assert b"".join(toks[i + 2:]) == b" cd"


# ----------------------------------------------------------------------------- determinism
def test_same_corpus_and_size_give_identical_merges_twice(small):
    a = T.train_bpe(small, 512, cache_dir=False)
    b = T.train_bpe(small, 512, cache_dir=False)
    assert a is not b
    assert a.merges() == b.merges() and len(a.merges()) == 512 - 256
    assert a.tokenizer.to_str() == b.tokenizer.to_str()
    val = small.val.numpy().tobytes()
    assert a.encode(val) == b.encode(val)
    assert T.bytes_per_token(small, 512, cache_dir=False) == \
        T.bytes_per_token(small, 512, cache_dir=False)


def test_same_merges_in_a_fresh_subprocess(tok512, small, env_pythonpath):
    code = (
        "import json, sys\n"
        f"sys.path.insert(0, {os.path.dirname(__file__)!r})\n"
        "from test_tokens import _small_stdlib\n"
        "from scaling_lab.lab import tokens as T\n"
        "c = _small_stdlib()\n"
        "t = T.train_bpe(c, 512, cache_dir=False)\n"
        "print(json.dumps({'merges': t.merges_sha256(), 'val_tokens': T._count(t, c, 'val'),"
        " 'bpt': T.bytes_per_token(c, 512, cache_dir=False)}))\n"
    )
    env = dict(env_pythonpath, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["merges"] == tok512.merges_sha256()
    assert got["val_tokens"] == T._count(tok512, small, "val")
    assert got["bpt"] == T.bytes_per_token(small, 512, cache_dir=False)


# ----------------------------------------------------------------------------- measured values
# measured once on the 500 kB / 200 kB slice of the stdlib corpus (tolerance 0: any change in
# the corpus, the tokenizer library or the training recipe shows here)
SMALL_VAL_TOKENS = {300: 135_455, 512: 95_400, 1024: 77_070}


def test_bytes_per_token_on_stdlib_slice_pinned_and_increasing(small):
    _on_measured_stdlib()
    counts = {v: T.token_count(small, v, "val", cache_dir=False) for v in SMALL_VAL_TOKENS}
    assert counts == SMALL_VAL_TOKENS
    bpt = [SMALL_VAL / counts[v] for v in sorted(counts)]
    assert 1 < bpt[0] < bpt[1] < bpt[2]


def test_validation_is_held_out_text(tok512, small):
    # the tokenizer compresses the text it was trained on better than held-out text
    train_bpt = T.bytes_per_token(small, 512, "train", cache_dir=False)
    val_bpt = T.bytes_per_token(small, 512, "val", cache_dir=False)
    assert train_bpt > val_bpt > 1


# the whole stdlib corpus at the book's vocabulary sizes (about a minute of training in all)
FULL_VAL_TOKENS = {1024: 702_107, 4096: 552_013, 16384: 485_450}
FULL_VAL_BYTES = 1_833_668


@pytest.mark.slow
def test_bytes_per_token_table_on_full_stdlib_pinned(tmp_path):
    _on_measured_stdlib()
    df = T.bytes_per_token_table("stdlib", T.VOCAB_SIZES, d_model=64, cache_dir=tmp_path / "c")
    assert list(df["vocab_size"]) == [256, 1024, 4096, 16384]
    assert dict(zip(df["vocab_size"][1:], df["val_tokens"][1:])) == FULL_VAL_TOKENS
    assert set(df["val_bytes"]) == {FULL_VAL_BYTES}
    assert list(df["bytes_per_token"]) == [1.0] + [FULL_VAL_BYTES / FULL_VAL_TOKENS[v]
                                                   for v in T.VOCAB_SIZES]
    assert list(df["bytes_per_token"].round(4)) == [1.0, 2.6117, 3.3218, 3.7773]


# ----------------------------------------------------------------------------- table, params
def test_table_rows_and_embedding_cost(small, tmp_path):
    d = tmp_path / "cache"
    df = T.bytes_per_token_table(small, (300, 512), d_model=64, cache_dir=d)
    assert list(df["vocab_size"]) == [256, 300, 512]
    assert list(df["val_tokens"]) == [SMALL_VAL, T.token_count(small, 300, cache_dir=d),
                                      T.token_count(small, 512, cache_dir=d)]
    assert df["bytes_per_token"].iloc[0] == 1.0
    assert list(df["embedding_params"]) == [256 * 64, 300 * 64, 512 * 64]
    assert list(df["extra_embedding_params"]) == [0, 44 * 64, 256 * 64]
    untied = T.bytes_per_token_table(small, (512,), d_model=64, tied=False, include_bytes=False,
                                     cache_dir=d)
    assert list(untied["embedding_params"]) == [2 * 512 * 64]
    assert list(untied["extra_embedding_params"]) == [2 * 256 * 64]
    assert "embedding_params" not in T.bytes_per_token_table(small, (512,), cache_dir=d)


@pytest.mark.parametrize("tied", [True, False])
def test_embedding_params_agree_with_the_lab_model_count(tied):
    from scaling_lab.flops import param_counts
    from scaling_lab.lab.train import RunSpec

    spec = RunSpec(n_layer=2, d_model=64, n_head=4, tokens=4096, tied_embeddings=tied)
    byte_shape = spec.shape()
    bpe_shape = RunSpec(n_layer=2, d_model=64, n_head=4, tokens=4096, vocab_size=4096,
                        tied_embeddings=tied).shape()
    extra = param_counts(bpe_shape).total - param_counts(byte_shape).total
    assert extra == T.embedding_params(4096, 64, tied) - T.embedding_params(256, 64, tied)
    assert param_counts(bpe_shape).non_embedding == param_counts(byte_shape).non_embedding


def test_the_lab_ties_its_head_by_default():
    from scaling_lab.lab.model import GPT
    from scaling_lab.lab.train import RunSpec

    spec = RunSpec(n_layer=1, d_model=16, n_head=2, tokens=4096)
    assert spec.tied_embeddings is True and GPT(spec.shape()).head is None


# ----------------------------------------------------------------------------- conversion
def test_tokens_per_parameter_arithmetic():
    import numpy as np

    assert T.tokens_per_parameter(100.0, 4.0) == 25.0
    assert T.tokens_per_parameter(106, 2.5) == pytest.approx(42.4, rel=0, abs=1e-12)
    lo_hi = T.tokens_per_parameter(np.array([97.0, 116.0]), 3.2)
    assert list(lo_hi) == [97.0 / 3.2, 116.0 / 3.2]
    per_size = T.tokens_per_parameter(100.0, np.array([1.0, 2.0, 4.0]))
    assert list(per_size) == [100.0, 50.0, 25.0]
    # 1 byte per token is the byte-level lab itself: nothing changes
    assert T.tokens_per_parameter(106.0, 1.0) == 106.0


@pytest.mark.parametrize("bpp, bpt, name", [
    (0, 3.0, "bytes_per_parameter"), (-1, 3.0, "bytes_per_parameter"),
    (float("nan"), 3.0, "bytes_per_parameter"), (100.0, 0, "bytes_per_token"),
    (100.0, float("inf"), "bytes_per_token"), (100.0, [], "bytes_per_token"),
])
def test_tokens_per_parameter_bad_input(bpp, bpt, name):
    with pytest.raises(ValueError, match=f"{name} must be positive and finite"):
        T.tokens_per_parameter(bpp, bpt)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("v", [256, 100, 0, -5])
def test_vocab_size_too_small(small, v):
    with pytest.raises(ValueError, match=r"vocab_size=.*vocab_size >= 257.*vocab_size=1024"):
        T.train_bpe(small, v, cache_dir=False)
    with pytest.raises(ValueError, match="vocab_size >= 257"):
        T.bytes_per_token(small, v, cache_dir=False)
    with pytest.raises(ValueError, match="vocab_size >= 257"):
        T.bytes_per_token_table(small, (512, v), cache_dir=False)


@pytest.mark.parametrize("v", [1024.0, "1024", True, None])
def test_vocab_size_not_an_integer(small, v):
    with pytest.raises(TypeError, match="vocab_size must be an integer"):
        T.train_bpe(small, v, cache_dir=False)


def test_other_bad_arguments(small, tok512):
    with pytest.raises(ValueError, match="split must be 'val'.*or 'train'"):
        T.bytes_per_token(small, 512, "test", cache_dir=False)
    with pytest.raises(ValueError, match="train_bytes must be a positive integer"):
        T.train_bpe(small, 512, train_bytes=0, cache_dir=False)
    with pytest.raises(ValueError, match="min_frequency must be an integer >= 0"):
        T.train_bpe(small, 512, min_frequency=-1, cache_dir=False)
    with pytest.raises(TypeError, match="corpus must be a Corpus"):
        T.train_bpe(3.5, 512, cache_dir=False)
    with pytest.raises(ValueError, match="vocab_sizes is empty"):
        T.bytes_per_token_table(small, (), cache_dir=False)
    with pytest.raises(ValueError, match="d_model must be a positive integer"):
        T.embedding_params(512, 0)
    with pytest.raises(TypeError, match=r"encode takes bytes.*text.encode\('utf-8'\)"):
        tok512.encode("text")
    with pytest.raises(ValueError, match=r"token id 512 is not in this vocabulary \(0..511\)"):
        tok512.decode([1, 512])


def test_too_little_text_for_the_vocabulary_is_named(small):
    with pytest.raises(ValueError, match=r"too small for vocab_size=4096.*smaller vocab_size or "
                                         r"more train_bytes"):
        T.train_bpe(small, 4096, train_bytes=2_000, cache_dir=False)


# ----------------------------------------------------------------------------- the cache
def _files(d):
    return sorted(p.name for p in d.iterdir())


def test_cache_is_created_reused_and_keyed(small, tmp_path):
    d = tmp_path / "new" / "cache"
    a = T.train_bpe(small, 300, cache_dir=d)
    path = T.cache_path(small, 300, cache_dir=d)
    assert _files(d) == sorted([bpe_cache._MARKER, path.name])
    before = path.read_bytes()
    T._MEMO.clear()  # a later session: read from disk, not trained again
    b = T.train_bpe(small, 300, cache_dir=d)
    assert b is not a and b.merges() == a.merges() and b.meta == a.meta
    assert path.read_bytes() == before
    assert T.train_bpe(small, 300, cache_dir=d) is b  # and memoised in the process
    assert T.cache_path(small, 301, cache_dir=d) != path
    assert T.cache_path(small, 300, train_bytes=1000, cache_dir=d) != path


def test_cache_refuses_a_foreign_file_and_leaves_it_alone(small, tmp_path):
    d = tmp_path / "cache"
    T.train_bpe(small, 300, cache_dir=d)  # the module creates its directory
    path = T.cache_path(small, 320, cache_dir=d)
    foreign = b'{"my": "notes, not a tokenizer"}\n'
    path.write_bytes(foreign)
    names = _files(d)
    with pytest.raises(ValueError, match="refusing to use or overwrite.*move the file away"):
        T.train_bpe(small, 320, cache_dir=d)
    assert path.read_bytes() == foreign
    assert _files(d) == names  # no temporary file left behind either
    # one of our records, but for another tokenizer, is refused just the same
    other = T.cache_path(small, 300, cache_dir=d).read_bytes()
    path.write_bytes(other)
    with pytest.raises(ValueError, match="refusing to use or overwrite"):
        T.train_bpe(small, 320, cache_dir=d)
    assert path.read_bytes() == other


def test_cache_refuses_a_directory_it_did_not_create(small, tmp_path):
    d = tmp_path / "mine"
    d.mkdir()
    (d / "notes.txt").write_bytes(b"keep me")
    with pytest.raises(ValueError, match="was not created by scaling_lab.lab.tokens.*does not "
                                         "exist yet"):
        T.train_bpe(small, 300, cache_dir=d)
    assert _files(d) == ["notes.txt"] and (d / "notes.txt").read_bytes() == b"keep me"
    f = tmp_path / "a-file"
    f.write_bytes(b"x")
    with pytest.raises(ValueError, match="is not a directory"):
        T.train_bpe(small, 300, cache_dir=f)
    assert f.read_bytes() == b"x"


def test_default_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SCALING_LAB_TOKENIZER_CACHE", str(tmp_path / "x"))
    assert T.default_cache_dir() == tmp_path / "x"
    monkeypatch.delenv("SCALING_LAB_TOKENIZER_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert T.default_cache_dir() == tmp_path / "xdg" / "scaling-lab" / "tokenizers"
