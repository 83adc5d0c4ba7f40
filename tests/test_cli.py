"""The command line as a user meets it: detect's JSON contract, overrides, help, alias, errors."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from pipguard import runner
from pipguard.cli import main
from pipguard.ownoptions import OPTIONS, OWN_COMMANDS, WRAPPED_COMMANDS
from tests.helpers import clean_env, isolate_process, pipguard

FIXTURES = Path(__file__).resolve().parent / "fixtures"
H100_ROOT = FIXTURES / "hardware" / "linux-h100-driver580" / "root"


def env_for(root: Path | str, **extra: str) -> dict[str, str]:
    # PATH without nvidia-smi: the files alone must answer
    return clean_env({"PIPGUARD_SYSROOT": str(root), "PATH": "/usr/bin:/bin", **extra})


def test_detect_json_on_the_h100_recording_from_files_alone() -> None:
    done = pipguard("detect", "--json", env=env_for(H100_ROOT))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["accelerator"] == "nvidia"
    assert data["driver_version"] == "580.159.04"
    assert [(g["name"], g["compute_capability"]) for g in data["gpus"]] == [
        ("NVIDIA H100 80GB HBM3", "9.0")]
    assert {s["probe"] for s in data["sources"]} >= {"gpu-name-table"}
    assert data["overrides"] == []


def test_explain_with_nothing_read_points_at_doctor(tmp_path: Path) -> None:
    """A text no rule reads exits 0 and says where else the cause may show."""
    done = pipguard("explain", env=env_for(tmp_path),
                    stdin="SomeLibError: the frobnicator failed to initialise\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("no known failure pattern in this text; `pipguard doctor` "
                                   "checks this environment")


def test_overrides_show_up_in_detect_and_say_so(tmp_path: Path) -> None:
    done = pipguard("detect", "--json", "--cuda-driver", "570.86.10", "--gpu-arch", "sm_120,8.6",
                    env=env_for(tmp_path))
    data = json.loads(done.stdout)
    assert data["driver_version"] == "570.86.10"
    assert [g["compute_capability"] for g in data["gpus"]] == ["12.0", "8.6"]
    assert set(data["overrides"]) == {"gpus", "driver_version"}
    text = pipguard("detect", env=env_for(tmp_path, PIPGUARD_TORCH_BACKEND="cu126",
                                          PIPGUARD_GPU_ARCH="gfx1100")).stdout
    assert "torch backend: cu126 (forced)" in text
    assert "overrides:" in text and "gfx1100" in text


def test_no_gpu_is_none(tmp_path: Path) -> None:
    data = json.loads(pipguard("detect", "--json", env=env_for(tmp_path)).stdout)
    assert data["accelerator"] == "none" and data["gpus"] == []


@pytest.mark.parametrize("args", [
    ("detect", "--gpu-arch", "sm_8x"),
    ("detect", "--cuda-driver", "five-fifty"),
    ("plan", "torch", "--torch-backend", "cuda12"),
    ("plan", "torch==", "--offline"),
    ("alias", "tcsh"),
])
def test_usage_errors_are_one_line_with_a_hint_and_exit_2(tmp_path: Path,
                                                          args: tuple[str, ...]) -> None:
    done = pipguard(*args, env=env_for(tmp_path))
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: ") and lines[1].startswith("hint: ")
    assert "Traceback" not in done.stderr


def test_alias_lines() -> None:
    assert pipguard("alias", "bash").stdout == "alias pip='pipguard'\nalias pip3='pipguard'\n"
    assert "Set-Alias -Name pip -Value pipguard" in pipguard("alias", "powershell").stdout


# -- help and usage errors, in process ----------------------------------------------------------


class FakePip:
    """Stands in for the runner: pip's help is one line; records every argv."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, argv: Sequence[str], **_: object) -> runner.Completed:
        self.calls.append(tuple(argv))
        return runner.Completed(tuple(argv), 0, "Usage: pip " + " ".join(argv[-2:]) + "\n")


@pytest.fixture
def fake_pip(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakePip:
    isolate_process(monkeypatch, tmp_path)
    fake = FakePip()
    monkeypatch.setattr(runner, "RUNNER", fake)
    return fake


@pytest.mark.parametrize("command", OWN_COMMANDS)
def test_help_of_each_own_command_lists_its_options(
        command: str, fake_pip: FakePip, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["help", command]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: pipguard {command} ")
    for o in OPTIONS:
        assert (f"  {o.name}" in text) == o.applies_to(command), (command, o.name)
        if o.variable and o.applies_to(command):
            assert o.variable in text
    assert main([command, "--help"]) == 0
    assert capsys.readouterr().out == text
    assert fake_pip.calls == []  # no pip for pipguard's own help


def test_help_plan_lists_json(fake_pip: FakePip, capsys: pytest.CaptureFixture[str]) -> None:
    main(["help", "plan"])
    assert "  --json " in capsys.readouterr().out


@pytest.mark.parametrize("command", WRAPPED_COMMANDS)
def test_help_of_a_wrapped_command_is_pips_then_pipguards(
        command: str, fake_pip: FakePip, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "-h"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"Usage: pip {command} --help\n\npipguard options (of {command}):\n")
    assert "--torch-index-url URL" in text and "PIPGUARD_SYSROOT" in text
    assert fake_pip.calls[-1][-2:] == (command, "--help")
    assert main(["help", command]) == 0
    assert capsys.readouterr().out == text


def test_pipguard_help_lists_the_commands(fake_pip: FakePip,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for command in (*OWN_COMMANDS, *WRAPPED_COMMANDS):
        assert f"\n  {command} " in text
    assert "--cuda-driver VERSION" in text
    assert main(["help"]) == 0
    assert "\n  detect " in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "error", "hint"), [
    (["install", "torch", "--cuda-drvier", "570.86.10"], "unknown option --cuda-drvier",
     "did you mean --cuda-driver?"),
    (["detect", "--frobnicate"], "pipguard detect has no option --frobnicate",
     "pipguard help detect lists its options"),
    (["doctor", "--jsno"], "pipguard doctor has no option --jsno", "did you mean --json?"),
])
def test_option_errors_are_one_error_and_one_hint(
        argv: list[str], error: str, hint: str, fake_pip: FakePip,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err == f"error: {error}\nhint: {hint}\n"
    assert fake_pip.calls == []
