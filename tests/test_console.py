"""pipguard's own lines: -q keeps warnings only, -v adds detail, progress only on a terminal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipguard import console


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    yield
    console.configure()


def _say_everything() -> None:
    console.progress("planning: 1 file fetched")
    console.say("a decision")
    console.detail("a detail")
    console.warn("a warning")


@pytest.mark.parametrize(("verbosity", "lines"), [
    (-1, ["pipguard: warning: a warning"]),
    (0, ["pipguard: a decision", "pipguard: warning: a warning"]),
    (2, ["pipguard: a decision", "pipguard: a detail", "pipguard: warning: a warning"]),
])
def test_how_much_is_said(verbosity: int, lines: list[str],
                          capsys: pytest.CaptureFixture[str]) -> None:
    console.configure(verbosity)
    _say_everything()
    assert capsys.readouterr().err.splitlines() == lines  # and no progress: not a terminal


def test_progress_on_a_terminal_is_one_line_cleared_before_anything_else(
        capsys: pytest.CaptureFixture[str]) -> None:
    console.configure(0, terminal=True)
    console.progress("planning: 1 file fetched")
    console.progress("planning: 2 files fetched")
    console.say("a decision")
    console.end_progress()  # nothing left to clear
    assert capsys.readouterr().err == (
        "\r\x1b[Kpipguard: planning: 1 file fetched\r\x1b[Kpipguard: planning: 2 files fetched"
        "\r\x1b[Kpipguard: a decision\n")
    console.configure(-1, terminal=True)
    console.progress("planning: 1 file fetched")
    assert capsys.readouterr().err == ""
