"""What a preset's store shows, in one object: the command line's ``scaling-lab report``.

:func:`summarize` reads a preset's results store and returns a dict that ``json.dumps`` writes
as is (non-finite numbers become ``null``); ``cli_report.format_text`` prints it as text. A part
whose runs are not in the store yet is reported, with the command that trains them, never a
traceback. The fields (stable; new ones may be added, none renamed):

* ``schema`` ("scaling-lab-report/1"), ``preset``, ``store``, ``runs_in_store``, ``bootstrap``.
* Every part (``lr``, ``ladder``, ``tokens``) has ``status``: "ok"; "missing" (no runs yet) or
  "incomplete" (some), both with ``command``, the sweep that trains them, and ``runs_have`` /
  ``runs_want``; "failed" (the fit or check could not be made: ``error``); or "absent" (the
  preset has no such plan). ``message`` says it in words whenever status is not "ok".
* ``lr``: the learning-rate sweep (``checks.check_lr``). ``by`` ("horizon": tokens, or "budget":
  FLOPs), ``ok`` (every size's best rate inside the sweep, every law with a finite interval),
  ``laws`` [{``horizon``, ``k``, ``k_lo``, ``k_hi``, ``c``, ``c_lo``, ``c_hi``, ``sizes_used``,
  ``sizes``}] for eta*(N) = c N^-k with N non-embedding parameters, ``optima`` [{``horizon``,
  ``N``, ``lr_best``, ``lr_opt``, ``lr_best_mult``, ``lr_opt_mult`` (multiples of
  ``lr_rule``), ``inside``, ``lr_min``, ``lr_max``}], ``shift`` ({``short``, ``long``, ``ratio``,
  ``ratio_lo``, ``ratio_hi``, ``slope``, ``slope_lo``, ``slope_hi``}: eta* at the longest horizon
  over the shortest; null with one horizon), ``published`` (DeepSeek LLM's law in C), ``lines``
  (the check's own lines, as ``scaling-lab sweep`` prints them).
* ``ladder``: ``steps`` [one per step of ``lab.ladder``: ``step``, ``setup``, ``convention``,
  ``status``, ``runs``, ``budgets``, ``budgets_used``, ``a``, ``a_lo``, ``a_hi``, ``C_mid``,
  ``N_opt_mid``, ``tokens_per_param``, ``tpp_lo``, ``tpp_hi`` (D / N at the middle budget; the
  lab's D counts bytes), ``porian_setup``, ``porian_a``], ``porian_source``.
* ``tokens``: ``corpus``, ``table`` [{``vocab_size``, ``bytes_per_token``, ``val_bytes``,
  ``val_tokens``}] (the first row is the byte-level lab, 256), and ``optimum``: the ladder's last
  step with a fit, at its middle budget: ``step``, ``C_mid``, ``bytes_per_param`` with ``lo`` and
  ``hi``, and ``per_vocab`` [{``vocab_size``, ``tokens_per_param``, ``lo``, ``hi``}]
  (``tokens.tokens_per_parameter``: the same text in another unit, not a BPE model's optimum).
"""

from __future__ import annotations

import math

SCHEMA = "scaling-lab-report/1"
SMOKE_VOCAB_SIZES = (1024, 4096)  # the smoke preset's table: two sizes, tens of seconds


def _num(v):
    """A JSON-safe number: float, or None when not finite."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _sweep(preset, plan: str, store) -> str:
    return f"scaling-lab sweep --preset {preset.name} --plan {plan} --store {store}"


def _coverage(preset, plan: str, keys: set, store, have: set) -> dict | None:
    """None if every run of ``keys`` is in the store, else the part's missing/incomplete dict."""
    got = len(keys & have)
    if got == len(keys):
        return None
    st = "missing" if got == 0 else "incomplete"
    return {"status": st, "runs_have": got, "runs_want": len(keys),
            "command": _sweep(preset, plan, store),
            "message": f"{got} of {len(keys)} runs of the {plan!r} plan are in the store"}


