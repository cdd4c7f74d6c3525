"""What a constant or partly constant initialization does to training: the regime.

The regimes, for an MLP as in :mod:`theory.symbolic` trained by an elementwise
optimizer:

* ``learns``: no unit is tied and every block moves;
* ``collapsed``: every block moves, but some hidden layer's units are tied
  forever (:mod:`theory.symmetry`), so it acts as a single unit;
* ``frozen``: some blocks, or some units, get zero gradient forever;
* ``dead``: the logits never depend on the input, so the model can only fit the
  label prior (usually only the output bias moves).

The classifier runs the backpropagation recursion of :mod:`theory.symbolic`
step by step on *which quantities are exactly zero*, which is decidable from
the initialization alone:

* δ_L ≠ 0 (generic labels);
* the backward signal δ_{l+1} W_{l+1}ᵀ into hidden layer l is zero when
  δ_{l+1} = 0, when W_{l+1} = 0, or, under cross-entropy, when the output
  weights are still constant (their rows are constant, and Σ_k δ_{L,k} = 0);
* δ_l = 0 when that signal is zero or when φ' vanishes on every value the
  pre-activation takes;
* ∂W_l = 0 when δ_l = 0 or a_{l-1} = φ(h_{l-1}) ≡ 0, and ∂b_l = 0 when δ_l = 0.

A block that moves changes its layer's pre-activations. At initialization the
set of values they take is exact. It is a point such as 0 for zero weights, the
interval c·(0, ∞) + β for a first layer of constant c on positive inputs, or
all of ℝ for a random layer. After a small step a point v becomes a
small neighbourhood of v, so φ and φ' vanish there only if they vanish on both
sides of v (relu at 0 starts to move under the 1/2 convention of JAX, and never
under TensorFlow's 0).

Assumptions. Inputs are generic: under ``nonnegative`` no example is all zero,
labels in a batch are not exactly balanced, and the output error is not
constant across classes. Steps are small enough that a pre-activation does not
jump across a kink it was not at (a relu unit may still die from a large step
during training; that is not predicted here).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from collections.abc import Sequence

import sympy
from scipy import stats

from theory import symbolic, symmetry
from theory.activations import z
from theory.errors import InputError
from theory.initializers import InitSpec, parse_layer_inits
from theory.symbolic import LayerInit, SymbolicActivation

logger = logging.getLogger(__name__)

REGIMES = ("learns", "collapsed", "frozen", "dead")
_SMALL_STEP = sympy.Rational(1, 10**6)


@dataclasses.dataclass
class _Preactivation:
    """The values a hidden layer's pre-activation takes.

    ``kind`` is one of ``point`` (one value for all units and inputs),
    ``range`` (one value per input, shared by all units, in ``values``),
    ``spread`` (distinct per unit and input, generic over ℝ) and ``points``
    (one input-independent value per unit, from zero weights and a random bias).
    """

    kind: str
    values: sympy.Set
    dead_fraction: float = 0.0
    changed: bool = False


def _piecewise_branches(expression: sympy.Expr) -> list[tuple[sympy.Expr, sympy.Set]]:
    """Split φ into (branch, region of ℝ) pairs, in Piecewise order."""
    folded = sympy.piecewise_fold(expression)
    if not isinstance(folded, sympy.Piecewise):
        return [(folded, sympy.S.Reals)]
    branches, remaining = [], sympy.S.Reals
    for branch, condition in folded.args:
        region = remaining if condition is sympy.true else sympy.Intersection(condition.as_set(), remaining)
        branches.append((branch, region))
        remaining = sympy.Complement(remaining, region)
    return branches


def _vanishes_on(expression: sympy.Expr, values: sympy.Set) -> bool:
    """Return whether ``expression`` is 0 on every point of ``values`` (a set with interior).

    Kinks have measure zero inside an interval, so the derivative convention does
    not matter here.
    """
    for branch, region in _piecewise_branches(expression):
        part = sympy.Intersection(region, values)
        if part.is_empty or sympy.Integer(0) == part.measure:
            continue
        if sympy.simplify(branch) != 0:
            return False
    return True


def _vanishes_near(expression: sympy.Expr, point: sympy.Expr) -> bool:
    left = sympy.Interval.open(point - _SMALL_STEP, point)
    right = sympy.Interval.open(point, point + _SMALL_STEP)
    return _vanishes_on(expression, left) and _vanishes_on(expression, right)


def _image(activation: SymbolicActivation, values: sympy.Set) -> sympy.Set:
    """Return φ(values) for an interval, exactly where sympy can, else from a grid."""
    from sympy.calculus.util import function_range

    parts = []
    for branch, region in _piecewise_branches(activation.expression):
        part = sympy.Intersection(region, values)
        if part.is_empty:
            continue
        try:
            parts.append(function_range(branch, z, part))
        except (NotImplementedError, ValueError, TypeError):
            parts.append(_image_on_grid(branch, part))
    return sympy.Union(*parts)


def _image_on_grid(branch: sympy.Expr, part: sympy.Set) -> sympy.Set:
    # NOTE: a numeric bound: φ is sampled on 2001 points of the interval (mapped
    # through tanh when unbounded), which decides signs but not exact endpoints.
    import numpy as np

    low, high = float(part.inf), float(part.sup)
    grid = np.tanh(np.linspace(-5, 5, 2001)) if not (np.isfinite(low) and np.isfinite(high)) else None
    if grid is None:
        points = np.linspace(low, high, 2001)
    else:
        points = np.clip(np.arctanh(np.clip(grid, -0.999999, 0.999999)) * 20, low, high)
    function = sympy.lambdify(z, branch, modules=["scipy", "numpy"])
    values = np.asarray(function(points), dtype=float) * np.ones_like(points)
    return sympy.Interval.open(sympy.Float(values.min()), sympy.Float(values.max()))


def _bias_distribution(spec: InitSpec, width: int):
    if spec.kind == "normal":
        return stats.norm(0.0, spec.parameter)
    if spec.kind == "truncated_normal":
        return stats.truncnorm(-2.0, 2.0, scale=spec.parameter)
    if spec.kind == "uniform":
        return stats.uniform(-spec.parameter, 2.0 * spec.parameter)
    # NOTE: variance-scaling and orthogonal biases are approximated by a normal
    # of the same variance; only the dead fraction of a zero-weight layer uses it.
    return stats.norm(0.0, spec.std(width, width))


def _dead_set(activation: SymbolicActivation) -> sympy.Set:
    """Return the region where φ and φ' both vanish (a relu unit's dead zone)."""
    slope = sympy.diff(activation.expression, z)
    dead = [
        region for branch, region in _piecewise_branches(activation.expression)
        if sympy.simplify(branch) == 0 and _vanishes_on(slope, region)
    ]
    return sympy.Union(*dead) if dead else sympy.S.EmptySet


def _probability(distribution, shift: float, region: sympy.Set) -> float:
    intervals = region.args if isinstance(region, sympy.Union) else (region,)
    total = 0.0
    for interval in intervals:
        if isinstance(interval, sympy.Interval):
            total += distribution.cdf(float(interval.sup) - shift) - distribution.cdf(float(interval.inf) - shift)
    return total


@dataclasses.dataclass(frozen=True)
class BlockReport:
    """The first-step gradient of one parameter block, and when it first moves."""

    name: str
    zero_at_first_step: bool
    reason: str
    first_step: int | None


@dataclasses.dataclass(frozen=True)
class Prediction:
    """The regime of one initialization, with the evidence.

    Attributes:
        regime: one of :data:`REGIMES`.
        reason: one sentence on why.
        blocks: every block's first-step gradient and the step it first moves
            (None: never).
        tied: the tied hidden layers (:func:`theory.symmetry.tied_groups`).
        dead_fractions: hidden layer -> expected fraction of units frozen forever.
        preactivations: hidden layer -> the shared pre-activation form, if any.
        output_depends_on_input: whether the logits eventually depend on x.
    """

    regime: str
    reason: str
    blocks: tuple[BlockReport, ...]
    tied: symmetry.TiedGroups
    dead_fractions: dict[int, float]
    preactivations: list[sympy.Expr | None]
    output_depends_on_input: bool


def _initial_preactivations(
    activation: SymbolicActivation, layers: Sequence[LayerInit], widths: Sequence[int], nonnegative: bool
) -> list[_Preactivation]:
    """Derive the set of values of each hidden layer's pre-activation at initialization."""
    dead = _dead_set(activation)
    # The values of Σ_i a_{l-1,i} over inputs; for l = 1 that is S = Σ_i x_i.
    sums: sympy.Set = sympy.Interval.open(0, sympy.oo) if nonnegative else sympy.S.Reals
    previous_kind = "range"
    result = []
    for index in range(1, len(layers)):
        layer = layers[index - 1]
        zero_weight = layer.weight.is_constant and layer.weight.constant_value == 0
        if zero_weight or sums == sympy.FiniteSet(0):
            # h_l = b_l: zero weights, or inputs a_{l-1} that are all exactly 0.
            kind, values = "point", sympy.FiniteSet(0)
            if layer.bias.is_constant:
                values = sympy.FiniteSet(sympy.Rational(repr(layer.bias.constant_value)))
            else:
                kind = "points"
        elif not layer.weight.is_constant or previous_kind in ("spread", "points"):
            # NOTE: a constant layer above a "points" layer shares one random,
            # input-independent value; it is treated like a random layer.
            kind, values = "spread", sympy.S.Reals
        else:
            weight = sympy.Rational(repr(layer.weight.constant_value))
            if weight == 0:
                kind, values = "point", sympy.FiniteSet(0)
            else:
                kind = "range" if previous_kind == "range" else "point"
                values = sympy.imageset(sympy.Lambda(z, weight * z), sums)
            if layer.bias.is_constant:
                bias = sympy.Rational(repr(layer.bias.constant_value))
                values = sympy.imageset(sympy.Lambda(z, z + bias), values)
            else:
                kind = "spread"

        entry = _Preactivation(kind, values)
        if kind == "points":
            shift = float(next(iter(values)))
            entry.dead_fraction = _probability(_bias_distribution(layer.bias, widths[index]), shift, dead)
        result.append(entry)

        previous_kind = kind
        if kind == "point":
            image = sympy.FiniteSet(activation.value(next(iter(values))))
        elif kind == "range":
            image = _image(activation, values)
        else:
            image = sympy.S.Reals
        sums = sympy.imageset(sympy.Lambda(z, widths[index] * z), image)
    return result


