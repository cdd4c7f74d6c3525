"""Tests of the batched trainer in empirical.batched against the single-run trainer.

Tolerances. In float64 the batched and the single-run trainer differ only in the
summation order inside matrix products, a few ulps per step, so results agree to
1e-12 after 20 steps. In float32 those ulps are 1e-7 and training amplifies
them, so loss curves and parameters agree to 1e-4 over 20 steps, and the test
predictions agree exactly for these short runs.
"""

from __future__ import annotations

import numpy as np
import pytest

from empirical.batched import group_compatible, train_batched, train_many
from empirical.cache import RunCache
from empirical.config import OptimizerConfig, mlp_config
from empirical.data import make_gaussian
from empirical.trainer import train
from theory.errors import InputError

FLOAT64_TOLERANCE = 1e-12
FLOAT32_TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def dataset():
    return make_gaussian(300, 100, 20, seed=0, dtype=np.float64)


def settings(**changes):
    base = dict(optimizer=OptimizerConfig("sgd", learning_rate=0.1), batch_size=16, steps=20,
                dtype="float64", snapshot_steps=(0, 7, 20))
    base.update(changes)
    return base


def mixed_configs(**changes):
    """Runs that differ in activation, seed, initialization and learning rate."""
    configs = [
        mlp_config((20, 12, 8, 10), "tanh", "glorot_normal", seed=0, **settings(**changes)),
        mlp_config((20, 12, 8, 10), "relu", "he_normal", "normal:0.1", seed=1, **settings(**changes)),
        mlp_config((20, 12, 8, 10), "tanh", "normal:1", seed=2, **settings(**changes)),
        mlp_config((20, 12, 8, 10), "sigmoid", ("zeros", "normal:1", "orthogonal:1"), seed=0,
                   **settings(**changes)),
    ]
    optimizer = configs[0].optimizer
    faster = OptimizerConfig(optimizer.name, learning_rate=0.3, momentum=optimizer.momentum)
    configs.append(configs[1].replace(optimizer=faster, seed=5))
    return configs


def max_difference(batched, single) -> float:
    """Return the largest absolute difference of losses, metrics and snapshots of two results."""
    differences = [
        np.max(np.abs(batched.losses - single.losses)),
        abs(batched.final_loss - single.final_loss),
        abs(batched.test_loss - single.test_loss),
    ]
    for step, parameters in single.snapshots.items():
        for name, values in parameters.items():
            differences.append(np.max(np.abs(batched.snapshots[step][name] - values)))
    return float(max(differences))


def test_float64_matches_single(dataset):
    configs = mixed_configs()
    batched = train_batched(configs, dataset)
    for config, result in zip(configs, batched):
        single = train(config, dataset)
        assert result.config == config
        assert max_difference(result, single) < FLOAT64_TOLERANCE
        assert np.array_equal(result.predictions, single.predictions)
        assert result.test_accuracy == single.test_accuracy


def test_float32_matches_single(dataset):
    configs = mixed_configs(dtype="float32")
    for config, result in zip(configs, train_batched(configs, dataset)):
        single = train(config, dataset)
        assert max_difference(result, single) < FLOAT32_TOLERANCE
        assert np.array_equal(result.predictions, single.predictions)


@pytest.mark.parametrize("optimizer", [
    OptimizerConfig("sgd", learning_rate=0.1, momentum=0.9),
    OptimizerConfig("adam", learning_rate=0.01),
])
def test_optimizers_match_single(dataset, optimizer):
    configs = mixed_configs(optimizer=optimizer)[-2:]
    configs[-1] = configs[-1].replace(optimizer=OptimizerConfig(
        optimizer.name, learning_rate=0.02, momentum=optimizer.momentum, beta_1=0.8))
    for config, result in zip(configs, train_batched(configs, dataset)):
        assert max_difference(result, train(config, dataset)) < FLOAT64_TOLERANCE


