"""Expected initial cross-entropy against Monte Carlo and its limits."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from theory import initial_loss
from theory.errors import InputError
from theory.initializers import InitSpec

SAMPLES = 200_000
Z_CRITICAL = 3.9  # two-sided α = 1e-4 per check


def test_zero_logits_give_log_classes():
    assert initial_loss.expected_cross_entropy(0.0, 10) == pytest.approx(math.log(10), rel=1e-15)
    inputs = np.random.default_rng(0).random((20, 784))
    assert initial_loss.softmax_regression_initial_loss(inputs, InitSpec("zeros")) == pytest.approx(math.log(10))
    loss = initial_loss.mlp_initial_loss(inputs, "relu", [100], [InitSpec("he_normal"), InitSpec("zeros")])
    assert loss == pytest.approx(math.log(10), rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("variance", [0.01, 1.0, 4.0, 25.0])
def test_matches_monte_carlo(variance, seed):
    rng = np.random.default_rng(seed)
    mean, standard_error = initial_loss.monte_carlo_cross_entropy(variance, 10, SAMPLES, rng)
    assert abs(initial_loss.expected_cross_entropy(variance, 10) - mean) < Z_CRITICAL * standard_error


def test_small_variance_expansion():
    variance = 1e-3
    exact = initial_loss.expected_cross_entropy(variance, 10)
    expansion = initial_loss.small_variance_cross_entropy(variance, 10)
    assert abs(exact - expansion) < 10 * variance**2


def test_rejects_invalid_arguments():
    with pytest.raises(InputError, match="n_classes"):
        initial_loss.expected_cross_entropy(1.0, 1)
    with pytest.raises(InputError, match="logit_variance"):
        initial_loss.expected_cross_entropy(-1.0)


# Nested scipy.integrate.quad (QUADPACK) of the Frullani integral, with
# epsrel = 1e-14 in both the inner integral over z and the outer one over u.
QUADPACK_REFERENCE = {1e-4: 2.3026300927690047, 1.0: 2.728863895487244, 25.0: 7.9691870855039975, 1000.0: 48.70032879242371}


@pytest.mark.parametrize("variance", sorted(QUADPACK_REFERENCE))
def test_matches_adaptive_quadrature(variance):
    value = initial_loss.expected_cross_entropy(variance, 10)
    assert value == pytest.approx(QUADPACK_REFERENCE[variance], rel=1e-13)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("variance", [1e-4, 1e3, 1e6, 1e9, 1e12])
def test_matches_monte_carlo_extreme_variance(variance, seed):
    rng = np.random.default_rng(seed)
    mean, standard_error = initial_loss.monte_carlo_cross_entropy(variance, 10, SAMPLES, rng)
    assert abs(initial_loss.expected_cross_entropy(variance, 10) - mean) < Z_CRITICAL * standard_error


@pytest.mark.parametrize("n_classes", [2, 10, 1000])
@pytest.mark.parametrize("variance", [1e-8, 1e-6, 1e-4, 1e-2])
def test_fourth_order_small_variance_expansion(variance, n_classes):
    # Expanding E[log(1 + A)], A = mean_k(e^{z_k}) − 1, to O(s⁴) gives the s⁴ term.
    # The bound on the O(s⁶) remainder is 0.1 s⁶, more than twice the largest
    # coefficient measured (0.044 at K = 2), plus 4 ulp of rounding.
    k = n_classes
    expansion = math.log(k) + variance * (k - 1) / (2 * k) - variance**2 * (k - 1) / (4 * k**2)
    exact = initial_loss.expected_cross_entropy(variance, k)
    assert abs(exact - expansion) <= 0.1 * variance**3 + 4 * np.spacing(exact)


def _expected_max_of_normals(n_classes):
    density = lambda x: x * n_classes * stats.norm.pdf(x) * stats.norm.cdf(x) ** (n_classes - 1)
    return integrate.quad(density, -15, 15, epsabs=1e-15, limit=200)[0]


@pytest.mark.parametrize("n_classes, remainder_coefficient", [(2, 0.1), (10, 1.0), (100, 3.0)])
@pytest.mark.parametrize("variance", [1e3, 1e6, 1e9, 1e12])
def test_large_variance_expansion(variance, n_classes, remainder_coefficient):
    # log S = max_k z_k + log(1 + Σ e^{−gaps}). The density of the top gap at 0
    # is μ_K / s, and ∫_0^∞ log(1 + e^{−g}) dg = π²/12, so
    # E[loss] = μ_K (s + π²/(12 s)) + O(1/s²). The O(1/s²) coefficients
    # measured for s² ≥ 10³ are 0.008, 0.69 and 2.4 for K = 2, 10 and 100.
    std = math.sqrt(variance)
    expected_max = _expected_max_of_normals(n_classes)
    expansion = expected_max * (std + math.pi**2 / (12 * std))
    exact = initial_loss.expected_cross_entropy(variance, n_classes)
    assert abs(exact - expansion) <= remainder_coefficient / variance + 1e-14 * exact


@pytest.mark.parametrize("std", [0.5, 1.0, 2.0])
def test_laplace_methods_agree_at_switch(std):
    hermite = initial_loss._frullani_integral(std**2, 10, use_hermite=True)
    step_split = initial_loss._frullani_integral(std**2, 10, use_hermite=False)
    assert hermite == pytest.approx(step_split, rel=1e-14)


@pytest.mark.parametrize("variance", [1e9, 1e12])
def test_large_variance_uses_few_nodes(variance, monkeypatch):
    """Panel widths grow with s, so the number of quadrature nodes does not grow with the variance."""
    node_counts = []
    original = initial_loss._legendre_panels

    def counting_panels(low, high, width):
        nodes, weights = original(low, high, width)
        node_counts.append(nodes.size)
        return nodes, weights

    monkeypatch.setattr(initial_loss, "_legendre_panels", counting_panels)
    initial_loss.expected_cross_entropy(variance, 10)
    assert 0 < sum(node_counts) <= 2000