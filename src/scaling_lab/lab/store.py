"""An append-only results store: one JSON record per line, keyed by the run's spec hash.

Crash safety, the whole story:

* a record is written with a single ``write`` of one complete line to a file opened with
  ``O_APPEND``, under an exclusive ``flock`` (several worker processes may append), then
  ``fsync``-ed; a finished run is on disk before the sweep moves on;
* a process killed mid-write (``kill -9``) can leave at most a torn last line without its newline;
  readers ignore any line that does not parse, and the next writer truncates the torn tail before
  appending, so it never glues a new record onto half an old one;
* a key already present is never written twice (checked under the lock), and readers keep the first
  record of a key, so a resumed sweep cannot produce duplicates.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
from pathlib import Path

from .train import RunResult


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

    # ---------------------------------------------------------------- reading
    def _records(self) -> list[dict]:
        if not self.path.exists():
            return []
        out, seen = [], set()
        with open(self.path, "rb") as f:
            data = f.read()
        for line in data.split(b"\n"):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError:  # a torn line from a killed writer: not a record
                continue
            if not isinstance(rec, dict) or "key" not in rec or rec["key"] in seen:
                continue
            seen.add(rec["key"])
            out.append(rec)
        return out

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
        line = json.dumps(_clean(rec), sort_keys=True, allow_nan=False).encode() + b"\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._repair_tail(fd)
            if rec["key"] in self.keys():
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
    def _repair_tail(fd: int) -> None:
        """Drop a torn last line (no trailing newline) left by a killed writer."""
        size = os.fstat(fd).st_size
        if size == 0:
            return
        if os.pread(fd, 1, size - 1) == b"\n":
            return
        pos, chunk = size, 65536
        while pos > 0:
            start = max(0, pos - chunk)
            buf = os.pread(fd, pos - start, start)
            i = buf.rfind(b"\n")
            if i >= 0:
                os.ftruncate(fd, start + i + 1)
                os.fsync(fd)
                return
            pos = start
        os.ftruncate(fd, 0)
        os.fsync(fd)

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
