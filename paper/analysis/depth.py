"""Data of Figure 4: pre-activation variance and gradient size through depth.

Each network is 784 → ``depth`` hidden layers of ``width`` units → 10, with one
initializer for every weight matrix and zero biases. Theory: the first-layer
variance q₁(x) of each input (:mod:`theory.first_layer`) carried through depth
by the mean-field map, and the backward product of χ₁ factors, both as
:mod:`empirical.measure` predicts them for its checks. Measurement: the
network's forward and backward pass on MNIST at initialization
(:func:`empirical.measure.measure_layers`), over several seeds.

The gradient is the pre-activation gradient δ_ℓ = ∂loss/∂h_ℓ, reported as
E[δ_ℓ²] relative to the last hidden layer, because its absolute size depends
on the loss at initialization, which the mean-field map does not carry.
Networks run in float64 because relu under N(0, 1) weights grows the variance
by σ_w²/2 = 128 per layer, which overflows float32 within 18 layers.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd

from empirical.config import mlp_config
from empirical.results import atomic_write_text
from paper.dependencies import require

NAME = "depth"
MODULES = ("empirical.measure", "theory.meanfield", "theory.first_layer", "theory.gaussian", "empirical.trainer")
THEORY_FILE = "depth_theory.csv"
MEASURED_FILE = "depth_measured.csv"


def settings_record(context) -> dict:
    return {**dataclasses.asdict(context.settings.depth), **context.data_record()}


def depth_config(activation: str, init: str, depth: int, width: int, seed: int, data):
    return mlp_config((784,) + (width,) * depth + (10,), activation, init, "zeros", seed=seed, dtype="float64",
                      data=data)


def theory_rows(config, inputs: np.ndarray, activation: str, init: str, depth: int) -> list[dict]:
    layer_variances = require("empirical.measure", "layer_variances")
    predict_gradient_ratio = require("empirical.measure", "predict_gradient_ratio")
    variances = layer_variances(config, inputs)
    rows = []
    for layer in range(1, depth + 1):
        log_ratio = 0.0 if layer == depth else predict_gradient_ratio(config, inputs, layer, depth).value
        rows.append({"activation": activation, "init": init, "layer": layer,
                     "variance": float(np.mean(variances[layer - 1])),
                     "relative_gradient": math.exp(log_ratio) if log_ratio < 700 else math.inf})
    return rows


def compute(context) -> list[Path]:
    from tqdm.auto import tqdm

    from empirical.trainer import initialize_parameters

    measure_layers = require("empirical.measure", "measure_layers")
    settings = context.settings.depth
    inputs = context.dataset.x_train[: settings.examples]
    labels = context.dataset.y_train[: settings.examples]

    theory, measured = [], []
    pairs = [(activation, init) for activation in settings.activations for init in settings.inits]
    for activation, init in tqdm(pairs, desc="depth profiles", unit="network", disable=not context.progress):
        configs = [depth_config(activation, init, settings.depth, settings.width, seed, context.data_config)
                   for seed in range(settings.seeds)]
        theory.extend(theory_rows(configs[0], inputs, activation, init, settings.depth))
        for config in configs:
            layers, _ = measure_layers(config, initialize_parameters(config), inputs, labels)
            last_hidden = layers[settings.depth - 1].gradient_mean_square
            for statistics in layers[: settings.depth]:
                with np.errstate(divide="ignore", invalid="ignore"):
                    relative = np.float64(statistics.gradient_mean_square) / last_hidden
                measured.append({
                    "activation": activation, "init": init, "seed": config.seed, "layer": statistics.layer,
                    "variance": statistics.preactivation_variance, "relative_gradient": float(relative),
                })
    return [
        atomic_write_text(context.data_dir / THEORY_FILE, pd.DataFrame(theory).to_csv(index=False)),
        atomic_write_text(context.data_dir / MEASURED_FILE, pd.DataFrame(measured).to_csv(index=False)),
    ]
