"""Train K runs of one architecture together, in one TensorFlow graph.

:func:`train_batched` stacks the parameters of K runs along a leading axis, so
``W1`` has shape ``(K, fan_in, fan_out)``, and computes every layer of every run
with batched matrix products on ``(K, batch, width)`` tensors. The runs may
differ in seed, initialization, learning rate (and the other optimizer
hyperparameters), activation and dropout rate. They must share the widths,
steps, batch size, dtype, loss and optimizer kind (see :func:`batch_key`).

Each run gets what :func:`empirical.trainer.train` would give it: the same
initial parameters (:func:`~empirical.trainer.initialize_parameters`), the same
data order (:func:`~empirical.trainer.batch_indices` on the run's seed), the same
dropout seeds and the same update rule. The runs do not interact, because the
summed loss that is differentiated has ∂(Σ_k loss_k)/∂W_k = ∂loss_k/∂W_k. The
results agree with the single-run trainer to rounding. Batched matrix products
may sum in another order than the 2-D products of the single trainer, so
float32 results differ by rounding that training amplifies, while the float64
results agree to about 1e-12 (both bounds are checked in tests/test_batched.py).

Runs are grouped by their activations: each group stacks its own variables and
has its own ops in the one graph, so no activation is computed for runs that do
not use it.

:func:`train_many` takes any list of configurations, reuses cached results,
groups the rest into compatible batches and saves each result as it finishes.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from empirical.cache import RunCache
from empirical.config import RunConfig
from empirical.data import Dataset
from empirical.trainer import (
    TF_ACTIVATIONS,
    RunResult,
    _check_dataset_fits,
    _progress_bar,
    batch_indices,
    initialize_parameters,
    loss_function,
    parameter_names,
    runtime_metadata,
    seed_streams,
)
from theory.errors import InputError

logger = logging.getLogger(__name__)

DEFAULT_MAX_BATCH_RUNS = 128
"""Largest number of runs :func:`train_many` puts in one batched graph.

