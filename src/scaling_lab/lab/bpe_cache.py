"""The on-disk cache of trained tokenizers, which writes only where it may.

**The cache writes only where it may.** The cache directory is created by this module, with a
marker file in it; a directory that exists without the marker is refused (pass a new path: it
will be created). A tokenizer file is written to a temporary name of its own and then hard-linked
to its final name, which fails rather than replace anything; a file found at the final name is
used only if it is this module's record of the same tokenizer, and refused otherwise, its bytes
untouched.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from pathlib import Path

from .bpe import _tokenizers
from .corpus import Corpus

_FORMAT = "scaling-lab-bpe/1"
_MARKER = ".scaling-lab-tokenizer-cache"
_MARKER_TEXT = "scaling_lab.lab.tokens cache directory: created and written by scaling_lab only\n"


def default_cache_dir() -> Path:
    """``$SCALING_LAB_TOKENIZER_CACHE``, else ``$XDG_CACHE_HOME/scaling-lab/tokenizers``
    (``~/.cache/scaling-lab/tokenizers``). Created on first use, with a marker file."""
    env = os.environ.get("SCALING_LAB_TOKENIZER_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(base).expanduser() / "scaling-lab" / "tokenizers"


def _is_ours(directory: Path) -> bool:
    marker = directory / _MARKER
    try:
        return marker.is_file() and marker.read_text() == _MARKER_TEXT
    except (OSError, UnicodeDecodeError):
        return False


def _prepare_cache_dir(directory: Path) -> Path:
    """Create ``directory`` (and its marker) or check that this module created it."""
    directory = Path(directory).expanduser()
    if not directory.exists():
        try:
            directory.mkdir(parents=True)
        except FileExistsError:  # a concurrent process created it first
            pass
        else:
            fd = os.open(directory / _MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            with os.fdopen(fd, "w") as f:
                f.write(_MARKER_TEXT)
    if not directory.is_dir():
        raise ValueError(
            f"cache_dir {str(directory)!r} exists and is not a directory; pass a path that does "
            f"not exist yet (it will be created) or a cache directory this module created"
        )
    for _ in range(20):  # a concurrent creator writes the marker just after mkdir
        if _is_ours(directory) or any(p.name != _MARKER for p in directory.iterdir()):
            break
        time.sleep(0.1)
    if not _is_ours(directory):
        raise ValueError(
            f"cache_dir {str(directory)!r} exists but was not created by scaling_lab.lab.tokens "
            f"(no {_MARKER} marker in it), and the cache writes only into directories it "
            f"created; pass a path that does not exist yet, or leave cache_dir=None for "
            f"{str(default_cache_dir())!r}"
        )
    return directory


def _read_record(path: Path, key: str) -> dict:
    """The record at ``path`` if it is this module's record of ``key``; ValueError otherwise."""
    try:
        rec = json.loads(path.read_bytes())
    except (OSError, ValueError):
        rec = None
    if not (isinstance(rec, dict) and rec.get("format") == _FORMAT and rec.get("key") == key
            and isinstance(rec.get("tokenizer"), str) and isinstance(rec.get("meta"), dict)):
        raise ValueError(
            f"refusing to use or overwrite {str(path)!r}: it is not a tokenizer this module "
            f"wrote for this corpus and vocabulary size (unreadable, foreign or another key); "
            f"move the file away, or pass another cache_dir"
        )
    return rec


def _write_record(directory: Path, path: Path, rec: dict) -> None:
    """Write ``rec`` at ``path`` without ever replacing a file: temporary file + hard link."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=directory)
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a cache is as readable as its dir
        with os.fdopen(fd, "w") as f:
            json.dump(rec, f, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:  # written meanwhile (another process?): use it only if ours
            _read_record(path, rec["key"])
    finally:
        os.unlink(tmp)

def _key(corpus: Corpus, vocab_size: int, train_bytes: int, min_frequency: int) -> str:
    desc = {
        "format": _FORMAT,
        "corpus_sha256": corpus.fingerprint.get("sha256"),
        "corpus_train_bytes": int(len(corpus.train)),
        "train_bytes": train_bytes,
        "vocab_size": vocab_size,
        "min_frequency": min_frequency,
        "tokenizers": _tokenizers().__version__,
    }
    return hashlib.sha256(json.dumps(desc, sort_keys=True).encode()).hexdigest()


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:40] or "corpus"
