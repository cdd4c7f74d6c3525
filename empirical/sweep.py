"""Run a grid of configurations in worker processes or on a Dask cluster, resumably.

:func:`run_sweep` skips every configuration whose result is already in the
:class:`~empirical.cache.RunCache` folder, groups the rest into batches that
:func:`empirical.batched.train_batched` accepts, cuts them into chunks of at most
``chunk_size`` runs and hands each chunk to a worker. A worker loads the
dataset itself from a :class:`~empirical.config.DataConfig` (a few strings, so
no arrays travel to it), trains the chunk and saves each result to the cache
folder with an atomic write. A sweep that is killed midway therefore keeps
every finished result, never leaves a partial one, and on the next call trains
only what is missing.

Executors:

* ``"local"``: a :class:`concurrent.futures.ProcessPoolExecutor` with ``spawn``
  processes, because TensorFlow does not survive ``fork`` after it started
  threads.
* ``"dask"``: a :mod:`distributed` client, on a new ``LocalCluster`` of
  ``n_workers`` single-threaded processes bound to 127.0.0.1, or on the running
  scheduler at ``scheduler_address`` (for example ``tcp://10.0.0.5:8786``).
  Every worker must see ``cache_dir`` at the same path (a shared file system),
  and the data at ``DataConfig.path``.
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import multiprocessing
from collections.abc import Sequence

from empirical.cache import RunCache
from empirical.config import DataConfig, RunConfig
from theory.errors import InputError

logger = logging.getLogger(__name__)

EXECUTORS = ("local", "dask")
DEFAULT_CHUNK_SIZE = 32
"""Runs per task: large enough for batching to pay off, small enough to spread over workers."""


@functools.lru_cache(maxsize=4)
def load_dataset_from_spec(spec: DataConfig, dtype: str = "float64"):
    """Load the dataset ``spec`` describes, once per process and spec."""
    from empirical.data import load_dataset

    return load_dataset(spec.name, spec.path, scaling=spec.scaling, dtype=dtype)


def train_chunk(configs: Sequence[RunConfig], dataset_spec: DataConfig, cache_dir: str) -> list[str]:
    """Train ``configs`` on the dataset of ``dataset_spec``, save them to ``cache_dir`` and return their hashes.

    Runs in a worker process. Configurations already in the cache are skipped,
    so a chunk that is retried after a worker died redoes only the missing runs.
    """
    from empirical.batched import train_many

    dataset = load_dataset_from_spec(dataset_spec)
    train_many(configs, dataset, RunCache(cache_dir))
    return [config.config_hash() for config in configs]


def plan_chunks(
    configs: Sequence[RunConfig], cache: RunCache, chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> list[list[RunConfig]]:
    """Return the configurations that still need training, as chunks of compatible runs."""
    from empirical.batched import group_compatible

    if chunk_size < 1:
        raise InputError(f"chunk_size must be at least 1, got {chunk_size}")
    pending = list(dict.fromkeys(config for config in configs if config not in cache))
    return [[pending[i] for i in group] for group in group_compatible(pending, max_runs=chunk_size)]


def run_sweep(
    configs: Sequence[RunConfig],
    dataset_spec: DataConfig,
    cache_dir: str,
    *,
    executor: str = "local",
    scheduler_address: str | None = None,
    n_workers: int = 2,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: bool = False,
) -> list:
    """Train every configuration not yet in ``cache_dir`` and return all results in input order.

    ``dataset_spec`` names the data every run trains on, loaded by each worker.
    ``executor`` is ``"local"`` or ``"dask"``; ``scheduler_address`` (dask only)
    connects to a running cluster instead of starting a ``LocalCluster`` of
    ``n_workers`` processes.
    """
    if executor not in EXECUTORS:
        raise InputError(f"unknown executor {executor!r}; use one of: {', '.join(EXECUTORS)}")
    if scheduler_address is not None and executor != "dask":
        raise InputError("scheduler_address needs executor='dask'")
    if n_workers < 1:
        raise InputError(f"n_workers must be at least 1, got {n_workers}")
    if not isinstance(dataset_spec, DataConfig):
        raise InputError(f"dataset_spec must be a DataConfig, got {type(dataset_spec).__name__}")
    cache = RunCache(cache_dir)
    cache.directory.mkdir(parents=True, exist_ok=True)
    chunks = plan_chunks(configs, cache, chunk_size)
    n_pending = sum(len(chunk) for chunk in chunks)
    logger.info("sweep: %d runs, %d cached, %d to train in %d chunks on %s",
                len(configs), len(configs) - n_pending, n_pending, len(chunks), executor)

    from tqdm.auto import tqdm

    with tqdm(total=n_pending, desc="runs", unit="run", disable=not progress) as bar:
        if chunks and executor == "local":
            _run_local(chunks, dataset_spec, str(cache.directory), n_workers, bar)
        elif chunks:
            _run_dask(chunks, dataset_spec, str(cache.directory), scheduler_address, n_workers, bar)

    results = []
    for config in configs:
        result = cache.load(config)
        if result is None:
            raise RuntimeError(f"run {config.config_hash()} finished but its result is missing from {cache_dir}")
        results.append(result)
    return results


def _run_local(chunks, dataset_spec, cache_dir, n_workers, bar) -> None:
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=n_workers, mp_context=context) as pool:
        futures = {pool.submit(train_chunk, chunk, dataset_spec, cache_dir): chunk for chunk in chunks}
        for future in concurrent.futures.as_completed(futures):
            future.result()
            bar.update(len(futures[future]))


def _run_dask(chunks, dataset_spec, cache_dir, scheduler_address, n_workers, bar) -> None:
    from distributed import Client, LocalCluster, as_completed

    if scheduler_address is None:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None)
        client = Client(cluster)
    else:
        cluster = None
        client = Client(scheduler_address)
    try:
        # pure=False: a chunk retried after a failure must run again, not reuse a cached future.
        futures = [client.submit(train_chunk, chunk, dataset_spec, cache_dir, pure=False) for chunk in chunks]
        sizes = {future.key: len(chunk) for future, chunk in zip(futures, chunks)}
        for future in as_completed(futures):
            future.result()
            bar.update(sizes[future.key])
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
