"""Exact forward pass and first-step gradients of an MLP with constant layers.

Notation. The network has L weight layers and widths n_0, ..., n_L. Layer l maps
the activations a_{l-1} (a row of width n_{l-1}; a_0 = x is the input) to the
pre-activations

    h_l = a_{l-1} W_l + b_l,      W_l of shape (n_{l-1}, n_l),  b_l of width n_l,

as Keras's ``Dense`` does, then a_l = φ(h_l) for l < L. The output h_L are the
logits. For a batch of B examples the loss is the mean softmax cross-entropy
(``tf.keras.losses.CategoricalCrossentropy(from_logits=True)``) or the mean
squared error over all B·n_L outputs (``tf.keras.losses.MeanSquaredError``).
Backpropagation writes δ_l = ∂loss/∂h_l (one row per example):

    δ_L = (softmax(h_L) − y) / B               (cross-entropy)
    δ_L = 2 (h_L − y) / (B n_L)                (mean squared error)
    δ_l = (δ_{l+1} W_{l+1}ᵀ) ⊙ φ'(h_l)          (l < L)
    ∂loss/∂W_l = Σ_s a_{l-1}^{(s)ᵀ} δ_l^{(s)},   ∂loss/∂b_l = Σ_s δ_l^{(s)}.

A *constant layer* has W_l = c_l·1 1ᵀ and b_l = β_l·1. Each of its units then
computes h_l = c_l·Σ_i a_{l-1,i} + β_l, so all units share one pre-activation
and one activation, and they see the input only through the sum of the previous
layer's activations (through S = Σ_i x_i in the first layer).
:func:`shared_preactivations` returns these closed forms, and
:func:`first_step_gradients` computes every gradient block exactly in sympy for
concrete widths, with random layers kept as matrices of symbols.

Three facts produce the exactly-zero blocks of the first step:

* φ(h) = 0 at a shared pre-activation makes a_l = 0, so ∂loss/∂W_{l+1} = 0;
* φ'(h) = 0 at a shared pre-activation (relu at 0 under TensorFlow's convention)
  makes δ_l = 0, so every block at or below layer l gets zero gradient;
* zero downstream weights W_{l+1} = 0 make δ_l = 0, and so do *constant* output
  weights under cross-entropy, because Σ_k (softmax_k − y_k) = 0 and therefore
  δ_{L-1} = c_L·(Σ_k δ_{L,k})·φ'(h_{L-1}) = 0.

The derivative at a kink follows :mod:`theory.activations` (TensorFlow's
convention) unless the caller passes another value.
"""

from __future__ import annotations

import dataclasses
import logging
from tokenize import TokenError
from collections.abc import Mapping, Sequence

import sympy
from sympy.parsing.sympy_parser import parse_expr

from theory.activations import ACTIVATIONS, z
from theory.errors import InputError
from theory.initializers import InitSpec

logger = logging.getLogger(__name__)

LOSSES = ("softmax_cross_entropy", "mse")


@dataclasses.dataclass(frozen=True)
class SymbolicActivation:
    """An activation φ as a sympy expression in ``z``, with φ' and its kinks.

    Attributes:
        name: a registry name, or the text of a user expression.
        expression: φ(z).
        derivative: φ'(z), with the chosen value substituted at every kink.
        kinks: the points where φ is not differentiable (from a Piecewise).
        derivative_at_kink: the value of φ' at the kinks, or None without kinks.
    """

    name: str
    expression: sympy.Expr
    derivative: sympy.Expr
    kinks: tuple[sympy.Expr, ...] = ()
    derivative_at_kink: sympy.Expr | None = None

    def value(self, point: sympy.Expr) -> sympy.Expr:
        """Return φ(point) exactly."""
        return sympy.simplify(self.expression.subs(z, point))

    def slope(self, point: sympy.Expr) -> sympy.Expr:
        """Return φ'(point) exactly, with the kink convention."""
        return sympy.simplify(self.derivative.subs(z, point))


def _piecewise_kinks(expression: sympy.Expr) -> tuple[sympy.Expr, ...]:
    """Return the boundaries of the conditions of every Piecewise in ``expression``."""
    kinks: set[sympy.Expr] = set()
    for piecewise in expression.atoms(sympy.Piecewise):
        for _, condition in piecewise.args:
            if condition is sympy.true:
                continue
            boundary = condition.as_set().boundary
            kinks.update(point for point in boundary if point.is_finite)
    return tuple(sorted(kinks, key=float))


