"""Train one MLP on a dataset with TensorFlow 2, as configured by a :class:`RunConfig`.

The training loop is a ``tf.function`` around ``tf.GradientTape`` (not Keras
``fit``), with the steps between two snapshots run inside one graph loop.
The optimizers are written out rather than taken from Keras so that the update
rule is the one documented in :class:`~empirical.config.OptimizerConfig` and the
batched trainer can apply the same arithmetic.

Randomness. One :class:`numpy.random.SeedSequence` built from the run's seed is
split into independent streams: one seed per weight matrix and per bias vector
(each layer its own, because one Keras initializer instance seeded with an
integer returns identical values on every call and would make equal-shaped
layers identical), one stream for the order of the training examples, one for
dropout masks. Op determinism is switched on, so the same configuration gives
bit-identical results on one machine. Whether oneDNN is on (TensorFlow reads
``TF_ENABLE_ONEDNN_OPTS`` once, at import) is recorded with the result.

Parameter names are ``W1, b1, …, WL, bL`` counted from the input; ``Wl`` has
shape ``(fan_in, fan_out)`` and the network computes ``x @ W + b``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import platform
import time
from typing import Any

import numpy as np
import tensorflow as tf

from empirical.config import RunConfig
from empirical.data import Dataset
from theory.activations import LEAKY_RELU_SLOPE
from theory.errors import InputError
from theory.initializers import InitSpec

logger = logging.getLogger(__name__)


class _RetracingWarningFilter(logging.Filter):
    """Drop TensorFlow's retracing warning, which every new run's first trace triggers.

    Each :class:`Trainer` owns new variables, so its loop is traced once per run
    by design. Without the filter the warning would repeat for every run of a sweep.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


tf.get_logger().addFilter(_RetracingWarningFilter())

TF_ACTIVATIONS = {
    "linear": tf.identity,
    "sigmoid": tf.sigmoid,
    "tanh": tf.tanh,
    "relu": tf.nn.relu,
    # tf.nn.leaky_relu stores α as a float32 attribute (0.2000000029…), and in float64
    # tf.nn.gelu(approximate=False) departs from x·Φ(x) by up to 5e-9 (TF 2.21, CPU);
    # these forms are exact in the network's dtype and keep TensorFlow's slopes at 0.
    "leaky_relu": lambda x: tf.where(x > 0, x, tf.constant(LEAKY_RELU_SLOPE, dtype=x.dtype) * x),
    "elu": tf.nn.elu,
    "selu": tf.nn.selu,
    "softplus": tf.nn.softplus,
    "swish": tf.nn.silu,
    "gelu": lambda x: 0.5 * x * tf.math.erfc(-x / tf.constant(np.sqrt(2.0), dtype=x.dtype)),
    "erf": tf.math.erf,
}
"""TensorFlow form of every activation in :data:`theory.activations.ACTIVATIONS`."""

_SEED_STREAMS = ("parameters", "data_order", "dropout")


@dataclasses.dataclass
class RunResult:
    """Measurements of one training run.

    Attributes:
        config: the configuration that produced it.
        losses: training-batch loss before each update, shape ``(steps,)``.
        train_accuracy, test_accuracy: accuracy on the whole split after the
            last step.
        final_loss: mean loss on the whole training split after the last step.
        test_loss: mean loss on the test split after the last step.
        snapshots: parameters at each of ``config.snapshot_steps`` (a step s
            means after s updates), by parameter name.
        predictions: predicted test classes after the last step.
        metadata: TensorFlow and numpy versions, dtype, oneDNN, op
            determinism, seeds, wall time.
    """

    config: RunConfig
    losses: np.ndarray
    train_accuracy: float
    test_accuracy: float
    final_loss: float
    test_loss: float
    snapshots: dict[int, dict[str, np.ndarray]]
    predictions: np.ndarray
    metadata: dict[str, Any]

    def to_row(self) -> dict[str, Any]:
        """Return one flat row for a tidy results table."""
        config = self.config
        row: dict[str, Any] = {
            "architecture": config.architecture,
            "activation": ",".join(config.activations) or "none",
            "weight_inits": ",".join(str(spec) for spec in config.weight_inits),
            "bias_inits": ",".join(str(spec) for spec in config.bias_inits),
            "loss": config.loss,
            "optimizer": config.optimizer.name,
            "learning_rate": config.optimizer.learning_rate,
            "momentum": config.optimizer.momentum,
            "batch_size": config.batch_size,
            "steps": config.steps,
            "dropout_rate": config.dropout_rate,
            "dataset": config.data.name,
            "scaling": config.data.scaling,
            "seed": config.seed,
            "test_accuracy": self.test_accuracy,
            "train_accuracy": self.train_accuracy,
            "final_loss": self.final_loss,
            "test_loss": self.test_loss,
            "config_hash": config.config_hash(),
        }
        row.update(self.metadata)
        return row


