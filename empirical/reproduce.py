"""``initsym reproduce``: the classic MNIST initialization experiment, over seeds.

The grid is the one practitioners ran with the TensorFlow MNIST tutorial
(SGD with learning rate 0.5, batch 100, 1000 steps):

* softmax regression 784→10 with W and b both initialized by zeros, ones,
  normal σ = 1 (``tf.random_normal``) or truncated normal σ = 1;
* a 784-100-10 network with sigmoid, tanh or relu hidden units, biases zero,
  and (W1, W2) = (zeros, normal σ=1), (zeros, zeros) or (normal σ=1, normal σ=1).

Every configuration runs with several seeds. The command writes a tidy CSV
(one row per run, with every setting, the seed, the final accuracies and
losses, the wall time and the TensorFlow version, dtype and oneDNN setting), a
Markdown table of mean ± standard deviation of test accuracy per configuration,
and a figure with every seed as a point.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from empirical.cli_common import (
    add_data_arguments,
    add_output_argument,
    data_config_from_args,
    load_dataset_from_args,
)
from empirical.config import DataConfig, OptimizerConfig, RunConfig, mlp_config
from empirical.results import atomic_save_figure, atomic_write_text
from theory.errors import InputError

logger = logging.getLogger(__name__)

SOFTMAX_INITS = ("zeros", "ones", "normal:1", "truncated_normal:1")
HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu")
HIDDEN_INIT_PATTERNS = (("zeros", "normal:1"), ("zeros", "zeros"), ("normal:1", "normal:1"))


def classic_grid(
    seeds: Iterable[int] = range(5),
    *,
    steps: int = 1000,
    dtype: str = "float32",
    data: DataConfig = DataConfig(),
) -> list[RunConfig]:
    """Return the configurations of the classic experiment, seeds innermost."""
    settings = dict(
        optimizer=OptimizerConfig("sgd", learning_rate=0.5),
        batch_size=100,
        steps=steps,
        dtype=dtype,
        data=data,
    )
    configs: list[RunConfig] = []
    for spec in SOFTMAX_INITS:
        for seed in seeds:
            configs.append(mlp_config((784, 10), "linear", spec, spec, seed=seed, **settings))
    for activation in HIDDEN_ACTIVATIONS:
        for pattern in HIDDEN_INIT_PATTERNS:
            for seed in seeds:
                configs.append(
                    mlp_config((784, 100, 10), activation, pattern, "zeros", seed=seed, **settings))
    return configs


def configuration_label(row: pd.Series) -> str:
    """Return a short label such as ``softmax W,b=ones`` or ``sigmoid W1=zeros W2=normal:1``."""
    inits = row["weight_inits"].split(",")
    if row["architecture"].count("-") == 1:
        return f"softmax W,b={inits[0]}"
    weights = " ".join(f"W{i}={spec}" for i, spec in enumerate(inits, start=1))
    return f"{row['activation']} {weights}"


def run_grid(configs: Sequence[RunConfig], dataset, *, progress: bool = True) -> pd.DataFrame:
    """Train every configuration on ``dataset`` and return one row per run.

    Configurations that share the architecture's shapes are trained together by
    :func:`empirical.batched.train_many`, which agrees with one
    :func:`empirical.trainer.train` per run to rounding.
    """
    from tqdm.auto import tqdm

    from empirical.batched import train_many

    with tqdm(total=len(configs), desc="runs", unit="run", disable=not progress) as bar:
        results = train_many(configs, dataset, on_result=bar.update)
    rows = []
    for config, result in zip(configs, results):
        rows.append(result.to_row())
        logger.debug("%s seed %d: test accuracy %.4f", config.architecture, config.seed, result.test_accuracy)
    frame = pd.DataFrame(rows)
    frame.insert(0, "configuration", frame.apply(configuration_label, axis=1))
    return frame


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Return mean, standard deviation, min and max of test accuracy per configuration, in grid order."""
    order = list(dict.fromkeys(runs["configuration"]))
    grouped = runs.groupby("configuration", sort=False)["test_accuracy"]
    summary = grouped.agg(["mean", "std", "min", "max", "count"]).reindex(order)
    summary = summary.rename(columns={"count": "seeds"})
    return summary.reset_index()


