"""The map in docs/ARCHITECTURE.md holds: no circles, no import that points up, few floors,
modules that read in one sitting, and import-linter's contracts kept."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Mapping

import pytest

from tests.helpers import REPO, run

MAX_FLOORS = 8
MAX_LINES = 400


def _graph() -> dict[str, set[str]]:
    grimp = pytest.importorskip("grimp")
    g = grimp.build_graph("pipguard", include_external_packages=False)
    mods = set(g.modules) - {"pipguard"}  # the package's __init__ holds only __version__
    return {m: set(g.find_modules_directly_imported_by(m)) & mods for m in mods}


def circles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def floors(graph: Mapping[str, set[str]]) -> dict[str, int]:
    """Each module's floor: 1 + the highest floor it imports (an acyclic graph)."""
    floor: dict[str, int] = {}

    def visit(m: str) -> int:
        if m not in floor:
            floor[m] = 0  # guards against a circle; test_no_circles reports those
            floor[m] = 1 + max((visit(i) for i in graph[m]), default=0)
        return floor[m]

    for m in graph:
        visit(m)
    return floor


def test_no_circles() -> None:
    assert circles(_graph()) == []


def test_the_circle_finder_finds_circles() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_few_floors() -> None:
    found = floors(_graph())
    top = max(found.values())
    assert top <= MAX_FLOORS, sorted(found.items(), key=lambda kv: kv[1])[-5:]


def test_modules_read_in_one_sitting() -> None:
    long = {str(p.relative_to(REPO)): n for p in (REPO / "pipguard").rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_import_linter_contracts() -> None:
    exe = shutil.which("lint-imports") or str(REPO / ".venv" / "bin" / "lint-imports")
    if not shutil.which(exe) and run([sys.executable, "-c", "import importlinter"]).returncode:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    done = run([exe], cwd=REPO)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
