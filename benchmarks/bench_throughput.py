"""Training throughput of every model size of the CPU presets, next to the machine's fp32 matmul peak
measured in the same process with the same thread count.

    python benchmarks/bench_throughput.py [--presets smoke,book] [--threads N] [--seconds S]
    python benchmarks/bench_throughput.py --options default,fused,compile+fused [--shapes 2x16]

For each distinct (shape, batch, context) of the presets: tokens/s of real training steps (forward,
backward, AdamW, clipping: the code path of ``scaling_lab.lab.trainer``), achieved FLOP/s with the
*full* FLOP count (``scaling_lab.flops``, method "full") and with 6N, and the fraction of the matmul
peak. Timings are medians over several timed windows (the machine may be shared). Target: >= 50 % of
peak for the largest CPU preset model. Prints a Markdown table.

With ``--options`` it compares RunSpec's speed options instead (``fused`` AdamW, ``compile``), one
trainer per option on each shape, timed in alternating windows so that a shared machine's load
falls on all of them alike; the first column of ratios is against ``default``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch


def matmul_peak(threads: int, n: int = 1024, seconds: float = 2.0) -> dict:
    """fp32 FLOP/s of square matmuls (n x n) @ (n x n) over ~``seconds``: median and best window
    (on a shared machine contention only ever lowers a window's rate, so "best" is the peak)."""
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    rates = []
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        t0 = time.perf_counter()
        for _ in range(5):
            torch.mm(a, b)
        rates.append(5 * 2 * n**3 / (time.perf_counter() - t0))
    return {"median": statistics.median(rates), "best": max(rates)}


def model_rate(spec, seconds: float) -> dict:
    from scaling_lab.lab.trainer import Trainer

    long = spec.replace(tokens=spec.tokens_per_step * 10**6, schedule="constant")
    tr = Trainer.for_spec(long, device="cpu", progress=False)
    tr.train_until(5, long.lr_at)  # warm up
    rates = []
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end or len(rates) < 3:
        k = tr.step
        t0 = time.perf_counter()
        tr.train_until(k + 5, long.lr_at)
        rates.append(5 * long.tokens_per_step / (time.perf_counter() - t0))
    tps, best = statistics.median(rates), max(rates)
    return {"tokens_per_s": tps, "tokens_per_s_best": best,
            "flops_full": tps * tr.info["flops_per_token_full"],
            "flops_full_best": best * tr.info["flops_per_token_full"],
            "flops_6n": tps * tr.info["flops_per_token_6n"], "params": tr.info["params_total"]}


OPTIONS = {"default": {}, "fused": {"fused": True}, "compile": {"compile": True},
           "compile+fused": {"compile": True, "fused": True}}


def compare(spec, options: list[str], seconds: float, steps: int = 5) -> dict:
    """Tokens/s of ``spec``'s shape under each RunSpec speed option, side by side: one trainer
    per option, warmed up (a compile happens there: its time is reported as ``cold_s``), then
    timed windows of ``steps`` steps taken in turn, so that load on a shared machine falls on
    every option alike. Medians over the windows."""
    from scaling_lab.lab.corpus import load_corpus
    from scaling_lab.lab.trainer import Trainer

    long = spec.replace(tokens=spec.tokens_per_step * 10**6, schedule="constant")
    load_corpus(long.corpus)  # read once, before any warm-up is timed
    trs, cold = {}, {}
    for name in options:
        s = long.replace(**OPTIONS[name])
        t0 = time.perf_counter()
        trs[name] = Trainer.for_spec(s, device="cpu", progress=False)
        trs[name].train_until(3, s.lr_at)  # warm up (and compile)
        cold[name] = time.perf_counter() - t0
    rates = {name: [] for name in options}
    t_end = time.perf_counter() + seconds * len(options)
    while time.perf_counter() < t_end or min(len(r) for r in rates.values()) < 5:
        for name in options:
            tr = trs[name]
            t0 = time.perf_counter()
            tr.train_until(tr.step + steps, long.lr_at)
            rates[name].append(steps * long.tokens_per_step / (time.perf_counter() - t0))
    return {name: {"tokens_per_s": statistics.median(r), "windows": len(r), "cold_s": cold[name]}
            for name, r in rates.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--presets", default="smoke,book")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: what each preset worker uses)")
    p.add_argument("--seconds", type=float, default=3.0, help="timed seconds per model")
    p.add_argument("--options", help="compare RunSpec speed options side by side instead, e.g. "
                   f"default,fused,compile+fused (known: {', '.join(OPTIONS)})")
    p.add_argument("--shapes", help="only these shapes, e.g. 2x16,2x64")
    a = p.parse_args(argv)
    from scaling_lab.lab.presets import get_preset

    torch.set_num_threads(a.threads)
    specs = {}
    for name in a.presets.split(","):
        for s in get_preset(name).plan(dry=True).specs:
            k = (s.n_layer, s.d_model, s.n_head, s.n_ctx, s.batch_size)
            specs.setdefault(k, s)
    if a.shapes:
        want = {tuple(int(v) for v in x.split("x")) for x in a.shapes.split(",")}
        specs = {k: s for k, s in specs.items() if k[:2] in want}
    if a.options:
        options = a.options.split(",")
        bad = [o for o in options if o not in OPTIONS]
        if bad or options[0] != "default":
            raise SystemExit(f"--options: start with default and use {', '.join(OPTIONS)}")
        print(f"| shape (L x d) | option | tokens/s (median) | vs default | windows | "
              f"warm-up incl. compile (s) |\n|---|---|---:|---:|---:|---:|")
        for k in sorted(specs, key=lambda k: (k[1], k[0])):
            s = specs[k]
            r = compare(s, options, a.seconds)
            for o in options:
                print(f"| {s.n_layer} x {s.d_model} | {o} | {r[o]['tokens_per_s']:,.0f} | "
                      f"{r[o]['tokens_per_s'] / r['default']['tokens_per_s']:.3f} | "
                      f"{r[o]['windows']} | {r[o]['cold_s']:.1f} |", flush=True)
        return
    peak = matmul_peak(a.threads)
    print(f"fp32 matmul (1024^3, {a.threads} thread(s)): median {peak['median'] / 1e9:.1f}, "
          f"best {peak['best'] / 1e9:.1f} GFLOP/s\n")
    print("| shape (L x d) | params | batch x ctx | tokens/s (median) | GFLOP/s full (median) "
          "| GFLOP/s 6N (median) | % of peak, median/median | % of peak, best/best |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    rows = []
    for k in sorted(specs, key=lambda k: (k[1], k[0])):
        s = specs[k]
        r = model_rate(s, a.seconds)
        rows.append((s, r))
        print(f"| {s.n_layer} x {s.d_model} | {r['params']:,} | {s.batch_size} x {s.n_ctx} | "
              f"{r['tokens_per_s']:,.0f} | {r['flops_full'] / 1e9:.1f} | "
              f"{r['flops_6n'] / 1e9:.1f} | {100 * r['flops_full'] / peak['median']:.0f} % | "
              f"{100 * r['flops_full_best'] / peak['best']:.0f} % |", flush=True)
    peak2 = matmul_peak(a.threads)
    print(f"\nfp32 matmul re-measured after the models: median {peak2['median'] / 1e9:.1f}, best "
          f"{peak2['best'] / 1e9:.1f} GFLOP/s")
    s, r = max(rows, key=lambda x: x[1]["params"])
    best_peak = max(peak["best"], peak2["best"])
    frac = r["flops_full_best"] / best_peak
    print(f"largest model {s.n_layer} x {s.d_model}: {100 * frac:.0f} % of peak, best/best "
          f"({'meets' if frac >= 0.5 else 'below'} the 50 % target)")


if __name__ == "__main__":
    main()
