"""Per-layer statistics of TensorFlow networks at initialization against the mean-field prediction.

Every comparison uses three seeds and the tolerance of :mod:`empirical.measure`:
Z_CRITICAL ≈ 3.29 standard deviations of the predicted finite-width and
finite-sample error, so each single comparison fails with probability about
α = 10⁻³ when the theory holds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from empirical import measure
from empirical.config import mlp_config
from empirical.data import load_mnist, make_gaussian
from empirical.trainer import initialize_parameters

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def mnist():
    return load_mnist(dtype="float32")


@pytest.fixture(scope="module")
def gaussian_inputs():
    return make_gaussian(1000, 100, 784, seed=0, dtype=np.float32)


NETWORKS = [
    ("mnist", (784, 300, 300, 300, 10), "tanh", "normal:0.1"),
    ("mnist", (784, 1000, 10), "sigmoid", "glorot_normal"),
    ("mnist", (784, 100, 100, 100, 100, 100, 10), "relu", "he_normal"),
    ("gaussian", (784, 300, 300, 10), "tanh", "orthogonal"),
    ("gaussian", (784, 300, 300, 10), "sigmoid", "truncated_normal:0.1"),
    ("gaussian", (784, 1000, 10), "tanh", "lecun_normal"),
]


def _dataset(name, mnist, gaussian_inputs):
    return mnist if name == "mnist" else gaussian_inputs


@pytest.mark.parametrize("data_name, widths, activation, init", NETWORKS)
def test_layer_statistics_within_tolerance(data_name, widths, activation, init, mnist, gaussian_inputs):
    data = _dataset(data_name, mnist, gaussian_inputs)
    config = mlp_config(widths, activation, init, "zeros")
    x, y = data.x_train[:1000], data.y_train[:1000]
    predictions = measure.predict_layers(config, x)
    for seed in SEEDS:
        layers, _ = measure.measure_layers(config, initialize_parameters(config.replace(seed=seed)), x, y)
        for row, predicted in zip(layers, predictions):
            for statistic in measure.STATISTICS:
                value = getattr(row, statistic)
                expected = predicted[statistic]
                assert abs(value - expected.value) <= expected.tolerance, (
                    f"seed {seed} layer {row.layer} {statistic}: measured {value:.5g}, "
                    f"predicted {expected.value:.5g} ± {expected.tolerance:.3g}")


@pytest.mark.parametrize("data_name, widths, activation, init", NETWORKS[:3])
def test_initial_loss_within_tolerance(data_name, widths, activation, init, mnist, gaussian_inputs):
    data = _dataset(data_name, mnist, gaussian_inputs)
    config = mlp_config(widths, activation, init, "zeros")
    x, y = data.x_train[:1000], data.y_train[:1000]
    predicted = measure.predict_initial_loss(config, x)
    for seed in SEEDS:
        _, loss = measure.measure_layers(config, initialize_parameters(config.replace(seed=seed)), x, y)
        assert abs(loss - predicted.value) <= predicted.tolerance, f"seed {seed}: {loss} vs {predicted}"


def test_first_layer_variance_exact(mnist):
    config = mlp_config((784, 1000, 10), "tanh", "normal:0.05", "zeros")
    x = mnist.x_train[:1000].astype(np.float64)
    q = measure.layer_variances(config, x)[0]
    assert q.mean() == pytest.approx(0.05**2 * np.mean(np.sum(x * x, axis=1)))


def test_constant_weights_rejected():
    config = mlp_config((784, 100, 10), "tanh", ("zeros", "normal:1"), "zeros")
    with pytest.raises(ValueError, match="constant"):
        measure.layer_variances(config, np.ones((2, 784)))


def test_nonzero_constant_bias_rejected():
    config = mlp_config((784, 100, 10), "tanh", "normal:1", "ones")
    with pytest.raises(ValueError, match="non-zero constant"):
        measure.layer_variances(config, np.ones((2, 784)))


def test_measure_relu_dead_fraction_at_zero():
    config = mlp_config((4, 3, 2), "relu", "zeros", "zeros")
    parameters = initialize_parameters(config)
    layers, loss = measure.measure_layers(config, parameters, np.ones((5, 4)), np.zeros(5, dtype=int))
    assert layers[0].dead_fraction == 1.0
    assert layers[0].derivative_mean == 0.0
    assert loss == pytest.approx(math.log(2))


def test_gradient_ratio_sigmoid_chain(mnist):
    from theory.initializers import InitSpec
    from empirical.config import RunConfig

    widths = (784, 30, 30, 30, 30, 10)
    config = RunConfig(widths=widths, activations=("sigmoid",) * 4,
                       weight_inits=tuple(InitSpec("normal", 1 / math.sqrt(n)) for n in widths[:-1]),
                       bias_inits=(InitSpec("normal", 1.0),) * 5)
    x, y = mnist.x_train[:1000], mnist.y_train[:1000]
    predicted = measure.predict_gradient_ratio(config, x, 1, 4)
    for seed in SEEDS:
        layers, _ = measure.measure_layers(config, initialize_parameters(config.replace(seed=seed)), x, y)
        measured = math.log(layers[0].gradient_mean_square / layers[3].gradient_mean_square)
        assert abs(measured - predicted.value) <= predicted.tolerance, f"seed {seed}: {measured} vs {predicted}"


def test_measure_along_training_records_steps(mnist):
    config = mlp_config((784, 50, 10), "tanh", "normal:0.1", "zeros", steps=5, batch_size=50)
    measured = measure.measure_along_training(config, mnist, (0, 5), n_examples=100)
    assert sorted(measured) == [0, 5]


@pytest.mark.xfail(
    reason="measured: 784-100×20-10 relu with He weights on MNIST, seed 1, leaves the tolerance from layer 12 on "
           "(|z| > 4 in 4e-5 of units against 2e-10 predicted, q̂ 0.36 against 0.22 at layer 20): at depth/width = 0.2 "
           "the pre-activations are heavier-tailed than the leading-order finite-width spread allows",
    strict=True)
def test_deep_relu_within_tolerance(mnist):
    config = mlp_config((784,) + (100,) * 20 + (10,), "relu", "he_normal", "zeros")
    x, y = mnist.x_train[:1000], mnist.y_train[:1000]
    predictions = measure.predict_layers(config, x)
    failures = []
    for seed in SEEDS:
        layers, _ = measure.measure_layers(config, initialize_parameters(config.replace(seed=seed)), x, y)
        for row, predicted in zip(layers, predictions):
            for statistic in measure.STATISTICS:
                if not predicted[statistic].accepts(getattr(row, statistic)):
                    failures.append((seed, row.layer, statistic))
    assert failures == []
