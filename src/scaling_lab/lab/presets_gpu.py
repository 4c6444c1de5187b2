"""The ``gpu`` preset's design: one consumer GPU for about an hour per part, not runnable on the
book's machine, so ``scaling-lab sweep --preset gpu --dry-run`` builds every shape of every plan
and steps it twice on the CPU. ``presets.py`` assembles the preset from these constants (and
reads the learning-rate sweep from the store for the ladder's tuned step).

Time is estimated from FLOPs, counted in full (``scaling_lab.flops``, method "full"), at an
assumed ~25 TFLOP/s achieved in bf16 on one consumer GPU; the optimizer steps' fixed overheads
are not in it. A WSD group costs its longest run plus each other branch's cooldown; a run that
the store already holds (a cache hit) costs nothing. Measured with :func:`plan_flops`:

* ``lofn`` 3.4e16 FLOPs (22 min), ``isoflop`` 4.0e16 (27 min): about 50 min together;
* ``lr`` 5.5e16 FLOPs in all, 4.4e16 new (29 min: its multiple-1 runs are IsoFLOP runs);
* ``ladder`` 8.2e16 FLOPs in all, 6.1e16 new (41 min: step 3 is the IsoFLOP plan's runs, step 1
  re-reads step 0's); with the ``lr`` sweep about 70 min, the whole preset about two hours.
"""

from __future__ import annotations

from .plans import Plan, grid_plan, isoflop_plan, lr_plan

# n_ctx 256, 64 sequences per step (16k tokens); bf16 autocast on CUDA ("auto"). At the top
# budget the smallest model sees the ~30 MB stdlib corpus dozens of times, so for real use prefer
# a larger corpus (local:PATH or hf:NAME).
GPU_COMMON = dict(n_ctx=256, batch_size=64, warmup_steps=200, corpus="stdlib", seed=0,
                  dtype="auto")
GPU_SIZES = [(2, 128, 4), (3, 160, 5), (4, 192, 6), (4, 256, 8), (6, 320, 10), (6, 384, 12),
             (8, 512, 16)]
GPU_LOFN_TOKENS = 100_000_000
# The IsoFLOP grid has the book preset's design (budgets a fifth of an octave apart, every size
# at every budget); its five sizes bracket an assumed 50-150 tokens per parameter at both its
# smallest and its largest budget.
GPU_BUDGETS = [float(f"{1e15 * 2 ** (k / 5):.3g}") for k in range(11)]  # 1e15 to 4e15
GPU_ISO_SIZES = GPU_SIZES[0:5]
# Learning-rate sweep (issue 14), the book's design: the IsoFLOP sizes at peak learning rates a
# factor 2 apart, as multiples of lr_rule, WSD, each size at the token counts of two IsoFLOP
# budgets a factor 2 apart (so the rule's runs are IsoFLOP runs, cache hits). Five multiples
# (0.5x to 8x), not the book's six, to keep to about half an hour; the sweep's interior-optimum
# check (check_lr) says whether 8x was far enough.
GPU_LR_BUDGETS = [GPU_BUDGETS[0], GPU_BUDGETS[5]]  # 1e15, 2e15
GPU_LR_MULTS = (0.5, 1.0, 2.0, 4.0, 8.0)
# The ladder (lab.ladder) on the IsoFLOP sizes at every other IsoFLOP budget up to 3.03e15 (five
# budgets a factor 1.32 apart, 0.48 decades): the full grid's ladder would take 61 min of new
# runs instead of 41, most of it in steps 0 and 2's long cosine runs, whose cost grows with the
# largest budget, not with the number of budgets.
GPU_LADDER_BUDGETS = GPU_BUDGETS[0:9:2]
GPU_LADDER_SIZES = GPU_ISO_SIZES


def gpu_plans() -> dict:
    """The plans that need no store: ``lofn``, ``isoflop``, ``lr``."""
    return {
        "lofn": lambda: grid_plan("lofn", GPU_SIZES, GPU_LOFN_TOKENS, schedule="cosine",
                                  **GPU_COMMON),
        "isoflop": lambda: isoflop_plan("isoflop", GPU_BUDGETS, GPU_ISO_SIZES, flops="full",
                                        schedule="wsd", **GPU_COMMON),
        "lr": lambda: lr_plan("lr", GPU_ISO_SIZES, budgets=GPU_LR_BUDGETS,
                              lr_mults=GPU_LR_MULTS, schedule="wsd", **GPU_COMMON),
    }


def gpu_ladder(lrs: dict | None = None):
    """The gpu ladder; step 4 at ``lrs`` ({size: eta*}, from the ``lr`` sweep), or with
    ``None`` at the rule (the same shapes and lengths, e.g. for a dry run)."""
    from .ladder import budgets_6n, ladder_plan
    from .spec import lr_rule

    if lrs is None:
        lrs = {s: lr_rule(s[1]) for s in GPU_LADDER_SIZES}
    return ladder_plan(GPU_LADDER_SIZES, GPU_LADDER_BUDGETS, lrs,
                       budgets_6n=budgets_6n(GPU_LADDER_BUDGETS, GPU_LADDER_SIZES, **GPU_COMMON),
                       **GPU_COMMON)


def plan_flops(plan: Plan, done=frozenset()) -> float:
    """Training FLOPs (full count) of the runs of ``plan`` whose keys are not in ``done``, as
    the runner trains them: a WSD group is its longest run plus every other branch's cooldown
    (``cooldown_frac`` of that branch's tokens); evaluations are not counted."""
    from scaling_lab.flops import flops_per_token

    total = 0.0
    for job in plan.jobs(set(done)):
        f = flops_per_token(job[0].shape(), method="full")
        longest = max(job, key=lambda s: s.tokens)
        total += f * (longest.tokens + sum(s.cooldown_frac * s.tokens for s in job
                                           if s is not longest))
    return float(total)
