"""The README's quickstart and CI's script must run the same test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _quickstart_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_quickstart_has_two_commands():
    commands = _quickstart_commands()
    assert len(commands) == 2
    assert all("\n" not in command for command in commands)


def test_ci_runs_readme_test_command():
    test_command = _quickstart_commands()[1]
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci_lines


def test_python_example_runs(capsys):
    readme = (ROOT / "README.md").read_text()
    example = re.findall(r"```python\n(.+?)\n```", readme, flags=re.DOTALL)
    assert len(example) == 1
    exec(compile(example[0], "README.md", "exec"), {})
    printed = capsys.readouterr().out.split()
    assert float(printed[0]) > 0.85  # sigmoid with a zero first layer learns
    assert abs(float(printed[-1]) - 1.0) < 1e-6  # tanh is critical at σ_w = 1
