"""Every pip command pipguard does not handle goes to the real pip unchanged."""

from __future__ import annotations

import sys

import pytest

from tests.helpers import pipguard, run

# Every test here runs the real pip (pass-through is the point).
pytestmark = pytest.mark.integration


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
        ("help", "list"),
        ("show", "no-such-distribution-xyz"),
    ],
)
def test_output_and_exit_code_equal_pips(args: tuple[str, ...]) -> None:
    ours, theirs = pipguard(*args), pip(*args)
    assert ours.returncode == theirs.returncode
    assert ours.stdout == theirs.stdout
    assert ours.stderr == theirs.stderr


def test_help_of_a_wrapped_command_is_pips_then_pipguards_options() -> None:
    ours, theirs = pipguard("install", "--help"), pip("install", "--help")
    assert ours.returncode == theirs.returncode == 0
    assert ours.stdout.startswith(theirs.stdout)
    tail = ours.stdout[len(theirs.stdout):]
    assert "pipguard options (of install):" in tail and "--cuda-driver VERSION" in tail
    assert "PIPGUARD_TORCH_INDEX_URL" in tail and "--deep" not in tail
    assert pipguard("help", "download").stdout.startswith(pip("download", "--help").stdout)


def test_pip_options_near_pipguards_go_to_pip_untouched() -> None:
    # pip's own answer to its own options, whatever pipguard's names look like.
    for args in (("list", "--not-required", "--exclude-editable", "--format=json"),
                 ("freeze", "--all"), ("list", "--pre", "--no-index", "--local")):
        ours, theirs = pipguard(*args), pip(*args)
        assert (ours.returncode, ours.stdout, ours.stderr) == (
            theirs.returncode, theirs.stdout, theirs.stderr)


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
