"""Figure 1: the classic MNIST initialization experiment, one point per seed.

Caption: Test accuracy of softmax regression (784→10) and of a 784-100-10
network with sigmoid, tanh or relu hidden units after SGD (learning rate 0.5,
batch 100), for every initialization of the classic grid. Each point is one
seed. Its colour is the regime that the symbolic theory predicts before any
training (learns, collapsed, frozen or dead). When ``data/classic_runs.csv``
has no regime prediction, the colour is the hidden activation.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import seaborn as sns

from paper import style
from paper.figures import data_path, run_standalone

NAME = "fig1_classic"
DATA_FILES = ("classic_runs.csv",)


def make(data_dir: Path, figures_dir: Path) -> list[Path]:
    runs = pd.read_csv(data_path(data_dir, DATA_FILES[0]))
    order = list(dict.fromkeys(runs["configuration"]))
    if (runs["regime"] == "unknown").all():
        hue, palette, title = "activation", None, "hidden activation"
    else:
        hue = "regime"
        palette = {regime: style.REGIME_COLORS.get(regime, style.PALETTE[7]) for regime in runs["regime"].unique()}
        title = "predicted regime"

    height = 0.9 + 0.16 * len(order)
    figure, axes = style.new_figure(style.DOUBLE_COLUMN, height)
    sns.stripplot(
        data=runs, y="configuration", x="test_accuracy", order=order, hue=hue, palette=palette,
        size=3.5, jitter=0.2, linewidth=0.3, edgecolor="white", ax=axes,
    )
    axes.set_xlabel(style.LABELS["accuracy"])
    axes.set_ylabel("")
    axes.set_xlim(0, 1)
    axes.axvline(0.1, color="0.6", linestyle=":", linewidth=0.8)
    axes.grid(axis="x", alpha=0.4)
    axes.legend(title=title, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    steps = int(runs["steps"].iloc[0])
    seeds = runs["seed"].nunique()
    axes.set_title(f"SGD 0.5, batch 100, {steps} steps, {seeds} seeds; dotted line: chance", loc="left")
    return style.save_figure(figure, figures_dir, NAME)


if __name__ == "__main__":
    run_standalone(make)