def test_mse_and_dropout_match_single(dataset):
    configs = [config.replace(loss="mse") for config in mixed_configs()]
    configs[0] = configs[0].replace(dropout_rate=0.3)
    configs[2] = configs[2].replace(dropout_rate=0.5)
    for config, result in zip(configs, train_batched(configs, dataset)):
        assert max_difference(result, train(config, dataset)) < FLOAT64_TOLERANCE


def test_softmax_regression_matches(dataset):
    configs = [mlp_config((20, 10), "linear", spec, spec, seed=seed, **settings())
               for spec in ("zeros", "normal:1") for seed in (0, 1)]
    for config, result in zip(configs, train_batched(configs, dataset)):
        assert max_difference(result, train(config, dataset)) < FLOAT64_TOLERANCE


def test_snapshots_per_run(dataset):
    configs = mixed_configs()
    configs[0] = configs[0].replace(snapshot_steps=(3,))
    configs[1] = configs[1].replace(snapshot_steps=())
    results = train_batched(configs, dataset)
    assert sorted(results[0].snapshots) == [3]
    assert results[1].snapshots == {}
    assert sorted(results[2].snapshots) == [0, 7, 20]


@pytest.mark.slow
def test_xla_matches_single(dataset):
    """XLA fuses and reorders float32 arithmetic, so only float tolerance applies."""
    configs = mixed_configs(dtype="float32")
    for config, result in zip(configs, train_batched(configs, dataset, jit_compile=True)):
        assert max_difference(result, train(config, dataset)) < FLOAT32_TOLERANCE


def test_rejects_different_widths(dataset):
    configs = [mlp_config((20, 12, 10), "tanh", "glorot_normal", **settings()),
               mlp_config((20, 16, 10), "tanh", "glorot_normal", **settings())]
    with pytest.raises(InputError, match="widths=\\(20, 16, 10\\)"):
        train_batched(configs, dataset)


@pytest.mark.parametrize("change", [
    {"steps": 10, "snapshot_steps": ()}, {"batch_size": 8}, {"dtype": "float32"}, {"loss": "mse"},
    {"optimizer": OptimizerConfig("adam", learning_rate=0.1)},
    {"optimizer": OptimizerConfig("sgd", learning_rate=0.1, momentum=0.5)},
])
def test_rejects_incompatible(dataset, change):
    first = mlp_config((20, 12, 10), "tanh", "glorot_normal", **settings())
    with pytest.raises(InputError, match="train_many"):
        train_batched([first, first.replace(**change)], dataset)


def test_rejects_empty(dataset):
    with pytest.raises(InputError, match="at least one"):
        train_batched([], dataset)


def test_rejects_mismatched_input(dataset):
    config = mlp_config((30, 12, 10), "tanh", "glorot_normal", **settings())
    with pytest.raises(InputError, match="input width"):
        train_batched([config], dataset)


def test_group_compatible_splits():
    small = mlp_config((20, 12, 10), "tanh", "glorot_normal", **settings())
    configs = [small, small.replace(steps=5, snapshot_steps=()), small.replace(seed=1), small.replace(seed=2)]
    assert group_compatible(configs) == [[0, 2, 3], [1]]
    assert group_compatible(configs, max_runs=2) == [[0, 2], [3], [1]]


def test_train_many_uses_cache(dataset, tmp_path):
    cache = RunCache(tmp_path)
    configs = mixed_configs() + [mlp_config((20, 10), "linear", "zeros", **settings())]
    first = train_many(configs[:2], dataset, cache)
    results = train_many(configs + [configs[0]], dataset, cache)
    assert len(list(tmp_path.glob("*.npz"))) == len(configs)
    assert np.array_equal(results[0].losses, first[0].losses)
    assert np.array_equal(results[-1].losses, results[0].losses)
    assert "trainer" not in results[0].metadata or results[0].metadata["trainer"] == "batched"
    for config, result in zip(configs, results):
        assert result.config == config
