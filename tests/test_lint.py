"""House style is checked where CI runs: ruff and mypy --strict must stay clean."""

from __future__ import annotations

import shutil
import sys

import pytest

from tests.helpers import REPO, run


def _tool(module: str) -> None:
    if shutil.which(module) is None and run([sys.executable, "-m", module, "--version"]).returncode:
        pytest.skip(f"{module} is not installed (pip install -e '.[test]')")


def test_ruff_is_clean() -> None:
    _tool("ruff")
    done = run([sys.executable, "-m", "ruff", "check", "."], cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.integration  # a minute from a cold cache: CI runs it, the everyday run does not
def test_mypy_strict_is_clean() -> None:
    _tool("mypy")
    done = run([sys.executable, "-m", "mypy", "--strict"], cwd=REPO, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_explain_pattern_starts_a_line_with_any_whitespace() -> None:
    r"""``^\s*`` under re.M matches at every line of a run of blank lines and scans the rest
    of the run from each: quadratic on a pasted log (a 32 KB run took over 20 s). Rules use
    ``^[ \t]*``; scripts/bench_explain.py times the shapes."""
    offenders = [f"{path.name}:{n}" for path in sorted((REPO / "pipguard").glob("explain*.py"))
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if "^\\s*" in line or "^\\s+" in line]
    assert not offenders, offenders