def lr_part(preset, store, have: set, bootstrap: int = 200) -> dict:
    from scaling_lab.published import BI2024_LR

    from .checks import check_lr

    if "lr" not in preset.plans:
        return {"status": "absent", "message": f"preset {preset.name!r} has no 'lr' plan"}
    plan = preset.build("lr", store)
    gap = _coverage(preset, "lr", set(plan.keys()), store, have)
    if gap:
        return gap
    df = preset.frame("lr", store)
    by = "budget" if "budget" in df else "horizon"
    try:
        res = check_lr(df, by=by, bootstrap=bootstrap)
    except ValueError as e:
        return {"status": "failed", "error": str(e), "message": f"no eta*(N) fit: {e}"}
    laws = []
    for h, fit in sorted(res["fits"].items()):
        (klo, khi) = fit.ci["k"] if fit.ci else (None, None)
        (clo, chi) = fit.ci["c"] if fit.ci else (None, None)
        laws.append({"horizon": _num(h), "k": _num(fit.k), "k_lo": _num(klo), "k_hi": _num(khi),
                     "c": _num(fit.c), "c_lo": _num(clo), "c_hi": _num(chi),
                     "sizes_used": int(fit.used.sum()), "sizes": len(fit.used)})
    optima = [{"horizon": _num(o["horizon"]), "N": _num(o["x"]), "lr_best": _num(o["lr_best"]),
               "lr_opt": _num(o["lr_opt"]), "lr_best_mult": _num(o["lr_best_mult"]),
               "lr_opt_mult": _num(o["lr_opt_mult"]), "inside": bool(o["inside"]),
               "lr_min": _num(o["lr_range"][0]), "lr_max": _num(o["lr_range"][1])}
              for o in res["optima"]]
    shift = None
    if res["shift"] is not None:
        s = res["shift"]
        ci = s.ci or {}
        shift = {"short": _num(s.short), "long": _num(s.long), "ratio": _num(s.ratio),
                 "ratio_lo": _num(ci.get("ratio", (None,) * 2)[0]),
                 "ratio_hi": _num(ci.get("ratio", (None,) * 2)[1]), "slope": _num(s.slope),
                 "slope_lo": _num(ci.get("slope", (None,) * 2)[0]),
                 "slope_hi": _num(ci.get("slope", (None,) * 2)[1])}
    out = {"status": "ok", "by": by, "unit": "tokens" if by == "horizon" else "FLOPs",
           "n": "params_non_embedding", "ok": bool(res["ok"]), "laws": laws, "optima": optima,
           "shift": shift, "lines": res["lines"],
           "published": {"name": "DeepSeek LLM", "key": BI2024_LR.source.key,
                         "where": BI2024_LR.source.where, "coefficient": BI2024_LR.coefficient,
                         "exponent": BI2024_LR.exponent, "of": "C (FLOPs, the paper's count)"}}
    if not res["ok"]:
        out["message"] = "the sweep fails its check (see lines)"
    return out


def ladder_part(preset, store, have: set, bootstrap: int = 200):
    """(part, ladder table or None)."""
    import pandas as pd

    from .ladder import Ladder, ladder_table, with_porian
    from .presets import ladder_of
    from scaling_lab.published import PORIAN2024_SOURCE

    if "ladder" not in preset.plans:
        return {"status": "absent", "message": f"preset {preset.name!r} has no 'ladder' plan"}, None
    try:
        ladder = ladder_of(preset.name, store)
    except ValueError as e:  # the tuned step needs the lr sweep first
        return {"status": "missing", "error": str(e), "command": _sweep(preset, "lr", store)
                + " && " + _sweep(preset, "ladder", store),
                "message": "its tuned step reads the learning-rate sweep, which is not ready "
                           "(see the sweep above)"}, None
    gap = _coverage(preset, "ladder", set(ladder.plan().keys()), store, have)
    if gap:
        return gap, None
    rows = []
    for st in ladder.steps:
        try:
            t, _ = ladder_table(store, Ladder([st]), bootstrap=bootstrap)
            rows.append({**t.iloc[0].to_dict(), "status": "ok"})
        except ValueError as e:
            rows.append({"step": st.step, "setup": st.setup, "convention": st.convention,
                         "status": "failed", "error": str(e)})
    table = with_porian(pd.DataFrame(rows))
    steps = [{k: (_num(v) if isinstance(v, float) or k in ("a", "a_lo", "a_hi") else v)
              for k, v in r.items() if k != "porian_source"}
             for r in table.to_dict("records")]
    for s in steps:
        for k in ("step", "runs", "budgets", "budgets_used"):
            if s.get(k) is not None:
                s[k] = int(s[k])
    failed = [s["step"] for s in steps if s["status"] != "ok"]
    out = {"status": "ok" if not failed else "failed", "steps": steps,
           "porian_source": f"{PORIAN2024_SOURCE.key}, {PORIAN2024_SOURCE.where}"}
    if failed:
        out["message"] = f"no fit for step(s) {', '.join(map(str, failed))} (see their error)"
    return out, table


