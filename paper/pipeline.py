"""``initsym paper``: regenerate every figure and table of ``paper/initsym.tex`` from the code.

Each step computes its data into ``OUTPUT/data`` (CSV or npz) from ``theory``
and ``empirical``, then a script in :mod:`paper.figures` (or :mod:`paper.tables`)
draws it from those files alone:

======  ===========================  =============================================
step    data (``paper.analysis``)    output
======  ===========================  =============================================
fig1    classic                      classic MNIST grid, accuracy per seed by regime
fig2    symbolic                     zero-gradient blocks and tied units, heat map
fig3    first_layer                  first-layer pre-activations vs scale mixture
fig4    depth                        variance and gradient norm through depth
fig5    phase                        mean-field phase diagram with recipes marked
fig6    roundoff                     symmetry broken by roundoff, float32/float64
tables  check                        prediction vs measurement, classic summary,
                                     ``numbers.tex`` macros for the text
======  ===========================  =============================================

Caching. Training runs are stored in ``OUTPUT/cache/runs`` by the hash of
their configuration (:class:`empirical.cache.RunCache`). Each analysis step
records the hash of its settings, data source and the source code of the
modules it calls in ``OUTPUT/cache/steps``, and is skipped when the hash is
unchanged and its files exist. Figures and tables are always redrawn, which
takes seconds. A step whose ``theory`` or ``empirical`` function is missing
from this checkout is skipped with a warning naming the function.

Building the paper. With a TeX distribution installed (``latexmk`` and
``pdflatex``, e.g. Debian's texlive-latex-base, texlive-latex-recommended and
texlive-latex-extra), after ``initsym paper``::

    cd paper && latexmk -pdf -outdir=build initsym.tex

which writes ``paper/build/initsym.pdf``. The source reads the generated files
from ``../results/paper``; for another output folder, define
``\\InitsymOutput`` before the source is read::

    cd paper && pdflatex -output-directory=build "\\def\\InitsymOutput{/path/to/output}\\input{initsym}"
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import logging
import time
from pathlib import Path

from empirical.cli_common import add_data_arguments, load_dataset_from_args
from empirical.results import DEFAULT_RESULTS_DIR
from paper.context import PipelineContext, PipelineStats
from paper.datacache import StepCache, inputs_key
from paper.dependencies import MissingData, MissingDependency
from paper.settings import PaperSettings
from theory.errors import InputError

logger = logging.getLogger(__name__)

DEFAULT_OUTPUT = DEFAULT_RESULTS_DIR / "paper"


@dataclasses.dataclass(frozen=True)
class Step:
    """One selectable step: its analysis module, its drawing module, and where the drawing goes.

    ``draw_without_data`` lets the drawing run when the analysis was skipped,
    for the tables step, whose classic-grid table and macros do not need
    :mod:`empirical.check`.
    """

    analysis: str
    drawing: str
    destination: str = "figures"
    draw_without_data: bool = False


STEPS: dict[str, Step] = {
    "fig1": Step("paper.analysis.classic", "paper.figures.fig1_classic"),
    "fig2": Step("paper.analysis.symbolic", "paper.figures.fig2_symbolic"),
    "fig3": Step("paper.analysis.first_layer", "paper.figures.fig3_first_layer"),
    "fig4": Step("paper.analysis.depth", "paper.figures.fig4_depth"),
    "fig5": Step("paper.analysis.phase", "paper.figures.fig5_phase"),
    "fig6": Step("paper.analysis.roundoff", "paper.figures.fig6_roundoff"),
    "tables": Step("paper.analysis.check", "paper.tables", destination="tables", draw_without_data=True),
}


def parse_only(text: str | None) -> list[str]:
    """Parse ``--only fig1,fig3`` into step names in pipeline order."""
    if text is None:
        return list(STEPS)
    requested = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in requested if name not in STEPS]
    if unknown or not requested:
        raise InputError(f"invalid --only {text!r}; use a comma-separated subset of: {', '.join(STEPS)}")
    return [name for name in STEPS if name in requested]


def run_analysis(step_name: str, module, context: PipelineContext, step_cache: StepCache) -> None:
    """Run one analysis step unless its outputs for the same inputs already exist."""
    settings = module.settings_record(context)
    key = inputs_key(module.NAME, settings, (module.__name__, *module.MODULES))
    if step_cache.is_fresh(module.NAME, key):
        logger.info("%s: reusing data (inputs unchanged, key %s)", step_name, key)
        context.stats.steps_reused.append(step_name)
        return
    started = time.perf_counter()
    paths = module.compute(context)
    step_cache.record(module.NAME, key, paths, settings)
    context.stats.steps_computed.append(step_name)
    context.stats.outputs.extend(paths)
    logger.info("%s: computed %d data files in %.1f s", step_name, len(paths), time.perf_counter() - started)


def run_step(step_name: str, context: PipelineContext, step_cache: StepCache) -> None:
    """Compute one step's data and draw it, recording a skip when a function or data file is missing."""
    step = STEPS[step_name]
    analysis_ok = True
    try:
        run_analysis(step_name, importlib.import_module(step.analysis), context, step_cache)
    except MissingDependency as error:
        analysis_ok = False
        message = f"{error}; its data was not computed"
        context.stats.skipped[step_name] = message
        logger.warning("skipping %s data: %s", step_name, message)
    if not analysis_ok and not step.draw_without_data:
        return

    destination = getattr(context, f"{step.destination}_dir")
    try:
        paths = importlib.import_module(step.drawing).make(context.data_dir, destination)
    except (MissingData, MissingDependency) as error:
        context.stats.skipped[step_name] = str(error)
        logger.warning("skipping %s: %s", step_name, error)
        return
    context.stats.outputs.extend(paths)
    logger.info("%s: wrote %s", step_name, ", ".join(path.name for path in paths))


