"""The exact first-step gradients of theory.symbolic against TensorFlow's, in float64."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import sympy
import tensorflow as tf

from theory import symbolic
from theory.activations import LEAKY_RELU_SLOPE
from theory.errors import InputError
from theory.initializers import parse_init

TF_ACTIVATIONS = {
    "linear": lambda h: h,
    "sigmoid": tf.sigmoid,
    "tanh": tf.tanh,
    "relu": tf.nn.relu,
    # NOTE: tf.nn.leaky_relu stores alpha as a float32 attribute, so in float64 its
    # negative slope is 0.2000000029802322 and the gradients differ from α = 0.2 by
    # a relative 1.5e-8. tf.where reproduces the op with α exact and the same
    # slope α at z = 0.
    "leaky_relu": lambda h: tf.where(h > 0, h, LEAKY_RELU_SLOPE * h),
    "elu": tf.nn.elu,
    "selu": tf.nn.selu,
    "softplus": tf.nn.softplus,
    "swish": tf.nn.silu,
    # NOTE: tf.nn.gelu(approximate=False) in TF 2.21 on CPU differs from x·Φ(x) by up to
    # 5e-9 in float64 near x = -1.41 (compared with scipy.special.ndtr on a grid), so
    # the test writes the exact GELU with tf.math.erfc, which matches scipy to 1e-15.
    "gelu": lambda h: 0.5 * h * tf.math.erfc(-h / np.sqrt(2.0)),
    "erf": tf.math.erf,
    "z**3 + z": lambda h: h**3 + h,
}

WIDTHS = {1: (5, 3), 2: (5, 4, 3), 3: (5, 4, 3, 3), 4: (5, 4, 3, 3, 3)}
LABELS = (0, 2, 1, 2)

PATTERNS = {
    "zeros": {"W": "zeros", "b": "zeros"},
    "ones": {"W": "ones", "b": "ones"},
    "negative": {"W": "constant:-0.5", "b": "zeros"},
    "zero_first": {"W": "normal:1", "W1": "zeros", "b": "zeros"},
    "zero_last": {"W": "normal:1", "WL": "zeros", "b": "zeros"},
    "random_bias": {"W": "zeros", "b": "normal:1"},
    "random": {"W": "normal:1", "b": "normal:1"},
}


def layer_inits(pattern: str, depth: int) -> tuple[symbolic.LayerInit, ...]:
    entries = PATTERNS[pattern]
    layers = []
    for layer in range(1, depth + 1):
        weight = entries.get(f"W{layer}") or (entries.get("WL") if layer == depth else None) or entries["W"]
        layers.append(symbolic.LayerInit(parse_init(weight), parse_init(entries["b"])))
    return tuple(layers)


def numeric_network(widths, layers, seed: int):
    """Draw the same numbers for the random blocks that TensorFlow will use."""
    rng = np.random.default_rng(seed)
    inputs = rng.uniform(0.1, 1.0, size=(len(LABELS), widths[0]))
    weights, biases, random = [], [], {}
    for index, layer in enumerate(layers, start=1):
        shape = (widths[index - 1], widths[index])
        for name, spec, block_shape, store in (
            (f"W{index}", layer.weight, shape, weights),
            (f"b{index}", layer.bias, (1, widths[index]), biases),
        ):
            if spec.is_constant:
                value = np.full(block_shape, spec.constant_value)
            else:
                value = rng.normal(0.0, spec.parameter, size=block_shape) * 0.7
                random[name] = value
            store.append(value)
    return inputs, weights, biases, random


def tensorflow_gradients(activation, inputs, weights, biases, loss, kink_slope=None):
    variables = [tf.Variable(value, dtype=tf.float64) for pair in zip(weights, biases) for value in pair]
    labels = tf.one_hot(LABELS, weights[-1].shape[1], dtype=tf.float64)
    with tf.GradientTape() as tape:
        hidden = tf.constant(inputs, dtype=tf.float64)
        n_layers = len(weights)
        for layer in range(n_layers):
            preactivation = hidden @ variables[2 * layer] + variables[2 * layer + 1]
            hidden = TF_ACTIVATIONS[activation](preactivation) if layer < n_layers - 1 else preactivation
        if loss == "mse":
            value = tf.reduce_mean((hidden - labels) ** 2)
        else:
            value = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels, hidden))
    gradients = tape.gradient(value, variables)
    names = [name for layer in range(1, len(weights) + 1) for name in (f"W{layer}", f"b{layer}")]
    return {name: gradient.numpy() for name, gradient in zip(names, gradients)}


@functools.lru_cache(maxsize=None)
def derive(activation: str, widths, layers, loss):
    """Derive the symbolic first-step gradients once per network.

    All-random networks have no zero blocks and their symbolic gradients take
    seconds (13 s for gelu at depth 2), so they are only evaluated numerically.
    """
    phi = symbolic.resolve_activation(activation)
    network = symbolic.build_network(widths, layers, LABELS)
    if all(not (layer.weight.is_constant or layer.bias.is_constant) for layer in layers):
        return phi, network, {}
    return phi, network, symbolic.first_step_gradients(phi, network, loss)


def assert_gradients_match(activation, pattern, depth, loss="softmax_cross_entropy", seed=0):
    widths = WIDTHS[depth]
    layers = layer_inits(pattern, depth)
    phi, network, exact = derive(activation, widths, layers, loss)
    inputs, weights, biases, random = numeric_network(widths, layers, seed)
    derived = symbolic.evaluate_first_step(phi, network, inputs, random, loss)
    measured = tensorflow_gradients(activation, inputs, weights, biases, loss)
    zero = symbolic.zero_blocks(exact)
    for name, value in measured.items():
        if name in zero:
            # TensorFlow's Σ_k (softmax_k − y_k) is a rounding error, not 0; it reaches
            # 4e-15 after multiplication by φ'(h) ≈ 30 for z**3 + z.
            assert np.abs(value).max() < 1e-13, f"{activation}, {pattern}, {name} is exactly zero in theory"
            continue
        np.testing.assert_allclose(
            derived[name].reshape(value.shape), value, rtol=1e-12, atol=1e-15,
            err_msg=f"{activation}, {pattern}, depth {depth}, block {name}",
        )


@pytest.mark.parametrize("activation", sorted(TF_ACTIVATIONS))
@pytest.mark.parametrize("pattern", sorted(PATTERNS))
def test_gradients_match_tensorflow_depth2(activation, pattern):
    assert_gradients_match(activation, pattern, depth=2)


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "tanh", "selu"])
@pytest.mark.parametrize("pattern", ["zeros", "ones", "zero_first", "random_bias"])
@pytest.mark.parametrize("depth", [1, 3, 4])
def test_gradients_match_tensorflow_depths(activation, pattern, depth):
    assert_gradients_match(activation, pattern, depth)


@pytest.mark.parametrize("depth", [1, 3, 4])
def test_gradients_match_tensorflow_random_sigmoid(depth):
    """All-random layers, for sigmoid only: nested Piecewise derivations of relu take minutes at depth 4."""
    assert_gradients_match("sigmoid", "random", depth)


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "softplus"])
@pytest.mark.parametrize("pattern", ["zeros", "ones", "zero_first"])
def test_gradients_match_tensorflow_mse(activation, pattern):
    assert_gradients_match(activation, pattern, depth=3, loss="mse")


def test_depth4_derivation_moves_every_block():
    """An all-random depth-4 sigmoid network has no exactly-zero first-step block."""
    layers = layer_inits("random", 4)
    activation = symbolic.resolve_activation("sigmoid")
    network = symbolic.build_network(WIDTHS[4], layers, LABELS)
    gradients = symbolic.first_step_gradients(activation, network)
    assert symbolic.zero_blocks(gradients) == set()


def test_zero_blocks_all_zeros_relu():
    layers = layer_inits("zeros", 3)
    activation = symbolic.resolve_activation("relu")
    gradients = symbolic.first_step_gradients(activation, symbolic.build_network(WIDTHS[3], layers, LABELS))
    assert symbolic.zero_blocks(gradients) == {"W1", "b1", "W2", "b2", "W3"}


def test_zero_blocks_constant_output_cross_entropy():
    """Constant output weights block every hidden gradient, because Σ_k δ_k = 0."""
    layers = layer_inits("ones", 2)
    activation = symbolic.resolve_activation("tanh")
    gradients = symbolic.first_step_gradients(activation, symbolic.build_network(WIDTHS[2], layers, LABELS))
    assert symbolic.zero_blocks(gradients) == {"W1", "b1"}


def test_zero_blocks_constant_output_mse():
    layers = layer_inits("ones", 2)
    activation = symbolic.resolve_activation("tanh")
    network = symbolic.build_network(WIDTHS[2], layers, LABELS)
    assert symbolic.zero_blocks(symbolic.first_step_gradients(activation, network, "mse")) == set()


def test_ones_softmax_regression_matches_zeros():
    """With W = ones and b = ones all logits are equal, so the gradient is the zero-init one."""
    activation = symbolic.resolve_activation("linear")
    zeros = symbolic.first_step_gradients(activation, symbolic.build_network((5, 3), layer_inits("zeros", 1), LABELS))
    ones = symbolic.first_step_gradients(activation, symbolic.build_network((5, 3), layer_inits("ones", 1), LABELS))
    assert zeros == ones


def test_resolve_activation_rejects_text():
    with pytest.raises(InputError, match="sigmoid"):
        symbolic.resolve_activation("z +* 2")
    with pytest.raises(InputError, match="only the symbol z"):
        symbolic.resolve_activation("x + 1")


def test_resolve_activation_kink_convention():
    selu = symbolic.resolve_activation("selu")
    assert float(selu.slope(0)) == pytest.approx(float(selu.slope(1)), rel=1e-15)
    assert symbolic.resolve_activation("elu").slope(0) == 1
    assert symbolic.resolve_activation("leaky_relu").slope(0) > 0
    assert symbolic.resolve_activation("relu", 0.5).slope(0) == sympy.Rational(1, 2)
