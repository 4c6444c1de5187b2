"""Kaplan extras: the overfitting rule (eq. 4.4), critical batch size (eq. 1.4), new constants."""

import math

import numpy as np
import pytest

from scaling_lab import published as pub
from scaling_lab.laws import KAPLAN_ND, critical_batch_size, kaplan_overfitting_tokens


def test_published_overfitting_rule_and_range():
    r = pub.KAPLAN2020_OVERFITTING
    assert (r.coefficient, r.exponent, r.delta_L) == (5e3, 0.74, 0.02)
    k = pub.KAPLAN2020_RANGE
    assert (k.N_min, k.N_max, k.D_min, k.D_max) == (768, 1.5e9, 22e6, 23e9)
    assert pub.A100_BF16.peak_flops_per_s == 312e12
    assert pub.GPT3.flops == 3.14e23


def test_min_tokens_solves_the_penalty():
    N = np.array([1e6, 1e8, 1.5e9])
    D = KAPLAN_ND.min_tokens(N, 0.02)
    assert np.allclose(KAPLAN_ND.overfit_penalty(N, D), 0.02, rtol=1e-12)
    # a power law in N with exponent alpha_N / alpha_D
    slope = np.diff(np.log(D)) / np.diff(np.log(N))
    assert np.allclose(slope, 0.076 / 0.103)


def test_eq_4_4_is_the_derived_rule_rounded():
    """Kaplan's 5e3 N^0.74 agrees with the rule derived from eq. 1.5 within ~15 %."""
    N = np.logspace(6, 9.2, 7)
    ratio = KAPLAN_ND.min_tokens(N, 0.02) / kaplan_overfitting_tokens(N)
    assert np.all((ratio > 0.85) & (ratio < 1.2))


def test_penalty_limits():
    assert KAPLAN_ND.overfit_penalty(1e8, 1e30) == pytest.approx(0, abs=1e-12)
    assert KAPLAN_ND.overfit_penalty(1e8, 1e6) > KAPLAN_ND.overfit_penalty(1e8, 1e9) > 0


def test_critical_batch_size():
    assert critical_batch_size(1.0) == pytest.approx(2.1e8)
    # a loss lower by a factor 2^-alpha_B doubles B_crit
    L = 3.0
    assert critical_batch_size(L * 2 ** -0.21) == pytest.approx(2 * critical_batch_size(L))
    assert isinstance(critical_batch_size(2.0), float)
    assert critical_batch_size(np.array([2.0, 3.0])).shape == (2,)


@pytest.mark.parametrize("call, name", [
    (lambda: critical_batch_size(-1.0), "loss"),
    (lambda: critical_batch_size(2.0, alpha_B=0), "alpha_B"),
    (lambda: KAPLAN_ND.min_tokens(1e8, delta_L=0), "delta_L"),
    (lambda: kaplan_overfitting_tokens(0), "N"),
])
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
