"""Symmetry of a zero-initialized network, broken by floating-point roundoff.

In exact arithmetic the hidden units of a 784-100-10 sigmoid network that starts
from all zeros stay identical forever: every unit gets the same gradient, so the
network is a width-1 network in disguise. TensorFlow does not keep them
identical. This module measures and explains the difference:

* :func:`unit_difference_curve` trains the network with the project trainer and
  records the maximum difference between hidden units at chosen steps; with
  :func:`run_variant_in_subprocess` it does so with oneDNN off
  (``TF_ENABLE_ONEDNN_OPTS=0``, read once when TensorFlow is imported) or with
  op determinism off, which needs a fresh process each;
* :func:`first_asymmetric_op` replays the first updates op by op in eager mode
  and returns the first op whose output has unequal unit columns;
* :func:`linearized_growth` follows an antisymmetric perturbation along the
  exactly symmetric trajectory with forward-mode autodiff, which predicts how
  fast a roundoff difference grows;
* :func:`train_collapsed` trains the width-1 equivalent network, which is what a
  perfectly symmetric run reaches.

The experiment is the classic one: SGD with learning rate 0.5, batch 100,
softmax cross-entropy, on the bundled MNIST digits.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import subprocess
import sys
from typing import Any

import numpy as np

from empirical.config import OptimizerConfig, RunConfig, mlp_config
from empirical.symmetry_measure import unit_spread
from theory.errors import InputError

CURVE_STEPS = (1, 2, 3, 5, 10, 20, 50, 100, 200, 300, 500, 700, 1000)
"""Steps at which the unit difference is recorded (a step s means after s updates)."""

GROWTH_WINDOW = (100, 300)
"""Steps between which the measured and the predicted exponential growth rates are compared.

