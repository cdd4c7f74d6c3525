"""Data of Figure 2: which blocks get zero first-step gradient and which units are tied.

For every activation and every (W1, W2) initialization pattern of a
784-100-10 network with zero biases, :mod:`theory.regimes` derives exactly which
parameter blocks get zero gradient at the first step, which blocks have tied
(identical) hidden units, and the resulting regime.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from empirical.results import atomic_write_text
from paper.dependencies import require
from theory.initializers import parse_layer_inits

NAME = "symbolic"
MODULES = ("theory.regimes", "theory.symbolic", "theory.symmetry")
BLOCKS_FILE = "symbolic_blocks.csv"

STATUS_ZERO = "zero gradient"
STATUS_TIED = "tied units"
STATUS_FREE = "free"


def settings_record(context) -> dict:
    return dataclasses.asdict(context.settings.symbolic)


def pattern_label(weights: tuple[str, str]) -> str:
    return f"W1={weights[0]} W2={weights[1]}"


def compute(context) -> list[Path]:
    analyze = require("theory.regimes", "analyze")
    settings = context.settings.symbolic
    n_layers = len(settings.widths) - 1
    rows = []
    for activation in settings.activations:
        for weights in settings.weight_patterns:
            assignments = ",".join(f"W{layer}={spec}" for layer, spec in enumerate(weights, start=1))
            specs = parse_layer_inits(f"{assignments},b={settings.bias}", n_layers)
            result = analyze(activation, specs, settings.widths)
            tied = {name for group in result.tied_blocks for name in group}
            for layer in range(1, n_layers + 1):
                for block in (f"W{layer}", f"b{layer}"):
                    if block in result.zero_gradient_blocks:
                        status = STATUS_ZERO
                    elif block in tied:
                        status = STATUS_TIED
                    else:
                        status = STATUS_FREE
                    rows.append({"activation": activation, "pattern": pattern_label(weights), "block": block,
                                 "status": status, "regime": result.regime})
    path = atomic_write_text(context.data_dir / BLOCKS_FILE, pd.DataFrame(rows).to_csv(index=False))
    return [path]