def _parse_user_expression(text: str) -> sympy.Expr:
    accepted = ", ".join(sorted(ACTIVATIONS))
    try:
        expression = parse_expr(text, local_dict={"z": z})
    except (SyntaxError, TypeError, ValueError, NameError, AttributeError, sympy.SympifyError, TokenError) as error:
        raise InputError(
            f"invalid activation {text!r} ({error.__class__.__name__}); use one of: {accepted}, "
            "or a sympy expression in z such as 'z**3 + z'"
        ) from None
    if not isinstance(expression, sympy.Expr) or expression.free_symbols - {z}:
        raise InputError(
            f"invalid activation {text!r}: an expression may use only the symbol z; "
            f"use one of: {accepted}, or a sympy expression in z such as 'z**3 + z'"
        )
    return expression


def resolve_activation(text: str, kink_derivative: float | None = None) -> SymbolicActivation:
    """Build φ from a registry name or a sympy expression in ``z``.

    ``kink_derivative`` replaces φ' at every kink; without it a registry
    activation uses TensorFlow's value and a user Piecewise uses the branch that
    sympy selects at the kink.

    >>> relu = resolve_activation("relu")
    >>> relu.slope(0), resolve_activation("relu", 0.5).slope(0)
    (0, 1/2)
    >>> resolve_activation("z**3 + z").derivative
    3*z**2 + 1

    Raises:
        InputError: if the text is neither a registry name nor a parsable
            expression in z; the message lists the accepted names.
    """
    if text in ACTIVATIONS:
        registered = ACTIVATIONS[text]
        expression = registered.expression
        kinks = () if registered.kink is None else (sympy.nsimplify(registered.kink),)
        default = registered.derivative_at_kink
    else:
        expression = _parse_user_expression(text)
        kinks = _piecewise_kinks(expression)
        default = None

    derivative = sympy.diff(expression, z)
    at_kink = kink_derivative if kink_derivative is not None else default
    if kinks and at_kink is None:
        at_kink = derivative.subs(z, kinks[0])
    if kinks:
        at_kink = _exact(at_kink) if isinstance(at_kink, float) else sympy.sympify(at_kink)
        conditions = [(at_kink, sympy.Eq(z, kink)) for kink in kinks]
        derivative = sympy.Piecewise(*conditions, (derivative, True))
    elif kink_derivative is not None:
        logger.warning("activation %s has no kink, so --kink-derivative %s has no effect", text, kink_derivative)
        at_kink = None
    return SymbolicActivation(text, expression, derivative, kinks, at_kink if kinks else None)


@dataclasses.dataclass(frozen=True)
class LayerInit:
    """The initializers of one layer's weight matrix and bias vector."""

    weight: InitSpec
    bias: InitSpec


def layer_inits_from_specs(specs: Mapping[str, InitSpec], n_layers: int) -> tuple[LayerInit, ...]:
    """Complete a ``parse_layer_inits`` mapping: unnamed weights normal:1, unnamed biases zeros."""
    return tuple(
        LayerInit(specs.get(f"W{layer}", InitSpec("normal", 1.0)), specs.get(f"b{layer}", InitSpec("zeros")))
        for layer in range(1, n_layers + 1)
    )


def _exact(value: float) -> sympy.Expr:
    """Convert a float constant to the exact decimal it prints as (0.5 -> 1/2)."""
    return sympy.Rational(repr(float(value)))


def shared_preactivations(
    activation: SymbolicActivation, layers: Sequence[LayerInit]
) -> list[sympy.Expr | None]:
    """Return, per layer, the pre-activation shared by all its units, or None.

    The forms use S = Σ_i x_i, the widths n_l, and A_l for Σ_j a_{l,j} where
    the units of layer l do not share a value. A layer with random weights or
    biases has no shared pre-activation (None).

    >>> from theory.initializers import InitSpec
    >>> zero = LayerInit(InitSpec("zeros"), InitSpec("zeros"))
    >>> one = LayerInit(InitSpec("ones"), InitSpec("zeros"))
    >>> sigmoid = resolve_activation("sigmoid")
    >>> h = shared_preactivations(sigmoid, [zero, zero])
    >>> h, sigmoid.value(h[0])
    ([0, 0], 1/2)
    >>> shared_preactivations(sigmoid, [one, one])
    [S, n_1*exp(S)/(exp(S) + 1)]
    """
    forms: list[sympy.Expr | None] = []
    previous_sum = sympy.Symbol("S", real=True)
    for index, layer in enumerate(layers, start=1):
        if not (layer.weight.is_constant and layer.bias.is_constant):
            forms.append(None)
            previous_sum = sympy.Symbol(f"A_{index}", real=True)
            continue

        weight = _exact(layer.weight.constant_value)
        bias = _exact(layer.bias.constant_value)
        preactivation = weight * previous_sum + bias
        forms.append(preactivation)
        width = sympy.Symbol(f"n_{index}", positive=True, integer=True)
        previous_sum = width * activation.expression.subs(z, preactivation)
        previous_sum = sympy.simplify(previous_sum)
    return forms


