"""Named sweeps for the command line and the notebooks: ``smoke`` (CI), ``book`` (the website,
on a 2-core CPU) and ``gpu`` (one consumer GPU, about an hour).

A :class:`Preset` holds named plans (``lofn``: sizes at a fixed token count; ``isoflop``: budgets x
sizes; ``wsd``: the schedule comparison), the worker/thread layout that makes its numbers
reproducible on a CPU, and the acceptance checks (fits) the book relies on. Every plan of a preset
writes into one results store, keyed by spec hash: the chapters that share a preset share runs, and a
run done once is a cache hit afterwards.

How the book preset was engineered (2-core CPU, byte-level stdlib corpus, n_ctx 128):

* FLOPs are counted in full (``scaling_lab.flops`` method "full": attention and the vocabulary
  projection included). 6N ignores the embedding/logit and attention work that dominates models of
  a few 10k parameters and would push the IsoFLOP minimum off the small end of the grid.
* A fixed small batch (16 x 128 = 2048 tokens) so that the largest models still take hundreds of
  optimizer steps at the smallest budget; a per-width learning-rate rule (``train.lr_rule``).
* IsoFLOP runs use the WSD schedule: one long run per size, cooldown branches at each budget's token
  count, so a size costs its longest run plus a cooldown per budget; each branch is stored under
  the key a standalone WSD run would have.
* The IsoFLOP grid is designed for WSD: many closely spaced budgets and every size at every budget
  (a run per grid point would cost about 3x more FLOPs). The sizes bracket the optimum of the
  smallest and the largest budget, measured in a WSD exploration of L(N, D).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .store import ResultStore
from .sweep import Item, Plan, as_shape, default_threads, grid_plan, isoflop_plan, run_plan, wsd_plan


@dataclass
class Preset:
    name: str
    description: str
    plans: dict[str, Callable[[], Plan]]
    workers: int = 2
    threads: int | None = None  # torch threads per worker; None: default_threads (1)
    checks: dict[str, Callable] = field(default_factory=dict)
    default_store: str = ""
    default_plans: tuple = ()  # the plans run when none are named; () -> all


    def store_path(self, store: str | None = None) -> Path:
        if store:
            return Path(store)
        root = os.environ.get("SCALING_LAB_RESULTS", "results")
        return Path(root) / (self.default_store or f"{self.name}.jsonl")

    def plan(self, names=None) -> Plan:
        names = self._names(names)
        items, seen = [], set()
        for n in names:
            for it in self.plans[n]().items:
                items.append(it)
        return Plan("+".join(names), items)

    def _names(self, names):
        if not names:
            return list(self.default_plans or self.plans)
        if isinstance(names, str):
            names = [names]
        bad = [n for n in names if n not in self.plans]
        if bad:
            raise ValueError(f"preset {self.name!r} has no plan {bad[0]!r}; known plans: "
                             f"{', '.join(self.plans)}")
        return list(names)

    def run(self, store=None, plans=None, workers=None, threads=None, progress=True,
            log=print) -> dict:
        """Train every run of the chosen plans that the store does not hold yet."""
        workers = workers or self.workers
        threads = threads or self.threads or default_threads(workers)
        t0 = time.time()
        summ = run_plan(self.plan(plans), self.store_path(store), workers=workers,
                        threads=threads, progress=progress, log=log)
        summ["wall_s"] = time.time() - t0
        return summ

    def frame(self, plan: str, store=None):
        """The results of one plan (with its labels, e.g. ``budget``) as a DataFrame."""
        self._names(plan)
        return self.plans[plan]().frame(ResultStore(self.store_path(store)))

    def check(self, store=None, plans=None) -> dict:
        """Run the preset's acceptance checks (fits) on the plans' results."""
        lines, ok, out = [], True, {}
        for n in self._names(plans):
            if n not in self.checks:
                continue
            res = self.checks[n](self.frame(n, store))
            out[n] = res
            ok &= res["ok"]
            lines.extend(res["lines"])
        return {"ok": ok, "lines": lines, "results": out}

    def dry_run(self, log=print, steps: int = 2) -> list[dict]:
        """Build every model of the preset and take ``steps`` optimizer steps of each on the CPU
        (batch of 2 sequences, fp32)."""
        import torch

        from .train import _Trainer

        rows, seen = [], set()
        for it in self.plan().items:
            s = it.spec
            shape_key = (s.n_layer, s.d_model, s.n_head, s.n_ctx, s.batch_size, s.corpus)
            if shape_key in seen:
                continue
            seen.add(shape_key)
            t0 = time.perf_counter()
            # batch of 2 sequences: the point is that every shape builds, runs and learns on
            # this machine's code path, not the GPU's speed
            small = s.replace(dtype="fp32", batch_size=2, tokens=2 * s.n_ctx * steps)
            tr = _Trainer(small, device=torch.device("cpu"), progress=False)
            ok = tr.train_until(tr.spec, steps, set())
            rows.append({"n_layer": s.n_layer, "d_model": s.d_model,
                         "params": tr.info["params_total"], "loss": tr.losses[-1],
                         "ok": ok, "s": time.perf_counter() - t0})
            if log:
                log(f"  {s.n_layer:>2}x{s.d_model:<5} params={tr.info['params_total']:>11,} "
                    f"loss after {steps} steps={tr.losses[-1]:.3f} ({rows[-1]['s']:.1f} s)")
            if not ok:
                raise ValueError(f"dry run: {s.n_layer}x{s.d_model} diverged in {steps} steps")
        return rows


# ----------------------------------------------------------------------------- checks
def check_lofn(df, max_rms: float | None = None, bootstrap: int = 200, n_col="params_non_embedding"):
    """L(N) = E + A / N^alpha through the plan's final validation losses (N non-embedding)."""
    import numpy as np

    from scaling_lab.fitting import fit_power_law

    df = df[df["status"] == "ok"].sort_values(n_col)
    N, L = df[n_col].to_numpy(float), df["val_loss"].to_numpy(float)
    fit = fit_power_law(N, L, offset=True, bootstrap=bootstrap, seed=0)
    pred = np.asarray(fit.predict(N), float)
    rms = float(np.sqrt(np.mean((pred - L) ** 2)))
    lo, hi = fit.ci["alpha"]
    ok = bool(lo > 0)
    if max_rms is not None:
        ok &= rms <= max_rms
    p = fit.params
    lines = [f"L(N) fit over {len(N)} sizes (N = non-embedding params): E={p['E']:.3f} "
             f"A={p['A']:.3g} alpha={p['alpha']:.3f} [{lo:.3f}, {hi:.3f}] RMS={rms:.4f} nats "
             f"-> {'ok' if ok else 'FAILED'}"]
    return {"ok": ok, "lines": lines, "fit": fit, "rms": rms, "alpha": p["alpha"],
            "alpha_ci": (lo, hi)}


