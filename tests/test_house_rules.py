"""House rules that import-linter cannot see: one module starts processes, one reads variables."""

from __future__ import annotations

import re

from tests.helpers import REPO

PKG = REPO / "pipguard"


def _modules_matching(pattern: str) -> set[str]:
    rx = re.compile(pattern, re.M)
    return {str(p.relative_to(PKG)) for p in PKG.rglob("*.py")
            if rx.search(p.read_text(encoding="utf-8"))}


def test_only_the_runner_starts_processes() -> None:
    assert _modules_matching(r"^\s*(import subprocess|from subprocess import)") == {"runner.py"}


def test_only_options_reads_environment_variables() -> None:
    # cli hands os.environ to the commands (which give it to options); the runner passes it
    # on to children; reqfiles expands ${VAR} in requirements files as pip itself does.
    readers = _modules_matching(r"os\.environ|os\.getenv|getenv\(")
    assert readers <= {"options.py", "cli.py", "runner.py", "reqfiles.py"}, readers
    named = _modules_matching(r"environ(?:\.get)?\(?\[?\s*\"PIPGUARD_")
    assert named <= {"options.py"}, named
