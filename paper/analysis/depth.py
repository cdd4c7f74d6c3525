"""Data of Figure 4: pre-activation variance and gradient size through depth.

Theory: the mean-field variance map of :mod:`theory.meanfield`, started from the
first layer's variance on the real inputs (:mod:`theory.first_layer`), and the
per-layer gradient factors χ₁(q_ℓ). Measurement: the same deep networks built
with the trainer's initializers and measured on MNIST by
:mod:`empirical.measure`, over several seeds.

The gradient is the pre-activation gradient δ_ℓ = ∂loss/∂h_ℓ, reported as
E[δ_ℓ²] relative to the last hidden layer, because its absolute size depends
on the loss at initialization, which the mean-field theory does not model.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd

from empirical.results import atomic_write_text
from paper.dependencies import require
from theory.initializers import parse_init

NAME = "depth"
MODULES = ("theory.meanfield", "theory.first_layer", "theory.gaussian", "empirical.measure", "empirical.trainer")
THEORY_FILE = "depth_theory.csv"
MEASURED_FILE = "depth_measured.csv"


def settings_record(context) -> dict:
    return {**dataclasses.asdict(context.settings.depth), **context.data_record()}


def relative_gradient(factors: np.ndarray) -> np.ndarray:
    """Return E[δ_ℓ²]/E[δ_L²] for ℓ = 1..L from the factors E[δ_ℓ²]/E[δ_{ℓ+1}²] of layers 1..L−1."""
    tail_products = np.cumprod(factors[::-1])[::-1]
    return np.append(tail_products, 1.0)


def theory_rows(inputs: np.ndarray, activation: str, init: str, depth: int, width: int) -> list[dict]:
    variance_trajectory = require("theory.meanfield", "variance_trajectory")
    gradient_factors = require("theory.meanfield", "gradient_factors")
    preactivation_variances = require("theory.first_layer", "preactivation_variances")

    spec = parse_init(init)
    q_first = float(np.mean(preactivation_variances(inputs, spec.variance(inputs.shape[1], width))))
    sigma_w = math.sqrt(width * spec.variance(width, width))
    q_values = variance_trajectory(activation, q_first, sigma_w, 0.0, depth)
    gradient = relative_gradient(gradient_factors(activation, q_values[:-1], sigma_w))
    return [
        {"activation": activation, "init": init, "layer": layer, "sigma_w": sigma_w,
         "variance": q, "relative_gradient": g}
        for layer, (q, g) in enumerate(zip(q_values, gradient), start=1)
    ]


def compute(context) -> list[Path]:
    measure = require("empirical.measure", "depth_profile")
    settings = context.settings.depth
    inputs = context.dataset.x_train[: settings.examples]
    labels = context.dataset.y_train[: settings.examples]

    theory, measured = [], []
    for activation in settings.activations:
        for init in settings.inits:
            theory.extend(theory_rows(inputs, activation, init, settings.depth, settings.width))
            for seed in range(settings.seeds):
                profile = measure(inputs, labels, activation, parse_init(init), settings.depth, settings.width,
                                  seed=seed)
                variance = np.asarray(profile["variance"])
                gradient = np.asarray(profile["gradient_second_moment"])
                for layer in range(settings.depth):
                    measured.append({
                        "activation": activation, "init": init, "seed": seed, "layer": layer + 1,
                        "variance": variance[layer],
                        "relative_gradient": gradient[layer] / gradient[-1],
                    })
    return [
        atomic_write_text(context.data_dir / THEORY_FILE, pd.DataFrame(theory).to_csv(index=False)),
        atomic_write_text(context.data_dir / MEASURED_FILE, pd.DataFrame(measured).to_csv(index=False)),
    ]
