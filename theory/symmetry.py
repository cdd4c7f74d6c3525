"""The symmetry theorem for tied units, and the width-1 network they collapse to.

Notation as in :mod:`theory.symbolic`: h_l = a_{l-1} W_l + b_l with W_l of shape
(n_{l-1}, n_l). Two units j, j' of hidden layer l are *tied* when column j of W_l
equals column j', b_{l,j} = b_{l,j'}, and row j of W_{l+1} equals row j'.

Theorem. Let P be the transposition of units j, j' of hidden layer l, acting on
the parameters θ by swapping those columns of W_l, entries of b_l and rows of
W_{l+1}. The loss is invariant, loss(Pθ) = loss(θ), because P only relabels two
summands of h_{l+1}. Differentiating gives ∇loss(Pθ) = P ∇loss(θ). An
elementwise optimizer (SGD, momentum, RMSprop, Adam) updates every entry by the
same function of that entry's gradient and state, so its update map U commutes
with P: U(Pθ, Ps) = P U(θ, s). If the units are tied, Pθ = θ and Ps = s (the
zero initial state is tied), hence U(θ, s) = P U(θ, s): the units stay tied
after every step, by induction forever. :func:`verify_equivariance` checks the
two commuting relations in sympy on a 2-2-2 network with symbolic parameters.

What breaks it (:data:`SYMMETRY_BREAKERS`): anything that treats the units
differently, i.e. any map that does not commute with P.

Collapsed network. A layer of m tied units is one unit repeated m times. Write
m_l for the multiplicity of each unit of layer l (m_l = n_l for a tied layer,
1 otherwise; m_0 = m_L = 1 because inputs and outputs are distinct). The
equivalent network keeps one representative per tied group, with weights
Ŵ_l = m_{l-1}·W_l (a unit of layer l sums m_{l-1} equal inputs) and biases
b̂_l = b_l. Each entry of W_l gets the gradient g = ∂loss/∂W_l[i, j], and
the chain rule gives the narrow gradient: the shared value w enters
m_{l-1}·m_l entries, so ∂loss/∂w = m_{l-1} m_l g and ∂loss/∂Ŵ = ∂loss/∂w / m_{l-1}
= m_l g. An SGD step w ← w − η g moves Ŵ = m_{l-1} w by η m_{l-1} g
= η (m_{l-1}/m_l) ∂loss/∂Ŵ. A bias enters m_l entries and is not rescaled
(b̂ = b), so the same argument gives the factor 1/m_l. So the width-1 network trained with SGD
reproduces the tied network exactly when W_l uses the learning rate
η·m_{l-1}/m_l and b_l uses η/m_l. For one hidden layer of width n this is η/n
for the incoming weights and the hidden bias and η·n for the outgoing weights.
Momentum is linear in the gradients, so the same factors hold for it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import sympy

from theory import symbolic
from theory.initializers import InitSpec

SYMMETRY_BREAKERS: dict[str, str] = {
    "random layer": "a random W_l gives the units of layer l different incoming weights, and a random "
    "W_{l+1} different outgoing weights, so they are not tied to begin with",
    "random bias": "a random b_l gives the units of layer l different biases",
    "dropout": "an independent dropout mask multiplies the units by different 0/1 factors, so the "
    "forward pass does not commute with the permutation",
    "non-elementwise preconditioning": "an optimizer that mixes entries (full-matrix Adagrad, "
    "Shampoo, K-FAC, natural gradient with a non-permutation-invariant metric) updates an entry "
    "with other entries' gradients and can separate tied units",
    "floating-point roundoff": "tied units compute the same numbers in the same order, so they stay "
    "bitwise equal in practice, but a kernel that reduces in a unit-dependent order (multithreaded "
    "matmul tiling) can separate them by one ulp, which training then amplifies",
    "reused Keras initializer": "a seeded Keras initializer instance returns the same values on every "
    "call, so equal-shaped layers that share one instance start with identical matrices; this ties "
    "layers to each other, not units, and it leaves units within a layer untied",
}
"""Mechanisms that break the symmetry of tied units, each with its reason."""


@dataclasses.dataclass(frozen=True)
class TiedGroups:
    """Units tied at initialization, and therefore forever, per hidden layer.

    Attributes:
        groups: hidden layer index (1..L-1) -> tuples of unit indices that are
            tied; a layer without ties has no entry.
        reasons: hidden layer index -> the one-sentence reason.
    """

    groups: dict[int, list[tuple[int, ...]]]
    reasons: dict[int, str]


def tied_groups(widths: Sequence[int], layers: Sequence[symbolic.LayerInit]) -> TiedGroups:
    """Find the hidden layers whose units are all tied at initialization.

    >>> from theory.initializers import InitSpec
    >>> zero = symbolic.LayerInit(InitSpec("zeros"), InitSpec("zeros"))
    >>> random = symbolic.LayerInit(InitSpec("normal", 1.0), InitSpec("zeros"))
    >>> tied_groups([4, 3, 2], [zero, zero]).groups
    {1: [(0, 1, 2)]}
    >>> tied_groups([4, 3, 2], [zero, random]).groups
    {}
    """
    groups: dict[int, list[tuple[int, ...]]] = {}
    reasons: dict[int, str] = {}
    for layer in range(1, len(layers)):
        incoming, outgoing = layers[layer - 1], layers[layer]
        if incoming.weight.is_constant and incoming.bias.is_constant and outgoing.weight.is_constant:
            groups[layer] = [tuple(range(widths[layer]))]
            reasons[layer] = (
                f"W{layer}={incoming.weight}, b{layer}={incoming.bias} and W{layer + 1}={outgoing.weight} "
                f"give all {widths[layer]} units identical incoming and outgoing weights and biases, "
                "and every elementwise optimizer step preserves that"
            )
    return TiedGroups(groups, reasons)


# Elementwise optimizers as sympy update rules: (parameter, gradient, state, step) ->
# (new parameter, new state). Constants follow Keras defaults.
Update = Callable[[sympy.Expr, sympy.Expr, tuple, int], tuple[sympy.Expr, tuple]]
LEARNING_RATE = sympy.Symbol("eta", positive=True)


def _sgd(parameter, gradient, state, step):
    return parameter - LEARNING_RATE * gradient, state


def _momentum(parameter, gradient, state, step, beta=sympy.Rational(9, 10)):
    (velocity,) = state
    velocity = beta * velocity - LEARNING_RATE * gradient
    return parameter + velocity, (velocity,)


def _rmsprop(parameter, gradient, state, step, rho=sympy.Rational(9, 10), epsilon=sympy.Rational(1, 10**7)):
    (mean_square,) = state
    mean_square = rho * mean_square + (1 - rho) * gradient**2
    return parameter - LEARNING_RATE * gradient / (sympy.sqrt(mean_square) + epsilon), (mean_square,)


def _adam(parameter, gradient, state, step, beta1=sympy.Rational(9, 10), beta2=sympy.Rational(999, 1000),
          epsilon=sympy.Rational(1, 10**7)):
    first, second = state
    first = beta1 * first + (1 - beta1) * gradient
    second = beta2 * second + (1 - beta2) * gradient**2
    corrected_first = first / (1 - beta1**step)
    corrected_second = second / (1 - beta2**step)
    return parameter - LEARNING_RATE * corrected_first / (sympy.sqrt(corrected_second) + epsilon), (first, second)


OPTIMIZERS: dict[str, tuple[Update, int]] = {
    "sgd": (_sgd, 0),
    "momentum": (_momentum, 1),
    "rmsprop": (_rmsprop, 1),
    "adam": (_adam, 2),
}
"""Elementwise optimizers: name -> (update rule, number of state slots per entry)."""


def _swap_hidden_units(weights, biases, first: int = 0, second: int = 1) -> dict[sympy.Symbol, sympy.Symbol]:
    """Return the substitution that applies the transposition P to hidden layer 1's units."""
    swap: dict[sympy.Symbol, sympy.Symbol] = {}
    incoming, bias, outgoing = weights[0], biases[0], weights[1]
    for row in range(incoming.rows):
        swap[incoming[row, first]], swap[incoming[row, second]] = incoming[row, second], incoming[row, first]
    swap[bias[0, first]], swap[bias[0, second]] = bias[0, second], bias[0, first]
    for column in range(outgoing.cols):
        swap[outgoing[first, column]], swap[outgoing[second, column]] = outgoing[second, column], outgoing[first, column]
    return swap


