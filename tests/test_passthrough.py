"""Every pip command pipguard does not handle goes to the real pip unchanged."""

from __future__ import annotations

import sys

import pytest

from tests.helpers import pipguard, run


def pip(*args: str):  # type: ignore[no-untyped-def]
    return run([sys.executable, "-m", "pip", *args])


@pytest.mark.parametrize(
    "args",
    [
        ("list", "--format=json"),
        ("show", "packaging"),
        ("-q", "--isolated", "list", "--format=freeze"),
        ("--disable-pip-version-check", "show", "-f", "resolvelib"),
        ("frobnicate",),
        ("install", "--help"),
        ("show", "no-such-distribution-xyz"),
    ],
)
def test_output_and_exit_code_equal_pips(args: tuple[str, ...]) -> None:
    ours, theirs = pipguard(*args), pip(*args)
    assert ours.returncode == theirs.returncode
    assert ours.stdout == theirs.stdout
    assert ours.stderr == theirs.stderr


def test_own_options_are_accepted_and_dropped_by_pass_through() -> None:
    ours = pipguard("list", "--format=json", "--cuda-driver", "550.54.14")
    assert ours.returncode == 0
    assert ours.stdout == pip("list", "--format=json").stdout


def test_python_option_targets_another_interpreter(tmp_path) -> None:  # type: ignore[no-untyped-def]
    run([sys.executable, "-m", "venv", str(tmp_path / "v")])
    target = tmp_path / "v" / "bin" / "python"
    ours = pipguard("--python", str(target), "list", "--format=json")
    theirs = run([str(target), "-m", "pip", "list", "--format=json"])
    assert ours.returncode == 0
    assert ours.stdout == theirs.stdout
    assert "packaging" not in ours.stdout  # the venv's list, not ours


def test_version_keeps_pips_line_first() -> None:
    ours = pipguard("--version")
    assert ours.stdout.splitlines()[0] == pip("--version").stdout.strip()
    assert ours.stdout.splitlines()[1].startswith("pipguard ")
