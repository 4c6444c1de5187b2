"""Offline corpora for the training lab, byte-level (vocabulary 256).

Four sources, none of which downloads anything at run time:

* ``stdlib``   the Python standard library's own ``.py`` files (no ``site-packages``), read in
               sorted order and split into train/validation *by file*;
* ``markov``   a synthetic order-k Markov chain over a small byte alphabet whose entropy rate,
               the irreducible loss of any model with context >= k, is computed exactly;
* ``local``    a text file or a folder of text files named by the user;
* ``hf``       a Hugging Face ``datasets`` dataset, when that package is installed and the data is
               reachable (already cached, or a local path / file builder).

A corpus is described by a small JSON-able dict (``{"kind": "stdlib"}``, ``{"kind": "markov",
"order": 2, ...}``) so that it can be part of a run's spec and of its hash; ``load_corpus(desc)``
turns the description into a :class:`Corpus`, whose ``fingerprint`` (size, sha256, Python version)
is recorded with every result.
"""

from __future__ import annotations

import hashlib
import math
import os
import platform
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

VOCAB_SIZE = 256
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
@dataclass(frozen=True)
class MarkovSource:
    """An order-``order`` Markov chain over ``alphabet`` byte values.

    Each context (the previous ``order`` symbols) has its own next-symbol distribution drawn from
    a symmetric Dirichlet(``concentration``): small concentration -> peaked, low-entropy rows that
    a tiny model can learn. ``entropy_rate`` is exact: sum over contexts of the stationary
    probability of the context times the entropy of its row.
    """

    alphabet: int = 16
    order: int = 2
    concentration: float = 0.3
    seed: int = 0

    def transition(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        n_ctx = self.alphabet**self.order
        P = rng.dirichlet(np.full(self.alphabet, self.concentration), size=n_ctx)
        # keep every transition possible (ergodic chain, finite loss for any model)
        P = 0.99 * P + 0.01 / self.alphabet
        return P / P.sum(axis=1, keepdims=True)

    def stationary(self, P: np.ndarray | None = None) -> np.ndarray:
        P = self.transition() if P is None else P
        k, a = self.order, self.alphabet
        n = a**k
        # context c = (s_1..s_k) as base-a number; next context drops s_1 and appends s
        nxt = (np.arange(n)[:, None] * a) % n + np.arange(a)[None, :]
        pi = np.full(n, 1.0 / n)
        for _ in range(10_000):
            new = np.zeros(n)
            np.add.at(new, nxt.ravel(), (pi[:, None] * P).ravel())
            if np.abs(new - pi).sum() < 1e-15:
                pi = new
                break
            pi = new
        return pi / pi.sum()

    def entropy_rate(self) -> float:
        """Exact entropy rate in nats per symbol (= per byte)."""
        P = self.transition()
        pi = self.stationary(P)
        row_h = -(P * np.log(P)).sum(axis=1)
        return float(pi @ row_h)

    def sample(self, n: int, seed: int, chains: int = 512) -> np.ndarray:
        """``n`` symbols: ``chains`` independent stationary chains run side by side (vectorised),
        laid end to end. Each chain starts from the stationary distribution, so every position is
        distributed exactly as the stationary process except the ``chains - 1`` joins."""
        P = self.transition()
        pi = self.stationary(P)
        rng = np.random.default_rng(seed)
        a, k = self.alphabet, self.order
        mod = a**k
        cdf = np.cumsum(P, axis=1)
        cdf[:, -1] = 1.0 + 1e-12
        chains = max(1, min(chains, n))
        length = -(-n // chains)
        ctx = rng.choice(mod, size=chains, p=pi)
        out = np.empty((chains, length), dtype=np.uint8)
        for t in range(length):
            u = rng.random(chains)
            s = (cdf[ctx] <= u[:, None]).sum(axis=1)
            out[:, t] = s
            ctx = (ctx * a) % mod + s
        return out.reshape(-1)[:n]


_MARKOV_CACHE: dict = {}


def markov_corpus(
    alphabet: int = 16,
    order: int = 2,
    concentration: float = 0.3,
    seed: int = 0,
    train_bytes: int = 2_000_000,
    val_bytes: int = 100_000,
) -> Corpus:
    """Bytes from a :class:`MarkovSource`; symbols are offset to printable ASCII ('A'...)."""
    key = (alphabet, order, concentration, seed, train_bytes, val_bytes)
    if key in _MARKOV_CACHE:
        return _MARKOV_CACHE[key]
    if alphabet < 2 or alphabet > 190 or order < 1:
        raise ValueError("markov corpus needs 2 <= alphabet <= 190 and order >= 1")
    src = MarkovSource(alphabet, order, concentration, seed)
    offset = 65
    tr = src.sample(train_bytes, seed=seed * 1000 + 1) + offset
    va = src.sample(val_bytes, seed=seed * 1000 + 2) + offset
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
def hf_corpus(
    path: str,
    name: str | None = None,
    text_field: str = "text",
    train_split: str = "train",
    val_split: str | None = "validation",
    max_bytes: int | None = 20_000_000,
    data_files=None,
) -> Corpus:
    """A Hugging Face ``datasets`` dataset as bytes (UTF-8 of ``text_field``, records joined by
    newlines). Works offline with cached datasets or local builders (``path="text"`` +
    ``data_files=...``). Raises ``ValueError`` with the fix when ``datasets`` is missing."""
    try:
        import datasets  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ValueError(
            "corpus kind 'hf' needs the Hugging Face 'datasets' package; install it with "
            "`pip install datasets` or use --corpus stdlib / local:PATH"
        ) from exc
    import datasets

    def _bytes(split):
        ds = datasets.load_dataset(path, name, split=split, data_files=data_files)
        if text_field not in ds.column_names:
            raise ValueError(
                f"dataset {path!r} split {split!r} has no column {text_field!r}; "
                f"pass text_field= one of {ds.column_names}"
            )
        out, total = [], 0
        for rec in ds:
            b = (rec[text_field] or "").encode("utf-8") + b"\n"
            out.append(b)
            total += len(b)
            if max_bytes is not None and total >= max_bytes:
                break
        return b"".join(out)

    train = _bytes(train_split)
    if val_split is not None:
        try:
            val = _bytes(val_split)
        except (ValueError, KeyError):
            val = b""
    else:
        val = b""
    if not val:
        cut = int(len(train) * 0.95)
        train, val = train[:cut], train[cut:]
    fp = _fingerprint(train, val, source=f"hf:{path}" + (f"/{name}" if name else ""))
    return Corpus(f"hf:{path}", _to_tensor(train), _to_tensor(val), fp)


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
        # a fraction of the training bytes replaced by uniform random bytes (variants.py)
        from .variants import corrupt_corpus

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
