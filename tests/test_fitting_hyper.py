"""scaling_lab.fitting.hyper: optimum peak learning rates from a sweep, and eta*(N) = c N^-k."""

import json

import numpy as np
import pytest

from scaling_lab.fitting import LRLawFit, fit_lr_law, lr_optima, lr_shift

K_TRUE, C_TRUE = 0.3, 2.0
SIZES = (1e4, 3e4, 1e5, 3e5, 1e6)
MULTS = 2.0 ** np.arange(-3, 4)  # 7 rates, a factor 2 apart, around the optimum


def eta_true(N, tokens=1.0, slope=0.0):
    return C_TRUE * np.asarray(N, float) ** -K_TRUE * tokens**slope


def sweep(seed, sizes=SIZES, mults=MULTS, reps=1, sigma=0.003, width=0.08, offset=1.3,
          tokens=None, slope=0.0):
    """Synthetic final losses: a valley in log(lr) around the true eta*(N) (a parabola of
    curvature ``width`` plus a small cubic, so that it is not exactly a parabola), plus noise;
    the swept rates are ``offset`` x the true optimum x ``mults`` (the optimum is off the grid)."""
    rng = np.random.default_rng(seed)
    N, LR, L, H = [], [], [], []
    for t in tokens or [None]:
        for n in sizes:
            eo = eta_true(n, (t or 1.0) / (tokens or [1.0])[0], slope)
            base = eta_true(n) * offset
            for m in mults:
                lr = base * m
                d = np.log(lr / eo)
                for _ in range(reps):
                    N.append(n), LR.append(lr), H.append(t)
                    L.append(3 - 0.1 * np.log(n) + width * d**2 + 0.01 * d**3
                             + rng.normal(0, sigma))
    out = [np.array(N), np.array(LR), np.array(L)]
    return out + ([np.array(H, float)] if tokens else [])


def test_optima_of_a_noiseless_parabola_are_exact():
    N, LR, L = sweep(0, sigma=0.0, offset=1.3)
    L = L - 0.01 * np.log(LR / eta_true(N)) ** 3  # an exact parabola in log lr
    opt = lr_optima(N, LR, L)
    assert [o["x"] for o in opt] == list(SIZES)
    for o in opt:
        assert o["lr_opt"] == pytest.approx(eta_true(o["x"]), rel=1e-9)
        assert o["inside"] and o["opens_up"] and o["n_lrs"] == 7 and o["n_runs"] == 7
        # the best swept rate is the grid point nearest the optimum: 1.3 x 2^-0 = 1.3
        assert o["lr_best"] == pytest.approx(1.3 * eta_true(o["x"]))


def test_recovers_k_within_its_interval():
    N, LR, L = sweep(1)
    fit = fit_lr_law(N, LR, L, bootstrap=300, seed=0)
    assert isinstance(fit, LRLawFit)
    lo, hi = fit.ci["k"]
    assert lo <= K_TRUE <= hi and hi - lo < 0.12
    assert fit.k == pytest.approx(K_TRUE, abs=0.02)
    assert fit.c == pytest.approx(C_TRUE, rel=0.25)
    assert fit.used.all() and fit.diagnostics["n_bootstrap_ok"] >= 250
    assert fit.predict(1e5) == pytest.approx(eta_true(1e5), rel=0.05)
    lo, hi = fit.interval(1e5)
    assert lo < fit.predict(1e5) < hi
    d = fit.to_dict()
    json.dumps(d)
    assert d["estimator"] == "LRLawFit" and len(d["optima"]) == 5
    assert "eta*" in fit.summary()


@pytest.mark.slow
def test_interval_covers_the_truth_in_most_replicates():
    """20 seeded replicates, one run per rate: the 95% interval of k covers 0.3 in at least 16
    (measured: 20 of 20; with 2 runs per rate: 19 of 20)."""
    hits = 0
    for seed in range(20):
        N, LR, L = sweep(100 + seed)
        lo, hi = fit_lr_law(N, LR, L, bootstrap=200, seed=seed).ci["k"]
        hits += lo <= K_TRUE <= hi
    assert hits >= 16


def test_edge_optima_are_flagged_and_excluded():
    # the largest size's sweep stops below its optimum: its best rate is the largest swept
    N, LR, L = sweep(2)
    big = N == SIZES[-1]
    keep = ~big | (LR < eta_true(SIZES[-1]) * 0.9)
    N, LR, L = N[keep], LR[keep], L[keep]
    opt = lr_optima(N, LR, L)
    assert [o["inside"] for o in opt] == [True, True, True, True, False]
    assert opt[-1]["lr_best"] == opt[-1]["lr_range"][1]
    fit = fit_lr_law(N, LR, L, bootstrap=0)
    assert fit.used.tolist() == [True, True, True, True, False]
    assert "edge" in fit.message and f"{SIZES[-1]:.4g}" in fit.message
    assert fit.k == pytest.approx(K_TRUE, abs=0.03)
    kept = fit_lr_law(N, LR, L, bootstrap=0, edges="keep")
    assert kept.used.all() and kept.k > fit.k  # the clamped vertex is too low: k biased up


def test_too_few_inside_is_named():
    N, LR, L = sweep(3, sizes=(1e4, 1e5), mults=2.0 ** np.arange(0, 4), offset=1.0)
    with pytest.raises(ValueError, match="at least 2 sizes whose best learning rate is inside"):
        fit_lr_law(N, LR, L, bootstrap=0)


def test_shift_between_horizons():
    # eta* grows as tokens^0.2 between the two horizons: ratio 4^0.2 = 1.32
    N, LR, L, H = sweep(4, tokens=[1e6, 4e6], slope=0.2, reps=2)
    res = lr_shift(N, LR, L, H, bootstrap=200, seed=0)
    assert (res.short, res.long) == (1e6, 4e6)
    assert res.slope == pytest.approx(0.2, abs=0.04)
    lo, hi = res.ci["ratio"]
    assert lo <= 4**0.2 <= hi
    assert len(res.per_size) == 5 and all(p["used"] for p in res.per_size)
    opt = lr_optima(N, LR, L, H)
    assert len(opt) == 10 and {o["horizon"] for o in opt} == {1e6, 4e6}


@pytest.mark.parametrize("args, match", [
    (([1e4] * 2 + [2e4] * 3, [1e-3, 2e-3] + [1e-3, 2e-3, 4e-3], [3.0] * 5),
     r"N=10000 has 2 distinct learning rate\(s\) in lr; the optimum needs at least 3"),
    (([1e4] * 3, [1e-3, 0.0, 4e-3], [3.0] * 3), "lr must be positive and finite"),
    (([1e4] * 3, [1e-3, 2e-3, 4e-3], [3.0, np.nan, 3.0]), "loss must be"),
    (([1e4] * 3, [1e-3, 2e-3], [3.0] * 3), "same length|one value per"),
    (([-1.0] * 3, [1e-3, 2e-3, 4e-3], [3.0] * 3), "N must be positive"),
])
def test_bad_input_is_named(args, match):
    with pytest.raises(ValueError, match=match):
        lr_optima(*args)


def test_bad_options_are_named():
    N, LR, L = sweep(5)
    with pytest.raises(ValueError, match="edges must be one of 'exclude', 'keep'"):
        fit_lr_law(N, LR, L, edges="drop")
    with pytest.raises(ValueError, match="bootstrap must be a whole number"):
        fit_lr_law(N, LR, L, bootstrap=-1)
    with pytest.raises(ValueError, match="horizon has 1 distinct value"):
        lr_shift(N, LR, L, np.full(N.size, 1e6), bootstrap=0)
