"""Gaussian quadrature against closed forms and scipy's adaptive integration."""

import numpy as np
import pytest
from scipy import integrate

from theory import gaussian
from theory.activations import get_activation
from theory.errors import InputError

Q_VALUES = [1e-6, 1e-3, 0.1, 1.0, 10.0, 100.0, 1e3, 1e4]
MOMENTS = ["mean", "second_moment", "derivative_mean", "derivative_second_moment"]


def adaptive_expectation(function, q, mean=0.0):
    """E[f(x)], x ~ N(mean, q), by scipy.integrate.quad split at the kink and ±40."""
    std = np.sqrt(q)
    low, high = mean - 12 * std, mean + 12 * std
    breaks = [low] + [p for p in (-40.0, 0.0, 40.0) if low < p < high] + [high]

    def integrand(x):
        density = np.exp(-0.5 * ((x - mean) / std) ** 2) / (np.sqrt(2 * np.pi) * std)
        return function(np.array([x]))[0] * density

    return sum(
        integrate.quad(integrand, a, b, epsabs=0, epsrel=1e-13, limit=500)[0]
        for a, b in zip(breaks[:-1], breaks[1:])
    )


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "swish", "softplus", "elu", "selu"])
@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::scipy.integrate.IntegrationWarning")
def test_quadrature_matches_adaptive(name):
    activation = get_activation(name)
    for moment in MOMENTS:
        integrand = gaussian._MOMENT_INTEGRANDS[moment](activation)
        for q in Q_VALUES:
            reference = adaptive_expectation(integrand, q)
            value = float(gaussian.activation_moment(name, moment, q, closed_form=False))
            # Means that vanish (odd tanh, SELU at q = 1) are compared to the roundoff
            # of summing terms of size max(1, q).
            assert value == pytest.approx(reference, rel=1e-10, abs=1e-14 * max(1.0, q)), (moment, q)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "erf", "linear", "gelu"])
def test_closed_forms_match_quadrature(name):
    q = np.logspace(-6, 4, 41)
    for moment in MOMENTS:
        exact = gaussian.activation_moment(name, moment, q)
        numeric = gaussian.activation_moment(name, moment, q, closed_form=False)
        np.testing.assert_allclose(exact, numeric, rtol=1e-12, atol=1e-14, err_msg=moment)


def test_relu_with_mean_matches_quadrature():
    q = np.logspace(-3, 3, 13)
    for mean in (-3.0, -0.5, 0.7, 5.0):
        for moment in ("mean", "second_moment", "derivative_mean"):
            exact = gaussian.activation_moment("relu", moment, q, mean)
            numeric = gaussian.activation_moment("relu", moment, q, mean, closed_form=False)
            np.testing.assert_allclose(exact, numeric, rtol=1e-12, atol=1e-14)


def test_folded_normal_mean():
    assert float(gaussian.folded_normal_mean(2.0, 0.3)) == pytest.approx(
        float(gaussian.expect(np.abs, 2.0, 0.3)), rel=1e-12)
    assert float(gaussian.folded_normal_mean(1.0)) == pytest.approx(np.sqrt(2 / np.pi), rel=1e-14)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "erf", "linear"])
def test_cross_moment_kernels(name):
    for q1, q2, c in [(1.0, 1.0, 0.3), (2.0, 0.5, -0.7), (100.0, 3.0, 0.99), (1.0, 1.0, 1.0)]:
        exact = gaussian.activation_cross_moment(name, q1, q2, c)
        numeric = gaussian.activation_cross_moment(name, q1, q2, c, closed_form=False)
        assert exact == pytest.approx(numeric, rel=1e-12)
        exact = gaussian.derivative_cross_moment(name, q1, q2, c)
        numeric = gaussian.derivative_cross_moment(name, q1, q2, c, closed_form=False)
        assert exact == pytest.approx(numeric, rel=1e-12)


def test_cross_moment_at_full_correlation():
    value = gaussian.activation_cross_moment("tanh", 2.0, 2.0, 1.0)
    assert value == pytest.approx(float(gaussian.activation_second_moment("tanh", 2.0)), rel=1e-12)


def test_second_moment_slope_matches_difference():
    for name in ("tanh", "sigmoid", "elu"):
        q, step = 0.8, 1e-5
        difference = (gaussian.activation_second_moment(name, q + step)
                      - gaussian.activation_second_moment(name, q - step)) / (2 * step)
        assert float(gaussian.second_moment_slope(name, q)) == pytest.approx(float(difference), rel=1e-7)


def test_vectorized_over_q_grid():
    q = np.logspace(-2, 2, 7)
    values = gaussian.activation_second_moment("tanh", q)
    assert values.shape == (7,)
    assert values[3] == pytest.approx(float(gaussian.activation_second_moment("tanh", q[3])), rel=1e-15)


def test_zero_variance_is_point_mass():
    assert float(gaussian.expect(np.tanh, 0.0, 0.5)) == pytest.approx(np.tanh(0.5), rel=1e-15)


def test_rejects_negative_variance():
    with pytest.raises(InputError, match="variance q"):
        gaussian.expect(np.tanh, -1.0)
    with pytest.raises(InputError, match="covariance"):
        gaussian.expect_pair(np.tanh, np.tanh, 1.0, 1.0, 2.0)
    with pytest.raises(InputError, match="unknown activation"):
        gaussian.activation_mean("tanhh", 1.0)
