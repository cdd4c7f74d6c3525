"""Shared look of every figure: seaborn theme, colour-blind-safe palette, two-column sizes.

Sizes fit a two-column paper: :data:`SINGLE_COLUMN` (3.4 in) for a figure in one
column and :data:`DOUBLE_COLUMN` (7.0 in) for one across both. Fonts are 8 pt
to match a 10 pt body text once the figure is placed at its natural size, and
PDFs embed TrueType fonts (``pdf.fonttype 42``) because many publishers reject
the Type 3 fonts that matplotlib embeds by default.

Axis labels use the notation of ``paper/initsym.tex``: σ_w and σ_b for the weight
and bias scales, q for a pre-activation variance, χ₁ for the mean-field slope.
"""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from empirical.results import atomic_save_figure  # noqa: E402

SINGLE_COLUMN = 3.4
"""Width in inches of a figure that fills one column."""

DOUBLE_COLUMN = 7.0
"""Width in inches of a figure that spans both columns."""

PNG_DPI = 300

# fontTools logs every table it subsets at INFO when a PDF embeds TrueType fonts.
logging.getLogger("fontTools").setLevel(logging.WARNING)

PALETTE = sns.color_palette("colorblind")
"""Okabe–Ito-like colour-blind-safe palette of seaborn (10 colours)."""

ACTIVATION_COLORS = {
    "linear": PALETTE[7],
    "sigmoid": PALETTE[0],
    "tanh": PALETTE[1],
    "relu": PALETTE[2],
}

REGIME_COLORS = {
    "learns": PALETTE[2],
    "collapsed": PALETTE[1],
    "frozen": PALETTE[0],
    "dead": PALETTE[3],
    "unknown": PALETTE[7],
}
"""Colour of each regime of :mod:`theory.regimes`; ``unknown`` marks a missing prediction."""

DTYPE_COLORS = {"float32": PALETTE[0], "float64": PALETTE[3]}

LABELS = {
    "sigma_w": r"$\sigma_w$",
    "sigma_b": r"$\sigma_b$",
    "q": r"$q$",
    "chi1": r"$\chi_1$",
    "depth": r"layer $\ell$",
    "accuracy": "test accuracy",
}
"""Axis labels in the notation of ``paper/initsym.tex``."""

RC_PARAMS = {
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.title_fontsize": 7,
    "lines.linewidth": 1.2,
    "lines.markersize": 3,
    "axes.linewidth": 0.6,
    "grid.linewidth": 0.4,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.02,
    "mathtext.fontset": "dejavusans",
}


def apply_style() -> None:
    """Set the seaborn theme and the matplotlib settings of every paper figure."""
    sns.set_theme(context="paper", style="ticks", palette=PALETTE, rc=RC_PARAMS)


def new_figure(width: float = SINGLE_COLUMN, height: float = 2.4, **subplot_options):
    """Return ``(figure, axes)`` of the given size in inches, laid out by constrained layout."""
    apply_style()
    return plt.subplots(figsize=(width, height), layout="constrained", **subplot_options)


def save_figure(figure, figures_dir: Path, name: str) -> list[Path]:
    """Write ``figure`` as ``<name>.pdf`` (vector) and ``<name>.png``, atomically, and close it."""
    paths = [
        atomic_save_figure(figure, Path(figures_dir) / f"{name}.pdf"),
        atomic_save_figure(figure, Path(figures_dir) / f"{name}.png", dpi=PNG_DPI),
    ]
    plt.close(figure)
    return paths
