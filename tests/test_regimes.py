"""The regime classifier against short float64 TensorFlow training runs, and ``initsym predict``."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from paper import cli
from test_symbolic import TF_ACTIVATIONS
from theory import regimes, symbolic
from theory.initializers import parse_layer_inits

# (activation, --init text, widths, regime the project claims)
CASES = [
    ("sigmoid", "W1=zeros,W2=normal:1", (6, 5, 4), "learns"),
    ("sigmoid", "W=zeros", (6, 5, 4), "collapsed"),
    ("softplus", "W=zeros", (6, 5, 4), "collapsed"),
    ("relu", "W=zeros", (6, 5, 4), "dead"),
    ("tanh", "W=zeros", (6, 5, 4), "dead"),
    ("gelu", "W=zeros", (6, 5, 4), "dead"),
    ("swish", "W=zeros", (6, 5, 4), "dead"),
    ("elu", "W=zeros", (6, 5, 4), "dead"),
    ("linear", "W=zeros", (6, 5, 4), "dead"),
    ("z**3 + z", "W=zeros", (6, 5, 4), "dead"),
    ("relu", "W1=zeros,W2=normal:1", (6, 5, 4), "dead"),
    ("leaky_relu", "W1=zeros,W2=normal:1", (6, 5, 4), "learns"),
    ("relu", "W=zeros,b=normal:1", (6, 8, 4), "frozen"),
    ("relu", "W=constant:0.3", (6, 5, 4), "collapsed"),
    ("relu", "W=constant:-0.3", (6, 5, 4), "dead"),
    ("tanh", "W=ones", (6, 5, 4), "collapsed"),
    ("tanh", "W=normal:1", (6, 5, 4), "learns"),
    ("sigmoid", "W=zeros", (6, 5, 4, 4), "collapsed"),
    ("relu", "W=normal:1,W2=zeros", (6, 5, 4, 4), "dead"),
    ("relu", "W=normal:1,W2=zeros,b2=ones", (6, 5, 4, 4), "learns"),
    ("linear", "W=zeros", (6, 4), "learns"),
    ("linear", "W=ones,b=ones", (6, 4), "learns"),
]


def predict(activation, init_text, widths, loss="softmax_cross_entropy", kink=None, inputs="nonnegative"):
    layers = symbolic.layer_inits_from_specs(parse_layer_inits(init_text, len(widths) - 1), len(widths) - 1)
    phi = symbolic.resolve_activation(activation, kink)
    return regimes.classify(phi, layers, widths, loss, inputs == "nonnegative"), layers


def initial_values(layers, widths, rng):
    values = {}
    for index, layer in enumerate(layers, start=1):
        for name, spec, shape in (
            (f"W{index}", layer.weight, (widths[index - 1], widths[index])),
            (f"b{index}", layer.bias, (widths[index],)),
        ):
            if spec.is_constant:
                values[name] = np.full(shape, spec.constant_value)
            else:
                values[name] = rng.normal(0.0, spec.parameter, size=shape)
    return values


def train(activation, layers, widths, steps=40, learning_rate=0.5, seed=0, loss="softmax_cross_entropy"):
    """Train full-batch SGD in float64 on non-negative synthetic data; return initial and final values."""
    rng = np.random.default_rng(seed)
    inputs = tf.constant(rng.uniform(0.0, 1.0, size=(24, widths[0])))
    classes = rng.choice(widths[-1], size=24, p=np.linspace(1.0, 2.0, widths[-1]) / np.linspace(1.0, 2.0, widths[-1]).sum())
    labels = tf.one_hot(classes, widths[-1], dtype=tf.float64)
    start = initial_values(layers, widths, rng)
    variables = {name: tf.Variable(value, dtype=tf.float64) for name, value in start.items()}
    n_layers = len(layers)

    def logits():
        hidden = inputs
        for layer in range(1, n_layers + 1):
            preactivation = hidden @ variables[f"W{layer}"] + variables[f"b{layer}"]
            hidden = TF_ACTIVATIONS[activation](preactivation) if layer < n_layers else preactivation
        return hidden

    for _ in range(steps):
        with tf.GradientTape() as tape:
            output = logits()
            if loss == "mse":
                value = tf.reduce_mean((output - labels) ** 2)
            else:
                value = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels, output))
        for name, gradient in zip(variables, tape.gradient(value, list(variables.values()))):
            variables[name].assign_sub(learning_rate * gradient)
    final = {name: variable.numpy() for name, variable in variables.items()}
    return start, final, logits().numpy()


def is_tied(final, layer):
    incoming, bias, outgoing = final[f"W{layer}"], final[f"b{layer}"], final[f"W{layer + 1}"]
    scale = 1e-9 * (1.0 + np.abs(incoming).max() + np.abs(outgoing).max())
    return (
        np.abs(incoming - incoming[:, :1]).max() < scale
        and np.abs(bias - bias[0]).max() < scale
        and np.abs(outgoing - outgoing[:1, :]).max() < scale
    )


@pytest.mark.parametrize("activation, init_text, widths, claimed", CASES)
def test_regime_matches_training(activation, init_text, widths, claimed):
    prediction, layers = predict(activation, init_text, widths)
    assert prediction.regime == claimed, prediction.reason

    start, final, logits = train(activation, layers, widths)
    for block in prediction.blocks:
        change = np.abs(final[block.name] - start[block.name]).max()
        if block.first_step is None and block.name.startswith("W") and int(block.name[1:]) in prediction.dead_fractions:
            continue
        if block.first_step is None:
            assert change == 0.0, f"{block.name} should never move, moved by {change:g}"
        else:
            assert change > 1e-13, f"{block.name} should move from step {block.first_step}"

    for layer in range(1, len(widths) - 1):
        assert is_tied(final, layer) == (layer in prediction.tied.groups), f"layer {layer} tied"

    input_dependence = np.abs(logits - logits[:1]).max()
    if prediction.output_depends_on_input:
        assert input_dependence > 1e-9
    else:
        assert input_dependence == 0.0


def test_random_bias_relu_freezes_negative_bias_units():
    prediction, layers = predict("relu", "W=zeros,b=normal:1", (6, 8, 4))
    assert prediction.dead_fractions == {1: pytest.approx(0.5)}

    start, final, _ = train("relu", layers, (6, 8, 4), seed=3)
    negative = start["b1"] < 0
    assert negative.any()
    assert (~negative).any()
    assert np.all(final["b1"][negative] == start["b1"][negative])
    assert np.all(final["W1"][:, negative] == 0.0)
    assert np.all(final["W2"][negative, :] == start["W2"][negative, :])
    assert np.all(final["b1"][~negative] != start["b1"][~negative])


def test_wavefront_all_zeros_sigmoid_depth4():
    """Layer L−k first receives a gradient at step k+1."""
    prediction, _ = predict("sigmoid", "W=zeros", (6, 5, 4, 4, 3))
    first = {block.name: block.first_step for block in prediction.blocks}
    assert first == {"W4": 1, "b4": 1, "W3": 2, "b3": 2, "W2": 3, "b2": 3, "W1": 4, "b1": 4}


def test_wavefront_matches_training():
    _, layers = predict("sigmoid", "W=zeros", (6, 5, 4, 4, 3))
    for steps, moved in ((1, {"W4", "b4"}), (2, {"W4", "b4", "W3", "b3"}), (3, {"W4", "b4", "W3", "b3", "W2", "b2"})):
        start, final, _ = train("sigmoid", layers, (6, 5, 4, 4, 3), steps=steps)
        assert {name for name in start if np.abs(final[name] - start[name]).max() > 0} == moved, steps


def test_relu_half_kink_convention_learns():
    """With relu'(0) = 1/2 (JAX's maximum), zero W1 under a random W2 learns."""
    prediction, _ = predict("relu", "W1=zeros,W2=normal:1", (6, 5, 4), kink=0.5)
    assert prediction.regime == "learns"


def test_relu_constant_any_inputs_not_collapsed():
    """On inputs of both signs a positive constant layer is alive, so it still collapses."""
    prediction, _ = predict("relu", "W=constant:0.3", (6, 5, 4), inputs="any")
    assert prediction.regime == "collapsed"


def test_mse_constant_output_passes_gradient():
    prediction, _ = predict("tanh", "W=ones", (6, 5, 4), loss="mse")
    first = {block.name: block.first_step for block in prediction.blocks}
    assert first["W1"] == 1


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "tanh", "softplus", "leaky_relu", "z**3 + z"])
@pytest.mark.parametrize("init_text", ["W=zeros", "W=ones", "W1=zeros,W2=normal:1", "W=zeros,b=ones", "W=constant:-0.5"])
def test_first_step_zero_blocks_match_symbolic(activation, init_text):
    """The classifier's step-1 zero blocks are exactly the blocks sympy derives as zero."""
    widths = (4, 3, 3, 2)
    prediction, layers = predict(activation, init_text, widths)
    network = symbolic.build_network(widths, layers, labels=(0, 1, 1))
    exact = symbolic.zero_blocks(symbolic.first_step_gradients(symbolic.resolve_activation(activation), network))
    assert {block.name for block in prediction.blocks if block.zero_at_first_step} == exact


