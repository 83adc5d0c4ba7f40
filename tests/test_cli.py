"""The command line as a user meets it: detect's JSON contract, overrides, help, alias, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import clean_env, pipguard

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


def test_help_of_our_commands_and_alias_lines() -> None:
    assert "detect" in pipguard("plan", "--help").stdout
    assert pipguard("alias", "bash").stdout == "alias pip='pipguard'\nalias pip3='pipguard'\n"
    assert "Set-Alias -Name pip -Value pipguard" in pipguard("alias", "powershell").stdout
