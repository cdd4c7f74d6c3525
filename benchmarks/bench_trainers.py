"""Time three ways to train the 21-configuration classic MNIST sweep, and the machine's matmul rate.

(a) one Keras ``model.fit`` per run, as a user would write it (Sequential Dense
layers, SGD 0.5, batch 100, 1000 steps); (b) one ``empirical.trainer.train``
per run; (c) ``empirical.batched.train_many`` on all runs. The model FLOPs of a
run are counted as 2·batch·fan_in·fan_out per layer for the forward pass, the
same for every weight gradient, and again for every input gradient except the
first layer's. Each method's FLOP rate is printed as a fraction of the
float32 rate of one large ``tf.matmul`` measured in the same process.

(a) and (b) can be timed on a subsample of the runs (``--sample``), evenly
spread over the grid, and are then extrapolated to the whole grid; the output
says so.

Usage: python benchmarks/bench_trainers.py [--seeds 5] [--sample 21] [--steps 1000]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

from empirical.batched import train_many  # noqa: E402
from empirical.config import OptimizerConfig, mlp_config  # noqa: E402
from empirical.data import load_mnist  # noqa: E402
from empirical.reproduce import classic_grid  # noqa: E402
from empirical.trainer import initialize_parameters, train  # noqa: E402

EXTRA_SOFTMAX_INITS = ("glorot_uniform", "he_normal")
EXTRA_HIDDEN_INITS = ("he_normal", "glorot_uniform")
HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu")


def classic_21_grid(seeds, steps):
    """Return the 13 classic configurations plus 8 extras, seeds innermost.

    The extras are softmax regression with W initialized by glorot_uniform or
    he_normal (b zeros), and 784-100-10 with both weight matrices he_normal or
    glorot_uniform (biases zeros) for each of sigmoid, tanh and relu.
    """
    configs = classic_grid(seeds, steps=steps)
    settings = dict(optimizer=OptimizerConfig("sgd", learning_rate=0.5), batch_size=100, steps=steps)
    for spec in EXTRA_SOFTMAX_INITS:
        for seed in seeds:
            configs.append(mlp_config((784, 10), "linear", spec, "zeros", seed=seed, **settings))
    for activation in HIDDEN_ACTIVATIONS:
        for spec in EXTRA_HIDDEN_INITS:
            for seed in seeds:
                configs.append(mlp_config((784, 100, 10), activation, spec, "zeros", seed=seed, **settings))
    return configs


def training_flops(config) -> float:
    """Return the model FLOPs of ``config.steps`` SGD steps (forward, weight and input gradients)."""
    per_step = 0.0
    for layer in range(config.n_layers):
        matmul = 2.0 * config.batch_size * config.widths[layer] * config.widths[layer + 1]
        per_step += 2 * matmul + (matmul if layer > 0 else 0.0)
    return per_step * config.steps


def matmul_rate(n: int = 4096, repeats: int = 5) -> float:
    """Return the float32 FLOP rate of one n×n by n×n ``tf.matmul``, best of ``repeats``."""
    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    multiply = tf.function(tf.linalg.matmul)
    multiply(a, b).numpy()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        multiply(a, b).numpy()
        best = min(best, time.perf_counter() - started)
    return 2.0 * n**3 / best


def keras_fit(config, dataset) -> float:
    """Train ``config`` with Keras ``model.fit`` and return its test accuracy."""
    import keras

    keras.utils.set_random_seed(config.seed)  # op determinism is on, so shuffling needs a seed
    parameters = initialize_parameters(config)
    model = keras.Sequential([keras.Input((config.widths[0],))])
    for layer in range(1, config.n_layers + 1):
        activation = config.activations[layer - 1] if layer < config.n_layers else None
        model.add(keras.layers.Dense(config.widths[layer], activation=activation))
    model.set_weights([parameters[f"{kind}{layer}"] for layer in range(1, config.n_layers + 1) for kind in "Wb"])
    model.compile(optimizer=keras.optimizers.SGD(config.optimizer.learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    x = dataset.x_train.astype("float32")
    # 1000 steps are 25 epochs of 40 batches on the 4,000 bundled digits. Other step counts
    # round up to whole epochs.
    steps_per_epoch = dataset.n_train // config.batch_size
    epochs = -(-config.steps // steps_per_epoch)
    model.fit(x, dataset.y_train, batch_size=config.batch_size, epochs=epochs,
              steps_per_epoch=min(steps_per_epoch, config.steps), verbose=0, shuffle=True)
    return model.evaluate(dataset.x_test.astype("float32"), dataset.y_test, verbose=0)[1]


def time_runs(function, configs, dataset) -> float:
    started = time.perf_counter()
    for config in configs:
        function(config, dataset)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds per configuration (default: 5)")
    parser.add_argument("--steps", type=int, default=1000, help="SGD steps per run (default: 1000)")
    parser.add_argument("--sample", type=int, default=21,
                        help="runs timed for (a) and (b), then extrapolated (default: 21)")
    args = parser.parse_args()

    dataset = load_mnist()
    configs = classic_21_grid(range(args.seeds), args.steps)
    n_runs = len(configs)
    sample = [configs[int(i)] for i in np.linspace(0, n_runs - 1, min(args.sample, n_runs)).round()]
    total_flops = sum(training_flops(config) for config in configs)
    sample_flops = sum(training_flops(config) for config in sample)
    scale = total_flops / sample_flops

    peak = matmul_rate()
    print(f"grid: {n_runs} runs ({n_runs // args.seeds} configurations x {args.seeds} seeds), "
          f"{args.steps} steps, batch 100, {dataset.describe()}")
    print(f"model FLOPs of the grid: {total_flops / 1e12:.2f} TFLOP")
    print(f"dense float32 matmul rate (4096x4096, tf.matmul): {peak / 1e9:.1f} GFLOP/s")
    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPUs visible\n")

    keras_fit(sample[0], dataset)  # warm-up: imports and first compilations
    train(sample[0], dataset)
    timings = {}
    timings["(a) keras fit per run"] = time_runs(keras_fit, sample, dataset) * scale
    timings["(b) trainer.train per run"] = time_runs(train, sample, dataset) * scale
    started = time.perf_counter()
    train_many(configs, dataset)
    timings["(c) batched train_many"] = time.perf_counter() - started
    started = time.perf_counter()
    train_many(configs, dataset, jit_compile=True)
    timings["(c') batched, XLA"] = time.perf_counter() - started

    if len(sample) < n_runs:
        print(f"(a) and (b) timed on {len(sample)} of {n_runs} runs and scaled by their FLOP share "
              f"(x{scale:.2f}); (c) timed on all runs\n")
    baseline = timings["(a) keras fit per run"]
    print(f"{'method':28s} {'time (s)':>9s} {'GFLOP/s':>8s} {'of matmul':>9s} {'speed-up vs (a)':>15s}")
    for name, seconds in timings.items():
        rate = total_flops / seconds
        print(f"{name:28s} {seconds:9.1f} {rate / 1e9:8.1f} {rate / peak:9.1%} {baseline / seconds:15.1f}")


if __name__ == "__main__":
    main()