def markdown_table(summary: pd.DataFrame) -> str:
    """Format the summary as a Markdown table of test accuracy in percent."""
    lines = [
        "| configuration | test accuracy (%), mean ± sd | min | max | seeds |",
        "|---|---|---|---|---|",
    ]
    for row in summary.itertuples(index=False):
        # One seed has no standard deviation; print the mean alone.
        spread = "" if pd.isna(row.std) else f" ± {100 * row.std:.2f}"
        lines.append(
            f"| {row.configuration} | {100 * row.mean:.2f}{spread} | "
            f"{100 * row.min:.2f} | {100 * row.max:.2f} | {row.seeds} |"
        )
    return "\n".join(lines) + "\n"


def plot_accuracy(runs: pd.DataFrame, path: Path) -> None:
    """Save a strip plot of test accuracy per configuration, one point per seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    runs = runs.assign(activation=runs["activation"].replace("none", "none (softmax regression)"))
    figure, axes = plt.subplots(figsize=(7.0, 4.2), layout="constrained")
    sns.stripplot(
        data=runs, y="configuration", x="test_accuracy", hue="activation",
        palette="colorblind", size=5, jitter=0.15, ax=axes,
    )
    axes.set_xlabel("test accuracy")
    axes.set_ylabel("")
    axes.set_xlim(0, 1)
    axes.grid(axis="x", alpha=0.3)
    atomic_save_figure(figure, path, dpi=200)
    plt.close(figure)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``initsym reproduce``."""
    parser.add_argument("--seeds", type=int, default=5, help="seeds per configuration (default: 5)")
    parser.add_argument("--steps", type=int, default=1000, help="SGD steps per run (default: 1000)")
    parser.add_argument(
        "--dtype", choices=("float32", "float64"), default="float32",
        help="floating-point type of the network (default: float32, as in the tutorial)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_data_arguments(parser)
    add_output_argument(parser, "reproduce")


def run(args: argparse.Namespace) -> int:
    """Run the classic grid, write its CSV, table and figure, and print the table."""
    if args.seeds < 1:
        raise InputError(f"--seeds must be at least 1, got {args.seeds}")
    if args.steps < 1:
        raise InputError(f"--steps must be at least 1, got {args.steps}")

    started = time.perf_counter()
    dataset = load_dataset_from_args(args)
    data = data_config_from_args(args)
    configs = classic_grid(range(args.seeds), steps=args.steps, dtype=args.dtype, data=data)
    logger.info("training %d runs (%d configurations x %d seed(s))", len(configs), len(configs) // args.seeds, args.seeds)

    runs = run_grid(configs, dataset, progress=not args.no_progress)
    summary = summarize(runs)
    table = markdown_table(summary)

    output: Path = args.output
    atomic_write_text(output / "runs.csv", runs.to_csv(index=False))
    atomic_write_text(output / "summary.md", table)
    plot_accuracy(runs, output / "accuracy.png")
    plot_accuracy(runs, output / "accuracy.pdf")

    elapsed = time.perf_counter() - started
    print(f"Classic MNIST initialization grid: {dataset.describe()}")
    seeds = "1 seed" if args.seeds == 1 else f"{args.seeds} seeds"
    print(f"SGD 0.5, batch 100, {args.steps} steps, {args.dtype}, {seeds} per configuration\n")
    print(table)
    print(f"Wrote {output / 'runs.csv'}, {output / 'summary.md'} and {output / 'accuracy.png'}")
    print(f"Total time: {elapsed:.1f} s")
    return 0

