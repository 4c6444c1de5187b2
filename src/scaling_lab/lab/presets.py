"""Named sweeps for the command line and the notebooks: ``smoke`` (CI), ``book`` (the website,
on a 2-core CPU) and ``gpu`` (one consumer GPU, about an hour).

A :class:`Preset` holds named plans (``lofn``: sizes at a fixed token count; ``isoflop``: budgets x
sizes; ``wsd``: the schedule comparison; smoke's ``lr``: a learning-rate sweep), the
worker/thread layout that makes its numbers reproducible on a CPU, and the acceptance checks
(fits) the book relies on. Every plan of a preset writes into one results store, keyed by spec
hash: the chapters that share a preset share runs, and a run done once is a cache hit afterwards.

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

from .plans import Item, Plan, grid_plan, isoflop_plan, lr_plan
from .sweep import Preset  # the class lives with the runner; the presets are here


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


def check_isoflop(df, bootstrap: int = 200, n_col="params_total", min_budgets: int = 3):
    """Per-budget parabolas in log N (N total params: Hoffmann's N), interior minima, and
    N_opt = G C^a with a bootstrap interval. FLOPs are the plan's (full) count."""
    import numpy as np

    from scaling_lab.fitting import fit_isoflop

    df = df[df["status"] == "ok"]
    fit = fit_isoflop(df[n_col].to_numpy(float), df["budget"].to_numpy(float),
                      df["val_loss"].to_numpy(float), method="parabola", bootstrap=bootstrap,
                      seed=0)
    lines, ok = [], True
    for o in fit.optima:
        sub = df[np.isclose(df["budget"], o["C"], rtol=1e-6)].sort_values(n_col)
        best = int(np.argmin(sub["val_loss"].to_numpy()))
        best_inside = 0 < best < len(sub) - 1
        good = bool(o["interior"] and o["opens_up"] and best_inside)
        ok &= good
        fpt = float(np.interp(np.log(o["N_opt"]), np.log(sub[n_col]),
                              sub["flops_per_token_full"]))
        lines.append(f"  C={o['C']:.3g}: N_opt={o['N_opt']:,.0f} (tokens/param ~"
                     f"{o['C'] / fpt / o['N_opt']:.0f}), best run {best + 1} of {len(sub)}, "
                     f"vertex interior={o['interior']} -> {'ok' if good else 'FAILED'}")
    ok &= len(fit.optima) >= min_budgets
    a = fit.params["a"]
    ci = fit.ci["a"] if fit.ci else (math.nan, math.nan)
    rci = residual_bootstrap_a(df, n_col=n_col, seed=0)
    head = (f"IsoFLOP over {len(fit.optima)} budgets (N = total params, C = full FLOPs): "
            f"N_opt ~ C^a, a={a:.3f}, 95% interval [{ci[0]:.3f}, {ci[1]:.3f}] (runs resampled "
            f"within budgets), [{rci[0]:.3f}, {rci[1]:.3f}] (parabola residuals resampled) -> "
            f"{'ok' if ok else 'FAILED'}")
    return {"ok": bool(ok), "lines": [head] + lines, "fit": fit, "a": a, "a_ci": ci,
            "a_ci_residual": rci}


def residual_bootstrap_a(df, n_col="params_total", draws: int = 2000, seed: int = 0,
                         level: float = 0.95):
    """Percentile interval of a (N_opt ~ C^a) from a residual bootstrap of the per-budget parabolas:
    every budget keeps all its sizes; each draw adds resampled residuals to the fitted parabola and
    refits its vertex. (Resampling runs within a budget of 5 sizes often leaves 3 distinct sizes
    whose parabola extrapolates wildly; this keeps the design fixed.)"""
    import numpy as np

    rng = np.random.default_rng(seed)
    groups = []
    for C, sub in df.groupby("budget"):
        x = np.log(sub[n_col].to_numpy(float))
        y = sub["val_loss"].to_numpy(float)
        x0 = x.mean()
        coef = np.polyfit(x - x0, y, 2)
        fitted = np.polyval(coef, x - x0)
        groups.append((np.log(C), x - x0, x0, fitted, y - fitted))
    lc = np.array([g[0] for g in groups])
    out = []
    for _ in range(draws):
        lno = []
        for _, xc, x0, fitted, res in groups:
            ystar = fitted + rng.choice(res, size=len(res), replace=True)
            c2, c1, _ = np.polyfit(xc, ystar, 2)
            if not c2 > 0:
                break
            lno.append(x0 - c1 / (2 * c2))
        else:
            out.append(np.polyfit(lc, lno, 1)[0])
    q = (1 - level) / 2
    return tuple(float(v) for v in np.quantile(out, [q, 1 - q])) if out else (math.nan, math.nan)


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
# two peak learning rates, the rule and 4x it: the comparison's code path at half the cost of the
# book's four (the smoke runs are too short to find each schedule's best; the book's are not)
SMOKE_WSD_LR_MULTS = (1.0, 4.0)
# smoke, learning-rate sweep (the estimator's code path in CI): three of the IsoFLOP shapes at
# four peak learning rates a factor 3 apart (1x, 3x, 9x, 27x lr_rule), WSD with cooldown
# branches at 128 and 256 steps: 12 runs, median 8 s each (2.5-36 s) on 2 cores shared with other
# jobs. Measured: every size's best rate is inside at both horizons (best 3x for 2x32 and 2x24,
# 9x for 1x24); a factor-2 grid (1.5x-12x) put 1x24's short-horizon best on its edge (the valley
# is rugged at high rates), and 1x16 was best at 16x, the top of a 0.5x-16x exploration, so it
# is left out
SMOKE_LR_SIZES = [(1, 24, 2), (2, 24, 2), (2, 32, 2)]
SMOKE_LR_TOKENS = [262_144, 524_288]
SMOKE_LR_MULTS = (1.0, 3.0, 9.0, 27.0)

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
        "wsd": lambda: _wsd_vs_cosine(SMOKE_WSD_SIZE, SMOKE_WSD_BUDGETS, BOOK_COMMON,
                                      lr_mults=SMOKE_WSD_LR_MULTS),
        "lr": lambda: lr_plan("lr", SMOKE_LR_SIZES, SMOKE_LR_TOKENS, lr_mults=SMOKE_LR_MULTS,
                              schedule="wsd", **BOOK_COMMON),
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
        checks={"lofn": lambda df: check_lofn(df, bootstrap=200), "lr": lambda df: check_lr(df)},
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


def check_lr(df, n_col: str = "params_non_embedding", bootstrap: int = 1000, seed: int = 0):
    """A learning-rate sweep's acceptance (an ``lr_plan``'s frame, labels ``lr`` and ``horizon``):
    per horizon, every size's best swept peak learning rate is inside the sweep (the optimum is
    bracketed) and eta*(N) = c N^-k (N = ``n_col``) has a finite bootstrap interval for k; with
    two horizons or more, eta* at the longest over eta* at the shortest, with its interval.
    Diverged runs are left out (and counted). Returns ``ok``, ``lines``, ``optima``
    (``fitting.lr_optima`` per size and horizon, with the best rate and eta* as multiples of
    ``lr_rule``), ``fits`` {horizon: LRLawFit} and ``shift``."""
    import numpy as np

    from scaling_lab.fitting import fit_lr_law, lr_optima, lr_shift

    from .spec import lr_rule

    n_div = int((df["status"] != "ok").sum())
    df = df[df["status"] == "ok"]
    N, lr = df[n_col].to_numpy(float), df["lr"].to_numpy(float)
    loss, H = df["val_loss"].to_numpy(float), df["horizon"].to_numpy(float)
    width = dict(zip(N, df["d_model"].astype(int)))
    optima = lr_optima(N, lr, loss, H)
    ok, lines, fits = True, [], {}
    for o in optima:
        o["lr_best_mult"] = o["lr_best"] / lr_rule(width[o["x"]])
        o["lr_opt_mult"] = o["lr_opt"] / lr_rule(width[o["x"]])
        ok &= o["inside"]
    for h in sorted(set(H)):
        sel = H == h
        head = f"horizon {h:,.0f} tokens:"
        try:
            fit = fit_lr_law(N[sel], lr[sel], loss[sel], bootstrap=bootstrap, seed=seed)
        except ValueError as e:
            ok = False
            lines.append(f"{head} no eta*(N) fit ({e}) -> FAILED")
            continue
        fits[h] = fit
        lo, hi = fit.ci["k"] if fit.ci else (np.nan, np.nan)
        good = bool(np.isfinite(lo) and np.isfinite(hi))
        ok &= good
        lines.append(f"{head} eta* = {fit.c:.3g} N^-k, k={fit.k:.3f} [{lo:.3f}, {hi:.3f}] over "
                     f"{int(fit.used.sum())} sizes (N = {n_col}) -> {'ok' if good else 'FAILED'}")
        for o in (o for o in optima if o["horizon"] == float(f"{h:.6g}")):
            lines.append(f"  N={o['x']:>8,.0f}: best {o['lr_best']:.3g} ({o['lr_best_mult']:.2g}x "
                         f"rule), eta* {o['lr_opt']:.3g} ({o['lr_opt_mult']:.2g}x), "
                         f"{'inside' if o['inside'] else 'ON THE EDGE'} of "
                         f"{o['lr_range'][0]:.3g}-{o['lr_range'][1]:.3g}")
    shift = None
    if len(set(H)) > 1:
        try:
            shift = lr_shift(N, lr, loss, H, bootstrap=bootstrap, seed=seed)
            lo, hi = shift.ci["ratio"] if shift.ci else (np.nan, np.nan)
            lines.append(f"eta* at {shift.long:,.0f} over {shift.short:,.0f} tokens: "
                         f"{shift.ratio:.3f} [{lo:.3f}, {hi:.3f}] (slope {shift.slope:.3f})")
        except ValueError as e:
            lines.append(f"no shift between horizons ({e})")
    lines.insert(0, f"learning-rate sweep: {len(optima)} (size, horizon) optima, "
                    f"{sum(o['inside'] for o in optima)} inside"
                    + (f", {n_div} diverged run(s) left out" if n_div else "")
                    + f" -> {'ok' if ok else 'FAILED'}")
    return {"ok": bool(ok), "lines": lines, "optima": optima, "fits": fits, "shift": shift}
