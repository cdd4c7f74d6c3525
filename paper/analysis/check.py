"""Data of the prediction-against-measurement table: the CSV of :mod:`empirical.check`."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from empirical.results import atomic_write_text
from paper.dependencies import require

NAME = "check"
MODULES = ("empirical.check", "empirical.measure", "empirical.roundoff", "theory.meanfield", "theory.regimes")
CHECK_FILE = "check.csv"


def settings_record(context) -> dict:
    return {**dataclasses.asdict(context.settings.check), **context.data_record()}


def compute(context) -> list[Path]:
    run_checks = require("empirical.check", "run_checks")
    table = run_checks(context.dataset, quick=context.settings.check.quick)
    path = context.data_dir / CHECK_FILE
    atomic_write_text(path, table.to_csv(index=False))
    return [path]
