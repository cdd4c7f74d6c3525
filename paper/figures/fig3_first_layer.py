"""Figure 3: the first layer's pre-activations on MNIST under N(0, σ²) weights.

Caption: Histogram of the measured pre-activations of a 100-unit first layer
with weights drawn N(0, σ²), σ ∈ {0.01, 0.1, 1}, on MNIST digits, against the
predicted scale mixture of Gaussians N(0, σ²‖x‖²) over the inputs (solid) and
a single Gaussian of the same variance (dotted). Shaded: |z| > 4, where a
sigmoid unit is saturated (σ'(z) < 0.018); the panel states the predicted and
measured saturated fractions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from paper import style
from paper.figures import data_path, run_standalone

NAME = "fig3_first_layer"
DATA_FILES = ("first_layer_summary.csv",)


def make(data_dir: Path, figures_dir: Path) -> list[Path]:
    summary = pd.read_csv(data_path(data_dir, DATA_FILES[0]))
    figure, axes = style.new_figure(style.DOUBLE_COLUMN, 2.2, ncols=len(summary), squeeze=False)
    for panel, row in zip(axes[0], summary.itertuples(index=False)):
        with np.load(data_path(data_dir, f"first_layer_sigma{row.sigma:g}.npz")) as stored:
            measured, grid = stored["measured"], stored["grid"]
            mixture, single = stored["mixture_density"], stored["single_gaussian_density"]
        panel.hist(measured, bins=80, range=(grid[0], grid[-1]), density=True,
                   histtype="stepfilled", color=style.PALETTE[0], alpha=0.55, label="measured")
        panel.plot(grid, mixture, color="black", label="scale mixture")
        panel.plot(grid, single, color=style.PALETTE[3], linestyle=":", label="one Gaussian")
        threshold = row.saturation_threshold
        if grid[-1] > threshold:
            for sign in (-1, 1):
                panel.axvspan(sign * threshold, sign * grid[-1], color="0.85", zorder=0)
        panel.set_title(rf"$\sigma$ = {row.sigma:g}")
        panel.set_xlabel(r"pre-activation $z$")
        panel.text(0.98, 0.97,
                   f"saturated (|z|>{threshold:g}):\npredicted {100 * row.predicted_saturated_fraction:.1f}%\n"
                   f"measured {100 * row.measured_saturated_fraction:.1f}%",
                   transform=panel.transAxes, ha="right", va="top", fontsize=6)
    axes[0][0].set_ylabel("density")
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=len(labels), frameon=False)
    return style.save_figure(figure, figures_dir, NAME)


if __name__ == "__main__":
    run_standalone(make)