def _permute_blocks(blocks: dict[str, sympy.Matrix], first: int = 0, second: int = 1) -> dict[str, sympy.Matrix]:
    permuted = {name: block.copy() for name, block in blocks.items()}
    permuted["W1"].col_swap(first, second)
    permuted["b1"].col_swap(first, second)
    permuted["W2"].row_swap(first, second)
    return permuted


def verify_equivariance(activation: str = "sigmoid", optimizer: str = "adam", loss: str = "softmax_cross_entropy") -> bool:
    """Check in sympy that one optimizer step commutes with swapping two hidden units.

    The network is 2-2-2 with every parameter a distinct symbol, so the check
    covers every parameter value, not only tied ones. It verifies
    ∇loss(Pθ) = P∇loss(θ) and then U(Pθ, Ps) = P U(θ, s) for the optimizer's
    first step from the zero state.

    >>> verify_equivariance("sigmoid", "sgd")
    True
    """
    random = symbolic.LayerInit(InitSpec("normal", 1.0), InitSpec("normal", 1.0))
    network = symbolic.build_network((2, 2, 2), (random, random), labels=(0, 1), nonnegative_inputs=False)
    phi = symbolic.resolve_activation(activation)
    gradients = symbolic.first_step_gradients(phi, network, loss)
    swap = _swap_hidden_units(network.weights, network.biases)

    def substitute(blocks: dict[str, sympy.Matrix]) -> dict[str, sympy.Matrix]:
        return {name: block.xreplace(swap) for name, block in blocks.items()}

    if not _blocks_equal(substitute(gradients), _permute_blocks(gradients)):
        return False

    rule, state_size = OPTIMIZERS[optimizer]
    parameters = {f"W{l}": network.weights[l - 1] for l in (1, 2)} | {f"b{l}": network.biases[l - 1] for l in (1, 2)}
    updated = {}
    for name, block in parameters.items():
        state = (sympy.zeros(*block.shape),) * state_size
        updated[name] = sympy.Matrix(block.rows, block.cols, lambda i, j: rule(
            block[i, j], gradients[name][i, j], tuple(slot[i, j] for slot in state), 1)[0])
    return _blocks_equal(substitute(updated), _permute_blocks(updated))


