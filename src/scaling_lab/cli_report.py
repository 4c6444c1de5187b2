"""``scaling-lab report``: what a preset's results store shows, for a reader who trains from the
terminal (the lab chapters' numbers): the fitted eta*(N) law of the learning-rate sweep, the
ladder's exponent a and tokens per parameter step by step beside Porian et al.'s, and the corpus's
bytes per BPE token. Registered into ``scaling_lab.cli``; the work is ``lab.summary``."""

from __future__ import annotations

import json
import math


def register(sub) -> None:
    r = sub.add_parser(
        "report",
        help="summarize a preset's results store: eta* law, ladder, bytes per token",
        description="Summarize the runs of a preset in a results store: the learning-rate "
        "sweep's eta*(N) law per horizon and its shift between horizons, each ladder step's "
        "a and tokens per parameter (with bootstrap intervals, Porian et al.'s ladder "
        "beside), and bytes per token of BPE tokenizers trained on the corpus (cached; the "
        "first report trains them, 10-40 s each). Parts not trained yet are named with the "
        "command that trains them. --json prints one object; its fields are documented in "
        "scaling_lab.lab.summary.",
    )
    r.add_argument("--preset", required=True, help="smoke | book | gpu")
    r.add_argument("--store", help="results store path (default: the preset's)")
    r.add_argument("--json", action="store_true", help="one JSON object instead of text")
    r.add_argument("--bootstrap", type=int, default=200,
                   help="bootstrap refits per interval (default 200; 0 for none)")
    r.add_argument("--vocab-sizes", help="BPE vocabulary sizes, comma-separated (default: "
                   "1024,4096 for smoke, 1024,4096,16384 otherwise)")
    r.add_argument("--no-tokens", action="store_true",
                   help="leave out the bytes-per-token table (trains no tokenizer)")
    r.set_defaults(func=cmd_report)


def _vocab_sizes(text):
    if text is None:
        return None
    try:
        sizes = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        sizes = ()
    if not sizes or any(v <= 256 for v in sizes):
        raise ValueError(f"--vocab-sizes must be integers above 256, comma-separated (e.g. "
                         f"1024,4096); got {text!r}")
    return sizes


def cmd_report(a) -> int:
    from .lab.presets import get_preset
    from .lab.summary import summarize

    try:
        preset = get_preset(a.preset)
    except ValueError as e:
        raise ValueError(f"--preset: {e}") from None
    if a.bootstrap < 0:
        raise ValueError(f"--bootstrap must be >= 0 (refits per interval), got {a.bootstrap}")
    sizes = _vocab_sizes(a.vocab_sizes)
    path = preset.store_path(a.store)
    if not path.exists():
        raise ValueError(f"--store {path} does not exist; train into it first, e.g. "
                         f"`scaling-lab sweep --preset {preset.name} --plan lr --store {path}`, "
                         f"or pass the store the sweep wrote")
    from .lab.store import ResultStore

    try:
        ResultStore(path).keys()  # a directory, or a file that is not a store: named there
    except ValueError as e:
        raise ValueError(f"--store: {e}") from None
    out = summarize(preset.name, path, bootstrap=a.bootstrap, vocab_sizes=sizes,
                    tokens=not a.no_tokens)
    if a.json:
        print(json.dumps(out, indent=1, allow_nan=False))
    else:
        print(format_text(out))
    return 0


# ----------------------------------------------------------------------------- text
def _f(v, fmt=".3g"):
    return "n/a" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, fmt)


def _iv(lo, hi, fmt=".3g"):
    return f"[{_f(lo, fmt)}, {_f(hi, fmt)}]"


def _not_ok(part) -> list[str]:
    lines = [f"  {part['status'].upper()}: {part.get('message', '')}"]
    if part.get("command"):
        lines.append(f"  to fill it: {part['command']}")
    return lines


