"""Numbers pinned from every law before ``laws`` became a package (issue 13, item 4).

Each value below was computed by the single-module ``laws.py`` (commit e232469); the move
into ``laws/kaplan.py``, ``laws/chinchilla.py`` and ``laws/extensions.py`` must leave every
one unchanged (to 1e-13 relative: the code moved, no arithmetic changed). The names list
pins the public surface: every name importable as ``scaling_lab.laws.X`` before the move.
"""

import pytest

from scaling_lab import laws as L

H = L.ChinchillaLaw.hoffmann2022()
EPOCH = L.ChinchillaLaw.besiroglu2024()
MUEN = L.DataConstrainedLaw.from_published()


def INF():
    return L.inference_optimal(H, 2.0, 1e13)


def FRONT():
    return L.nonembedding_frontier(EPOCH, 1e6)


PINNED = [
    ('hoffmann_optimal_N_opt', lambda: H.optimal(5.76e23).N_opt, 32189859151.368168),
    ('hoffmann_optimal_D_opt', lambda: H.optimal(5.76e23).D_opt, 2982305686662.796),
    ('hoffmann_optimal_tokens_per_param', lambda: H.optimal(5.76e23).tokens_per_param,
     92.64736675730495),
    ('hoffmann_optimal_loss', lambda: H.optimal(5.76e23).loss, 1.9307481017316481),
    ('for_loss_N_opt', lambda: EPOCH.compute_optimal_for_loss(2.1).N_opt, 13362856972.821827),
    ('for_loss_D_opt', lambda: EPOCH.compute_optimal_for_loss(2.1).D_opt, 267039760916.3384),
    ('for_loss_tokens_per_param', lambda: EPOCH.compute_optimal_for_loss(2.1).tokens_per_param,
     19.98373262989043),
    ('for_loss_loss', lambda: EPOCH.compute_optimal_for_loss(2.1).loss, 2.1),
    ('unrounded_N_opt', lambda: L.ChinchillaLaw.hoffmann2022_unrounded().optimal(5.76e23).N_opt,
     40360938387.23629),
    ('besiroglu_N_opt', lambda: EPOCH.optimal(5.76e23).N_opt, 72248702500.38242),
    ('besiroglu_G', lambda: EPOCH.G, 0.11962984977039547),
    ('besiroglu_a', lambda: EPOCH.a, 0.5126121076233184),
    ('hoffmann_loss_chinchilla', lambda: H.loss(70e9, 1.4e12), 1.9366454705587173),
    ('hoffmann_isoflop', lambda: H.isoflop(1e21, 3e9), 2.3363489234394788),
    ('hoffmann_numeric_N_opt', lambda: H.optimal_numeric(1e21).N_opt, 1824217645.8866978),
    ('hoffmann_along_N_opt',
     lambda: H.optimal_along(1e18, lambda N: 6 * N + 12 * 1024 * 64,
                             N_range=(1e4, 1e9)).N_opt[0],
     80816492.91125384),
    ('hoffmann_multiplier', lambda: H.compute_multiplier(3.0, 5.76e23), 1.3265740780182227),
    ('get_law_LAWS_keys', lambda: list(L.LAWS),
     ['hoffmann2022', 'hoffmann2022-unrounded', 'besiroglu2024']),
    ('known_laws', lambda: list(L.KNOWN_LAWS),
     ['hoffmann2022', 'hoffmann2022-unrounded', 'besiroglu2024', 'kaplan2020']),
    ('power_law', lambda: L.PowerLaw(2.0, 0.3).loss(50.0), 0.6184989894219834),
    ('saturating_power_law', lambda: L.SaturatingPowerLaw(1.5, 2.0, 0.3)(50.0),
     2.1184989894219832),
    ('kaplan_N', lambda: L.KAPLAN_N.loss(1e9), 2.3756402951345246),
    ('kaplan_D', lambda: L.KAPLAN_D.loss(1e10), 2.2624417538197132),
    ('kaplan_C', lambda: L.KAPLAN_C.loss(1e21), 2.3517641828441294),
    ('kaplan_C_naive', lambda: L.KAPLAN_C_NAIVE.loss(1e21), 2.2388042482518493),
    ('kaplan_ND', lambda: L.KAPLAN_ND.loss(1e9, 1e10), 2.4196518191691774),
    ('kaplan_ND_N_limit', lambda: L.KAPLAN_ND.loss_N_limit(1e9), 2.318834098331168),
    ('kaplan_ND_D_limit', lambda: L.KAPLAN_ND.loss_D_limit(1e10), 2.1641784491436535),
    ('kaplan_overfit_penalty', lambda: L.KAPLAN_ND.overfit_penalty(1e9, 1e10),
     0.04347776363585765),
    ('kaplan_min_tokens', lambda: L.KAPLAN_ND.min_tokens(1e9), 24135832758.278255),
    ('kaplan_overfitting_tokens', lambda: L.kaplan_overfitting_tokens(1e9), 22854409480.743748),
    ('critical_batch_size', lambda: L.critical_batch_size(2.5), 2674649.4668104537),
    ('additive_table5', lambda: L.AdditiveKM.from_published("table5").loss(1e9, 1e10),
     4.638082048954238),
    ('additive_eq15', lambda: L.AdditiveKM.from_published("eq1.5").loss(1e9, 1e10),
     4.4830125474748215),
    ('kaplan_allocation_batch', lambda: L.KAPLAN_ALLOCATION.batch_size(1e21), 3599703.2277262313),
    ('kaplan_allocation_steps', lambda: L.KAPLAN_ALLOCATION.steps(1e21), 5811.635226831592),
    ('kaplan_allocation_N_opt', lambda: L.KAPLAN_ALLOCATION.optimal(1e21).N_opt,
     7767626242.304698),
    ('kaplan_allocation_D_opt', lambda: L.KAPLAN_ALLOCATION.optimal(1e21).D_opt,
     38741040897.02436),
    ('kaplan_allocation_tokens_per_param',
     lambda: L.KAPLAN_ALLOCATION.optimal(1e21).tokens_per_param,
     4.987500645439098),
    ('kaplan_allocation_loss', lambda: L.KAPLAN_ALLOCATION.optimal(1e21).loss, 2.3517641828441294),
    ('get_law_kaplan_N_opt', lambda: L.get_law("kaplan2020").N_opt(1e21), 7767626242.304698),
    ('inference_chinchilla_N_opt', lambda: INF().chinchilla.N_opt, 15303168616.957869),
    ('inference_chinchilla_D_opt', lambda: INF().chinchilla.D_opt, 1208964379832.2249),
    ('inference_chinchilla_tokens_per_param', lambda: INF().chinchilla.tokens_per_param,
     79.00091870467517),
    ('inference_chinchilla_loss', lambda: INF().chinchilla.loss, 2.0),
    ('inference_N', lambda: INF().N, 6487107861.874546),
    ('inference_D', lambda: INF().D, 3889390718201.9185),
    ('inference_training_flops', lambda: INF().training_flops, 1.513853826356973e+23),
    ('inference_inference_flops', lambda: INF().inference_flops, 1.2974215723749092e+23),
    ('inference_total_flops', lambda: INF().total_flops, 2.8112753987318822e+23),
    ('inference_savings', lambda: INF().savings, 0.32594523567628586),
    ('effective_data', lambda: L.effective_data(1e9, 5e9), 4522372707.653156),
    ('effective_params', lambda: L.effective_params(1e8, 3e8), 266648851.96178266),
    ('data_constrained_loss', lambda: MUEN.loss(1e9, 1e11, 1e10), 2.4376920100488912),
    ('data_constrained_base_params', lambda: MUEN.base_params(1e10), 509865176.5365828),
    ('data_constrained_base_E', lambda: MUEN.base.E, 1.8691436784054858),
    ('nonembedding_N_total', lambda: FRONT().N_total, 5749099.999999999),
    ('nonembedding_D', lambda: FRONT().D, 1499039055.3359694),
    ('nonembedding_C_nonemb', lambda: FRONT().C_nonemb, 8994234332015817.0),
    ('nonembedding_C_total', lambda: FRONT().C_total, 5.170875259819212e+16),
    ('nonembedding_local_exponent', lambda: FRONT().local_exponent, 0.9628090029397786),
    ('nonembedding_optimum', lambda: L.nonembedding_optimum(EPOCH, 1e18), 54338803.872643605),
]

