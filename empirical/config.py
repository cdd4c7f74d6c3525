"""Frozen, typed configuration of one training run, recorded with every result.

A :class:`RunConfig` fixes everything that decides a run's numbers: the
architecture (``widths`` from input to output and one activation per hidden
layer), one :class:`~theory.initializers.InitSpec` per weight matrix and per bias
vector, the loss, the optimizer, batch size, number of steps, dtype, dropout,
the data and the seed. Its :meth:`RunConfig.config_hash` names cached results,
so two runs with the same hash are the same experiment.

Layers are counted from the input: ``W1`` maps the ``widths[0]`` inputs to the
first hidden layer and ``WL`` maps the last hidden layer to the ``widths[-1]``
logits. Softmax regression is ``widths=(784, 10)`` with no activations.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
from typing import Any

from theory.activations import ACTIVATIONS
from theory.errors import InputError
from theory.initializers import InitSpec, parse_init

LOSSES = ("softmax_cross_entropy", "mse")
OPTIMIZERS = ("sgd", "adam")
DTYPES = ("float32", "float64")


@dataclasses.dataclass(frozen=True)
class OptimizerConfig:
    """An optimizer and its hyperparameters.

    SGD with momentum m follows Keras: ``v ← m·v − η·g``, ``w ← w + v``; with
    m = 0 this is plain ``w ← w − η·g``. Adam follows Keras as well (ε = 1e-7
    added to the square root of the bias-corrected second moment's estimate).
    """

    name: str = "sgd"
    learning_rate: float = 0.5
    momentum: float = 0.0
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7

    def __post_init__(self) -> None:
        if self.name not in OPTIMIZERS:
            raise InputError(f"unknown optimizer {self.name!r}; use one of: {', '.join(OPTIMIZERS)}")
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise InputError(f"learning rate must be positive, got {self.learning_rate!r}")
        if not 0.0 <= self.momentum < 1.0:
            raise InputError(f"momentum must be in [0, 1), got {self.momentum!r}")
        if not (0.0 <= self.beta_1 < 1.0 and 0.0 <= self.beta_2 < 1.0):
            raise InputError(f"Adam betas must be in [0, 1), got {self.beta_1!r}, {self.beta_2!r}")
        if not self.epsilon > 0:
            raise InputError(f"Adam epsilon must be positive, got {self.epsilon!r}")


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """The dataset a run trains on (see :func:`empirical.data.load_dataset`).

    ``path`` None means the default source: the Keras cache for MNIST when it
    exists, else the bundled 5,000-digit subset.
    """

    name: str = "mnist"
    path: str | None = None
    scaling: str = "unit"


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything that decides the numbers of one training run."""

    widths: tuple[int, ...] = (784, 10)
    activations: tuple[str, ...] = ()
    weight_inits: tuple[InitSpec, ...] = (InitSpec("zeros"),)
    bias_inits: tuple[InitSpec, ...] = (InitSpec("zeros"),)
    loss: str = "softmax_cross_entropy"
    optimizer: OptimizerConfig = OptimizerConfig()
    batch_size: int = 100
    steps: int = 1000
    dtype: str = "float32"
    seed: int = 0
    dropout_rate: float = 0.0
    snapshot_steps: tuple[int, ...] = ()
    data: DataConfig = DataConfig()

    def __post_init__(self) -> None:
        n_layers = len(self.widths) - 1
        if n_layers < 1 or any(int(w) != w or w < 1 for w in self.widths):
            raise InputError(
                f"widths must list at least two positive integers (input and output), got {self.widths!r}"
            )
        if len(self.activations) != n_layers - 1:
            raise InputError(
                f"{n_layers - 1} hidden layers need {n_layers - 1} activations, got {self.activations!r}"
            )
        for name in self.activations:
            if name not in ACTIVATIONS:
                raise InputError(
                    f"unknown activation {name!r}; use one of: {', '.join(sorted(ACTIVATIONS))}"
                )
        for label, specs in (("weight_inits", self.weight_inits), ("bias_inits", self.bias_inits)):
            if len(specs) != n_layers:
                raise InputError(f"{label} needs one initializer per layer ({n_layers}), got {len(specs)}")
            if not all(isinstance(spec, InitSpec) for spec in specs):
                raise InputError(f"{label} must contain InitSpec values, got {specs!r}")
        for spec in self.bias_inits:
            if spec.kind == "orthogonal":
                raise InputError("orthogonal initialization needs a matrix; use it for weights, not biases")
        if self.loss not in LOSSES:
            raise InputError(f"unknown loss {self.loss!r}; use one of: {', '.join(LOSSES)}")
        if self.dtype not in DTYPES:
            raise InputError(f"unknown dtype {self.dtype!r}; use one of: {', '.join(DTYPES)}")
        if self.batch_size < 1 or self.steps < 0:
            raise InputError(
                f"batch_size must be ≥ 1 and steps ≥ 0, got {self.batch_size!r} and {self.steps!r}"
            )
        if not 0.0 <= self.dropout_rate < 1.0:
            raise InputError(f"dropout_rate must be in [0, 1), got {self.dropout_rate!r}")
        if any(step < 0 or step > self.steps for step in self.snapshot_steps):
            raise InputError(
                f"snapshot_steps must lie in 0..{self.steps}, got {self.snapshot_steps!r}"
            )

    @property
    def n_layers(self) -> int:
        """Number of weight layers L (1 for softmax regression)."""
        return len(self.widths) - 1

    @property
    def architecture(self) -> str:
        """The widths joined by dashes, with three or more equal widths in a row as ``width×count``.

        >>> mlp_config((784, 100, 10), "tanh", "zeros").architecture
        '784-100-10'
        >>> mlp_config((784,) + (100,) * 20 + (10,), "relu", "he_normal").architecture
        '784-100×20-10'
        """
        parts: list[str] = []
        for width, run in itertools.groupby(self.widths):
            count = len(list(run))
            if count >= 3:
                parts.append(f"{width}×{count}")
            else:
                parts.extend([str(width)] * count)
        return "-".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary with initializers written as specs."""
        record = dataclasses.asdict(self)
        record["weight_inits"] = [str(spec) for spec in self.weight_inits]
        record["bias_inits"] = [str(spec) for spec in self.bias_inits]
        return record

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> RunConfig:
        """Rebuild a configuration written by :meth:`to_dict`."""
        record = dict(record)
        record["widths"] = tuple(record["widths"])
        record["activations"] = tuple(record["activations"])
        record["weight_inits"] = tuple(parse_init(text) for text in record["weight_inits"])
        record["bias_inits"] = tuple(parse_init(text) for text in record["bias_inits"])
        record["snapshot_steps"] = tuple(record.get("snapshot_steps", ()))
        record["optimizer"] = OptimizerConfig(**record["optimizer"])
        record["data"] = DataConfig(**record["data"])
        return cls(**record)

    def config_hash(self) -> str:
        """Return a 16-hex-digit SHA-256 prefix of the canonical JSON form."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def replace(self, **changes: Any) -> RunConfig:
        """Return a copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)


def parse_architecture(text: str) -> tuple[int, ...]:
    """Return the widths of an architecture label written by :attr:`RunConfig.architecture`.

    >>> parse_architecture("784-100×20-10")[:3], len(parse_architecture("784-100×20-10"))
    ((784, 100, 100), 22)
    """
    widths: list[int] = []
    for part in text.split("-"):
        width, _, count = part.partition("×")
        try:
            widths.extend([int(width)] * (int(count) if count else 1))
        except ValueError:
            raise InputError(f"invalid architecture {text!r}; expected widths such as '784-100-10'") from None
    return tuple(widths)


def mlp_config(
    widths: tuple[int, ...],
    activation: str,
    weight_inits: str | tuple[str, ...],
    bias_inits: str | tuple[str, ...] = "zeros",
    **settings: Any,
) -> RunConfig:
    """Build a :class:`RunConfig` with one activation for every hidden layer.

    ``weight_inits`` and ``bias_inits`` are spec strings, one for every layer
    or one per layer.

    >>> mlp_config((784, 100, 10), "sigmoid", ("zeros", "normal:1")).weight_inits[1]
    InitSpec(kind='normal', parameter=1.0)
    """
    n_layers = len(widths) - 1

    def expand(specs: str | tuple[str, ...]) -> tuple[InitSpec, ...]:
        texts = (specs,) * n_layers if isinstance(specs, str) else tuple(specs)
        return tuple(parse_init(text) for text in texts)

    return RunConfig(
        widths=tuple(widths),
        activations=(activation,) * (n_layers - 1),
        weight_inits=expand(weight_inits),
        bias_inits=expand(bias_inits),
        **settings,
    )
