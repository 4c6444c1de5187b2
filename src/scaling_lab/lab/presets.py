"""Named sweeps for the command line and the notebooks: ``smoke`` (CI), ``book`` (the website,
on a 2-core CPU) and ``gpu`` (one consumer GPU: its plans in about two hours, ``presets_gpu.py``).

A :class:`Preset` holds named plans (``lofn``: sizes at a fixed token count; ``isoflop``: budgets x
sizes; ``wsd``: the schedule comparison; ``lr``: a learning-rate sweep; ``ladder``: see
``ladder.py`` and :func:`ladder_of`), the
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

from .checks import check_isoflop, check_lofn, check_lr  # noqa: F401  (the presets run them)
from .plans import Item, Plan, grid_plan, isoflop_plan, lr_plan
from .presets_gpu import (GPU_BUDGETS, GPU_COMMON, GPU_ISO_SIZES, GPU_LADDER_SIZES,  # noqa: F401
                          GPU_SIZES, gpu_ladder, gpu_plans)
from .spec import RunSpec, lr_rule
from .sweep import Preset  # the class lives with the runner; the presets are here


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
# smoke, AdamW beta2 (the chapter's code path): one of those sizes at the same rates, shorter
SMOKE_BETA2_SIZE = (2, 24, 2)
SMOKE_BETA2_TOKENS = [262_144]
# smoke, the ladder (lab.ladder; its code path in CI, not its conclusions): the IsoFLOP shapes at
# five of the IsoFLOP budgets an octave's half apart (step 3's runs are the IsoFLOP plan's), and
# for step 4 a stand-in for a fitted eta*(N): 3x lr_rule, the smoke sweep's best for two of its
# three sizes (the chapters pass rates from fitting.fit_lr_law through ladder.tuned_lrs)
SMOKE_LADDER_BUDGETS = SMOKE_ISO_BUDGETS[::3]
# and one size below them: without it the three smallest budgets had their best run at the
# smallest size (1x16) in every step (measured), so too few budgets had an interior minimum
SMOKE_LADDER_SIZES = [(1, 8, 1)] + SMOKE_ISO_SIZES
SMOKE_LADDER_LR_MULT = 3.0

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
# book, WSD chapter: one size's learning-rate sweep (its WSD runs are the lr plan's, defined
# below), compared with cosine runs of the same lengths and rates that also decay to zero
BOOK_WSD_SIZE = (2, 32, 2)

BOOK_COMMON = dict(n_ctx=128, batch_size=16, warmup_steps=50, corpus=STDLIB, seed=0)
# book, learning-rate sweep: the IsoFLOP sizes at 1x-16x lr_rule (factor 2), WSD, each size at
# the tokens of two IsoFLOP budgets (its own run lengths; the rule's runs are cache hits).
# Assumed: 2x32 was best at 2-3x the rule at 700-2,800 steps, narrower models higher; 1x and
# 16x are the margins. The sweep's own interior-optimum check decides. A first sweep also ran
# 0.5x: it was the worst rate or next to it for every size at both budgets (0.07-0.17 nats above
# 1x, measured 2026-12-06) and moved no eta* estimate, so it was dropped (about 200 CPU s of
# the lr, beta2 and wsd plans).
BOOK_LR_BUDGETS = [5e11, 1e12]
BOOK_LR_MULTS = (1.0, 2.0, 4.0, 8.0, 16.0)
# book, AdamW beta2: 0.95 against 0.99 and 0.999, the middle size, the same rates, the shorter
# budget (Porian et al. 2024: beta2 matters at small batch; ours is 16 x 128 bytes)
BOOK_BETA2_SIZE = (2, 32, 2)
BOOK_BETA2 = (0.99, 0.999)
# smoke, a small IsoFLOP sweep with conclusions (assignment A4, a few CPU-minutes): the book's
# grid cut down to its four smallest sizes and every other budget up to 1.52e12 (a factor 1.32
# apart), the same specs as the book's runs (a book store serves them as cache hits). Every
# budget's best run is inside the sizes (measured on the book's runs: 23.7k parameters up to
# 1.15e12, 37.8k at 1.52e12); the WSD groups take about 17k optimizer steps in all
SMALL_ISO_BUDGETS = BOOK_ISO_BUDGETS[0:9:2]
SMALL_ISO_SIZES = BOOK_ISO_SIZES[0:4]

# gpu: one consumer GPU; its design and time estimates are in presets_gpu.py


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
        "ladder": lambda: smoke_ladder().plan(),
        "beta2": lambda: beta2_plan(SMOKE_BETA2_SIZE, SMOKE_LR_MULTS, BOOK_BETA2,
                                    tokens_list=SMOKE_BETA2_TOKENS),
        "isoflop_small": lambda: isoflop_plan("isoflop_small", SMALL_ISO_BUDGETS,
                                              SMALL_ISO_SIZES, flops="full", schedule="wsd",
                                              **BOOK_COMMON),
    }


def smoke_ladder():
    """The smoke preset's ladder (``lab.ladder.ladder_plan``); its plan is the ``ladder`` plan."""
    from .ladder import budgets_6n, ladder_plan

    lrs = {s: SMOKE_LADDER_LR_MULT * lr_rule(s[1]) for s in SMOKE_LADDER_SIZES}
    # step 0's 6N budgets from the IsoFLOP sizes (those the budgets were chosen for)
    b6 = budgets_6n(SMOKE_LADDER_BUDGETS, SMOKE_ISO_SIZES, **BOOK_COMMON)
    return ladder_plan(SMOKE_LADDER_SIZES, SMOKE_LADDER_BUDGETS, lrs, budgets_6n=b6,
                       **BOOK_COMMON)


