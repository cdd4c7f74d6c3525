"""Data of Figure 1: test accuracy of every classic-grid run, with the regime theory predicts."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from empirical.config import parse_architecture
from empirical.results import atomic_write_text
from paper.dependencies import require
from theory.initializers import parse_init

NAME = "classic"
MODULES = ("empirical.reproduce", "empirical.trainer", "empirical.batched", "theory.regimes")
RUNS_FILE = "classic_runs.csv"


def settings_record(context) -> dict:
    return {**dataclasses.asdict(context.settings.classic), **context.data_record()}


def predict_regimes(frame: pd.DataFrame) -> pd.Series:
    """Return the regime ``theory.regimes`` predicts for each row's configuration."""
    classify = require("theory.regimes", "classify")
    from theory.symbolic import LayerInit, resolve_activation

    regimes = {}
    for key in frame.groupby(["architecture", "activation", "weight_inits", "bias_inits"]).groups:
        architecture, activation, weight_inits, bias_inits = key
        widths = parse_architecture(architecture)
        layers = [LayerInit(parse_init(weight), parse_init(bias))
                  for weight, bias in zip(weight_inits.split(","), bias_inits.split(","))]
        # Softmax regression has no hidden activation, so its row stores "none".
        name = "linear" if activation == "none" else activation
        regimes[key] = classify(resolve_activation(name), layers, widths).regime
    return frame.apply(
        lambda row: regimes[(row["architecture"], row["activation"], row["weight_inits"], row["bias_inits"])],
        axis=1,
    )


def compute(context) -> list[Path]:
    from empirical.reproduce import classic_grid, configuration_label

    settings = context.settings.classic
    configs = classic_grid(range(settings.seeds), steps=settings.steps, data=context.data_config)
    results = context.train(configs, "classic grid")

    frame = pd.DataFrame([result.to_row() for result in results])
    frame.insert(0, "configuration", frame.apply(configuration_label, axis=1))
    frame.insert(1, "regime", predict_regimes(frame))
    path = context.data_dir / RUNS_FILE
    atomic_write_text(path, frame.to_csv(index=False))
    return [path]
