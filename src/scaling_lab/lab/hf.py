"""Text from a Hugging Face ``datasets`` dataset, for ``corpus.hf_corpus`` (``--corpus hf:NAME``).

``datasets`` is optional: it is imported only when such a corpus is asked for.
"""

from __future__ import annotations


def hf_text(
    path: str,
    name: str | None = None,
    text_field: str = "text",
    train_split: str = "train",
    val_split: str | None = "validation",
    max_bytes: int | None = 20_000_000,
    data_files=None,
) -> tuple[bytes, bytes]:
    """Training and validation bytes of a Hugging Face ``datasets`` dataset: UTF-8 of
    ``text_field``, records joined by newlines, at most ``max_bytes`` per split; without a
    validation split the last 5 % of the training bytes. Works offline with cached datasets or
    local builders (``path="text"`` + ``data_files=...``). Raises ``ValueError`` with the fix when
    ``datasets`` is missing."""
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
    return train, val
