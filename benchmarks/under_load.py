"""Run a command while other processes keep every core busy: does the suite pass on a loaded
machine, and how long does it take?

    python benchmarks/under_load.py [--load K] -- COMMAND ...
    python benchmarks/under_load.py -- .venv/bin/python tools/build.py --preset smoke --no-html
    make test-loaded        # the whole `make test` with both cores of a 2-core machine busy

``--load`` competitor processes (default: one a core) spin in a pure-Python loop for as long as
the command runs, at normal priority, like a reader's other work or a CI neighbour. The
command's output passes through; at the end this prints its exit status, its wall time and,
where the command left a build record (``--record``, default ``_build/test/stage/execution.json``
and written during this run), every chapter's time next to its typical time. The exit status
is the command's. Nothing here is a test: a slow chapter under load is a finding to report.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

SPIN = "while True: pass"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--load", type=int, default=os.cpu_count() or 2,
                   help="busy competitor processes (default: one a core)")
    p.add_argument("--record", type=Path, default=Path("_build/test/stage/execution.json"),
                   help="a build's execution.json to summarise afterwards")
    p.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    a = p.parse_args(argv)
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not cmd:
        p.error("give the command to run after --, e.g. -- make test")
    if a.load < 0:
        p.error(f"--load must be >= 0, got {a.load}")
    rivals = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(a.load)]
    t0 = time.time()
    try:
        rc = subprocess.run(cmd).returncode
    finally:
        for q in rivals:
            q.kill()
            q.wait()
    wall = time.time() - t0
    print(f"\nunder_load: {' '.join(cmd)!r} with {a.load} busy process(es) on "
          f"{os.cpu_count()} core(s): exit {rc}, {wall / 60:.1f} min wall")
    if a.record.exists() and a.record.stat().st_mtime >= t0:
        print("| chapter | seconds | typical (s) | ratio |\n|---|---:|---:|---:|")
        for name, rec in json.loads(a.record.read_text()).items():
            print(f"| {name} | {rec['seconds']:.0f} | {rec['typical_s']:.0f} | "
                  f"{rec['seconds'] / rec['typical_s']:.1f}x |")
    return rc


if __name__ == "__main__":
    sys.exit(main())
