"""The shared input checks (``scaling_lab._validate``): the words of each message, and the same
words from each of the four places that call them (laws, fitting, budget, simulate)."""

import numpy as np
import pytest

from scaling_lab import _validate as v


@pytest.mark.parametrize("kw, value, message", [
    ({}, 0, "x must be a positive, finite number; got 0"),
    ({}, float("nan"), "x must be a positive, finite number; got nan"),
    ({}, "many", "x must be a number; got 'many'"),
    ({"allow_zero": True}, -1, "x must be a non-negative, finite number; got -1"),
    ({"minimum": 2}, 1, "x must be at least 2; got 1"),
    ({"whole": True}, 2.5, "x must be a whole number; got 2.5"),
    ({"minimum": 1, "note": " (a count)"}, 0.5, "x must be at least 1 (a count); got 0.5"),
])
def test_number_messages(kw, value, message):
    with pytest.raises(ValueError) as info:
        v.number("x", value, **kw)
    assert str(info.value) == message


def test_number_returns_the_float():
    assert v.number("x", 3) == 3.0 and isinstance(v.number("x", 3), float)
    assert v.number("x", 0, allow_zero=True) == 0.0
    assert v.number("x", 4.0, minimum=2, whole=True) == 4.0


@pytest.mark.parametrize("value", [True, 1.0, -1, "3", None])
def test_integer_refuses_everything_but_a_non_negative_int(value):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        v.integer("seed", value)


def test_integer_accepts_numpy_ints_and_a_minimum():
    assert v.integer("seed", np.int64(7)) == 7 and type(v.integer("seed", np.int64(7))) is int
    with pytest.raises(ValueError, match="k must be an integer >= 2; got 1"):
        v.integer("k", 1, minimum=2)


def test_array_names_the_first_bad_entry_and_counts_the_rest():
    with pytest.raises(ValueError) as info:
        v.array("N", [1.0, -2.0, 0.0, np.inf])
    assert str(info.value) == "N must be positive and finite: found -2 at index 1 and 2 more"
    with pytest.raises(ValueError, match=r"D must be .* found 0 at index \(1, 0\)$"):
        v.array("D", [[1.0, 2.0], [0.0, 3.0]])
    with pytest.raises(ValueError, match="^C must be positive and finite; got -5$"):
        v.array("C", -5)
    with pytest.raises(ValueError, match="^U must be non-negative and finite: found -1 at"):
        v.array("U", [-1, 0], kind="non-negative")
    assert v.array("y", [-1.0, 0.0], kind="finite").tolist() == [-1.0, 0.0]
    with pytest.raises(ValueError, match="y must be a number or an array of numbers"):
        v.array("y", ["a", 1])


def test_column_is_one_value_per_run():
    assert v.column("N", 5.0).tolist() == [5.0]
    with pytest.raises(ValueError, match=r"N must be one-dimensional; got shape \(2, 2\)"):
        v.column("N", np.ones((2, 2)))
    with pytest.raises(ValueError, match="N is empty; pass at least one value"):
        v.column("N", [])
    with pytest.raises(ValueError, match=r"found nan at index 1 \(drop or fix that row\)$"):
        v.column("loss", [1.0, np.nan], kind="finite", hint=" (drop or fix that row)")


def test_same_length_and_broadcast():
    assert v.same_length(N=[1, 2], loss=[3, 4]) == 2
    with pytest.raises(ValueError, match="N has 2 values but loss has 1; pass one value per run"):
        v.same_length(N=[1, 2], loss=[3])
    a, b = v.broadcast(N=np.ones(3), D=np.float64(2.0))
    assert a.shape == b.shape == (3,)
    with pytest.raises(ValueError, match=r"shapes do not broadcast: N \(3,\), D \(2,\)"):
        v.broadcast(N=np.ones(3), D=np.ones(2))


def test_chinchilla_like_says_what_is_missing():
    from scaling_lab import laws

    v.chinchilla_like(laws.ChinchillaLaw.hoffmann2022())
    with pytest.raises(ValueError, match="law must be a scaling_lab.laws.ChinchillaLaw .* "
                                         "got KaplanAllocation, which has no E, A, B, alpha, beta"):
        v.chinchilla_like(laws.KAPLAN_ALLOCATION)


# ------------------------------------------------------------------- one check, four callers
def test_the_four_callers_word_a_bad_value_alike(tmp_path):
    """A negative value gets "<name> must be positive and finite" (arrays) or "<name> must be
    a positive, finite number" (scalars) from laws, fitting, budget and simulate alike."""
    from scaling_lab import laws, simulate
    from scaling_lab.budget import Budget
    from scaling_lab.fitting import fit_power_law

    law = laws.ChinchillaLaw.hoffmann2022()
    arrays = [
        (lambda: law.loss([1e9, -1.0], 1e10), "N"),
        (lambda: fit_power_law([1.0, -1.0, 2.0], [1.0, 2.0, 3.0]), "x"),
        (lambda: simulate.simulate_runs(law, [1e20, -1.0]), "budgets"),
        (lambda: simulate.schedule_loss(law, 1e8, [1e9, -1.0], 1e9), "tokens"),
    ]
    for call, name in arrays:
        with pytest.raises(ValueError, match=rf"^{name} must be positive and finite: found -1 "
                                             r"at index 1"):
            call()
    scalars = [
        (lambda: laws.ChinchillaLaw(1.7, -1.0, 400.0, 0.3, 0.3), "A"),
        (lambda: Budget(-1.0, store=tmp_path / "b.json"), "total_flops"),
        (lambda: simulate.simulate_runs(law, [1e20], span=-1.0), "span"),
        (lambda: simulate.zipf_frequencies(10, -1.0), "a"),
    ]
    for call, name in scalars:
        with pytest.raises(ValueError, match=rf"^{name} must be a positive, finite number; "
                                             r"got -1"):
            call()
