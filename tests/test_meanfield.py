"""Mean-field fixed points, critical lines and the phase diagram."""

import math

import numpy as np
import pytest

from theory import gaussian, meanfield
from theory.activations import SELU_ALPHA, SELU_SCALE
from theory.errors import InputError


def test_relu_he_keeps_variance():
    q_values = meanfield.variance_trajectory("relu", 0.7, math.sqrt(2.0), 0.0, 30)
    np.testing.assert_allclose(q_values, 0.7, rtol=1e-13)
    np.testing.assert_allclose(meanfield.chi_1("relu", q_values, math.sqrt(2.0)), 1.0, rtol=1e-15)


def test_relu_fixed_point_is_four():
    assert meanfield.fixed_point_q("relu", math.sqrt(1.9), math.sqrt(0.2)) == pytest.approx(4.0, rel=1e-12)


@pytest.mark.parametrize("name, sigma_w", [("tanh", 1.0), ("relu", math.sqrt(2.0)), ("erf", math.sqrt(math.pi / 4))])
def test_critical_sigma_w_without_bias(name, sigma_w):
    assert meanfield.critical_sigma_w(name, 0.0) == pytest.approx(sigma_w, rel=1e-6)


def test_selu_fixed_point_mean_zero_variance_one():
    assert SELU_ALPHA == pytest.approx(1.6732632423543772)
    assert SELU_SCALE == pytest.approx(1.0507009873554805)
    assert float(gaussian.activation_mean("selu", 1.0)) == pytest.approx(0.0, abs=1e-12)
    assert meanfield.fixed_point_q("selu", 1.0, 0.0, q0=0.3) == pytest.approx(1.0, rel=1e-10)


@pytest.mark.parametrize(
    "sigma_w_squared, q_star, chi_1",
    [(1.5, 0.28689, 1.04057), (2.0, 0.61796, 1.10553), (4.0, 2.12147, 1.36267)],
)
def test_tanh_fixed_points(sigma_w_squared, q_star, chi_1):
    summary = meanfield.fixed_point_summary("tanh", math.sqrt(sigma_w_squared), 0.0)
    assert summary["q_star"] == pytest.approx(q_star, abs=5e-6)
    assert summary["chi_1"] == pytest.approx(chi_1, abs=5e-6)
    assert summary["c_star"] == 0.0


def test_tanh_below_critical_decays_to_zero():
    assert meanfield.fixed_point_q("tanh", 0.9, 0.0) == 0.0
    assert meanfield.fixed_point_q("relu", 2.0, 0.0) == math.inf


def test_sigmoid_mean_enters_variance():
    # Zero-mean weights: q = σ_w² E[φ²] + σ_b², with E[φ]² not subtracted.
    q_next = float(meanfield.variance_map("sigmoid", 1e-12, 1.0, 0.0))
    assert q_next == pytest.approx(0.25, rel=1e-9)


def test_correlation_fixed_point_chaotic():
    summary = meanfield.fixed_point_summary("tanh", 2.0, 0.3)
    c_star = summary["c_star"]
    assert 0 < c_star < 1
    mapped = meanfield.correlation_map("tanh", summary["q_star"], c_star, 2.0, 0.3)
    assert mapped == pytest.approx(c_star, abs=1e-10)
    assert summary["chi_c"] < 1


def test_gradient_factors_width_ratio():
    q_values = np.array([1.0, 1.0])
    factors = meanfield.gradient_factors("relu", q_values, math.sqrt(2.0), widths=[100, 200, 50])
    np.testing.assert_allclose(factors, [2.0, 0.25], rtol=1e-14)
    with pytest.raises(InputError, match="widths"):
        meanfield.gradient_factors("relu", q_values, 1.0, widths=[100, 200])


