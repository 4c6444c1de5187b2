"""Tokens as well as bytes: byte-level BPE tokenizers trained offline on a lab corpus.

The lab's models read bytes (vocabulary 256), so every data count the lab reports (``D``, tokens
per parameter) is a count of *bytes*. Chinchilla's tokens are SentencePiece tokens of several bytes
each. This module gives the exchange rate for the lab's own corpus:

* :func:`train_bpe` trains a byte-level BPE tokenizer (Hugging Face ``tokenizers``: ByteLevel
  pre-tokenizer, no normaliser, all 256 byte symbols in the initial alphabet, no special tokens)
  on the corpus's **training** split, deterministically, and caches it on disk;
* :func:`bytes_per_token` measures the corpus's bytes per token on the **validation** split, text
  the tokenizer never saw;
* :func:`bytes_per_token_table` puts 2-3 vocabulary sizes side by side, with what each vocabulary
  costs in embedding parameters at a given ``d_model``;
* :func:`tokens_per_parameter` converts a bytes-per-parameter ratio into tokens per parameter, and
  says in its docstring what that conversion does and does not mean.

Nothing here downloads anything: the tokenizer is trained from the corpus's bytes on this machine.

**Determinism.** The trained merges depend only on the training bytes, the vocabulary size, the
minimum pair frequency and the ``tokenizers`` version; all four are in the cache key. Tests train
the same tokenizer twice in one process and once in a fresh subprocess and compare merges and
bytes per token exactly.

The encoder lives in :mod:`scaling_lab.lab.bpe`, the on-disk cache in
:mod:`scaling_lab.lab.bpe_cache`.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .bpe import BYTE_VOCAB, BPETokenizer, _tokenizers, _train
from .bpe_cache import (_FORMAT, _key, _prepare_cache_dir, _read_record, _slug, _write_record,
                        default_cache_dir)
from .corpus import Corpus, load_corpus

VOCAB_SIZES = (1024, 4096, 16384)
"""The vocabulary sizes the book tabulates. On the stdlib corpus (29.7 MB of training text) each
trains in 10-40 s on a busy 2-core machine (1024: 10-16 s, 4096: 18-21 s, 16384: 22-38 s)."""

MIN_FREQUENCY = 2
"""A pair seen fewer times than this in the training split is never merged."""

_SPLITS = ("train", "val")


# ----------------------------------------------------------------------------- argument checks
def _check_vocab_size(vocab_size) -> int:
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, (int, np.integer)):
        raise TypeError(
            f"vocab_size must be an integer, got {vocab_size!r}; pass e.g. vocab_size=1024"
        )
    if vocab_size <= BYTE_VOCAB:
        raise ValueError(
            f"vocab_size={vocab_size} leaves no room for merges: the 256 byte symbols come first, "
            f"so BPE needs vocab_size >= 257 (256 is the byte-level lab itself, 1 byte per "
            f"token); pass e.g. vocab_size=1024"
        )
    return int(vocab_size)


def _check_split(split) -> str:
    if split not in _SPLITS:
        raise ValueError(
            f"split must be 'val' (held-out text, the honest measure) or 'train' (the text the "
            f"tokenizer was trained on), got {split!r}"
        )
    return split


def _check_train_bytes(train_bytes, available: int) -> int:
    if train_bytes is None:
        return available
    if isinstance(train_bytes, bool) or not isinstance(train_bytes, (int, np.integer)) \
            or train_bytes <= 0:
        raise ValueError(
            f"train_bytes must be a positive integer (the first bytes of the training split to "
            f"train on) or None for all of it, got {train_bytes!r}"
        )
    return int(min(train_bytes, available))


def _as_corpus(corpus) -> Corpus:
    if isinstance(corpus, Corpus):
        return corpus
    if isinstance(corpus, (str, dict)):
        return load_corpus(corpus)
    raise TypeError(
        f"corpus must be a Corpus, a description dict or a command-line string such as "
        f"'stdlib', got {type(corpus).__name__}"
    )


def _split_bytes(corpus: Corpus, split: str) -> bytes:
    data = corpus.train if split == "train" else corpus.val
    return data.numpy().tobytes()


# ----------------------------------------------------------------------------- cache keys

def cache_path(corpus="stdlib", vocab_size: int = 1024, *, train_bytes: int | None = None,
               cache_dir=None, min_frequency: int = MIN_FREQUENCY) -> Path:
    """Where :func:`train_bpe` keeps this tokenizer (the file need not exist yet)."""
    c = _as_corpus(corpus)
    v = _check_vocab_size(vocab_size)
    n = _check_train_bytes(train_bytes, len(c.train))
    key = _key(c, v, n, min_frequency)
    directory = default_cache_dir() if cache_dir is None else Path(cache_dir).expanduser()
    return directory / f"bpe-{_slug(c.name)}-v{v}-{key[:16]}.json"


# ----------------------------------------------------------------------------- training
_MEMO: dict = {}


def train_bpe(corpus="stdlib", vocab_size: int = 1024, *, train_bytes: int | None = None,
              cache_dir=None, min_frequency: int = MIN_FREQUENCY) -> BPETokenizer:
    """A byte-level BPE tokenizer with ``vocab_size`` tokens, trained on ``corpus``'s training
    split (its first ``train_bytes`` bytes, or all of it).

    ``corpus`` is a :class:`~scaling_lab.lab.corpus.Corpus` or anything ``load_corpus`` takes
    (default ``"stdlib"``). ``cache_dir``: ``None`` for :func:`default_cache_dir`, a path (created
    if missing; an existing directory must be one this module created), or ``False`` to train
    afresh and keep nothing (not even in memory). Raises ``ValueError`` if the training text is
    too small to reach ``vocab_size`` (too few pairs seen ``min_frequency`` times)."""
    c = _as_corpus(corpus)
    v = _check_vocab_size(vocab_size)
    if isinstance(min_frequency, bool) or not isinstance(min_frequency, int) or min_frequency < 0:
        raise ValueError(f"min_frequency must be an integer >= 0, got {min_frequency!r}")
    n = _check_train_bytes(train_bytes, len(c.train))
    key = _key(c, v, n, min_frequency)
    path = None
    if cache_dir is not False:
        path = cache_path(c, v, train_bytes=n, cache_dir=cache_dir, min_frequency=min_frequency)
        memo = (key, str(path))
        if memo in _MEMO:
            return _MEMO[memo]
        directory = _prepare_cache_dir(path.parent)
        if path.exists() or path.is_symlink():
            rec = _read_record(path, key)
            tok = _tokenizers().Tokenizer.from_str(rec["tokenizer"])
            out = BPETokenizer(tok, rec["meta"])
            _MEMO[memo] = out
            return out

    data = _split_bytes(c, "train")[:n]
    t0 = time.perf_counter()
    tok = _train(data, v, min_frequency)
    seconds = time.perf_counter() - t0
    if tok.get_vocab_size() < v:
        raise ValueError(
            f"the training text ({n:,} bytes of {c.name!r}) is too small for vocab_size={v}: "
            f"training stopped at {tok.get_vocab_size()} tokens with no pair left that occurs "
            f"{min_frequency}+ times; pass a smaller vocab_size or more train_bytes"
        )
    meta = {
        "key": key,
        "corpus": c.name,
        "corpus_sha256": c.fingerprint.get("sha256"),
        "train_bytes": n,
        "vocab_size": v,
        "min_frequency": min_frequency,
        "tokenizers": _tokenizers().__version__,
        "train_seconds": round(seconds, 2),
    }
    out = BPETokenizer(tok, meta)
    if path is not None:
        _write_record(directory, path, {"format": _FORMAT, "key": key, "meta": meta,
                                        "tokenizer": tok.to_str()})
        _MEMO[(key, str(path))] = out
    return out


# ----------------------------------------------------------------------------- measurements
def _count(tok: BPETokenizer, c: Corpus, split: str) -> int:
    memo = (c.fingerprint.get("sha256"), len(c.train), len(c.val), split)
    if memo not in tok._counts:
        tok._counts[memo] = tok.count(_split_bytes(c, split))
    return tok._counts[memo]


def token_count(corpus="stdlib", vocab_size: int = 1024, split: str = "val", **kw) -> int:
    """Tokens in ``corpus``'s ``split`` (all of it) under :func:`train_bpe`
    ``(corpus, vocab_size, **kw)``."""
    c = _as_corpus(corpus)
    s = _check_split(split)
    return _count(train_bpe(c, vocab_size, **kw), c, s)


def bytes_per_token(corpus="stdlib", vocab_size: int = 1024, split: str = "val", **kw) -> float:
    """Bytes of ``corpus``'s ``split`` divided by its number of tokens under a BPE tokenizer with
    ``vocab_size`` tokens trained on the training split (keywords go to :func:`train_bpe`).

    The default ``split="val"`` measures on held-out text the tokenizer never saw; on ``"train"``
    the figure is optimistic (the merges were chosen for that very text)."""
    c = _as_corpus(corpus)
    s = _check_split(split)
    n_bytes = len(c.train if s == "train" else c.val)
    return n_bytes / token_count(c, vocab_size, s, **kw)


def embedding_params(vocab_size: int, d_model: int, tied: bool = True) -> int:
    """Parameters of the token embedding at ``vocab_size`` x ``d_model``, plus as many again for
    the output head when it is not tied to the embedding. The lab's GPT ties them by default
    (``RunSpec.tied_embeddings=True``: the head reuses ``tok_emb.weight``), so ``tied=True``
    matches the lab; position embeddings are not counted (they do not depend on the
    vocabulary)."""
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, (int, np.integer)) \
            or vocab_size <= 0:
        raise ValueError(f"vocab_size must be a positive integer, got {vocab_size!r}")
    if isinstance(d_model, bool) or not isinstance(d_model, (int, np.integer)) or d_model <= 0:
        raise ValueError(f"d_model must be a positive integer (the model width), got {d_model!r}")
    return int(vocab_size) * int(d_model) * (1 if tied else 2)


def bytes_per_token_table(corpus="stdlib", vocab_sizes=VOCAB_SIZES, d_model: int | None = None,
                          *, tied: bool = True, include_bytes: bool = True, **kw):
    """One row per vocabulary size: bytes per token on the validation split, and what the
    vocabulary costs in embedding parameters at width ``d_model``.

    Columns: ``vocab_size``; ``val_bytes``, ``val_tokens`` and ``bytes_per_token`` (validation
    split, held out from tokenizer training); ``train_seconds`` (time to train the tokenizer when
    it was first trained; the cache keeps it); and, with ``d_model``, ``embedding_params``
    (``vocab_size * d_model``, twice that if not ``tied``; the lab's GPT is tied) and
    ``extra_embedding_params`` (over the byte-level vocabulary of 256). The extra parameters are
    Pearce & Song's point (``pearce2024``): a BPE model with the same non-embedding size is a
    different, larger model. ``include_bytes`` adds the byte-level lab itself as a first row
    (256 tokens, exactly 1 byte per token, no training). Keywords go to :func:`train_bpe`."""
    import pandas as pd

    c = _as_corpus(corpus)
    sizes = [_check_vocab_size(v) for v in vocab_sizes]
    if not sizes:
        raise ValueError("vocab_sizes is empty; pass e.g. vocab_sizes=(1024, 4096, 16384)")
    rows = []
    if include_bytes:
        rows.append({"vocab_size": BYTE_VOCAB, "val_bytes": len(c.val), "val_tokens": len(c.val),
                     "bytes_per_token": 1.0, "train_seconds": 0.0})
    for v in sizes:
        tok = train_bpe(c, v, **kw)
        n_tok = _count(tok, c, "val")
        rows.append({"vocab_size": v, "val_bytes": len(c.val), "val_tokens": n_tok,
                     "bytes_per_token": len(c.val) / n_tok,
                     "train_seconds": tok.meta["train_seconds"]})
    df = pd.DataFrame(rows)
    if d_model is not None:
        df["embedding_params"] = [embedding_params(v, d_model, tied) for v in df["vocab_size"]]
        df["extra_embedding_params"] = df["embedding_params"] - embedding_params(
            BYTE_VOCAB, d_model, tied)
    return df


def tokens_per_parameter(bytes_per_parameter, bytes_per_token):
    """Tokens per parameter = ``bytes_per_parameter / bytes_per_token``.

    **What it does.** It re-expresses the same data in another unit. A byte-level run that read
    ``D`` bytes of text per parameter read the same text that a tokenizer with
    ``bytes_per_token`` bytes per token cuts into ``D / bytes_per_token`` tokens per parameter.
    So the lab's compute-optimal ratio, measured in bytes per parameter, can be set beside
    Chinchilla's tokens per parameter with the amount of *text* in the same unit.

    **What it does not do.** It does not predict the optimum that a model trained on those BPE
    tokens would have found. That model is a different model: its embedding table costs
    ``vocab_size * d_model`` parameters instead of ``256 * d_model`` (Pearce & Song 2024,
    ``pearce2024``), each of its steps predicts a whole token of several bytes, and its FLOPs per
    byte of text differ. Its IsoFLOP curves, and so its optimal ratio, have to be measured, not
    converted. The ``N`` in the converted ratio is still the byte-level model's parameter count.

    Works on numbers and on arrays (e.g. an interval's two ends); both arguments must be positive
    and finite."""
    bpp = np.asarray(bytes_per_parameter, dtype=float)
    bpt = np.asarray(bytes_per_token, dtype=float)
    for name, arr, fix in (("bytes_per_parameter", bpp, "a data-to-parameter ratio in bytes"),
                           ("bytes_per_token", bpt, "e.g. bytes_per_token(corpus, 4096)")):
        if arr.size == 0 or not np.all(np.isfinite(arr)) or not np.all(arr > 0):
            raise ValueError(f"{name} must be positive and finite ({fix}), got {arr.tolist()!r}")
    out = bpp / bpt
    return float(out) if out.ndim == 0 else out


__all__ = [
    "VOCAB_SIZES", "MIN_FREQUENCY", "BPETokenizer", "train_bpe", "cache_path",
    "default_cache_dir", "token_count", "bytes_per_token", "bytes_per_token_table",
    "embedding_params", "tokens_per_parameter",
]
