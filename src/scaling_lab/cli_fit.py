"""``scaling-lab fit {chinchilla,isoflop,power}`` and ``scaling-lab optimal``.

    scaling-lab fit chinchilla RUNS.csv [--bootstrap K] [--seed S] [--json]
    scaling-lab fit isoflop RUNS.csv [--method local|parabola|argmin] [--window DECADES]
                                     [--keep-edges] [--bootstrap K] [--resample runs|residuals|parametric]
                                     [--json]
    scaling-lab fit power RUNS.csv --x COL --y COL [--offset] [--method log|nls] [--json]
    scaling-lab optimal --law NAME|FIT.json --flops C [--json]

RUNS.csv has one row per training run with columns N (parameters), D (tokens), C (training FLOPs)
and loss (nats/token); either D or C may be left out and is then derived with C = 6 N D.
Bad input raises ValueError/OSError, which ``scaling_lab.cli.main`` prints as one line (exit 2).
"""

from __future__ import annotations

import json
import os

import numpy as np


def read_runs(path: str, need=("N", "loss"), derive_DC: bool = True):
    """Read a runs CSV into a DataFrame; derive D or C with C = 6ND; clear errors for bad files."""
    import pandas as pd

    try:
        df = pd.read_csv(path, skipinitialspace=True)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).strip().splitlines()[0]
        raise ValueError(f"cannot read {path}: {reason}") from None
    df.columns = [str(c).strip() for c in df.columns]
    found = ", ".join(df.columns) if len(df.columns) else "none"
    for col in need:
        if col not in df.columns:
            raise ValueError(f"{path} has no column {col!r}; found columns: {found}")
    if derive_DC:
        if "D" not in df.columns and "C" not in df.columns:
            raise ValueError(f"{path} needs a column 'D' (tokens) or 'C' (FLOPs), or both; found columns: {found}")
    if len(df) == 0:
        raise ValueError(f"{path} has a header but no rows")
    for col in df.columns:
        if col in need or col in ("D", "C"):
            num = pd.to_numeric(df[col], errors="coerce")
            bad = num.isna() & df[col].notna()
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise ValueError(f"{path}: column {col!r} has a non-number {df[col].iloc[i]!r} at row {i} (fix or drop that row)")
            df[col] = num.astype(float)
    if derive_DC and "C" in df.columns and "D" in df.columns:
        sixnd = 6.0 * df["N"] * df["D"]
        ndc = df[["N", "D", "C"]]
        valid = (ndc > 0).all(axis=1) & np.isfinite(ndc).all(axis=1)
        off = ~np.isclose(df["C"], sixnd, rtol=0.05) & valid
        if off.any():
            i = int(np.flatnonzero(off.to_numpy())[0])
            raise ValueError(
                f"{path}: columns 'D' and 'C' disagree at row {i} (C = {df['C'].iloc[i]:.4g} but "
                f"6 N D = {sixnd.iloc[i]:.4g}, {int(off.sum())} row(s) in all); fix them or keep "
                f"only one of the two columns (the other is derived with C = 6 N D)")
    if derive_DC:
        if "C" not in df.columns:
            df["C"] = 6.0 * df["N"] * df["D"]
        elif "D" not in df.columns:
            df["D"] = df["C"] / (6.0 * df["N"])
    return df


def _print(res, as_json: bool, extra: dict | None = None) -> None:
    if as_json:
        d = res.to_dict() if hasattr(res, "to_dict") else dict(res)
        if extra:
            d = {**extra, **d}
        print(json.dumps(d, allow_nan=False))
    else:
        print(res.summary())


def cmd_chinchilla(args) -> int:
    from .fitting import fit_chinchilla

    if not (np.isfinite(args.flops) and args.flops > 0):
        raise ValueError(f"--flops must be a positive, finite number of FLOPs (e.g. 5.76e23); "
                         f"got {args.flops:g}")
    df = read_runs(args.runs)
    res = fit_chinchilla(df["N"].to_numpy(), df["D"].to_numpy(), df["loss"].to_numpy(), bootstrap=args.bootstrap, seed=args.seed)
    _print(res, args.json)
    if not args.json:
        alloc = res.law.optimal(args.flops)
        print(f"  at C = {args.flops:.3g} FLOPs: N_opt = {alloc.N_opt:.3g}, D_opt = {alloc.D_opt:.3g}, "
              f"{alloc.tokens_per_param:.3g} tokens/param, loss {alloc.loss:.4g}")
    return 0


def cmd_isoflop(args) -> int:
    from .fitting import fit_isoflop

    df = read_runs(args.runs)
    res = fit_isoflop(df["N"].to_numpy(), df["C"].to_numpy(), df["loss"].to_numpy(),
                      method=args.method, window=args.window,
                      edges="keep" if args.keep_edges else "exclude", bootstrap=args.bootstrap,
                      resample=args.resample, seed=args.seed)
    _print(res, args.json)
    return 0


def cmd_power(args) -> int:
    from .fitting import fit_power_law

    df = read_runs(args.runs, need=(args.x, args.y), derive_DC=False)
    res = fit_power_law(df[args.x].to_numpy(), df[args.y].to_numpy(), offset=args.offset, method=args.method, bootstrap=args.bootstrap, seed=args.seed)
    _print(res, args.json, extra={"x": args.x, "y": args.y})
    return 0