def check_isoflop(df, bootstrap: int = 200, n_col="params_total", min_budgets: int = 3,
                  residual_draws: int = 2000):
    """IsoFLOP acceptance: ``fitting.fit_isoflop`` on the plan's runs (N = ``n_col``, total
    params: Hoffmann's N; C = the plan's budgets, full FLOPs), N_opt = G C^a with two bootstrap
    intervals (runs resampled within budgets; parabola residuals resampled). Passes if every
    budget's best run is inside its sizes with an interior vertex of an upward parabola, and at
    least ``min_budgets`` budgets enter the fit. Tokens per parameter use the runs' full FLOPs
    per token (``analysis.flops_per_token_fn``)."""
    import numpy as np

    from scaling_lab.fitting import fit_isoflop

    from .analysis import flops_per_token_fn

    df = df[df["status"] == "ok"]
    N = df[n_col].to_numpy(float)
    C = df["budget"].to_numpy(float)
    L = df["val_loss"].to_numpy(float)
    fpt = flops_per_token_fn(N, df["flops_per_token_full"].to_numpy(float))
    try:
        fit = fit_isoflop(N, C, L, bootstrap=bootstrap, resample="runs", seed=0,
                          flops_per_token=fpt)
        rfit = fit_isoflop(N, C, L, bootstrap=residual_draws, resample="residuals", seed=0,
                           flops_per_token=fpt)
    except ValueError as e:
        return {"ok": False, "lines": [f"IsoFLOP: no fit ({e}) -> FAILED"], "fit": None,
                "a": math.nan, "a_ci": (math.nan, math.nan),
                "a_ci_residual": (math.nan, math.nan)}
    lines, ok = [], True
    tpp = fit.tokens_per_param()
    for o, t in zip(fit.optima, tpp):
        good = bool(o["inside"] and o["interior"] and o["opens_up"])
        ok &= good
        where = "best run inside the sizes" if o["inside"] else "best run on an edge (left out)"
        lines.append(f"  C={o['C']:.3g}: N_opt={o['N_opt']:,.0f} (tokens/param ~{t:.0f}), "
                     f"{where}, vertex interior={o['interior']} -> {'ok' if good else 'FAILED'}")
    ok &= int(fit.used.sum()) >= min_budgets
    a = fit.params["a"]
    ci = fit.ci["a"] if fit.ci else (math.nan, math.nan)
    rci = rfit.ci["a"] if rfit.ci else (math.nan, math.nan)
    head = (f"IsoFLOP over {int(fit.used.sum())} of {len(fit.optima)} budgets (N = total params, "
            f"C = full FLOPs): N_opt ~ C^a, a={a:.3f}, 95% interval [{ci[0]:.3f}, {ci[1]:.3f}] "
            f"(runs resampled within budgets), [{rci[0]:.3f}, {rci[1]:.3f}] (parabola residuals "
            f"resampled) -> {'ok' if ok else 'FAILED'}")
    return {"ok": bool(ok), "lines": [head] + lines, "fit": fit, "a": a, "a_ci": ci,
            "a_ci_residual": rci}


