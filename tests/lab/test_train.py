import math

import pytest
import torch

from scaling_lab.lab.spec import RunSpec, lr_rule
from scaling_lab.lab.trainer import train
from scaling_lab.lab.wsd import train_wsd_group

from .conftest import TINY_CORPUS, tiny_spec


def test_loss_falls_on_a_tiny_run():
    r = train(tiny_spec(tokens=8 * 32 * 150, lr=3e-3), progress=False)
    assert r.status == "ok"
    first, last = r.history[0], r.history[-1]
    assert last["val_loss"] < math.log(256) - 1.0  # far below a uniform guess over bytes
    assert last["val_loss"] < first["val_loss"]
    # the Markov source's entropy floor is a hard lower bound (up to eval noise)
    assert last["val_loss"] > r.info["entropy_floor"] - 0.05
    assert last["tokens"] == 150 * 8 * 32
    assert last["flops_full"] > last["flops_6n"] > 0
    assert r.info["corpus"]["python"] and r.info["corpus"]["sha256"]


def test_same_spec_same_numbers():
    a = train(tiny_spec(), progress=False)
    b = train(tiny_spec(), progress=False)
    assert [h["val_loss"] for h in a.history] == [h["val_loss"] for h in b.history]
    assert a.key == b.key and a.key != tiny_spec(seed=1).key()


def test_schedules():
    s = tiny_spec(tokens=8 * 32 * 100, schedule="wsd", warmup_steps=10, lr=1e-3)
    assert s.lr_at(0) == pytest.approx(1e-4)
    assert s.lr_at(50) == pytest.approx(1e-3)  # stable
    assert s.cooldown_start == 80
    assert s.lr_at(99) == pytest.approx(0.0, abs=1e-12)
    assert s.lr_at(89) == pytest.approx(1e-3 * (1 - math.sqrt(10 / 20)))
    c = s.replace(schedule="cosine")
    assert c.lr_at(99) == pytest.approx(1e-4) and c.lr_at(10) < 1e-3
    assert s.replace(schedule="constant").lr_at(99) == pytest.approx(1e-3)
    assert lr_rule(32) > lr_rule(256)


def test_wsd_branches_equal_standalone_runs():
    """One long WSD run with cooldown branches gives exactly the standalone runs' numbers."""
    specs = [tiny_spec(tokens=8 * 32 * n, schedule="wsd", lr=2e-3) for n in (30, 60, 90)]
    seen = []
    group = train_wsd_group(specs, progress=False, on_result=seen.append)
    assert [r.key for r in group] == [s.key() for s in specs] == [r.key for r in seen]
    for s, g in zip(specs, group):
        alone = train(s, progress=False)
        assert [h["step"] for h in g.history] == [h["step"] for h in alone.history]
        for hg, ha in zip(g.history, alone.history):
            assert hg["val_loss"] == pytest.approx(ha["val_loss"], abs=1e-6)
            assert hg["train_loss"] == pytest.approx(ha["train_loss"], abs=1e-6)
    # skip: branches already stored are not redone
    rest = train_wsd_group(specs, progress=False, skip={specs[0].key(), specs[2].key()})
    assert [r.key for r in rest] == [specs[1].key()]


def test_nan_loss_gives_diverged_status():
    r = train(tiny_spec(lr=1e6, tokens=8 * 32 * 40), progress=False)
    assert r.status == "diverged"
    assert r.history and r.history[-1]["step"] <= 40


@pytest.mark.parametrize("kw,match", [
    (dict(d_model=0), "d_model must be a positive integer"),
    (dict(n_layer=-1), "n_layer must be a positive integer"),
    (dict(tokens=100), "less than one optimizer step"),
    (dict(d_model=30, n_head=4), "divisible by n_head"),
    (dict(schedule="linear"), "schedule"),
    (dict(lr=-1.0), "lr must be positive"),
])
def test_bad_specs(kw, match):
    with pytest.raises(ValueError, match=match):
        tiny_spec(**kw)


def test_spec_roundtrip():
    s = tiny_spec(schedule="wsd")
    assert RunSpec.from_dict(s.to_dict()) == s
    with pytest.raises(ValueError, match="unknown RunSpec fields"):
        RunSpec.from_dict({**s.to_dict(), "colour": 1})


def test_wsd_group_resumes_stable_phase_from_checkpoint(tmp_path):
    """A group extended later (or killed and resumed) continues the stable phase from the last
    branch point on disk, with the same numbers as a run from scratch."""
    specs = [tiny_spec(tokens=8 * 32 * n, schedule="wsd", lr=2e-3) for n in (30, 60, 90)]
    first = train_wsd_group(specs[:2], progress=False, ckpt_dir=tmp_path)
    assert first[0].info["resumed_from_step"] == 0
    assert len(list(tmp_path.glob("wsd-*.pt"))) == 1
    more = train_wsd_group(specs, progress=False, ckpt_dir=tmp_path,
                           skip={specs[0].key(), specs[1].key()})
    assert [r.key for r in more] == [specs[2].key()]
    assert more[0].info["resumed_from_step"] == specs[1].cooldown_start == 48
    alone = train(specs[2], progress=False)
    assert [h["step"] for h in more[0].history] == [h["step"] for h in alone.history]
    for a, b in zip(more[0].history, alone.history):
        assert a["val_loss"] == pytest.approx(b["val_loss"], abs=1e-6)


def test_speed_options_are_part_of_the_key_only_when_on():
    s = tiny_spec()
    assert "fused" not in s.to_dict() and "compile" not in s.to_dict()  # older keys stand
    for name in ("fused", "compile"):
        on = s.replace(**{name: True})
        assert on.to_dict()[name] is True and on.key() != s.key()
        assert RunSpec.from_dict(on.to_dict()) == on
    with pytest.raises(ValueError, match="fused must be True or False"):
        tiny_spec(fused="yes")


def test_fused_adamw_follows_the_default_closely():
    """Same update in one kernel: the same history up to float rounding (stated: 1e-4 nats)."""
    from scaling_lab.lab.trainer import Trainer

    s = tiny_spec(tokens=8 * 32 * 30, lr=3e-3)
    a, b = train(s, progress=False), train(s.replace(fused=True), progress=False)
    assert a.key != b.key and len(a.history) == len(b.history)
    for ha, hb in zip(a.history, b.history):
        assert hb["val_loss"] == pytest.approx(ha["val_loss"], abs=1e-4)
    assert Trainer.for_spec(s.replace(fused=True), device="cpu").opt.defaults["fused"] is True


def test_compile_wraps_the_training_module_only():
    from scaling_lab.lab.model import GPT
    from scaling_lab.lab.trainer import Trainer

    tr = Trainer.for_spec(tiny_spec(compile=True), device="cpu", progress=False)
    assert isinstance(tr.raw_model, GPT) and tr.model is not tr.raw_model
    assert tr.model._orig_mod is tr.raw_model   # compiled lazily, on the first step
