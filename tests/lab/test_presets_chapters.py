"""What the lab chapters (06-08) need from every preset, checked without training."""

import pytest

from scaling_lab.lab.analysis import plan_flops
from scaling_lab.lab.presets import get_preset


@pytest.mark.parametrize("name", ["smoke", "book"])
def test_chapter_plans_exist(name):
    p = get_preset(name)
    for plan in ("lofn", "isoflop", "wsd"):
        assert p.plan(plan).items, plan
    wsd = p.plan("wsd").specs
    assert {s.schedule for s in wsd} == {"wsd", "cosine"}
    # the WSD side of the comparison at the lab's lr rule is part of the IsoFLOP sweep: cache hits
    # in chapter 8; the other peak learning rates are new runs, for both schedules
    iso = set(p.plan("isoflop").keys())
    at_rule = [s for s in wsd if s.schedule == "wsd" and s.lr is None]
    assert len(at_rule) == (2 if name == "book" else 3) and all(s.key() in iso for s in at_rule)
    assert not any(s.key() in iso for s in wsd if s.lr is not None)
    labels = {dict(it.labels)["lr_mult"] for it in p.plan("wsd").items}
    assert labels == ({1.0, 2.0, 4.0, 8.0, 16.0} if name == "book" else {1.0, 4.0})
    if name == "book":  # the book's WSD side is its learning-rate sweep's runs: cache hits
        lr = set(p.plan("lr").keys())
        assert all(s.key() in lr for s in wsd if s.schedule == "wsd")
    assert all(s.min_lr_frac == 0.0 for s in wsd if s.schedule == "cosine")   # like for like


def test_smoke_cli_default_is_the_lofn_sweep():
    assert get_preset("smoke").plan().name == "lofn"
    book = get_preset("book").plan(dry=True).name.split("+")
    assert set(book) == {"lofn", "isoflop", "wsd", "lr", "beta2", "ladder"}


def test_smoke_chapter_plans_are_small():
    p = get_preset("smoke")
    total = sum(plan_flops(p.plan(n).specs)["flops_grouped"] for n in ("lofn", "isoflop", "wsd"))
    assert total < 12e12  # a few minutes for the three lab chapters on two CPU cores
