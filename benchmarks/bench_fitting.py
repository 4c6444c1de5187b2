"""Benchmark of scaling_lab.fitting: median wall (and CPU) time over several repeats.

    python benchmarks/bench_fitting.py [--quick] [--repeats R]

Targets (issue 3): a 4500-start fit_chinchilla on 240 points <= 2 s; 1000 bootstrap refits <= 15 s,
on 2 cores. CPU time is printed too: on a shared machine wall time also measures the neighbours.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from scaling_lab.fitting import fit_chinchilla, fit_isoflop, fit_power_law
from scaling_lab.fitting.chinchilla import _bootstrap


def isoflop_data(n_budgets=8, per_budget=30, noise=0.005, seed=0):
    """240 IsoFLOP-like runs from Epoch's refit of the Chinchilla law, 0.5% multiplicative noise."""
    rng = np.random.default_rng(seed)
    E, A, B, alpha, beta = 1.8172, 482.01, 2085.43, 0.3478, 0.3658
    C = np.repeat(np.logspace(18, 22, n_budgets), per_budget)
    N = np.sqrt(C / 120) * np.tile(np.logspace(-1.2, 1.2, per_budget), n_budgets)
    D = C / (6 * N)
    L = (E + A * N**-alpha + B * D**-beta) * np.exp(noise * rng.standard_normal(N.size))
    return N, D, C, L


def timeit(fn, repeats):
    wall, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return float(np.median(wall)), float(np.median(cpu))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats and 200 instead of 1000 resamples")
    ap.add_argument("--repeats", type=int, default=None)
    args = ap.parse_args(argv)
    R = args.repeats or (2 if args.quick else 5)
    K = 200 if args.quick else 1000
    N, D, C, L = isoflop_data()
    fit_chinchilla(N, D, L, grid=np.zeros((1, 5)) + [6, 7, 0.5, 0.3, 0.3])  # warm up
    full = fit_chinchilla(N, D, L)
    theta = np.array([full.diagnostics["log_params"][k] for k in ("log_A", "log_B", "log_E", "alpha", "beta")])

    rows = [
        (f"fit_chinchilla, 4500 starts, {len(N)} points", lambda: fit_chinchilla(N, D, L), 2.0),
        (f"fit_chinchilla bootstrap, {K} refits", lambda: _bootstrap(N, D, L, 1e-3, theta, np.zeros((0, 5)), K, 0, 1000), 15.0 * K / 1000),
        ("fit_chinchilla reduction='mean', 4500 starts", lambda: fit_chinchilla(N, D, L, reduction="mean"), None),
        (f"fit_isoflop parabola, bootstrap {K}", lambda: fit_isoflop(N, C, L, bootstrap=K), None),
        (f"fit_power_law offset, bootstrap {K}", lambda: fit_power_law(C[::30], L.reshape(8, 30).min(1), offset=True, bootstrap=K), None),
    ]
    print(f"# bench_fitting: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
          f"load {os.getloadavg()[0]:.1f}, repeats {R}")
    print(f"{'case':48s} {'wall s':>8s} {'cpu s':>8s} {'target s':>9s}")
    for name, fn, target in rows:
        w, c = timeit(fn, R if target else max(1, R // 2))
        tgt = f"{target:.1f}" if target else "-"
        flag = "" if target is None or w <= target else "  (over target)"
        print(f"{name:48s} {w:8.2f} {c:8.2f} {tgt:>9s}{flag}")
    print(f"# fit: alpha {full.alpha:.4f} beta {full.beta:.4f} E {full.E:.4f}, n_iter {full.n_iter}, "
          f"{full.diagnostics['n_objective_evaluations']} row evaluations")


if __name__ == "__main__":
    main()
