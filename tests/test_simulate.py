"""The quanta simulation reproduces the exponents its theory predicts."""

import numpy as np
import pytest

from scaling_lab.fitting import fit_power_law
from scaling_lab.simulate import quanta_learning_curves, zipf_frequencies


def test_zipf_frequencies_normalised_and_decreasing():
    p = zipf_frequencies(1000, 0.5)
    assert p.sum() == pytest.approx(1.0)
    assert np.all(np.diff(p) < 0)
    assert p[0] / p[1] == pytest.approx(2 ** 1.5)


@pytest.mark.parametrize("a", [0.5, 1.0])
def test_quanta_exponents_match_theory(a):
    sim = quanta_learning_curves(a=a, n_skills=300_000, samples=np.unique(np.logspace(2, 6, 17).astype(int)))
    cap = fit_power_law(sim.capacity, sim.loss_capacity).params["alpha"]
    dat = fit_power_law(sim.samples, sim.loss_data).params["alpha"]
    assert cap == pytest.approx(sim.theory_capacity_exponent, rel=0.06)
    assert dat == pytest.approx(sim.theory_data_exponent, rel=0.06)


def test_quanta_same_seed_same_curve():
    a = quanta_learning_curves(n_skills=10_000, samples=[10, 100, 1000], capacity=[10, 100])
    b = quanta_learning_curves(n_skills=10_000, samples=[10, 100, 1000], capacity=[10, 100])
    assert np.array_equal(a.loss_data, b.loss_data)


@pytest.mark.parametrize("kwargs, name", [
    ({"a": -1.0}, "a"), ({"n_skills": 0}, "n_skills"), ({"tau": 0}, "tau"),
    ({"samples": [10, 5]}, "samples"), ({"capacity": [10**7]}, "capacity"),
])
def test_quanta_bad_input_names_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        quanta_learning_curves(**{"n_skills": 100_000, **kwargs})


# ------------------------------------------------------------ runs from a known law (chapter 4)

from scaling_lab import laws  # noqa: E402
from scaling_lab.fitting import fit_isoflop  # noqa: E402
from scaling_lab.simulate import (  # noqa: E402
    cosine_lr, cosine_lr_area, schedule_loss, simulate_runs, simulate_training_curves)

LAW = laws.ChinchillaLaw.besiroglu2024()


def test_simulate_runs_shape_and_budget():
    runs = simulate_runs(LAW, [1e19, 1e20], sizes_per_budget=5, noise=0.0, seed=0)
    assert len(runs) == 10
    assert np.allclose(6 * runs.N * runs.D, runs.C)
    assert np.allclose(runs.loss, runs.loss_true)
    assert np.allclose(runs.loss_true, LAW.loss(runs.N, runs.D))


def test_simulate_runs_noise_is_seeded_and_multiplicative():
    a = simulate_runs(LAW, [1e19], 7, noise=0.01, seed=3)
    b = simulate_runs(LAW, [1e19], 7, noise=0.01, seed=3)
    assert a.equals(b)
    assert np.std(np.log(a.loss / a.loss_true)) < 0.03


def test_isoflop_recovers_noise_free_law():
    budgets = np.logspace(18, 21, 5)
    runs = simulate_runs(LAW, budgets, 9, noise=0.0, span=0.5)
    assert fit_isoflop(runs.N, runs.C, runs.loss).params["a"] == pytest.approx(LAW.a, abs=0.01)


def test_simulate_runs_rejects_bad_input():
    with pytest.raises(ValueError, match="budgets"):
        simulate_runs(LAW, [-1.0])
    with pytest.raises(ValueError, match="center"):
        simulate_runs(LAW, [1e19, 1e20], center=[1e8])


def test_training_curves_follow_the_law():
    c = simulate_training_curves(LAW, [1e8, 1e9], max_flops=1e20, points_per_run=5, noise=0.0)
    assert set(c.run) == {0, 1} and np.all(c.C <= 1e20 * (1 + 1e-12))
    assert np.allclose(c.loss, LAW.loss(c.N, c.D))


# ------------------------------------------------------------ the cosine toy model (chapter 5)

def test_cosine_lr_ends_at_final_fraction_and_area_matches():
    assert cosine_lr(0, 100) == pytest.approx(1.0)
    assert cosine_lr(100, 100, 0.1) == pytest.approx(0.1)
    t = np.linspace(0, 100, 20001)
    numeric = np.trapezoid(cosine_lr(t, 100, 0.1), t)
    assert cosine_lr_area(100, 100, 0.1) == pytest.approx(numeric, rel=1e-6)
    assert cosine_lr_area(100, 100, 0.1) == pytest.approx(100 * 1.1 / 2)


def test_schedule_loss_is_the_law_at_the_end_and_above_it_before():
    assert schedule_loss(LAW, 1e8, 2e9, 2e9) == pytest.approx(LAW.loss(1e8, 2e9), rel=1e-12)
    D = np.logspace(8, 9.7, 10)                # up to half the horizon: learning rate still high
    assert np.all(schedule_loss(LAW, 1e8, D, 1e10, kappa=0.5) > LAW.loss(1e8, D))
    # without the noise term, a checkpoint has travelled further than a finished short run
    assert np.all(schedule_loss(LAW, 1e8, D, 1e10, kappa=0.0) <= LAW.loss(1e8, D) + 1e-12)
