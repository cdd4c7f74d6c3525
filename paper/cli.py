"""The ``initsym`` command line.

Each subcommand lives in the package that does its work and exposes two
functions, ``add_arguments(parser)`` and ``run(args) -> int``. They are imported
only when their subcommand runs, so ``initsym predict`` never imports
TensorFlow.

================  ==========================  ==================================
subcommand        module                      what it does
================  ==========================  ==================================
``predict``       :mod:`theory.predict_cli`   theory only: regime of a constant
                                              initialization, or the mean-field
                                              table through depth
``reproduce``     :mod:`empirical.reproduce`  the classic MNIST initialization grid
``check``         :mod:`empirical.check`      every prediction against a measurement
``paper``         :mod:`paper.pipeline`       every figure and table of the paper
================  ==========================  ==================================
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from theory.errors import InputError

SUBCOMMANDS = {
    "predict": ("theory.predict_cli", "predict what an initialization does, before any training"),
    "reproduce": ("empirical.reproduce", "train the classic MNIST initialization grid over seeds"),
    "check": ("empirical.check", "compare every theory prediction with a TensorFlow measurement"),
    "paper": ("paper.pipeline", "regenerate every figure and table of the paper"),
}


def _load(name: str):
    module_name, _ = SUBCOMMANDS[name]
    return importlib.import_module(module_name)


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    """Build the parser; only the subcommand named in ``argv`` is imported."""
    parser = argparse.ArgumentParser(
        prog="initsym",
        description="What weight initialization does to a neural network, derived and measured.",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0,
        help="log more detail (-v: debug messages from initsym)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    requested = next((word for word in argv if word in SUBCOMMANDS), None)
    for name, (_, help_text) in SUBCOMMANDS.items():
        subparser = subparsers.add_parser(name, help=help_text, description=help_text)
        if name == requested:
            _load(name).add_arguments(subparser)
    return parser


def configure_logging(verbose: int, quiet: bool) -> None:
    """Send initsym's log lines to standard error with a timestamp."""
    level = logging.INFO
    if verbose:
        level = logging.DEBUG
    if quiet:
        level = logging.WARNING
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    # TensorFlow's C++ log lines (oneDNN notices, CPU feature hints) are noise on a CLI.
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``initsym`` command line and return its exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2

    configure_logging(args.verbose, args.quiet)
    try:
        return int(_load(args.command).run(args) or 0)
    except (InputError, FileNotFoundError) as error:
        # Input errors already name the value and the fix; a traceback adds nothing.
        print(f"initsym {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("initsym: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
