"""Offline corpora for the training lab, byte-level (vocabulary 256).

Four sources, none of which downloads anything at run time:

* ``stdlib``   the Python standard library's own ``.py`` files (no ``site-packages``), read in
               sorted order and split into train/validation *by file*;
* ``markov``   a synthetic order-k Markov chain over a small byte alphabet whose entropy rate,
               the irreducible loss of any model with context >= k, is computed exactly
               (the source is in ``markov.py``);
* ``local``    a text file or a folder of text files named by the user;
* ``hf``       a Hugging Face ``datasets`` dataset, when that package is installed and the data is
               reachable (already cached, or a local path / file builder; ``hf.py``).

A corpus is described by a small JSON-able dict (``{"kind": "stdlib"}``, ``{"kind": "markov",
"order": 2, ...}``) so that it can be part of a run's spec and of its hash; ``load_corpus(desc)``
turns the description into a :class:`Corpus`, whose ``fingerprint`` (size, sha256, Python version)
is recorded with every result. Every evaluation in the lab scores the same validation windows,
:meth:`Corpus.val_batches`; :func:`corrupt_corpus` makes a controlled drop in data quality.
"""

from __future__ import annotations

import hashlib
import math
import os
import platform
import sysconfig
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from .hf import hf_text
from .markov import MARKOV_OFFSET, MarkovSource

VOCAB_SIZE = 256
VAL_SEED = 12345  # generator seed of the validation windows: the same for every run and model
VAL_BATCH = 32  # windows per validation batch
_SKIP_DIRS = {"site-packages", "dist-packages", "__pycache__"}


@dataclass
class Corpus:
    """Train and validation byte streams plus what is needed to trust a result made from them."""

    name: str
    train: torch.Tensor  # uint8, 1-D
    val: torch.Tensor  # uint8, 1-D
    fingerprint: dict
    vocab_size: int = VOCAB_SIZE
    entropy_floor: float | None = None  # nats per byte, when known exactly
    meta: dict = field(default_factory=dict)

    def batch(self, split: str, batch_size: int, n_ctx: int, generator: torch.Generator):
        """Random windows: ``(x, y)`` int64 tensors of shape ``(batch_size, n_ctx)``."""
        data = self.train if split == "train" else self.val
        if len(data) <= n_ctx + 1:
            raise ValueError(
                f"corpus {self.name!r} {split} split has {len(data)} bytes, fewer than n_ctx+2="
                f"{n_ctx + 2}; use a larger corpus or a shorter context"
            )
        ix = torch.randint(len(data) - n_ctx - 1, (batch_size,), generator=generator)
        offs = torch.arange(n_ctx + 1)
        win = data[ix[:, None] + offs[None, :]].long()
        return win[:, :-1].contiguous(), win[:, 1:].contiguous()

    def val_batches(self, n_ctx: int, batches: int):
        """The lab's fixed validation windows: ``batches`` batches of ``VAL_BATCH`` windows,
        drawn by a generator seeded ``VAL_SEED``. Every evaluation uses these, so two runs (or a
        run and an exact predictor) are scored on the same text."""
        g = torch.Generator().manual_seed(VAL_SEED)
        for _ in range(batches):
            yield self.batch("val", VAL_BATCH, n_ctx, g)


def _fingerprint(train: bytes | np.ndarray, val: bytes | np.ndarray, **extra) -> dict:
    h = hashlib.sha256()
    h.update(memoryview(train).cast("B"))
    h.update(b"\x00--val--\x00")
    h.update(memoryview(val).cast("B"))
    fp = {
        "train_bytes": len(train),
        "val_bytes": len(val),
        "sha256": h.hexdigest(),
        "python": platform.python_version(),
    }
    fp.update(extra)
    return fp


def _to_tensor(buf: bytes | np.ndarray) -> torch.Tensor:
    arr = np.frombuffer(bytes(buf), dtype=np.uint8) if isinstance(buf, bytes) else buf
    return torch.from_numpy(np.ascontiguousarray(arr, dtype=np.uint8).copy())


def _is_val(rel: str, val_every: int) -> bool:
    """A file goes to validation by a hash of its relative path: stable when files come and go."""
    return int(hashlib.sha1(rel.encode()).hexdigest(), 16) % val_every == 0


