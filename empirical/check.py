"""``initsym check``: every theory prediction beside a TensorFlow measurement, as one table.

The command runs four groups of comparisons and prints one row per comparison:
quantity, prediction, measurement, tolerance and how it was derived, verdict.
It writes the same table to ``<output>/check.csv`` and the software facts
(TensorFlow version, dtype, oneDNN, seeds, run time) to
``<output>/check_metadata.json``, both atomically. The groups are

1. per-layer statistics at initialization (:mod:`empirical.measure`) for every
   initializer of :data:`GRID_INITS` on MNIST and on Gaussian inputs, at depths
   1, 5 and 20 with widths 1000, 300 and 100;
2. exact symmetry of constant initializations (:mod:`empirical.symmetry_measure`);
3. symmetry broken by roundoff (:mod:`empirical.roundoff`);
4. practitioners' claims (:mod:`empirical.cases`).

``--quick`` uses one seed, half the grid and shorter training; its verdicts are
weaker evidence than the default run's three seeds.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import time
from collections.abc import Callable, Sequence

import numpy as np

from empirical import cases, measure, roundoff
from empirical.cases import Comparison
from empirical.cli_common import add_data_arguments, add_output_argument, load_dataset_from_args
from empirical.config import mlp_config

logger = logging.getLogger(__name__)

GRID_INITS = (
    ("normal:0.01", "tanh"), ("normal:0.1", "tanh"), ("normal:1", "tanh"), ("truncated_normal:0.1", "sigmoid"),
    ("glorot_normal", "tanh"), ("he_normal", "relu"), ("lecun_normal", "sigmoid"), ("orthogonal", "tanh"),
)
"""Initializer and hidden activation of each network of the measurement grid."""

GRID_SHAPES = ((1, 1000), (5, 300), (20, 100))
"""(number of hidden layers, width) of the grid networks; each initializer gets one shape per dataset."""

N_EXAMPLES = 1000
"""Examples per measurement at initialization."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``initsym check`` to ``parser``."""
    add_data_arguments(parser)
    add_output_argument(parser, "check")
    parser.add_argument("--quick", action="store_true",
                        help="one seed, half the grid and shorter training (about a third of the run time)")
    parser.add_argument("--seeds", type=int, default=None, metavar="N",
                        help="number of seeds per comparison (default: 3, or 1 with --quick)")
    parser.add_argument("--skip-subprocess", action="store_true",
                        help="skip the roundoff variants that need a fresh process (oneDNN off, determinism off)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def grid_comparisons(dataset, gaussian_dataset, seeds: Sequence[int], quick: bool) -> list[Callable[[], list[Comparison]]]:
    """Return one task per grid network; each task measures every seed and compares every layer."""
    tasks = []
    for index, (spec, activation) in enumerate(GRID_INITS):
        for data_index, data in enumerate((dataset, gaussian_dataset)):
            if quick and (index + data_index) % 2:
                continue
            depth, width = GRID_SHAPES[(index + data_index) % len(GRID_SHAPES)]
            config = mlp_config((data.input_dim,) + (width,) * depth + (10,), activation, spec, "zeros")
            tasks.append(lambda config=config, data=data: network_comparisons(config, data, seeds))
    return tasks


def network_comparisons(config, data, seeds: Sequence[int]) -> list[Comparison]:
    """Compare every statistic of every layer of one network with its prediction, over seeds.

    One row per statistic: the prediction and mean measurement of the last
    hidden layer, and a verdict over all layers and seeds.
    """
    from empirical.trainer import initialize_parameters

    x, y = data.x_train[:N_EXAMPLES], data.y_train[:N_EXAMPLES]
    predictions = measure.predict_layers(config, x)
    loss_prediction = measure.predict_initial_loss(config, x)
    measured = [measure.measure_layers(config, initialize_parameters(config.replace(seed=seed)), x, y) for seed in seeds]
    group = (f"{config.architecture} {config.activations[0] if config.activations else 'linear'} "
             f"W={config.weight_inits[0]} on {data.name}")
    shown_layer = max(config.n_layers - 1, 1)
    rows = []
    for statistic in measure.STATISTICS:
        failures = [
            f"layer {layer} seed {seed}"
            for seed, (layers, _) in zip(seeds, measured)
            for layer, (stats_row, prediction) in enumerate(zip(layers, predictions), start=1)
            if not prediction[statistic].accepts(getattr(stats_row, statistic))
        ]
        prediction = predictions[shown_layer - 1][statistic]
        values = [getattr(layers[shown_layer - 1], statistic) for layers, _ in measured]
        rows.append(Comparison(
            group, f"{statistic}, layer {shown_layer} (verdict: all {config.n_layers} layers)",
            prediction.value, float(np.mean(values)), prediction.tolerance, prediction.derivation,
            "pass" if not failures else "fail",
            ("failed: " + ", ".join(failures[:5]) + (" …" if len(failures) > 5 else "")) if failures else
            f"{len(seeds)} seeds × {config.n_layers} layers",
        ))
    rows.append(cases.compare_over_seeds(group, "initial loss", loss_prediction, [loss for _, loss in measured]))
    return rows


def roundoff_comparisons(dataset, seeds: Sequence[int], quick: bool, data_path: str | None,
                         skip_subprocess: bool) -> list[Callable[[], list[Comparison]]]:
    """Return the tasks of the roundoff experiment."""
    steps = 1000
    group = "784-100-10 sigmoid, all zeros, SGD 0.5"

    def growth() -> list[Comparison]:
        measured, predicted, accuracies, collapsed_accuracy, differences = [], [], {}, {}, []
        for seed in seeds:
            for dtype in ("float32", "float64"):
                curve = roundoff.unit_difference_curve(dataset, dtype, steps, seed)
                accuracies.setdefault(dtype, []).append(curve.test_accuracy)
                if dtype == "float32":
                    measured.append(curve.growth_rate())
                    differences.append(curve.differences[curve.steps.index(steps)])
                collapsed = roundoff.train_collapsed(dataset, dtype, steps, seed, keep_trajectory=dtype == "float64")
                collapsed_accuracy.setdefault(dtype, []).append(collapsed.test_accuracy)
                if dtype == "float64":
                    log_growth = roundoff.linearized_growth(dataset, collapsed, seed=seed)["log_growth"]
                    predicted.append(roundoff.predicted_growth_rate(log_growth))
        spread = math.sqrt(np.var(measured) + np.var(predicted)) if len(seeds) > 1 else math.nan
        tolerance = measure.Z_CRITICAL * spread / math.sqrt(len(seeds)) if len(seeds) > 1 else math.nan
        mean_predicted = float(np.mean(predicted))
        window = f"steps {roundoff.GROWTH_WINDOW[0]}–{roundoff.GROWTH_WINDOW[1]}"
        rows = [
            Comparison(group, "unit difference after 1000 steps, float32", 0.0, float(np.mean(differences)), 0.0,
                       "exact arithmetic keeps the units identical", "pass" if max(differences) == 0 else "fail",
                       "per seed: " + ", ".join(f"{d:.3g}" for d in differences)),
            Comparison(group, f"growth rate of the unit difference per step, float32, {window}", mean_predicted,
                       float(np.mean(measured)), tolerance,
                       f"{measure.Z_CRITICAL:.2f} × seed-to-seed spread of measured and predicted rates / √seeds; "
                       "prediction: ForwardAccumulator linearization along the width-1 trajectory",
                       "pass" if math.isfinite(tolerance) and abs(np.mean(measured) - mean_predicted) <= tolerance
                       else ("fail" if math.isfinite(tolerance) else "measured"),
                       "per seed measured: " + ", ".join(f"{v:.4f}" for v in measured)
                       + "; predicted: " + ", ".join(f"{v:.4f}" for v in predicted)),
        ]
        for dtype in ("float32", "float64"):
            rows.append(cases.claim(group, f"test accuracy, trainer, {dtype}",
                                    "no prediction: roundoff decides it", accuracies[dtype], None, "reported only"))
            rows.append(cases.claim(group, f"test accuracy, exact width-1 equivalent, {dtype}",
                                    "what a perfectly symmetric run reaches", collapsed_accuracy[dtype], None,
                                    "reported only"))
        return rows

    def first_op() -> list[Comparison]:
        rows = []
        for dtype in ("float32", "float64"):
            found = roundoff.first_asymmetric_op(dataset, dtype, max_steps=20, seed=seeds[0])
            trainer_step = roundoff.first_asymmetric_step_in_trainer(dataset, dtype, max_steps=20, seed=seeds[0])
            rows.append(Comparison(
                group, f"first op with unequal unit columns, {dtype} (eager replay)", "none in exact arithmetic",
                f"step {found['step']}: {found['op']} (spread {found['spread']:.3g})", None,
                "replay matches tf.GradientTape bit for bit: " + str(found["replay_matches_tape"]),
                "measured", f"trainer's compiled loop first differs after step {trainer_step}"))
        return rows

    def variant(dtype: str, onednn: bool, determinism: bool) -> Callable[[], list[Comparison]]:
        def run() -> list[Comparison]:
            curve = roundoff.run_variant_in_subprocess(dtype, onednn, determinism, steps, seeds[0], data_path)
            by_step = dict(zip(curve.steps, curve.differences))
            label = f"{dtype}, oneDNN {'on' if onednn else 'off'}, determinism {'on' if determinism else 'off'}"
            curve_text = ", ".join(f"{s}: {by_step[s]:.2g}" for s in (10, 100, 300, 1000) if s in by_step)
            return [Comparison(group, f"unit difference after 1000 steps, {label}", 0.0, by_step.get(steps, math.nan),
                               0.0, "exact arithmetic keeps the units identical",
                               "pass" if by_step.get(steps) == 0 else "fail",
                               f"seed {seeds[0]}; curve {curve_text}; growth {curve.growth_rate():.4f}/step; "
                               f"test accuracy {curve.test_accuracy:.3f}")]
        return run

    tasks = [growth, first_op]
    if not skip_subprocess:
        variants = [("float32", False, True), ("float64", False, True), ("float32", True, False)]
        if not quick:
            variants += [("float32", True, True), ("float64", True, False)]
        tasks += [variant(*settings) for settings in variants]
    return tasks


WAVEFRONT_WIDTHS = (784, 16, 16, 16, 10)
"""A network deep enough to show the wavefront: four weight layers, so W1 first moves at step 4."""


def wavefront_comparisons(dataset) -> list[Callable[[], list[Comparison]]]:
    """Return a task comparing the step at which each block first moves, predicted against trained.

    With all-zero weights and φ(0) ≠ 0 the gradient reaches layer L − k at step
    k + 1; with φ(0) = 0 nothing but the output bias ever moves. The comparison
    is exact: a block moves at the predicted update or it does not.
    """
    from empirical.symmetry_measure import measured_first_moving_steps, predicted_first_moving_steps

    def describe(step: int | None) -> str:
        return "never" if step is None else f"step {step}"

    def run() -> list[Comparison]:
        rows = []
        for activation in ("sigmoid", "softplus", "tanh", "relu"):
            for dtype in ("float32", "float64"):
                config = mlp_config(WAVEFRONT_WIDTHS, activation, "zeros", "zeros", steps=6, dtype=dtype)
                predicted = predicted_first_moving_steps(config)
                measured = measured_first_moving_steps(config, dataset)
                matches = all(predicted[name] == measured[name] for name in predicted)
                order = sorted(predicted, key=lambda name: (int(name[1:]), name[0]))
                rows.append(Comparison(
                    "gradient wavefront, all zeros, SGD 0.5, 6 steps",
                    f"{config.architecture} {activation}, {dtype}: first update that moves each block",
                    ", ".join(f"{name} {describe(predicted[name])}" for name in order),
                    ", ".join(f"{name} {describe(measured[name])}" for name in order),
                    None, "exact: theory.regimes zero-gradient recursion at the real widths",
                    "pass" if matches else "fail"))
        return rows

    return [run]


def symmetry_comparisons(dataset, seeds: Sequence[int]) -> list[Callable[[], list[Comparison]]]:
    """Return tasks comparing predicted zero-gradient blocks with TensorFlow's gradients."""
    from empirical.symmetry_measure import measured_zero_blocks, predicted_zero_blocks

    def run() -> list[Comparison]:
        from empirical.trainer import initialize_parameters

        rows = []
        x, y = dataset.x_train[:100], dataset.y_train[:100]
        for activation in ("sigmoid", "tanh", "relu"):
            for weights in (("zeros", "zeros"), ("ones", "ones"), ("zeros", "ones"), ("ones", "zeros")):
                config = mlp_config((784, 100, 10), activation, weights, "zeros")
                predicted = predicted_zero_blocks(config)
                observed = measured_zero_blocks(config, initialize_parameters(config), x, y)
                rows.append(Comparison(
                    "zero-gradient blocks at step 0", f"{activation} W1={weights[0]} W2={weights[1]}",
                    ",".join(sorted(predicted)) or "none", ",".join(sorted(observed)) or "none", None,
                    "exact: theory.symbolic on a width-3 network", "pass" if predicted == observed else "fail"))
        return rows

    return [run]


def format_table(rows: Sequence[Comparison]) -> str:
    """Format the comparisons as a fixed-width text table."""
    def text(value) -> str:
        if isinstance(value, float):
            return f"{value:.4g}"
        return "" if value is None else str(value)

    header = ("group", "quantity", "prediction", "measured", "tolerance", "verdict")
    table = [header] + [(r.group, r.quantity, text(r.prediction), text(r.measured), text(r.tolerance), r.verdict)
                        for r in rows]
    widths = [min(max(len(row[i]) for row in table), 60) for i in range(len(header))]
    lines = ["  ".join(cell[:60].ljust(width) for cell, width in zip(row, widths)) for row in table]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run every comparison, print the table and write the CSV; returns 0 (failed verdicts are findings)."""
    import pandas as pd
    from tqdm.auto import tqdm

    from empirical.data import make_gaussian
    from empirical.results import atomic_write_json, atomic_write_text
    from empirical.trainer import runtime_metadata

    started = time.perf_counter()
    n_seeds = args.seeds
    if n_seeds is None:
        n_seeds = 1 if args.quick else 3
    if n_seeds < 1:
        from theory.errors import InputError

        raise InputError(f"--seeds must be at least 1, got {n_seeds}")
    seeds = tuple(range(n_seeds))
    dataset = load_dataset_from_args(args, dtype="float32")
    gaussian_dataset = make_gaussian(N_EXAMPLES, 100, dataset.input_dim, seed=0, dtype=np.float32)

    tasks = grid_comparisons(dataset, gaussian_dataset, seeds, args.quick)
    tasks += symmetry_comparisons(dataset, seeds)
    tasks += wavefront_comparisons(dataset)
    tasks += roundoff_comparisons(dataset, seeds, args.quick, args.data, args.skip_subprocess)
    tasks += list(cases.all_cases(dataset, seeds, quick=args.quick).values())

    rows: list[Comparison] = []
    for task in tqdm(tasks, desc="check", unit="task", disable=args.no_progress):
        rows.extend(task())

    elapsed = time.perf_counter() - started
    metadata = runtime_metadata()
    metadata.update(dtype="float32 (roundoff also float64)", seeds=list(seeds), quick=bool(args.quick),
                    run_time_s=round(elapsed, 1), data_source=dataset.source)
    frame = pd.DataFrame([dataclasses.asdict(row) for row in rows])
    for key in ("tf_version", "onednn", "dtype"):
        frame[key] = metadata[key]
    frame["seeds"] = " ".join(str(seed) for seed in seeds)
    atomic_write_text(args.output / "check.csv", frame.to_csv(index=False))
    atomic_write_json(args.output / "check_metadata.json", metadata)

    print(format_table(rows))
    counts = frame["verdict"].value_counts().to_dict()
    print(f"\n{len(rows)} comparisons in {elapsed:.0f} s: "
          + ", ".join(f"{count} {verdict}" for verdict, count in sorted(counts.items())))
    print(f"wrote {args.output / 'check.csv'} and {args.output / 'check_metadata.json'}")
    return 0