The training inputs of one step take ``K × batch × widths[0]`` values, 40 MB for
128 runs of batch 100 on MNIST in float32, and evaluation stores
``K × n_examples × max(width)`` activations.
"""


def batch_key(config: RunConfig) -> tuple[Any, ...]:
    """Return what runs trained in one batch must share.

    SGD with momentum 0 and with momentum > 0 are different update rules in the
    single-run trainer, so they go to different batches.
    """
    optimizer = config.optimizer
    momentum_on = optimizer.name == "sgd" and optimizer.momentum > 0
    return (
        config.widths,
        config.steps,
        config.batch_size,
        config.dtype,
        config.loss,
        optimizer.name,
        momentum_on,
    )


def _describe_key(key: tuple[Any, ...]) -> str:
    widths, steps, batch_size, dtype, loss, optimizer, momentum_on = key
    return (
        f"widths={widths}, steps={steps}, batch_size={batch_size}, dtype={dtype}, "
        f"loss={loss}, optimizer={optimizer}, momentum={'on' if momentum_on else 'off'}"
    )


def _check_compatible(configs: Sequence[RunConfig]) -> None:
    if not configs:
        raise InputError("train_batched needs at least one configuration, got none")
    first = batch_key(configs[0])
    for index, config in enumerate(configs[1:], start=1):
        if batch_key(config) != first:
            raise InputError(
                f"configuration {index} cannot be batched with configuration 0: it has "
                f"{_describe_key(batch_key(config))}, but configuration 0 has {_describe_key(first)}; "
                f"use train_many to group configurations into compatible batches"
            )


@dataclasses.dataclass(frozen=True)
class _RunGroup:
    """Runs ``[start, stop)`` of the K axis, which share all their activations."""

    start: int
    stop: int
    activations: tuple[str, ...]


def _run_groups(configs: Sequence[RunConfig]) -> list[_RunGroup]:
    """Split ``configs`` into maximal contiguous stretches with equal activations."""
    groups = []
    start = 0
    for activations, members in itertools.groupby(config.activations for config in configs):
        stop = start + len(list(members))
        groups.append(_RunGroup(start, stop, activations))
        start = stop
    return groups


class BatchedMLP(tf.Module):
    """K networks of one architecture as stacked TensorFlow variables.

    Each group of runs with equal activations has its own variables, of shape
    ``(group size, fan_in, fan_out)`` for weights, and its own chain of ops. This
    is faster than one stack for all K runs with per-run activations applied to
    slices: the slices' gradients (zero-padded copies) cost more than the
    matrix products they saved, and independent groups run concurrently.
    """

    def __init__(self, configs: Sequence[RunConfig], parameters: Sequence[dict[str, np.ndarray]]):
        super().__init__(name="batched_mlp")
        first = configs[0]
        self.n_layers = first.n_layers
        self.dtype = tf.as_dtype(first.dtype)
        self.names = parameter_names(self.n_layers)
        self.groups = _run_groups(configs)
        self.group_variables: list[dict[str, tf.Variable]] = []
        for group in self.groups:
            self.group_variables.append({
                name: tf.Variable(np.stack([p[name] for p in parameters[group.start:group.stop]]),
                                  dtype=self.dtype, name=name)
                for name in self.names
            })
        self.trainable = [variables[name] for variables in self.group_variables for name in self.names]
        self.trainable_run_slices = [(g.start, g.stop) for g in self.groups for _ in self.names]
        self.dropout_rates = [config.dropout_rate for config in configs]

    def _dropout(self, h: tf.Tensor, group: _RunGroup, layer: int, dropout_seeds: tf.Tensor) -> tf.Tensor:
        """Drop units of each run with its own rate and the seed the single-run trainer uses."""
        rates = self.dropout_rates[group.start:group.stop]
        if not any(rate > 0 for rate in rates):
            return h
        parts = []
        for offset, rate in enumerate(rates):
            if rate > 0:
                seed = tf.stack([dropout_seeds[group.start + offset], tf.cast(layer, tf.int64)])
                parts.append(tf.nn.experimental.stateless_dropout(h[offset], rate=rate, seed=seed))
            else:
                parts.append(h[offset])
        return tf.stack(parts)

    def group_logits(self, index: int, x: tf.Tensor, dropout_seeds: tf.Tensor | None = None) -> tf.Tensor:
        """Forward pass of group ``index`` on ``x`` of shape ``(group size, batch, widths[0])``."""
        group = self.groups[index]
        variables = self.group_variables[index]
        h = x
        for layer in range(1, self.n_layers + 1):
            weights = variables[f"W{layer}"]  # (group size, fan_in, fan_out)
            biases = variables[f"b{layer}"]  # (group size, fan_out)
            z = tf.linalg.matmul(h, weights) + biases[:, tf.newaxis, :]  # (group size, batch, fan_out)
            if layer == self.n_layers:
                return z
            h = TF_ACTIVATIONS[group.activations[layer - 1]](z)
            if dropout_seeds is not None:
                h = self._dropout(h, group, layer, dropout_seeds)
        raise AssertionError("unreachable: the loop returns at the output layer")

    def _locate(self, k: int) -> tuple[dict[str, tf.Variable], int]:
        for group, variables in zip(self.groups, self.group_variables):
            if group.start <= k < group.stop:
                return variables, k - group.start
        raise IndexError(f"run {k} is not in any group")

    def snapshot(self, k: int) -> dict[str, np.ndarray]:
        """Return a copy of run ``k``'s parameters as numpy."""
        variables, offset = self._locate(k)
        return {name: variable[offset].numpy().copy() for name, variable in variables.items()}

    def parameters_of(self, k: int) -> dict[str, tf.Tensor]:
        """Return run ``k``'s parameters as tensors."""
        variables, offset = self._locate(k)
        return {name: variable[offset] for name, variable in variables.items()}


