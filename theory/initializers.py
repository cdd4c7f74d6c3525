"""Initialization schemes as data: their names, parameters and exact moments.

An :class:`InitSpec` names how a weight matrix or bias vector of shape
``(fan_in, fan_out)`` is drawn. It is shared by the theory, which needs the
mean and variance of every entry, and the trainer, which samples it. The text
form used on the command line is ``kind`` or ``kind:parameter``:

===================  ==========================================  =====================
spec                 distribution of each entry                  variance
===================  ==========================================  =====================
zeros, ones          the constant 0 or 1                         0
constant:c           the constant c                              0
normal:s             N(0, s²); ``tf.random.normal(stddev=s)``     s²
truncated_normal:s   N(0, s²) cut at ±2s, not rescaled           0.77374 s²
                     (``tf.random.truncated_normal``)
uniform:a            U(−a, a)                                    a²/3
glorot_normal        Keras: truncated normal, std √(2/(in+out))   2/(in+out)
                     divided by 0.87963
glorot_uniform       Keras: U(−a, a), a = √(6/(in+out))          2/(in+out)
he_normal            as glorot_normal with scale 2/in            2/in
he_uniform           U(−a, a), a = √(6/in)                        2/in
lecun_normal         as glorot_normal with scale 1/in            1/in
lecun_uniform        U(−a, a), a = √(3/in)                        1/in
orthogonal[:g]       g times a random (semi-)orthogonal matrix   g²/max(in, out)
===================  ==========================================  =====================

Keras's truncated-normal schemes divide the standard deviation by
:data:`TRUNCATED_NORMAL_STD`, the standard deviation of N(0, 1) cut at ±2, so the
entries have exactly the variance of the untruncated scheme; TensorFlow's own
``truncated_normal(stddev=s)`` does not, and its entries have variance
:data:`TRUNCATED_NORMAL_VARIANCE` · s².
"""

from __future__ import annotations

import dataclasses
import math

from scipy import stats

from theory.errors import InputError

TRUNCATED_NORMAL_VARIANCE = float(stats.truncnorm(-2.0, 2.0).var())
"""Variance of N(0, 1) cut at ±2: 1 − 4φ(2)/(Φ(2) − Φ(−2)) ≈ 0.77374."""

TRUNCATED_NORMAL_STD = math.sqrt(TRUNCATED_NORMAL_VARIANCE)
"""Standard deviation of N(0, 1) cut at ±2, ≈ 0.87962566103423978."""

CONSTANT_KINDS = ("zeros", "ones", "constant")
RANDOM_KINDS = ("normal", "truncated_normal", "uniform")
VARIANCE_SCALING_KINDS = (
    "glorot_normal", "glorot_uniform",
    "he_normal", "he_uniform",
    "lecun_normal", "lecun_uniform",
)
ALL_KINDS = CONSTANT_KINDS + RANDOM_KINDS + VARIANCE_SCALING_KINDS + ("orthogonal",)

_DEFAULT_PARAMETER = {"normal": 1.0, "truncated_normal": 1.0, "orthogonal": 1.0}
_REQUIRED_PARAMETER = {"constant": "the constant value c", "uniform": "the bound a of U(-a, a)"}

# (scale, mode) of Keras VarianceScaling: variance = scale / n with n = fan_in or
# (fan_in + fan_out) / 2.
_VARIANCE_SCALING = {
    "glorot": (1.0, "fan_avg"),
    "he": (2.0, "fan_in"),
    "lecun": (1.0, "fan_in"),
}

SPEC_HELP = (
    "zeros, ones, constant:C, normal:STD, truncated_normal:STD, uniform:A, "
    "glorot_normal, glorot_uniform, he_normal, he_uniform, lecun_normal, "
    "lecun_uniform, orthogonal[:GAIN]"
)


