"""Tests of ``initsym paper`` on a tiny configuration: outputs, caching, and tables against their CSV.

The pipeline runs once into a shared folder, then again with training disabled
(any call to the trainers raises), so the second run must reuse every cached
run and every analysis file. ``initsym check`` takes minutes even with
``--quick``, so the fast tests replace it with a stand-in that writes a small
``check.csv`` in its format. The slow ``test_real_check_table`` runs the real one.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest

from paper import pipeline
from paper.context import PipelineContext
from paper.dependencies import optional
from paper.settings import (
    CheckSettings,
    ClassicSettings,
    DepthSettings,
    FirstLayerSettings,
    PaperSettings,
    PhaseSettings,
    RoundoffSettings,
    SymbolicSettings,
)

TINY = PaperSettings(
    classic=ClassicSettings(seeds=1, steps=3),
    symbolic=SymbolicSettings(activations=("sigmoid", "relu"), weight_patterns=(("zeros", "zeros"), ("zeros", "normal:1"))),
    first_layer=FirstLayerSettings(width=8, examples=50),
    depth=DepthSettings(activations=("tanh", "relu"), inits=("normal:1", "he_normal"), depth=3, width=8,
                        examples=20, seeds=2),
    phase=PhaseSettings(activations=("tanh",), sigma_w_points=12, sigma_b_points=6),
    roundoff=RoundoffSettings(steps=10),
    check=CheckSettings(quick=True),
)

EXPECTED_FILES = {
    "fig1": ["data/classic_runs.csv", "figures/fig1_classic.pdf", "figures/fig1_classic.png"],
    "fig2": ["data/symbolic_blocks.csv", "figures/fig2_symbolic.pdf", "figures/fig2_symbolic.png"],
    "fig3": ["data/first_layer_summary.csv", "data/first_layer_sigma0.01.npz", "data/first_layer_sigma1.npz",
             "figures/fig3_first_layer.pdf", "figures/fig3_first_layer.png"],
    "fig4": ["data/depth_theory.csv", "data/depth_measured.csv", "figures/fig4_depth.pdf", "figures/fig4_depth.png"],
    "fig5": ["data/phase_tanh.npz", "data/phase_recipes.csv", "figures/fig5_phase.pdf", "figures/fig5_phase.png"],
    "fig6": ["data/roundoff_curves.csv", "data/roundoff_summary.csv", "figures/fig6_roundoff.pdf",
             "figures/fig6_roundoff.png"],
    "tables": ["data/check.csv", "tables/check.tex", "tables/check.md"],
}
ALWAYS_WRITTEN = ["tables/classic_summary.tex", "tables/classic_summary.md", "tables/numbers.tex"]

# Functions whose absence makes the pipeline skip a step (see paper/analysis).
STEP_DEPENDENCIES = {
    "tables": ("empirical.check", "run"),
}


def _available(step: str) -> bool:
    dependency = STEP_DEPENDENCIES.get(step)
    return dependency is None or optional(*dependency) is not None


def _context(output, settings=TINY) -> PipelineContext:
    from empirical.data import load_dataset

    return PipelineContext(output=output, settings=settings, dataset_loader=lambda: load_dataset("mnist"),
                           progress=False)


def _forbid_training(monkeypatch) -> None:
    def fail(*args, **kwargs):
        raise AssertionError("training ran although every result is cached")

    import empirical.trainer

    monkeypatch.setattr(empirical.trainer, "train", fail)
    monkeypatch.setattr(empirical.trainer.Trainer, "run", fail)
    batched = optional("empirical.batched", "train_batched")
    if batched is not None:
        import empirical.batched

        monkeypatch.setattr(empirical.batched, "train_batched", fail)


CHECK_ROWS = pd.DataFrame({
    "group": ["784-100-100-100-10 tanh W=he_normal on mnist", "zero-gradient blocks at step 0", "roundoff"],
    "quantity": ["preactivation_variance, layer 3", "sigmoid W1=zeros W2=zeros", "growth rate ≈ ‖δ‖²"],
    "prediction": [0.25, "W1,b1", "no claim"],
    "measured": [0.2468, "W1,b1", 0.0312],
    "tolerance": [0.01, None, None],
    "derivation": ["3.29 sd", "exact", ""],
    "verdict": ["pass", "pass", "measured"],
    "detail": ["", "", ""],
})


def _stand_in_check(args) -> int:
    from empirical.results import atomic_write_json, atomic_write_text

    atomic_write_text(args.output / "check.csv", CHECK_ROWS.to_csv(index=False))
    atomic_write_json(args.output / "check_metadata.json", {"quick": args.quick})
    return 0


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Run the whole pipeline twice into one folder; the second run with training disabled."""
    output = tmp_path_factory.mktemp("paper")
    with pytest.MonkeyPatch.context() as monkeypatch:
        if _available("tables"):
            import empirical.check

            monkeypatch.setattr(empirical.check, "run", _stand_in_check)
        first = pipeline.run_pipeline(_context(output), list(pipeline.STEPS))
        _forbid_training(monkeypatch)
        second = pipeline.run_pipeline(_context(output), list(pipeline.STEPS))
    return output, first, second


@pytest.mark.parametrize("step", list(EXPECTED_FILES))
def test_step_writes_files(runs, step):
    output, first, _ = runs
    if not _available(step):
        assert step in first.skipped
        assert "is not available" in first.skipped[step]
        return
    assert step not in first.skipped, first.skipped.get(step)
    for name in EXPECTED_FILES[step]:
        path = output / name
        assert path.exists(), f"{name} was not written"
        assert path.stat().st_size > 0, f"{name} is empty"