# ----------------------------------------------------------------------------- the presets
STDLIB = "stdlib"


def _budgets(lowest: float, per_octave: int, n: int) -> list[float]:
    """``n`` budgets from ``lowest`` up, ``per_octave`` to a doubling (3 significant digits)."""
    return [float(f"{lowest * 2 ** (k / per_octave):.3g}") for k in range(n)]


# smoke: five two-layer sizes at a fixed token count, cosine; about a minute on 2 idle cores
SMOKE_SIZES = [(2, 16, 1), (2, 24, 2), (2, 32, 2), (2, 48, 3), (2, 64, 4)]
SMOKE_TOKENS = 1_048_576
# smoke, IsoFLOP and WSD (the lab chapters' code paths in CI, not their conclusions): four sizes
# at thirteen small budgets a sixth of an octave apart (1e11 to 4e11), WSD; the WSD comparison
# reuses one size's branches at three of them
SMOKE_ISO_BUDGETS = _budgets(1e11, 6, 13)
SMOKE_ISO_SIZES = [(1, 16, 1), (1, 24, 2), (2, 24, 2), (2, 32, 2)]
SMOKE_WSD_SIZE = (2, 24, 2)
SMOKE_WSD_BUDGETS = [1e11, 2e11, 4e11]

# book, L(N): six two-layer sizes (6.6k to 224k non-embedding parameters) at a fixed 4.2M tokens,
# cosine. One depth for all: mixing 1-, 2- and 3-layer models puts kinks in L(N) (measured: RMS
# 0.020 nats with depths 1-3 against 0.0025 with depth 2 only; Kaplan et al. also drop 1-layer
# models from their trends).
BOOK_LOFN_SIZES = [(2, 16, 1), (2, 24, 2), (2, 32, 2), (2, 48, 3), (2, 64, 4), (2, 96, 6)]
BOOK_LOFN_TOKENS = 4_194_304
# book, IsoFLOP: sixteen budgets in full FLOPs, a fifth of an octave apart (5e11 to 4e12), and the
# same five two-layer sizes (12.7k to 125k total parameters) at every budget. Closely spaced
# budgets and a full cross product are what WSD is for: each size is one long run with sixteen
# cooldown branches, about 3x fewer FLOPs than a run per grid point (chapter 8 measures it). The
# sizes bracket the optimum of every budget (measured: best run 23.7k parameters at 5e11, 75k at
# 4e12; a sixth size of 8.4k was never near the optimum and was dropped).
BOOK_ISO_BUDGETS = _budgets(5e11, 5, 16)
BOOK_ISO_SIZES = [(2, 16, 1), (2, 24, 2), (2, 32, 2), (2, 48, 3), (2, 64, 4)]
# book, WSD chapter: one size at three of the budgets; its WSD branches are IsoFLOP runs (cache
# hits), compared with cosine runs of the same lengths that also decay to zero (like for like)
BOOK_WSD_SIZE = (2, 32, 2)
BOOK_WSD_BUDGETS = [5e11, 1e12, 2e12]

BOOK_COMMON = dict(n_ctx=128, batch_size=16, warmup_steps=50, corpus=STDLIB, seed=0)

# gpu: one consumer GPU (~25 TFLOP/s achieved in bf16) for about an hour; not runnable here, so
# `sweep --preset gpu --dry-run` builds every shape and steps it on the CPU. The IsoFLOP grid has
# the book preset's design (budgets a fifth of an octave apart, every size at every budget); its
# five sizes bracket an assumed 50-150 tokens per parameter at both its smallest and its largest
# budget. At the top budget the smallest model sees the ~30 MB stdlib corpus dozens of times, so
# for real use prefer a larger corpus (local:PATH or hf:NAME).
GPU_COMMON = dict(n_ctx=256, batch_size=64, warmup_steps=200, corpus=STDLIB, seed=0, dtype="auto")
GPU_SIZES = [(2, 128, 4), (3, 160, 5), (4, 192, 6), (4, 256, 8), (6, 320, 10), (6, 384, 12),
             (8, 512, 16)]
