"""Reading the ladder (``lab.ladder``): every step's runs re-binned to its budgets in its own
counting convention, approach 2 per step (:func:`ladder_table`), and Porian et al.'s published
ladder beside it (:func:`with_porian`)."""

from __future__ import annotations

import numpy as np

from .analysis import flops_per_token_fn, with_convention

def read_at_budgets(df, budgets, convention: str, tol: float = 0.02):
    """The rows of a results or history frame that sit at ``budgets`` in ``convention``.

    Re-binning: every row's C is recomputed as tokens x the convention's FLOPs per token
    (``analysis.with_convention``: 6 N_non-embedding, or the full count with total N), so rows
    that shared a budget in one convention need not share it in another. A row belongs to the
    budget nearest in log C if its C is within a factor ``1 + tol`` of it (the rounding of read
    points to whole optimizer steps is well inside; budgets a fifth of an octave apart are 15%
    apart), and per (run ``key``, budget) the nearest row is kept; other rows are dropped. The
    kept rows' ``C`` is the budget (``C_read`` keeps their own), so that ``fit_isoflop`` groups
    them."""
    b = np.sort(np.asarray(budgets, float))
    d = with_convention(df.drop(columns=[c for c in ("N", "C", "fpt") if c in df]), convention)
    d = d[(d["status"] == "ok") & np.isfinite(d["val_loss"].astype(float))].copy()
    lc = np.log(d["C"].to_numpy(float))
    j = np.abs(lc[:, None] - np.log(b)[None, :]).argmin(1)
    dist = np.abs(lc - np.log(b)[j])
    d["budget"], d["dist"], d["C_read"] = b[j], dist, d["C"]
    d = d[dist <= np.log1p(tol)].sort_values("dist").drop_duplicates(["key", "budget"])
    d["C"] = d["budget"]
    return d.drop(columns="dist").sort_values(["budget", "N"]).reset_index(drop=True)


def _frames(source, ladder) -> dict:
    if isinstance(source, dict):
        return source
    from .store import ResultStore, results_frame

    store = ResultStore(source) if not isinstance(source, ResultStore) else source
    out = {}
    for st in ladder.steps:
        keys = set(st.plan.keys())
        out[st.step] = (store.history_frame(keys) if st.read == "curve"
                        else results_frame(store.results(), keys))
    return out


def ladder_table(source, ladder, *, bootstrap: int = 200, seed: int = 0,
                 tol: float = 0.02, edges: str = "exclude", resample: str = "parametric",
                 ci_level: float = 0.95):
    """Approach 2 for every step: ``(table, fits)``.

    source: a ``ResultStore`` (or its path), read per step through the ladder's plans (history
            rows of "curve" steps, last rows of "final" ones), or {step: frame} made elsewhere
            (columns key, status, tokens, val_loss, params_total, params_non_embedding,
            flops_per_token_full).
    Per step: rows re-binned to its budgets in its convention (:func:`read_at_budgets`), then
    ``fitting.fit_isoflop`` (local parabolas; ``edges``; ``bootstrap`` refits, ``resample``:
    "parametric" by default, as chapter 7's headline; with five sizes per budget, resampling
    the runs themselves makes degenerate parabolas: on the book's step 0 it gave [0.42, 0.67]
    around a = 0.72, an interval that does not contain its estimate)
    with N in the step's convention and D = C / f(N), f = 6N or the full count as a smooth
    function of total N (``analysis.flops_per_token_fn``). The table: a and its interval, and
    tokens per parameter at the middle budget (the step's own, in its convention) with its
    interval; ``fits`` maps step -> AllocationFit."""
    import pandas as pd

    from scaling_lab.fitting import fit_isoflop

    frames = _frames(source, ladder)
    rows, fits = [], {}
    for st in ladder.steps:
        if st.step not in frames:
            raise ValueError(f"no runs for ladder step {st.step}; give a frame for every step")
        d = read_at_budgets(frames[st.step], st.budgets, st.convention, tol)
        if st.convention == "6n":
            def f(N):
                return 6.0 * np.asarray(N, float)
        else:
            f = flops_per_token_fn(d["N"], d["fpt"])
        try:
            fit = fit_isoflop(d["N"], d["C"], d["val_loss"], flops_per_token=f, edges=edges,
                              bootstrap=bootstrap, resample=resample, seed=seed,
                              ci_level=ci_level)
        except ValueError as e:
            raise ValueError(f"ladder step {st.step} ({st.setup}): {e}") from e
        C_mid = sorted(st.budgets)[len(st.budgets) // 2]
        p = fit.at(C_mid)
        (a_lo, a_hi) = fit.ci["a"] if fit.ci else (np.nan, np.nan)
        (t_lo, t_hi) = p.tokens_per_param_ci or (np.nan, np.nan)
        rows.append({"step": st.step, "setup": st.setup, "convention": st.convention,
                     "runs": int(d["key"].nunique()), "budgets": len(st.budgets),
                     "budgets_used": int(fit.used.sum()), "a": fit.params["a"], "a_lo": a_lo,
                     "a_hi": a_hi, "C_mid": C_mid, "N_opt_mid": p.N_opt,
                     "tokens_per_param": p.tokens_per_param, "tpp_lo": t_lo, "tpp_hi": t_hi})
        fits[st.step] = fit
    return pd.DataFrame(rows), fits


def with_porian(table=None):
    """Porian et al.'s published ladder (``published.PORIAN2024_REFINEDWEB``, RefinedWeb) step by
    step, beside the lab's ``table`` from :func:`ladder_table` when given: columns step,
    porian_setup, porian_a (and the table's columns)."""
    import pandas as pd

    from scaling_lab.published import PORIAN2024_REFINEDWEB, PORIAN2024_SOURCE

    pub = pd.DataFrame({"step": range(len(PORIAN2024_REFINEDWEB)),
                        "porian_setup": [s.label for s in PORIAN2024_REFINEDWEB],
                        "porian_a": [s.a for s in PORIAN2024_REFINEDWEB],
                        "porian_source": str(PORIAN2024_SOURCE.key + ", "
                                             + PORIAN2024_SOURCE.where)})
    return pub if table is None else table.merge(pub, on="step", how="left")
