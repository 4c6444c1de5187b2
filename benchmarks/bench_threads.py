"""Threads per sweep worker, on a quiet machine and on one whose cores another process keeps busy.

    python benchmarks/bench_threads.py [--rounds 3] [--seconds 4] [--shape 2x64]

Each measurement is a fresh Python process (OpenMP reads its wait policy once, when torch
loads) that trains one lab model for ``--seconds`` and prints its tokens per second. Three
set-ups are compared:

* ``1 thread``            what every preset and ``default_threads`` use;
* ``2 threads``           the old default for one worker on 2 cores, OpenMP's own wait policy;
* ``2 threads, PASSIVE``  the same with ``OMP_WAIT_POLICY=PASSIVE`` (what ``lab.sweep`` sets
  for a worker with several threads).

"Loaded" means one busy-looping competitor process per core for the whole measurement. The
set-ups alternate within each round, so slow drift of the machine hits all of them alike;
the table gives medians over the rounds and each set-up's speed relative to 1 thread in the
same condition. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

CHILD = r"""
import os, sys, time, torch
from scaling_lab.lab import RunSpec, Trainer
threads, layers, width, seconds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
torch.set_num_threads(threads)
spec = RunSpec(layers, width, max(1, width // 16), tokens=16 * 128 * 10**6, schedule="constant")
tr = Trainer.for_spec(spec, device="cpu", progress=False)
tr.train_until(3, spec.lr_at)
k0, t0 = tr.step, time.perf_counter()
while time.perf_counter() - t0 < seconds:
    tr.train_until(tr.step + 2, spec.lr_at)
print((tr.step - k0) * spec.tokens_per_step / (time.perf_counter() - t0))
"""

SETUPS = {  # name: (threads, extra environment)
    "1 thread": (1, {}),
    "2 threads": (2, {}),
    "2 threads, PASSIVE": (2, {"OMP_WAIT_POLICY": "PASSIVE"}),
}


def measure(threads: int, env: dict, shape: tuple[int, int], seconds: float) -> float:
    e = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")}
    e.update(env, OMP_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, "-c", CHILD, str(threads), str(shape[0]),
                          str(shape[1]), str(seconds)], env=e, capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def competitors(n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=4.0, help="timed seconds per measurement")
    p.add_argument("--shape", default="2x64", help="layers x width of the model (default 2x64)")
    p.add_argument("--load", type=int, default=os.cpu_count() or 2,
                   help="busy competitor processes in the loaded condition (default: one a core)")
    a = p.parse_args(argv)
    shape = tuple(int(v) for v in a.shape.lower().split("x"))
    rates = {(c, s): [] for c in ("quiet", "loaded") for s in SETUPS}
    for r in range(a.rounds):
        for cond in ("quiet", "loaded"):
            procs = competitors(a.load) if cond == "loaded" else []
            try:
                for name, (threads, env) in SETUPS.items():
                    rates[cond, name].append(measure(threads, env, shape, a.seconds))
                    print(f"round {r + 1} {cond:6s} {name:20s} "
                          f"{rates[cond, name][-1]:9,.0f} tokens/s", file=sys.stderr, flush=True)
            finally:
                for q in procs:
                    q.kill()
                    q.wait()
    print(f"\nmodel {a.shape}, {a.rounds} rounds of {a.seconds:g} s, loaded = {a.load} busy "
          f"processes, load average before: {os.getloadavg()[0]:.1f}\n")
    print("| condition | set-up | tokens/s (median) | vs 1 thread |")
    print("|---|---|---:|---:|")
    for cond in ("quiet", "loaded"):
        base = statistics.median(rates[cond, "1 thread"])
        for name in SETUPS:
            med = statistics.median(rates[cond, name])
            print(f"| {cond} | {name} | {med:,.0f} | {med / base:.2f}x |")


if __name__ == "__main__":
    main()
