"""One script per figure. Each reads only files under ``data/`` and writes a PDF and a PNG.

Every module defines ``NAME`` (the file name without suffix), ``DATA_FILES``
(what it reads from ``data/``) and ``make(data_dir, figures_dir)``, which
returns the written paths and raises :class:`paper.dependencies.MissingData`
when an input file is absent. Each can also run alone:
``python -m paper.figures.fig1_classic [OUTPUT]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from paper.dependencies import MissingData


def data_path(data_dir: Path, name: str) -> Path:
    """Return ``data_dir / name``, or raise MissingData naming the step that writes it."""
    path = Path(data_dir) / name
    if not path.exists():
        raise MissingData(f"{path} not found; run 'initsym paper' to generate it")
    return path


def run_standalone(make) -> None:
    """Call ``make`` on ``OUTPUT/data`` and ``OUTPUT/figures``, OUTPUT from argv (default results/paper)."""
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("results/paper")
    for path in make(output / "data", output / "figures"):
        print(path)
