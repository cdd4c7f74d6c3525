"""Data of Figure 2: which blocks get zero first-step gradient and which units are tied.

For every activation and every (W1, W2) initialization pattern with zero
biases, :func:`theory.symbolic.first_step_gradients` derives every gradient
block exactly and :func:`theory.symbolic.zero_blocks` names the ones that are
identically zero; :func:`theory.symmetry.tied_groups` names the hidden layers
whose units are tied. Random layers stay matrices of symbols, so "zero" means
zero for every draw. When :func:`theory.regimes.classify` exists, each row
also gets its regime at the real widths ``SymbolicSettings.widths``.

The derivation runs on a network of width 3 per layer with three examples and
unbalanced labels (one of class 1, two of class 0), as
:func:`empirical.symmetry_measure.predicted_zero_blocks` does: the zero pattern
does not depend on the width, and balanced labels would make the output-bias
gradient Σ(softmax − y) vanish at a constant start, which real batches do not.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from empirical.results import atomic_write_text
from paper.dependencies import require
from theory.initializers import parse_init

NAME = "symbolic"
MODULES = ("theory.symbolic", "theory.symmetry", "theory.activations", "theory.regimes")
BLOCKS_FILE = "symbolic_blocks.csv"

DERIVATION_WIDTH = 3
DERIVATION_LABELS = (1, 0, 0)

STATUS_ZERO = "zero gradient"
STATUS_TIED = "tied units"
STATUS_FREE = "free"


def settings_record(context) -> dict:
    return dataclasses.asdict(context.settings.symbolic)


def pattern_label(weights: tuple[str, ...]) -> str:
    return " ".join(f"W{layer}={spec}" for layer, spec in enumerate(weights, start=1))


def predict_regime(activation: str, weights: tuple[str, ...], bias: str, widths: tuple[int, ...]) -> str:
    """Return the regime of :func:`theory.regimes.classify` at the real widths."""
    classify = require("theory.regimes", "classify")
    from theory import symbolic as symbolic_module

    layers = [symbolic_module.LayerInit(parse_init(spec), parse_init(bias)) for spec in weights]
    return classify(symbolic_module.resolve_activation(activation), layers, widths).regime


def block_statuses(activation: str, weights: tuple[str, ...], bias: str) -> dict[str, str]:
    """Return the status of every block W1, b1, …, WL, bL at the first step."""
    symbolic = require("theory.symbolic", "first_step_gradients")
    tied_groups = require("theory.symmetry", "tied_groups")
    from theory import symbolic as symbolic_module

    layers = [symbolic_module.LayerInit(parse_init(spec), parse_init(bias)) for spec in weights]
    widths = [DERIVATION_WIDTH] * (len(layers) + 1)
    network = symbolic_module.build_network(widths, layers, list(DERIVATION_LABELS))
    gradients = symbolic(symbolic_module.resolve_activation(activation), network)
    zero = symbolic_module.zero_blocks(gradients)
    tied_layers = tied_groups(widths, layers).groups

    statuses = {}
    for layer in range(1, len(layers) + 1):
        for block in (f"W{layer}", f"b{layer}"):
            # A block is tied when its units (columns of W_l, entries of b_l, or rows of
            # W_{l+1}) belong to a tied hidden layer.
            tied = layer in tied_layers or (block.startswith("W") and layer - 1 in tied_layers)
            if block in zero:
                statuses[block] = STATUS_ZERO
            elif tied:
                statuses[block] = STATUS_TIED
            else:
                statuses[block] = STATUS_FREE
    return statuses


def compute(context) -> list[Path]:
    settings = context.settings.symbolic
    rows = []
    for activation in settings.activations:
        for weights in settings.weight_patterns:
            regime = predict_regime(activation, weights, settings.bias, settings.widths)
            for block, status in block_statuses(activation, weights, settings.bias).items():
                row = {"activation": activation, "pattern": pattern_label(weights), "block": block, "status": status,
                       "regime": regime}
                rows.append(row)
    return [atomic_write_text(context.data_dir / BLOCKS_FILE, pd.DataFrame(rows).to_csv(index=False))]
