"""Figure 2: the symbolic result, zero first-step gradients and tied units per initialization.

Caption: For a 784-100-10 network with zero biases, each row is an activation
and an initialization of (W1, W2); each column a parameter block. A cell is
dark when the block's first-step gradient is exactly zero, medium when the
block's hidden units are tied (they get identical updates and stay identical in
exact arithmetic), and light when neither holds. The label on the right is the
regime that follows: learns, collapsed (tied units, a width-1 network in
disguise), frozen (no block below the output moves) or dead (no gradient at all).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
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
    blocks["row"] = blocks["activation"] + "  " + blocks["pattern"]
    row_order = list(dict.fromkeys(blocks["row"]))
    block_order = list(dict.fromkeys(blocks["block"]))
    codes = blocks.assign(code=blocks["status"].map({status: i for i, status in enumerate(STATUS_ORDER)}))
    matrix = codes.pivot(index="row", columns="block", values="code").loc[row_order, block_order]
    regimes = blocks.drop_duplicates("row").set_index("row").loc[row_order, "regime"]

    figure, axes = style.new_figure(style.SINGLE_COLUMN, 0.9 + 0.13 * len(row_order))
    axes.imshow(matrix.to_numpy(dtype=float), cmap=ListedColormap(STATUS_COLORS), vmin=-0.5,
                vmax=len(STATUS_ORDER) - 0.5, aspect="auto")
    axes.set_xticks(np.arange(len(block_order)), block_order)
    axes.set_yticks(np.arange(len(row_order)), row_order, fontsize=5.5)
    axes.xaxis.tick_top()
    axes.tick_params(length=0)
    for index, regime in enumerate(regimes):
        axes.text(len(block_order) - 0.4, index, regime, va="center", ha="left", fontsize=5.5,
                  color=style.REGIME_COLORS.get(regime, "black"))
    activations = list(dict.fromkeys(blocks["activation"]))
    per_activation = len(row_order) // max(len(activations), 1)
    for boundary in range(per_activation, len(row_order), per_activation):
        axes.axhline(boundary - 0.5, color="white", linewidth=1.5)
    handles = [Patch(facecolor=color, edgecolor="0.5", label=status) for status, color in zip(STATUS_ORDER, STATUS_COLORS)]
    axes.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncols=3, frameon=False)
    return style.save_figure(figure, figures_dir, NAME)


if __name__ == "__main__":
    run_standalone(make)
