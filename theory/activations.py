"""Activation functions shared by the symbolic and numeric theory.

Each activation φ is defined three ways that must agree: a numpy function for
quadrature and simulation, its derivative φ' with TensorFlow's convention at a
kink, and a sympy expression for exact derivations. TensorFlow's gradient kernels
fix the convention at z = 0 (``ReluGrad`` tests ``z > 0``, ``EluGrad`` and
``SeluGrad`` test ``z < 0``), which gives

* relu'(0) = 0,
* leaky_relu'(0) = α,
* elu'(0) = 1,
* selu'(0) = λ.

A library that writes relu as ``maximum(z, 0)`` and differentiates it
symmetrically (JAX) gets relu'(0) = 1/2 instead, so the value at a kink is a
field of :class:`Activation` that a caller can replace with
:func:`dataclasses.replace`.

The constants are those of TensorFlow 2.x: ``tf.nn.leaky_relu`` uses α = 0.2,
``tf.nn.elu`` uses α = 1, ``tf.nn.gelu`` defaults to the exact (erf) form, and
SELU uses the values of Klambauer et al. (2017), "Self-Normalizing Neural
Networks", eq. (2).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import sympy
from scipy import special

from theory.errors import InputError

LEAKY_RELU_SLOPE = 0.2
"""Negative slope α of ``tf.nn.leaky_relu`` (its default)."""

SELU_ALPHA = 1.6732632423543772848170429916717
"""α of SELU (Klambauer et al. 2017, eq. 2)."""

SELU_SCALE = 1.0507009873554804934193349852946
"""λ of SELU (Klambauer et al. 2017, eq. 2)."""

ArrayFunction = Callable[[np.ndarray], np.ndarray]


@dataclasses.dataclass(frozen=True)
class Activation:
    """An activation φ with its derivative and its exact sympy form.

    Attributes:
        name: the name used on the command line and in configurations.
        function: φ evaluated elementwise on a numpy array.
        derivative: φ' evaluated elementwise; at a kink it returns
            ``derivative_at_kink``.
        expression: φ as a sympy function of the symbol ``z``; piecewise
            activations use :class:`sympy.Piecewise`.
        kink: the point where φ is not differentiable, or None.
        derivative_at_kink: the value of φ' used at ``kink``.
    """

    name: str
    function: ArrayFunction
    derivative: ArrayFunction
    expression: sympy.Expr
    kink: float | None = None
    derivative_at_kink: float | None = None

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return self.function(np.asarray(z, dtype=float))

    def value_at_zero(self) -> float:
        """Return φ(0), the activation of every unit of a zero-initialized layer."""
        return float(self.function(np.zeros(1))[0])

    def derivative_at_zero(self) -> float:
        """Return φ'(0) under this activation's kink convention."""
        return float(self.with_kink_convention(np.zeros(1))[0])

    def with_kink_convention(self, z: np.ndarray) -> np.ndarray:
        """Evaluate φ' with ``derivative_at_kink`` substituted at the kink."""
        z = np.asarray(z, dtype=float)
        slope = np.asarray(self.derivative(z), dtype=float)
        if self.kink is None:
            return slope
        return np.where(z == self.kink, self.derivative_at_kink, slope)


z = sympy.Symbol("z", real=True)
"""The pre-activation symbol of every ``Activation.expression``."""


def _sigmoid_derivative(x: np.ndarray) -> np.ndarray:
    s = special.expit(x)
    return s * (1.0 - s)


def _tanh_derivative(x: np.ndarray) -> np.ndarray:
    # sech²(x) = 4e^{−2|x|}/(1 + e^{−2|x|})² keeps full relative accuracy at large |x|,
    # where 1 − tanh² cancels and 1/cosh² overflows.
    decay = np.exp(-2.0 * np.abs(x))
    return 4.0 * decay / (1.0 + decay) ** 2


def _gelu_derivative(x: np.ndarray) -> np.ndarray:
    return special.ndtr(x) + x * np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)


def _elu(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def _elu_derivative(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


def _swish_derivative(x: np.ndarray) -> np.ndarray:
    s = special.expit(x)
    return s + x * s * (1.0 - s)


_sympy_sigmoid = 1 / (1 + sympy.exp(-z))

ACTIVATIONS: dict[str, Activation] = {
    "linear": Activation(
        "linear", lambda x: x, np.ones_like, z),
    "sigmoid": Activation(
        "sigmoid", special.expit, _sigmoid_derivative, _sympy_sigmoid),
    "tanh": Activation(
        "tanh", np.tanh, _tanh_derivative, sympy.tanh(z)),
    "relu": Activation(
        "relu",
        lambda x: np.maximum(x, 0.0),
        lambda x: (x > 0).astype(float),
        sympy.Piecewise((z, z > 0), (0, True)),
        kink=0.0,
        derivative_at_kink=0.0,
    ),
    "leaky_relu": Activation(
        "leaky_relu",
        lambda x: np.where(x > 0, x, LEAKY_RELU_SLOPE * x),
        lambda x: np.where(x > 0, 1.0, LEAKY_RELU_SLOPE),
        sympy.Piecewise((z, z > 0), (sympy.Float(LEAKY_RELU_SLOPE) * z, True)),
        kink=0.0,
        derivative_at_kink=LEAKY_RELU_SLOPE,
    ),
    "elu": Activation(
        "elu",
        _elu,
        _elu_derivative,
        sympy.Piecewise((z, z > 0), (sympy.exp(z) - 1, True)),
        kink=0.0,
        derivative_at_kink=1.0,
    ),
    "selu": Activation(
        "selu",
        lambda x: SELU_SCALE * _elu(x, SELU_ALPHA),
        lambda x: SELU_SCALE * _elu_derivative(x, SELU_ALPHA),
        sympy.Float(SELU_SCALE, 30)
        * sympy.Piecewise((z, z > 0), (sympy.Float(SELU_ALPHA, 30) * (sympy.exp(z) - 1), True)),
        kink=0.0,
        derivative_at_kink=SELU_SCALE,
    ),
    "softplus": Activation(
        "softplus", lambda x: np.logaddexp(0.0, x), special.expit, sympy.log(1 + sympy.exp(z))),
    "swish": Activation(
        "swish", lambda x: x * special.expit(x), _swish_derivative, z * _sympy_sigmoid),
    "gelu": Activation(
        "gelu",
        lambda x: x * special.ndtr(x),
        _gelu_derivative,
        z * (1 + sympy.erf(z / sympy.sqrt(2))) / 2,
    ),
    "erf": Activation(
        "erf",
        special.erf,
        lambda x: 2.0 / np.sqrt(np.pi) * np.exp(-x * x),
        sympy.erf(z),
    ),
}
"""Every activation the theory and the trainer support, by name."""


def get_activation(name: str) -> Activation:
    """Look up an activation by name.

    Raises:
        ValueError: if ``name`` is not a key of :data:`ACTIVATIONS`; the message
            lists the accepted names.
    """
    try:
        return ACTIVATIONS[name]
    except KeyError:
        accepted = ", ".join(sorted(ACTIVATIONS))
        raise InputError(
            f"unknown activation {name!r}; use one of: {accepted}"
        ) from None