def runtime_metadata() -> dict[str, Any]:
    """Return the software facts that decide floating-point results."""
    onednn_setting = os.environ.get("TF_ENABLE_ONEDNN_OPTS")
    try:
        from tensorflow.python.util import _pywrap_util_port

        built_with_onednn = bool(_pywrap_util_port.IsMklEnabled())
    except (ImportError, AttributeError):
        # NOTE: a private TensorFlow module; without it, trust the environment alone.
        built_with_onednn = True
    onednn_on = built_with_onednn and onednn_setting not in ("0", "false", "False")
    return {
        "tf_version": tf.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "onednn": onednn_on,
        "tf_enable_onednn_opts": onednn_setting if onednn_setting is not None else "unset",
        "op_determinism": True,
        "machine": platform.machine(),
    }


def seed_streams(seed: int) -> dict[str, np.random.SeedSequence]:
    """Split the run's seed into independent streams for parameters, data order and dropout."""
    if int(seed) != seed or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    children = np.random.SeedSequence(int(seed)).spawn(len(_SEED_STREAMS))
    return dict(zip(_SEED_STREAMS, children))


def _keras_initializer(spec: InitSpec, seed: int):
    """Return a fresh Keras initializer for ``spec`` seeded with ``seed``."""
    import keras

    initializers = keras.initializers
    if spec.is_constant:
        return initializers.Constant(spec.constant_value)
    if spec.kind == "normal":
        return initializers.RandomNormal(mean=0.0, stddev=spec.parameter, seed=seed)
    if spec.kind == "truncated_normal":
        # Keras's TruncatedNormal redraws values beyond two standard deviations and does
        # not rescale, exactly like tf.random.truncated_normal.
        return initializers.TruncatedNormal(mean=0.0, stddev=spec.parameter, seed=seed)
    if spec.kind == "uniform":
        return initializers.RandomUniform(minval=-spec.parameter, maxval=spec.parameter, seed=seed)
    if spec.kind == "orthogonal":
        return initializers.Orthogonal(gain=spec.parameter, seed=seed)
    by_name = {
        "glorot_normal": initializers.GlorotNormal,
        "glorot_uniform": initializers.GlorotUniform,
        "he_normal": initializers.HeNormal,
        "he_uniform": initializers.HeUniform,
        "lecun_normal": initializers.LecunNormal,
        "lecun_uniform": initializers.LecunUniform,
    }
    return by_name[spec.kind](seed=seed)


def sample_parameter(spec: InitSpec, shape: tuple[int, ...], seed: int, dtype: str) -> np.ndarray:
    """Draw one weight matrix or bias vector with Keras's semantics for ``spec``.

    Bias vectors of shape ``(n,)`` use the scheme's rule with fan_in = fan_out = n,
    as Keras does for a 1-D shape.
    """
    values = _keras_initializer(spec, seed)(shape, dtype=dtype)
    return np.asarray(values, dtype=dtype)


def parameter_names(n_layers: int) -> list[str]:
    """Return ``['W1', 'b1', …, 'WL', 'bL']``."""
    return [f"{kind}{layer}" for layer in range(1, n_layers + 1) for kind in ("W", "b")]


