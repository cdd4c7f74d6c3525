"""The tables of ``paper/initsym.tex`` and the ``\\newcommand`` macros behind every number in its text.

Reads only files under ``data/`` and writes into ``tables/``:

* ``check.tex`` (a ``longtable``) and ``check.md``: every row of
  ``data/check.csv``, the prediction-against-measurement table of
  :mod:`empirical.check`, with the columns of :data:`CHECK_COLUMNS`;
* ``classic_summary.tex`` and ``classic_summary.md``: mean ± standard deviation
  of test accuracy per classic-grid configuration, from ``data/classic_runs.csv``
  through :func:`empirical.reproduce.summarize`;
* ``numbers.tex``: one macro per number quoted in ``paper/initsym.tex``. A macro
  whose data file is missing expands to a bold ``[missing: NAME]`` so the
  document still builds and the gap is visible in the PDF.

Run alone: ``python -m paper.tables [OUTPUT]``.
"""

from __future__ import annotations

import logging
import math
import re
import sys
from pathlib import Path

import pandas as pd

from empirical.results import atomic_write_text
from paper.dependencies import MissingData

logger = logging.getLogger(__name__)

CHECK_FILE = "check.csv"
CLASSIC_FILE = "classic_runs.csv"
ROUNDOFF_SUMMARY_FILE = "roundoff_summary.csv"
PHASE_RECIPES_FILE = "phase_recipes.csv"
SIGNIFICANT_DIGITS = 4

_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
    "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    # Symbols that the check table's text uses and pdflatex's utf8 input cannot typeset.
    "²": r"\textsuperscript{2}", "ᵀ": r"\textsuperscript{T}", "×": r"$\times$", "–": "--", "−": "$-$",
    "‖": r"$\|$", "∂": r"$\partial$", "≈": r"$\approx$", "≥": r"$\geq$", "≤": r"$\leq$", "±": r"$\pm$",
    "→": r"$\to$", "∞": r"$\infty$", "√": r"$\surd$", "′": r"$'$", "₁": r"$_1$",
    "α": r"$\alpha$", "β": r"$\beta$", "δ": r"$\delta$", "η": r"$\eta$", "μ": r"$\mu$", "ξ": r"$\xi$",
    "σ": r"$\sigma$", "φ": r"$\varphi$", "χ": r"$\chi$",
}


def latex_escape(text: str) -> str:
    """Escape the characters that LaTeX treats as commands in running text."""
    return "".join(_LATEX_SPECIALS.get(character, character) for character in str(text))


def format_value(value) -> str:
    """Format a table cell: numbers (also numeric text) to 4 significant digits, booleans as yes/no, NaN as a dash."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        if value == int(value) and abs(value) < 1e6:
            return str(int(value))
        return f"{value:.{SIGNIFICANT_DIGITS}g}"
    return str(value)


def latex_tabular(frame: pd.DataFrame, alignment: str | None = None) -> str:
    """Return ``frame`` as a booktabs ``tabular``, every cell escaped and formatted."""
    alignment = alignment or "".join("r" if pd.api.types.is_numeric_dtype(frame[c]) else "l" for c in frame.columns)
    lines = [rf"\begin{{tabular}}{{{alignment}}}", r"\toprule"]
    lines.append(" & ".join(latex_escape(column) for column in frame.columns) + r" \\")
    lines.append(r"\midrule")
    for row in frame.itertuples(index=False):
        lines.append(" & ".join(latex_escape(format_value(value)) for value in row) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", ""]
    return "\n".join(lines)


def markdown_table(frame: pd.DataFrame) -> str:
    """Return ``frame`` as a Markdown table with the cells of :func:`latex_tabular`."""
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(format_value(value) for value in row) + " |")
    return "\n".join(lines) + "\n"


def classic_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Return the per-configuration accuracy summary, in percent, with the predicted regime."""
    from empirical.reproduce import summarize

    summary = summarize(runs)
    regimes = runs.drop_duplicates("configuration").set_index("configuration")["regime"]
    return pd.DataFrame({
        "configuration": summary["configuration"],
        "predicted regime": summary["configuration"].map(regimes),
        "mean (%)": (100 * summary["mean"]).round(2),
        "sd (%)": (100 * summary["std"].fillna(0.0)).round(2),
        "min (%)": (100 * summary["min"]).round(2),
        "max (%)": (100 * summary["max"]).round(2),
        "seeds": summary["seeds"].astype(int),
    })


