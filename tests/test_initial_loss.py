"""Expected initial cross-entropy against Monte Carlo and its limits."""

import math

import numpy as np
import pytest

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
