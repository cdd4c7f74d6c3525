"""Measure how far the hidden units of a network are from being identical.

Two units of hidden layer l are identical when their incoming weight vectors
(columns of ``Wl`` with their bias entries) and their outgoing weight vectors
(rows of ``W(l+1)``) are equal. Three measurements test the symmetry
predictions of :mod:`theory.symbolic`:

* the unit spread, the maximum over inputs (or outputs) of the range across the
  units of a layer: ``max_i (max_j W[i, j] − min_j W[i, j])``, which is 0 exactly
  when every unit has the same weight vector;
* the centered rank, the rank of a weight matrix after subtracting the mean unit,
  which is 0 for tied units and grows as symmetry breaks;
* the exactly-zero gradient blocks of one batch.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from empirical.config import RunConfig
from theory import symbolic
from theory.errors import InputError
from theory.initializers import InitSpec


@dataclasses.dataclass(frozen=True)
class LayerSymmetry:
    """Symmetry measurements of one hidden layer at one training step.

    Attributes:
        step: number of updates applied before the measurement.
        layer: hidden layer index l, counted from the input (1 = first hidden layer).
        incoming_spread: maximum range across units of the incoming weights and bias.
        outgoing_spread: maximum range across units of the outgoing weights.
        incoming_rank: rank of ``Wl`` after subtracting the mean column.
        outgoing_rank: rank of ``W(l+1)`` after subtracting the mean row.
    """

    step: int
    layer: int
    incoming_spread: float
    outgoing_spread: float
    incoming_rank: int
    outgoing_rank: int


def unit_spread(matrix: np.ndarray, unit_axis: int) -> float:
    """Return the maximum range across units, 0 exactly when all units are equal.

    ``unit_axis`` is 1 for an incoming matrix ``(fan_in, units)`` and 0 for an
    outgoing matrix ``(units, fan_out)``; a bias vector has only a unit axis.
    """
    matrix = np.asarray(matrix)
    if matrix.ndim == 1:
        return float(np.ptp(matrix)) if matrix.size else 0.0
    if unit_axis not in (0, 1) or matrix.ndim != 2:
        raise InputError(f"unit_axis must be 0 or 1 for a 2-D matrix, got axis {unit_axis} and shape {matrix.shape}")
    return float(np.ptp(matrix, axis=unit_axis).max())


def centered_rank(matrix: np.ndarray, unit_axis: int) -> int:
    """Return the rank of ``matrix`` after subtracting the mean unit.

    The tolerance is numpy's default for :func:`numpy.linalg.matrix_rank`,
    max(shape) · eps · largest singular value, in the matrix's own dtype.
    """
    matrix = np.asarray(matrix)
    centered = matrix - matrix.mean(axis=unit_axis, keepdims=True)
    if not np.any(centered):
        return 0
    return int(np.linalg.matrix_rank(centered))


def layer_symmetry(parameters: dict[str, np.ndarray], n_layers: int, step: int = 0) -> list[LayerSymmetry]:
    """Measure every hidden layer of a network given by its parameters."""
    rows = []
    for layer in range(1, n_layers):
        incoming = parameters[f"W{layer}"]
        bias = parameters[f"b{layer}"]
        outgoing = parameters[f"W{layer + 1}"]
        rows.append(LayerSymmetry(
            step=step,
            layer=layer,
            incoming_spread=max(unit_spread(incoming, 1), unit_spread(bias, 0)),
            outgoing_spread=unit_spread(outgoing, 0),
            incoming_rank=centered_rank(incoming, 1),
            outgoing_rank=centered_rank(outgoing, 0),
        ))
    return rows


def symmetry_along_training(config: RunConfig, dataset, steps: tuple[int, ...]) -> list[LayerSymmetry]:
    """Train ``config`` and measure every hidden layer at each of ``steps``."""
    from empirical.trainer import train

    result = train(config.replace(snapshot_steps=tuple(sorted(set(steps)))), dataset)
    rows = []
    for step in sorted(result.snapshots):
        rows.extend(layer_symmetry(result.snapshots[step], config.n_layers, step))
    return rows


def measured_zero_blocks(config: RunConfig, parameters: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> set[str]:
    """Return the names of the parameters whose gradient on (x, y) is exactly zero in TensorFlow."""
    from empirical.trainer import compute_gradients

    _, gradients = compute_gradients(config, parameters, x, y)
    return {name for name, gradient in gradients.items() if not np.any(gradient)}


def predicted_zero_blocks(config: RunConfig, n_examples: int = 3) -> set[str] | None:
    """Return the exactly-zero first-step gradient blocks that :mod:`theory.symbolic` derives.

    The derivation runs on a small network with the same depth, activations and
    initializers (width 3 per layer, ``n_examples`` examples), because the zero pattern of constant layers does not depend on the
    width. The labels are unbalanced (one example of class 1, the rest class 0),
    because balanced labels make the output-bias gradient Σ(softmax − y) vanish
    at a constant start, which real batches do not. Returns None when a layer is random, which the small symbolic network
    cannot stand for, or the hidden activations differ.
    """
    if len(set(config.activations)) > 1:
        return None
    specs = list(zip(config.weight_inits, config.bias_inits))
    if not all(weight.is_constant and bias.is_constant for weight, bias in specs):
        return None
    activation = symbolic.resolve_activation(config.activations[0] if config.activations else "linear")
    widths = [3] + [3] * (config.n_layers - 1) + [min(config.widths[-1], 3)]
    layers = [symbolic.LayerInit(weight, bias) for weight, bias in specs]
    labels = [1 if k == 0 else 0 for k in range(n_examples)]
    network = symbolic.build_network(widths, layers, labels)
    gradients = symbolic.first_step_gradients(activation, network, config.loss)
    return set(symbolic.zero_blocks(gradients))


def is_constant_config(config: RunConfig) -> bool:
    """Return whether every weight matrix and bias vector of ``config`` starts constant."""
    return all(isinstance(spec, InitSpec) and spec.is_constant for spec in config.weight_inits + config.bias_inits)


def measured_first_moving_steps(config: RunConfig, dataset) -> dict[str, int | None]:
    """Train ``config`` and return, per parameter block, the first update that changes it.

    Update s is the s-th SGD step, so a block whose gradient is exactly zero at
    steps 1 and 2 and non-zero at step 3 returns 3. A block that no update of the
    run changes returns None. The run takes a snapshot after every update.
    """
    from empirical.trainer import train

    result = train(config.replace(snapshot_steps=tuple(range(config.steps + 1))), dataset)
    first_steps: dict[str, int | None] = {}
    for name in result.snapshots[0]:
        first_steps[name] = next(
            (step for step in range(1, config.steps + 1)
             if not np.array_equal(result.snapshots[step][name], result.snapshots[step - 1][name])),
            None,
        )
    return first_steps


def predicted_first_moving_steps(config: RunConfig) -> dict[str, int | None]:
    """Return the first update that moves each block, from :func:`theory.regimes.classify`.

    The regime classifier follows the exactly-zero gradients step by step at the
    real widths; None means the block never moves.
    """
    from theory import regimes

    if len(set(config.activations)) > 1:
        raise InputError(f"the prediction needs one hidden activation, got {config.activations!r}")
    activation = symbolic.resolve_activation(config.activations[0] if config.activations else "linear")
    layers = [symbolic.LayerInit(weight, bias) for weight, bias in zip(config.weight_inits, config.bias_inits)]
    prediction = regimes.classify(activation, layers, config.widths, config.loss)
    return {block.name: block.first_step for block in prediction.blocks}