def _book_plans():
    return {
        "lr": lambda: lr_plan("lr", BOOK_ISO_SIZES, budgets=BOOK_LR_BUDGETS,
                              lr_mults=BOOK_LR_MULTS, schedule="wsd", **BOOK_COMMON),
        "beta2": lambda: beta2_plan(BOOK_BETA2_SIZE, BOOK_LR_MULTS, BOOK_BETA2,
                                    budgets=BOOK_LR_BUDGETS[:1]),
        "ladder": book_ladder_plan,
        "lofn": lambda: grid_plan("lofn", BOOK_LOFN_SIZES, BOOK_LOFN_TOKENS, schedule="cosine",
                                  **BOOK_COMMON),
        "isoflop": lambda: isoflop_plan("isoflop", BOOK_ISO_BUDGETS, BOOK_ISO_SIZES,
                                        flops="full", schedule="wsd", **BOOK_COMMON),
        "wsd": _book_wsd_plan,
    }


def beta2_plan(size, lr_mults, beta2s, **horizons) -> Plan:
    """One size's ``lr_plan`` (WSD; ``horizons``: tokens_list or budgets) at the default beta2
    (0.95) and each of ``beta2s``; labels as ``lr_plan``'s, plus ``beta2``."""
    items = []
    for b2 in (RunSpec.beta2,) + tuple(beta2s):
        kw = {**BOOK_COMMON, **({"beta2": b2} if b2 != RunSpec.beta2 else {})}
        sub = lr_plan("x", [size], lr_mults=lr_mults, schedule="wsd", **horizons, **kw)
        items += [Item(it.spec, it.labels + (("beta2", b2),)) for it in sub.items]
    return Plan("beta2", items)


def tuned_lrs_from_store(preset: str, store, sizes, budget: float | None = None,
                         common: dict | None = None) -> dict:
    """{size: eta*} for the ladder's tuned step: the eta*(N) law of the preset's ``lr`` sweep in
    ``store`` (``check_lr``) at ``budget`` (default: its largest); ``ValueError`` naming the fix
    if the sweep has not run or fails its check."""
    from .ladder import tuned_lrs

    p = get_preset(preset)
    df = p.frame("lr", store)
    want = len(set(p.plans["lr"]().keys()))
    have = 0 if df.empty else df["key"].nunique()
    if have < want:
        raise ValueError(f"the {preset} preset's ladder needs its learning-rate sweep first: "
                         f"{have} of {want} runs are in {store}; run `scaling-lab sweep --preset "
                         f"{preset} --plan lr --store {store}`")
    res = check_lr(df, by="budget", bootstrap=200)
    if not res["ok"]:
        raise ValueError(f"the {preset} preset's learning-rate sweep fails its check, so it gives "
                         f"no tuned rate:\n" + "\n".join(res["lines"]))
    h = max(res["fits"]) if budget is None else float(budget)
    return tuned_lrs(res["fits"][h], sizes, **(BOOK_COMMON if common is None else common))


