"""Reuse of analysis outputs whose inputs have not changed.

Each analysis step names its inputs: its settings, the data source, and the
modules whose code it calls. :func:`inputs_key` hashes them, and the step's
outputs are reused when a key file beside them records the same hash and
every output still exists. Hashing the source files of the called modules means
that an edit to, say, ``theory/meanfield.py`` recomputes the phase diagram on
the next run, while unrelated steps keep their files.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from empirical.results import atomic_write_json


def module_source_hash(module_name: str) -> str:
    """Return the SHA-256 of a module's source file, or ``missing`` when it cannot be imported."""
    try:
        module = importlib.import_module(module_name)
        source = Path(inspect.getsourcefile(module) or "").read_bytes()
    except (ImportError, OSError, TypeError):
        return "missing"
    return hashlib.sha256(source).hexdigest()


def inputs_key(step: str, settings: Mapping[str, Any], modules: Iterable[str]) -> str:
    """Return a 16-hex-digit hash of a step's name, settings and called modules' source."""
    record = {
        "step": step,
        "settings": settings,
        "modules": {name: module_source_hash(name) for name in sorted(set(modules))},
    }
    canonical = json.dumps(record, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class StepCache:
    """Key files that record which inputs produced each step's outputs."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def _key_path(self, step: str) -> Path:
        return self.directory / f"{step}.json"

    def is_fresh(self, step: str, key: str) -> bool:
        """Return whether ``step`` last ran with ``key`` and all its outputs still exist."""
        path = self._key_path(step)
        if not path.exists():
            return False
        try:
            record = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return False
        if record.get("key") != key:
            return False
        return all(Path(output).exists() for output in record.get("outputs", []))

    def outputs(self, step: str) -> list[Path]:
        """Return the outputs recorded for ``step``."""
        record = json.loads(self._key_path(step).read_text())
        return [Path(output) for output in record["outputs"]]

    def record(self, step: str, key: str, outputs: Iterable[Path], settings: Mapping[str, Any]) -> None:
        """Record that ``step`` produced ``outputs`` from the inputs hashed to ``key``."""
        atomic_write_json(
            self._key_path(step),
            {"key": key, "outputs": [str(path) for path in outputs], "settings": dict(settings)},
        )