def macro_name(configuration: str) -> str:
    """Return a LaTeX macro name for a configuration label, letters only.

    >>> macro_name("sigmoid W1=zeros W2=normal:1")
    'SigmoidZerosNormalAccuracy'
    >>> macro_name("softmax W,b=truncated_normal:1")
    'SoftmaxTruncatedNormalAccuracy'
    """
    words = re.sub(r"W\d*|b(?==)|[:=,0-9.]", " ", configuration).replace("_", " ").split()
    return "".join(word.capitalize() for word in words) + "Accuracy"


def classic_numbers(runs: pd.DataFrame) -> dict[str, str]:
    """Return the macros quoted from the classic grid, accuracies in percent."""
    summary = classic_summary(runs)
    numbers = {}
    for configuration, mean, spread in zip(summary["configuration"], summary["mean (%)"], summary["sd (%)"]):
        numbers[macro_name(configuration)] = f"{mean:.2f}"
        numbers[macro_name(configuration) + "SD"] = f"{spread:.2f}"
    numbers["ZeroInitAccuracy"] = numbers.get("SoftmaxZerosAccuracy", "")
    numbers["ClassicSeeds"] = str(runs["seed"].nunique())
    numbers["ClassicSteps"] = str(int(runs["steps"].iloc[0]))
    numbers["ClassicRuns"] = str(len(runs))
    numbers["ClassicConfigurations"] = str(runs["configuration"].nunique())
    numbers["ClassicLearningRate"] = format_value(float(runs["learning_rate"].iloc[0]))
    numbers["ClassicBatchSize"] = str(int(runs["batch_size"].iloc[0]))
    numbers["TrainExamples"] = f"{int(runs['n_train'].iloc[0]):,}".replace(",", "{,}")
    numbers["TestExamples"] = f"{int(runs['n_test'].iloc[0]):,}".replace(",", "{,}")
    numbers["TensorFlowVersion"] = latex_escape(str(runs["tf_version"].iloc[0]))
    return numbers


CHECK_COLUMNS = ("group", "quantity", "prediction", "measured", "tolerance", "verdict")
"""Columns of ``check.csv`` shown in the table; the CSV also has the derivation and per-seed detail."""

PASSING_VERDICTS = ("pass", "holds")
FAILING_VERDICTS = ("fail", "does not hold")


def compress_widths(text: str) -> str:
    """Write three or more equal widths in an architecture as one width times a count.

    >>> compress_widths("784-100-100-100-10 tanh")
    '784-100×3-10 tanh'
    """
    return re.sub(r"\b(\d+)(?:-\1\b){2,}", lambda match: f"{match.group(1)}×{match.group(0).count('-') + 1}", text)


def check_table(checks: pd.DataFrame) -> pd.DataFrame:
    """Return the shown columns of the check table, in CSV row order, with deep architectures shortened."""
    missing = [column for column in CHECK_COLUMNS if column not in checks.columns]
    if missing:
        raise MissingData(f"check.csv lacks the columns {missing}; regenerate it with 'initsym paper --only tables'")
    table = checks[list(CHECK_COLUMNS)].copy()
    table["group"] = table["group"].map(lambda text: compress_widths(str(text)))
    return table


def check_longtable(table: pd.DataFrame) -> str:
    """Return the check table as a ``longtable`` that breaks across pages, its header repeated on each."""
    header = " & ".join(latex_escape(column) for column in table.columns) + r" \\"
    lines = [
        r"\begin{longtable}{@{}p{0.24\linewidth}p{0.30\linewidth}p{0.12\linewidth}p{0.11\linewidth}"
        r"p{0.08\linewidth}p{0.07\linewidth}@{}}",
        r"\caption{Every theory prediction against its TensorFlow measurement.}\label{tab:checks} \\",
        r"\toprule",
        header,
        r"\midrule",
        r"\endfirsthead",
        r"\toprule",
        header,
        r"\midrule",
        r"\endhead",
    ]
    for row in table.itertuples(index=False):
        cells = ["" if pd.isna(value) else latex_escape(format_value(value)) for value in row]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{longtable}", ""]
    return "\n".join(lines)


def check_numbers(checks: pd.DataFrame) -> dict[str, str]:
    """Return the macros quoted from the check table: how many comparisons, passed and failed."""
    verdicts = checks["verdict"].astype(str)
    return {
        "CheckCount": str(len(checks)),
        "CheckPassed": str(int(verdicts.isin(PASSING_VERDICTS).sum())),
        "CheckFailed": str(int(verdicts.isin(FAILING_VERDICTS).sum())),
    }


