"""Data of Figure 6: the all-zero sigmoid network's hidden units, pulled apart by roundoff.

Every number comes from :mod:`empirical.roundoff`: the measured maximum
difference between hidden units along training in float32 and float64, the
growth rate that the linearization around the exactly symmetric trajectory
predicts, and the accuracy of that exactly symmetric (collapsed, width-1)
network.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from empirical.results import atomic_write_text
from paper.dependencies import require

NAME = "roundoff"
MODULES = ("empirical.roundoff", "empirical.symmetry_measure", "empirical.trainer")
CURVES_FILE = "roundoff_curves.csv"
GROWTH_FILE = "roundoff_linearized.csv"
SUMMARY_FILE = "roundoff_summary.csv"


def settings_record(context) -> dict:
    return {**dataclasses.asdict(context.settings.roundoff), **context.data_record()}


def growth_window(steps: int) -> tuple[int, int]:
    """Return ``empirical.roundoff.GROWTH_WINDOW``, shrunk to the last third of a shorter run."""
    window = require("empirical.roundoff", "GROWTH_WINDOW")
    if steps >= window[1]:
        return tuple(window)
    return (max(1, steps // 3), steps)


def compute(context) -> list[Path]:
    unit_difference_curve = require("empirical.roundoff", "unit_difference_curve")
    train_collapsed = require("empirical.roundoff", "train_collapsed")
    linearized_growth = require("empirical.roundoff", "linearized_growth")
    predicted_growth_rate = require("empirical.roundoff", "predicted_growth_rate")
    settings = context.settings.roundoff
    window = growth_window(settings.steps)

    curve_rows = []
    summary = []
    for dtype in settings.dtypes:
        curve = unit_difference_curve(context.dataset, dtype=dtype, steps=settings.steps, seed=settings.seed)
        for step, difference in zip(curve.steps, curve.differences):
            curve_rows.append({"dtype": dtype, "step": step, "max_unit_difference": difference})
        suffix = {"float32": "FloatThirtyTwo", "float64": "FloatSixtyFour"}[dtype]
        summary.append({"macro": f"RoundoffAccuracy{suffix}", "value": round(100 * curve.test_accuracy, 2),
                        "description": f"test accuracy (%) of the all-zero network trained in {dtype}"})
        if window[0] in curve.steps and window[1] in curve.steps:
            summary.append({"macro": f"RoundoffMeasuredRate{suffix}", "value": curve.growth_rate(window),
                            "description": f"measured d ln(difference)/d step over steps {window}, {dtype}"})

    collapsed = train_collapsed(context.dataset, dtype="float64", steps=settings.steps, seed=settings.seed,
                                keep_trajectory=True)
    log_growth = linearized_growth(context.dataset, collapsed, seed=settings.seed)["log_growth"]
    summary.append({"macro": "RoundoffGrowthRate", "value": predicted_growth_rate(log_growth, window),
                    "description": f"predicted d ln(difference)/d step over steps {window} (linearization)"})
    summary.append({"macro": "RoundoffCollapsedAccuracy", "value": round(100 * collapsed.test_accuracy, 2),
                    "description": "test accuracy (%) of the exactly symmetric width-1 network, float64"})
    summary.append({"macro": "RoundoffWindowStart", "value": window[0], "description": "growth window start"})
    summary.append({"macro": "RoundoffWindowStop", "value": window[1], "description": "growth window stop"})
    summary.append({"macro": "RoundoffSeed", "value": settings.seed, "description": "seed of every roundoff run"})

    growth = pd.DataFrame({"step": range(1, len(log_growth) + 1), "log_growth": log_growth})
    paths = [
        atomic_write_text(context.data_dir / CURVES_FILE, pd.DataFrame(curve_rows).to_csv(index=False)),
        atomic_write_text(context.data_dir / GROWTH_FILE, growth.to_csv(index=False)),
        atomic_write_text(context.data_dir / SUMMARY_FILE, pd.DataFrame(summary).to_csv(index=False)),
    ]
    return paths