def tokens_part(preset, ladder: dict, vocab_sizes=None, cache_dir=None) -> dict:
    from . import tokens as T

    specs = preset.plan(dry=True).specs
    corpus = specs[0].corpus if specs else "stdlib"
    sizes = tuple(vocab_sizes or (SMOKE_VOCAB_SIZES if preset.name == "smoke"
                                  else T.VOCAB_SIZES))
    try:
        df = T.bytes_per_token_table(corpus, sizes, cache_dir=cache_dir)
    except (ImportError, ValueError, TypeError) as e:
        return {"status": "failed", "corpus": corpus, "error": str(e),
                "message": f"no bytes-per-token table: {e}"}
    table = [{"vocab_size": int(r.vocab_size), "bytes_per_token": _num(r.bytes_per_token),
              "val_bytes": int(r.val_bytes), "val_tokens": int(r.val_tokens)}
             for r in df.itertuples()]
    out = {"status": "ok", "corpus": corpus, "vocab_sizes": list(sizes), "table": table}
    fitted = [s for s in ladder.get("steps", []) if s.get("tokens_per_param") is not None]
    if not fitted:
        out["optimum"] = None
        out["optimum_message"] = ("the lab's optimum comes from the ladder, which has no fit "
                                  "yet: " + ladder.get("message", ""))
        return out
    s = fitted[-1]
    opt = {"step": s["step"], "setup": s["setup"], "C_mid": s["C_mid"],
           "bytes_per_param": s["tokens_per_param"], "lo": s["tpp_lo"], "hi": s["tpp_hi"],
           "per_vocab": []}
    for r in table[1:]:
        conv = {k: (T.tokens_per_parameter(opt[k], r["bytes_per_token"])
                    if opt[k] is not None else None) for k in ("bytes_per_param", "lo", "hi")}
        opt["per_vocab"].append({"vocab_size": r["vocab_size"],
                                 "tokens_per_param": conv["bytes_per_param"], "lo": conv["lo"],
                                 "hi": conv["hi"]})
    out["optimum"] = opt
    return out


def summarize(preset: str, store, *, bootstrap: int = 200, vocab_sizes=None,
              tokens: bool = True, cache_dir=None) -> dict:
    """The report of ``preset``'s results in ``store`` (a path): see the module docstring.
    ``tokens=False`` leaves out the bytes-per-token table (which trains BPE tokenizers the first
    time, 10-40 s each, cached: ``lab.tokens``)."""
    from .presets import get_preset
    from .store import ResultStore

    p = get_preset(preset)
    rs = ResultStore(store)
    have = rs.keys()
    lr = lr_part(p, store, have, bootstrap)
    ladder, _ = ladder_part(p, store, have, bootstrap)
    out = {"schema": SCHEMA, "preset": p.name, "store": str(store), "runs_in_store": len(have),
           "bootstrap": int(bootstrap), "lr": lr, "ladder": ladder}
    out["tokens"] = (tokens_part(p, ladder, vocab_sizes, cache_dir) if tokens
                     else {"status": "absent", "message": "left out (--no-tokens)"})
    return out
