"""Data of Figure 5: the mean-field phase diagram of each activation, and where common recipes sit.

σ_w is the fan-in-scaled weight scale of :mod:`theory.meanfield`, so a scheme
with entry variance v on a square layer of width n has σ_w² = n·v. The recipes
marked are

* LeCun (v = 1/n, σ_w = 1), Glorot (v = 2/(n_in + n_out), σ_w = 1 on a square
  layer) and He (v = 2/n, σ_w = √2), with zero biases as Keras sets them;
* PyTorch's ``nn.Linear`` default, weights and biases U(−1/√n, 1/√n)
  (``reset_parameters`` in torch 2.x: ``kaiming_uniform_(a=√5)``), so
  σ_w = 1/√3 and σ_b = 1/√(3n);
* Xavier initialization with the gain of ``torch.nn.init.calculate_gain``
  (tanh 5/3, relu √2, sigmoid 1), which gives σ_w = gain on a square layer.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd

from empirical.results import atomic_write, atomic_write_text
from paper.dependencies import require
from theory.initializers import parse_init

NAME = "phase"
MODULES = ("theory.meanfield", "theory.gaussian", "theory.initializers")
RECIPES_FILE = "phase_recipes.csv"

PYTORCH_GAINS = {"linear": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3.0, "relu": math.sqrt(2.0)}
"""``torch.nn.init.calculate_gain`` (torch 2.x) for the activations it lists."""


def diagram_file(activation: str) -> str:
    return f"phase_{activation}.npz"


def settings_record(context) -> dict:
    return dataclasses.asdict(context.settings.phase)


def recipe_points(activation: str, width: int) -> list[dict]:
    """Return (σ_w, σ_b) of every recipe for a square layer of ``width`` units.

    Recipes that land on the same point (LeCun and Glorot on a square layer)
    share one row with both names.
    """

    def sigma_w(spec: str) -> float:
        return math.sqrt(width * parse_init(spec).variance(width, width))

    pytorch_bound = f"uniform:{1.0 / math.sqrt(width)!r}"
    points = [
        ("LeCun", sigma_w("lecun_normal"), 0.0),
        ("Glorot", sigma_w("glorot_normal"), 0.0),
        ("He", sigma_w("he_normal"), 0.0),
        # Biases are not fan-in scaled: σ_b² is the variance of one bias entry.
        ("PyTorch Linear", sigma_w(pytorch_bound), parse_init(pytorch_bound).std(width, width)),
    ]
    if activation in PYTORCH_GAINS:
        points.append(("PyTorch gain", PYTORCH_GAINS[activation], 0.0))

    merged: dict[tuple[float, float], list[str]] = {}
    for name, w, b in points:
        merged.setdefault((round(w, 9), round(b, 9)), []).append(name)
    return [
        {"activation": activation, "recipe": " / ".join(names), "sigma_w": w, "sigma_b": b}
        for (w, b), names in merged.items()
    ]


def compute(context) -> list[Path]:
    phase_diagram = require("theory.meanfield", "phase_diagram")
    settings = context.settings.phase
    sigma_w_values = np.linspace(*settings.sigma_w_range, settings.sigma_w_points)
    sigma_b_values = np.linspace(*settings.sigma_b_range, settings.sigma_b_points)

    paths = []
    recipes = []
    for activation in settings.activations:
        diagram = phase_diagram(activation, sigma_w_values, sigma_b_values)
        arrays = {key: np.asarray(value) for key, value in diagram.items()}
        arrays["sigma_w_values"] = sigma_w_values
        arrays["sigma_b_values"] = sigma_b_values

        def write(handle, arrays=arrays) -> None:
            np.savez_compressed(handle, **arrays)

        paths.append(atomic_write(context.data_dir / diagram_file(activation), write))
        recipes.extend(recipe_points(activation, settings.recipe_width))

    recipes_path = context.data_dir / RECIPES_FILE
    atomic_write_text(recipes_path, pd.DataFrame(recipes).to_csv(index=False))
    return [*paths, recipes_path]