PUBLIC = [
    'AdditiveKM', 'Allocation', 'ChinchillaLaw', 'DataConstrainedLaw', 'InferenceAllocation',
    'KAPLAN_ALLOCATION', 'KAPLAN_C', 'KAPLAN_C_NAIVE', 'KAPLAN_D', 'KAPLAN_N', 'KAPLAN_ND',
    'KNOWN_LAWS', 'KaplanAllocation', 'KaplanC', 'KaplanD', 'KaplanN', 'KaplanND', 'LAWS',
    'NonEmbeddingFrontier', 'PowerLaw', 'SaturatingPowerLaw', 'critical_batch_size',
    'effective_data', 'effective_params', 'get_law', 'inference_optimal',
    'kaplan_overfitting_tokens', 'nonembedding_frontier', 'nonembedding_optimum',
]


@pytest.mark.parametrize("key, call, value", PINNED, ids=[p[0] for p in PINNED])
def test_pinned_value(key, call, value):
    got = call()
    if isinstance(value, float):
        assert float(got) == pytest.approx(value, rel=1e-13, abs=0), (key, got)
    else:
        assert got == value


@pytest.mark.parametrize("name", PUBLIC)
def test_public_name_still_importable(name):
    assert getattr(L, name) is not None


def test_every_module_of_the_laws_package_reads_in_one_sitting():
    """Issue 13's layout rule: no file in ``laws/`` over 300 lines."""
    from pathlib import Path

    sizes = {p.name: len(p.read_text().splitlines())
             for p in Path(L.__file__).parent.glob("*.py")}
    assert {"kaplan.py", "chinchilla.py", "extensions.py"} <= set(sizes)
    assert max(sizes.values()) <= 300, sizes
