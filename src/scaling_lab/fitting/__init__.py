"""Estimators for scaling laws, each returning a :class:`FitResult` (estimates, uncertainty,
diagnostics, ``predict``).

* :func:`fit_power_law`  ``y = A x^-alpha`` or ``y = E + A x^-alpha`` (log or linear residuals)
* :func:`bootstrap_ci`   percentile intervals of bootstrap draws
"""

from ._common import FitResult, bootstrap_ci
from .power import PowerLawFit, fit_power_law

__all__ = ["FitResult", "PowerLawFit", "bootstrap_ci", "fit_power_law"]
