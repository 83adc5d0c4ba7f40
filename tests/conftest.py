"""Shared pytest fixtures.

Index fixtures: ``index_layout`` (the imitation download.pytorch.org + PyPI, built once per
session by ``scripts/make_index.py``) and ``index_server`` (it, served on 127.0.0.1). Tests that
use ``index_server`` start with no faults, no ETag rules and an empty request log.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # make `scripts` importable
    sys.path.insert(0, str(REPO_ROOT))

from scripts.make_index import IndexLayout, build_index  # noqa: E402
from scripts.serve_index import IndexServer  # noqa: E402
from tests.helpers import clean_env  # noqa: E402


@pytest.fixture(scope="session")
def index_layout(tmp_path_factory: pytest.TempPathFactory) -> IndexLayout:
    """The imitation indexes on disk (shared by the whole session: do not modify them)."""
    return build_index(tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="session")
def index_server(index_layout: IndexLayout) -> Iterator[IndexServer]:
    """The indexes over HTTP: ``.url``, ``.torch_url`` (<url>/whl), ``.pypi_url``
    (<url>/pypi/simple), ``.faults`` and ``.requests``."""
    with IndexServer(index_layout.root) as server:
        yield server


@pytest.fixture(scope="session")
def template_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One virtual environment made by ``python -m venv`` (about 8 s); tests copy it."""
    path = tmp_path_factory.mktemp("template") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, env=clean_env(),
                   capture_output=True)
    return path


@pytest.fixture
def venv(template_venv: Path, tmp_path: Path) -> Path:
    """A fresh virtual environment (a copy of the template: bin/python is a symlink)."""
    path = tmp_path / "venv"
    shutil.copytree(template_venv, path, symlinks=True)
    return path


@pytest.fixture(autouse=True)
def _reset_index_server(request: pytest.FixtureRequest) -> Iterator[None]:
    # Only tests that asked for the server pay for it; each starts and ends clean.
    if "index_server" not in request.fixturenames:
        yield
        return
    server: IndexServer = request.getfixturevalue("index_server")
    server.reset()
    yield
    server.reset()


# Fixtures that start a server, pip or a virtual environment: a test that uses one is an
# integration test, whatever its module says (`pytest -m "not integration"` is the everyday run).
_INTEGRATION_FIXTURES = frozenset({
    "index_server", "index_layout", "server", "venv", "pip_venv", "venv_copy", "template",
    "template_venv", "box", "tampered", "sandbox", "damaged_venv",
})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _INTEGRATION_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.hookimpl(optionalhook=True)  # (a run without xdist: -p no:xdist)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` (``addopts``): a worker per core this process may use for a run without
    integration tests (the everyday ``-m "not integration"``: CPU-bound, more workers than
    cores only add their start-up), at least four where integration tests run (they mostly
    wait on pip, servers and venvs). ``PYTEST_XDIST_AUTO_NUM_WORKERS`` still decides: ``None``
    leaves it to xdist."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
    return cores if _excludes_integration(str(config.getoption("markexpr") or "")) \
        else max(4, cores)


def _excludes_integration(markexpr: str) -> bool:
    """Whether ``-m markexpr`` deselects every integration test, whatever other marks a test
    has: an expression of names, ``and``, ``or``, ``not`` and parentheses, tried with each
    truth of its other names (anything else: not known to, so ``False``)."""
    tokens = re.findall(r"\(|\)|[A-Za-z_]\w*|\S+", markexpr)
    if not markexpr.strip() or any(t not in ("(", ")") and not t.isidentifier() for t in tokens):
        return False
    others = sorted({t for t in tokens if t.isidentifier()} - {"and", "or", "not", "integration"})
    if len(others) > 8:
        return False
    for truths in itertools.product((False, True), repeat=len(others)):
        names = dict(zip(others, truths, strict=True), integration=True)
        expr = " ".join(t if t in ("(", ")", "and", "or", "not") else str(names[t])
                        for t in tokens)
        if eval(expr, {"__builtins__": {}}):  # only True, False, and, or, not, parentheses
            return False
    return True