class BatchedOptimizer:
    """The update rules of :class:`empirical.trainer.Optimizer` with one hyperparameter per run.

    ``run_slices[i]`` is the range ``[start, stop)`` of runs that ``variables[i]`` stacks.
    """

    def __init__(self, configs: Sequence[RunConfig], variables: list[tf.Variable],
                 run_slices: list[tuple[int, int]]):
        first = configs[0].optimizer
        self.name = first.name
        self.momentum_on = first.name == "sgd" and first.momentum > 0
        self.dtype = tf.as_dtype(configs[0].dtype)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.run_slices = run_slices

        def per_run(field: str) -> np.ndarray:
            return np.array([getattr(c.optimizer, field) for c in configs])

        self.hyperparameters = {
            field: per_run(field) for field in ("learning_rate", "momentum", "beta_1", "beta_2", "epsilon")
        }
        self.first_moments = [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]
        self.second_moments = (
            [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables] if self.name == "adam" else []
        )

    def _per_run(self, field: str, index: int, variable: tf.Variable) -> tf.Tensor:
        """Return ``field`` of the runs of ``variables[index]``, shaped to broadcast against it."""
        start, stop = self.run_slices[index]
        values = self.hyperparameters[field][start:stop]
        shape = [stop - start] + [1] * (len(variable.shape) - 1)
        return tf.constant(values.reshape(shape), dtype=self.dtype)

    def apply(self, gradients: list[tf.Tensor], variables: list[tf.Variable]) -> None:
        """Apply one update to every run's variables."""
        self.step.assign_add(1)
        if self.name == "sgd":
            for index, (gradient, velocity, variable) in enumerate(zip(gradients, self.first_moments, variables)):
                rate = self._per_run("learning_rate", index, variable)
                if not self.momentum_on:
                    variable.assign_sub(rate * gradient)
                else:
                    momentum = self._per_run("momentum", index, variable)
                    velocity.assign(momentum * velocity - rate * gradient)
                    variable.assign_add(velocity)
            return

        step = tf.cast(self.step, self.dtype)
        for index, (gradient, m, v, variable) in enumerate(
                zip(gradients, self.first_moments, self.second_moments, variables)):
            beta_1 = self._per_run("beta_1", index, variable)
            beta_2 = self._per_run("beta_2", index, variable)
            rate = self._per_run("learning_rate", index, variable)
            corrected_rate = rate * tf.sqrt(1 - beta_2**step) / (1 - beta_1**step)
            m.assign(beta_1 * m + (1 - beta_1) * gradient)
            v.assign(beta_2 * v + (1 - beta_2) * tf.square(gradient))
            variable.assign_sub(corrected_rate * m / (tf.sqrt(v) + self._per_run("epsilon", index, variable)))