def test_tables_always_written(runs):
    output, _, _ = runs
    for name in ALWAYS_WRITTEN:
        assert (output / name).stat().st_size > 0, f"{name} is empty"


def test_pdfs_embed_truetype(runs):
    output, _, _ = runs
    for pdf in (output / "figures").glob("*.pdf"):
        content = pdf.read_bytes()
        # Matplotlib embeds TrueType as /TrueType or, for fonts with many glyphs, as a
        # CID-keyed /CIDFontType2 (TrueType outlines); Type 3 means pdf.fonttype 3.
        assert b"/TrueType" in content or b"/CIDFontType2" in content, f"{pdf.name} embeds no TrueType font"
        assert b"/Type3" not in content, f"{pdf.name} embeds a Type 3 font"


def test_first_run_trains(runs):
    _, first, _ = runs
    assert first.runs_trained == 13
    assert first.runs_reused == 0


def test_second_run_reuses_everything(runs):
    _, first, second = runs
    assert second.runs_trained == 0
    assert second.steps_computed == []
    assert sorted(second.steps_reused) == sorted(first.steps_computed)


def test_lost_step_data_reuses_cached_runs(runs, monkeypatch):
    output, _, _ = runs
    (output / "cache/steps/classic.json").unlink()
    _forbid_training(monkeypatch)
    stats = pipeline.run_pipeline(_context(output), ["fig1"])
    assert stats.steps_computed == ["fig1"]
    assert stats.runs_trained == 0
    assert stats.runs_reused == 13


def test_changed_settings_recompute_one_step(runs, monkeypatch):
    output, _, _ = runs
    changed = dataclasses.replace(TINY, phase=dataclasses.replace(TINY.phase, sigma_b_points=7))
    _forbid_training(monkeypatch)
    stats = pipeline.run_pipeline(_context(output, changed), ["fig1", "fig5"])
    assert stats.steps_computed == ["fig5"]
    assert stats.steps_reused == ["fig1"]
    with np.load(output / "data/phase_tanh.npz") as stored:
        assert stored["sigma_b_values"].shape == (7,)


def _markdown_rows(path) -> list[list[str]]:
    lines = path.read_text().strip().splitlines()[2:]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def test_classic_table_matches_csv(runs):
    output, _, _ = runs
    frame = pd.read_csv(output / "data/classic_runs.csv")
    means = frame.groupby("configuration", sort=False)["test_accuracy"].mean()
    rows = _markdown_rows(output / "tables/classic_summary.md")
    assert [row[0] for row in rows] == list(means.index)
    for row in rows:
        assert float(row[2]) == pytest.approx(100 * means[row[0]], abs=0.006)


def test_numbers_match_csv(runs):
    output, _, _ = runs
    frame = pd.read_csv(output / "data/classic_runs.csv")
    zeros = frame[frame["configuration"] == "softmax W,b=zeros"]["test_accuracy"].mean()
    numbers = (output / "tables/numbers.tex").read_text()
    match = re.search(r"\\newcommand\{\\ZeroInitAccuracy\}\{([0-9.]+)\}", numbers)
    assert match is not None, "numbers.tex defines no numeric \\ZeroInitAccuracy"
    assert float(match.group(1)) == pytest.approx(100 * zeros, abs=0.006)


def test_check_table_matches_csv(runs):
    output, _, _ = runs
    if not _available("tables"):
        pytest.skip("empirical.check.run_checks is not in this checkout")
    from paper.tables import CHECK_COLUMNS

    frame = pd.read_csv(output / "data/check.csv")
    rows = _markdown_rows(output / "tables/check.md")
    assert len(rows) == len(frame)
    header = (output / "tables/check.md").read_text().splitlines()[0]
    assert [cell.strip() for cell in header.strip("|").split("|")] == list(CHECK_COLUMNS)
    assert [row[-1] for row in rows] == list(frame["verdict"])
    assert [row[1] for row in rows] == list(frame["quantity"])
    assert rows[0][0] == "784-100×3-10 tanh W=he_normal on mnist"
    assert float(rows[0][3]) == pytest.approx(float(frame["measured"].iloc[0]), rel=1e-3)
    latex = (output / "tables/check.tex").read_text()
    # One row end per CSV row, plus the caption line and the header on the first and later pages.
    assert latex.count(r"\\") == len(frame) + 3
    assert r"$\approx$ $\|$$\delta$$\|$\textsuperscript{2}" in latex
    numbers = (output / "tables/numbers.tex").read_text()
    assert r"\newcommand{\CheckCount}{3}" in numbers
    assert r"\newcommand{\CheckPassed}{2}" in numbers


def test_only_rejects_unknown_step():
    from theory.errors import InputError

    with pytest.raises(InputError, match="fig9"):
        pipeline.parse_only("fig1,fig9")


def test_only_keeps_pipeline_order():
    assert pipeline.parse_only("tables,fig3,fig1") == ["fig1", "fig3", "tables"]


@pytest.mark.slow
def test_real_check_table(tmp_path):
    if not _available("tables"):
        pytest.skip("empirical.check.run is not in this checkout")
    settings = dataclasses.replace(TINY, check=CheckSettings(quick=True, skip_subprocess=True))
    stats = pipeline.run_pipeline(_context(tmp_path, settings), ["tables"])
    assert "tables" not in stats.skipped, stats.skipped.get("tables")
    frame = pd.read_csv(tmp_path / "data/check.csv")
    assert len(_markdown_rows(tmp_path / "tables/check.md")) == len(frame)
