"""How much work each pipeline step does: the full set, the ``--quick`` pass, or a test's.

Every field enters the hash that names a step's cached data, so changing one
recomputes only the steps that read it.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class ClassicSettings:
    """The classic MNIST grid of :func:`empirical.reproduce.classic_grid`."""

    seeds: int = 5
    steps: int = 1000


@dataclasses.dataclass(frozen=True)
class SymbolicSettings:
    """The zero-gradient and tied-unit heat map (Figure 2)."""

    activations: tuple[str, ...] = ("linear", "sigmoid", "tanh", "relu", "elu", "gelu")
    weight_patterns: tuple[tuple[str, str], ...] = (
        ("zeros", "zeros"),
        ("zeros", "normal:1"),
        ("normal:1", "zeros"),
        ("ones", "ones"),
        ("ones", "normal:1"),
        ("normal:1", "ones"),
        ("normal:1", "normal:1"),
    )
    bias: str = "zeros"
    widths: tuple[int, ...] = (784, 100, 10)


@dataclasses.dataclass(frozen=True)
class FirstLayerSettings:
    """The first layer's pre-activations under N(0, σ²) weights (Figure 3)."""

    sigmas: tuple[float, ...] = (0.01, 0.1, 1.0)
    width: int = 100
    examples: int = 1000
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class DepthSettings:
    """Variance and gradient norm through depth (Figure 4).

    ``normal:0.1`` is N(0, 0.01): the notation N(0, v) names the variance v.
    """

    activations: tuple[str, ...] = ("sigmoid", "tanh", "relu")
    inits: tuple[str, ...] = ("normal:1", "normal:0.1", "glorot_normal", "he_normal")
    depth: int = 20
    width: int = 256
    examples: int = 256
    seeds: int = 5


@dataclasses.dataclass(frozen=True)
class PhaseSettings:
    """The mean-field phase diagram grid (Figure 5)."""

    activations: tuple[str, ...] = ("tanh", "sigmoid", "relu", "erf")
    sigma_w_range: tuple[float, float] = (0.05, 4.0)
    sigma_b_range: tuple[float, float] = (0.0, 1.0)
    sigma_w_points: int = 200
    sigma_b_points: int = 100
    recipe_width: int = 1000


@dataclasses.dataclass(frozen=True)
class RoundoffSettings:
    """Symmetry broken by roundoff (Figure 6)."""

    activation: str = "sigmoid"
    steps: int = 1000
    dtypes: tuple[str, ...] = ("float32", "float64")
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class CheckSettings:
    """The options of ``initsym check`` behind the prediction-against-measurement table.

    ``skip_subprocess`` drops the roundoff variants that need a fresh
    TensorFlow process each (oneDNN off, op determinism off).
    """

    quick: bool = False
    skip_subprocess: bool = False


@dataclasses.dataclass(frozen=True)
class PaperSettings:
    """The settings of every step."""

    classic: ClassicSettings = ClassicSettings()
    symbolic: SymbolicSettings = SymbolicSettings()
    first_layer: FirstLayerSettings = FirstLayerSettings()
    depth: DepthSettings = DepthSettings()
    phase: PhaseSettings = PhaseSettings()
    roundoff: RoundoffSettings = RoundoffSettings()
    check: CheckSettings = CheckSettings()

    @classmethod
    def full(cls) -> PaperSettings:
        """Return the settings behind the published figures."""
        return cls()

    @classmethod
    def quick(cls) -> PaperSettings:
        """Return a reduced pass: fewer seeds, steps, examples and grid points."""
        return cls(
            classic=ClassicSettings(seeds=2, steps=300),
            symbolic=SymbolicSettings(activations=("sigmoid", "tanh", "relu")),
            first_layer=FirstLayerSettings(examples=300),
            depth=DepthSettings(depth=10, width=128, examples=128, seeds=2),
            phase=PhaseSettings(activations=("tanh", "relu"), sigma_w_points=60, sigma_b_points=30),
            roundoff=RoundoffSettings(steps=300),
            check=CheckSettings(quick=True, skip_subprocess=True),
        )
