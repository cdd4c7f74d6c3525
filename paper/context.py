"""State shared by the pipeline's steps: output folders, settings, dataset and run cache."""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from empirical.batched import train_many
from empirical.cache import RunCache
from empirical.config import DataConfig, RunConfig
from paper.settings import PaperSettings

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class PipelineStats:
    """Counts of what one pipeline invocation did, for the summary and for tests."""

    runs_trained: int = 0
    runs_reused: int = 0
    steps_computed: list[str] = dataclasses.field(default_factory=list)
    steps_reused: list[str] = dataclasses.field(default_factory=list)
    skipped: dict[str, str] = dataclasses.field(default_factory=dict)
    outputs: list[Path] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class PipelineContext:
    """Everything a step reads: where to write, how much to do, and the data.

    Attributes:
        output: the output folder, with ``data/``, ``figures/``, ``tables/`` and ``cache/``.
        settings: the amount of work of every step.
        dataset_loader: returns the training data. It is called on the first use of
            :attr:`dataset` (cached), which only steps that train or measure make.
        dataset_name, scaling: the data options, recorded in every run's configuration.
        data_path: the ``--data`` option, passed on to ``initsym check``; None for the default source.
        progress: whether to show tqdm progress bars.
    """

    output: Path
    settings: PaperSettings
    dataset_loader: Callable[[], Any]
    dataset_name: str = "mnist"
    scaling: str = "unit"
    data_path: str | None = None
    progress: bool = True
    stats: PipelineStats = dataclasses.field(default_factory=PipelineStats)

    @property
    def data_dir(self) -> Path:
        return self.output / "data"

    @property
    def figures_dir(self) -> Path:
        return self.output / "figures"

    @property
    def tables_dir(self) -> Path:
        return self.output / "tables"

    @property
    def cache_dir(self) -> Path:
        return self.output / "cache"

    @functools.cached_property
    def run_cache(self) -> RunCache:
        """Finished training runs under ``cache/runs``, keyed by configuration hash."""
        return RunCache(self.cache_dir / "runs")

    @functools.cached_property
    def dataset(self):
        """The dataset, loaded on first use."""
        dataset = self.dataset_loader()
        logger.info("data: %s", dataset.describe())
        return dataset

    @property
    def data_config(self) -> DataConfig:
        """The :class:`DataConfig` of every run, with the path of the file the data came from.

        A resolved path, unlike the loader's description, lets sweep workers load
        the same data and keeps runs on different sources apart in the cache.
        """
        from empirical.data import resolve_data_path

        self.dataset  # loads first, so that a --download has filled the Keras cache
        return DataConfig(
            name=self.dataset_name,
            path=resolve_data_path(self.dataset_name, self.data_path),
            scaling=self.scaling,
        )

    def data_record(self) -> dict[str, str]:
        """Return the data options and source, for a step's input hash."""
        return {"dataset": self.dataset_name, "source": str(self.dataset.source), "scaling": self.scaling}

    def train(self, configs: Sequence[RunConfig], description: str) -> list:
        """Return the result of every configuration, training only those not cached.

        The missing runs are trained in batches by :func:`empirical.batched.train_many`.
        """
        from tqdm.auto import tqdm

        cache = self.run_cache
        missing = [config for config in configs if config not in cache]
        self.stats.runs_trained += len(missing)
        self.stats.runs_reused += len(configs) - len(missing)
        logger.info(
            "%s: %d runs, %d cached, %d to train", description, len(configs), len(configs) - len(missing), len(missing)
        )

        with tqdm(total=len(configs), desc=description, unit="run", disable=not self.progress) as bar:
            return list(train_many(list(configs), self.dataset, cache=cache, on_result=bar.update))
