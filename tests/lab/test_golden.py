"""Golden histories: the exact numbers of a few tiny CPU runs, pinned before the trainer was
reorganised (issue 13) so that moving code cannot change a result unnoticed.

Three runs, their specs written out here (not taken from the presets, which may change):

* a cosine run through ``train``;
* a WSD group through ``train_wsd_group``: a short branch and the long run, written to a
  checkpoint directory, then the group extended by a longer run that resumes the stable phase
  from that checkpoint;
* ``variants.train_lm`` on a transformer and on the MLP-only model.

The spec keys are pinned too: a key names a run in the results store, so a change of key orphans
every stored result. On the machine the numbers were recorded on (same torch build, same CPU
instruction set; one thread, see conftest) they must match bit for bit. Elsewhere float
summation may differ in the last bits, so there the test allows 1e-4 nats.

A change that alters the CPU numbers on purpose must give ``RunSpec`` a version field (so stored
results keyed by the old spec are never taken for new ones) and then re-record: run
``python tests/lab/test_golden.py`` and paste its output over ``EXPECTED`` below.
"""

import math

import pytest
import torch

from scaling_lab.flops import GPTShape
from scaling_lab.lab import GPT, RunSpec, load_corpus, train, train_wsd_group
from scaling_lab.lab.variants import MLPOnlyLM, train_lm

CORPUS = "markov:order=2,alphabet=8,train_bytes=60000,val_bytes=8000"

COSINE = dict(n_layer=2, d_model=16, n_head=2, tokens=8 * 32 * 48, n_ctx=32, batch_size=8,
              lr=3e-3, schedule="cosine", warmup_steps=5, min_lr_frac=0.1, weight_decay=0.1,
              beta2=0.95, grad_clip=1.0, seed=0, corpus=CORPUS, eval_every=6, eval_batches=2,
              dtype="fp32")
WSD = dict(n_layer=1, d_model=16, n_head=2, n_ctx=32, batch_size=8, lr=3e-3, schedule="wsd",
           warmup_steps=5, cooldown_frac=0.25, weight_decay=0.1, beta2=0.95, grad_clip=1.0,
           seed=1, corpus=CORPUS, eval_every=0, eval_batches=2, dtype="fp32")
WSD_STEPS = (24, 48)      # the first group: a branch and the long run
WSD_LONGER = 72           # the group extended later: resumes from the checkpoint
LM = dict(n_ctx=16, batch_size=8, lr=3e-3, warmup_steps=10, min_lr_frac=0.1, weight_decay=0.1,
          seed=2, eval_batches=2, evals=3)
LM_TOKENS = 16 * 8 * 40

COLUMNS = ("step", "tokens", "train_loss", "val_loss", "lr")  # not flops_* (exact), wall_s


def _rows(res):
    assert set(res.history[0]) == set(COLUMNS) | {"flops_6n", "flops_full", "wall_s"}
    return [tuple(h[c] for c in COLUMNS) for h in res.history]


def _run(res):
    return {"key": res.key, "status": res.status, "params": res.info["params_total"],
            "history": _rows(res)}


def observe(tmp_path) -> dict:
    """The numbers the test pins, computed now."""
    out = {}
    out["cosine"] = _run(train(RunSpec(**COSINE), progress=False))
    specs = [RunSpec(tokens=8 * 32 * n, **WSD) for n in WSD_STEPS]
    out["wsd"] = [_run(r) for r in train_wsd_group(specs, progress=False, ckpt_dir=tmp_path)]
    longer = specs + [RunSpec(tokens=8 * 32 * WSD_LONGER, **WSD)]
    [ext] = train_wsd_group(longer, progress=False, ckpt_dir=tmp_path,
                            skip={s.key() for s in specs})
    out["wsd_extended"] = dict(_run(ext), resumed_from_step=ext.info["resumed_from_step"])
    corpus = load_corpus(CORPUS)
    lm = {}
    for name, build in (("gpt", lambda: GPT(GPTShape(n_layer=1, d_model=16, n_head=2,
                                                      vocab_size=256, n_ctx=16))),
                        ("mlp", lambda: MLPOnlyLM(1, 16, d_ff=40))):
        torch.manual_seed(3)
        r = train_lm(build(), corpus, LM_TOKENS, **LM)
        lm[name] = {"val_loss": r.val_loss, "params": r.params, "tokens": r.tokens,
                    "steps": r.steps, "history": [tuple(h) for h in r.history]}
    out["train_lm"] = lm
    return out


def _same_env() -> bool:
    return (torch.__version__ == REFERENCE["torch"]
            and torch.backends.cpu.get_cpu_capability() == REFERENCE["cpu"])


def _compare(got, want, path, exact):
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), f"{path}: keys differ"
        for k in want:
            _compare(got[k], want[k], f"{path}.{k}", exact)
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want), f"{path}: length {len(got)} != {len(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            _compare(g, w, f"{path}[{i}]", exact)
    elif isinstance(want, float) and not exact:
        assert math.isclose(got, want, rel_tol=0, abs_tol=1e-4), f"{path}: {got!r} != {want!r}"
    else:
        assert got == want, f"{path}: {got!r} != {want!r}"


def test_golden_histories(tmp_path):
    got = observe(tmp_path)
    _compare(got, EXPECTED, "runs", exact=_same_env())
    # the extended group really resumed the stable phase from the checkpoint
    assert got["wsd_extended"]["resumed_from_step"] > 0