def run_pipeline(context: PipelineContext, steps: list[str]) -> PipelineStats:
    """Run the named steps in order and return what was computed, reused and skipped."""
    for folder in (context.data_dir, context.figures_dir, context.tables_dir):
        folder.mkdir(parents=True, exist_ok=True)
    step_cache = StepCache(context.cache_dir / "steps")
    for step_name in steps:
        run_step(step_name, context, step_cache)
    return context.stats


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``initsym paper``."""
    parser.add_argument(
        "--quick", action="store_true",
        help="reduced pass: 2 seeds of 300 steps, smaller depth and phase grids (default: full set)",
    )
    parser.add_argument(
        "--only", metavar="STEPS", default=None,
        help=f"comma-separated steps to run, from: {', '.join(STEPS)} (default: all)",
    )
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, metavar="DIR",
        help=f"folder for data/, figures/, tables/ and cache/ (default: {DEFAULT_OUTPUT})",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    add_data_arguments(parser)


def print_summary(stats: PipelineStats, output: Path, elapsed: float) -> None:
    print(f"initsym paper: wrote to {output} in {elapsed:.1f} s")
    if stats.runs_trained or stats.runs_reused:
        print(f"  training runs: {stats.runs_trained} trained, {stats.runs_reused} reused from the cache")
    else:
        print("  training runs: none needed, because every step that trains reused its data")
    if stats.steps_computed:
        print(f"  data computed: {', '.join(stats.steps_computed)}")
    if stats.steps_reused:
        print(f"  data reused:   {', '.join(stats.steps_reused)}")
    for step_name, reason in stats.skipped.items():
        print(f"  SKIPPED {step_name}: {reason}")


def run(args: argparse.Namespace) -> int:
    """Run the selected steps and print what was written and what was skipped.

    Returns 0 even when a step was skipped for a missing function, because
    the other outputs are complete; the summary lists every skipped step.
    """
    started = time.perf_counter()
    steps = parse_only(args.only)
    context = PipelineContext(
        output=args.output,
        settings=PaperSettings.quick() if args.quick else PaperSettings.full(),
        dataset_loader=lambda: load_dataset_from_args(args),
        dataset_name=args.dataset,
        scaling=args.scaling,
        data_path=args.data,
        progress=not args.no_progress,
    )
    stats = run_pipeline(context, steps)
    print_summary(stats, args.output, time.perf_counter() - started)
    return 0
