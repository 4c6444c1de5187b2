"""Estimators for scaling laws, each returning a :class:`FitResult` (estimates, uncertainty,
diagnostics, ``predict``, ``to_dict``, ``summary``).

* :func:`fit_power_law`   ``y = A x^-alpha`` or ``y = E + A x^-alpha`` (log or linear residuals)
* :func:`fit_chinchilla`  approach 3: L(N, D) = E + A/N^alpha + B/D^beta, Huber on log L, summed,
                          L-BFGS from Hoffmann et al.'s 4500-point grid (batched), bootstrap
* :func:`fit_isoflop`     approach 2: per-budget parabolas around the best run (or argmin), then
                          N_opt ~ C^a, D_opt ~ C^b, with three bootstrap modes
* :func:`budget_groups`   the one rule that groups runs into budgets (6 significant digits)
* :func:`fit_envelope`    approach 1: lower envelope of loss against FLOPs over training curves
* :func:`fit_lr_law`      per-size optimum peak learning rate of a sweep (parabola in log lr),
                          then eta* = c N^-k with a bootstrap interval; :func:`lr_optima`,
                          :func:`lr_shift` (eta* at two horizons)
* :func:`bootstrap_ci`    percentile intervals of bootstrap draws
"""

from ._common import FitResult, bootstrap_ci
from .chinchilla import ChinchillaFit, fit_chinchilla, hoffmann_grid
from .hyper import LRLawFit, LRShift, fit_lr_law, lr_optima, lr_shift
from .isoflop import AllocationFit, IsoFLOPPoint, budget_groups, fit_envelope, fit_isoflop
from .power import PowerLawFit, fit_power_law

__all__ = [
    "AllocationFit",
    "ChinchillaFit",
    "FitResult",
    "IsoFLOPPoint",
    "LRLawFit",
    "LRShift",
    "PowerLawFit",
    "bootstrap_ci",
    "budget_groups",
    "fit_chinchilla",
    "fit_envelope",
    "fit_isoflop",
    "fit_lr_law",
    "fit_power_law",
    "hoffmann_grid",
    "lr_optima",
    "lr_shift",
]