def _collect_files(root: Path, suffixes: tuple[str, ...] | None) -> list[Path]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        for f in sorted(filenames):
            if suffixes is None or f.endswith(suffixes):
                out.append(Path(dirpath) / f)
    return out


def _split_files(root: Path, files: list[Path], val_every: int) -> tuple[bytes, bytes, int, int]:
    train, val, n_tr, n_va = [], [], 0, 0
    for f in files:
        rel = f.relative_to(root).as_posix()
        data = f.read_bytes()
        if _is_val(rel, val_every):
            val.append(data)
            n_va += 1
        else:
            train.append(data)
            n_tr += 1
    return b"".join(train), b"".join(val), n_tr, n_va


def stdlib_corpus(val_every: int = 20) -> Corpus:
    """The standard library's ``.py`` sources, sorted, ~1 file in ``val_every`` held out."""
    root = Path(sysconfig.get_paths()["stdlib"])
    files = _collect_files(root, (".py",))
    train, val, n_tr, n_va = _split_files(root, files, val_every)
    fp = _fingerprint(train, val, source="stdlib", files_train=n_tr, files_val=n_va)
    return Corpus("stdlib", _to_tensor(train), _to_tensor(val), fp)


def local_corpus(path: str | os.PathLike, val_every: int = 10, val_fraction: float = 0.05) -> Corpus:
    """A text file (last ``val_fraction`` is validation) or a folder (split by file)."""
    p = Path(path).expanduser()
    if not p.exists():
        raise ValueError(
            f"corpus path {str(p)!r} does not exist; pass an existing text file or folder "
            f"(e.g. --corpus local:/path/to/text)"
        )
    if p.is_file():
        data = p.read_bytes()
        cut = int(len(data) * (1 - val_fraction))
        train, val = data[:cut], data[cut:]
        fp = _fingerprint(train, val, source=f"local:{p.name}", files_train=1, files_val=0)
    else:
        files = _collect_files(p, None)
        if not files:
            raise ValueError(f"corpus folder {str(p)!r} holds no files; point at a folder with text")
        train, val, n_tr, n_va = _split_files(p, files, val_every)
        if not val:  # tiny folder: fall back to a tail split
            cut = int(len(train) * (1 - val_fraction))
            train, val = train[:cut], train[cut:]
        fp = _fingerprint(train, val, source=f"local:{p.name}", files_train=n_tr, files_val=n_va)
    return Corpus(f"local:{p}", _to_tensor(train), _to_tensor(val), fp)


# ----------------------------------------------------------------------------- synthetic Markov
_MARKOV_CACHE: dict = {}


def markov_corpus(
    alphabet: int = 16,
    order: int = 2,
    concentration: float = 0.3,
    seed: int = 0,
    train_bytes: int = 2_000_000,
    val_bytes: int = 100_000,
) -> Corpus:
    """Bytes from a :class:`MarkovSource`; symbol ``s`` is the byte ``MARKOV_OFFSET + s``."""
    key = (alphabet, order, concentration, seed, train_bytes, val_bytes)
    if key in _MARKOV_CACHE:
        return _MARKOV_CACHE[key]
    if alphabet < 2 or alphabet > 190 or order < 1:
        raise ValueError("markov corpus needs 2 <= alphabet <= 190 and order >= 1")
    src = MarkovSource(alphabet, order, concentration, seed)
    tr = src.sample(train_bytes, seed=seed * 1000 + 1) + MARKOV_OFFSET
    va = src.sample(val_bytes, seed=seed * 1000 + 2) + MARKOV_OFFSET
    h = src.entropy_rate()
    fp = _fingerprint(tr.astype(np.uint8), va.astype(np.uint8), source="markov", entropy_rate=h)
    c = Corpus(
        f"markov(a={alphabet},k={order})",
        _to_tensor(tr.astype(np.uint8)),
        _to_tensor(va.astype(np.uint8)),
        fp,
        entropy_floor=h,
        meta={"bits_per_byte_floor": h / math.log(2)},
    )
    _MARKOV_CACHE[key] = c
    return c


