"""Byte-level BPE on bytes: the encoder behind :mod:`scaling_lab.lab.tokens`.

**Every byte string round-trips.** ``tokenizers`` reads Python ``str``, not bytes, so the encoder
works in two steps: the bytes are decoded as UTF-8 with ``surrogateescape``; each maximal run of
valid text is BPE-encoded, and each byte that is not valid UTF-8 becomes its own single-byte token
(the 256 byte symbols are always in the vocabulary). Decoding maps every token back to the bytes
it stands for, so ``decode(encode(b)) == b`` for every ``b``.

**The text is cut only where the pre-tokenizer cuts anyway.** Training and encoding feed
``tokenizers`` the text in pieces, cut after a newline that has a printable, non-space ASCII
character on both sides (``"x\\ny"``). The ByteLevel pre-tokenizer's GPT-2 pattern always puts a
boundary on both sides of such a newline, whatever else the text holds, so the pieces give exactly
the pre-tokens, the word counts and the ids of the text taken whole (a test checks the ids).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

import numpy as np

BYTE_VOCAB = 256

# A newline with a printable, non-space ASCII character on each side: the GPT-2 pattern of the
# ByteLevel pre-tokenizer cuts on both sides of it, so cutting the text there changes nothing.
_SAFE_CUT = re.compile(r"(?<=[!-~]\n)(?=[!-~])")
_INVALID_RUN = re.compile(r"([\udc80-\udcff]+)")


def _byte_symbols() -> list[str]:
    """The one-character symbol of each byte value, as byte-level BPE (GPT-2) spells it.

    Bytes that print as themselves in Latin-1 (``!``..``~``, ``¡``..``¬``, ``®``..``ÿ``) keep their
    character; the other 68 (controls, space, DEL, NBSP, soft hyphen) take the characters from
    U+0100 upwards, in byte order. A test checks the result against ``tokenizers``' own alphabet
    and its pre-tokenizer."""
    printable = set(range(0x21, 0x7F)) | set(range(0xA1, 0xAD)) | set(range(0xAE, 0x100))
    out, shifted = [], 0
    for b in range(BYTE_VOCAB):
        if b in printable:
            out.append(chr(b))
        else:
            out.append(chr(BYTE_VOCAB + shifted))
            shifted += 1
    return out


_BYTE_SYMBOL = _byte_symbols()
_SYMBOL_BYTE = {s: b for b, s in enumerate(_BYTE_SYMBOL)}


def _tokenizers():
    try:
        import tokenizers
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "scaling_lab.lab.tokens needs the Hugging Face 'tokenizers' package; install it with "
            "`pip install -r requirements.txt` (or `pip install tokenizers`)"
        ) from exc
    return tokenizers


# ----------------------------------------------------------------------------- text pieces
def _pieces(data: bytes) -> list[tuple[bool, str]]:
    """``data`` as ``(is_text, piece)`` in order: runs of valid UTF-8 cut at safe newlines
    (``is_text``), and runs of bytes that are not valid UTF-8, as surrogate escapes."""
    out = []
    for i, part in enumerate(_INVALID_RUN.split(data.decode("utf-8", "surrogateescape"))):
        if not part:
            continue
        if i % 2:  # the captured separators: invalid bytes
            out.append((False, part))
        else:
            out.extend((True, p) for p in _SAFE_CUT.split(part) if p)
    return out


def _training_text(data: bytes):
    return [p for is_text, p in _pieces(data) if is_text]


# ----------------------------------------------------------------------------- the tokenizer
@dataclass
class BPETokenizer:
    """A trained byte-level BPE tokenizer: ``encode(bytes) -> ids``, ``decode(ids) -> bytes``.

    ``meta`` records what it was trained on (corpus name and sha256, training bytes used), how
    (vocabulary size, minimum pair frequency, ``tokenizers`` version) and how long training took
    when it was first trained (``train_seconds``; a cached tokenizer keeps that first time)."""

    tokenizer: object  # tokenizers.Tokenizer
    meta: dict
    _id_bytes: list = field(default_factory=list, repr=False)
    _counts: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        tok = self.tokenizer
        n = tok.get_vocab_size()
        self._id_bytes = [bytes(_SYMBOL_BYTE[c] for c in tok.id_to_token(i)) for i in range(n)]
        self._byte_id = [tok.token_to_id(s) for s in _BYTE_SYMBOL]

    @property
    def vocab_size(self) -> int:
        return len(self._id_bytes)

    @property
    def key(self) -> str:
        return self.meta["key"]

    def merges(self) -> list[tuple[bytes, bytes]]:
        """The merges in the order they were learned, as pairs of byte strings."""
        model = json.loads(self.tokenizer.to_str())["model"]
        pairs = (m.split(" ") if isinstance(m, str) else m for m in model["merges"])
        return [tuple(bytes(_SYMBOL_BYTE[c] for c in side) for side in pair) for pair in pairs]

    def merges_sha256(self) -> str:
        h = hashlib.sha256()
        for a, b in self.merges():
            h.update(len(a).to_bytes(4, "little") + a + len(b).to_bytes(4, "little") + b)
        return h.hexdigest()

    def token_bytes(self, token_id: int) -> bytes:
        return self._id_bytes[token_id]

    def encode(self, data: bytes) -> list[int]:
        """Token ids of ``data`` (any bytes)."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"encode takes bytes, got {type(data).__name__}; encode text first "
                f"(text.encode('utf-8'))"
            )
        pieces = _pieces(bytes(data))
        texts = [p for is_text, p in pieces if is_text]
        encoded = iter(self.tokenizer.encode_batch(texts, add_special_tokens=False))
        ids: list[int] = []
        for is_text, p in pieces:
            if is_text:
                ids.extend(next(encoded).ids)
            else:
                ids.extend(self._byte_id[ord(ch) - 0xDC00] for ch in p)
        return ids

    def decode(self, ids) -> bytes:
        """The bytes that ``ids`` stand for (the inverse of :meth:`encode`)."""
        n = len(self._id_bytes)
        out = []
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < n:
                raise ValueError(f"token id {i!r} is not in this vocabulary (0..{n - 1})")
            out.append(self._id_bytes[i])
        return b"".join(out)

    def count(self, data: bytes) -> int:
        """Number of tokens in ``data``."""
        return len(self.encode(data))


def _train(data: bytes, vocab_size: int, min_frequency: int):
    tk = _tokenizers()
    tok = tk.Tokenizer(tk.models.BPE())
    tok.pre_tokenizer = tk.pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    trainer = tk.trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        show_progress=False,
        initial_alphabet=tk.pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[],
    )
    tok.train_from_iterator(_training_text(data), trainer=trainer)
    return tok
