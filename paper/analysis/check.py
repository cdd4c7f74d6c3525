"""Data of the prediction-against-measurement table: the CSV of ``initsym check``.

The step runs :func:`empirical.check.run` with the pipeline's data options and
``data/`` as its output folder, so ``data/check.csv`` and
``data/check_metadata.json`` are exactly what ``initsym check`` writes.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from paper.dependencies import require

NAME = "check"
MODULES = ("empirical.check", "empirical.cases", "empirical.measure", "empirical.roundoff",
           "empirical.symmetry_measure", "theory.meanfield", "theory.first_layer", "theory.symbolic")
CHECK_FILE = "check.csv"
METADATA_FILE = "check_metadata.json"


def settings_record(context) -> dict:
    return {**dataclasses.asdict(context.settings.check), **context.data_record()}


def check_arguments(context) -> argparse.Namespace:
    """Parse the options of ``initsym check`` that reproduce this pipeline's settings."""
    add_arguments = require("empirical.check", "add_arguments")
    parser = argparse.ArgumentParser(prog="initsym check")
    add_arguments(parser)
    settings = context.settings.check
    argv = ["--output", str(context.data_dir), "--dataset", context.dataset_name, "--scaling", context.scaling]
    if context.data_path is not None:
        argv += ["--data", str(context.data_path)]
    if settings.quick:
        argv.append("--quick")
    if settings.skip_subprocess:
        argv.append("--skip-subprocess")
    if not context.progress:
        argv.append("--no-progress")
    return parser.parse_args(argv)


def compute(context) -> list[Path]:
    run_check = require("empirical.check", "run")
    run_check(check_arguments(context))
    return [context.data_dir / CHECK_FILE, context.data_dir / METADATA_FILE]
