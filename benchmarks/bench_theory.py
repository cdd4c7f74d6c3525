"""Time the mean-field phase diagram and depth-50 variance maps against per-point quadrature and Monte Carlo.

Phase diagram: ``theory.meanfield.phase_diagram`` on a 200 × 200 (σ_w, σ_b) grid
for six activations (q*, χ₁ and the depth scales), against

* fixed-order Gauss–Hermite per grid point: q* by Brent's method on
  σ_w² E[φ(√q z)²] + σ_b² − q with an n-point rule, then χ₁ with the same rule.
  n is the smallest power of two from 8 to 256 whose q* and χ₁ are as accurate
  as the phase diagram's, both measured against ``fixed_point_q`` (Brent to
  1e-14 relative) and ``chi_1`` on a sample of grid points;
* Monte Carlo per grid point at that accuracy: its cost is estimated, not run,
  as (function evaluations Brent needs) × (samples for the target standard
  error) × (measured time per sample), because it would take days.

The per-point methods are timed on a sample of ``--sample`` grid points and
extrapolated to the whole grid, as the output states.

Depth-50 variance maps: q_1 … q_50 on the same grid, ``variance_trajectory``
per point (extrapolated from the sample) against one fixed-order Gauss–Hermite
rule applied to the whole grid as a numpy array per layer.

Usage: python benchmarks/bench_theory.py [--grid 200] [--sample 40]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy import optimize

from theory import meanfield
from theory.activations import ACTIVATIONS

BENCH_ACTIVATIONS = ("tanh", "relu", "erf", "elu", "selu", "swish")
SIGMA_W = (0.1, 4.0)
SIGMA_B = (0.0, 2.0)
ORDERS = tuple(2**k for k in range(3, 9))
DEPTH = 50


def gauss_hermite(order: int) -> tuple[np.ndarray, np.ndarray]:
    """Return nodes and weights of the ``order``-point rule for E[f(z)], z ~ N(0, 1)."""
    nodes, weights = hermegauss(order)
    return nodes, weights / math.sqrt(2 * math.pi)


def fixed_point_gh(function, sigma_w: float, sigma_b: float, rule) -> tuple[float, int]:
    """Return q* by Brent's method with a fixed quadrature rule, and the number of map evaluations."""
    nodes, weights = rule
    calls = 0

    def excess(q: float) -> float:
        nonlocal calls
        calls += 1
        with np.errstate(all="ignore"):
            values = function(math.sqrt(q) * nodes) ** 2
        return sigma_w**2 * float(weights @ values) + sigma_b**2 - q

    start = excess(1.0)
    step = 2.0 if start > 0 else 0.5
    low = 1.0
    while True:
        high = low * step
        if high > meanfield.Q_MAX:
            return math.inf, calls
        if high < meanfield.Q_MIN:
            return 0.0, calls
        if np.sign(excess(high)) != np.sign(start):
            break
        low = high
    return float(optimize.brentq(excess, *sorted((low, high)), rtol=1e-14)), calls


def chi_1_gh(derivative, q: float, sigma_w: float, rule) -> float:
    nodes, weights = rule
    return sigma_w**2 * float(weights @ derivative(math.sqrt(q) * nodes) ** 2)


def relative_error(estimate: np.ndarray, reference: np.ndarray) -> float:
    finite = np.isfinite(reference) & (reference > 0)
    return float(np.max(np.abs(estimate[finite] - reference[finite]) / reference[finite]))