def roundoff_numbers(summary: pd.DataFrame) -> dict[str, str]:
    """Return the macros of ``roundoff_summary.csv``, one per row; accuracies in percent to 2 decimals."""
    numbers = {}
    for row in summary.itertuples(index=False):
        value = float(row.value)
        numbers[str(row.macro)] = f"{value:.2f}" if "Accuracy" in row.macro else format_value(value)
    return numbers


EXPECTED_MACROS = (
    "ZeroInitAccuracy", "SoftmaxOnesAccuracy", "SoftmaxNormalAccuracy", "SoftmaxTruncatedNormalAccuracy",
    "SigmoidZerosNormalAccuracy", "SigmoidZerosZerosAccuracy", "SigmoidNormalNormalAccuracy",
    "TanhZerosNormalAccuracy", "TanhZerosZerosAccuracy", "TanhNormalNormalAccuracy",
    "ReluZerosNormalAccuracy", "ReluZerosZerosAccuracy", "ReluNormalNormalAccuracy",
    "ClassicSeeds", "ClassicSteps", "ClassicRuns", "ClassicConfigurations", "ClassicLearningRate",
    "ClassicBatchSize",
    "TrainExamples", "TestExamples", "TensorFlowVersion",
    "CheckCount", "CheckPassed", "CheckFailed",
    "RoundoffGrowthRate", "RoundoffCollapsedAccuracy", "RoundoffAccuracyFloatThirtyTwo",
    "RoundoffAccuracyFloatSixtyFour", "RoundoffMeasuredRateFloatThirtyTwo", "RoundoffMeasuredRateFloatSixtyFour",
    "RoundoffWindowStart", "RoundoffWindowStop",
)
"""Macros that ``paper/initsym.tex`` uses; each is defined even when its data is missing."""


def numbers_tex(numbers: dict[str, str]) -> str:
    lines = [
        "% Generated by 'initsym paper' (paper/tables.py) from the files in data/. Do not edit.",
        r"\providecommand{\MissingNumber}[1]{\textbf{[missing: #1]}}",
    ]
    for name in sorted(set(numbers) | set(EXPECTED_MACROS)):
        value = numbers.get(name)
        body = value if value else rf"\MissingNumber{{{name}}}"
        lines.append(rf"\newcommand{{\{name}}}{{{body}}}")
    return "\n".join(lines) + "\n"


def _read_optional(path: Path, used_for: str) -> pd.DataFrame | None:
    if not path.exists():
        logger.warning("%s not found; skipping %s", path, used_for)
        return None
    return pd.read_csv(path)


def make(data_dir: Path, tables_dir: Path) -> list[Path]:
    """Write every table whose data exists, and ``numbers.tex``; raise MissingData if none exists."""
    data_dir, tables_dir = Path(data_dir), Path(tables_dir)
    written: list[Path] = []
    numbers: dict[str, str] = {}

    checks = _read_optional(data_dir / CHECK_FILE, "the prediction-against-measurement table")
    if checks is not None:
        table = check_table(checks)
        written.append(atomic_write_text(tables_dir / "check.tex", check_longtable(table)))
        written.append(atomic_write_text(tables_dir / "check.md", markdown_table(table)))
        numbers.update(check_numbers(checks))

    runs = _read_optional(data_dir / CLASSIC_FILE, "the classic-grid summary table")
    if runs is not None:
        summary = classic_summary(runs)
        written.append(atomic_write_text(tables_dir / "classic_summary.tex", latex_tabular(summary, "llrrrrr")))
        written.append(atomic_write_text(tables_dir / "classic_summary.md", markdown_table(summary)))
        numbers.update(classic_numbers(runs))

    roundoff = _read_optional(data_dir / ROUNDOFF_SUMMARY_FILE, "the roundoff numbers")
    if roundoff is not None:
        numbers.update(roundoff_numbers(roundoff))

    written.append(atomic_write_text(tables_dir / "numbers.tex", numbers_tex(numbers)))
    if checks is None and runs is None:
        raise MissingData(
            f"neither {data_dir / CHECK_FILE} nor {data_dir / CLASSIC_FILE} exists; "
            "only numbers.tex was written, with every number marked missing"
        )
    return written


if __name__ == "__main__":
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("results/paper")
    for path in make(output / "data", output / "tables"):
        print(path)