Before step 100 the float32 difference is within a few units of roundoff of the
weights, so new roundoff still reseeds it every step. After a few hundred steps
it is no longer small, so the linearization stops applying.
"""


def roundoff_config(dtype: str = "float32", steps: int = 1000, seed: int = 0, width: int = 100) -> RunConfig:
    """Return the all-zero 784-width-10 sigmoid network trained with SGD 0.5, batch 100."""
    return mlp_config(
        (784, width, 10), "sigmoid", "zeros", "zeros",
        optimizer=OptimizerConfig("sgd", learning_rate=0.5),
        batch_size=100, steps=steps, dtype=dtype, seed=seed,
    )


def hidden_unit_difference(parameters: dict[str, np.ndarray]) -> float:
    """Return the maximum difference between any two hidden units of a one-hidden-layer network.

    It is the larger of the unit spreads of the incoming weights with their bias
    and of the outgoing weights (see :func:`empirical.symmetry_measure.unit_spread`).
    """
    return max(
        unit_spread(parameters["W1"], 1),
        unit_spread(parameters["b1"], 0),
        unit_spread(parameters["W2"], 0),
    )


@dataclasses.dataclass
class DifferenceCurve:
    """The maximum difference between hidden units along one training run."""

    steps: list[int]
    differences: list[float]
    test_accuracy: float
    metadata: dict[str, Any]

    def growth_rate(self, window: tuple[int, int] = GROWTH_WINDOW) -> float:
        """Return the mean growth rate d ln(difference)/d step between the two window steps."""
        start, stop = window
        by_step = dict(zip(self.steps, self.differences))
        if start not in by_step or stop not in by_step:
            raise InputError(f"window {window} needs recorded steps {start} and {stop}; recorded: {self.steps}")
        if by_step[start] <= 0 or by_step[stop] <= 0:
            return math.nan
        return (math.log(by_step[stop]) - math.log(by_step[start])) / (stop - start)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def unit_difference_curve(dataset, dtype: str = "float32", steps: int = 1000, seed: int = 0) -> DifferenceCurve:
    """Train the roundoff network in this process and record the hidden-unit difference."""
    from empirical.trainer import train

    snapshot_steps = tuple(step for step in CURVE_STEPS if step <= steps)
    result = train(roundoff_config(dtype, steps, seed).replace(snapshot_steps=snapshot_steps), dataset)
    recorded = sorted(result.snapshots)
    return DifferenceCurve(
        steps=recorded,
        differences=[hidden_unit_difference(result.snapshots[step]) for step in recorded],
        test_accuracy=result.test_accuracy,
        metadata=result.metadata,
    )


def run_variant_in_subprocess(
    dtype: str, onednn: bool, determinism: bool, steps: int = 1000, seed: int = 0, data_path: str | None = None,
) -> DifferenceCurve:
    """Measure :func:`unit_difference_curve` in a fresh Python process.

    ``onednn=False`` sets ``TF_ENABLE_ONEDNN_OPTS=0`` before TensorFlow is
    imported. ``determinism=False`` replaces
    ``tf.config.experimental.enable_op_determinism``, which the trainer calls, by
    a no-op in that process, because TensorFlow 2.21 has no call that turns it
    off again.
    """
    environment = dict(os.environ)
    environment["TF_ENABLE_ONEDNN_OPTS"] = "1" if onednn else "0"
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    command = [
        sys.executable, "-m", "empirical.roundoff", "--dtype", dtype, "--steps", str(steps), "--seed", str(seed),
    ]
    if not determinism:
        command.append("--no-determinism")
    if data_path is not None:
        command += ["--data", str(data_path)]
    completed = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(
            f"roundoff subprocess {' '.join(command)} failed with exit status {completed.returncode}:\n"
            f"{completed.stderr[-2000:]}"
        )
    record = json.loads(completed.stdout.strip().splitlines()[-1])
    return DifferenceCurve(**record)


# ---------------------------------------------------------------------------
# The first op whose output has unequal unit columns.


@dataclasses.dataclass(frozen=True)
class OpRecord:
    """One op of the replayed training step and how far apart its unit columns are."""

    step: int
    op: str
    spread: float


def _replay_step(parameters: dict, x, y, learning_rate: float):
    """Apply one SGD step op by op, returning the new parameters and (name, output, unit axis) triples.

    The backward ops are the ones TensorFlow's registered gradients emit for this
    forward pass: ``MatMul`` with transposes, ``SigmoidGrad``, the loss gradient
    times 1/B for the mean, and ``Sum`` over the batch for a broadcast bias. The
    loss gradient's ops depend on whether op determinism is on. :func:`first_asymmetric_op`
    checks the resulting gradients against ``tf.GradientTape``.
    """
    import tensorflow as tf

    W1, b1, W2, b2 = (parameters[name] for name in ("W1", "b1", "W2", "b2"))
    batch = tf.cast(tf.shape(x)[0], W1.dtype)
    outputs = []
    z1_linear = tf.linalg.matmul(x, W1)
    outputs.append(("forward x @ W1 (MatMul)", z1_linear, 1))
    z1 = z1_linear + b1
    outputs.append(("forward + b1 (AddV2)", z1, 1))
    h = tf.sigmoid(z1)
    outputs.append(("forward sigmoid (Sigmoid)", h, 1))
    logits = tf.linalg.matmul(h, W2) + b2
    # The gradient of reduce_mean is the constant 1/B per example.
    per_example = tf.fill(tf.shape(y), tf.constant(1.0, W1.dtype) / batch)
    if _op_determinism_enabled():
        # With op determinism on, TensorFlow 2.21 computes the sparse loss as
        # −gather(log_softmax(logits), y), so the backward pass is the gather's
        # scatter followed by LogSoftmax's gradient g − Σg · exp(log_probs).
        log_probs = tf.nn.log_softmax(logits)
        scattered = -tf.one_hot(y, tf.shape(logits)[1], dtype=logits.dtype) * tf.expand_dims(per_example, -1)
        delta2 = scattered - tf.reduce_sum(scattered, axis=-1, keepdims=True) * tf.exp(log_probs)
    else:
        # The fused kernel's backprop, times the 1/B of the mean (not a division by B).
        _, backprop = tf.raw_ops.SparseSoftmaxCrossEntropyWithLogits(features=logits, labels=y)
        delta2 = tf.expand_dims(per_example, -1) * backprop
    grad_W2 = tf.linalg.matmul(h, delta2, transpose_a=True)
    outputs.append(("backward dW2 = hᵀ δ2 (MatMul, transpose_a)", grad_W2, 0))
    grad_b2 = tf.reduce_sum(delta2, axis=0)
    grad_h = tf.linalg.matmul(delta2, W2, transpose_b=True)
    outputs.append(("backward δ2 W2ᵀ (MatMul, transpose_b)", grad_h, 1))
    delta1 = tf.raw_ops.SigmoidGrad(y=h, dy=grad_h)
    outputs.append(("backward sigmoid (SigmoidGrad)", delta1, 1))
    grad_W1 = tf.linalg.matmul(x, delta1, transpose_a=True)
    outputs.append(("backward dW1 = xᵀ δ1 (MatMul, transpose_a)", grad_W1, 1))
    grad_b1 = tf.reduce_sum(delta1, axis=0)
    outputs.append(("backward db1 (Sum over batch)", grad_b1, 0))
    rate = tf.constant(learning_rate, W1.dtype)
    updated = {
        "W1": W1 - rate * grad_W1,
        "b1": b1 - rate * grad_b1,
        "W2": W2 - rate * grad_W2,
        "b2": b2 - rate * grad_b2,
    }
    outputs.append(("update W1 -= η dW1 (Mul, Sub)", updated["W1"], 1))
    outputs.append(("update b1 -= η db1 (Mul, Sub)", updated["b1"], 0))
    outputs.append(("update W2 -= η dW2 (Mul, Sub)", updated["W2"], 0))
    gradients = {"W1": grad_W1, "b1": grad_b1, "W2": grad_W2, "b2": grad_b2}
    return updated, outputs, gradients


def _op_determinism_enabled() -> bool:
    # NOTE: a private TensorFlow module (2.21); without it, assume determinism is off.
    try:
        from tensorflow.python.framework import config as tf_config

        return bool(tf_config.is_op_determinism_enabled())
    except (ImportError, AttributeError):
        return False


def first_asymmetric_op(dataset, dtype: str = "float32", max_steps: int = 20, seed: int = 0) -> dict[str, Any]:
    """Replay the first updates op by op and return the first op with unequal unit columns.

    Op determinism is switched on first, as the trainer does. Also checks that
    the replayed gradients equal ``tf.GradientTape``'s bit for bit, so the
    replay uses the same kernels as eager training. Returns a
    dictionary with the step (1 = the first update), the op, its spread across
    units, whether the replay matched the tape, and every op record up to that
    point.
    """
    import tensorflow as tf

    from empirical.trainer import batch_indices, initialize_parameters, seed_streams

    tf.config.experimental.enable_op_determinism()
    config = roundoff_config(dtype, max_steps, seed)
    indices = batch_indices(dataset.n_train, config.batch_size, max_steps, seed_streams(seed)["data_order"])
    parameters = {name: tf.constant(value) for name, value in initialize_parameters(config).items()}
    x_all = tf.constant(dataset.x_train.astype(dtype))
    y_all = tf.constant(dataset.y_train.astype(np.int32))
    records: list[OpRecord] = []
    replay_matches_tape = True
    for step in range(1, max_steps + 1):
        x = tf.gather(x_all, indices[step - 1])
        y = tf.gather(y_all, indices[step - 1])
        updated, outputs, gradients = _replay_step(parameters, x, y, config.optimizer.learning_rate)
        replay_matches_tape &= _replay_matches_tape(parameters, x, y, gradients)
        for name, tensor, axis in outputs:
            spread = unit_spread(tensor.numpy(), axis)
            records.append(OpRecord(step, name, spread))
            if spread > 0:
                return {
                    "step": step, "op": name, "spread": spread, "dtype": dtype,
                    "replay_matches_tape": bool(replay_matches_tape),
                    "records": [dataclasses.asdict(record) for record in records],
                }
        parameters = updated
    return {
        "step": None, "op": None, "spread": 0.0, "dtype": dtype,
        "replay_matches_tape": bool(replay_matches_tape),
        "records": [dataclasses.asdict(record) for record in records],
    }


def _replay_matches_tape(parameters: dict, x, y, gradients: dict) -> bool:
    import tensorflow as tf

    variables = {name: tf.Variable(value) for name, value in parameters.items()}
    with tf.GradientTape() as tape:
        hidden = tf.sigmoid(tf.linalg.matmul(x, variables["W1"]) + variables["b1"])
        logits = tf.linalg.matmul(hidden, variables["W2"]) + variables["b2"]
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    names = ("W1", "b1", "W2", "b2")
    taped = tape.gradient(loss, [variables[name] for name in names])
    return all(np.array_equal(t.numpy(), gradients[name].numpy()) for t, name in zip(taped, names))


def first_asymmetric_step_in_trainer(dataset, dtype: str = "float32", max_steps: int = 20, seed: int = 0) -> int | None:
    """Return the first update after which the trainer's compiled loop has unequal hidden units."""
    from empirical.trainer import train

    config = roundoff_config(dtype, max_steps, seed).replace(snapshot_steps=tuple(range(1, max_steps + 1)))
    result = train(config, dataset)
    for step in sorted(result.snapshots):
        if hidden_unit_difference(result.snapshots[step]) > 0:
            return step
    return None