def bench_activation(name: str, sigma_w: np.ndarray, sigma_b: np.ndarray, sample: np.ndarray) -> dict:
    activation = ACTIVATIONS[name]
    started = time.perf_counter()
    diagram = meanfield.phase_diagram(name, sigma_w, sigma_b)
    diagram_time = time.perf_counter() - started

    points = [(sigma_w[i], sigma_b[j]) for i, j in sample]
    q_reference = np.array([meanfield.fixed_point_q(name, w, b) for w, b in points])
    chi_reference = np.array([
        float(meanfield.chi_1(name, q, w)) if 0 < q < math.inf else np.nan for q, (w, _) in zip(q_reference, points)
    ])
    q_diagram = np.array([diagram["q_star"][i, j] for i, j in sample])
    chi_diagram = np.array([diagram["chi_1"][i, j] for i, j in sample])
    target = max(relative_error(q_diagram, q_reference), relative_error(chi_diagram, chi_reference), 1e-12)

    for order in ORDERS:
        rule = gauss_hermite(order)
        started = time.perf_counter()
        results = [fixed_point_gh(activation.function, w, b, rule) for w, b in points]
        q_gh = np.array([q for q, _ in results])
        chi_gh = np.array([
            chi_1_gh(activation.derivative, q, w, rule) if 0 < q < math.inf else np.nan
            for q, (w, _) in zip(q_gh, points)
        ])
        per_point = (time.perf_counter() - started) / len(points)
        error = max(relative_error(q_gh, q_reference), relative_error(chi_gh, chi_reference))
        if error <= target:
            break
    calls = float(np.mean([c for _, c in results]))

    # Monte Carlo: the relative standard error of E[φ(√q z)²] from N samples is sd/mean/√N.
    rng = np.random.default_rng(0)
    z = rng.standard_normal(1_000_000)
    values = activation.function(z) ** 2
    relative_sd = float(np.std(values) / np.mean(values))
    samples_needed = (relative_sd / target) ** 2
    started = time.perf_counter()
    activation.function(z) ** 2
    per_sample = (time.perf_counter() - started) / len(z)
    monte_carlo_per_point = calls * samples_needed * per_sample

    n_points = len(sigma_w) * len(sigma_b)
    return {
        "activation": name,
        "diagram_s": diagram_time,
        "target_error": target,
        "gh_order": order,
        "gh_error": error,
        "gh_s": per_point * n_points,
        "mc_s": monte_carlo_per_point * n_points,
        "mc_samples": samples_needed,
    }


def bench_depth_maps(name: str, sigma_w: np.ndarray, sigma_b: np.ndarray, sample: np.ndarray) -> dict:
    def function(z):
        with np.errstate(all="ignore"):
            return np.nan_to_num(ACTIVATIONS[name].function(z))

    started = time.perf_counter()
    for i, j in sample:
        meanfield.variance_trajectory(name, 1.0, sigma_w[i], sigma_b[j], DEPTH)
    per_point = (time.perf_counter() - started) / len(sample)

    nodes, weights = gauss_hermite(64)
    grid_w, grid_b = np.meshgrid(sigma_w, sigma_b, indexing="ij")
    started = time.perf_counter()
    q = np.ones_like(grid_w)
    for _ in range(DEPTH - 1):
        q = np.minimum(q, meanfield.Q_MAX)
        q = grid_w**2 * (function(np.sqrt(q)[..., None] * nodes) ** 2 @ weights) + grid_b**2
    vectorized = time.perf_counter() - started
    return {"activation": name, "per_point_s": per_point * grid_w.size, "vectorized_s": vectorized}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--grid", type=int, default=200, help="points per axis (default: 200)")
    parser.add_argument("--sample", type=int, default=40, help="grid points timed per method (default: 40)")
    args = parser.parse_args()

    sigma_w = np.linspace(*SIGMA_W, args.grid)
    sigma_b = np.linspace(*SIGMA_B, args.grid)
    rng = np.random.default_rng(1)
    sample = rng.integers(0, args.grid, size=(args.sample, 2))
    print(f"grid {args.grid} x {args.grid}, sigma_w in {SIGMA_W}, sigma_b in {SIGMA_B}; "
          f"per-point methods timed on {args.sample} random points and extrapolated; "
          f"Monte Carlo estimated, not run\n")
    print(f"{'activation':10s} {'diagram s':>9s} {'rel. err':>9s} {'GH n':>5s} {'GH s':>8s} "
          f"{'MC s (est.)':>12s} {'x vs GH':>8s}")
    total = 0.0
    for name in BENCH_ACTIVATIONS:
        row = bench_activation(name, sigma_w, sigma_b, sample)
        total += row["diagram_s"]
        note = "" if row["gh_error"] <= row["target_error"] else f" (n=256 reaches only {row['gh_error']:.1e})"
        print(f"{name:10s} {row['diagram_s']:9.2f} {row['target_error']:9.1e} {row['gh_order']:5d} "
              f"{row['gh_s']:8.1f} {row['mc_s']:12.3g} {row['gh_s'] / row['diagram_s']:8.1f}{note}")
    print(f"phase diagram, all {len(BENCH_ACTIVATIONS)} activations: {total:.2f} s\n")

    print(f"depth-{DEPTH} variance maps on the same grid")
    print(f"{'activation':10s} {'per point s':>12s} {'vectorized GH-64 s':>19s}")
    for name in BENCH_ACTIVATIONS:
        row = bench_depth_maps(name, sigma_w, sigma_b, sample)
        print(f"{name:10s} {row['per_point_s']:12.1f} {row['vectorized_s']:19.2f}")


if __name__ == "__main__":
    main()