GPU_LOFN_TOKENS = 100_000_000
GPU_BUDGETS = _budgets(1e15, 5, 11)   # 1e15 to 4e15
GPU_ISO_SIZES = GPU_SIZES[0:5]


def _smoke_plans():
    return {
        "lofn": lambda: grid_plan("lofn", SMOKE_SIZES, SMOKE_TOKENS, schedule="cosine",
                                  **BOOK_COMMON),
        "isoflop": lambda: isoflop_plan("isoflop", SMOKE_ISO_BUDGETS, SMOKE_ISO_SIZES,
                                        flops="full", schedule="wsd", **BOOK_COMMON),
        "wsd": lambda: _wsd_vs_cosine(SMOKE_WSD_SIZE, SMOKE_WSD_BUDGETS, BOOK_COMMON),
    }


def _book_plans():
    return {
        "lofn": lambda: grid_plan("lofn", BOOK_LOFN_SIZES, BOOK_LOFN_TOKENS, schedule="cosine",
                                  **BOOK_COMMON),
        "isoflop": lambda: isoflop_plan("isoflop", BOOK_ISO_BUDGETS, BOOK_ISO_SIZES,
                                        flops="full", schedule="wsd", **BOOK_COMMON),
        "wsd": _book_wsd_plan,
    }


def _book_wsd_plan() -> Plan:
    """WSD branches of one size at the IsoFLOP token counts (cache hits once the IsoFLOP plan has
    run) and cosine runs of the same lengths."""
    return _wsd_vs_cosine(BOOK_WSD_SIZE, BOOK_WSD_BUDGETS, BOOK_COMMON)


# peak learning rates of the schedule comparison, as multiples of train.lr_rule: each schedule is
# compared at its own best (multiple 1 is the rule, which the IsoFLOP runs use: cache hits)
WSD_LR_MULTS = (1.0, 2.0, 3.0, 4.0)


def _wsd_vs_cosine(size, budgets, common, lr_mults=WSD_LR_MULTS) -> Plan:
    """One size at the token counts of ``budgets``, WSD and cosine (decaying to zero, like the WSD
    cooldown), each at every peak learning rate ``lr_mults`` x ``lr_rule``. Labels: ``budget``,
    ``lr_mult``. Multiple 1 leaves ``lr`` unset, so those WSD runs are the IsoFLOP sweep's."""
    items = []
    for m in lr_mults:
        for sched, extra in (("wsd", {}), ("cosine", {"min_lr_frac": 0.0})):
            sub = isoflop_plan("x", budgets, [size], flops="full", schedule=sched, **extra,
                               **common)
            for it in sub.items:
                spec = it.spec if m == 1 else it.spec.replace(lr=it.spec.peak_lr * m)
                items.append(Item(spec, it.labels + (("lr_mult", float(m)),)))
    return Plan("wsd", items)


def _gpu_plans():
    return {
        "lofn": lambda: grid_plan("lofn", GPU_SIZES, GPU_LOFN_TOKENS, schedule="cosine",
                                  **GPU_COMMON),
        "isoflop": lambda: isoflop_plan("isoflop", GPU_BUDGETS, GPU_ISO_SIZES, flops="full",
                                        schedule="wsd", **GPU_COMMON),
    }


PRESETS: dict[str, Preset] = {
    "smoke": Preset(
        "smoke", "CI: five tiny models at ~1M tokens and an L(N) fit, <= 3 min on 2 cores; "
        "small IsoFLOP and WSD plans for the lab chapters' code paths",
        _smoke_plans(), workers=2, threads=1,
        checks={"lofn": lambda df: check_lofn(df, bootstrap=200)},
        default_plans=("lofn",),  # the CLI's smoke sweep; the chapters name their plans
    ),
    "book": Preset(
        "book", "the website on a 2-core CPU: L(N), IsoFLOP with interior minima, WSD; ~25 min",
        _book_plans(), workers=2, threads=1,
        checks={"lofn": lambda df: check_lofn(df, max_rms=0.01),
                "isoflop": check_isoflop},
    ),
    "gpu": Preset(
        "gpu", "one consumer GPU, about an hour: bf16, wider models, more tokens",
        _gpu_plans(), workers=1, threads=1,
        checks={"lofn": lambda df: check_lofn(df, max_rms=0.01), "isoflop": check_isoflop},
    ),
}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; ``ValueError`` listing the known ones otherwise."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}")
    return PRESETS[name]