def _flags(activation: SymbolicActivation, pre: _Preactivation) -> tuple[bool, bool]:
    """Return (φ ≡ 0, φ' ≡ 0) over the values the pre-activation takes now."""
    if pre.kind == "point" and not pre.changed:
        value = next(iter(pre.values))
        return activation.value(value) == 0, activation.slope(value) == 0
    if pre.kind == "point":
        value = next(iter(pre.values))
        return _vanishes_near(activation.expression, value), _vanishes_near(sympy.diff(activation.expression, z), value)
    if pre.kind == "points":
        return pre.dead_fraction >= 1.0, pre.dead_fraction >= 1.0
    slope = sympy.diff(activation.expression, z)
    return _vanishes_on(activation.expression, pre.values), _vanishes_on(slope, pre.values)


def _describe_point(activation: SymbolicActivation, pre: _Preactivation) -> str:
    if pre.kind == "point":
        return f"at the shared pre-activation h = {next(iter(pre.values))}"
    if pre.kind == "range":
        return f"on every value {pre.values} that the shared pre-activation takes"
    return "at every unit's pre-activation"


def classify(
    activation: SymbolicActivation,
    layers: Sequence[LayerInit],
    widths: Sequence[int],
    loss: str = "softmax_cross_entropy",
    nonnegative_inputs: bool = True,
) -> Prediction:
    """Classify the regime of an initialization by the zero-gradient recursion.

    >>> from theory.initializers import InitSpec
    >>> zero = LayerInit(InitSpec("zeros"), InitSpec("zeros"))
    >>> random = LayerInit(InitSpec("normal", 1.0), InitSpec("zeros"))
    >>> sigmoid = symbolic.resolve_activation("sigmoid")
    >>> classify(sigmoid, [zero, random], [4, 3, 2]).regime
    'learns'
    >>> classify(sigmoid, [zero, zero], [4, 3, 2]).regime
    'collapsed'
    >>> classify(symbolic.resolve_activation("relu"), [zero, random], [4, 3, 2]).regime
    'dead'
    """
    n_layers = len(layers)
    if len(widths) != n_layers + 1:
        raise InputError(f"widths {list(widths)} give {len(widths) - 1} layers, but {n_layers} were initialized")
    cross_entropy = loss == "softmax_cross_entropy"
    pres = _initial_preactivations(activation, layers, widths, nonnegative_inputs)
    weight_zero = {l: layers[l - 1].weight.is_constant and layers[l - 1].weight.constant_value == 0
                   for l in range(1, n_layers + 1)}
    output_constant = layers[-1].weight.is_constant
    first_step: dict[str, int] = {}
    reasons: dict[str, str] = {}
    output_depends = False

    for step in range(1, 3 * n_layers + 4):
        act_zero, slope_zero = {0: False}, {}
        depends = {0: True}
        for l in range(1, n_layers):
            act_zero[l], slope_zero[l] = _flags(activation, pres[l - 1])
            depends[l] = depends[l - 1] and not weight_zero[l] and not slope_zero[l]
        output_depends = depends[n_layers - 1] and not weight_zero[n_layers]

        delta = {n_layers: True}
        why: dict[int, str] = {}
        for l in range(n_layers - 1, 0, -1):
            if not delta[l + 1]:
                delta[l], why[l] = False, f"δ{l + 1} = 0, so no gradient reaches layer {l}"
            elif weight_zero[l + 1]:
                delta[l], why[l] = False, f"W{l + 1} = 0 passes no gradient back to layer {l}"
            elif l + 1 == n_layers and cross_entropy and output_constant:
                delta[l], why[l] = False, (
                    f"constant output weights W{n_layers} pass back c·Σ_k (softmax_k − y_k) = 0 to every unit")
            elif slope_zero[l]:
                delta[l], why[l] = False, (
                    f"φ' = 0 {_describe_point(activation, pres[l - 1])} (derivative convention at the kink)")
            else:
                delta[l] = True

        moved = []
        for l in range(n_layers, 0, -1):
            for name, nonzero, reason in (
                (f"W{l}", delta[l] and not act_zero[l - 1],
                 why.get(l) or (f"a{l - 1} = φ(h{l - 1}) = 0 {_describe_point(activation, pres[l - 2])}"
                                if l > 1 else "")),
                (f"b{l}", delta[l], why.get(l, "")),
            ):
                if step == 1 and not nonzero:
                    reasons[name] = reason
                if nonzero and name not in first_step:
                    first_step[name] = step
                    moved.append(name)

        moved_layers = set()
        for name in moved:
            l = int(name[1:])
            moved_layers.add(l)
            if name.startswith("W"):
                weight_zero[l] = False
                if l == n_layers:
                    output_constant = False
        # A pre-activation changes when its own block moves, or when the layer
        # below changed and nonzero weights carry that change up.
        below_changed = False
        for l in range(1, n_layers):
            changed = l in moved_layers or (below_changed and not weight_zero[l])
            pres[l - 1].changed = pres[l - 1].changed or changed
            below_changed = changed
        if not moved and step > n_layers + 1:
            break

    return _decide(activation, layers, widths, pres, first_step, reasons, output_depends, nonnegative_inputs)


