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
