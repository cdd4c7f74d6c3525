"""Tests of the TensorFlow trainer: determinism, initializer statistics, classic outcomes.

Stochastic checks compare a sample statistic with its exact value under a
two-sided tolerance of ``Z_CRITICAL`` standard errors (α = 1e-4 per check), where
the standard error comes from the distribution's own moments and the sample size.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from empirical.cache import RunCache, train_cached
from empirical.config import OptimizerConfig, RunConfig, mlp_config
from empirical.data import load_mnist
from empirical.trainer import (
    compute_gradients,
    initialize_parameters,
    sample_parameter,
    train,
)
from theory.errors import InputError
from theory.initializers import TRUNCATED_NORMAL_STD, InitSpec, parse_init

ALPHA = 1e-4
Z_CRITICAL = stats.norm.isf(ALPHA / 2)  # ≈ 3.89

# A standard-normal variable cut at ±2 has fourth moment E[z⁴] below; the
# standard error of a sample variance is √((E[w⁴] − σ⁴)/n).
TRUNCATED_FOURTH_MOMENT = float(stats.truncnorm(-2, 2).moment(4))

SHAPE = (784, 512)  # 401,408 entries: the variance's standard error is about 0.2 %


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


def _fourth_moment_and_variance(spec: InitSpec, fan_in: int, fan_out: int) -> tuple[float, float]:
    """Return E[w⁴] and Var(w) of one entry, from the scheme's exact definition."""
    variance = spec.variance(fan_in, fan_out)
    if spec.kind in ("normal",):
        return 3 * variance**2, variance
    if spec.kind.endswith("uniform"):
        return 9 * variance**2 / 5, variance  # U(−a, a): E[w⁴] = a⁴/5, Var = a²/3
    # truncated_normal and the Keras *_normal schemes are N(0, s²) cut at ±2s.
    s_squared = variance / TRUNCATED_NORMAL_STD**2
    return TRUNCATED_FOURTH_MOMENT * s_squared**2, variance


RANDOM_SPECS = [
    "normal:1", "normal:0.01", "truncated_normal:1", "uniform:0.1",
    "glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
    "lecun_normal", "lecun_uniform",
]


@pytest.mark.parametrize("text", RANDOM_SPECS)
def test_initializer_mean_matches_zero(text):
    spec = parse_init(text)
    sample = sample_parameter(spec, SHAPE, seed=11, dtype="float64")
    standard_error = math.sqrt(spec.variance(*SHAPE) / sample.size)
    assert abs(sample.mean()) < Z_CRITICAL * standard_error


@pytest.mark.parametrize("text", RANDOM_SPECS)
def test_initializer_variance_matches_spec(text):
    spec = parse_init(text)
    sample = sample_parameter(spec, SHAPE, seed=12, dtype="float64")
    fourth_moment, variance = _fourth_moment_and_variance(spec, *SHAPE)
    standard_error = math.sqrt((fourth_moment - variance**2) / sample.size)
    assert abs(sample.var() - variance) < Z_CRITICAL * standard_error


@pytest.mark.parametrize("text", ["truncated_normal:1", "truncated_normal:0.3", "he_normal", "glorot_normal"])
def test_truncated_initializer_respects_bound(text):
    spec = parse_init(text)
    sample = sample_parameter(spec, SHAPE, seed=13, dtype="float64")
    cut = 2 * math.sqrt(spec.variance(*SHAPE)) / TRUNCATED_NORMAL_STD
    assert np.abs(sample).max() <= cut * (1 + 1e-12)
    # With 4e5 draws the largest value comes within 1 % of the cut.
    assert np.abs(sample).max() > 0.99 * cut


@pytest.mark.parametrize("shape", [(784, 100), (100, 784)])
def test_orthogonal_initializer_is_orthogonal(shape):
    sample = sample_parameter(InitSpec("orthogonal", 2.0), shape, seed=14, dtype="float64")
    small = min(shape)
    gram = sample.T @ sample if shape[0] >= shape[1] else sample @ sample.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-10)


@pytest.mark.parametrize("text, value", [("zeros", 0.0), ("ones", 1.0), ("constant:-0.25", -0.25)])
def test_constant_initializer_is_exact(text, value):
    sample = sample_parameter(parse_init(text), (5, 3), seed=0, dtype="float32")
    assert np.all(sample == np.float32(value))