@dataclasses.dataclass(frozen=True)
class InitSpec:
    """The distribution of the entries of one weight matrix or bias vector.

    Attributes:
        kind: one of :data:`ALL_KINDS`.
        parameter: the constant for ``constant``, the standard deviation for
            ``normal`` and ``truncated_normal``, the bound a for ``uniform``,
            the gain for ``orthogonal``; None for the other kinds.
    """

    kind: str
    parameter: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in ALL_KINDS:
            raise InputError(f"unknown initializer {self.kind!r}; use one of: {SPEC_HELP}")
        if self.kind in ("normal", "truncated_normal", "uniform", "orthogonal"):
            if self.parameter is None or not math.isfinite(self.parameter) or self.parameter <= 0:
                raise InputError(
                    f"initializer {self.kind!r} needs a positive finite parameter, got "
                    f"{self.parameter!r}; write e.g. '{self.kind}:0.1'"
                )
        if self.kind == "constant" and (self.parameter is None or not math.isfinite(self.parameter)):
            raise InputError(
                f"initializer 'constant' needs a finite value, got {self.parameter!r}; "
                "write e.g. 'constant:0.5'"
            )
        if self.kind in ("zeros", "ones") + VARIANCE_SCALING_KINDS and self.parameter is not None:
            raise InputError(f"initializer {self.kind!r} takes no parameter, got {self.parameter!r}")

    def __str__(self) -> str:
        if self.parameter is None:
            return self.kind
        return f"{self.kind}:{self.parameter:g}"

    @property
    def is_constant(self) -> bool:
        """Whether every entry is the same number (zeros, ones, constant)."""
        return self.kind in CONSTANT_KINDS

    @property
    def constant_value(self) -> float:
        """The value of every entry of a constant scheme.

        Raises:
            ValueError: if the scheme is random.
        """
        if self.kind == "zeros":
            return 0.0
        if self.kind == "ones":
            return 1.0
        if self.kind == "constant":
            return float(self.parameter)
        raise InputError(f"initializer {self} is random, so it has no constant value")

    def mean(self) -> float:
        """Return the mean of one entry."""
        return self.constant_value if self.is_constant else 0.0

    def variance(self, fan_in: int, fan_out: int) -> float:
        """Return the exact variance of one entry of a ``(fan_in, fan_out)`` matrix.

        >>> InitSpec("he_normal").variance(784, 100)
        0.002551020408163265
        >>> round(InitSpec("truncated_normal", 1.0).variance(784, 10), 5)
        0.77374
        """
        if fan_in <= 0 or fan_out <= 0:
            raise InputError(f"fan_in and fan_out must be positive, got {fan_in}, {fan_out}")
        if self.is_constant:
            return 0.0
        if self.kind == "normal":
            return self.parameter**2
        if self.kind == "truncated_normal":
            return TRUNCATED_NORMAL_VARIANCE * self.parameter**2
        if self.kind == "uniform":
            return self.parameter**2 / 3.0
        if self.kind == "orthogonal":
            return self.parameter**2 / max(fan_in, fan_out)
        scale, mode = _VARIANCE_SCALING[self.kind.split("_")[0]]
        n = fan_in if mode == "fan_in" else (fan_in + fan_out) / 2.0
        return scale / n

    def std(self, fan_in: int, fan_out: int) -> float:
        """Return the standard deviation of one entry (the square root of :meth:`variance`)."""
        return math.sqrt(self.variance(fan_in, fan_out))


def parse_init(text: str) -> InitSpec:
    """Parse ``kind`` or ``kind:parameter`` into an :class:`InitSpec`.

    >>> parse_init("normal:0.1")
    InitSpec(kind='normal', parameter=0.1)
    >>> parse_init("zeros")
    InitSpec(kind='zeros', parameter=None)

    Raises:
        ValueError: naming the text and listing the accepted forms.
    """
    kind, _, parameter_text = text.strip().partition(":")
    kind = kind.strip().lower()
    if kind not in ALL_KINDS:
        raise InputError(f"unknown initializer {text!r}; use one of: {SPEC_HELP}")

    if not parameter_text:
        if kind in _REQUIRED_PARAMETER:
            raise InputError(
                f"initializer {text!r} needs {_REQUIRED_PARAMETER[kind]}, e.g. '{kind}:0.1'"
            )
        return InitSpec(kind, _DEFAULT_PARAMETER.get(kind))

    try:
        parameter = float(parameter_text)
    except ValueError:
        raise InputError(
            f"invalid parameter {parameter_text!r} in initializer {text!r}; expected a number"
        ) from None
    return InitSpec(kind, parameter)


def parse_layer_inits(text: str, n_layers: int) -> dict[str, InitSpec]:
    """Parse ``W1=zeros,W2=normal:1,b1=ones`` into a mapping from parameter name to spec.

    Names are ``W1..WL`` for weights and ``b1..bL`` for biases, counted from the
    input. ``W=spec`` and ``b=spec`` set every layer. Parameters not named keep no
    entry, so the caller applies its own defaults.

    >>> specs = parse_layer_inits("W=zeros,W2=normal:1", 2)
    >>> str(specs["W1"]), str(specs["W2"])
    ('zeros', 'normal:1')

    Raises:
        ValueError: on a malformed item, an unknown name or a layer index outside
            ``1..n_layers``.
    """
    specs: dict[str, InitSpec] = {}
    items = [item.strip() for item in text.split(",") if item.strip()]
    # Apply whole-network settings first so that W2=... overrides W=...
    items.sort(key=lambda item: item.split("=")[0].strip() not in ("W", "b"))
    for item in items:
        name, equals, spec_text = item.partition("=")
        name = name.strip()
        if not equals or not spec_text.strip():
            raise InputError(
                f"invalid initializer assignment {item!r}; write NAME=SPEC, e.g. 'W1=zeros'"
            )
        spec = parse_init(spec_text)
        if name in ("W", "b"):
            for layer in range(1, n_layers + 1):
                specs[f"{name}{layer}"] = spec
            continue
        if len(name) < 2 or name[0] not in "Wb" or not name[1:].isdigit():
            raise InputError(
                f"invalid parameter name {name!r} in {item!r}; use W1..W{n_layers} or b1..b{n_layers}"
            )
        layer = int(name[1:])
        if not 1 <= layer <= n_layers:
            raise InputError(
                f"layer {layer} in {item!r} is out of range; this network has layers 1..{n_layers}"
            )
        specs[name] = spec
    return specs
