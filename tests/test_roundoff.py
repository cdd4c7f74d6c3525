"""The all-zero 784-100-10 sigmoid network: exact symmetry, its roundoff breaking, and the width-1 equivalent."""

from __future__ import annotations

import numpy as np
import pytest

from empirical import roundoff
from empirical.data import load_mnist
from empirical.trainer import initialize_parameters


@pytest.fixture(scope="module")
def mnist():
    return load_mnist(dtype="float32")


def test_collapse_expand_roundtrip():
    rng = np.random.default_rng(0)
    collapsed = {"W1": rng.standard_normal((784, 1)), "b1": rng.standard_normal(1),
                 "W2": rng.standard_normal((1, 10)), "b2": rng.standard_normal(10)}
    back = roundoff.collapse(roundoff.expand(collapsed, 100))
    for name in collapsed:
        np.testing.assert_allclose(back[name], collapsed[name], rtol=1e-14, err_msg=name)


def test_collapsed_tracks_trainer_float64(mnist):
    from empirical.trainer import train

    steps = 20
    config = roundoff.roundoff_config("float64", steps).replace(snapshot_steps=(steps,))
    full = train(config, mnist).snapshots[steps]
    collapsed = roundoff.train_collapsed(mnist, "float64", steps + 1, keep_trajectory=True).trajectory[steps]
    expanded = roundoff.expand(collapsed, 100)
    assert np.max(np.abs(full["W1"] - expanded["W1"])) < 1e-12


def test_first_asymmetric_op_found(mnist):
    found = roundoff.first_asymmetric_op(mnist, "float32", max_steps=5)
    assert found["step"] is not None


def test_replay_matches_tape(mnist):
    found = roundoff.first_asymmetric_op(mnist, "float32", max_steps=5)
    assert found["replay_matches_tape"]


def test_first_step_keeps_symmetry(mnist):
    found = roundoff.first_asymmetric_op(mnist, "float64", max_steps=5)
    assert found["step"] >= 2


@pytest.mark.xfail(reason="exact arithmetic keeps the units identical, but TensorFlow's float32 roundoff "
                          "makes them differ by order 1 after 1000 steps", strict=True)
def test_units_stay_identical_float32(mnist):
    curve = roundoff.unit_difference_curve(mnist, "float32", 1000)
    assert curve.differences[-1] == 0.0


def test_collapsed_below_float32_run(mnist):
    collapsed = roundoff.train_collapsed(mnist, "float32", 1000)
    trainer = roundoff.unit_difference_curve(mnist, "float32", 1000)
    assert collapsed.test_accuracy < trainer.test_accuracy - 0.05


@pytest.mark.slow
def test_growth_rate_matches_linearization(mnist):
    from empirical.measure import Z_CRITICAL

    measured, predicted = [], []
    for seed in (0, 1, 2):
        measured.append(roundoff.unit_difference_curve(mnist, "float32", 1000, seed).growth_rate())
        collapsed = roundoff.train_collapsed(mnist, "float64", 1000, seed, keep_trajectory=True)
        predicted.append(roundoff.predicted_growth_rate(roundoff.linearized_growth(mnist, collapsed, seed=seed)["log_growth"]))
    tolerance = Z_CRITICAL * np.sqrt(np.var(measured) + np.var(predicted)) / np.sqrt(3)
    assert abs(np.mean(measured) - np.mean(predicted)) <= tolerance, (measured, predicted)


def test_hidden_unit_difference_zero_for_zero_init():
    parameters = initialize_parameters(roundoff.roundoff_config())
    assert roundoff.hidden_unit_difference(parameters) == 0.0


def test_growth_rate_window_missing_step():
    curve = roundoff.DifferenceCurve(steps=[1, 2], differences=[1.0, 2.0], test_accuracy=0.1, metadata={})
    with pytest.raises(ValueError, match="window"):
        curve.growth_rate((100, 300))
