"""Taking the lab's compute-optimal ratio apart into measured factors (issue 14, item 4).

* :func:`step_factors`: how much each ladder step (``lab.ladder``) multiplies tokens per parameter
  at the middle budget, with an interval from the two steps' bootstrap draws;
* :func:`drift_factor`: how much a law's compute-optimal ratio grows or shrinks between two
  budgets (e.g. Epoch's refit of Chinchilla's law between the lab's budget and Hoffmann et al.'s);
* :func:`ratio_chain`: the lab's ratio carried, factor by factor, towards Chinchilla's.

Every factor is a ratio of two measured numbers, so its interval comes from pairing the two
numbers' bootstrap draws. Draws of two fits on different runs are independent, and are paired at
random; fits on the same runs (ladder steps 0 and 1 read the same long runs) are correlated, and
the random pairing then gives an interval that is wider than the truth (conservative): the
functions say which they did.
"""

from __future__ import annotations

import numpy as np


def ratio_interval(num, den, ci_level: float = 0.95, seed: int = 0) -> tuple:
    """Percentile interval of num / den over randomly paired draws of each (arrays of draws)."""
    num, den = np.asarray(num, float), np.asarray(den, float)
    num, den = num[np.isfinite(num) & (num > 0)], den[np.isfinite(den) & (den > 0)]
    if len(num) < 2 or len(den) < 2:
        return (np.nan, np.nan)
    if not 0 < ci_level < 1:
        raise ValueError(f"ci_level must be in (0, 1), e.g. 0.95; got {ci_level!r}")
    rng = np.random.default_rng(seed)
    n = max(len(num), len(den))
    r = rng.choice(num, n) / rng.choice(den, n)
    q = 100 * np.array([(1 - ci_level) / 2, (1 + ci_level) / 2])
    return tuple(float(v) for v in np.percentile(r, q))


def step_factors(table, fits, ladder=None, ci_level: float = 0.95, seed: int = 0):
    """One row per ladder step after the first: the factor by which that step's change multiplies
    tokens per parameter at the middle budget (``tpp[k] / tpp[k-1]``, each step at its own middle
    budget and convention: a ``lab.ladder.ladder_table``), with a ``ci_level`` interval from the
    two fits' bootstrap draws paired at random. With the ``ladder`` given, ``shared_runs`` marks
    a step that reads runs of the step before (its interval is then conservative)."""
    import pandas as pd

    t = table.sort_values("step").reset_index(drop=True)
    if len(t) < 2:
        raise ValueError("table has fewer than two ladder steps; give ladder_table's output")
    rows = []
    for prev, cur in zip(t.itertuples(), t.iloc[1:].itertuples()):
        _, d1 = fits[cur.step].draws_at(cur.C_mid)
        _, d0 = fits[prev.step].draws_at(prev.C_mid)
        lo, hi = ratio_interval(d1, d0, ci_level, seed)
        rows.append({"step": cur.step, "change": cur.setup,
                     "factor": cur.tokens_per_param / prev.tokens_per_param,
                     "lo": lo, "hi": hi, "shared_runs": _shared(ladder, prev.step, cur.step)})
    return pd.DataFrame(rows)


def _shared(ladder, a: int, b: int):
    if ladder is None:
        return None
    keys = {st.step: set(st.plan.keys()) for st in ladder.steps if st.plan is not None}
    return bool(keys.get(a, set()) & keys.get(b, set()))


def drift_factor(law, C_from: float, C_to: float) -> float:
    """A law's compute-optimal tokens per parameter at ``C_to`` over that at ``C_from`` (its own
    closed form, C = 6ND): how far the ratio drifts between two budgets under that law."""
    for name, v in (("C_from", C_from), ("C_to", C_to)):
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a positive, finite number of FLOPs; got {v!r}")
    return float(law.optimal(C_to).tokens_per_param / law.optimal(C_from).tokens_per_param)


def ratio_chain(tpp_bytes: float, bytes_per_token: float, drift: float, reference: float):
    """The lab's ratio in bytes per parameter carried to a reference ratio: divided by bytes per
    token (the same text in tokens), times the law's drift to the reference budget. Returns
    a dict: tokens_per_param (here), at_reference (after the drift) and left (at_reference over
    ``reference``: the factor the measured pieces leave unexplained)."""
    tok = float(tpp_bytes) / float(bytes_per_token)
    at_ref = tok * float(drift)
    return {"tokens_per_param": tok, "at_reference": at_ref, "left": at_ref / float(reference)}
