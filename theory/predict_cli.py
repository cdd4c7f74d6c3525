"""``initsym predict``: what an initialization does, from theory alone.

Two modes share the subcommand:

* with ``--init`` (constant or mixed constant/random layers), the exact symbolic
  analysis of :mod:`theory.regimes`: the regime, the blocks with zero gradient and
  the tied units, each with its reason;
* with ``--sigma-w`` (random layers), the mean-field table of
  :mod:`theory.meanfield`: per layer q, mean activation, saturated or dead
  fraction, χ and the gradient factor.

Neither mode imports TensorFlow.
"""

from __future__ import annotations

import argparse

from theory.activations import ACTIVATIONS
from theory.errors import InputError
from theory.initializers import SPEC_HELP


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of both prediction modes to ``parser``."""
    parser.add_argument(
        "--activation", required=True,
        help=f"hidden activation: one of {', '.join(sorted(ACTIVATIONS))}, "
        "or a sympy expression in z such as 'z**3 + z' (symbolic mode only)",
    )

    symbolic = parser.add_argument_group("symbolic mode (constant or partly constant initialization)")
    symbolic.add_argument(
        "--init", metavar="ASSIGNMENTS",
        help="per-layer initializers, e.g. 'W1=zeros,W2=normal:1'; W=... and b=... set every "
        f"layer; unnamed biases are zeros and unnamed weights normal:1. Specs: {SPEC_HELP}",
    )
    symbolic.add_argument(
        "--widths", default="784,100,10", metavar="N0,N1,...,NL",
        help="layer widths from input to output (default: 784,100,10)",
    )
    symbolic.add_argument(
        "--kink-derivative", type=float, default=None, metavar="VALUE",
        help="φ'(z) at the activation's kink; default: TensorFlow's convention "
        "(relu'(0)=0, leaky_relu'(0)=α, elu'(0)=1, selu'(0)=λ)",
    )
    symbolic.add_argument(
        "--loss", choices=("softmax_cross_entropy", "mse"), default="softmax_cross_entropy",
        help="training loss (default: softmax_cross_entropy)",
    )
    symbolic.add_argument(
        "--inputs", choices=("nonnegative", "any"), default="nonnegative",
        help="sign of the input pixels, which decides constant-init cases (default: nonnegative)",
    )
    symbolic.add_argument("--latex", action="store_true", help="also print the LaTeX derivation")

    numeric = parser.add_argument_group("mean-field mode (random initialization)")
    numeric.add_argument("--depth", type=int, default=10, help="number of hidden layers (default: 10)")
    numeric.add_argument(
        "--sigma-w", type=float, default=None, metavar="SIGMA_W",
        help="weight scale σ_w: weights are N(0, σ_w²/fan_in); selects mean-field mode",
    )
    numeric.add_argument(
        "--sigma-b", type=float, default=0.0, metavar="SIGMA_B",
        help="bias standard deviation σ_b (default: 0)",
    )
    numeric.add_argument(
        "--q0", type=float, default=1.0, metavar="Q0",
        help="variance q of the first layer's pre-activations (default: 1)",
    )


def run(args: argparse.Namespace) -> int:
    """Print the prediction of the mode the options select."""
    if args.init is not None and args.sigma_w is not None:
        raise InputError("give either --init (symbolic mode) or --sigma-w (mean-field mode), not both")
    if args.sigma_w is not None:
        from theory import meanfield_report

        print(meanfield_report.depth_table_text(args))
        return 0

    from theory import regimes

    print(regimes.prediction_text(args))
    return 0