# ----------------------------------------------------------------------------- Hugging Face
def hf_corpus(path: str, name: str | None = None, **options) -> Corpus:
    """A Hugging Face ``datasets`` dataset as bytes; ``options`` (``text_field``, splits,
    ``max_bytes``, ``data_files``) as :func:`scaling_lab.lab.hf.hf_text` takes them."""
    train, val = hf_text(path, name, **options)
    fp = _fingerprint(train, val, source=f"hf:{path}" + (f"/{name}" if name else ""))
    return Corpus(f"hf:{path}", _to_tensor(train), _to_tensor(val), fp)


# ----------------------------------------------------------------------------- a variation
def corrupt_corpus(corpus: Corpus, fraction: float, seed: int = 0) -> Corpus:
    """A copy of ``corpus`` whose training bytes are each replaced, with probability
    ``fraction``, by a byte drawn uniformly from all 256 values. Validation is left clean, so a
    model trained on the copy is measured on the distribution you care about."""
    if not (0.0 <= fraction < 1.0):
        raise ValueError(f"fraction must lie in [0, 1); got {fraction!r}")
    rng = np.random.default_rng(seed)
    tr = corpus.train.numpy().copy()
    hit = rng.random(tr.size) < fraction
    tr[hit] = rng.integers(0, 256, size=int(hit.sum()), dtype=np.uint8)
    fp = dict(corpus.fingerprint, corrupt_fraction=float(fraction), corrupt_seed=int(seed),
              corrupted_bytes=int(hit.sum()))
    return replace(corpus, name=f"{corpus.name}+corrupt({fraction:g})",
                   train=torch.from_numpy(tr), fingerprint=fp,
                   meta=dict(corpus.meta, corrupt_fraction=float(fraction)))


# ----------------------------------------------------------------------------- dispatch
_CACHE: dict = {}


def parse_corpus(text: str) -> dict:
    """Command-line form -> description: ``stdlib``, ``markov``, ``markov:order=3,alphabet=8``,
    ``local:PATH``, ``hf:PATH[:NAME]``. A markov corpus takes ``corrupt=0.2`` (and
    ``corrupt_seed=N``): that fraction of its training bytes replaced by random bytes."""
    if text == "stdlib":
        return {"kind": "stdlib"}
    if text.startswith("markov"):
        desc: dict = {"kind": "markov"}
        if ":" in text:
            for item in text.split(":", 1)[1].split(","):
                k, v = item.split("=")
                desc[k.strip()] = float(v) if k.strip() in ("concentration", "corrupt") else int(v)
        return desc
    if text.startswith("local:"):
        return {"kind": "local", "path": text[len("local:"):]}
    if text.startswith("hf:"):
        parts = text[3:].split(":")
        return {"kind": "hf", "path": parts[0], "name": parts[1] if len(parts) > 1 else None}
    if os.path.exists(text):
        return {"kind": "local", "path": text}
    raise ValueError(
        f"corpus {text!r} not understood; use stdlib, markov[:order=2,alphabet=16], local:PATH or "
        f"hf:NAME (and a local path must exist)"
    )


def load_corpus(desc: dict | str) -> Corpus:
    """Description dict (or command-line string) -> :class:`Corpus`, cached per process."""
    if isinstance(desc, str):
        desc = parse_corpus(desc)
    key = repr(sorted(desc.items()))
    if key in _CACHE:
        return _CACHE[key]
    kind = desc.get("kind")
    kw = {k: v for k, v in desc.items() if k not in ("kind", "corrupt", "corrupt_seed")}
    if desc.get("corrupt"):
        # a fraction of the training bytes replaced by uniform random bytes
        base = load_corpus({k: v for k, v in desc.items() if k not in ("corrupt", "corrupt_seed")})
        c = corrupt_corpus(base, float(desc["corrupt"]), int(desc.get("corrupt_seed", 0)))
        _CACHE[key] = c
        return c
    if kind == "stdlib":
        c = stdlib_corpus(**kw)
    elif kind == "markov":
        c = markov_corpus(**kw)
    elif kind == "local":
        c = local_corpus(**kw)
    elif kind == "hf":
        c = hf_corpus(**kw)
    else:
        raise ValueError(f"unknown corpus kind {kind!r}; known: stdlib, markov, local, hf")
    _CACHE[key] = c
    return c
