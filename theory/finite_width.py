"""Finite-width corrections to the mean-field variance recursion.

At width n the empirical variance of a layer's pre-activations,
q̂_l = (1/n_l) Σ_i h_{l,i}², fluctuates around the mean-field q_l. Given layer l,
the entries of h_{l+1} are independent N(0, Q_{l+1}) with
Q_{l+1} = σ_w² m_l + σ_b² and m_l = (1/n_l) Σ_i φ(h_{l,i})², so to leading order
in 1/n (delta method, with V(q) = E[φ(√q z)²])

    Var Q_{l+1} = σ_w⁴ (V'(q_l)² Var Q_l + (E[φ⁴] − V²)(q_l)/n_l),
    Var q̂_l    = Var Q_l + 2 q_l²/n_l,
    E Q_{l+1} − q_{l+1} = σ_w² (V'(q_l) (E Q_l − q_l) + ½ V''(q_l) Var Q_l).

For a linear network with σ_b = 0 the result is exact at every width:
q̂_{l+1} = q̂_l σ_w² χ²_n/n, so E[q̂_L²]/E[q̂_L]² = (1 + 2/n)^L and the relative
standard deviation of q̂_L is √((1 + 2/n)^L − 1), of which 2L/n is the leading
term. The first layer's Q_1 is deterministic for a fixed input.
"""

from __future__ import annotations

import math

import numpy as np

from theory import gaussian, meanfield
from theory.activations import get_activation
from theory.errors import InputError


def linear_second_moment_growth(width: int, depth: int) -> float:
    """Return E[q̂_L²]/E[q̂_L]² = (1 + 2/n)^L for a linear network of ``depth`` layers."""
    if width < 1 or depth < 0:
        raise InputError(f"need width >= 1 and depth >= 0, got {width}, {depth}")
    return (1.0 + 2.0 / width) ** depth


def linear_relative_std(width: int, depth: int) -> float:
    """Return the exact relative standard deviation √((1 + 2/n)^L − 1) of q̂_L for a linear network."""
    return math.sqrt(linear_second_moment_growth(width, depth) - 1.0)


def _fourth_moment(activation: str, q: float) -> float:
    function = get_activation(activation).function
    return float(gaussian.expect(lambda x: function(x) ** 4, q))


def _slope_curvature(activation: str, q: float) -> tuple[float, float]:
    """Return V'(q) exactly and V''(q) by a central difference of V' with step 10⁻⁴ q."""
    slope = float(gaussian.second_moment_slope(activation, q))
    step = 1e-4 * q
    upper = float(gaussian.second_moment_slope(activation, q + step))
    lower = float(gaussian.second_moment_slope(activation, q - step))
    return slope, (upper - lower) / (2 * step)


def predicted_variance_spread(
    activation: str,
    q1: float,
    sigma_w: float,
    sigma_b: float,
    widths: list[int] | np.ndarray,
) -> dict[str, np.ndarray]:
    """Predict the mean and spread of the empirical per-layer variance q̂_l at finite width.

    ``widths`` lists n_1, …, n_L, the widths of the L layers whose
    pre-activations are measured; layer 1 has pre-activation variance q1 exactly.
    Returns arrays over layers: ``q`` (mean field), ``mean`` (E q̂_l to order
    1/n), ``std`` (standard deviation of q̂_l across random networks) and
    ``relative_std`` (std / q). Leading order in 1/n, so the relative error of
    ``std`` is O(L/n).
    """
    meanfield.validate_scales(sigma_w, sigma_b)
    widths = np.asarray(widths, dtype=float)
    if widths.ndim != 1 or widths.size == 0 or np.any(widths < 1):
        raise InputError(f"widths must be a non-empty list of layer widths >= 1, got {widths.tolist()}")
    if not q1 > 0:
        raise InputError(f"q1 must be > 0, got {q1}")

    q_values = meanfield.variance_trajectory(activation, q1, sigma_w, sigma_b, len(widths))
    conditional_variance = np.zeros(len(widths))
    bias = np.zeros(len(widths))
    for layer in range(len(widths) - 1):
        q = q_values[layer]
        slope, curvature = _slope_curvature(activation, q)
        second = float(gaussian.activation_second_moment(activation, q))
        noise = (_fourth_moment(activation, q) - second**2) / widths[layer]
        conditional_variance[layer + 1] = sigma_w**4 * (slope**2 * conditional_variance[layer] + noise)
        bias[layer + 1] = sigma_w**2 * (slope * bias[layer] + 0.5 * curvature * conditional_variance[layer])

    std = np.sqrt(conditional_variance + 2.0 * q_values**2 / widths)
    return {"q": q_values, "mean": q_values + bias, "std": std, "relative_std": std / q_values}


def predicted_std_of_empirical_variance(
    activation: str, q1: float, sigma_w: float, sigma_b: float, width: int, depth: int
) -> np.ndarray:
    """Return the predicted standard deviation of q̂_l for layers 1..depth of a square network."""
    return predicted_variance_spread(activation, q1, sigma_w, sigma_b, [width] * depth)["std"]