def _decide(activation, layers, widths, pres, first_step, reasons, output_depends, nonnegative) -> Prediction:
    n_layers = len(layers)
    names = [f"{kind}{l}" for l in range(1, n_layers + 1) for kind in "Wb"]
    blocks = tuple(
        BlockReport(name, name in reasons, reasons.get(name, ""), first_step.get(name)) for name in names
    )
    tied = symmetry.tied_groups(widths, layers)
    dead_fractions = {l: pres[l - 1].dead_fraction for l in range(1, n_layers) if pres[l - 1].dead_fraction > 0}
    frozen = [name for name in names if name not in first_step]
    shared = symbolic.shared_preactivations(activation, layers)

    if not output_depends:
        moving = [name for name in names if name in first_step]
        regime = "dead"
        moves = f"only {', '.join(moving)} {'moves' if len(moving) == 1 else 'move'}" if moving else "nothing moves"
        reason = f"the logits never depend on the input ({moves}), so training can only fit the label prior"
    elif frozen or dead_fractions:
        regime = "frozen"
        parts = []
        if frozen:
            parts.append(f"{', '.join(frozen)} get zero gradient forever")
        for l, fraction in dead_fractions.items():
            parts.append(f"about {fraction:.0%} of layer {l}'s units have φ = φ' = 0 from the start and never move")
        reason = "; ".join(parts)
    elif tied.groups:
        regime = "collapsed"
        layers_text = ", ".join(str(l) for l in tied.groups)
        reason = (f"every block moves, but the units of hidden layer(s) {layers_text} stay tied forever, "
                  "so the network trains like its width-1 equivalent")
    else:
        regime = "learns"
        reason = "no units are tied and every block receives a gradient"
        if n_layers == 1:
            reason = "softmax regression: each output unit gets its own gradient because the labels differ"
    return Prediction(regime, reason, blocks, tied, dead_fractions, shared, output_depends)