# ---------------------------------------------------------------------------
# The exactly symmetric trajectory: the width-1 network.


def _collapsed_learning_rates(learning_rate: float, width: int) -> dict[str, float]:
    """Return the SGD learning rate of each parameter of the width-1 equivalent network.

    The factors come from :func:`theory.symmetry.collapse`: W1 and b1 take η/n and
    W2 takes η·n for a hidden layer of n tied units.
    """
    from theory.symmetry import collapse as collapse_network

    network = collapse_network((1, width, 1), tied_layers=[1])
    weight_factors = [float(factor) for factor in network.weight_factors]
    bias_factors = [float(factor) for factor in network.bias_factors]
    return {
        "W1": learning_rate * weight_factors[0],
        "b1": learning_rate * bias_factors[0],
        "W2": learning_rate * weight_factors[1],
        "b2": learning_rate * bias_factors[1],
    }


def collapse(parameters: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Return the width-1 parameters of a network whose hidden units are all equal (unit 0 is kept)."""
    width = parameters["W1"].shape[1]
    return {
        "W1": parameters["W1"][:, :1].copy(),
        "b1": parameters["b1"][:1].copy(),
        "W2": width * parameters["W2"][:1, :],
        "b2": parameters["b2"].copy(),
    }


def expand(collapsed: dict[str, np.ndarray], width: int) -> dict[str, np.ndarray]:
    """Return the width-``width`` network with every hidden unit equal to the collapsed unit."""
    return {
        "W1": np.repeat(collapsed["W1"], width, axis=1),
        "b1": np.repeat(collapsed["b1"], width),
        "W2": np.repeat(collapsed["W2"] / width, width, axis=0),
        "b2": collapsed["b2"].copy(),
    }


@dataclasses.dataclass
class CollapsedRun:
    """The width-1 equivalent network trained along the exactly symmetric trajectory."""

    dtype: str
    test_accuracy: float
    train_accuracy: float
    trajectory: list[dict[str, np.ndarray]]


def train_collapsed(dataset, dtype: str = "float32", steps: int = 1000, seed: int = 0, width: int = 100,
                    keep_trajectory: bool = False) -> CollapsedRun:
    """Train the width-1 equivalent of :func:`roundoff_config` with the same batches.

    ``keep_trajectory`` stores the collapsed parameters before every update
    (``steps`` entries), which :func:`linearized_growth` needs.
    """
    import tensorflow as tf

    from empirical.trainer import batch_indices, seed_streams

    config = roundoff_config(dtype, steps, seed, width)
    rates = _collapsed_learning_rates(config.optimizer.learning_rate, width)
    indices = batch_indices(dataset.n_train, config.batch_size, steps, seed_streams(seed)["data_order"])
    variables = {
        "W1": tf.Variable(tf.zeros((784, 1), dtype)), "b1": tf.Variable(tf.zeros((1,), dtype)),
        "W2": tf.Variable(tf.zeros((1, 10), dtype)), "b2": tf.Variable(tf.zeros((10,), dtype)),
    }
    names = list(variables)
    rate_tensors = [tf.constant(rates[name], dtype) for name in names]
    x_all = tf.constant(dataset.x_train.astype(dtype))
    y_all = tf.constant(dataset.y_train.astype(np.int32))

    @tf.function
    def step(batch):
        x = tf.gather(x_all, batch)
        y = tf.gather(y_all, batch)
        with tf.GradientTape() as tape:
            logits = _collapsed_logits(variables, x)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        gradients = tape.gradient(loss, [variables[name] for name in names])
        for name, rate, gradient in zip(names, rate_tensors, gradients):
            variables[name].assign_sub(rate * gradient)

    trajectory = []
    for batch in indices:
        if keep_trajectory:
            trajectory.append({name: variable.numpy().copy() for name, variable in variables.items()})
        step(tf.constant(batch))

    def accuracy(x, y):
        logits = _collapsed_logits(variables, tf.constant(x.astype(dtype)))
        return float(np.mean(np.argmax(logits.numpy(), axis=1) == y))

    return CollapsedRun(
        dtype=dtype,
        test_accuracy=accuracy(dataset.x_test, dataset.y_test),
        train_accuracy=accuracy(dataset.x_train, dataset.y_train),
        trajectory=trajectory,
    )


def _collapsed_logits(variables, x):
    import tensorflow as tf

    hidden = tf.sigmoid(tf.linalg.matmul(x, variables["W1"]) + variables["b1"])
    return tf.linalg.matmul(hidden, variables["W2"]) + variables["b2"]


# ---------------------------------------------------------------------------
# Linearized growth of an antisymmetric perturbation.


def linearized_growth(dataset, collapsed: CollapsedRun, width: int = 100, seed: int = 0,
                      perturbation_seed: int = 1) -> dict[str, np.ndarray]:
    """Follow an antisymmetric perturbation along the symmetric trajectory, to first order.

    At each update t the full width-``width`` network sits at the expanded
    symmetric point θ_t, and one SGD step is the map θ ↦ θ − η∇L_t(θ). Its
    Jacobian-vector product J_t v (forward-mode autodiff of the gradient, with
    ``tf.autodiff.ForwardAccumulator`` around ``tf.GradientTape``) moves the
    perturbation v one step. The perturbation starts as +u on hidden unit 0 and
    −u on unit 1 (u random over incoming weights, bias and outgoing weights), so
    it stays antisymmetric and measures how fast two units drift apart. It is
    renormalized after each step.

    Returns ``log_growth``, the cumulative ln of the unit spread of v relative to
    its start, one entry per step after each update, in float64.
    """
    import tensorflow as tf

    from empirical.trainer import batch_indices, seed_streams

    steps = len(collapsed.trajectory)
    if steps == 0:
        raise InputError("the collapsed run has no stored trajectory; train it with keep_trajectory=True")
    dtype = tf.float64
    config = roundoff_config("float64", steps, seed, width)
    indices = batch_indices(dataset.n_train, config.batch_size, steps, seed_streams(seed)["data_order"])
    x_all = tf.constant(dataset.x_train.astype(np.float64))
    y_all = tf.constant(dataset.y_train.astype(np.int32))
    rate = tf.constant(config.optimizer.learning_rate, dtype)
    names = ("W1", "b1", "W2", "b2")

    rng = np.random.default_rng(perturbation_seed)
    tangent = {name: np.zeros_like(value, dtype=np.float64) for name, value in expand(
        {key: value.astype(np.float64) for key, value in collapsed.trajectory[0].items()}, width).items()}
    direction = {"W1": rng.standard_normal(784), "b1": rng.standard_normal(), "W2": rng.standard_normal(10)}
    tangent["W1"][:, 0], tangent["W1"][:, 1] = direction["W1"], -direction["W1"]
    tangent["b1"][0], tangent["b1"][1] = direction["b1"], -direction["b1"]
    tangent["W2"][0], tangent["W2"][1] = direction["W2"], -direction["W2"]

    @tf.function
    def push(primals, tangents, batch):
        x = tf.gather(x_all, batch)
        y = tf.gather(y_all, batch)
        with tf.autodiff.ForwardAccumulator(primals, tangents) as accumulator:
            with tf.GradientTape() as tape:
                tape.watch(primals)
                hidden = tf.sigmoid(tf.linalg.matmul(x, primals[0]) + primals[1])
                logits = tf.linalg.matmul(hidden, primals[2]) + primals[3]
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
            gradients = tape.gradient(loss, primals)
        return [v - rate * accumulator.jvp(g) for v, g in zip(tangents, gradients)]

    log_growth = np.zeros(steps)
    total = 0.0
    spread = _tangent_spread(tangent)
    for t in range(steps):
        point = expand({key: value.astype(np.float64) for key, value in collapsed.trajectory[t].items()}, width)
        primals = [tf.constant(point[name]) for name in names]
        tangents = [tf.constant(tangent[name] / spread) for name in names]
        pushed = push(primals, tangents, tf.constant(indices[t]))
        tangent = {name: value.numpy() for name, value in zip(names, pushed)}
        spread = _tangent_spread(tangent)
        total += math.log(spread)
        log_growth[t] = total
    return {"log_growth": log_growth}


def _tangent_spread(tangent: dict[str, np.ndarray]) -> float:
    return hidden_unit_difference(tangent)


def predicted_growth_rate(log_growth: np.ndarray, window: tuple[int, int] = GROWTH_WINDOW) -> float:
    """Return the mean of d ln(spread)/d step of the linearized perturbation over ``window``.

    ``log_growth[t - 1]`` is the cumulative log growth after t updates.
    """
    start, stop = window
    if stop > len(log_growth):
        raise InputError(f"window {window} extends beyond the {len(log_growth)} linearized steps")
    return float((log_growth[stop - 1] - log_growth[start - 1]) / (stop - start))


# ---------------------------------------------------------------------------
# Command-line entry for the subprocess variants.


def main(argv: list[str] | None = None) -> int:
    """Measure one difference curve and print it as one JSON line (used by the subprocess variants)."""
    parser = argparse.ArgumentParser(description="Measure the hidden-unit difference of the all-zero sigmoid network.")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32", help="floating-point type")
    parser.add_argument("--steps", type=int, default=1000, help="number of SGD updates (default: 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data order (default: 0)")
    parser.add_argument("--data", default=None, help="MNIST path, as for initsym --data; default: bundled subset")
    parser.add_argument("--no-determinism", action="store_true", help="leave TensorFlow op determinism off")
    args = parser.parse_args(argv)

    import tensorflow as tf

    if args.no_determinism:
        tf.config.experimental.enable_op_determinism = lambda: None
    from empirical.data import load_mnist

    dataset = load_mnist(args.data, dtype="float32")
    curve = unit_difference_curve(dataset, args.dtype, args.steps, args.seed)
    curve.metadata["op_determinism"] = not args.no_determinism
    print(json.dumps(curve.to_dict(), default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
