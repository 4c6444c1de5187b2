"""Scaling laws as small frozen objects with a ``loss(...)`` method.

Conventions: N parameters, D tokens, C training FLOPs (C = 6ND unless said otherwise),
L loss in nats per token. Kaplan's laws use *non-embedding* N and PF-days internally;
Chinchilla-form laws (Hoffmann, Besiroglu, Muennighoff) use *total* N. Every ``loss``
accepts scalars or numpy arrays (broadcast together), returns a float for scalar input
and an array otherwise, and raises ``ValueError`` naming the argument for bad input
(the checks are ``scaling_lab._validate``'s).

Contents, by module (every name is importable from ``scaling_lab.laws``)
- ``_common``     PowerLaw, SaturatingPowerLaw   y = A x^-alpha, y = E + A x^-alpha
                  Allocation                     what every ``optimal(C)`` returns
- ``kaplan``      KaplanN, KaplanD, KaplanC, KaplanND   Kaplan et al. 2020 (eqs. 1.1-1.3, 1.5)
                  critical_batch_size, kaplan_overfitting_tokens   Kaplan eqs. 1.4 and 4.4
                  AdditiveKM                     NOT Kaplan: the additive "lecture-notes" form
                  KaplanAllocation               Kaplan Table 6 compute-efficient allocation
                  KAPLAN_N, KAPLAN_D, KAPLAN_C, KAPLAN_C_NAIVE, KAPLAN_ND, KAPLAN_ALLOCATION
- ``chinchilla``  ChinchillaLaw                  E + A/N^alpha + B/D^beta, closed-form optimum
- ``registry``    LAWS, KNOWN_LAWS, get_law      laws by name (the CLI uses it)
- ``extensions``  inference_optimal, InferenceAllocation      Sardana et al. 2024
                  effective_data, effective_params, DataConstrainedLaw   Muennighoff et al. 2023
                  nonembedding_frontier, nonembedding_optimum, NonEmbeddingFrontier
                                                 Pearce & Song 2024
"""

from ._common import Allocation, PowerLaw, SaturatingPowerLaw
from .chinchilla import ChinchillaLaw
from .extensions import (
    DataConstrainedLaw,
    InferenceAllocation,
    NonEmbeddingFrontier,
    effective_data,
    effective_params,
    inference_optimal,
    nonembedding_frontier,
    nonembedding_optimum,
)
from .kaplan import (
    KAPLAN_ALLOCATION,
    KAPLAN_C,
    KAPLAN_C_NAIVE,
    KAPLAN_D,
    KAPLAN_N,
    KAPLAN_ND,
    AdditiveKM,
    KaplanAllocation,
    KaplanC,
    KaplanD,
    KaplanN,
    KaplanND,
    critical_batch_size,
    kaplan_overfitting_tokens,
)
from .registry import KNOWN_LAWS, LAWS, get_law

__all__ = [
    "PowerLaw", "SaturatingPowerLaw", "KaplanN", "KaplanD", "KaplanC", "KaplanND",
    "AdditiveKM", "KaplanAllocation", "Allocation", "ChinchillaLaw", "LAWS", "KNOWN_LAWS",
    "get_law", "InferenceAllocation", "inference_optimal", "effective_data",
    "effective_params", "DataConstrainedLaw", "KAPLAN_N", "KAPLAN_D", "KAPLAN_C",
    "KAPLAN_C_NAIVE", "KAPLAN_ND", "KAPLAN_ALLOCATION", "critical_batch_size",
    "kaplan_overfitting_tokens", "NonEmbeddingFrontier", "nonembedding_frontier",
    "nonembedding_optimum",
]
