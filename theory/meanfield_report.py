"""The per-layer mean-field table printed by ``initsym predict --sigma-w``.

Each row is one hidden layer l of a network with weights N(0, σ_w²/fan_in) and
biases N(0, σ_b²): the pre-activation variance q_l from the recursion of
:mod:`theory.meanfield` starting at q_1 = q0, the mean activation E[φ(h_l)],
the fraction of units that pass (almost) no gradient, the per-layer factor
χ_l = σ_w² E[φ'(h_l)²] and the cumulative factor Π_{k ≥ l} χ_k, which is the
gradient variance at layer l relative to the one arriving from above the last
hidden layer (Schoenholz et al. 2017, eq. 13).
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from theory import first_layer, gaussian, meanfield
from theory.activations import ACTIVATIONS, get_activation
from theory.errors import InputError

SATURATION_RATIO = 0.01
"""A unit is saturated when |φ'(z)| < 0.01 · max |φ'|."""

_ZERO_GRADIENT_ACTIVATIONS = ("relu",)


def _validate(args: argparse.Namespace) -> None:
    if args.activation not in ACTIVATIONS:
        raise InputError(
            f"mean-field mode (--sigma-w) needs a named activation, got {args.activation!r}; use one of: "
            f"{', '.join(sorted(ACTIVATIONS))} (sympy expressions work with --init only)"
        )
    meanfield.validate_scales(float(args.sigma_w), float(args.sigma_b))
    if args.depth < 1:
        raise InputError(f"--depth must be at least 1, got {args.depth}")
    if not math.isfinite(args.q0) or args.q0 <= 0:
        raise InputError(f"--q0 must be a positive finite variance, got {args.q0}")


def _inactive_fraction(activation: str, q: float) -> tuple[str, float]:
    """Return the column name and the fraction of dead (relu) or saturated units."""
    if activation in _ZERO_GRADIENT_ACTIVATIONS:
        return "dead", first_layer.dead_fraction(np.array([q]))
    scan = np.linspace(-first_layer.SCAN_HALF_WIDTH, first_layer.SCAN_HALF_WIDTH, 12001)
    largest = float(np.max(np.abs(get_activation(activation).with_kink_convention(scan))))
    threshold = SATURATION_RATIO * largest
    return "saturated", first_layer.small_derivative_fraction(activation, np.array([q]), threshold)


def depth_table_text(args: argparse.Namespace) -> str:
    """Format the per-layer mean-field table for ``args`` (activation, depth, sigma_w, sigma_b, q0)."""
    _validate(args)
    activation = args.activation
    q_values = meanfield.variance_trajectory(activation, args.q0, args.sigma_w, args.sigma_b, args.depth)
    means = gaussian.activation_mean(activation, q_values)
    factors = meanfield.gradient_factors(activation, q_values, args.sigma_w)
    cumulative = np.cumprod(factors[::-1])[::-1]

    column, _ = _inactive_fraction(activation, float(q_values[0]))
    header = f"{'layer':>5}  {'q':>12}  {'mean φ':>10}  {column:>9}  {'χ':>8}  {'Π χ (l..L)':>12}"
    lines = [
        f"mean field: {activation}, σ_w = {args.sigma_w:g} (weights N(0, σ_w²/fan_in)), "
        f"σ_b = {args.sigma_b:g}, q_1 = {args.q0:g}",
        header,
    ]
    for layer, q in enumerate(q_values):
        _, fraction = _inactive_fraction(activation, float(q))
        lines.append(
            f"{layer + 1:>5}  {q:>12.6g}  {means[layer]:>10.4f}  {fraction:>9.4f}  "
            f"{factors[layer]:>8.5f}  {cumulative[layer]:>12.5g}"
        )

    summary = meanfield.fixed_point_summary(activation, args.sigma_w, args.sigma_b, args.q0)
    if abs(summary["chi_1"] - 1.0) < 1e-9:
        phase = "critical"
    else:
        phase = "chaotic" if summary["chi_1"] > 1 else "ordered"
    lines.append(
        f"fixed point: q* = {summary['q_star']:.6g}, χ₁ = {summary['chi_1']:.5f} ({phase}), "
        f"ξ_q = {summary['xi_q']:.4g}, ξ_c = {summary['xi_c']:.4g} layers"
    )
    if column == "saturated":
        lines.append(f"saturated: |φ'(z)| < {SATURATION_RATIO:g} · max |φ'|; dead for relu: z <= 0")
    return "\n".join(lines)
