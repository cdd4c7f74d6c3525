"""Practitioners' claims about initialization, measured over three seeds.

A claim that does not hold on every seed is a finding: its test is marked
``xfail(strict=True)`` with the measured outcome as the reason.
"""

from __future__ import annotations

import pytest

from empirical import cases
from empirical.data import load_mnist

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def mnist():
    return load_mnist(dtype="float32")


def _row(rows, quantity):
    return next(row for row in rows if row.quantity == quantity)


@pytest.fixture(scope="module")
def zero_hidden_rows(mnist):
    return cases.zero_hidden_layer(mnist, SEEDS)


def test_zero_hidden_blocks(zero_hidden_rows):
    assert _row(zero_hidden_rows, "zero-gradient blocks at step 0").verdict == "pass"


def test_zero_hidden_majority_rate(zero_hidden_rows):
    assert _row(zero_hidden_rows, "test accuracy with the zero hidden layer").verdict == "pass"


def test_zero_hidden_softmax_works(zero_hidden_rows):
    assert _row(zero_hidden_rows, "test accuracy of the softmax model without it").verdict == "holds"


@pytest.fixture(scope="module")
def adam_rows(mnist):
    return cases.adam_relu_inits(mnist, SEEDS)


@pytest.mark.slow
@pytest.mark.parametrize("quantity", [
    "W=zeros: test accuracy", "W=ones: test accuracy", "W=ones: largest training-batch loss",
    "W=uniform:0.1: test accuracy", "W=normal:0.1: test accuracy",
    "W=zeros: hidden-unit spread after training", "W=ones: hidden-unit spread after training",
])
def test_adam_claim(quantity, adam_rows):
    assert _row(adam_rows, quantity).verdict == "holds"


@pytest.fixture(scope="module")
def scaled_rows(mnist):
    return cases.relu_scaled_normal(mnist, SEEDS)


@pytest.mark.slow
@pytest.mark.parametrize("label", ["×10", "×0.01", "He"])
def test_scaled_initial_loss(label, scaled_rows):
    assert _row(scaled_rows, f"{label}: initial loss").verdict == "pass"


@pytest.mark.slow
def test_scaled_he_best(scaled_rows):
    assert _row(scaled_rows, "He trains best").verdict == "holds"


@pytest.mark.slow
@pytest.mark.xfail(reason="measured: ×0.01 reaches 0.10, 0.28 and 0.17 test accuracy on seeds 0-2 "
                          "(SGD 0.1, 1000 steps), so on one seed it moves more than 'barely'", strict=True)
def test_scaled_small_barely_moves(scaled_rows):
    assert _row(scaled_rows, "×0.01 barely moves").verdict == "holds"


@pytest.mark.slow
@pytest.mark.xfail(reason="measured: ×10 stays at 0.10 test accuracy on every seed with SGD 0.1; "
                          "the cause (dead relu units after the first huge updates is a guess) is not measured", strict=True)
def test_scaled_large_learns(scaled_rows):
    assert _row(scaled_rows, "×10 learns").verdict == "holds"


@pytest.fixture(scope="module")
def tanh_rows(mnist):
    return cases.tanh_initial_loss(mnist, SEEDS)


@pytest.mark.parametrize("quantity", ["N(0,1) everywhere: initial loss", "last layer N(0,1)×0.01: initial loss"])
def test_tanh_loss_prediction(quantity, tanh_rows):
    assert _row(tanh_rows, quantity).verdict == "pass"


@pytest.mark.parametrize("quantity", ["N(0,1) everywhere: initial loss far above ln 10",
                                      "last layer N(0,1)×0.01: initial loss ≈ ln 10"])
def test_tanh_loss_claim(quantity, tanh_rows):
    assert _row(tanh_rows, quantity).verdict == "holds"


@pytest.fixture(scope="module")
def sigmoid_rows(mnist):
    return cases.sigmoid_gradient_ratio(mnist, SEEDS)


def test_sigmoid_ratio_prediction(sigmoid_rows):
    assert _row(sigmoid_rows, "ln(E δ1² / E δ4²), per example").verdict == "pass"


def test_sigmoid_ratio_claim(sigmoid_rows):
    assert _row(sigmoid_rows, "‖∂L/∂b1‖ / ‖∂L/∂b4‖ (batch of 1000)").verdict == "holds"


@pytest.fixture(scope="module")
def linear_rows():
    return cases.linear_stack_overflow(seeds=SEEDS)


def test_linear_growth(linear_rows):
    assert _row(linear_rows, "std growth per layer (layers 1–20)").verdict == "pass"


def test_linear_overflow_layer(linear_rows):
    assert _row(linear_rows, "first layer with an infinite entry").verdict == "pass"


def test_linear_overflow_claim(linear_rows):
    assert _row(linear_rows, "overflow around layer 31").verdict == "holds"


def test_all_cases_rejects_no_seeds(mnist):
    with pytest.raises(ValueError, match="seed"):
        cases.all_cases(mnist, ())
