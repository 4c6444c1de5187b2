"""Tests of scaling_lab.fitting: parameter recovery on synthetic data, and bad-input errors."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaling_lab.fitting import bootstrap_ci, fit_power_law

FAST = settings(max_examples=15, deadline=None, derandomize=True)


# ---------------------------------------------------------------------------------------------
# power laws


@FAST
@given(
    A=st.floats(1.0, 1e4),
    alpha=st.floats(0.05, 1.0),
    seed=st.integers(0, 2**31),
)
def test_power_law_log_recovers_exponent(A, alpha, seed):
    rng = np.random.default_rng(seed)
    x = np.logspace(6, 10, 30)
    y = A * x**-alpha * np.exp(0.01 * rng.standard_normal(x.size))
    res = fit_power_law(x, y)
    # 1% noise over 4 decades: se(alpha) ~ 0.01 / (sd(log x) sqrt(30)) ~ 6e-4
    assert abs(res.alpha - alpha) < 0.004
    assert abs(np.log(res.A / A)) < 0.1
    assert res.converged and res.n_iter == 0
    # the analytic se is of the right size
    assert 1e-4 < res.se["alpha"] < 2e-3


@FAST
@given(
    E=st.floats(1.0, 3.0),
    A=st.floats(50.0, 2000.0),
    alpha=st.floats(0.2, 0.6),
    seed=st.integers(0, 2**31),
    method=st.sampled_from(["log", "nls"]),
)
def test_power_law_offset_recovers_floor(E, A, alpha, seed, method):
    rng = np.random.default_rng(seed)
    x = np.logspace(4, 9, 40)  # reaches well into the floor: E is identifiable
    y = (E + A * x**-alpha) * np.exp(0.002 * rng.standard_normal(x.size))
    res = fit_power_law(x, y, offset=True, method=method)
    assert abs(res.E - E) / E < 0.03
    assert abs(res.alpha - alpha) < 0.03
    assert 0 <= res.E < y.min()
    assert set(res.params) == {"E", "A", "alpha"}


def test_power_law_nls_no_offset_exact_data():
    x = np.logspace(1, 5, 12)
    y = 7.5 * x**-0.42
    for method in ("log", "nls"):
        res = fit_power_law(x, y, method=method)
        assert res.alpha == pytest.approx(0.42, rel=1e-7)
        assert res.A == pytest.approx(7.5, rel=1e-6)
        np.testing.assert_allclose(res.predict(x), y, rtol=1e-7)


def test_log_ols_biased_under_additive_noise_nls_is_not():
    """The docstring's warning, measured: additive noise biases log-OLS, not NLS."""
    rng = np.random.default_rng(0)
    x = np.logspace(0, 3, 40)
    true = 10 * x**-0.5  # from 10 down to 0.32
    a_log, a_nls = [], []
    for _ in range(40):
        y = true + 0.1 * rng.standard_normal(x.size)
        y = np.clip(y, 1e-3, None)
        a_log.append(fit_power_law(x, y).alpha)
        a_nls.append(fit_power_law(x, y, method="nls").alpha)
    assert abs(np.mean(a_nls) - 0.5) < 0.01
    assert abs(np.mean(a_log) - 0.5) > 2 * abs(np.mean(a_nls) - 0.5)


def test_power_law_bootstrap_covers_truth_and_interval_widens():
    rng = np.random.default_rng(3)
    covered = 0
    for rep in range(20):
        x = np.logspace(6, 9, 25)
        y = 50 * x**-0.3 * np.exp(0.02 * rng.standard_normal(x.size))
        res = fit_power_law(x, y, bootstrap=200, ci_level=0.9, seed=rep)
        lo, hi = res.ci["alpha"]
        covered += lo <= 0.3 <= hi
        assert res.bootstrap.shape == (200, 2)
        assert res.se["alpha"] == pytest.approx(res.diagnostics["se_asymptotic"]["alpha"], rel=0.4)
    assert covered >= 15  # nominal 18 of 20; fails if intervals are far too narrow
    lo, hi = res.predict_interval([1e9, 1e11, 1e13])
    width = np.log(hi / lo)
    assert width[0] < width[1] < width[2]  # extrapolation error grows with distance
    assert res.ci_level == 0.9


def test_power_law_result_object():
    x = np.logspace(1, 3, 10)
    res = fit_power_law(x, 3 * x**-0.5 * (1 + 0.01 * np.sin(x)))
    d = res.to_dict()
    json.dumps(d)
    assert d["A"] == res.A and d["alpha"] == res.alpha and d["converged"] is True
    assert "alpha" in res.summary() and "PowerLawFit" in repr(res)
    assert res.residuals.shape == (10,)
    with pytest.raises(AttributeError):
        res.beta
    with pytest.raises(ValueError, match="bootstrap"):
        res.predict_interval([1.0])


def test_bootstrap_ci_percentiles():
    d = np.arange(1001, dtype=float)[:, None] * [1, 2]
    lohi = bootstrap_ci(d, 0.9)
    np.testing.assert_allclose(lohi, [[50, 100], [950, 1900]])
    assert bootstrap_ci(d, 0.9, names=["u", "v"])["v"] == pytest.approx((100.0, 1900.0))


# ---------------------------------------------------------------------------------------------
# bad input: each message names the argument and says what to do


@pytest.mark.parametrize(
    "x, y, match",
    [
        ([1, 2, 0, 4], [1, 2, 3, 4], r"x must be positive and finite: found 0 at index 2 \(drop or fix that row\)"),
        ([1, 2, 3, 4], [1, -2, 3, 4], r"y must be positive and finite: found -2 at index 1"),
        ([1, 2, np.nan, 4], [1, 2, 3, 4], r"x must be positive and finite: found nan at index 2"),
        ([1, 2, 3, 4], [1, 2, np.inf, 4], r"y must be positive and finite: found inf at index 2"),
        ([1, 2, 3, 4], [1, 2, 3], r"x has 4 values but y has 3"),
        ([1, 2], [1, 2], r"fit_power_law needs at least 3 points \(2 parameters\); got 2"),
        ([1, 2, 3], [3, 2, 1], r"fit_power_law with offset=True needs at least 4 points \(3 parameters\); got 3"),
        ([2, 2, 2], [1, 2, 3], r"at least 2 distinct values"),
    ],
)
def test_power_law_bad_input(x, y, match):
    offset = "offset" in match
    with pytest.raises(ValueError, match=match):
        fit_power_law(x, y, offset=offset)


def test_power_law_bad_options():
    x = np.logspace(1, 3, 10)
    with pytest.raises(ValueError, match="method must be 'log' or 'nls'"):
        fit_power_law(x, x, method="ols")
    with pytest.raises(ValueError, match="ci_level must be between 0 and 1"):
        fit_power_law(x, x, ci_level=95)
    with pytest.raises(ValueError, match="bootstrap must be a whole number"):
        fit_power_law(x, x, bootstrap=-1)
