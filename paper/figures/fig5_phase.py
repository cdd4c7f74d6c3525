"""Figure 5: the mean-field phase diagram of each activation, with common recipes marked.

Caption: Mean-field phase diagram in the (σ_w, σ_b) plane, one panel per
activation. Colour: log₁₀ χ₁ at the variance fixed point q* (blue ordered,
χ₁ < 1; red chaotic, χ₁ > 1). Thick black line: the order-to-chaos critical
line χ₁ = 1. Thin grey lines: contours of the correlation depth scale ξ_c.
Markers: LeCun and Glorot initialization (one point on a square layer), He initialization, PyTorch's ``nn.Linear``
default and Xavier initialization with PyTorch's recommended gain, for square
layers of width 1000. A gain that coincides with another recipe shares its marker.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colors

from paper import style
from paper.figures import data_path, run_standalone

NAME = "fig5_phase"
DATA_FILES = ("phase_recipes.csv",)

DEPTH_SCALE_LEVELS = (3.0, 10.0, 30.0)
RECIPE_MARKERS = {
    "LeCun / Glorot": "s", "LeCun / Glorot / PyTorch gain": "s", "He": "^", "He / PyTorch gain": "^",
    "PyTorch Linear": "D", "PyTorch gain": "v",
}
CHI_LIMIT = 1.0
"""Colour range of log₁₀ χ₁, symmetric around χ₁ = 1."""


def staggered_label_positions(lines, sigma_b: np.ndarray) -> list[tuple[float, float]]:
    """Return one label position per contour level, each level at its own height.

    Labels of nearby contours (relu's depth-scale lines crowd the critical line)
    would otherwise stack at the same height and overlap.
    """
    positions = []
    levels = len(lines.allsegs)
    for index, segments in enumerate(lines.allsegs):
        nonempty = [segment for segment in segments if len(segment)]
        if not nonempty:
            continue
        points = np.concatenate(nonempty, axis=0)
        target = sigma_b[0] + (sigma_b[-1] - sigma_b[0]) * (index + 1) / (levels + 1)
        closest = points[np.argmin(np.abs(points[:, 1] - target))]
        positions.append((float(closest[0]), float(closest[1])))
    return positions


def make(data_dir: Path, figures_dir: Path) -> list[Path]:
    recipes = pd.read_csv(data_path(data_dir, DATA_FILES[0]))
    activations = list(dict.fromkeys(recipes["activation"]))
    # Up to two panels side by side, then a second row, so each panel stays readable.
    ncols = min(len(activations), 2)
    nrows = -(-len(activations) // ncols)
    figure, axes = style.new_figure(
        style.DOUBLE_COLUMN, 0.6 + 2.0 * nrows, nrows=nrows, ncols=ncols, sharex=True, sharey=True, squeeze=False)
    for unused in axes.ravel()[len(activations):]:
        unused.set_visible(False)
    axes = axes.ravel()[: len(activations)]
    norm = colors.Normalize(-CHI_LIMIT, CHI_LIMIT)
    mesh = None
    for panel, activation in zip(axes, activations):
        with np.load(data_path(data_dir, f"phase_{activation}.npz")) as stored:
            sigma_w = stored["sigma_w_values"]
            sigma_b = stored["sigma_b_values"]
            chi_1 = stored["chi_1"].T
            xi_c = stored["xi_c"].T
        with np.errstate(divide="ignore", invalid="ignore"):
            log_chi = np.log10(chi_1)
        mesh = panel.pcolormesh(sigma_w, sigma_b, log_chi, cmap="vlag", norm=norm, shading="auto", rasterized=True)
        finite_xi = np.where(np.isfinite(xi_c) & (xi_c > 0), xi_c, np.nan)
        if np.any(np.isfinite(finite_xi)):
            lines = panel.contour(sigma_w, sigma_b, finite_xi, levels=DEPTH_SCALE_LEVELS,
                                  colors="0.35", linewidths=0.5)
            labels = panel.clabel(lines, fmt=lambda value: rf"$\xi_c$={value:g}", fontsize=5, inline_spacing=1,
                                  manual=staggered_label_positions(lines, sigma_b))
            for label in labels:
                # Near-vertical contours (relu) otherwise get labels turned upside down.
                if abs(label.get_rotation() % 180 - 90) < 10:
                    label.set_rotation(90)
        if np.nanmin(log_chi) < 0 < np.nanmax(log_chi):
            panel.contour(sigma_w, sigma_b, log_chi, levels=[0.0], colors="black", linewidths=1.4)

        for row in recipes[recipes["activation"] == activation].itertuples(index=False):
            if sigma_w[0] <= row.sigma_w <= sigma_w[-1]:
                panel.plot(row.sigma_w, row.sigma_b, marker=RECIPE_MARKERS.get(row.recipe, "x"),
                           color="black", markerfacecolor="white", markersize=4.5, linestyle="none",
                           label=row.recipe, clip_on=False, zorder=5)
        panel.set_title(activation)
        if panel.get_subplotspec().is_last_row():
            panel.set_xlabel(style.LABELS["sigma_w"])
        if panel.get_subplotspec().is_first_col():
            panel.set_ylabel(style.LABELS["sigma_b"])

    # A PyTorch gain that equals another recipe (1 for sigmoid, √2 for relu) shares
    # that recipe's marker, so the legend names each marker once.
    by_label = {}
    for panel in axes:
        for handle, label in zip(*panel.get_legend_handles_labels()):
            by_label.setdefault(label.removesuffix(" / PyTorch gain"), handle)
    handles, labels = list(by_label.values()), list(by_label)
    figure.legend(handles, labels, loc="outside lower center", ncols=len(labels), frameon=False)
    # Values beyond ±CHI_LIMIT take the end colours, which the bar's arrow ends show.
    colorbar = figure.colorbar(mesh, ax=list(axes), shrink=0.9, pad=0.01, extend="both")
    colorbar.set_label(r"$\log_{10}\chi_1$")
    return style.save_figure(figure, figures_dir, NAME)


if __name__ == "__main__":
    run_standalone(make)