def _parse_widths(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(part) for part in text.split(","))
    except ValueError:
        widths = ()
    if len(widths) < 2 or min(widths) < 1:
        raise InputError(
            f"invalid --widths {text!r}; give at least two positive integers from input to output, e.g. 784,100,10"
        )
    return widths


def _block_lines(prediction: Prediction) -> list[str]:
    lines = ["first-step gradients (and the step at which each block first moves):"]
    for block in prediction.blocks:
        moves = "never moves" if block.first_step is None else f"first moves at step {block.first_step}"
        if block.zero_at_first_step:
            lines.append(f"  {block.name}: zero at step 1, {moves}: {block.reason}.")
        else:
            lines.append(f"  {block.name}: nonzero at step 1.")
    return lines


def _latex(prediction: Prediction, widths: Sequence[int], activation: SymbolicActivation) -> list[str]:
    lines = [r"\paragraph{Forward pass at initialization.} With $S = \sum_i x_i$:", r"\begin{align*}"]
    for l, form in enumerate(prediction.preactivations[:-1], start=1):
        if form is not None:
            lines.append(rf"h_{l} &= {sympy.latex(form)}, & a_{l} &= {sympy.latex(sympy.simplify(activation.expression.subs(z, form)))}\\")
    lines += [
        r"\end{align*}",
        r"\paragraph{First-step gradients.} $\delta_L = (\mathrm{softmax}(h_L) - y)/B$, "
        r"$\delta_l = (\delta_{l+1} W_{l+1}^\top) \odot \varphi'(h_l)$, "
        r"$\partial W_l = \sum_s a_{l-1}^{(s)\top}\delta_l^{(s)}$, $\partial b_l = \sum_s \delta_l^{(s)}$.",
    ]
    for block in prediction.blocks:
        if block.zero_at_first_step:
            lines.append(rf"$\partial {block.name[0]}_{{{block.name[1:]}}} = 0$: {block.reason}.")
    lines.append(symmetry.theorem_latex())
    if prediction.tied.groups:
        collapsed = symmetry.collapse(widths, list(prediction.tied.groups))
        factors = ", ".join(
            rf"$\eta_{{W_{l}}} = {sympy.latex(w)}\,\eta$, $\eta_{{b_{l}}} = {sympy.latex(b)}\,\eta$"
            for l, (w, b) in enumerate(zip(collapsed.weight_factors, collapsed.bias_factors), start=1)
        )
        lines.append(rf"\paragraph{{Collapsed network.}} Widths ${'-'.join(map(str, collapsed.widths))}$ with {factors}.")
    return lines


