"""The symmetry theorem in sympy, and the collapsed network against the tied one in TensorFlow."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
import tensorflow as tf

from theory import symmetry


@pytest.mark.parametrize("optimizer", sorted(symmetry.OPTIMIZERS))
def test_update_commutes_with_transposition(optimizer):
    assert symmetry.verify_equivariance("tanh", optimizer)


def test_update_commutes_under_mse():
    assert symmetry.verify_equivariance("sigmoid", "sgd", loss="mse")


def test_full_preconditioner_breaks_symmetry():
    assert not symmetry.preconditioned_step_is_equivariant()


def test_breakers_listed():
    for name in ("dropout", "random layer", "non-elementwise preconditioning", "floating-point roundoff",
                 "reused Keras initializer"):
        assert name in symmetry.SYMMETRY_BREAKERS


def test_collapse_factors_one_hidden_layer():
    collapsed = symmetry.collapse([784, 100, 10], tied_layers=[1])
    assert collapsed.weight_factors == (sympy.Rational(1, 100), 100)
    assert collapsed.bias_factors == (sympy.Rational(1, 100), 1)


def test_collapse_factors_two_tied_layers():
    collapsed = symmetry.collapse([6, 5, 4, 3], tied_layers=[1, 2])
    assert collapsed.weight_factors == (sympy.Rational(1, 5), sympy.Rational(5, 4), 4)
    assert collapsed.bias_factors == (sympy.Rational(1, 5), sympy.Rational(1, 4), 1)


def sgd_losses(weights, biases, factors, inputs, labels, steps=50, learning_rate=0.3, momentum=0.0):
    """Train a tanh MLP with per-block learning rates in float64; return the loss per step.

    The update is written out because Keras optimizers keep the learning rate in
    float32, which alone moves the losses by 1e-8.
    """
    variables = [tf.Variable(v, dtype=tf.float64) for pair in zip(weights, biases) for v in pair]
    velocities = [np.zeros(v.shape) for v in variables]
    losses = []
    for step in range(steps):
        batch = slice(8 * (step % 4), 8 * (step % 4) + 8)
        with tf.GradientTape() as tape:
            hidden = tf.constant(inputs[batch])
            for layer in range(len(weights)):
                hidden = hidden @ variables[2 * layer] + variables[2 * layer + 1]
                if layer < len(weights) - 1:
                    hidden = tf.tanh(hidden)
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels[batch], hidden))
        gradients = tape.gradient(loss, variables)
        for index, (gradient, variable) in enumerate(zip(gradients, variables)):
            velocities[index] = momentum * velocities[index] - learning_rate * float(factors[index]) * gradient.numpy()
            variable.assign_add(velocities[index])
        losses.append(float(loss))
    return np.array(losses)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("tied_layers, widths", [([1], (6, 7, 3)), ([1, 2], (6, 5, 4, 3))])
def test_collapsed_network_trains_identically(tied_layers, widths, momentum):
    rng = np.random.default_rng(1)
    inputs = rng.uniform(0.0, 1.0, size=(32, widths[0]))
    labels = np.eye(widths[-1])[rng.integers(0, widths[-1], size=32)]
    weights, biases = [], []
    for layer in range(1, len(widths)):
        weight = np.full((widths[layer - 1], widths[layer]), 0.3 * (-1) ** layer)
        if layer - 1 not in tied_layers:
            # Untied input units may have distinct weights, as long as every
            # tied unit of this layer receives the same column.
            weight = weight + rng.normal(0.0, 0.2, size=(widths[layer - 1], 1))
        if layer not in tied_layers:
            weight = weight + rng.normal(0.0, 0.2, size=(1, widths[layer]))
        weights.append(weight)
        biases.append(np.full(widths[layer], 0.1) if layer in tied_layers else rng.normal(0, 0.1, widths[layer]))

    collapsed = symmetry.collapse(widths, tied_layers)
    narrow_weights, narrow_biases = symmetry.collapse_parameters(weights, biases, collapsed)
    factors = [f for pair in zip(collapsed.weight_factors, collapsed.bias_factors) for f in pair]

    wide = sgd_losses(weights, biases, [1] * len(factors), inputs, labels, momentum=momentum)
    narrow = sgd_losses(narrow_weights, narrow_biases, factors, inputs, labels, momentum=momentum)
    np.testing.assert_allclose(narrow, wide, rtol=0, atol=1e-9)
    assert np.ptp(wide) > 1e-3, "the runs should actually train"