def _batched_loss(config: RunConfig, logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """Return the mean loss of each run, shape ``(K,)``, as :func:`empirical.trainer.loss_function` defines it."""
    if config.loss == "softmax_cross_entropy":
        per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        return tf.reduce_mean(per_example, axis=1)
    targets = tf.one_hot(labels, depth=config.widths[-1], dtype=logits.dtype)
    return tf.reduce_mean(tf.square(logits - targets), axis=[1, 2])


class BatchedTrainer:
    """K runs' stacked networks, optimizer and compiled training loop on one dataset."""

    def __init__(self, configs: Sequence[RunConfig], dataset: Dataset, *, jit_compile: bool = False):
        configs = list(configs)
        _check_compatible(configs)
        for config in configs:
            _check_dataset_fits(config, dataset)
        tf.config.experimental.enable_op_determinism()
        self.configs = configs
        self.first = configs[0]
        self.dataset = dataset
        self.jit_compile = jit_compile
        self.streams = [seed_streams(config.seed) for config in configs]
        self.model = BatchedMLP(configs, [initialize_parameters(config) for config in configs])
        self.optimizer = BatchedOptimizer(configs, self.model.trainable, self.model.trainable_run_slices)
        dtype = self.first.dtype
        self.x_train = tf.constant(dataset.x_train.astype(dtype))
        self.y_train = tf.constant(dataset.y_train.astype(np.int32))
        self.use_dropout = any(config.dropout_rate > 0 for config in configs)
        self.dropout_base_seeds = tf.constant(
            [int(s["dropout"].generate_state(1, dtype=np.uint32)[0]) for s in self.streams], dtype=tf.int64)
        if jit_compile:
            self._run_segment = tf.function(self._segment, jit_compile=True)
        else:
            self._run_segment = tf.function(self._segment, reduce_retracing=True)

    def _segment(self, indices: tf.Tensor, first_step: tf.Tensor) -> tf.Tensor:
        """Run ``indices.shape[0]`` updates of all runs; ``indices`` is ``(steps, K, batch)``."""
        n_steps = tf.shape(indices)[0]
        losses = tf.TensorArray(self.model.dtype, size=n_steps)
        # Slicing each group's indices once, outside the loop, also avoids wrong results that
        # XLA (TensorFlow 2.21, CPU) gave for indices[i, start:stop] with a loop counter i.
        indices_by_group = [indices[:, group.start:group.stop] for group in self.model.groups]
        for i in tf.range(n_steps):
            dropout_seeds = None
            if self.use_dropout:
                dropout_seeds = first_step + tf.cast(i, tf.int64) + self.dropout_base_seeds
            with tf.GradientTape() as tape:
                group_losses = []
                for index, group in enumerate(self.model.groups):
                    group_indices = indices_by_group[index][i]  # (group size, batch)
                    x = tf.gather(self.x_train, group_indices)  # (group size, batch, widths[0])
                    y = tf.gather(self.y_train, group_indices)
                    logits = self.model.group_logits(index, x, dropout_seeds)
                    group_losses.append(_batched_loss(self.first, logits, y))
                run_losses = tf.concat(group_losses, axis=0)  # (K,)
                total = tf.reduce_sum(run_losses)
            gradients = tape.gradient(total, self.model.trainable)
            self.optimizer.apply(gradients, self.model.trainable)
            losses = losses.write(i, run_losses)
        return losses.stack()  # (steps, K)

    def _evaluate(self, k: int, x: tf.Tensor, y: tf.Tensor) -> tuple[float, float, np.ndarray]:
        """Return run ``k``'s mean loss, accuracy and predictions, with the single-run trainer's ops."""
        config = self.configs[k]
        parameters = self.model.parameters_of(k)
        h = x
        for layer in range(1, config.n_layers + 1):
            h = h @ parameters[f"W{layer}"] + parameters[f"b{layer}"]
            if layer < config.n_layers:
                h = TF_ACTIVATIONS[config.activations[layer - 1]](h)
        loss = float(loss_function(config, h, y))
        predictions = tf.argmax(h, axis=1, output_type=tf.int32).numpy()
        accuracy = float(np.mean(predictions == y.numpy()))
        return loss, accuracy, predictions

    def run(self, progress: bool = False) -> list[RunResult]:
        """Train every run for ``steps`` updates, taking each run's requested snapshots."""
        started = time.perf_counter()
        first = self.first
        indices = np.stack(
            [batch_indices(self.dataset.n_train, first.batch_size, first.steps, s["data_order"])
             for s in self.streams],
            axis=1,
        )  # (steps, K, batch)
        requested = set().union(*(config.snapshot_steps for config in self.configs))
        boundaries = sorted(requested | {0, first.steps})
        snapshots: list[dict[int, dict[str, np.ndarray]]] = [{} for _ in self.configs]
        losses: list[np.ndarray] = []

        def take_snapshots(step: int) -> None:
            for k, config in enumerate(self.configs):
                if step in config.snapshot_steps:
                    snapshots[k][step] = self.model.snapshot(k)

        bar = _progress_bar(first.steps, progress)
        for start, stop in zip(boundaries[:-1], boundaries[1:]):
            take_snapshots(start)
            segment = tf.constant(indices[start:stop])
            losses.append(self._run_segment(segment, tf.constant(start, tf.int64)).numpy())
            bar.update(stop - start)
        bar.close()
        take_snapshots(first.steps)
        loss_curves = np.concatenate(losses) if losses else np.zeros((0, len(self.configs)))
        training_time = time.perf_counter() - started

        x_test = tf.constant(self.dataset.x_test.astype(first.dtype))
        y_test = tf.constant(self.dataset.y_test.astype(np.int32))
        base_metadata = runtime_metadata()
        results = []
        for k, config in enumerate(self.configs):
            final_loss, train_accuracy, _ = self._evaluate(k, self.x_train, self.y_train)
            test_loss, test_accuracy, predictions = self._evaluate(k, x_test, y_test)
            metadata = dict(base_metadata)
            metadata.update(
                dtype=config.dtype,
                seed=config.seed,
                # Each run's share of the batch's training time, so sums over runs stay meaningful.
                wall_time_s=training_time / len(self.configs),
                n_train=self.dataset.n_train,
                n_test=self.dataset.n_test,
                data_source=self.dataset.source,
                trainer="batched",
                batched_runs=len(self.configs),
                jit_compile=self.jit_compile,
            )
            results.append(RunResult(
                config=config,
                losses=loss_curves[:, k].copy(),
                train_accuracy=train_accuracy,
                test_accuracy=test_accuracy,
                final_loss=final_loss,
                test_loss=test_loss,
                snapshots=snapshots[k],
                predictions=predictions,
                metadata=metadata,
            ))
        return results


def train_batched(
    configs: Sequence[RunConfig],
    dataset: Dataset,
    *,
    jit_compile: bool = False,
    progress: bool = False,
) -> list[RunResult]:
    """Train every configuration on ``dataset`` in one batched graph, results in input order.

    Raises :class:`~theory.errors.InputError` when the configurations differ in
    anything :func:`batch_key` covers. ``jit_compile`` compiles the training loop
    with XLA.
    """
    configs = list(configs)
    _check_compatible(configs)
    # Sort by activations so that runs with equal activations form one contiguous group.
    order = sorted(range(len(configs)), key=lambda i: configs[i].activations)
    trainer = BatchedTrainer([configs[i] for i in order], dataset, jit_compile=jit_compile)
    sorted_results = trainer.run(progress=progress)
    results: list[RunResult | None] = [None] * len(configs)
    for position, index in enumerate(order):
        results[index] = sorted_results[position]
    return results  # type: ignore[return-value]


def group_compatible(configs: Sequence[RunConfig], max_runs: int = DEFAULT_MAX_BATCH_RUNS) -> list[list[int]]:
    """Group the indices of ``configs`` into batches :func:`train_batched` accepts, at most ``max_runs`` each.

    Groups keep the order in which their first configuration appears.
    """
    if max_runs < 1:
        raise InputError(f"max_runs must be at least 1, got {max_runs}")
    by_key: dict[tuple[Any, ...], list[int]] = {}
    for index, config in enumerate(configs):
        by_key.setdefault(batch_key(config), []).append(index)
    groups = []
    for indices in by_key.values():
        for start in range(0, len(indices), max_runs):
            groups.append(indices[start:start + max_runs])
    return groups


def train_many(
    configs: Sequence[RunConfig],
    dataset: Dataset,
    cache: RunCache | None = None,
    *,
    jit_compile: bool = False,
    max_runs: int = DEFAULT_MAX_BATCH_RUNS,
    progress: bool = False,
    on_result=None,
) -> list[RunResult]:
    """Train any list of configurations in batches, reusing and filling ``cache``; results in input order.

    Cached runs are loaded, not retrained. The rest are grouped by
    :func:`group_compatible` and trained with :func:`train_batched`, and each
    result is saved to ``cache`` as soon as its batch finishes. ``on_result``,
    when given, is called with the number of runs that just finished (cached or
    trained), for progress bars.
    """
    configs = list(configs)
    results: list[RunResult | None] = [None] * len(configs)
    missing: list[int] = []
    for index, config in enumerate(configs):
        cached = cache.load(config) if cache is not None else None
        if cached is None:
            missing.append(index)
        else:
            results[index] = cached
    if on_result is not None and len(missing) < len(configs):
        on_result(len(configs) - len(missing))

    # Duplicated configurations are trained once.
    unique: dict[RunConfig, list[int]] = {}
    for index in missing:
        unique.setdefault(configs[index], []).append(index)
    pending = list(unique)
    for group in group_compatible(pending, max_runs):
        group_configs = [pending[i] for i in group]
        logger.info("training %d runs in one batch (%s)", len(group_configs), group_configs[0].architecture)
        for config, result in zip(group_configs, train_batched(
                group_configs, dataset, jit_compile=jit_compile, progress=progress)):
            if cache is not None:
                cache.save(result)
            for index in unique[config]:
                results[index] = result
        if on_result is not None:
            on_result(sum(len(unique[config]) for config in group_configs))
    return results  # type: ignore[return-value]
