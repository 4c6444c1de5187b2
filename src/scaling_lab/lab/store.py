"""An append-only results store: one JSON record per line, keyed by the run's spec hash.

Crash safety, the whole story:

* a record is written with a single ``write`` of one complete line to a file opened with
  ``O_APPEND``, under an exclusive ``flock`` (several worker processes may append), then
  ``fsync``-ed; a finished run is on disk before the sweep moves on;
* a process killed mid-write (``kill -9``) can leave at most a torn last line without its newline;
  readers ignore it, and the next writer cuts that line, and only it, if it is not JSON (a complete
  record merely missing its newline is kept), so it never glues a new record onto half an old one;
* records are validated when read: an invalid line (say a stub ``{"key": K}``) is ignored, listed
  in ``store.problems`` and warned about, never preferred over the real record of K;
* a file that is not a store (a note, a CSV, a budget ledger, a directory) is refused with a
  ValueError before anything is written: the store never changes a byte it did not write;
* a key already present is never written twice (checked under the lock), and readers keep the first
  valid record of a key, so a resumed sweep cannot produce duplicates.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import warnings
from pathlib import Path

from .spec import RunResult


def _invalid(rec) -> str | None:
    """Why ``rec`` is not a run record (None if it is one)."""
    if not isinstance(rec, dict):
        return "not a JSON object"
    types = {"key": str, "status": str, "spec": dict, "history": list, "info": dict}
    for k, t in types.items():
        if k in ("history", "info") and k not in rec:
            continue
        if not isinstance(rec.get(k), t):
            return f"field {k!r} missing or not a {t.__name__}"
    return None


def _looks_like_store(data: bytes) -> bool:
    """The first line is a JSON object with a "key", or the torn start of one of our records."""
    first = data.lstrip().split(b"\n", 1)[0]
    try:
        rec = json.loads(first)
    except ValueError:
        # a lone torn record (sort_keys puts "history" first), with nothing after it
        return b"\n" not in data.strip() and first.startswith(b'{"history": ')
    return isinstance(rec, dict) and "key" in rec


def _read_all(fd: int) -> bytes:
    size, parts, pos = os.fstat(fd).st_size, [], 0
    while pos < size:
        buf = os.pread(fd, min(1 << 20, size - pos), pos)
        if not buf:
            break
        parts.append(buf)
        pos += len(buf)
    return b"".join(parts)


def _clean(obj):
    """JSON without NaN/Infinity tokens (they are not JSON): non-finite floats become None."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


