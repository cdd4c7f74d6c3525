"""Tests of the resumable sweep runner in empirical.sweep.

The runs are tiny (784-8-10 on the Gaussian task, a few steps) so that the
time goes to starting worker processes, which import TensorFlow.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from empirical.batched import train_many
from empirical.cache import RunCache
from empirical.config import DataConfig, OptimizerConfig, mlp_config
from empirical.sweep import load_dataset_from_spec, plan_chunks, run_sweep
from theory.errors import InputError

SPEC = DataConfig(name="gaussian", path=None, scaling="raw")
TOLERANCE = 1e-10
"""float64 runs; batching and chunking change only summation order."""


def tiny_grid(n_seeds: int = 3, steps: int = 5):
    settings = dict(optimizer=OptimizerConfig("sgd", learning_rate=0.1), batch_size=10, steps=steps,
                    dtype="float64", data=SPEC)
    return [mlp_config((784, 8, 10), activation, "glorot_normal", seed=seed, **settings)
            for activation in ("tanh", "relu") for seed in range(n_seeds)]


def assert_match_reference(results, configs):
    reference = train_many(configs, load_dataset_from_spec(SPEC))
    for result, expected, config in zip(results, reference, configs):
        assert result.config == config
        assert np.max(np.abs(result.losses - expected.losses)) < TOLERANCE
        assert result.test_accuracy == expected.test_accuracy


def test_plan_skips_cached(tmp_path):
    configs = tiny_grid()
    cache = RunCache(tmp_path)
    train_many(configs[:2], load_dataset_from_spec(SPEC), cache)
    chunks = plan_chunks(configs + configs[:1], cache, chunk_size=2)
    planned = [config for chunk in chunks for config in chunk]
    assert sorted(c.config_hash() for c in planned) == sorted(c.config_hash() for c in configs[2:])
    assert max(len(chunk) for chunk in chunks) == 2


def test_dask_local_cluster(tmp_path):
    configs = tiny_grid()
    results = run_sweep(configs, SPEC, str(tmp_path), executor="dask", n_workers=2, chunk_size=2)
    assert len(list(tmp_path.glob("*.npz"))) == len(configs)
    assert_match_reference(results, configs)


def test_rejects_unknown_executor(tmp_path):
    with pytest.raises(InputError, match="unknown executor"):
        run_sweep(tiny_grid(), SPEC, str(tmp_path), executor="slurm")


def test_rejects_address_without_dask(tmp_path):
    with pytest.raises(InputError, match="executor='dask'"):
        run_sweep(tiny_grid(), SPEC, str(tmp_path), scheduler_address="tcp://127.0.0.1:8786")


SWEEP_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from test_sweep import SPEC, tiny_grid
    from empirical.sweep import run_sweep
    run_sweep(tiny_grid(n_seeds=3, steps=200), SPEC, {cache!r}, executor={executor!r}, n_workers=1, chunk_size=1)
""")


@pytest.mark.parametrize("executor", ["local", pytest.param("dask", marks=pytest.mark.slow)])
def test_resume_after_kill(tmp_path, executor):
    cache_dir = tmp_path / "cache"
    script = SWEEP_SCRIPT.format(tests=str(Path(__file__).parent), cache=str(cache_dir), executor=executor)
    process = subprocess.Popen([sys.executable, "-c", script], start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(list(cache_dir.glob("*.npz"))) < 2:
        assert process.poll() is None, "the sweep ended before it could be killed"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    n_before = len(list(cache_dir.glob("*.npz")))
    configs = tiny_grid(n_seeds=3, steps=200)
    assert 2 <= n_before < len(configs)

    results = run_sweep(configs, SPEC, str(cache_dir), executor="local", n_workers=1, chunk_size=6)
    assert len(list(cache_dir.glob("*.npz"))) == len(configs)
    assert_match_reference(results, configs)
