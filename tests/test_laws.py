"""Laws: the papers' numbers reproduce, the algebra holds, bad input is refused."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from scaling_lab import laws
from scaling_lab.laws import (
    AdditiveKM, ChinchillaLaw, DataConstrainedLaw, KaplanAllocation, KaplanC, KaplanD,
    KaplanN, KaplanND, PowerLaw, SaturatingPowerLaw, effective_data, effective_params,
    get_law, inference_optimal,
)
from scaling_lab.published import PF_DAY

HOFF = ChinchillaLaw.hoffmann2022()
HOFF_U = ChinchillaLaw.hoffmann2022_unrounded()
EPOCH = ChinchillaLaw.besiroglu2024()


def sig(x, n):
    return float(f"{x:.{n}g}")


# ------------------------------------------------------------------ published numbers

def test_hoffmann_rounded_allocation_at_gopher_budget():
    r = HOFF.optimal(5.76e23)
    assert sig(r.N_opt, 3) == 3.22e10
    assert round(r.tokens_per_param, 1) == 92.6


def test_hoffmann_unrounded_allocation():
    r = HOFF_U.optimal(5.76e23)
    assert sig(r.N_opt, 3) == 4.04e10
    assert round(r.tokens_per_param, 1) == 58.9


def test_besiroglu_allocation():
    r = EPOCH.optimal(5.76e23)
    assert sig(r.N_opt, 2) == 7.2e10
    assert round(r.tokens_per_param, 1) == 18.4


def test_predicted_losses_chinchilla_and_gopher():
    assert round(HOFF.loss(70e9, 1.4e12), 3) == 1.937
    assert round(HOFF.loss(280e9, 300e9), 3) == 1.993
    assert HOFF.loss(70e9, 1.4e12) < HOFF.loss(280e9, 300e9)


def test_exponents_of_published_laws():
    assert HOFF.a == pytest.approx(0.28 / 0.62) and HOFF.b == pytest.approx(0.34 / 0.62)
    assert round(EPOCH.a, 2) == 0.51 and round(EPOCH.b, 2) == 0.49
    d = HOFF.to_dict()
    assert d["G"] == HOFF.G and d["a"] == HOFF.a and d["E"] == 1.69 and d["name"] == "hoffmann2022"


def test_kaplan_doubling_N():
    N = np.array([1e6, 1e8, 1e10])
    assert np.allclose(laws.KAPLAN_N.loss(2 * N) / laws.KAPLAN_N.loss(N), 2 ** -0.076, rtol=1e-14)
    assert laws.KAPLAN_D.loss(2e9) / laws.KAPLAN_D.loss(1e9) == pytest.approx(2 ** -0.095, rel=1e-14)


def test_kaplan_C_in_flops():
    assert laws.KAPLAN_C.loss(3.1e8 * PF_DAY) == pytest.approx(1.0)
    assert laws.KAPLAN_C_NAIVE.loss(1.6e7 * PF_DAY) == pytest.approx(1.0)
    assert KaplanC.from_published().alpha_C == 0.050


def test_kaplan_table6_allocation():
    k = KaplanAllocation.from_published()
    r = k.optimal(PF_DAY)  # 1 PF-day
    assert r.N_opt == pytest.approx(1.3e9) and r.D_opt == pytest.approx(2e10)
    assert k.batch_size(PF_DAY) == pytest.approx(2e6) and k.steps(PF_DAY) == pytest.approx(5.4e3)
    assert r.loss == pytest.approx((3.1e8) ** 0.050)
    r10 = k.optimal(10 * PF_DAY)
    assert r10.N_opt / r.N_opt == pytest.approx(10 ** 0.73)
    assert r10.tokens_per_param == pytest.approx(r10.D_opt / r10.N_opt)


def test_kaplan_nd_limits():
    m = laws.KAPLAN_ND
    assert m.loss(1e9, 1e30) == pytest.approx((6.4e13 / 1e9) ** 0.076, rel=1e-6)
    assert m.loss(1e30, 1e9) == pytest.approx((1.8e13 / 1e9) ** 0.103, rel=1e-6)


def test_additive_km_is_not_eq_15():
    add = AdditiveKM.from_published("eq1.5")
    # the additive form double-counts: at large N and D it is about twice eq. 1.5's loss
    assert add.loss(1e9, 1e10) > laws.KAPLAN_ND.loss(1e9, 1e10)
    assert AdditiveKM.from_published().N_c == 8.8e13
    with pytest.raises(ValueError, match="constants"):
        AdditiveKM.from_published("table6")


# ---------------------------------------------------------------------- algebra

positive = dict(allow_nan=False, allow_infinity=False)


@settings(max_examples=150, deadline=None)
@given(E=st.floats(0, 3, **positive), A=st.floats(10, 1e4, **positive),
       B=st.floats(10, 1e4, **positive), alpha=st.floats(0.1, 1.0, **positive),
       beta=st.floats(0.1, 1.0, **positive), logC=st.floats(10, 30, **positive))
def test_closed_form_equals_numerical_minimisation(E, A, B, alpha, beta, logC):
    law = ChinchillaLaw(E, A, B, alpha, beta)
    C = 10.0 ** logC
    closed, numeric = law.optimal(C), law.optimal_numeric(C)
    assert numeric.N_opt == pytest.approx(closed.N_opt, rel=1e-5)
    assert numeric.D_opt == pytest.approx(closed.D_opt, rel=1e-5)
    assert closed.loss <= numeric.loss * (1 + 1e-12)
    assert 6 * closed.N_opt * closed.D_opt == pytest.approx(C, rel=1e-12)


def test_optimal_is_vectorised_and_matches_scalar():
    C = np.logspace(18, 26, 9)
    r = HOFF.optimal(C)
    assert r.N_opt.shape == (9,)
    assert r.N_opt[3] == pytest.approx(HOFF.optimal(C[3]).N_opt, rel=1e-15)
    assert np.allclose(HOFF.optimal_numeric(C).N_opt, r.N_opt, rtol=1e-6)
    assert np.all(np.diff(r.loss) < 0)
    assert isinstance(r.to_dict()["N_opt"], list) and isinstance(HOFF.optimal(1e20).to_dict()["N_opt"], float)


def test_isoflop_minimum_at_N_opt():
    C = 1e21
    r = HOFF.optimal(C)
    N = r.N_opt * np.array([0.5, 0.9, 1.0, 1.1, 2.0])
    L = HOFF.isoflop(C, N)
    assert np.argmin(L) == 2 and L[2] == pytest.approx(r.loss, rel=1e-14)


@settings(max_examples=100, deadline=None)
@given(N=st.floats(1e3, 1e13), D=st.floats(1e3, 1e14), k=st.floats(1.01, 100))
def test_chinchilla_monotone_and_above_E(N, D, k):
    for law in (HOFF, HOFF_U, EPOCH):
        L = law.loss(N, D)
        assert L > law.E
        assert law.loss(k * N, D) < L and law.loss(N, k * D) < L


@settings(max_examples=100, deadline=None)
@given(N=st.floats(1e3, 1e13), D=st.floats(1e3, 1e14), k=st.floats(1.01, 100))
def test_kaplan_nd_at_least_each_limit_and_monotone(N, D, k):
    m = laws.KAPLAN_ND
    L = m.loss(N, D)
    assert L >= m.loss_N_limit(N) * (1 - 1e-14)
    assert L >= m.loss_D_limit(D) * (1 - 1e-14)
    assert m.loss(k * N, D) < L and m.loss(N, k * D) < L


@settings(max_examples=100, deadline=None)
@given(E=st.floats(0, 5), A=st.floats(1e-3, 1e3), alpha=st.floats(0.01, 2), x=st.floats(1e-3, 1e12))
def test_power_laws(E, A, alpha, x):
    assert PowerLaw(A, alpha).loss(x) == pytest.approx(A * x ** -alpha)
    s = SaturatingPowerLaw(E, A, alpha)
    assert s.loss(x) >= E and s.loss(2 * x) <= s.loss(x)


def test_broadcasting_returns_arrays_and_floats():
    assert isinstance(HOFF.loss(1e9, 2e10), float)
    out = HOFF.loss(np.array([[1e8], [1e9]]), np.array([1e9, 1e10, 1e11]))
    assert out.shape == (2, 3)
    with pytest.raises(ValueError, match="broadcast"):
        HOFF.loss([1e9, 2e9], [1e9, 2e9, 3e9])


# ------------------------------------------------------------------- registry

def test_registry():
    assert set(laws.LAWS) == {"hoffmann2022", "hoffmann2022-unrounded", "besiroglu2024"}
    assert get_law("hoffmann2022") == HOFF
    assert get_law("besiroglu2024").name == "besiroglu2024"
    k = get_law("kaplan2020")
    r = k.optimal(1e24)
    assert {"N_opt", "D_opt", "tokens_per_param", "loss"} <= set(r.to_dict())
    with pytest.raises(ValueError, match=r"unknown law 'chinchilla'.*hoffmann2022.*kaplan2020"):
        get_law("chinchilla")


# ---------------------------------------------------------------- inference (Sardana)

def test_inference_optimal_without_inference_is_chinchilla():
    r = inference_optimal(HOFF, 2.0, 0)
    assert r.N == pytest.approx(r.chinchilla.N_opt, rel=1e-12)
    assert r.total_flops == pytest.approx(r.chinchilla.C, rel=1e-12)
    assert r.chinchilla.loss == pytest.approx(2.0, rel=1e-12)


def test_compute_optimal_for_loss_agrees_with_optimal():
    a = HOFF.compute_optimal_for_loss(2.1)
    b = HOFF.optimal(a.C)
    assert b.N_opt == pytest.approx(a.N_opt, rel=1e-10) and b.loss == pytest.approx(2.1, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(target=st.floats(1.8, 3.0), logT=st.floats(9, 16))
def test_inference_optimal_properties(target, logT):
    T = 10.0 ** logT
    r = inference_optimal(HOFF, target, T)
    assert HOFF.loss(r.N, r.D) == pytest.approx(target, rel=1e-9)   # on the constraint
    assert r.N <= r.chinchilla.N_opt * (1 + 1e-9)                     # smaller model...
    assert r.tokens_per_param >= r.chinchilla.tokens_per_param * (1 - 1e-9)  # ...more data
    assert r.total_flops <= r.chinchilla_total_flops * (1 + 1e-12)
    assert r.total_flops == pytest.approx(r.training_flops + r.inference_flops)
    # a brute-force grid over N along the iso-loss curve finds nothing cheaper
    R = target - HOFF.E
    N_min = (HOFF.A / R) ** (1 / HOFF.alpha)
    N = np.exp(np.linspace(math.log(N_min) + 1e-6, math.log(r.chinchilla.N_opt) + 1, 4000))
    D = (HOFF.B / (R - HOFF.A * N ** -HOFF.alpha)) ** (1 / HOFF.beta)
    assert np.min(6 * N * D + 2 * N * T) >= r.total_flops * (1 - 1e-6)


def test_inference_optimal_bad_input():
    with pytest.raises(ValueError, match="loss_target must exceed"):
        inference_optimal(HOFF, 1.5, 1e12)
    with pytest.raises(ValueError, match="inference_tokens"):
        inference_optimal(HOFF, 2.0, -1)
    with pytest.raises(ValueError, match="ChinchillaLaw"):
        inference_optimal(get_law("kaplan2020"), 2.0, 1e12)


# ------------------------------------------------------------ data-constrained (Muennighoff)

def test_effective_data_limits():
    U = 1e9
    assert effective_data(U, U) == pytest.approx(U)
    assert effective_data(U, 0.5 * U) == pytest.approx(0.5 * U)  # no repetition
    big = effective_data(U, U * 1e6)
    assert big == pytest.approx(U * (1 + 15.387756), rel=1e-12)
    # one repetition is worth almost a fresh epoch
    assert 1.9 * U < effective_data(U, 2 * U) < 2 * U
    assert effective_params(1e8, 1e8) == pytest.approx(1e8)
    assert effective_params(1e8, 1e14) == pytest.approx(1e8 * (1 + 5.309743), rel=1e-9)


@settings(max_examples=100, deadline=None)
@given(U=st.floats(1e6, 1e12), r1=st.floats(0, 100), r2=st.floats(0, 100))
def test_effective_data_monotone_and_bounded(U, r1, r2):
    lo, hi = sorted((r1, r2))
    d_lo, d_hi = effective_data(U, U * (1 + lo)), effective_data(U, U * (1 + hi))
    assert d_lo <= d_hi * (1 + 1e-12)
    assert U * (1 - 1e-12) <= d_hi <= U * (1 + 15.387756) * (1 + 1e-12)
    assert d_hi <= U * (1 + hi) * (1 + 1e-12)  # never worth more than fresh tokens


def test_data_constrained_law():
    m = DataConstrainedLaw.from_published()
    assert round(m.E, 3) == 1.869
    # with unique data to spare it is the base Chinchilla form
    N, D = 1e9, 2e10
    assert m.loss(N, D, U_D=1e12) == pytest.approx(m.base.loss(N, D), rel=1e-12)
    # repeating data hurts; more unique data helps
    L = m.loss(N, D, U_D=np.array([1e9, 4e9, 2e10]))
    assert np.all(np.diff(L) < 0)
    # the base size for U_D is the compute-optimal size of the base law
    G = m.base.G
    r = m.base.optimal(6 * m.base_params(1e10) * 1e10)
    assert r.D_opt == pytest.approx(1e10, rel=1e-9)
    assert m.base_params(1e10) == pytest.approx(G * G * 1e10, rel=1e-12)  # alpha == beta


# -------------------------------------------------------------------- bad input

@pytest.mark.parametrize("call, arg", [
    (lambda: HOFF.loss(-3, 1e9), "N"),
    (lambda: HOFF.loss(1e9, [1e9, 1e9, float("nan")]), "D"),
    (lambda: HOFF.optimal(0), "C"),
    (lambda: HOFF.optimal([1e20, float("inf")]), "C"),
    (lambda: HOFF.isoflop(1e20, -1), "N"),
    (lambda: laws.KAPLAN_N.loss("many"), "N"),
    (lambda: laws.KAPLAN_C.loss(-1), "C"),
    (lambda: laws.KAPLAN_ND.loss(1e9, 0), "D"),
    (lambda: get_law("kaplan2020").optimal(-5), "C"),
    (lambda: PowerLaw(1, 0.5).loss([1, 2, -3]), "x"),
    (lambda: effective_data(-1, 1e9), "U_D"),
    (lambda: effective_params(1e9, 0), "N"),
    (lambda: ChinchillaLaw(1.7, -1, 400, 0.3, 0.3), "A"),
    (lambda: ChinchillaLaw(1.7, 400, 400, 0.3, float("nan")), "beta"),
    (lambda: SaturatingPowerLaw(-1, 1, 1), "E"),
    (lambda: KaplanN(8.8e13, 0), "alpha_N"),
    (lambda: DataConstrainedLaw.from_published().loss(1e9, 1e10, U_D=0), "U_D"),
])
def test_bad_input_names_the_argument(call, arg):
    with pytest.raises(ValueError, match=rf"^{arg} must be"):
        call()


def test_error_message_gives_value_and_index():
    with pytest.raises(ValueError, match=r"N must be positive and finite: found -3 at index 2"):
        HOFF.loss([1e9, 2e9, -3], 1e10)


# ---------------------------------------------------------------- Pearce & Song (pearce2024)

def test_nonembedding_frontier_matches_numeric_and_limits():
    import numpy as np
    from scaling_lab import laws as L

    law = L.ChinchillaLaw.besiroglu2024()
    N = np.logspace(3, 9, 13)
    fr = L.nonembedding_frontier(law, N)
    assert np.allclose(L.nonembedding_optimum(law, fr.C_nonemb), N, rtol=1e-5)
    # local exponent: analytic = finite differences; limits beta/(beta+alpha/3) and law.a
    fd = np.gradient(np.log(N), np.log(fr.C_nonemb))
    assert np.allclose(fd[1:-1], fr.local_exponent[1:-1], atol=0.03)
    tiny = L.nonembedding_frontier(law, 1.0).local_exponent
    assert float(tiny) == pytest.approx(law.beta / (law.beta + law.alpha / 3), abs=0.01)
    huge = L.nonembedding_frontier(law, 1e16).local_exponent
    assert float(huge) == pytest.approx(law.a, abs=0.01)
    # with no embeddings it is the plain Chinchilla allocation
    plain = L.nonembedding_frontier(law, N, coefficient=0.0)
    assert np.allclose(plain.local_exponent, law.a)
    assert np.allclose(plain.N_nonemb, law.optimal(plain.C_nonemb).N_opt, rtol=1e-9)


def test_compute_multiplier_is_one_at_the_optimum_and_grows_either_side():
    """A model k x N_opt needs exactly C at k = 1, more elsewhere, and never reaches the
    optimal loss when it is too small (inf); checked against a direct solve for D."""
    import numpy as np

    from scaling_lab.laws import ChinchillaLaw

    law = ChinchillaLaw.besiroglu2024()
    C = 5.76e23
    m = law.compute_multiplier(np.array([0.25, 0.5, 1.0, 2.0, 4.0]), C)
    assert m[2] == pytest.approx(1.0, rel=1e-9)
    assert (np.delete(m, 2) > 1).all() and m[0] > m[1] and m[4] > m[3]
    k, o = 4.0, law.optimal(C)
    N = k * o.N_opt
    D = law.compute_multiplier(k, C) * C / (6 * N)
    assert law.loss(N, D) == pytest.approx(o.loss, rel=1e-12)
    assert law.compute_multiplier(1e-3, C) == float("inf")
    with pytest.raises(ValueError, match="k must be positive"):
        law.compute_multiplier(-1.0, C)


def test_from_fit_takes_a_fit_result_and_published_constants():
    """ChinchillaLaw.from_fit(fit_chinchilla(...)) once raised AttributeError: it accepted only
    the published constants. A fit on data drawn from a known law gives that law back."""
    import numpy as np

    from scaling_lab import published
    from scaling_lab.fitting import fit_chinchilla
    from scaling_lab.laws import ChinchillaLaw

    truth = ChinchillaLaw.hoffmann2022()
    N, D = (g.ravel() for g in np.meshgrid(np.logspace(7, 10, 6), np.logspace(9, 12, 6)))
    law = ChinchillaLaw.from_fit(fit_chinchilla(N, D, truth.loss(N, D)))
    assert law.name == "fit" and law.source is None
    for k in ("E", "A", "B", "alpha", "beta"):
        assert getattr(law, k) == pytest.approx(getattr(truth, k), rel=1e-3), k
    published_law = ChinchillaLaw.from_fit(published.HOFFMANN2022_APPROACH3)
    assert published_law == truth and published_law.source is not None
    with pytest.raises(TypeError, match="fit must be published.ChinchillaConstants"):
        ChinchillaLaw.from_fit({"E": 1.0})
