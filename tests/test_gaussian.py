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


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "selu", "swish", "relu", "erf"])
def test_zero_mean_moments_match_single_moments(name):
    q = np.logspace(-4, 4, 9)
    moments = gaussian.zero_mean_moments(name, q)
    # The same rule summed in another order: equal up to roundoff.
    np.testing.assert_allclose(moments["mean"], gaussian.activation_mean(name, q), rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(moments["second_moment"], gaussian.activation_second_moment(name, q), rtol=1e-13)
    np.testing.assert_allclose(
        moments["derivative_second_moment"], gaussian.derivative_second_moment(name, q), rtol=1e-13)
    np.testing.assert_allclose(moments["second_moment_slope"], gaussian.second_moment_slope(name, q), rtol=1e-13)


@pytest.mark.parametrize("name, q", [("tanh", 1.0), ("selu", 0.5), ("swish", 4.0)])
def test_hermite_coefficients_sum_to_moments(name, q):
    coefficients = gaussian.hermite_coefficients(name, q, 100)
    assert coefficients.shape == (100,)
    # Σ a_k² = E[φ²] up to the dropped terms, which a kink (selu) makes the largest.
    second = float(gaussian.activation_second_moment(name, q))
    assert np.sum(coefficients**2) == pytest.approx(second, rel=1e-4)
    # Mehler's formula gives E[φ(u₁)φ(u₂)] = Σ a_k² c^k. At c = 0.6 the terms past 100 are below 1e-22.
    c = 0.6
    series = np.sum(coefficients**2 * c ** np.arange(100))
    assert series == pytest.approx(gaussian.activation_cross_moment(name, q, q, c), rel=1e-10)


def test_hermite_coefficients_of_linear():
    # x = √q He_1(z), so only a_1 = √q is non-zero.
    coefficients = gaussian.hermite_coefficients("linear", np.array([0.25, 4.0]), 5)
    expected = np.zeros((2, 5))
    expected[:, 1] = [0.5, 2.0]
    np.testing.assert_allclose(coefficients, expected, atol=1e-13)


def test_moment_tables_reject_invalid_q():
    with pytest.raises(InputError, match="q > 0"):
        gaussian.zero_mean_moments("tanh", np.array([1.0, 0.0]))
    with pytest.raises(InputError, match="q > 0"):
        gaussian.hermite_coefficients("tanh", np.inf, 4)
    with pytest.raises(InputError, match="terms"):
        gaussian.hermite_coefficients("tanh", 1.0, 0)
