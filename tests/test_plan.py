"""`pipguard plan` against the imitation index: the selection policy, with reasons."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipguard.cli import main
from tests.helpers import isolate_process

HERE = Path(__file__).resolve().parent
H100 = HERE / "fixtures" / "hardware" / "linux-h100-driver580" / "root"


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_process(monkeypatch, tmp_path)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")


def plan(capsys: pytest.CaptureFixture[str], server: Any, *args: str) -> tuple[int, dict[str, Any]]:
    rc = main(["plan", *args, "--torch-index-url", server.torch_url, "--json"])
    out = capsys.readouterr().out
    return rc, json.loads(out)


def versions(data: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["version"] for p in data["packages"]}


def test_h100_on_driver_580_gets_a_cuda13_build(index_server: Any, capsys: Any) -> None:
    rc, data = plan(capsys, index_server, "torch", "--cuda-driver", "580.159.04",
                    "--gpu-arch", "9.0")
    assert rc == 0
    assert data["backend"] == "cu130"  # full driver support beats cu132 under minor compat
    assert versions(data)["torch"] == "2.15.0+cu130"
    assert any("newer than pipguard's tables" in n for n in data["notes"])
    assert all(p["sha256"] and len(p["sha256"]) == 64 for p in data["packages"])


def test_recorded_machine_plans_the_same_as_its_overrides(index_server: Any, capsys: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPGUARD_SYSROOT", str(H100))
    rc1, detected = plan(capsys, index_server, "torch", "torchvision")
    monkeypatch.setenv("PIPGUARD_SYSROOT", str(H100.parent / "nonexistent"))
    rc2, overridden = plan(capsys, index_server, "torch", "torchvision",
                           "--cuda-driver", "580.159.04", "--gpu-arch", "sm_90")
    assert rc1 == rc2 == 0
    assert detected["hardware"]["driver_version"] == "580.159.04"
    assert detected["packages"] == overridden["packages"]
    assert detected["backend"] == overridden["backend"] == "cu130"


@pytest.mark.parametrize("driver", ["535.104.05", "550.54.15"])
def test_ampere_on_a_12x_driver_uses_minor_version_compatibility(
        index_server: Any, capsys: Any, driver: str) -> None:
    rc, data = plan(capsys, index_server, "torch", "--cuda-driver", driver, "--gpu-arch", "8.6")
    assert rc == 0
    assert data["backend"] == "cu126"
    assert versions(data)["torch"] == "2.15.0+cu126"
    assert any("minor-version compatibility" in w for w in data["warnings"])
    assert any(r["variant"] == "cu130" and "580" in r["reason"] for r in data["rejected"])


def test_rtx5090_on_570_gets_cu128_with_reasons(index_server: Any, capsys: Any) -> None:
    rc, data = plan(capsys, index_server, "torch", "torchvision", "--cuda-driver", "570.86.10",
                    "--gpu-arch", "sm_120")
    assert rc == 0
    assert versions(data) == {"torch": "2.11.0+cu128", "torchvision": "0.26.0+cu128",
                              "triton": "3.6.0"}
    assert any("2.15.0 exists but was not chosen" in w for w in data["warnings"])
    reasons = {r["variant"]: r["reason"] for r in data["rejected"]}
    assert "sm_120" in reasons["cu126"]
    assert "580" in reasons["cu130"]


def test_blackwell_with_an_old_pin_names_the_first_release(index_server: Any,
                                                            capsys: Any) -> None:
    rc, data = plan(capsys, index_server, "torch==2.6.0", "--gpu-arch", "sm_120")
    assert rc == 1
    assert "no 2.6.0 build has kernels for sm_120 (Blackwell)" in data["error"]
    assert "2.7.0" in data["error"]


def test_blackwell_with_a_new_pin(index_server: Any, capsys: Any) -> None:
    rc, data = plan(capsys, index_server, "torch==2.7.1", "--gpu-arch", "sm_120",
                    "--cuda-driver", "575.57.08")
    assert rc == 0
    assert versions(data)["torch"] == "2.7.1+cu128"


@pytest.mark.parametrize(("archs", "pin", "backend"), [
    ("6.1", "torch==2.11.0", "cu126"),        # Pascal: only cu126 after 2.7
    ("7.0", "torch==2.11.0", "cu126"),        # Volta left cu128 in 2.11
    ("6.1,8.6", "torch", "cu126"),            # mixed box: every GPU must be covered
])
def test_old_generations_on_releases_that_dropped_them(
        index_server: Any, capsys: Any, archs: str, pin: str, backend: str) -> None:
    rc, data = plan(capsys, index_server, pin, "--gpu-arch", archs, "--cuda-driver", "580.65.06")
    assert rc == 0
    assert data["backend"] == backend
    assert any("no kernels for sm_" in r["reason"] for r in data["rejected"])


def test_volta_on_28_keeps_a_cuda128_build(index_server: Any, capsys: Any) -> None:
    rc, data = plan(capsys, index_server, "torch==2.8.0", "--gpu-arch", "7.0",
                    "--cuda-driver", "580.65.06")
    assert rc == 0
    assert data["backend"] in ("cu128", "cu129")


def test_driver_470_falls_back_to_cuda11_loudly(index_server: Any, capsys: Any) -> None:
    rc, data = plan(capsys, index_server, "torch", "--cuda-driver", "470.82.01",
                    "--gpu-arch", "8.0")
    assert rc == 0
    assert data["backend"] == "cu118"
    assert versions(data)["torch"] == "2.7.1+cu118"
    assert any("exists but was not chosen" in w and "525" in w for w in data["warnings"])


def test_no_gpu_gets_cpu(index_server: Any, capsys: Any) -> None:
    rc, data = plan(capsys, index_server, "torch", "torchvision")
    assert rc == 0
    assert data["backend"] == "cpu"
    assert versions(data)["torch"].endswith("+cpu")
    assert data["hardware"]["accelerator"] == "none"


def test_forced_backend_wins_and_warns(index_server: Any, capsys: Any) -> None:
    rc, data = plan(capsys, index_server, "torch", "--torch-backend", "cu126",
                    "--gpu-arch", "sm_120", "--cuda-driver", "580.65.06")
    assert rc == 0
    assert data["backend"] == "cu126"
    assert any("sm_120" in w for w in data["warnings"])


def test_forced_backend_that_does_not_exist(index_server: Any, capsys: Any) -> None:
    rc, data = plan(capsys, index_server, "torch", "--torch-backend", "cu999")
    assert rc == 1
    assert "cu999" in data["error"]


def test_python_too_new_for_a_pin(index_server: Any, capsys: Any) -> None:
    rc, data = plan(capsys, index_server, "torch==1.13.1", "--python-version", "3.11")
    assert rc == 1
    assert "1.13.1 has wheels for Python 3.7–3.10" in data["error"]
    assert "2.0.0 is the first with Python 3.11" in data["error"]


def test_python_too_old_for_a_pin(index_server: Any, capsys: Any) -> None:
    rc, data = plan(capsys, index_server, "torch==2.13.0", "--python-version", "3.9")
    assert rc == 1
    assert "Python 3.10–3.13" in data["error"]


def test_companion_pin_brings_its_torch(index_server: Any, capsys: Any) -> None:
    rc, data = plan(capsys, index_server, "torchvision==0.20.1")
    assert rc == 0
    assert versions(data) == {"torch": "2.5.1+cpu", "torchvision": "0.20.1+cpu"}


def test_conflicting_companion_pins_fail_with_the_reason(index_server: Any,
                                                         capsys: Any) -> None:
    rc, data = plan(capsys, index_server, "torchvision==0.20.1", "torch==2.6.0")
    assert rc == 1
    assert "torch==2.5.1" in data["error"]


def test_local_project_pulls_torch_transitively(index_server: Any, capsys: Any) -> None:
    project = str(HERE / "fixtures" / "localproj")
    rc, data = plan(capsys, index_server, project, "--index-url", index_server.pypi_url)
    assert rc == 0
    assert versions(data)["torch"] == "2.15.0+cpu"


def test_warm_cache_plans_offline(index_server: Any, capsys: Any,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPGUARD_FRESH_FOR", "0")  # revalidate: the index is asked, and fails
    rc, first = plan(capsys, index_server, "torch", "torchvision")
    assert rc == 0
    index_server.faults.fail("*", 500)
    rc, again = plan(capsys, index_server, "torch", "torchvision")
    assert rc == 0
    assert again["packages"] == first["packages"]
    assert any("cache" in n for n in again["notes"])


def test_unreachable_index_without_cache_is_exit_3(capsys: Any) -> None:
    rc = main(["plan", "torch", "--torch-index-url", "http://127.0.0.1:9/whl"])
    err = capsys.readouterr().err
    assert rc == 3
    assert err.startswith("error: ") and "hint: " in err


def test_an_index_without_any_torch_page_is_exit_3(index_server: Any, capsys: Any) -> None:
    index_server.faults.fail("/whl/*", 403)
    rc = main(["plan", "torch", "--torch-index-url", index_server.torch_url])
    err = capsys.readouterr().err
    assert rc == 3
    assert "holds no torch page" in err and "hint: --torch-index-url" in err


def test_windows_target_takes_windows_wheels_and_the_windows_driver_table(
        index_server: Any, capsys: Any) -> None:
    rc, data = plan(capsys, index_server, "torch", "--platform", "win_amd64",
                    "--python-version", "3.12", "--gpu-arch", "8.6", "--cuda-driver", "560.94")
    assert rc == 0
    torch = next(p for p in data["packages"] if p["name"] == "torch")
    assert torch["filename"].endswith("-cp312-cp312-win_amd64.whl")
    # 560.94 is below CUDA 12.6 Update 3's Windows driver (561.17): minor-version compat
    assert any("561.17" in w for w in data["warnings"])


def test_apple_silicon_target_gets_the_macos_build(index_server: Any, capsys: Any) -> None:
    rc, data = plan(capsys, index_server, "torch", "torchvision", "--platform",
                    "macosx_14_0_arm64", "--python-version", "3.12")
    assert rc == 0
    assert data["backend"] == "cpu"
    assert all("macosx_11_0_arm64" in p["filename"] for p in data["packages"])


def test_intel_mac_after_222_names_the_last_release(index_server: Any, capsys: Any) -> None:
    rc, data = plan(capsys, index_server, "torch==2.5.1", "--platform", "macosx_14_0_x86_64",
                    "--python-version", "3.11")
    assert rc == 1
    assert "no wheel for darwin/x86_64" in data["error"] and "2.2.2" in data["error"]


def test_platform_values_expand_as_pip_expands_them() -> None:
    from pipguard.target import expand_platform

    mac = expand_platform("macosx_14_0_arm64")
    assert "macosx_11_0_arm64" in mac and "macosx_14_0_arm64" in mac
    assert expand_platform("manylinux2014_x86_64") == [
        "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]
    assert expand_platform("win_amd64") == ["win_amd64"]
