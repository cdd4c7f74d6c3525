"""A directory of finished runs, keyed by the hash of their configuration.

Each finished run is stored as ``<hash>.npz``: the configuration and metrics as
JSON in the ``record`` entry, the loss curve, the test predictions and every
snapshot as arrays. The file is written atomically, so a run killed midway
leaves either no entry or a complete one, and a sweep that is started again
recomputes only the missing runs.

The hash covers the whole :class:`~empirical.config.RunConfig`, including the
data source, so a changed configuration never reuses an old result.
"""

from __future__ import annotations

import io
import json
import logging
import os
import zipfile
from pathlib import Path

import numpy as np

from empirical.config import RunConfig
from empirical.results import atomic_write

logger = logging.getLogger(__name__)


class RunCache:
    """Finished :class:`~empirical.trainer.RunResult` objects on disk, one file per configuration."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)

    def path(self, config: RunConfig) -> Path:
        """Return the path of the file that stores the result of ``config``."""
        return self.directory / f"{config.config_hash()}.npz"

    def __contains__(self, config: RunConfig) -> bool:
        return self.path(config).exists()

    def save(self, result) -> Path:
        """Store ``result`` atomically and return its path."""
        arrays: dict[str, np.ndarray] = {
            "losses": np.asarray(result.losses),
            "predictions": np.asarray(result.predictions),
        }
        for step, parameters in result.snapshots.items():
            for name, values in parameters.items():
                arrays[f"snapshot/{step}/{name}"] = values
        record = {
            "config": result.config.to_dict(),
            "train_accuracy": result.train_accuracy,
            "test_accuracy": result.test_accuracy,
            "final_loss": result.final_loss,
            "test_loss": result.test_loss,
            "metadata": result.metadata,
        }
        arrays["record"] = np.frombuffer(json.dumps(record, default=str).encode(), dtype=np.uint8)

        def write(handle) -> None:
            buffer = io.BytesIO()
            np.savez(buffer, **arrays)
            handle.write(buffer.getvalue())

        return atomic_write(self.path(result.config), write)

    def load(self, config: RunConfig):
        """Return the stored result of ``config``, or None when there is none or it is unreadable."""
        from empirical.trainer import RunResult

        path = self.path(config)
        if not path.exists():
            return None
        try:
            with np.load(path) as stored:
                record = json.loads(bytes(stored["record"]).decode())
                snapshots: dict[int, dict[str, np.ndarray]] = {}
                for key in stored.files:
                    if key.startswith("snapshot/"):
                        _, step, name = key.split("/")
                        snapshots.setdefault(int(step), {})[name] = stored[key]
                losses = stored["losses"]
                predictions = stored["predictions"]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
            logger.warning("ignoring unreadable cached run %s: %s", path, error)
            return None
        if RunConfig.from_dict(record["config"]) != config:
            logger.warning("ignoring cached run %s: its configuration differs from the request", path)
            return None
        return RunResult(
            config=config,
            losses=losses,
            train_accuracy=record["train_accuracy"],
            test_accuracy=record["test_accuracy"],
            final_loss=record["final_loss"],
            test_loss=record["test_loss"],
            snapshots=snapshots,
            predictions=predictions,
            metadata=record["metadata"],
        )


def train_cached(config: RunConfig, dataset, cache: RunCache | None, **train_options):
    """Return the cached result of ``config``, training and storing it when absent."""
    from empirical.trainer import train

    if cache is not None:
        cached = cache.load(config)
        if cached is not None:
            logger.debug("reusing cached run %s", cache.path(config).name)
            return cached
    result = train(config, dataset, **train_options)
    if cache is not None:
        cache.save(result)
    return result
