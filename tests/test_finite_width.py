"""Finite-width spread of the per-layer empirical variance against simulated networks."""

import math

import numpy as np
import pytest

from theory import finite_width
from theory.errors import InputError


def test_linear_second_moment_growth_exact():
    rng = np.random.default_rng(0)
    width, depth, samples = 16, 5, 200_000
    # q̂_L / q̂_0 is a product of independent χ²_n/n factors for a linear network.
    ratio = np.prod(rng.chisquare(width, size=(samples, depth)) / width, axis=1)
    second_moment = np.mean(ratio**2)
    standard_error = np.std(ratio**2, ddof=1) / math.sqrt(samples)
    assert abs(second_moment - finite_width.linear_second_moment_growth(width, depth)) < 4 * standard_error


def test_linear_leading_order():
    spread = finite_width.predicted_variance_spread("linear", 1.0, 1.0, 0.0, [256] * 8)
    assert spread["relative_std"][-1] == pytest.approx(math.sqrt(2 * 8 / 256), rel=1e-12)
    assert finite_width.linear_relative_std(256, 8) == pytest.approx(spread["relative_std"][-1], rel=0.02)


@pytest.mark.parametrize("seed", [0, 1])
def test_tanh_spread_matches_simulation(seed):
    rng = np.random.default_rng(seed)
    width, depth, networks, sigma_w, sigma_b = 256, 5, 400, 1.5, 0.1
    samples = np.empty((networks, depth))
    for network in range(networks):
        h = rng.standard_normal(width)  # layer 1 pre-activations with q_1 = 1
        for layer in range(depth):
            samples[network, layer] = np.mean(h**2)
            weights = rng.standard_normal((width, width)) * sigma_w / math.sqrt(width)
            h = weights @ np.tanh(h) + sigma_b * rng.standard_normal(width)
    predicted = finite_width.predicted_variance_spread("tanh", 1.0, sigma_w, sigma_b, [width] * depth)

    observed_std = samples.std(axis=0, ddof=1)
    # Standard error of a sample std, std/√(2(R−1)), times z = 3.9 (α = 1e-4), plus the
    # O(L/n) relative error of the leading-order theory.
    tolerance = 3.9 / math.sqrt(2 * (networks - 1)) + depth / width
    np.testing.assert_array_less(np.abs(observed_std / predicted["std"] - 1), tolerance)
    mean_error = 3.9 * observed_std / math.sqrt(networks)
    np.testing.assert_array_less(np.abs(samples.mean(axis=0) - predicted["mean"]), mean_error)


def test_rejects_bad_widths():
    with pytest.raises(InputError, match="widths"):
        finite_width.predicted_variance_spread("tanh", 1.0, 1.0, 0.0, [])