@dataclasses.dataclass(frozen=True)
class NetworkSymbols:
    """The symbols and matrices of one concrete symbolic network.

    Attributes:
        inputs: the B×n_0 input matrix (symbols x_s_i).
        labels: the B×n_L one-hot label matrix (numbers).
        weights: W_1..W_L; constant layers hold exact numbers, random layers symbols.
        biases: b_1..b_L as 1×n_l rows.
        random_symbols: the symbols of the random blocks, by block name.
    """

    inputs: sympy.Matrix
    labels: sympy.Matrix
    weights: tuple[sympy.Matrix, ...]
    biases: tuple[sympy.Matrix, ...]
    random_symbols: dict[str, sympy.Matrix]


def _block(name: str, spec: InitSpec, rows: int, columns: int) -> tuple[sympy.Matrix, bool]:
    if spec.is_constant:
        return sympy.Matrix(rows, columns, [_exact(spec.constant_value)] * (rows * columns)), False
    return sympy.Matrix(rows, columns, lambda i, j: sympy.Symbol(f"{name}_{i}_{j}", real=True)), True


def build_network(
    widths: Sequence[int], layers: Sequence[LayerInit], labels: Sequence[int], nonnegative_inputs: bool = True
) -> NetworkSymbols:
    """Build the parameters and inputs of a concrete network as sympy matrices.

    ``labels`` contains the class of each example, so B = len(labels). Inputs are
    positive symbols when ``nonnegative_inputs`` (generic non-negative data has no
    all-zero example), real symbols otherwise.
    """
    if len(widths) != len(layers) + 1:
        raise InputError(f"widths {list(widths)} need {len(widths) - 1} layer initializers, got {len(layers)}")
    assumption = {"positive": True} if nonnegative_inputs else {"real": True}
    inputs = sympy.Matrix(len(labels), widths[0], lambda s, i: sympy.Symbol(f"x_{s}_{i}", **assumption))
    one_hot = sympy.Matrix(len(labels), widths[-1], lambda s, k: 1 if labels[s] == k else 0)

    weights, biases, random_symbols = [], [], {}
    for index, layer in enumerate(layers, start=1):
        weight, weight_is_random = _block(f"W{index}", layer.weight, widths[index - 1], widths[index])
        bias, bias_is_random = _block(f"b{index}", layer.bias, 1, widths[index])
        weights.append(weight)
        biases.append(bias)
        if weight_is_random:
            random_symbols[f"W{index}"] = weight
        if bias_is_random:
            random_symbols[f"b{index}"] = bias
    return NetworkSymbols(inputs, one_hot, tuple(weights), tuple(biases), random_symbols)


def _softmax_rows(logits: sympy.Matrix) -> sympy.Matrix:
    """Return softmax per row as p_k = 1 / Σ_j exp(h_j − h_k), so equal logits give exactly 1/K."""
    rows = []
    for s in range(logits.rows):
        row = list(logits.row(s))
        rows.append([1 / sympy.Add(*[sympy.exp(other - value) for other in row]) for value in row])
    return sympy.Matrix(rows)


def forward(activation: SymbolicActivation, network: NetworkSymbols) -> tuple[list[sympy.Matrix], list[sympy.Matrix]]:
    """Return the pre-activations h_1..h_L and activations a_0..a_{L-1}, one row per example."""
    activations = [network.inputs]
    preactivations = []
    for layer, (weight, bias) in enumerate(zip(network.weights, network.biases), start=1):
        ones = sympy.ones(network.inputs.rows, 1)
        preactivation = activations[-1] * weight + ones * bias
        preactivations.append(preactivation)
        if layer < len(network.weights):
            activations.append(preactivation.applyfunc(lambda h: activation.expression.subs(z, h)))
    return preactivations, activations


