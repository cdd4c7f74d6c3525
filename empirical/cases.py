"""Claims from practitioners about initialization, each with its theory prediction and a measurement.

Every function trains or evaluates real TensorFlow networks on the bundled
MNIST digits (or Gaussian inputs) over several seeds and returns
:class:`Comparison` rows. A prediction passes only if every seed is within its
tolerance. A practitioner's claim is checked as stated, and a claim that does
not hold is reported as such, not adjusted.

The training settings that a claim leaves open are fixed here and recorded in
each row: plain SGD means learning rate 0.1 (:data:`PLAIN_SGD`), batch 100.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from empirical import measure
from empirical.config import OptimizerConfig, RunConfig, mlp_config
from empirical.symmetry_measure import layer_symmetry, predicted_zero_blocks
from theory import finite_width, meanfield
from theory.errors import InputError
from theory.initializers import InitSpec

PLAIN_SGD = OptimizerConfig("sgd", learning_rate=0.1)
"""Optimizer of the cases whose claim names only "plain SGD"."""

CLASSIC_SGD = OptimizerConfig("sgd", learning_rate=0.5)
"""Optimizer of the TensorFlow MNIST tutorial: SGD 0.5, batch 100."""

FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclasses.dataclass(frozen=True)
class Comparison:
    """One row of the check table: a predicted quantity beside its measurement.

    Attributes:
        group: the experiment the row belongs to.
        quantity: what is compared.
        prediction: the predicted value, or a claim in words.
        measured: the measured value; over several seeds the mean, with the
            per-seed values in ``detail``.
        tolerance: half-width of the acceptance interval, None for a claim
            checked by a stated rule.
        derivation: how the tolerance or rule was derived.
        verdict: ``pass``, ``fail``, ``holds`` (a claim), ``does not hold``, or
            ``measured`` (no prediction, reported only).
        detail: per-seed values and settings.
    """

    group: str
    quantity: str
    prediction: float | str
    measured: float | str
    tolerance: float | None
    derivation: str
    verdict: str
    detail: str = ""


def compare_over_seeds(group: str, quantity: str, prediction: measure.Prediction, values: Sequence[float],
                       detail: str = "") -> Comparison:
    """Compare a prediction with one measurement per seed; it passes only if every seed is within tolerance."""
    values = [float(v) for v in values]
    verdict = "pass" if all(prediction.accepts(v) for v in values) else "fail"
    seeds = ", ".join(f"{v:.4g}" for v in values)
    return Comparison(group, quantity, prediction.value, float(np.mean(values)), prediction.tolerance,
                      prediction.derivation, verdict, f"per seed: {seeds}" + (f"; {detail}" if detail else ""))


def claim(group: str, quantity: str, statement: str, values: Sequence[float], claim_holds: bool | None, rule: str,
          detail: str = "") -> Comparison:
    """Record a practitioner's claim, the per-seed measurements and whether the claim holds on every seed.

    ``claim_holds`` None records a measurement that no claim is made about.
    """
    seeds = ", ".join(f"{v:.4g}" for v in values)
    if claim_holds is None:
        verdict = "measured"
    elif claim_holds:
        verdict = "holds"
    else:
        verdict = "does not hold"
    return Comparison(group, quantity, statement, float(np.mean(values)), None, rule, verdict, f"per seed: {seeds}" + (f"; {detail}" if detail else ""))


def _train(config: RunConfig, dataset):
    from empirical.trainer import train

    return train(config, dataset)


def zero_hidden_layer(dataset, seeds: Sequence[int] = (0, 1, 2), steps: int = 1000) -> list[Comparison]:
    """Check that a zero-initialized relu hidden layer drops softmax regression to the majority-class rate.

    Theory (:mod:`theory.symbolic`): relu(0) = 0 and relu'(0) = 0, so W1, b1 and
    W2 get exactly zero gradient at every step and only the output bias learns.
    The network then predicts one class for every input, the most frequent
    training class, and its test accuracy is that class's share of the test set.
    """
    group = "zero relu hidden layer"
    settings = dict(optimizer=CLASSIC_SGD, batch_size=100, steps=steps)
    softmax_accuracy, hidden_accuracy, zero_sets = [], [], []
    hidden = mlp_config((784, 100, 10), "relu", "zeros", "zeros", **settings)
    for seed in seeds:
        softmax_accuracy.append(_train(mlp_config((784, 10), "linear", "zeros", "zeros", seed=seed, **settings),
                                       dataset).test_accuracy)
        hidden_accuracy.append(_train(hidden.replace(seed=seed), dataset).test_accuracy)
        from empirical.symmetry_measure import measured_zero_blocks
        from empirical.trainer import initialize_parameters

        zero_sets.append(measured_zero_blocks(hidden, initialize_parameters(hidden), dataset.x_train[:100],
                                              dataset.y_train[:100]))
    predicted_blocks = predicted_zero_blocks(hidden)
    majority_class = int(np.bincount(dataset.y_train).argmax())
    majority_rate = float(np.mean(dataset.y_test == majority_class))
    largest_test_share = float(np.bincount(dataset.y_test).max() / dataset.n_test)
    return [
        Comparison(group, "zero-gradient blocks at step 0", ",".join(sorted(predicted_blocks)),
                   ",".join(sorted(zero_sets[0])), None, "exact: theory.symbolic on a width-3 network",
                   "pass" if all(s == predicted_blocks for s in zero_sets) else "fail",
                   f"{len(seeds)} seeds"),
        compare_over_seeds(group, "test accuracy with the zero hidden layer",
                           measure.Prediction(majority_rate, largest_test_share - majority_rate + 1e-12,
                                              "exact up to which class the output bias picks: the tolerance "
                                              "reaches the largest class share of the test set"),
                           hidden_accuracy),
        claim(group, "test accuracy of the softmax model without it", "well above the hidden-layer version",
              softmax_accuracy, min(softmax_accuracy) > max(hidden_accuracy) + 0.5,
              "every seed at least 50 points above the zero-hidden-layer run"),
    ]


def adam_relu_inits(dataset, seeds: Sequence[int] = (0, 1, 2), steps: int = 850) -> list[Comparison]:
    """Check 784-256-128-10 relu, biases zero, Adam 1e-3, batch 128: zeros and ones at chance, small random above 90 %."""
    group = "784-256-128-10 relu, Adam"
    settings = dict(optimizer=OptimizerConfig("adam", learning_rate=1e-3), batch_size=128, steps=steps)
    rows = []
    for spec, expectation in (("zeros", "chance"), ("ones", "chance"), ("uniform:0.1", "above 0.9"),
                              ("normal:0.1", "above 0.9")):
        config = mlp_config((784, 256, 128, 10), "relu", spec, "zeros", **settings)
        accuracies, max_losses, spreads = [], [], []
        for seed in seeds:
            result = _train(config.replace(seed=seed, snapshot_steps=(steps,)), dataset)
            accuracies.append(result.test_accuracy)
            max_losses.append(float(np.max(result.losses)))
            spreads.append(max(row.incoming_spread for row in layer_symmetry(result.snapshots[steps], 3)))
        if expectation == "chance":
            rule = "every seed below 0.15 test accuracy (chance is 0.10)"
            claim_holds = max(accuracies) < 0.15
        else:
            rule = "every seed above 0.90 test accuracy"
            claim_holds = min(accuracies) > 0.90
        rows.append(claim(group, f"W={spec}: test accuracy", expectation, accuracies, claim_holds, rule))
        if spec == "ones":
            rows.append(claim(group, "W=ones: largest training-batch loss", "in the hundreds", max_losses,
                              min(max_losses) >= 100, "every seed's largest batch loss at least 100"))
        if spec in ("zeros", "ones"):
            rows.append(claim(group, f"W={spec}: hidden-unit spread after training",
                              "0 (units tied, theory.symbolic)", spreads, max(spreads) == 0.0,
                              "exactly 0 on every seed; roundoff can break the tie"))
    return rows


def relu_scaled_normal(dataset, seeds: Sequence[int] = (0, 1, 2), steps: int = 1000) -> list[Comparison]:
    """Check which of 784-10-5-10 relu with N(0,1) weights ×10, ×0.01 and He trains with plain SGD."""
    group = "784-10-5-10 relu, plain SGD"
    settings = dict(optimizer=PLAIN_SGD, batch_size=100, steps=steps)
    x, y = dataset.x_train[:1000], dataset.y_train[:1000]
    accuracies: dict[str, list[float]] = {}
    rows = []
    for label, spec in (("×10", "normal:10"), ("×0.01", "normal:0.01"), ("He", "he_normal")):
        config = mlp_config((784, 10, 5, 10), "relu", spec, "zeros", **settings)
        initial, final = [], []
        for seed in seeds:
            from empirical.trainer import initialize_parameters

            _, loss = measure.measure_layers(config.replace(seed=seed), initialize_parameters(config.replace(seed=seed)), x, y)
            initial.append(loss)
            final.append(_train(config.replace(seed=seed), dataset).test_accuracy)
        accuracies[label] = final
        rows.append(compare_over_seeds(group, f"{label}: initial loss", measure.predict_initial_loss(config, x), initial))
        rows.append(claim(group, f"{label}: test accuracy", "no claim on its own", final, None, "reported only",
                          f"SGD {PLAIN_SGD.learning_rate}, batch 100, {steps} steps"))
    rows.append(claim(group, "×0.01 barely moves", "test accuracy below 0.2", accuracies["×0.01"],
                      max(accuracies["×0.01"]) < 0.2, "every seed below 0.2"))
    rows.append(claim(group, "×10 learns", "test accuracy above 0.5", accuracies["×10"],
                      min(accuracies["×10"]) > 0.5, "every seed above 0.5"))
    he_best = all(h >= max(a, b) for h, a, b in zip(accuracies["He"], accuracies["×10"], accuracies["×0.01"]))
    rows.append(claim(group, "He trains best", "He accuracy ≥ the other two", accuracies["He"], he_best,
                      "on every seed"))
    return rows


def tanh_initial_loss(dataset, seeds: Sequence[int] = (0, 1, 2), output_scale: float = 0.01) -> list[Comparison]:
    """Check that 784-200-10 tanh with N(0,1) weights starts far above ln 10; a scaled-down last layer starts at ln 10."""
    from empirical.trainer import initialize_parameters

    group = "784-200-10 tanh initial loss"
    x, y = dataset.x_train[:1000], dataset.y_train[:1000]
    rows = []
    for label, inits in (("N(0,1) everywhere", ("normal:1", "normal:1")),
                         (f"last layer N(0,1)×{output_scale:g}", ("normal:1", f"normal:{output_scale:g}"))):
        config = mlp_config((784, 200, 10), "tanh", inits, "zeros")
        losses = [measure.measure_layers(config.replace(seed=s), initialize_parameters(config.replace(seed=s)), x, y)[1]
                  for s in seeds]
        rows.append(compare_over_seeds(group, f"{label}: initial loss", measure.predict_initial_loss(config, x), losses))
        if label.startswith("last"):
            rows.append(claim(group, f"{label}: initial loss ≈ ln 10", f"{math.log(10):.4f}", losses,
                              all(abs(v - math.log(10)) < 0.05 for v in losses), "every seed within 0.05 of ln 10"))
        else:
            rows.append(claim(group, f"{label}: initial loss far above ln 10", "> 2 ln 10", losses,
                              min(losses) > 2 * math.log(10), "every seed above 2 ln 10"))
    return rows


def sigmoid_gradient_ratio(dataset, seeds: Sequence[int] = (0, 1, 2)) -> list[Comparison]:
    """Check that the first hidden gradient of a 784-30-30-30-30-10 sigmoid network is about 100× smaller than the last.

    The weights are N(0, 1/fan_in) and the biases N(0, 1).
    """
    from empirical.trainer import compute_gradients, initialize_parameters

    group = "784-30-30-30-30-10 sigmoid gradients"
    widths = (784, 30, 30, 30, 30, 10)
    config = RunConfig(
        widths=widths, activations=("sigmoid",) * 4,
        weight_inits=tuple(InitSpec("normal", 1 / math.sqrt(n)) for n in widths[:-1]),
        bias_inits=(InitSpec("normal", 1.0),) * 5,
    )
    x, y = dataset.x_train[:1000], dataset.y_train[:1000]
    log_ratios, norm_ratios = [], []
    for seed in seeds:
        parameters = initialize_parameters(config.replace(seed=seed))
        layers, _ = measure.measure_layers(config, parameters, x, y)
        log_ratios.append(math.log(layers[0].gradient_mean_square / layers[3].gradient_mean_square))
        _, gradients = compute_gradients(config, parameters, x, y)
        norm_ratios.append(float(np.linalg.norm(gradients["b1"]) / np.linalg.norm(gradients["b4"])))
    return [
        compare_over_seeds(group, "ln(E δ1² / E δ4²), per example", measure.predict_gradient_ratio(config, x, 1, 4),
                           log_ratios),
        claim(group, "‖∂L/∂b1‖ / ‖∂L/∂b4‖ (batch of 1000)", "about 1/100", norm_ratios,
              all(1 / 300 <= r <= 3 / 100 for r in norm_ratios), "every seed within a factor 3 of 1/100"),
    ]


def linear_stack_overflow(depth: int = 100, width: int = 256, batch: int = 100,
                          seeds: Sequence[int] = (0, 1, 2)) -> list[Comparison]:
    """Check the growth and float32 overflow of 100 linear layers of width 256 (no bias, N(0,1) weights and inputs).

    Theory: Var z_(l+1) = n Var z_l exactly in expectation, so the standard
    deviation grows by √256 = 16 per layer and reaches the float32 maximum
    (2^128) at layer 32, where a Gaussian entry exceeds it with probability
    about 1/3.
    """
    import tensorflow as tf

    group = f"{depth} linear layers of width {width}, float32"
    sigma_w = math.sqrt(width)
    q_values = meanfield.variance_trajectory("linear", width * 1.0, sigma_w, 0.0, depth)
    predicted_overflow = next(layer for layer, q in enumerate(q_values, start=1)
                              if 2 * width * batch * _normal_tail(FLOAT32_MAX / math.sqrt(q)) >= math.log(2))
    fit_layers = 20
    relative_std = finite_width.linear_relative_std(width, fit_layers)
    growth_tolerance = math.exp(measure.Z_CRITICAL * relative_std / 2 / (fit_layers - 1)) - 1
    growths, overflows = [], []
    for seed in seeds:
        generator = tf.random.Generator.from_seed(seed)
        h = generator.normal((batch, width), dtype=tf.float32)
        stds, first_inf = [], None
        for layer in range(1, depth + 1):
            h = h @ generator.normal((width, width), dtype=tf.float32)
            values = h.numpy()
            if first_inf is None and not np.all(np.isfinite(values)):
                first_inf = layer
            if layer <= fit_layers:
                stds.append(float(values.astype(np.float64).std()))
        growths.append(float(np.exp((np.log(stds[-1]) - np.log(stds[0])) / (fit_layers - 1))))
        overflows.append(float(first_inf) if first_inf is not None else math.inf)
    return [
        compare_over_seeds(group, f"std growth per layer (layers 1–{fit_layers})",
                           measure.Prediction(sigma_w, sigma_w * growth_tolerance,
                                              f"{measure.Z_CRITICAL:.2f} × exact finite-width spread of q̂ over "
                                              f"{fit_layers} layers (theory.finite_width)"), growths),
        compare_over_seeds(group, "first layer with an infinite entry",
                           measure.Prediction(float(predicted_overflow), 0.0,
                                              "first layer where P(some entry > float32 max) ≥ 1/2"), overflows),
        claim(group, "overflow around layer 31", "31", overflows, all(abs(v - 31) <= 1 for v in overflows),
              "every seed within one layer of 31"),
    ]


def _normal_tail(k: float) -> float:
    return 0.5 * math.erfc(k / math.sqrt(2))


def all_cases(dataset, seeds: Sequence[int] = (0, 1, 2), quick: bool = False) -> dict[str, callable]:
    """Return the case functions by name, bound to ``dataset`` and ``seeds``; ``quick`` shortens the training."""
    if not seeds:
        raise InputError("need at least one seed")
    steps_scale = 0.3 if quick else 1.0
    return {
        "zero relu hidden layer": lambda: zero_hidden_layer(dataset, seeds, int(1000 * steps_scale)),
        "Adam relu initializations": lambda: adam_relu_inits(dataset, seeds, int(850 * steps_scale)),
        "scaled normal relu": lambda: relu_scaled_normal(dataset, seeds, int(1000 * steps_scale)),
        "tanh initial loss": lambda: tanh_initial_loss(dataset, seeds),
        "sigmoid gradient ratio": lambda: sigmoid_gradient_ratio(dataset, seeds),
        "linear stack overflow": lambda: linear_stack_overflow(seeds=seeds),
    }
