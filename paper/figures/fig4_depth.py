"""Figure 4: pre-activation variance and gradient size through depth.

Caption: Top row, the variance q_ℓ of the pre-activations of layer ℓ of a deep
fully connected network on MNIST; bottom row, the second moment of the
pre-activation gradient E[δ_ℓ²] relative to the last hidden layer. Columns:
sigmoid, tanh, relu. Colours: weights N(0, 1), N(0, 0.1²) (standard deviation 0.1),
Glorot and He normal, zero biases. Lines: mean-field theory started from the
first layer's variance on the data; points: measured mean over seeds, error
bars one standard deviation.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from paper import style
from paper.figures import data_path, run_standalone

NAME = "fig4_depth"
DATA_FILES = ("depth_theory.csv", "depth_measured.csv")

INIT_LABELS = {
    "normal:1": "N(0, 1)",
    "normal:0.1": "N(0, 0.1²)",
    "glorot_normal": "Glorot",
    "he_normal": "He",
}


def make(data_dir: Path, figures_dir: Path) -> list[Path]:
    theory = pd.read_csv(data_path(data_dir, DATA_FILES[0]))
    measured = pd.read_csv(data_path(data_dir, DATA_FILES[1]))
    activations = list(dict.fromkeys(theory["activation"]))
    inits = list(dict.fromkeys(theory["init"]))
    # Blue, orange, green and pink of the colour-blind palette: its two oranges (1 and 3) look alike in print.
    colors = dict(zip(inits, [style.PALETTE[i] for i in (0, 1, 2, 4)]))

    figure, axes = style.new_figure(style.DOUBLE_COLUMN, 3.6, nrows=2, ncols=len(activations),
                                    sharex=True, squeeze=False)
    rows = (("variance", style.LABELS["q"] + r" (variance of $h_\ell$)"),
            ("relative_gradient", r"$E[\delta_\ell^2] / E[\delta_L^2]$"))
    for column, activation in enumerate(activations):
        for row, (quantity, label) in enumerate(rows):
            panel = axes[row][column]
            for init in inits:
                color = colors[init]
                line = theory[(theory["activation"] == activation) & (theory["init"] == init)]
                panel.plot(line["layer"], line[quantity], color=color, label=INIT_LABELS.get(init, init))
                points = measured[(measured["activation"] == activation) & (measured["init"] == init)]
                stats = points.groupby("layer")[quantity].agg(["mean", "std"]).reset_index()
                panel.errorbar(stats["layer"], stats["mean"], yerr=stats["std"].fillna(0.0), color=color,
                               marker="o", markersize=2.5, linestyle="none", elinewidth=0.7, capsize=1.2)
            panel.set_yscale("log")
            if row == 0:
                panel.set_title(activation)
            else:
                panel.set_xlabel(style.LABELS["depth"])
            if column == 0:
                panel.set_ylabel(label)
    # Two grey legend entries mark the lines as theory and the points as measurements.
    axes[0][0].plot([], [], color="0.4", label="theory")
    axes[0][0].errorbar([], [], yerr=[], color="0.4", marker="o", markersize=2.5, linestyle="none",
                        label="measured (mean ± sd)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=len(labels), frameon=False)
    return style.save_figure(figure, figures_dir, NAME)


if __name__ == "__main__":
    run_standalone(make)