def _lr_lines(lr) -> list[str]:
    out = ["Learning-rate sweep: eta*(N) = c N^-k (N non-embedding parameters)"]
    if lr["status"] != "ok":
        return out + _not_ok(lr)
    unit = lr["unit"]

    def at(h):
        return f"{_f(h, ',.0f')} tokens" if unit == "tokens" else f"{_f(h)} FLOPs"

    for law in lr["laws"]:
        out.append(f"  at {at(law['horizon'])}: k = {_f(law['k'])} "
                   f"{_iv(law['k_lo'], law['k_hi'])}, c = {_f(law['c'])} "
                   f"{_iv(law['c_lo'], law['c_hi'])} ({law['sizes_used']} of {law['sizes']} "
                   f"sizes)")
        for o in (o for o in lr["optima"] if o["horizon"] == law["horizon"]):
            out.append(f"    N={_f(o['N'], ',.0f'):>9}: eta* {_f(o['lr_opt'])} "
                       f"({_f(o['lr_opt_mult'], '.2g')}x rule), best swept {_f(o['lr_best'])}, "
                       f"{'inside' if o['inside'] else 'ON THE EDGE of'} "
                       f"{_f(o['lr_min'])}-{_f(o['lr_max'])}")
    s = lr["shift"]
    if s:
        out.append(f"  shift: eta* at {at(s['long'])} over eta* at {at(s['short'])} = "
                   f"{_f(s['ratio'])} {_iv(s['ratio_lo'], s['ratio_hi'])}, slope "
                   f"{_f(s['slope'])} {_iv(s['slope_lo'], s['slope_hi'])}")
    p = lr["published"]
    out.append(f"  published: {p['name']}, eta_opt = {p['coefficient']} C^{p['exponent']} "
               f"({p['key']}, {p['where']}; C in the paper's FLOPs, not N)")
    out.append(f"  check: {'ok' if lr['ok'] else 'FAILED'}")
    return out


def _ladder_lines(lad) -> list[str]:
    out = ["Ladder: Kaplan's setup to Hoffmann's, one change per step (a of N_opt ~ C^a; "
           "tokens per parameter D/N at the middle budget, D in bytes)"]
    if lad["status"] not in ("ok", "failed") or "steps" not in lad:
        return out + _not_ok(lad)
    out.append(f"  {'step':<4} {'a':>6} {'95% interval':>16} {'D/N':>7} {'95% interval':>16} "
               f"{'Porian a':>8}  setup")
    for s in lad["steps"]:
        if s["status"] != "ok":
            out.append(f"  {s['step']:<4} no fit: {s.get('error', '')}")
            continue
        a_iv = _iv(s["a_lo"], s["a_hi"], ".3f")
        out.append(f"  {s['step']:<4} {_f(s['a'], '.3f'):>6} {a_iv:>16} "
                   f"{_f(s['tokens_per_param'], '.0f'):>7} "
                   f"{_iv(s['tpp_lo'], s['tpp_hi'], '.0f'):>16} {_f(s['porian_a'], '.3f'):>8}  "
                   f"{s['setup']}")
    out.append(f"  Porian et al.'s a: {lad['porian_source']}")
    if lad["status"] != "ok":
        out += _not_ok(lad)
    return out


def _token_lines(tok) -> list[str]:
    out = ["Bytes per token (BPE tokenizers trained on the training split, measured on the "
           "validation split)"]
    if tok["status"] != "ok":
        return out + _not_ok(tok)
    out.append(f"  corpus {tok['corpus']}")
    for r in tok["table"]:
        out.append(f"  vocabulary {r['vocab_size']:>6}: {_f(r['bytes_per_token'], '.3f')} bytes "
                   f"per token")
    o = tok.get("optimum")
    if not o:
        out.append(f"  the lab's optimum in tokens: {tok.get('optimum_message', 'n/a')}")
        return out
    out.append(f"  the lab's optimum (ladder step {o['step']}, C = {_f(o['C_mid'])}): "
               f"{_f(o['bytes_per_param'], '.0f')} {_iv(o['lo'], o['hi'], '.0f')} bytes per "
               f"parameter, i.e.")
    for v in o["per_vocab"]:
        out.append(f"    {_f(v['tokens_per_param'], '.0f')} {_iv(v['lo'], v['hi'], '.0f')} tokens "
                   f"per parameter of the {v['vocab_size']}-token vocabulary")
    out.append("  (the same text in another unit; a BPE model's own optimum must be measured: "
               "lab.tokens.tokens_per_parameter)")
    return out


def format_text(s: dict) -> str:
    head = [f"scaling-lab report: preset {s['preset']}, store {s['store']} "
            f"({s['runs_in_store']} runs; intervals: {s['bootstrap']} bootstrap refits)"]
    parts = [head, _lr_lines(s["lr"]), _ladder_lines(s["ladder"]), _token_lines(s["tokens"])]
    return "\n\n".join("\n".join(p) for p in parts)
