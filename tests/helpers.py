"""Shared helpers for tests: a clean pip environment and running pipguard."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment tests run pip in: no PIP_* variables, no site configuration."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "PIPGUARD_", "VIRTUAL_ENV", "CONDA_PREFIX"))}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    env["PYTHONPATH"] = str(REPO)
    env.update(extra or {})
    return env


def run(argv: Sequence[str], env: Mapping[str, str] | None = None, timeout: float = 600,
        cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, env=dict(env or clean_env()),
                          timeout=timeout, cwd=cwd, input=stdin, check=False)


def pipguard(*args: str, python: str = sys.executable, env: Mapping[str, str] | None = None,
             timeout: float = 600, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run([python, "-m", "pipguard", *args], env=env, timeout=timeout, stdin=stdin)