def test_equal_shaped_layers_get_different_values():
    config = mlp_config((20, 20, 20, 20), "tanh", "normal:1")
    parameters = initialize_parameters(config)
    assert not np.array_equal(parameters["W2"], parameters["W3"])


def test_initialization_depends_on_seed_only():
    config = mlp_config((20, 8, 3), "tanh", "glorot_uniform", "normal:0.1", seed=5)
    first = initialize_parameters(config)
    second = initialize_parameters(config)
    other_seed = initialize_parameters(config.replace(seed=6))
    for name in first:
        assert np.array_equal(first[name], second[name])
        assert not np.array_equal(first[name], other_seed[name])


def test_training_is_bit_reproducible(mnist):
    config = mlp_config((784, 32, 10), "tanh", "glorot_normal", steps=60, snapshot_steps=(60,), dropout_rate=0.2)
    first = train(config, mnist)
    second = train(config, mnist)
    assert np.array_equal(first.losses, second.losses)
    assert first.test_accuracy == second.test_accuracy
    for name, values in first.snapshots[60].items():
        assert np.array_equal(values, second.snapshots[60][name]), name


def test_training_depends_on_seed(mnist):
    config = mlp_config((784, 32, 10), "tanh", "glorot_normal", steps=30)
    assert not np.array_equal(train(config, mnist).losses, train(config.replace(seed=1), mnist).losses)


def test_result_records_software_facts(mnist):
    result = train(mlp_config((784, 10), "linear", "zeros", steps=2), mnist)
    for key in ("tf_version", "dtype", "onednn", "op_determinism", "seed", "wall_time_s"):
        assert key in result.metadata, key
    assert result.to_row()["config_hash"] == result.config.config_hash()


def test_sgd_step_matches_gradient(mnist):
    """One SGD step moves every parameter by exactly −η times its gradient on the first batch."""
    config = mlp_config((784, 16, 10), "sigmoid", "normal:0.1", steps=1, dtype="float64",
                        snapshot_steps=(0, 1), optimizer=OptimizerConfig("sgd", 0.3))
    result = train(config, mnist)
    from empirical.trainer import batch_indices, seed_streams

    first_batch = batch_indices(mnist.n_train, 100, 1, seed_streams(0)["data_order"])[0]
    _, gradients = compute_gradients(config, result.snapshots[0], mnist.x_train[first_batch], mnist.y_train[first_batch])
    for name, gradient in gradients.items():
        expected = result.snapshots[0][name] - 0.3 * gradient
        np.testing.assert_allclose(result.snapshots[1][name], expected, rtol=1e-12, atol=1e-15)


def test_adam_first_step_matches_formula(mnist):
    """Adam's first update is −η·g/(|g| + ε/√(1−β₂)) after bias correction."""
    config = mlp_config((784, 10), "linear", "normal:0.1", steps=1, dtype="float64",
                        snapshot_steps=(0, 1), optimizer=OptimizerConfig("adam", 1e-3))
    result = train(config, mnist)
    from empirical.trainer import batch_indices, seed_streams

    first_batch = batch_indices(mnist.n_train, 100, 1, seed_streams(0)["data_order"])[0]
    _, gradients = compute_gradients(config, result.snapshots[0], mnist.x_train[first_batch], mnist.y_train[first_batch])
    settings = config.optimizer
    for name, gradient in gradients.items():
        denominator = np.abs(gradient) + settings.epsilon / math.sqrt(1 - settings.beta_2)
        expected = result.snapshots[0][name] - settings.learning_rate * gradient / denominator
        np.testing.assert_allclose(result.snapshots[1][name], expected, rtol=1e-10, atol=1e-15)


SEEDS = (0, 1, 2)


@pytest.mark.parametrize("seed", SEEDS)
def test_sigmoid_zero_first_layer_learns(mnist, seed):
    config = mlp_config((784, 100, 10), "sigmoid", ("zeros", "normal:1"), seed=seed)
    assert train(config, mnist).test_accuracy >= 0.85


@pytest.mark.parametrize("seed", SEEDS)
def test_relu_zero_first_layer_stays_dead(mnist, seed):
    config = mlp_config((784, 100, 10), "relu", ("zeros", "normal:1"), seed=seed, snapshot_steps=(1000,))
    result = train(config, mnist)
    majority_rate = np.bincount(mnist.y_test).max() / mnist.n_test
    assert np.all(result.snapshots[1000]["W1"] == 0.0)
    assert abs(result.test_accuracy - majority_rate) <= 0.03


