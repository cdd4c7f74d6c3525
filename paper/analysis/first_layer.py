"""Data of Figure 3: the first layer's pre-activations under N(0, σ²) weights on real inputs.

The prediction is the scale mixture of :mod:`theory.first_layer`: given an
input x, a unit's pre-activation is N(0, σ²‖x‖²), so over the data it is a
mixture of Gaussians over the empirical ‖x‖². The measurement draws the
weights with the trainer's Keras initializer and runs the network's forward
pass on the same inputs (:func:`empirical.measure.forward_tensors`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from empirical.results import atomic_write, atomic_write_text
from paper.dependencies import require
from empirical.config import mlp_config
from theory.initializers import InitSpec

NAME = "first_layer"
MODULES = ("theory.first_layer", "theory.gaussian", "empirical.measure", "empirical.trainer")
SUMMARY_FILE = "first_layer_summary.csv"
GRID_POINTS = 401
MAX_STORED_VALUES = 200_000


def samples_file(sigma: float) -> str:
    return f"first_layer_sigma{sigma:g}.npz"


def settings_record(context) -> dict:
    return {**dataclasses.asdict(context.settings.first_layer), **context.data_record()}


def compute(context) -> list[Path]:
    preactivation_variances = require("theory.first_layer", "preactivation_variances")
    mixture_density = require("theory.first_layer", "mixture_density")
    predict_first_layer = require("theory.first_layer", "predict_first_layer")
    forward_tensors = require("empirical.measure", "forward_tensors")
    measure_layers = require("empirical.measure", "measure_layers")
    threshold = require("empirical.measure", "SATURATION_THRESHOLD")
    from empirical.trainer import initialize_parameters

    settings = context.settings.first_layer
    inputs = context.dataset.x_train[: settings.examples]
    labels = context.dataset.y_train[: settings.examples]
    paths, rows = [], []
    for sigma in settings.sigmas:
        spec = InitSpec("normal", sigma)
        config = mlp_config((inputs.shape[1], settings.width, 10), "sigmoid", f"normal:{sigma!r}", "zeros",
                            seed=settings.seed, data=context.data_config)
        parameters = initialize_parameters(config)
        measured = forward_tensors(config, parameters, inputs, labels)[0][0].astype(np.float64).ravel()
        first = measure_layers(config, parameters, inputs, labels)[0][0]

        q_values = preactivation_variances(inputs, spec.variance(inputs.shape[1], settings.width))
        prediction = predict_first_layer(inputs, "sigmoid", spec, settings.width, saturation_threshold=threshold)
        limit = 4.0 * float(np.sqrt(np.max(q_values)))
        grid = np.linspace(-limit, limit, GRID_POINTS)
        arrays = {
            "measured": measured[:MAX_STORED_VALUES],
            "grid": grid,
            "mixture_density": mixture_density(grid, q_values),
            "single_gaussian_density": mixture_density(grid, np.array([np.mean(q_values)])),
        }
        paths.append(atomic_write(context.data_dir / samples_file(sigma),
                                  lambda handle, arrays=arrays: np.savez_compressed(handle, **arrays)))
        rows.append({
            "sigma": sigma,
            "predicted_variance": prediction.preactivation_variance,
            "measured_variance": first.preactivation_variance,
            "predicted_saturated_fraction": prediction.saturated_fraction,
            "measured_saturated_fraction": first.saturated_fraction,
            "saturation_threshold": threshold,
        })
    paths.append(atomic_write_text(context.data_dir / SUMMARY_FILE, pd.DataFrame(rows).to_csv(index=False)))
    return paths
