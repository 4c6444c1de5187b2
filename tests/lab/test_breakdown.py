"""lab.breakdown: the lab's ratio taken apart into factors (issue 14, item 4)."""

import numpy as np
import pandas as pd
import pytest

from scaling_lab import laws
from scaling_lab.lab.breakdown import drift_factor, ratio_chain, ratio_interval, step_factors


class _Fit:
    """A stand-in for fitting.AllocationFit: tokens per parameter draws at any C."""

    def __init__(self, draws):
        self.d = np.asarray(draws, float)

    def draws_at(self, C):
        return np.ones_like(self.d), self.d


def test_ratio_interval_brackets_the_ratio_of_independent_draws():
    rng = np.random.default_rng(0)
    num, den = rng.lognormal(np.log(60), 0.05, 4000), rng.lognormal(np.log(20), 0.05, 4000)
    lo, hi = ratio_interval(num, den)
    assert lo < 3 < hi
    # the log-ratio's spread is sqrt(2) x 0.05: a 95% interval of about +-0.139 in log
    assert np.log(hi / lo) / 2 == pytest.approx(1.96 * np.sqrt(2) * 0.05, rel=0.1)
    assert np.isnan(ratio_interval([1.0], den)).all()       # too few draws: no interval
    with pytest.raises(ValueError, match="ci_level"):
        ratio_interval(num, den, ci_level=95)


def test_step_factors_multiply_back_to_the_last_step():
    tpp = [200.0, 100.0, 80.0, 100.0, 50.0]
    table = pd.DataFrame({"step": range(5), "setup": list("abcde"), "C_mid": 1e12,
                          "tokens_per_param": tpp, "convention": ["6n"] + ["full"] * 4})
    fits = {k: _Fit(np.full(50, t) * np.linspace(0.9, 1.1, 50)) for k, t in enumerate(tpp)}
    f = step_factors(table, fits)
    assert list(f["step"]) == [1, 2, 3, 4]
    assert f["factor"].tolist() == pytest.approx([0.5, 0.8, 1.25, 0.5])
    assert np.prod(f["factor"]) * tpp[0] == pytest.approx(tpp[-1])
    assert (f["lo"] < f["factor"]).all() and (f["factor"] < f["hi"]).all()
    assert f["shared_runs"].isna().all()                      # no ladder given: unknown
    with pytest.raises(ValueError, match="fewer than two"):
        step_factors(table.iloc[:1], fits)


def test_drift_factor_is_the_laws_power_of_the_budget_ratio():
    law = laws.ChinchillaLaw.besiroglu2024()
    a, b = law.a, law.b
    # D/N at the optimum grows as C^(b - a): ten times the budget, 10^(b-a) times the ratio
    assert drift_factor(law, 1e20, 1e21) == pytest.approx(10 ** (b - a), rel=1e-9)
    assert drift_factor(law, 1e21, 1e21) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="C_from"):
        drift_factor(law, 0.0, 1e21)


def test_ratio_chain_arithmetic():
    out = ratio_chain(100.0, 4.0, 0.8, reference=20.0)
    assert out == pytest.approx({"tokens_per_param": 25.0, "at_reference": 20.0, "left": 1.0})