# ----------------------------------------------------------------------------- recorded
# on this machine with one thread, by `python tests/lab/test_golden.py`, before the trainer moved
REFERENCE = {"torch": '2.13.0+cpu', "cpu": 'AVX512'}
EXPECTED = {
    'cosine': {
        'key': '39eddc75e191896111be',
        'status': 'ok',
        'params': 11200,
        'history': [
            (6, 1536, 5.3862730662028, 5.122767210006714, 0.0029253032736706905),
            (12, 3072, 5.147636373837789, 4.610002517700195, 0.002651230342624743),
            (18, 4608, 4.901658296585083, 4.148415565490723, 0.0022182619292782525),
            (24, 6144, 4.517747485637665, 3.782112956047058, 0.0016951102189603608),
            (30, 7680, 4.093390655517578, 3.526109457015991, 0.001164799506669358),
            (36, 9216, 3.759078347682953, 3.367969036102295, 0.000711490222639233),
            (42, 10752, 3.5224856972694396, 3.2790578603744507, 0.00040712265298682097),
            (48, 12288, 3.370301699638367, 3.2242993116378784, 0.00030000000000000003),
        ],
    },
    'wsd': [
        {
            'key': '5ca92bbc4fe1afe4d62d',
            'status': 'ok',
            'params': 7920,
            'history': [
                (8, 2048, 5.343904674053192, 4.978406190872192, 0.003),
                (16, 4096, 5.00095671415329, 4.235793590545654, 0.003),
                (18, 4608, 4.910776721106635, 4.045872926712036, 0.003),
                (19, 4864, 4.865018869701185, 3.9898955821990967, 0.001775255128608411),
                (21, 5376, 4.742466914653778, 3.922230839729309, 0.0008786796564403573),
                (22, 5632, 4.663193500041961, 3.9049054384231567, 0.0005505102572168219),
                (24, 6144, 4.507849943637848, 3.896663546562195, 0.0),
            ],
        },
        {
            'key': '980d2259561e22b55464',
            'status': 'ok',
            'params': 7920,
            'history': [
                (8, 2048, 5.343904674053192, 4.978406190872192, 0.003),
                (16, 4096, 5.00095671415329, 4.235793590545654, 0.003),
                (32, 8192, 3.7362910747528075, 2.8530983924865723, 0.003),
                (36, 9216, 3.3930283904075624, 2.6094032526016235, 0.003),
                (39, 9984, 3.1582332491874694, 2.5186415910720825, 0.0015),
                (42, 10752, 2.955130970478058, 2.4712213277816772, 0.0008786796564403573),
                (45, 11520, 2.787424397468567, 2.4487375020980835, 0.0004019237886466842),
                (48, 12288, 2.656881046295166, 2.4436631202697754, 0.0),
            ],
        },
    ],
    'wsd_extended': {
        'key': '678efc3f9841e908cd4b',
        'status': 'ok',
        'params': 7920,
        'history': [
            (8, 2048, 5.343904674053192, 4.978406190872192, 0.003),
            (16, 4096, 5.00095671415329, 4.235793590545654, 0.003),
            (32, 8192, 3.7362910747528075, 2.8530983924865723, 0.003),
            (54, 13824, 2.3571241736412047, 2.1311389207839966, 0.003),
            (58, 14848, 2.2551817059516908, 2.110915780067444, 0.001585786437626905),
            (63, 16128, 2.174186873435974, 2.0996205806732178, 0.0008786796564403573),
            (67, 17152, 2.139760065078735, 2.0960086584091187, 0.00045049024320360754),
            (72, 18432, 2.116697382926941, 2.0949459075927734, 0.0),
        ],
        'resumed_from_step': 36,
    },
    'train_lm': {
        'gpt': {
            'val_loss': 3.8309789896011353,
            'params': 7664,
            'tokens': 5120,
            'steps': 40,
            'history': [
                (1664, 4.776785373687744),
                (3456, 4.0404908657073975),
                (5120, 3.8309789896011353),
            ],
        },
        'mlp': {
            'val_loss': 3.93361759185791,
            'params': 5496,
            'tokens': 5120,
            'steps': 40,
            'history': [
                (1664, 4.850117921829224),
                (3456, 4.1410675048828125),
                (5120, 3.93361759185791),
            ],
        },
    },
}


def _fmt(v, ind=4) -> str:
    """Python source for ``v``: one history row (a tuple) per line."""
    pad = " " * ind
    if isinstance(v, dict):
        items = [f"{pad}{k!r}: {_fmt(x, ind + 4)}," for k, x in v.items()]
        return "{\n" + "\n".join(items) + "\n" + " " * (ind - 4) + "}"
    if isinstance(v, list):
        return "[\n" + "\n".join(f"{pad}{_fmt(x, ind + 4)}," for x in v) + "\n" \
            + " " * (ind - 4) + "]"
    return repr(v)


if __name__ == "__main__":  # re-record: python tests/lab/test_golden.py
    import tempfile
    from pathlib import Path

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as d:
        print(f"REFERENCE = {{\"torch\": {torch.__version__!r}, "
              f"\"cpu\": {torch.backends.cpu.get_cpu_capability()!r}}}")
        print("EXPECTED = " + _fmt(observe(Path(d))))