def book_ladder(store=None):
    """The book's ladder on the IsoFLOP sizes and budgets (step 3 is the IsoFLOP plan; step 4 on
    every other budget, with rates from the ``lr`` sweep in ``store``, or the rule if None)."""
    from .ladder import budgets_6n, ladder_plan

    if store is None:
        lrs = {s: lr_rule(s[1]) for s in BOOK_ISO_SIZES}
    else:
        lrs = tuned_lrs_from_store("book", store, BOOK_ISO_SIZES)
    return ladder_plan(BOOK_ISO_SIZES, BOOK_ISO_BUDGETS, lrs,
                       budgets_6n=budgets_6n(BOOK_ISO_BUDGETS, BOOK_ISO_SIZES, **BOOK_COMMON),
                       tuned_budgets=BOOK_ISO_BUDGETS[::2], **BOOK_COMMON)


def book_ladder_plan(store=None) -> Plan:
    return book_ladder(store).plan()


def _book_wsd_plan() -> Plan:
    """One size's ``lr`` sweep (its WSD runs) beside cosine runs of the same lengths and rates."""
    return _wsd_vs_cosine(BOOK_WSD_SIZE, BOOK_LR_BUDGETS, BOOK_COMMON, lr_mults=BOOK_LR_MULTS)


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
    return {**gpu_plans(), "ladder": lambda store=None: gpu_ladder_of(store).plan()}


def gpu_ladder_of(store=None):
    """The gpu preset's ladder; step 4's rates from the ``lr`` sweep in ``store`` (None: the
    rule stands in, e.g. for a dry run)."""
    return gpu_ladder(None if store is None else tuned_lrs_from_store(
        "gpu", store, GPU_LADDER_SIZES, common=GPU_COMMON))


def ladder_of(preset: str, store=None):
    """The ``lab.ladder.Ladder`` behind preset ``preset``'s ``ladder`` plan (the book's and the
    gpu's tuned step read the ``lr`` sweep from ``store``; None: the rule stands in)."""
    get_preset(preset)
    if "ladder" not in PRESETS[preset].plans:
        raise ValueError(f"preset {preset!r} has no ladder plan")
    return {"smoke": lambda s: smoke_ladder(), "book": book_ladder,
            "gpu": gpu_ladder_of}[preset](store)


PRESETS: dict[str, Preset] = {
    "smoke": Preset(
        "smoke", "CI: five tiny models at ~1M tokens and an L(N) fit, <= 3 min on 2 cores; "
        "small IsoFLOP and WSD plans for the lab chapters' code paths; isoflop_small, a few "
        "CPU-minutes with interior minima (assignment A4)",
        _smoke_plans(), workers=2, threads=1,
        checks={"lofn": lambda df: check_lofn(df, bootstrap=200), "lr": lambda df: check_lr(df),
                "isoflop_small": check_isoflop},
        default_plans=("lofn",),  # the CLI's smoke sweep; the chapters name their plans
    ),
    "book": Preset(
        "book", "the website on a 2-core CPU: L(N), IsoFLOP with interior minima, WSD, the lr sweep "
        "and the ladder; ~40 min",
        _book_plans(), workers=2, threads=1,
        checks={"lofn": lambda df: check_lofn(df, max_rms=0.01),
                "isoflop": check_isoflop},
    ),
    "gpu": Preset(
        "gpu", "one consumer GPU (~25 TFLOP/s assumed): bf16, wider models, more tokens; lofn + "
        "isoflop about 50 min, lr + ladder about 70 min (estimates in presets_gpu.py)",
        _gpu_plans(), workers=1, threads=1,
        checks={"lofn": lambda df: check_lofn(df, max_rms=0.01), "isoflop": check_isoflop,
                "lr": lambda df: check_lr(df, by="budget")},
    ),
}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; ``ValueError`` listing the known ones otherwise."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}")
    return PRESETS[name]