@pytest.mark.parametrize("dtype, min_agreement", [("float32", 0.995), ("float64", 1.0)])
def test_softmax_ones_predicts_like_zeros(mnist, dtype, min_agreement):
    """Softmax is shift-invariant, so W, b = ones trains exactly as zeros in exact arithmetic."""
    zeros = train(mlp_config((784, 10), "linear", "zeros", "zeros", dtype=dtype), mnist)
    ones = train(mlp_config((784, 10), "linear", "ones", "ones", dtype=dtype), mnist)
    agreement = np.mean(zeros.predictions == ones.predictions)
    assert agreement >= min_agreement


def test_cache_returns_identical_result(mnist, tmp_path):
    config = mlp_config((784, 8, 10), "relu", "he_normal", steps=20, snapshot_steps=(0, 20))
    cache = RunCache(tmp_path)
    first = train_cached(config, mnist, cache)
    second = train_cached(config, mnist, cache)
    assert config in cache
    assert np.array_equal(first.losses, second.losses)
    assert np.array_equal(first.snapshots[20]["W1"], second.snapshots[20]["W1"])
    assert second.test_accuracy == first.test_accuracy


def test_cache_ignores_corrupt_file(mnist, tmp_path):
    config = mlp_config((784, 10), "linear", "zeros", steps=5)
    cache = RunCache(tmp_path)
    cache.path(config).parent.mkdir(parents=True, exist_ok=True)
    cache.path(config).write_bytes(b"not an npz file")
    assert cache.load(config) is None


def test_config_round_trips_through_dict():
    config = mlp_config((784, 30, 10), "elu", ("he_uniform", "orthogonal:1.5"), ("constant:0.1", "zeros"),
                        optimizer=OptimizerConfig("adam", 1e-3), snapshot_steps=(0, 5), steps=5)
    assert RunConfig.from_dict(config.to_dict()) == config
    assert RunConfig.from_dict(config.to_dict()).config_hash() == config.config_hash()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"widths": (784,)}, "widths"),
        ({"activations": ("sigmoid", "tanh")}, "activations"),
        ({"activations": ("softmaxx",)}, "unknown activation"),
        ({"dtype": "float16"}, "dtype"),
        ({"loss": "hinge"}, "loss"),
        ({"dropout_rate": 1.0}, "dropout_rate"),
        ({"snapshot_steps": (2000,)}, "snapshot_steps"),
    ],
)
def test_config_rejects_invalid_settings(changes, message):
    base = mlp_config((784, 10, 10), "tanh", "zeros")
    with pytest.raises(InputError, match=message):
        base.replace(**changes)


def test_trainer_rejects_wrong_input_width(mnist):
    with pytest.raises(InputError, match="input width"):
        train(mlp_config((100, 10), "linear", "zeros", steps=1), mnist)


def test_trainer_rejects_wrong_parameter_shape(mnist):
    config = mlp_config((784, 10), "linear", "zeros", steps=1)
    with pytest.raises(InputError, match="shape"):
        train(config, mnist, parameters={"W1": np.zeros((10, 784)), "b1": np.zeros(10)})


@pytest.mark.parametrize("name", sorted(__import__("theory.activations", fromlist=["ACTIVATIONS"]).ACTIVATIONS))
def test_tensorflow_activation_matches_theory(name):
    """Each TensorFlow activation equals the theory's numpy form, and so does its gradient, kink included."""
    import tensorflow as tf

    from empirical.trainer import TF_ACTIVATIONS
    from theory.activations import get_activation

    points = np.concatenate([np.linspace(-8.0, 8.0, 4001), [0.0]])
    inputs = tf.constant(points, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        outputs = TF_ACTIVATIONS[name](inputs)
    gradients = tape.gradient(outputs, inputs).numpy()
    activation = get_activation(name)
    np.testing.assert_allclose(outputs.numpy(), activation(points), rtol=1e-13, atol=1e-15)
    # TensorFlow's tanh gradient is 1 − tanh², exact to a few ulps of 1 in absolute
    # terms only, so the absolute tolerance is 10 ulps of 1.
    np.testing.assert_allclose(gradients, activation.with_kink_convention(points), rtol=1e-12, atol=10 * np.finfo(float).eps)
