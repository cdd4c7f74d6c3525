"""Figure 6: symmetry of the all-zero sigmoid network, broken by floating-point roundoff.

Caption: Left, the maximum difference between any two hidden units of a
784-100-10 sigmoid network initialized to all zeros, against the SGD step, in
float32 and float64; in exact arithmetic it stays 0. The dashed lines have the
growth rate that linearizing the update around the exactly symmetric trajectory
predicts, drawn through each measured curve across the fitting window
(shaded). Right, test accuracy of both runs and of the exactly
symmetric network (one hidden unit with the collapsed learning rates, float64).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from paper import style
from paper.figures import data_path, run_standalone

NAME = "fig6_roundoff"
DATA_FILES = ("roundoff_curves.csv", "roundoff_summary.csv", "roundoff_linearized.csv")


def make(data_dir: Path, figures_dir: Path) -> list[Path]:
    curves = pd.read_csv(data_path(data_dir, DATA_FILES[0]))
    summary = pd.read_csv(data_path(data_dir, DATA_FILES[1])).set_index("macro")["value"]
    start, stop = int(summary["RoundoffWindowStart"]), int(summary["RoundoffWindowStop"])
    rate = float(summary["RoundoffGrowthRate"])

    figure, (curve_axes, bar_axes) = style.new_figure(
        style.DOUBLE_COLUMN, 2.4, ncols=2, gridspec_kw={"width_ratios": [2.2, 1]})
    curve_axes.axvspan(start, stop, color="0.92", zorder=0)
    for index, (dtype, group) in enumerate(curves.groupby("dtype")):
        color = style.DTYPE_COLORS.get(dtype, style.PALETTE[4])
        positive = group[group["max_unit_difference"] > 0]
        curve_axes.plot(positive["step"], positive["max_unit_difference"], marker="o", color=color, label=dtype)
        anchor = positive[positive["step"] == start]
        if not anchor.empty and np.isfinite(rate):
            # The linearization holds only while the difference is small, so the line stops at the window's end.
            steps = np.linspace(start, stop, 50)
            predicted = float(anchor["max_unit_difference"].iloc[0]) * np.exp(rate * (steps - start))
            curve_axes.plot(steps, predicted, linestyle="--", color=color, linewidth=0.9)
        zeros = group[group["max_unit_difference"] == 0]
        if not zeros.empty:
            steps_text = ", ".join(str(step) for step in zeros["step"])
            curve_axes.annotate(f"{dtype}: exactly 0 at step {steps_text}", xy=(0.98, 0.03 + 0.07 * index),
                                xycoords="axes fraction", ha="right", fontsize=6, color=color,
                                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
    curve_axes.set_yscale("log")
    curve_axes.set_xscale("log")
    curve_axes.set_xlabel("SGD step")
    curve_axes.set_ylabel("max. difference between hidden units")
    curve_axes.plot([], [], linestyle="--", color="0.3", label=f"predicted rate {rate:.3g}/step")
    curve_axes.legend(loc="upper left")

    bars = [("float32", summary.get("RoundoffAccuracyFloatThirtyTwo")),
            ("float64", summary.get("RoundoffAccuracyFloatSixtyFour")),
            ("exactly\nsymmetric", summary.get("RoundoffCollapsedAccuracy"))]
    bars = [(label, float(value)) for label, value in bars if value is not None and not pd.isna(value)]
    colors = [style.DTYPE_COLORS["float32"], style.DTYPE_COLORS["float64"], style.PALETTE[7]][:len(bars)]
    positions = np.arange(len(bars))
    bar_axes.bar(positions, [value for _, value in bars], color=colors)
    for position, (_, value) in zip(positions, bars):
        bar_axes.text(position, value + 1, f"{value:.1f}", ha="center", va="bottom", fontsize=6)
    bar_axes.set_xticks(positions, [label for label, _ in bars])
    bar_axes.set_ylim(0, 105)
    bar_axes.set_ylabel("test accuracy (%)")
    if "RoundoffSeed" in summary:
        bar_axes.set_title(f"seed {int(summary['RoundoffSeed'])}", fontsize=7)
    return style.save_figure(figure, figures_dir, NAME)


if __name__ == "__main__":
    run_standalone(make)