def run_predict(capsys, *arguments):
    status = cli.main(["predict", *arguments])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_predict_sigmoid_zero_first(capsys):
    status, out, _ = run_predict(capsys, "--activation", "sigmoid", "--init", "W1=zeros,W2=normal:1")
    assert status == 0
    assert "regime: learns" in out
    assert "W1: nonzero at step 1" in out
    assert "W2: nonzero at step 1" in out


def test_predict_latex(capsys):
    status, out, _ = run_predict(capsys, "--activation", "sigmoid", "--init", "W=zeros", "--latex")
    assert status == 0
    assert "regime: collapsed" in out
    assert r"\begin{theorem}" in out
    assert "widths 784-1-10" in out


def test_predict_rejects_unknown_activation(capsys):
    status, _, err = run_predict(capsys, "--activation", "sigmoidd(", "--init", "W=zeros")
    assert status == 2
    assert "relu" in err
    assert "sigmoid" in err


def test_predict_rejects_malformed_init(capsys):
    status, _, err = run_predict(capsys, "--activation", "relu", "--init", "W1=zeroes")
    assert status == 2
    assert "unknown initializer" in err


def test_predict_rejects_bad_widths(capsys):
    status, _, err = run_predict(capsys, "--activation", "relu", "--init", "W=zeros", "--widths", "784,0,10")
    assert status == 2
    assert "784,0,10" in err


def test_ones_softmax_regression_tracks_zeros():
    """W = ones, b = ones differs from zeros by a per-example logit shift at every step."""
    runs = []
    for init_text in ("W=zeros", "W=ones,b=ones"):
        _, layers = predict("linear", init_text, (6, 4))
        runs.append(train("linear", layers, (6, 4), steps=30))
    (zero_start, zero_final, zero_logits), (one_start, one_final, one_logits) = runs
    shift = one_logits - zero_logits
    assert np.abs(shift - shift[:, :1]).max() < 1e-12
    assert np.abs((one_final["W1"] - one_start["W1"]) - (zero_final["W1"] - zero_start["W1"])).max() < 1e-12
