"""House style for the book's figures.

Colour-blind-safe palette (Okabe & Ito), log axes where a law is a power law, labelled units,
and a white figure background that stays readable when the site is in dark mode.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

# Okabe-Ito: distinguishable under the common colour-vision deficiencies.
PALETTE = {
    "blue": "#0072B2", "orange": "#E69F00", "green": "#009E73", "vermillion": "#D55E00",
    "purple": "#CC79A7", "sky": "#56B4E9", "yellow": "#F0E442", "black": "#000000",
}
CYCLE = [PALETTE[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky", "black")]


def use_style() -> None:
    """Apply the house style to every figure made afterwards."""
    mpl.rcParams.update({
        "figure.figsize": (6.4, 4.0),
        "figure.dpi": 110,
        "savefig.dpi": 110,
        "figure.facecolor": "white",
        "axes.facecolor": "white",
        "axes.prop_cycle": mpl.cycler(color=CYCLE),
        "axes.grid": True,
        "grid.alpha": 0.3,
        "grid.linewidth": 0.6,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "font.size": 10.5,
        "axes.titlesize": 11,
        "legend.frameon": False,
        "lines.linewidth": 1.8,
        "lines.markersize": 5,
    })


def loglog(ax, xlabel: str, ylabel: str, title: str | None = None):
    """Log-scale both axes of ``ax`` and label them (include the units in the labels)."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return ax


def logspace_grid(lo: float, hi: float, n: int = 200) -> np.ndarray:
    """``n`` points spaced evenly in log between ``lo`` and ``hi`` (for drawing a law)."""
    if not (lo > 0 and hi > lo):
        raise ValueError(f"logspace_grid needs 0 < lo < hi; got lo={lo}, hi={hi}")
    return np.logspace(np.log10(lo), np.log10(hi), n)


def subplots(ncols: int = 1, nrows: int = 1, width: float = 6.4, height: float = 4.0, **kw):
    """``plt.subplots`` sized for the book's text column."""
    return plt.subplots(nrows, ncols, figsize=(width, height), constrained_layout=True, **kw)