def load_law(spec: str):
    """A law by name (``scaling_lab.laws.get_law``) or from the JSON of ``fit chinchilla --json``."""
    from .laws import ChinchillaLaw, get_law

    if spec.lower().endswith(".json") or os.path.sep in spec or os.path.exists(spec):
        try:
            with open(spec) as fh:
                d = json.load(fh)
        except OSError as exc:
            raise ValueError(f"cannot read {spec}: {exc.strerror or exc}") from None
        except json.JSONDecodeError as exc:
            raise ValueError(f"cannot read {spec}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        keys = ("E", "A", "B", "alpha", "beta")
        missing = [k for k in keys if not isinstance(d, dict) or k not in d]
        if missing:
            raise ValueError(f"{spec} lacks {', '.join(missing)}: pass the JSON printed by `scaling-lab fit chinchilla --json`")
        vals = []
        for k in keys:
            v = d[k]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
                raise ValueError(f"--law {spec}: {k} is {json.dumps(v)}, not a finite number; "
                                 f"pass the JSON printed by `scaling-lab fit chinchilla --json`")
            vals.append(float(v))
        try:
            rng = (d.get("diagnostics") or {}).get("fitted_flops")
            rng = tuple(rng) if isinstance(rng, list) and len(rng) == 2 else None
            return ChinchillaLaw(*vals, name=os.path.basename(spec), fitted_flops=rng)
        except ValueError as exc:
            raise ValueError(f"--law {spec}: {exc}") from None
    return get_law(spec)


def _warn_outside_fitted_range(law, flops: float, factor: float = 1e3) -> None:
    """One line on stderr when ``flops`` is more than ``factor`` outside the FLOPs the law's
    runs were trained with (published laws carry it: ``scaling_lab.published``)."""
    import sys

    lo, hi = getattr(law, "fitted_flops", None) or (None, None)
    if lo is None or lo / factor <= flops <= hi * factor:
        return
    print(f"scaling-lab optimal: warning: --flops {flops:.3g} is far outside the {lo:.2g} to "
          f"{hi:.2g} FLOPs the law {law.name or ''} was fitted on; the allocation is an "
          f"extrapolation over {abs(np.log10(flops / (lo if flops < lo else hi))):.0f} decades",
          file=sys.stderr)


def cmd_optimal(args) -> int:
    if not (np.isfinite(args.flops) and args.flops > 0):
        raise ValueError(f"--flops must be a positive, finite number of FLOPs (e.g. 5.76e23); got {args.flops:g}")
    law = load_law(args.law)
    _warn_outside_fitted_range(law, args.flops)
    alloc = law.optimal(args.flops)
    d = {k: (float(v) if np.ndim(v) == 0 else np.asarray(v).tolist()) for k, v in alloc.to_dict().items()}
    out = {"law": args.law, **d}
    if args.json:
        print(json.dumps(out, allow_nan=False))
    else:
        print(f"{args.law} at C = {args.flops:.4g} FLOPs:")
        print(f"  N_opt            {d['N_opt']:.4g} parameters")
        print(f"  D_opt            {d['D_opt']:.4g} tokens")
        print(f"  tokens_per_param {d['tokens_per_param']:.4g}")
        print(f"  loss             {d['loss']:.4g}")
    return 0


def register(subparsers) -> None:
    """Add ``fit`` (with ``chinchilla``, ``isoflop``, ``power``) and ``optimal`` to the CLI."""
    fit = subparsers.add_parser("fit", help="fit a scaling law to a CSV of runs", description=__doc__.splitlines()[0])
    kinds = fit.add_subparsers(dest="kind", required=True)

    def common(p, boot=True):
        p.add_argument("runs", metavar="RUNS.csv", help="CSV with columns N, D and/or C, loss")
        if boot:
            p.add_argument("--bootstrap", type=int, default=0, metavar="K", help="bootstrap resamples for se and ci (default 0)")
            p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
        p.add_argument("--json", action="store_true", help="print one JSON object")

    p = kinds.add_parser("chinchilla", help="approach 3: L = E + A/N^alpha + B/D^beta (Huber, 4500-start L-BFGS)")
    common(p)
    p.add_argument("--flops", type=float, default=5.76e23, help="budget for the printed allocation (default 5.76e23)")
    p.set_defaults(func=cmd_chinchilla)

    p = kinds.add_parser("isoflop", help="approach 2: per-budget optima, then N_opt ~ C^a, D_opt ~ C^b")
    common(p)
    p.add_argument("--method", choices=("local", "parabola", "argmin"), default="local",
                   help="vertex per budget: a parabola within --window decades of the best run "
                        "(default), one over all runs, or the best run")
    p.add_argument("--window", type=float, default=1.0,
                   help="decades of N either side of a budget's best run (default 1)")
    p.add_argument("--keep-edges", action="store_true",
                   help="use budgets whose best run is their smallest or largest size "
                        "(left out by default: their vertex is an extrapolation)")
    p.add_argument("--resample", choices=("runs", "residuals", "parametric"), default="runs",
                   help="what the bootstrap resamples (default: runs within each budget)")
    p.set_defaults(func=cmd_isoflop)

    p = kinds.add_parser("power", help="y = A x^-alpha (or E + A x^-alpha with --offset) between two columns")
    common(p)
    p.add_argument("--x", required=True, metavar="COL", help="column of x")
    p.add_argument("--y", required=True, metavar="COL", help="column of y")
    p.add_argument("--offset", action="store_true", help="fit an irreducible floor E")
    p.add_argument("--method", choices=("log", "nls"), default="log", help="residuals in log y (default) or y")
    p.set_defaults(func=cmd_power)

    p = subparsers.add_parser("optimal", help="compute-optimal N, D for a FLOP budget under a published or fitted law")
    p.add_argument("--law", required=True, help="kaplan2020, hoffmann2022, hoffmann2022-unrounded, besiroglu2024, or FIT.json")
    p.add_argument("--flops", required=True, type=float, metavar="C", help="training FLOPs")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_optimal)
