"""Atomic writing of result files, and the directory they go to.

Every file is written to a temporary file in the same directory and then
renamed over the target, so a reader sees either the old complete file or the
new complete file, never half of one, even if the process is killed midway.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

DEFAULT_RESULTS_DIR = Path("results")
"""Default folder for the commands' outputs (ignored by git)."""


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(file)`` on a temporary file, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp creates the file with mode 0600; give it the mode a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


def atomic_write_json(path: str | os.PathLike, record: Any) -> Path:
    """Write ``record`` as indented JSON to ``path`` atomically."""
    return atomic_write_text(path, json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")


def atomic_save_figure(figure: Any, path: str | os.PathLike, **savefig_options: Any) -> Path:
    """Save a matplotlib figure to ``path`` atomically; the format follows the suffix."""
    path = Path(path)
    file_format = path.suffix.lstrip(".")
    return atomic_write(path, lambda handle: figure.savefig(handle, format=file_format, **savefig_options))
