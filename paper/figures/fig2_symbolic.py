"""Figure 2: the symbolic result, zero first-step gradients and tied units per initialization.

Caption: For a network with one hidden layer and zero biases, each row is an
initialization of (W1, W2) and each column a parameter block, grouped by
activation. A cell is
dark when the block's first-step gradient is exactly zero, medium when the
block's hidden units are tied (they get identical updates and stay identical in
exact arithmetic), and light when neither holds. When the data carries a
``regime`` column, the label in each group is the regime that follows: learns,
collapsed (tied units, a width-1 network in disguise), frozen (no block below
the output moves) or dead (no gradient at all).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from paper import style
from paper.figures import data_path, run_standalone

NAME = "fig2_symbolic"
DATA_FILES = ("symbolic_blocks.csv",)

STATUS_ORDER = ("zero gradient", "tied units", "free")
STATUS_COLORS = ("#1b3a5c", "#6a9fca", "#eef3f8")


def make(data_dir: Path, figures_dir: Path) -> list[Path]:
    blocks = pd.read_csv(data_path(data_dir, DATA_FILES[0]))
    activations = list(dict.fromkeys(blocks["activation"]))
    patterns = list(dict.fromkeys(blocks["pattern"]))
    block_names = list(dict.fromkeys(blocks["block"]))
    codes = blocks.assign(code=blocks["status"].map({status: i for i, status in enumerate(STATUS_ORDER)}))
    columns = [(activation, block) for activation in activations for block in block_names]
    matrix = codes.pivot_table(index="pattern", columns=["activation", "block"], values="code")
    matrix = matrix.reindex(index=patterns, columns=pd.MultiIndex.from_tuples(columns))

    figure, axes = style.new_figure(style.DOUBLE_COLUMN, 0.9 + 0.2 * len(patterns))
    axes.imshow(matrix.to_numpy(dtype=float), cmap=ListedColormap(STATUS_COLORS), vmin=-0.5,
                vmax=len(STATUS_ORDER) - 0.5, aspect="auto")
    axes.set_xticks(np.arange(len(columns)), [block for _, block in columns], fontsize=6)
    axes.set_yticks(np.arange(len(patterns)), patterns)
    axes.tick_params(length=0)
    per_activation = len(block_names)
    for index, activation in enumerate(activations):
        center = index * per_activation + (per_activation - 1) / 2
        axes.text(center, -0.75, activation, ha="center", va="bottom", fontsize=8)
        if index:
            axes.axvline(index * per_activation - 0.5, color="white", linewidth=2.5)
    for row in range(1, len(patterns)):
        axes.axhline(row - 0.5, color="white", linewidth=0.6)
    if "regime" in blocks.columns:
        regimes = blocks.drop_duplicates(["activation", "pattern"]).set_index(["pattern", "activation"])["regime"]
        for row, pattern in enumerate(patterns):
            for index, activation in enumerate(activations):
                regime = regimes.get((pattern, activation))
                if regime is not None:
                    axes.text(index * per_activation + (per_activation - 1) / 2, row, regime, ha="center",
                              va="center", fontsize=5.5, color=style.REGIME_COLORS.get(regime, "black"),
                              path_effects=[patheffects.withStroke(linewidth=1.6, foreground="white")])
    handles = [Patch(facecolor=color, edgecolor="0.5", label=status) for status, color in zip(STATUS_ORDER, STATUS_COLORS)]
    figure.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
    return style.save_figure(figure, figures_dir, NAME)


if __name__ == "__main__":
    run_standalone(make)