class ResultStore:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.problems: list[str] = []  # invalid lines seen by the last read, for the caller

    # ---------------------------------------------------------------- reading
    def _scan(self, data: bytes) -> list[dict]:
        """Valid records of ``data``, first per key; invalid lines go to ``self.problems``.

        Raises ValueError if ``data`` is not a results store at all (see :meth:`check`).
        """
        if data.strip() and not _looks_like_store(data):
            raise ValueError(
                f"{self.path} is not a results store (its first line is not a run record "
                f"written by scaling-lab); pass a new file name, e.g. results.jsonl")
        out, seen, problems = [], set(), []
        lines = data.split(b"\n")
        for i, line in enumerate(lines, 1):
            if not line.strip():
                continue
            why = None
            try:
                rec = json.loads(line)
            except ValueError:  # a torn line from a killed writer: not a record
                if i == len(lines):
                    continue  # the torn tail itself: cut by the next writer
                why = "not JSON"
            else:
                why = _invalid(rec)
            if why is None and rec["key"] in seen:
                continue
            if why is not None:
                problems.append(f"{self.path} line {i}: {why}; ignored")
                continue
            seen.add(rec["key"])
            out.append(rec)
        self.problems = problems
        if problems:
            warnings.warn(f"{len(problems)} invalid line(s) ignored: {problems[0]}", stacklevel=3)
        return out

    def _records(self) -> list[dict]:
        if not self.path.exists():
            return []
        if self.path.is_dir():
            raise ValueError(f"{self.path} is a directory, not a results store; pass a file "
                             f"path, e.g. {self.path / 'results.jsonl'}")
        with open(self.path, "rb") as f:
            return self._scan(f.read())

    def check(self) -> None:
        """Raise ValueError naming the fix if :meth:`append` could not write here: a directory,
        a parent that cannot be created, no write permission, or a file that is not a store
        (this store never writes to a file it did not create). Call it before long work."""
        p = self.path
        if p.is_dir():
            raise ValueError(f"{p} is a directory, not a results store; pass a file path, e.g. "
                             f"{p / 'results.jsonl'}")
        if p.exists():
            if not os.access(p, os.R_OK | os.W_OK):
                raise ValueError(f"{p} is not writable (permission denied); fix its "
                                 f"permissions or pass another path")
            self._records()  # raises if it is not a store
            return
        parent = p.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise ValueError(f"{p}: {parent} is a file, not a directory; pass another path")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise ValueError(f"{p} cannot be created: directory {parent} is not writable "
                             f"(permission denied); pass a path in a writable directory")

    def keys(self) -> set[str]:
        return {r["key"] for r in self._records()}

    def __contains__(self, key: str) -> bool:
        return key in self.keys()

    def __len__(self) -> int:
        return len(self._records())

    def results(self) -> list[RunResult]:
        return [RunResult.from_record(r) for r in self._records()]

    def get(self, key: str) -> RunResult | None:
        for r in self._records():
            if r["key"] == key:
                return RunResult.from_record(r)
        return None

    # ---------------------------------------------------------------- writing
    def append(self, result: RunResult | dict) -> bool:
        """Append one record atomically; returns False if its key was already stored."""
        rec = result.to_record() if isinstance(result, RunResult) else result
        why = _invalid(rec)
        if why is not None:
            raise ValueError(f"not a run record ({why}); pass a RunResult or its to_record()")
        line = json.dumps(_clean(rec), sort_keys=True, allow_nan=False).encode() + b"\n"
        self.check()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            data = _read_all(fd)
            records = self._scan(data)  # raises, writing nothing, if it is not a store
            if data and not data.endswith(b"\n"):
                line = self._repair_tail(fd, data) + line
            if any(r["key"] == rec["key"] for r in records):
                return False
            view = memoryview(line)
            while view:  # one write normally; loop only on a short write
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
            return True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @staticmethod
    def _repair_tail(fd: int, data: bytes) -> bytes:
        """The file lacks a final newline. A last line that is a complete record is kept (returns
        the newline to write before the next record); a torn one left by a killed writer (not
        JSON) is cut, and only it."""
        i = data.rfind(b"\n")
        tail = data[i + 1:]
        try:
            json.loads(tail)
            return b"\n"
        except ValueError:
            os.ftruncate(fd, i + 1)
            os.fsync(fd)
            return b""

    # ---------------------------------------------------------------- frames
    def to_frame(self, keys=None):
        """One row per run: spec fields, parameter counts, FLOPs per token and the final
        evaluation (tokens, flops_6n, flops_full, train_loss, val_loss, wall_s)."""
        return results_frame(self.results(), keys)

    def history_frame(self, keys=None):
        """One row per evaluation of every run (learning curves)."""
        import pandas as pd

        rows = []
        for r in self.results():
            if keys is not None and r.key not in keys:
                continue
            for h in r.history:
                rows.append({"key": r.key, "status": r.status, **_flat_spec(r), **h})
        return pd.DataFrame(rows)


_INFO_COLS = ("params_total", "params_non_embedding", "params_embedding", "flops_per_token_6n",
              "flops_per_token_full", "entropy_floor", "device", "threads", "peak_lr")


def _flat_spec(r: RunResult) -> dict:
    d = {k: v for k, v in r.spec.items()}
    d["tokens_planned"] = d.pop("tokens")
    for c in _INFO_COLS:
        d[c] = r.info.get(c)
    d["corpus_sha256"] = (r.info.get("corpus") or {}).get("sha256")
    return d


def results_frame(results, keys=None):
    import pandas as pd

    rows = []
    for r in results:
        if keys is not None and r.key not in keys:
            continue
        row = {"key": r.key, "status": r.status, **_flat_spec(r)}
        fin = dict(r.final)
        for k, v in fin.items():
            row[k] = float("nan") if v is None and k.endswith("loss") else v
        rows.append(row)
    df = pd.DataFrame(rows)
    if len(df):
        df = df.sort_values(["params_total", "tokens_planned", "key"]).reset_index(drop=True)
    return df