def prediction_text(args: argparse.Namespace) -> str:
    """Return the ``initsym predict`` report of a constant or partly constant initialization.

    ``args`` carries ``activation``, ``init``, ``widths``, ``kink_derivative``,
    ``loss``, ``inputs`` and ``latex`` as :mod:`theory.predict_cli` defines them.

    Raises:
        InputError: on an unknown activation, a malformed ``--init`` or ``--widths``.
    """
    widths = _parse_widths(args.widths)
    n_layers = len(widths) - 1
    activation = symbolic.resolve_activation(args.activation, args.kink_derivative)
    layers = symbolic.layer_inits_from_specs(parse_layer_inits(args.init or "", n_layers), n_layers)
    nonnegative = args.inputs == "nonnegative"
    logger.debug("classifying %s with widths %s", args.init, widths)
    prediction = classify(activation, layers, widths, args.loss, nonnegative)

    assignments = ",".join(f"W{l}={layer.weight},b{l}={layer.bias}" for l, layer in enumerate(layers, start=1))
    lines = [
        f"regime: {prediction.regime}",
        f"  because {prediction.reason}.",
        f"network: widths {'-'.join(map(str, widths))}, activation {args.activation} "
        f"(φ(0) = {activation.value(0)}, φ'(0) = {activation.slope(0)}), loss {args.loss}, "
        f"inputs {args.inputs}",
        f"initialization: {assignments}",
    ]
    lines += _block_lines(prediction)

    if prediction.tied.groups:
        lines.append("tied units (identical forever):")
        for l, reason in prediction.tied.reasons.items():
            lines.append(f"  layer {l}, all {widths[l]} units: {reason}.")
        collapsed = symmetry.collapse(widths, list(prediction.tied.groups))
        factors = ", ".join(
            f"W{l} ×{w}, b{l} ×{b}"
            for l, (w, b) in enumerate(zip(collapsed.weight_factors, collapsed.bias_factors), start=1)
        )
        lines.append(f"collapsed equivalent: widths {'-'.join(map(str, collapsed.widths))}, "
                     f"SGD learning-rate factors {factors}.")
    else:
        lines.append("tied units: none.")
    for l, fraction in prediction.dead_fractions.items():
        lines.append(f"dead units: layer {l}, about {fraction:.0%} of {widths[l]} "
                     "(φ = φ' = 0 at their bias and zero incoming weights, so they never move).")

    if n_layers == 1 and all(layer.weight.is_constant and layer.bias.is_constant for layer in layers):
        lines.append("note: constant W and b make all logits equal, as zeros do; softmax is shift-invariant, "
                     "so every gradient and prediction equals the zero-initialized run's "
                     "(cross-entropy only; MSE is not shift-invariant).")
    if args.latex:
        lines.append("")
        lines += _latex(prediction, widths, activation)
    return "\n".join(lines)