def _blocks_equal(left: dict[str, sympy.Matrix], right: dict[str, sympy.Matrix]) -> bool:
    for name in left:
        for a, b in zip(left[name], right[name]):
            if a != b and sympy.simplify(a - b) != 0:
                return False
    return True


def preconditioned_step_is_equivariant(seed: int = 0) -> bool:
    """Check whether θ − η M g commutes with P for a generic full preconditioner M.

    It does not, which is why non-elementwise preconditioning breaks the theorem.

    >>> preconditioned_step_is_equivariant()
    False
    """
    g = sympy.Matrix(sympy.symbols("g0 g1", real=True))
    rng = np.random.default_rng(seed)
    preconditioner = sympy.Matrix(2, 2, [sympy.Rational(int(v), 7) for v in rng.integers(1, 9, size=4)])
    swap = sympy.Matrix([[0, 1], [1, 0]])
    return sympy.simplify(preconditioner * swap * g - swap * preconditioner * g) == sympy.zeros(2, 1)


@dataclasses.dataclass(frozen=True)
class CollapsedNetwork:
    """The network with one representative per tied group.

    Attributes:
        widths: widths of the equivalent network (1 for every tied layer).
        multiplicities: m_0..m_L, the copies of each unit in the original network.
        weight_factors: SGD learning-rate factor m_{l-1}/m_l for W_1..W_L.
        bias_factors: SGD learning-rate factor 1/m_l for b_1..b_L.
    """

    widths: tuple[int, ...]
    multiplicities: tuple[int, ...]
    weight_factors: tuple[sympy.Rational, ...]
    bias_factors: tuple[sympy.Rational, ...]


def collapse(widths: Sequence[int], tied_layers: Sequence[int]) -> CollapsedNetwork:
    """Derive the equivalent narrow network and its SGD learning-rate factors.

    >>> net = collapse([784, 100, 10], tied_layers=[1])
    >>> net.widths, net.weight_factors, net.bias_factors
    ((784, 1, 10), (1/100, 100), (1/100, 1))
    """
    multiplicities = tuple(widths[l] if l in tied_layers else 1 for l in range(len(widths)))
    narrow = tuple(1 if l in tied_layers else widths[l] for l in range(len(widths)))
    weight_factors = tuple(sympy.Rational(multiplicities[l - 1], multiplicities[l]) for l in range(1, len(widths)))
    bias_factors = tuple(sympy.Rational(1, multiplicities[l]) for l in range(1, len(widths)))
    return CollapsedNetwork(narrow, multiplicities, weight_factors, bias_factors)


def collapse_parameters(
    weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], collapsed: CollapsedNetwork
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Map tied parameters to the narrow network: Ŵ_l = m_{l-1}·W_l[reps], b̂_l = b_l[reps]."""
    narrow_weights, narrow_biases = [], []
    for l, (weight, bias) in enumerate(zip(weights, biases), start=1):
        rows, columns = collapsed.widths[l - 1], collapsed.widths[l]
        narrow_weights.append(collapsed.multiplicities[l - 1] * np.asarray(weight)[:rows, :columns])
        narrow_biases.append(np.asarray(bias).reshape(-1)[:columns].copy())
    return narrow_weights, narrow_biases


def theorem_latex() -> str:
    """Return the symmetry theorem and its proof as LaTeX."""
    return "\n".join([
        r"\begin{theorem}[Tied units stay tied]",
        r"Let units $j, j'$ of hidden layer $l$ satisfy $W_l[:, j] = W_l[:, j']$, $b_{l,j} = b_{l,j'}$ and "
        r"$W_{l+1}[j, :] = W_{l+1}[j', :]$. After any number of steps of SGD, momentum, RMSprop or Adam "
        r"without dropout, the three equalities still hold.",
        r"\end{theorem}",
        r"\begin{proof}",
        r"Let $P$ swap the two units. Since $h_{l+1} = \sum_i \varphi(h_{l,i}) W_{l+1}[i,:] + b_{l+1}$ only "
        r"relabels two summands, $\mathcal{L}(P\theta) = \mathcal{L}(\theta)$, hence "
        r"$\nabla\mathcal{L}(P\theta) = P\,\nabla\mathcal{L}(\theta)$. An elementwise optimizer applies one "
        r"function $u$ to each entry and its state, so $U(P\theta, Ps) = P\,U(\theta, s)$. For tied units "
        r"$P\theta = \theta$ and $Ps = s$, so $U(\theta, s) = P\,U(\theta, s)$ and induction on the step "
        r"finishes the proof.",
        r"\end{proof}",
    ])