def initialize_parameters(config: RunConfig) -> dict[str, np.ndarray]:
    """Draw the initial parameters of ``config``, one derived seed per tensor."""
    parameter_seeds = seed_streams(config.seed)["parameters"].generate_state(2 * config.n_layers)
    parameters: dict[str, np.ndarray] = {}
    for layer in range(1, config.n_layers + 1):
        fan_in, fan_out = config.widths[layer - 1], config.widths[layer]
        weight_seed, bias_seed = (int(s) for s in parameter_seeds[2 * layer - 2: 2 * layer])
        parameters[f"W{layer}"] = sample_parameter(
            config.weight_inits[layer - 1], (fan_in, fan_out), weight_seed, config.dtype)
        parameters[f"b{layer}"] = sample_parameter(
            config.bias_inits[layer - 1], (fan_out,), bias_seed, config.dtype)
    return parameters


def batch_indices(n_examples: int, batch_size: int, steps: int, seed: np.random.SeedSequence) -> np.ndarray:
    """Return the training-example indices of every step, shape ``(steps, batch_size)``.

    The examples are visited in a fresh random permutation each epoch. A batch
    may span the end of one epoch and the start of the next.
    """
    if batch_size > n_examples:
        raise InputError(
            f"batch_size {batch_size} exceeds the {n_examples} training examples; use a smaller batch"
        )
    rng = np.random.default_rng(seed)
    n_needed = steps * batch_size
    n_epochs = -(-n_needed // n_examples) if n_needed else 0
    order = [rng.permutation(n_examples) for _ in range(n_epochs)]
    flat = np.concatenate(order) if order else np.zeros(0, dtype=np.int64)
    return flat[:n_needed].reshape(steps, batch_size).astype(np.int32)


class MLP(tf.Module):
    """The network of a :class:`RunConfig` as TensorFlow variables and a forward pass."""

    def __init__(self, config: RunConfig, parameters: dict[str, np.ndarray]):
        super().__init__(name="mlp")
        self.config = config
        self.dtype = tf.as_dtype(config.dtype)
        self.activations = [TF_ACTIVATIONS[name] for name in config.activations]
        self.variables_by_name = {
            name: tf.Variable(parameters[name], dtype=self.dtype, name=name)
            for name in parameter_names(config.n_layers)
        }
        self.trainable = [self.variables_by_name[name] for name in parameter_names(config.n_layers)]

    def logits(self, x: tf.Tensor, dropout_seed: tf.Tensor | None = None) -> tf.Tensor:
        """Forward pass; hidden activations get dropout when ``dropout_seed`` is given."""
        h = x  # (batch, widths[0])
        for layer in range(1, self.config.n_layers + 1):
            z = h @ self.variables_by_name[f"W{layer}"] + self.variables_by_name[f"b{layer}"]
            if layer == self.config.n_layers:
                return z  # (batch, widths[-1])
            h = self.activations[layer - 1](z)
            if dropout_seed is not None and self.config.dropout_rate > 0:
                seed = tf.stack([dropout_seed, tf.cast(layer, tf.int64)])
                h = tf.nn.experimental.stateless_dropout(h, rate=self.config.dropout_rate, seed=seed)
        raise AssertionError("unreachable: the loop returns at the output layer")

    def snapshot(self) -> dict[str, np.ndarray]:
        """Return a copy of every parameter as numpy."""
        return {name: variable.numpy().copy() for name, variable in self.variables_by_name.items()}


def loss_function(config: RunConfig, logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """Mean loss over the batch.

    Softmax cross-entropy is ``-log softmax(logits)[label]``; MSE is the mean over
    examples and classes of ``(logits - one_hot(label))²``, as Keras defines it.
    """
    if config.loss == "softmax_cross_entropy":
        return tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    targets = tf.one_hot(labels, depth=config.widths[-1], dtype=logits.dtype)
    return tf.reduce_mean(tf.square(logits - targets))


class Optimizer:
    """SGD with momentum or Adam, with the update rules of :class:`OptimizerConfig`."""

    def __init__(self, config: RunConfig, variables: list[tf.Variable]):
        self.settings = config.optimizer
        dtype = tf.as_dtype(config.dtype)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.first_moments = [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]
        self.second_moments = (
            [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]
            if self.settings.name == "adam" else []
        )
        self.learning_rate = tf.constant(self.settings.learning_rate, dtype=dtype)
        self.dtype = dtype

    def apply(self, gradients: list[tf.Tensor], variables: list[tf.Variable]) -> None:
        """Apply one update to ``variables``."""
        self.step.assign_add(1)
        settings = self.settings
        if settings.name == "sgd":
            for gradient, velocity, variable in zip(gradients, self.first_moments, variables):
                if settings.momentum == 0.0:
                    variable.assign_sub(self.learning_rate * gradient)
                else:
                    velocity.assign(settings.momentum * velocity - self.learning_rate * gradient)
                    variable.assign_add(velocity)
            return

        step = tf.cast(self.step, self.dtype)
        beta_1 = tf.constant(settings.beta_1, self.dtype)
        beta_2 = tf.constant(settings.beta_2, self.dtype)
        corrected_rate = self.learning_rate * tf.sqrt(1 - beta_2**step) / (1 - beta_1**step)
        for gradient, m, v, variable in zip(gradients, self.first_moments, self.second_moments, variables):
            m.assign(beta_1 * m + (1 - beta_1) * gradient)
            v.assign(beta_2 * v + (1 - beta_2) * tf.square(gradient))
            variable.assign_sub(corrected_rate * m / (tf.sqrt(v) + settings.epsilon))


class Trainer:
    """One run's network, optimizer and compiled training loop on one dataset."""

    def __init__(self, config: RunConfig, dataset: Dataset, parameters: dict[str, np.ndarray] | None = None):
        _check_dataset_fits(config, dataset)
        tf.config.experimental.enable_op_determinism()
        self.config = config
        self.dataset = dataset
        self.streams = seed_streams(config.seed)
        parameters = initialize_parameters(config) if parameters is None else parameters
        self.model = MLP(config, parameters)
        self.optimizer = Optimizer(config, self.model.trainable)
        dtype = config.dtype
        self.x_train = tf.constant(dataset.x_train.astype(dtype))
        self.y_train = tf.constant(dataset.y_train.astype(np.int32))
        self.x_test = tf.constant(dataset.x_test.astype(dtype))
        self.y_test = tf.constant(dataset.y_test.astype(np.int32))
        self.dropout_base_seed = int(self.streams["dropout"].generate_state(1, dtype=np.uint32)[0])
        self._run_segment = tf.function(self._segment, reduce_retracing=True)

    def _segment(self, indices: tf.Tensor, first_step: tf.Tensor) -> tf.Tensor:
        """Run ``len(indices)`` updates in one graph loop and return their batch losses."""
        n_steps = tf.shape(indices)[0]
        losses = tf.TensorArray(self.model.dtype, size=n_steps)
        for i in tf.range(n_steps):
            x = tf.gather(self.x_train, indices[i])  # (batch, widths[0])
            y = tf.gather(self.y_train, indices[i])  # (batch,)
            dropout_seed = None
            if self.config.dropout_rate > 0:
                dropout_seed = tf.cast(first_step + tf.cast(i, tf.int64), tf.int64) + self.dropout_base_seed
            with tf.GradientTape() as tape:
                loss = loss_function(self.config, self.model.logits(x, dropout_seed), y)
            gradients = tape.gradient(loss, self.model.trainable)
            self.optimizer.apply(gradients, self.model.trainable)
            losses = losses.write(i, loss)
        return losses.stack()

    def evaluate(self, x: tf.Tensor, y: tf.Tensor) -> tuple[float, float, np.ndarray]:
        """Return mean loss, accuracy and predicted classes on a whole split."""
        logits = self.model.logits(x)
        loss = float(loss_function(self.config, logits, y))
        predictions = tf.argmax(logits, axis=1, output_type=tf.int32).numpy()
        accuracy = float(np.mean(predictions == y.numpy()))
        return loss, accuracy, predictions

    def run(self, progress: bool = False) -> RunResult:
        """Train for ``config.steps`` updates, taking the requested snapshots."""
        started = time.perf_counter()
        config = self.config
        indices = batch_indices(self.dataset.n_train, config.batch_size, config.steps, self.streams["data_order"])
        boundaries = sorted(set(config.snapshot_steps) | {0, config.steps})
        snapshots: dict[int, dict[str, np.ndarray]] = {}
        losses: list[np.ndarray] = []

        bar = _progress_bar(config.steps, progress)
        for start, stop in zip(boundaries[:-1], boundaries[1:]):
            if start in config.snapshot_steps:
                snapshots[start] = self.model.snapshot()
            segment = tf.constant(indices[start:stop])
            losses.append(self._run_segment(segment, tf.constant(start, tf.int64)).numpy())
            bar.update(stop - start)
        bar.close()
        if config.steps in config.snapshot_steps:
            snapshots[config.steps] = self.model.snapshot()

        final_loss, train_accuracy, _ = self.evaluate(self.x_train, self.y_train)
        test_loss, test_accuracy, predictions = self.evaluate(self.x_test, self.y_test)
        metadata = runtime_metadata()
        metadata.update(
            dtype=config.dtype,
            seed=config.seed,
            wall_time_s=time.perf_counter() - started,
            n_train=self.dataset.n_train,
            n_test=self.dataset.n_test,
            data_source=self.dataset.source,
        )
        return RunResult(
            config=config,
            losses=np.concatenate(losses) if losses else np.zeros(0),
            train_accuracy=train_accuracy,
            test_accuracy=test_accuracy,
            final_loss=final_loss,
            test_loss=test_loss,
            snapshots=snapshots,
            predictions=predictions,
            metadata=metadata,
        )


def _check_dataset_fits(config: RunConfig, dataset: Dataset) -> None:
    if dataset.input_dim != config.widths[0]:
        raise InputError(
            f"the network's input width {config.widths[0]} does not match the data's "
            f"{dataset.input_dim} features; set widths[0] = {dataset.input_dim}"
        )
    n_classes = int(max(dataset.y_train.max(), dataset.y_test.max())) + 1
    if n_classes > config.widths[-1]:
        raise InputError(
            f"the data has {n_classes} classes but the network has {config.widths[-1]} outputs"
        )


def _progress_bar(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, unit="step", leave=False)


def train(
    config: RunConfig,
    dataset: Dataset,
    *,
    parameters: dict[str, np.ndarray] | None = None,
    progress: bool = False,
) -> RunResult:
    """Train the network of ``config`` on ``dataset`` and return what it measured.

    ``parameters`` replaces the drawn initialization (for experiments that set
    weights by hand); it must contain every ``W{l}`` and ``b{l}`` of the right shape.
    """
    if parameters is not None:
        _check_parameter_shapes(config, parameters)
    return Trainer(config, dataset, parameters).run(progress=progress)


def _check_parameter_shapes(config: RunConfig, parameters: dict[str, np.ndarray]) -> None:
    for layer in range(1, config.n_layers + 1):
        expected = {
            f"W{layer}": (config.widths[layer - 1], config.widths[layer]),
            f"b{layer}": (config.widths[layer],),
        }
        for name, shape in expected.items():
            if name not in parameters:
                raise InputError(f"parameters are missing {name!r} of shape {shape}")
            if tuple(np.shape(parameters[name])) != shape:
                raise InputError(
                    f"parameter {name!r} has shape {tuple(np.shape(parameters[name]))}, expected {shape}"
                )


def compute_gradients(
    config: RunConfig,
    parameters: dict[str, np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
) -> tuple[float, dict[str, np.ndarray]]:
    """Return the loss and the gradient of every parameter on one batch, without dropout."""
    _check_parameter_shapes(config, parameters)
    model = MLP(config, parameters)
    x_tensor = tf.constant(np.asarray(x, dtype=config.dtype))
    y_tensor = tf.constant(np.asarray(y, dtype=np.int32))
    with tf.GradientTape() as tape:
        loss = loss_function(config, model.logits(x_tensor), y_tensor)
    gradients = tape.gradient(loss, model.trainable)
    names = parameter_names(config.n_layers)
    return float(loss), {name: g.numpy() for name, g in zip(names, gradients)}