def output_error(logits: sympy.Matrix, labels: sympy.Matrix, loss: str) -> sympy.Matrix:
    """Return δ_L = ∂loss/∂h_L for the batch mean of ``loss``."""
    batch = logits.rows
    if loss == "softmax_cross_entropy":
        return (_softmax_rows(logits) - labels) / batch
    if loss == "mse":
        return 2 * (logits - labels) / (batch * logits.cols)
    raise InputError(f"unknown loss {loss!r}; use one of: {', '.join(LOSSES)}")


def first_step_gradients(
    activation: SymbolicActivation, network: NetworkSymbols, loss: str = "softmax_cross_entropy"
) -> dict[str, sympy.Matrix]:
    """Return ∂loss/∂W_l and ∂loss/∂b_l at initialization, exactly, by block name.

    Under cross-entropy the backward signal into the last hidden layer uses
    W_L minus its first column, which is exact because Σ_k δ_{L,k} = 0, so
    constant output weights give an exact 0.

    Every hidden unit of a zero-initialized sigmoid layer gets the same gradient,
    and here it is zero because the output weights are zero too:

    >>> from theory.initializers import InitSpec
    >>> zero = LayerInit(InitSpec("zeros"), InitSpec("zeros"))
    >>> sigmoid = resolve_activation("sigmoid")
    >>> network = build_network([2, 3, 2], [zero, zero], labels=[0, 1, 1])
    >>> gradients = first_step_gradients(sigmoid, network)
    >>> gradients["W1"] == sympy.zeros(2, 3), gradients["b1"] == sympy.zeros(1, 3)
    (True, True)
    >>> gradients["W2"]
    Matrix([
    [1/12, -1/12],
    [1/12, -1/12],
    [1/12, -1/12]])
    >>> gradients["b2"]
    Matrix([[1/6, -1/6]])
    """
    preactivations, activations = forward(activation, network)
    n_layers = len(network.weights)
    error = output_error(preactivations[-1], network.labels, loss)

    gradients: dict[str, sympy.Matrix] = {}
    for layer in range(n_layers, 0, -1):
        gradients[f"W{layer}"] = activations[layer - 1].T * error
        gradients[f"b{layer}"] = sympy.ones(1, error.rows) * error
        if layer == 1:
            break

        weight = network.weights[layer - 1]
        if layer == n_layers and loss == "softmax_cross_entropy":
            # Every row of δ_L sums to 0, so subtracting the first column from W_L
            # leaves δ_L W_Lᵀ unchanged and makes the cancellation exact.
            weight = weight - weight[:, 0] * sympy.ones(1, weight.cols)
        signal = error * weight.T
        slopes = preactivations[layer - 2].applyfunc(lambda h: activation.derivative.subs(z, h))
        error = signal.multiply_elementwise(slopes)
    return gradients


def zero_blocks(gradients: Mapping[str, sympy.Matrix]) -> set[str]:
    """Return the names of the blocks whose gradient is exactly zero."""
    return {name for name, gradient in gradients.items() if all(entry == 0 for entry in gradient)}


def substitute_values(
    network: NetworkSymbols, inputs, random: Mapping[str, object], digits: int = 30
) -> NetworkSymbols:
    """Replace the input and random-block symbols by numbers with ``digits`` significant digits.

    Deriving the gradients of the result evaluates every expression as it is
    built, which is much faster than compiling the symbolic gradients of a deep
    random network (about 1.7·10⁵ operations per entry at depth 4).
    """
    import numpy as np

    values: dict[sympy.Symbol, sympy.Float] = {}
    arrays = [(network.inputs, inputs)] + [(network.random_symbols[name], random[name]) for name in network.random_symbols]
    for matrix, array in arrays:
        array = np.asarray(array, dtype=float).reshape(matrix.shape)
        for symbol, value in zip(matrix, array.ravel()):
            values[symbol] = sympy.Float(float(value), digits)

    def replace(matrix: sympy.Matrix) -> sympy.Matrix:
        return matrix.xreplace(values)

    return NetworkSymbols(
        replace(network.inputs),
        network.labels,
        tuple(replace(weight) for weight in network.weights),
        tuple(replace(bias) for bias in network.biases),
        {},
    )


def evaluate_first_step(
    activation: SymbolicActivation, network: NetworkSymbols, inputs, random: Mapping[str, object],
    loss: str = "softmax_cross_entropy",
):
    """Return the first-step gradients at numeric inputs and random blocks, as float arrays."""
    import numpy as np

    gradients = first_step_gradients(activation, substitute_values(network, inputs, random), loss)
    return {name: np.array(gradient.evalf(30).tolist(), dtype=float) for name, gradient in gradients.items()}
