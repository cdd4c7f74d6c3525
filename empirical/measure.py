"""Per-layer statistics of a TensorFlow network, each beside the theory prediction it tests.

:func:`measure_layers` runs the forward and backward pass of an MLP on a batch
of real inputs and returns, for every layer l (1 = first hidden layer, L = the
logits), the mean and variance of the pre-activations z and of the activations
φ(z) over units and examples together, the saturated fraction (|z| above
:data:`SATURATION_THRESHOLD`), the dead fraction (z <= 0, where relu'(z) = 0 in
TensorFlow), the mean of φ'(z) and the mean square of the per-example gradient
δ_l = ∂loss/∂z_l, together with the batch loss.

:func:`predict_layers` gives the same statistics from theory for a network with
random zero-mean weights: each input x gets its own first-layer variance
q_1(x) = v_w ‖x‖² + σ_b² (:mod:`theory.first_layer`), which the mean-field map
(:mod:`theory.meanfield`) carries through depth, and every statistic is the
Gaussian expectation at q_l(x) (:mod:`theory.gaussian`) averaged over the
inputs. Every prediction comes with a tolerance, :data:`Z_CRITICAL` standard
deviations of its finite-width sampling error (:mod:`theory.finite_width`), so a
comparison fails with probability about :data:`ALPHA` when the theory is right.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import stats

from empirical.config import RunConfig
from theory import finite_width, first_layer, gaussian, initial_loss, meanfield
from theory.activations import get_activation
from theory.errors import InputError

SATURATION_THRESHOLD = 4.0
"""|z| above which a sigmoid or tanh unit counts as saturated (sigmoid'(4) = 0.018, tanh'(4) = 0.0013)."""

ALPHA = 1e-3
"""Two-sided false-alarm probability of one comparison when the theory holds."""

Z_CRITICAL = float(stats.norm.isf(ALPHA / 2))
"""Standard normal quantile for :data:`ALPHA`, ≈ 3.29."""

STATISTICS = (
    "preactivation_mean", "preactivation_variance", "activation_mean", "activation_variance",
    "saturated_fraction", "dead_fraction", "derivative_mean",
)


@dataclasses.dataclass(frozen=True)
class LayerStatistics:
    """Statistics of one layer over all its units and the examples of a batch."""

    layer: int
    width: int
    preactivation_mean: float
    preactivation_variance: float
    activation_mean: float
    activation_variance: float
    saturated_fraction: float
    dead_fraction: float
    derivative_mean: float
    gradient_mean_square: float


def forward_tensors(config: RunConfig, parameters: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray):
    """Return the pre-activations, activations, per-example gradients δ_l and the mean loss, as numpy.

    δ_l is the gradient of the summed loss with respect to z_l, so row s is the
    gradient of example s alone.
    """
    import tensorflow as tf

    from empirical.trainer import TF_ACTIVATIONS, loss_function

    dtype = tf.as_dtype(config.dtype)
    h = tf.constant(np.asarray(x, dtype=config.dtype))
    labels = tf.constant(np.asarray(y, dtype=np.int32))
    preactivations, activations = [], []
    with tf.GradientTape() as tape:
        for layer in range(1, config.n_layers + 1):
            z = h @ tf.constant(parameters[f"W{layer}"], dtype) + tf.constant(parameters[f"b{layer}"], dtype)
            tape.watch(z)
            preactivations.append(z)
            if layer < config.n_layers:
                h = TF_ACTIVATIONS[config.activations[layer - 1]](z)
                activations.append(h)
        mean_loss = loss_function(config, preactivations[-1], labels)
        summed_loss = mean_loss * tf.cast(tf.shape(labels)[0], dtype)
    deltas = tape.gradient(summed_loss, preactivations)
    return (
        [z.numpy() for z in preactivations],
        [a.numpy() for a in activations],
        [d.numpy() for d in deltas],
        float(mean_loss),
    )


def measure_layers(config: RunConfig, parameters: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray):
    """Measure every layer of the network on (x, y); returns (list of :class:`LayerStatistics`, loss)."""
    preactivations, activations, deltas, loss = forward_tensors(config, parameters, x, y)
    rows = []
    for layer, (z, delta) in enumerate(zip(preactivations, deltas), start=1):
        z64 = z.astype(np.float64)
        if layer < config.n_layers:
            activation = get_activation(config.activations[layer - 1])
            a64 = activations[layer - 1].astype(np.float64)
            derivative = activation.with_kink_convention(z64)
        else:
            a64, derivative = z64, np.ones_like(z64)
        rows.append(LayerStatistics(
            layer=layer,
            width=z.shape[1],
            preactivation_mean=float(z64.mean()),
            preactivation_variance=float(z64.var()),
            activation_mean=float(a64.mean()),
            activation_variance=float(a64.var()),
            saturated_fraction=float(np.mean(np.abs(z64) > SATURATION_THRESHOLD)),
            dead_fraction=float(np.mean(z64 <= 0)),
            derivative_mean=float(derivative.mean()),
            gradient_mean_square=float(np.mean(delta.astype(np.float64) ** 2)),
        ))
    return rows, loss


def measure_along_training(config: RunConfig, dataset, steps: tuple[int, ...], n_examples: int = 1000):
    """Train ``config`` and measure every layer at each of ``steps`` on the first training examples.

    Returns a mapping from step to (statistics, loss). Theory predicts only step
    0 (fresh random weights); later steps show how training moves each statistic.
    """
    from empirical.trainer import train

    result = train(config.replace(snapshot_steps=tuple(sorted(set(steps)))), dataset)
    x, y = dataset.x_train[:n_examples], dataset.y_train[:n_examples]
    return {step: measure_layers(config, parameters, x, y) for step, parameters in sorted(result.snapshots.items())}


@dataclasses.dataclass(frozen=True)
class Prediction:
    """A predicted value and the half-width of its acceptance interval."""

    value: float
    tolerance: float
    derivation: str

    def accepts(self, measured: float) -> bool:
        """Return whether ``measured`` lies within ``tolerance`` of the predicted value."""
        return math.isfinite(measured) and abs(measured - self.value) <= self.tolerance


def _bias_std(config: RunConfig, layer: int) -> float:
    spec = config.bias_inits[layer - 1]
    if spec.is_constant:
        if spec.constant_value != 0:
            raise InputError(f"bias b{layer} = {spec} is a non-zero constant; the mean-field prediction needs zero-mean biases")
        return 0.0
    width = config.widths[layer]
    return spec.std(width, width)


def layer_variances(config: RunConfig, x: np.ndarray) -> list[np.ndarray]:
    """Return q_l(x) for every layer l and every input row, from the first-layer mixture and the mean-field map."""
    for layer, spec in enumerate(config.weight_inits, start=1):
        if spec.is_constant:
            raise InputError(f"weight W{layer} = {spec} is constant; use the symbolic theory for constant layers")
    widths = config.widths
    q = first_layer.preactivation_variances(
        np.asarray(x, dtype=np.float64), config.weight_inits[0].variance(widths[0], widths[1]), _bias_std(config, 1))
    variances = [q]
    for layer in range(2, config.n_layers + 1):
        fan_in = widths[layer - 1]
        sigma_w = math.sqrt(config.weight_inits[layer - 1].variance(fan_in, widths[layer]) * fan_in)
        q = meanfield.variance_map(config.activations[layer - 2], q, sigma_w, _bias_std(config, layer))
        variances.append(np.asarray(q, dtype=float))
    return variances


def relative_spreads(config: RunConfig, variances: list[np.ndarray]) -> np.ndarray:
    """Return the predicted relative standard deviation of the measured q̂_l for every layer.

    Uses :func:`theory.finite_width.predicted_variance_spread` at the input-averaged
    q_1, with the fan-in-scaled σ_w of layer 2 for all deeper layers (exact for
    equal hidden widths and one initializer kind). The term 2q²/n treats the
    examples as fully correlated, an upper bound for a batch.
    """
    widths = list(config.widths[1:])
    if config.n_layers == 1:
        return np.array([math.sqrt(2.0 / widths[0])])
    fan_in = config.widths[1]
    sigma_w = math.sqrt(config.weight_inits[1].variance(fan_in, config.widths[2]) * fan_in)
    spread = finite_width.predicted_variance_spread(
        config.activations[0], float(np.mean(variances[0])), sigma_w, _bias_std(config, 2), widths)
    return np.asarray(spread["relative_std"], dtype=float)


def _expectation(name: str, statistic: str, q: np.ndarray) -> float:
    """Average over inputs of one Gaussian statistic at variance q(x)."""
    if statistic == "preactivation_mean":
        return 0.0
    if statistic == "preactivation_variance":
        return float(np.mean(q))
    if statistic == "activation_mean":
        return float(np.mean(gaussian.activation_mean(name, q)))
    if statistic == "activation_variance":
        mean = np.mean(gaussian.activation_mean(name, q))
        return float(np.mean(gaussian.activation_second_moment(name, q)) - mean**2)
    if statistic == "saturated_fraction":
        return first_layer.saturated_fraction(q, SATURATION_THRESHOLD)
    if statistic == "dead_fraction":
        return first_layer.dead_fraction(q)
    if statistic == "derivative_mean":
        return float(np.mean(gaussian.derivative_mean(name, q)))
    raise InputError(f"unknown statistic {statistic!r}; use one of: {', '.join(STATISTICS)}")


def _unit_variance(name: str, statistic: str, q: np.ndarray) -> float:
    """Variance over z ~ N(0, q) of the per-unit quantity whose mean is ``statistic``."""
    activation = get_activation(name)
    if statistic in ("preactivation_mean",):
        return float(np.mean(q))
    if statistic == "activation_mean":
        return _expectation(name, "activation_variance", q)
    if statistic == "activation_variance":
        mean = _expectation(name, "activation_mean", q)
        fourth = np.mean(gaussian.expect(lambda v: (activation.function(v) - mean) ** 4, q))
        return float(fourth - _expectation(name, "activation_variance", q) ** 2)
    if statistic in ("saturated_fraction", "dead_fraction"):
        p = _expectation(name, statistic, q)
        return p * (1 - p)
    if statistic == "derivative_mean":
        second = np.mean(gaussian.derivative_second_moment(name, q))
        return float(second - _expectation(name, statistic, q) ** 2)
    raise InputError(f"unknown statistic {statistic!r}")


def predict_layers(config: RunConfig, x: np.ndarray) -> list[dict[str, Prediction]]:
    """Predict every statistic of :class:`LayerStatistics` except the gradient, layer by layer.

    The tolerance is Z_CRITICAL times the root of the sum of two variances. The
    first is the variance of the per-unit quantity divided by n_l, which treats
    the examples as fully correlated (an upper bound). The second is the
    finite-width spread of q̂_l carried through the slope of the statistic in ln q.
    """
    variances = layer_variances(config, x)
    spreads = relative_spreads(config, variances)
    predictions = []
    for layer, q in enumerate(variances, start=1):
        width = config.widths[layer]
        name = config.activations[layer - 1] if layer < config.n_layers else "linear"
        row = {}
        for statistic in STATISTICS:
            value = _expectation(name, statistic, q)
            slope = (_expectation(name, statistic, q * 1.01) - _expectation(name, statistic, q / 1.01)) / (2 * math.log(1.01))
            if statistic == "preactivation_variance":
                variance = (spreads[layer - 1] * value) ** 2
            else:
                variance = _unit_variance(name, statistic, q) / width + (slope * spreads[layer - 1]) ** 2
            row[statistic] = Prediction(
                value, Z_CRITICAL * math.sqrt(variance),
                f"{Z_CRITICAL:.2f} sd (α={ALPHA:g}) of unit sampling over n={width} and finite-width q̂ spread "
                f"{spreads[layer - 1]:.3f} (relative)",
            )
        predictions.append(row)
    return predictions


def predict_gradient_ratio(config: RunConfig, x: np.ndarray, lower: int, upper: int) -> Prediction:
    """Predict ln(E δ_lower² / E δ_upper²) for hidden layers lower < upper, from the backward mean-field map.

    Each layer l multiplies E δ² by σ_w² E[φ'(z_l)²] n_(l+1)/n_l
    (:func:`theory.meanfield.gradient_factors`, here per input), averaged over inputs. The
    tolerance is Z_CRITICAL times the leading-order spread of the product, the
    sum over crossed layers of 2/n_(l+1) (weights) and the relative variance of
    φ'² over n_l units.
    """
    if not 1 <= lower < upper < config.n_layers:
        raise InputError(f"need hidden layers 1 <= lower < upper < {config.n_layers}, got {lower}, {upper}")
    variances = layer_variances(config, x)
    log_factor = np.zeros(len(variances[0]))
    relative_variance = 0.0
    for layer in range(lower, upper):
        name = config.activations[layer - 1]
        fan_in, fan_out = config.widths[layer], config.widths[layer + 1]
        sigma_w = math.sqrt(config.weight_inits[layer].variance(fan_in, fan_out) * fan_in)
        factors = meanfield.chi_1(name, variances[layer - 1], sigma_w) * fan_out / fan_in
        log_factor += np.log(factors)
        q = variances[layer - 1]
        second = np.mean(gaussian.derivative_second_moment(name, q))
        fourth = np.mean(gaussian.expect(lambda v: get_activation(name).with_kink_convention(v) ** 4, q))
        relative_variance += 2.0 / fan_out + (fourth / second**2 - 1.0) / fan_in
    value = float(np.log(np.mean(np.exp(log_factor))))
    return Prediction(
        value, Z_CRITICAL * math.sqrt(relative_variance),
        f"{Z_CRITICAL:.2f} × leading-order finite-width spread of the backward product (α={ALPHA:g})",
    )


def predict_initial_loss(config: RunConfig, x: np.ndarray) -> Prediction:
    """Predict the mean initial softmax cross-entropy from the logit variances q_L(x).

    The tolerance treats the examples as fully correlated through the shared
    output weights, an upper bound: Z_CRITICAL times the standard deviation of
    one example's loss, −log softmax(z)_y with z_k iid N(0, q_L), from 20,000
    Monte Carlo draws with seed 0. The predicted value averages
    :func:`theory.initial_loss.expected_cross_entropy` over the inputs' logit
    variances, however large they are.
    """
    if config.loss != "softmax_cross_entropy":
        raise InputError(f"the initial-loss prediction is for softmax cross-entropy, not {config.loss!r}")
    q_logits = layer_variances(config, x)[-1]
    rng = np.random.default_rng(0)
    draws = rng.standard_normal((20000, config.widths[-1]))
    scale = np.sqrt(rng.choice(q_logits, size=20000))[:, None]
    logits = scale * draws
    losses = np.logaddexp.reduce(logits, axis=1) - logits[:, 0]
    value = initial_loss.mean_cross_entropy_over_variances(q_logits, config.widths[-1])
    return Prediction(
        value, Z_CRITICAL * float(losses.std()),
        f"theory.initial_loss quadrature; {Z_CRITICAL:.2f} sd of one example's loss (examples fully correlated, α={ALPHA:g})",
    )