def test_rejects_invalid_scales():
    with pytest.raises(InputError, match="sigma_w"):
        meanfield.variance_trajectory("tanh", 1.0, 0.0, 0.0, 3)
    with pytest.raises(InputError, match="sigma_b"):
        meanfield.variance_trajectory("tanh", 1.0, 1.0, -0.1, 3)
    with pytest.raises(InputError, match="depth"):
        meanfield.variance_trajectory("tanh", 1.0, 1.0, 0.0, 0)


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "swish", "erf", "relu", "selu"])
def test_phase_diagram_matches_pointwise(name):
    sigma_w = np.array([0.8, 1.3, 2.0, 3.0])
    sigma_b = np.array([0.0, 0.3, 1.0])
    diagram = meanfield.phase_diagram(name, sigma_w, sigma_b)
    for i, w in enumerate(sigma_w):
        for j, b in enumerate(sigma_b):
            summary = meanfield.fixed_point_summary(name, w, b)
            q_star = summary["q_star"]
            if not 0 < q_star < math.inf:
                assert diagram["q_star"][i, j] == q_star
                continue
            assert diagram["q_star"][i, j] == pytest.approx(q_star, rel=1e-8)
            assert diagram["chi_1"][i, j] == pytest.approx(summary["chi_1"], rel=1e-7)
            assert diagram["chi_q"][i, j] == pytest.approx(summary["chi_q"], rel=1e-6)
            # Measured: c* within 2e-8 and χ_c within 2e-8 relative at these points.
            assert diagram["c_star"][i, j] == pytest.approx(summary["c_star"], abs=1e-7), (w, b)
            assert diagram["chi_c"][i, j] == pytest.approx(summary["chi_c"], rel=1e-7), (w, b)


def test_phase_diagram_near_critical_selu():
    # χ₁ = 1.04, c* = 0.964: the Hermite series converges slowest when c* is near 1.
    diagram = meanfield.phase_diagram("selu", np.array([1.3]), np.array([2.0]))
    summary = meanfield.fixed_point_summary("selu", 1.3, 2.0)
    assert diagram["c_star"][0, 0] == pytest.approx(summary["c_star"], abs=1e-5)
    assert diagram["chi_c"][0, 0] == pytest.approx(summary["chi_c"], rel=1e-4)


def test_phase_diagram_full_grid_consistent():
    sigma_w = np.linspace(0.5, 4.0, 200)
    sigma_b = np.linspace(0.0, 2.0, 200)
    for name in ("tanh", "sigmoid", "relu", "erf", "selu", "swish"):
        diagram = meanfield.phase_diagram(name, sigma_w, sigma_b)
        for key in ("sigma_w", "sigma_b", "q_star", "activation_mean", "chi_1", "chi_q",
                    "c_star", "chi_c", "xi_q", "xi_c", "chaotic"):
            assert diagram[key].shape == (200, 200), (name, key)
        finite = (diagram["q_star"] > 0) & np.isfinite(diagram["q_star"])
        assert np.any(finite), name
        c_star = diagram["c_star"][finite]
        chaotic = diagram["chaotic"][finite]
        assert np.all((c_star >= 0) & (c_star <= 1)), name
        assert np.all(c_star[~chaotic] == 1.0), name
        assert np.all(c_star[chaotic] < 1.0), name
        # The fixed point c* is stable, so the map's slope there is below 1.
        assert np.all(diagram["chi_c"][finite][chaotic] < 1.0), name
        assert np.all(np.isnan(diagram["c_star"][~finite])), name


def test_phase_diagram_reuses_tables():
    sigma_w = np.array([1.5, 2.5])
    sigma_b = np.array([0.1, 0.5])
    first = meanfield.phase_diagram("tanh", sigma_w, sigma_b)
    second = meanfield.phase_diagram("tanh", sigma_w, sigma_b)
    for key, values in first.items():
        np.testing.assert_array_equal(values, second[key], err_msg=key)


def test_depth_table_text_and_rejections():
    import argparse

    from theory.meanfield_report import depth_table_text

    args = argparse.Namespace(activation="tanh", depth=20, sigma_w=1.5, sigma_b=0.05, q0=1.0)
    text = depth_table_text(args)
    assert len(text.splitlines()) == 2 + 20 + 2
    for field, value in (("sigma_w", 0.0), ("sigma_b", -0.1), ("depth", 0), ("activation", "tanhh")):
        with pytest.raises(InputError):
            depth_table_text(argparse.Namespace(**{**vars(args), field: value}))
