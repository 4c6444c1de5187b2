"""Laws by name: the registry the CLI's ``--law`` reads."""

from __future__ import annotations

from .chinchilla import ChinchillaLaw
from .kaplan import KaplanAllocation

LAWS: dict[str, ChinchillaLaw] = {
    "hoffmann2022": ChinchillaLaw.hoffmann2022(),
    "hoffmann2022-unrounded": ChinchillaLaw.hoffmann2022_unrounded(),
    "besiroglu2024": ChinchillaLaw.besiroglu2024(),
}
"""Chinchilla-form laws by name. ``get_law`` also resolves ``"kaplan2020"``."""

KNOWN_LAWS = (*LAWS, "kaplan2020")


def get_law(name: str) -> ChinchillaLaw | KaplanAllocation:
    """A law by name; each has ``optimal(C)`` returning an :class:`Allocation`."""
    if name == "kaplan2020":
        return KaplanAllocation.from_published()
    if name in LAWS:
        return LAWS[name]
    raise ValueError(f"unknown law {name!r}; known laws: {', '.join(KNOWN_LAWS)} "
                     "(or a FIT.json from `scaling-lab fit` on the command line)")
