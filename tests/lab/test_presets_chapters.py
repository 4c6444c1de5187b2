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
    # the WSD side of the comparison is part of the IsoFLOP sweep: cache hits in chapter 8
    iso = set(p.plan("isoflop").keys())
    assert all(s.key() in iso for s in wsd if s.schedule == "wsd")


def test_smoke_cli_default_is_the_lofn_sweep():
    assert get_preset("smoke").plan().name == "lofn"
    assert set(get_preset("book").plan().name.split("+")) == {"lofn", "isoflop", "wsd"}


def test_smoke_chapter_plans_are_small():
    p = get_preset("smoke")
    total = sum(plan_flops(p.plan(n).specs)["flops_grouped"] for n in ("lofn", "isoflop", "wsd"))
    assert total < 6e12  # a few minutes for the three lab chapters on two CPU cores
