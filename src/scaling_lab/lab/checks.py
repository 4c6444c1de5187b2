"""The acceptance checks the presets run on their plans' results: fits from ``scaling_lab.fitting``
with intervals, and a verdict (``ok``) with the lines the sweep prints."""

from __future__ import annotations

import math
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


def check_lr(df, n_col: str = "params_non_embedding", bootstrap: int = 1000, seed: int = 0,
             by: str = "horizon"):
    """A learning-rate sweep's acceptance (an ``lr_plan``'s frame, labels ``lr`` and ``horizon``):
    per horizon, every size's best swept peak learning rate is inside the sweep (the optimum is
    bracketed) and eta*(N) = c N^-k (N = ``n_col``) has a finite bootstrap interval for k; with
    two horizons or more, eta* at the longest over eta* at the shortest, with its interval.
    ``by``: the column that names a horizon, "horizon" (tokens, the same for every size) or
    "budget" (FLOPs: an ``lr_plan(budgets=...)``, each size at its own token count).
    Diverged runs are left out (and counted). Returns ``ok``, ``lines``, ``optima``
    (``fitting.lr_optima`` per size and horizon, with the best rate and eta* as multiples of
    ``lr_rule``), ``fits`` {horizon: LRLawFit} and ``shift``."""
    import numpy as np

    from scaling_lab.fitting import fit_lr_law, lr_optima, lr_shift

    from .spec import lr_rule

    n_div = int((df["status"] != "ok").sum())
    df = df[df["status"] == "ok"]
    N, lr = df[n_col].to_numpy(float), df["lr"].to_numpy(float)
    if by not in ("horizon", "budget") or by not in df:
        raise ValueError(f"by must be 'horizon' or 'budget', a column of the sweep's frame; got "
                         f"{by!r} (frame columns: {', '.join(map(str, df.columns))})")
    loss, H = df["val_loss"].to_numpy(float), df[by].to_numpy(float)
    unit = "tokens" if by == "horizon" else "FLOPs"
    width = dict(zip(N, df["d_model"].astype(int)))
    optima = lr_optima(N, lr, loss, H)
    ok, lines, fits = True, [], {}
    for o in optima:
        o["lr_best_mult"] = o["lr_best"] / lr_rule(width[o["x"]])
        o["lr_opt_mult"] = o["lr_opt"] / lr_rule(width[o["x"]])
        ok &= o["inside"]
    for h in sorted(set(H)):
        sel = H == h
        head = (f"horizon {h:,.0f} tokens:" if by == "horizon" else f"budget {h:.3g} FLOPs:")
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
            lines.append(f"eta* at {shift.long:,.6g} over {shift.short:,.6g} {unit}: "
                         f"{shift.ratio:.3f} [{lo:.3f}, {hi:.3f}] (slope {shift.slope:.3f})")
        except ValueError as e:
            lines.append(f"no shift between horizons ({e})")
    lines.insert(0, f"learning-rate sweep: {len(optima)} (size, horizon) optima, "
                    f"{sum(o['inside'] for o in optima)} inside"
                    + (f", {n_div} diverged run(s) left out" if n_div else "")
                    + f" -> {'ok' if ok else 'FAILED'}")
    return {"ok": bool(ok), "lines": lines, "optima": optima, "fits": fits, "shift": shift}
