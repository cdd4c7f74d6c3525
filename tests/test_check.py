"""``initsym check``: options, table formatting and the files it writes."""

from __future__ import annotations

import argparse
import json

import pandas as pd
import pytest

from empirical import check
from empirical.cases import Comparison


def _parse(argv):
    parser = argparse.ArgumentParser()
    check.add_arguments(parser)
    return parser.parse_args(argv)


def test_defaults_full_run():
    args = _parse([])
    assert args.quick is False


def test_default_output_folder():
    assert str(_parse([]).output).endswith("check")


def test_format_table_has_header():
    row = Comparison("group", "q", 1.0, 1.01, 0.1, "derivation", "pass")
    assert check.format_table([row]).splitlines()[0].startswith("group")


def test_run_writes_csv_and_metadata(tmp_path, monkeypatch):
    row = Comparison("group", "q", 1.0, 1.01, 0.1, "derivation", "pass")
    monkeypatch.setattr(check, "grid_comparisons", lambda *a, **k: [lambda: [row]])
    monkeypatch.setattr(check, "symmetry_comparisons", lambda *a, **k: [])
    monkeypatch.setattr(check, "wavefront_comparisons", lambda *a, **k: [])
    monkeypatch.setattr(check, "roundoff_comparisons", lambda *a, **k: [])
    monkeypatch.setattr(check.cases, "all_cases", lambda *a, **k: {})
    args = _parse(["--quick", "--output", str(tmp_path)])
    assert check.run(args) == 0
    frame = pd.read_csv(tmp_path / "check.csv")
    assert list(frame["verdict"]) == ["pass"]
    assert "tf_version" in frame.columns
    metadata = json.loads((tmp_path / "check_metadata.json").read_text())
    assert metadata["seeds"] == [0]


def test_rejects_zero_seeds(tmp_path):
    args = _parse(["--seeds", "0", "--output", str(tmp_path)])
    with pytest.raises(ValueError, match="seeds"):
        check.run(args)


def test_network_comparisons_pass_small(monkeypatch):
    from empirical.config import mlp_config
    from empirical.data import make_gaussian

    data = make_gaussian(300, 10, 784, seed=0)
    config = mlp_config((784, 300, 10), "tanh", "glorot_normal", "zeros")
    rows = check.network_comparisons(config, data, (0, 1))
    assert {row.verdict for row in rows} == {"pass"}
