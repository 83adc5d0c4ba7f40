"""detect() replays recorded and constructed machines (PIPGUARD_SYSROOT + fake tools on PATH)."""

from __future__ import annotations

import shutil
import stat
import sys
from pathlib import Path

import pytest

from pipguard import detect as detect_mod
from pipguard.detect import PlatformFacts, detect, normalize_machine
from pipguard.hardware import NO_DRIVER, NOT_EXPOSED, Gpu, Hardware, Source
from pipguard.probes import nvidia

FIXTURES = Path(__file__).parent / "fixtures" / "hardware"
H100 = FIXTURES / "linux-h100-driver580"
TWO_GEN = FIXTURES / "linux-v100-rtx3090-driver535"
WSL = FIXTURES / "wsl-nvidia-smi-only"
AMD = FIXTURES / "linux-amd-kfd-gfx1100-gfx90a"
ARC = FIXTURES / "linux-intel-arc-a770"
NO_GPU = FIXTURES / "linux-no-gpu"
GARBLED = FIXTURES / "linux-garbled-driver-version"
NV_NO_DRIVER = FIXTURES / "linux-nvidia-no-driver"
AMD_NO_DRIVER = FIXTURES / "linux-amd-no-amdgpu"
NV_CONTAINER = FIXTURES / "linux-nvidia-container-no-devices"
LINUX = PlatformFacts("linux", "x86_64")

# A fake tool: optionally logs that it ran, sleeps, emulates `nvidia-smi --query-gpu`
# from a recorded CSV (header included), or prints fixed output with an exit code.
_TOOL = '''#!{python}
import sys, time
LOG, SLEEP, CSV, OUT, CODE = {log!r}, {sleep!r}, {csv!r}, {out!r}, {code!r}
if LOG:
    with open(LOG, "a") as fh:
        fh.write(" ".join(sys.argv[1:]) + "\\n")
if SLEEP:
    time.sleep(SLEEP)
if CSV:
    lines = [l for l in open(CSV).read().splitlines() if l.strip()]
    header = [h.strip().split(" [")[0] for h in lines[0].split(",")]
    query = [a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--query-gpu=")][0]
    fields = query.split(",")
    for f in fields:
        if f not in header:
            print('Field "%s" is not a valid field to query.' % f)
            sys.exit(2)
    for line in lines[1:]:
        cells = [c.strip() for c in line.split(",")]
        print(", ".join(cells[header.index(f)] for f in fields))
    sys.exit(0)
sys.stdout.write(OUT)
sys.exit(CODE)
'''


def fake_tool(
    folder: Path,
    name: str,
    *,
    csv: Path | None = None,
    out: str = "",
    code: int = 0,
    sleep: float = 0,
    log: Path | None = None,
) -> Path:
    """Write an executable fake tool into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    tool = folder / name
    tool.write_text(
        _TOOL.format(python=sys.executable, log=str(log) if log else "", sleep=sleep,
                     csv=str(csv) if csv else "", out=out, code=code)
    )
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return tool


def run_detect(root: Path, bin_dir: Path, **kwargs: object) -> Hardware:
    """detect() on a recorded root with only ``bin_dir`` on PATH."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    return detect(str(root), str(bin_dir), facts=LINUX, **kwargs)  # type: ignore[arg-type]


def copy_root(src: Path, dst: Path) -> Path:
    shutil.copytree(src / "root", dst)
    return dst


def probes(hw: Hardware, ok: bool | None = None) -> list[str]:
    return [s.probe for s in hw.sources if ok is None or s.ok is ok]


def detail(hw: Hardware, probe: str) -> str:
    return " | ".join(s.detail for s in hw.sources if s.probe == probe)


# ---------------------------------------------------------------- the real H100 recording


H100_GPU = Gpu("nvidia", "NVIDIA H100 80GB HBM3", "9.0", "0000:00:06.0")


def test_shared_recording_copy_is_identical() -> None:
    shared = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "hardware"
    original = shared / H100.name
    if not original.is_dir():
        pytest.skip("no ../shared checkout beside the repository")
    for path in original.rglob("*"):
        if path.is_file():
            copy = H100 / path.relative_to(original)
            assert copy.read_bytes() == path.read_bytes(), path


def test_h100_from_files_alone(tmp_path: Path) -> None:
    hw = run_detect(H100 / "root", tmp_path / "bin")
    assert hw.accelerator == "nvidia"
    assert hw.driver_version == "580.159.04"
    assert hw.gpus == (H100_GPU,)
    assert hw.cuda_driver_api is None  # only NVML says; nvidia-smi's banner is not scraped
    assert "9.0" in detail(hw, "gpu-name-table") and "name table" in detail(hw, "gpu-name-table")
    assert "/sys/module/nvidia/version" in detail(hw, "nvidia-sysfs")
    assert "nvidia-smi" not in probes(hw)
    assert all(s.ok for s in hw.sources)
    assert (hw.os, hw.machine) == ("linux", "x86_64")
    assert hw.unusable == ()  # the recording has no /dev: device nodes are not judged


def test_h100_files_answer_so_nvidia_smi_never_runs(tmp_path: Path) -> None:
    log = tmp_path / "smi.log"
    fake_tool(tmp_path / "bin", "nvidia-smi", csv=H100 / "nvidia-smi/query-gpu.csv", log=log)
    hw = run_detect(H100 / "root", tmp_path / "bin")
    assert hw.gpus == (H100_GPU,)
    assert not log.exists()


def test_h100_from_nvidia_smi(tmp_path: Path) -> None:
    log = tmp_path / "smi.log"
    fake_tool(tmp_path / "bin", "nvidia-smi", csv=H100 / "nvidia-smi/query-gpu.csv", log=log)
    hw = run_detect(tmp_path / "empty-root", tmp_path / "bin")
    assert hw.accelerator == "nvidia"
    assert hw.driver_version == "580.159.04"
    assert hw.gpus == (H100_GPU,)
    assert "--format=csv,noheader" in log.read_text()
    assert "gpu-name-table" not in probes(hw)  # nvidia-smi gave the capability itself
    assert "NVIDIA H100 80GB HBM3 (9.0)" in detail(hw, "nvidia-smi")


def test_unknown_name_asks_nvidia_smi_whose_capability_wins(tmp_path: Path) -> None:
    root = copy_root(H100, tmp_path / "root")
    info = root / "proc/driver/nvidia/gpus/0000:00:06.0/information"
    info.write_text(info.read_text().replace("NVIDIA H100 80GB HBM3", "NVIDIA Prototype 77"))
    csv = tmp_path / "query.csv"
    csv.write_text((H100 / "nvidia-smi/query-gpu.csv").read_text()
                   .replace("NVIDIA H100 80GB HBM3", "NVIDIA Prototype 77"))

    without = run_detect(root, tmp_path / "nobin")
    assert without.gpus == (Gpu("nvidia", "NVIDIA Prototype 77", None, "0000:00:06.0"),)
    assert ("gpu-name-table", False) in [(s.probe, s.ok) for s in without.sources]

    fake_tool(tmp_path / "bin", "nvidia-smi", csv=csv)
    with_smi = run_detect(root, tmp_path / "bin")
    assert with_smi.gpus == (Gpu("nvidia", "NVIDIA Prototype 77", "9.0", "0000:00:06.0"),)
    assert with_smi.driver_version == "580.159.04"


def test_old_driver_without_compute_cap_field(tmp_path: Path) -> None:
    csv = tmp_path / "query.csv"
    csv.write_text("name, driver_version, pci.bus_id\nTesla T4, 470.256.02, 00000000:00:04.0\n")
    log = tmp_path / "smi.log"
    fake_tool(tmp_path / "bin", "nvidia-smi", csv=csv, log=log)
    hw = run_detect(tmp_path / "empty-root", tmp_path / "bin")
    assert hw.gpus == (Gpu("nvidia", "Tesla T4", "7.5", "0000:00:04.0"),)
    assert hw.driver_version == "470.256.02"
    assert len(log.read_text().splitlines()) == 2  # asked again without compute_cap


# ---------------------------------------------------------------- two generations in one box


TWO_GEN_GPUS = (
    Gpu("nvidia", "Tesla V100-PCIE-32GB", "7.0", "0000:3b:00.0"),
    Gpu("nvidia", "NVIDIA GeForce RTX 3090", "8.6", "0000:af:00.0"),
)


def test_two_generations_from_files(tmp_path: Path) -> None:
    hw = run_detect(TWO_GEN / "root", tmp_path / "bin")
    assert hw.accelerator == "nvidia"
    assert hw.driver_version == "535.183.01"
    assert hw.gpus == TWO_GEN_GPUS


def test_two_generations_from_every_nvidia_smi_row(tmp_path: Path) -> None:
    fake_tool(tmp_path / "bin", "nvidia-smi", csv=TWO_GEN / "nvidia-smi/query-gpu.csv")
    hw = run_detect(tmp_path / "empty-root", tmp_path / "bin")
    assert hw.gpus == TWO_GEN_GPUS
    assert hw.driver_version == "535.183.01"


# ---------------------------------------------------------------- WSL


def test_wsl_nvidia_smi_in_usr_lib_wsl_lib(tmp_path: Path) -> None:
    root = copy_root(WSL, tmp_path / "root")
    smi = root / "usr/lib/wsl/lib/nvidia-smi"
    smi.chmod(smi.stat().st_mode | stat.S_IXUSR)
    hw = run_detect(root, tmp_path / "bin")  # nothing on PATH
    assert hw.accelerator == "nvidia"
    assert hw.driver_version == "566.36"
    assert hw.gpus == (Gpu("nvidia", "NVIDIA GeForce RTX 4070 Laptop GPU", "8.9", "0000:01:00.0"),)
    assert "nvidia-smi" in probes(hw, ok=True)


# ---------------------------------------------------------------- AMD


AMD_GPUS = (
    Gpu("amd", "AMD gfx1100", "gfx1100", "0000:03:00.0"),
    Gpu("amd", "AMD aldebaran", "gfx90a", "0000:43:00.0"),
)


def test_amd_through_kfd_only(tmp_path: Path) -> None:
    log = tmp_path / "rocminfo.log"
    fake_tool(tmp_path / "bin", "rocminfo", out="", log=log)
    hw = run_detect(AMD / "root", tmp_path / "bin")
    assert hw.accelerator == "amd"
    assert hw.gpus == AMD_GPUS
    assert hw.rocm_version is None and hw.driver_version is None
    assert "gfx1100, gfx90a" in detail(hw, "amd-kfd")
    assert not log.exists()  # KFD answered: no process


def test_amd_rocm_version_when_installed(tmp_path: Path) -> None:
    root = copy_root(AMD, tmp_path / "root")
    (root / "opt/rocm/.info").mkdir(parents=True)
    (root / "opt/rocm/.info/version").write_text("6.4.1-120\n")
    hw = run_detect(root, tmp_path / "bin")
    assert hw.rocm_version == "6.4.1"


ROCMINFO = """\
*******
Agent 1
*******
  Name:                    AMD EPYC 9654 96-Core Processor
  Device Type:             CPU
*******
Agent 2
*******
  Name:                    gfx942
  Marketing Name:          AMD Instinct MI300X
  Device Type:             GPU
"""


def test_amd_without_kfd_falls_back_to_rocminfo_in_opt_rocm(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "opt/rocm/.info").mkdir(parents=True)
    (root / "opt/rocm/.info/version").write_text("7.1.0-42\n")
    fake_tool(root / "opt/rocm/bin", "rocminfo", out=ROCMINFO)
    hw = run_detect(root, tmp_path / "bin")  # rocminfo is not on PATH
    assert hw.accelerator == "amd"
    assert hw.gpus == (Gpu("amd", "AMD Instinct MI300X", "gfx942"),)
    assert hw.rocm_version == "7.1.0"
    assert "opt/rocm/bin/rocminfo" in detail(hw, "rocminfo")


def test_amd_kfd_too_old_then_tools(tmp_path: Path) -> None:
    root = copy_root(AMD, tmp_path / "root")
    for node in ("1", "2"):
        props = root / "sys/class/kfd/kfd/topology/nodes" / node / "properties"
        props.write_text("\n".join(line for line in props.read_text().splitlines()
                                   if not line.startswith("gfx_target_version")) + "\n")
    fake_tool(tmp_path / "bin", "rocminfo", code=1, out="HSA_STATUS_ERROR_OUT_OF_RESOURCES\n")
    fake_tool(tmp_path / "bin", "rocm_agent_enumerator", out="gfx000\ngfx1100\ngfx90a\n")
    hw = run_detect(root, tmp_path / "bin")
    assert [g.compute_capability for g in hw.gpus] == ["gfx1100", "gfx90a"]
    assert ("rocminfo", False) in [(s.probe, s.ok) for s in hw.sources]
    assert ("rocm_agent_enumerator", True) in [(s.probe, s.ok) for s in hw.sources]
    assert "kernel too old" in detail(hw, "amd-kfd")


# ---------------------------------------------------------------- Intel, Apple, none


def test_intel_arc_only_the_xpu_capable_device(tmp_path: Path) -> None:
    hw = run_detect(ARC / "root", tmp_path / "bin")
    assert hw.accelerator == "intel"
    assert len(hw.gpus) == 1
    assert hw.gpus[0].bus_id == "0000:03:00.0"
    assert "Arc A-series" in hw.gpus[0].name and "8086:56a0" in hw.gpus[0].name
    assert hw.gpus[0].compute_capability is None


def test_no_gpu(tmp_path: Path) -> None:
    hw = run_detect(NO_GPU / "root", tmp_path / "bin")
    assert hw.accelerator == "none"
    assert hw.gpus == () and hw.driver_version is None
    assert hw.sources == (Source("detect", True, "no NVIDIA, AMD, Intel XPU or Apple GPU found"),)


# ---------------------------------------------------------------- GPUs seen but unusable


def test_nvidia_gpu_without_a_driver(tmp_path: Path) -> None:
    hw = run_detect(NV_NO_DRIVER / "root", tmp_path / "bin")
    assert hw.accelerator == "none" and hw.gpus == () and hw.driver_version is None
    [u] = hw.unusable
    assert u.gpu == Gpu("nvidia", "NVIDIA GPU [10de:2684]", None, "0000:01:00.0")
    assert (u.reason, u.detail, u.pci_id) == (NO_DRIVER, "no driver loaded", "10de:2684")
    assert "install the NVIDIA driver" in u.fix
    assert "no driver loaded" in detail(hw, "unusable-gpu")
    assert hw.as_dict()["unusable_gpus"] == [u.as_dict()]
    assert hw.as_dict()["accelerator"] == "none"


def test_nvidia_gpu_bound_to_nouveau(tmp_path: Path) -> None:
    root = copy_root(NV_NO_DRIVER, tmp_path / "root")
    (root / "sys/bus/pci/devices/0000:01:00.0/driver").symlink_to(
        "../../../bus/pci/drivers/nouveau")
    [u] = run_detect(root, tmp_path / "bin").unusable
    assert "bound to nouveau" in u.detail and u.reason == NO_DRIVER


def test_amd_gpu_without_amdgpu(tmp_path: Path) -> None:
    hw = run_detect(AMD_NO_DRIVER / "root", tmp_path / "bin")
    assert hw.accelerator == "none"
    [u] = hw.unusable
    assert (u.gpu.vendor, u.gpu.name, u.gpu.bus_id) == ("amd", "AMD GPU [1002:73bf]",
                                                          "0000:03:00.0")
    assert u.reason == NO_DRIVER and "amdgpu" in u.fix


def test_nvidia_driver_but_no_device_nodes_in_the_container(tmp_path: Path) -> None:
    hw = run_detect(NV_CONTAINER / "root", tmp_path / "bin")
    assert hw.accelerator == "nvidia" and hw.driver_version == "570.86.10"
    gpu = Gpu("nvidia", "NVIDIA GeForce RTX 4090", "8.9", "0000:01:00.0")
    assert hw.gpus == (gpu,)  # still planned for: the container can be started with it
    [u] = hw.unusable
    assert (u.gpu, u.reason) == (gpu, NOT_EXPOSED)
    assert "driver 570.86.10 is loaded on the host" in u.detail
    assert "/dev/nvidiactl" in u.detail and "--gpus all" in u.fix


def test_device_nodes_present_or_wsl_means_usable(tmp_path: Path) -> None:
    root = copy_root(NV_CONTAINER, tmp_path / "root")
    (root / "dev/nvidiactl").write_text("")
    (root / "dev/nvidia1").write_text("")  # --gpus device=1 gives only that one
    assert run_detect(root, tmp_path / "bin").unusable == ()
    (root / "dev/nvidiactl").unlink()
    assert run_detect(root, tmp_path / "bin").unusable != ()
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/nvidia-modprobe").write_text("")  # a host: nodes come on first use
    assert run_detect(root, tmp_path / "bin").unusable == ()
    (root / ".dockerenv").write_text("")  # ... unless this is a container
    assert run_detect(root, tmp_path / "bin").unusable != ()
    (root / "dev/dxg").write_text("")  # WSL: no Linux nodes needed
    assert run_detect(root, tmp_path / "bin").unusable == ()


def test_amd_kfd_without_dev_kfd_in_the_container(tmp_path: Path) -> None:
    root = copy_root(AMD, tmp_path / "root")
    assert run_detect(root, tmp_path / "bin").unusable == ()  # no /dev: not judged
    (root / "dev/dri").mkdir(parents=True)
    hw = run_detect(root, tmp_path / "bin")
    assert hw.accelerator == "amd" and len(hw.unusable) == len(hw.gpus) == 2
    assert all(u.reason == NOT_EXPOSED and "/dev/kfd" in u.detail for u in hw.unusable)
    assert "--device /dev/kfd --device /dev/dri" in hw.unusable[0].fix
    (root / "dev/kfd").write_text("")
    assert run_detect(root, tmp_path / "bin").unusable == ()


@pytest.mark.parametrize(
    ("facts", "accelerator"),
    [(PlatformFacts("darwin", "arm64"), "apple"), (PlatformFacts("darwin", "x86_64"), "none")],
)
def test_apple_silicon(tmp_path: Path, facts: PlatformFacts, accelerator: str) -> None:
    hw = detect(str(H100 / "root"), str(tmp_path), facts=facts)
    assert hw.accelerator == accelerator
    assert (hw.os, hw.machine) == (facts.system, facts.machine)
    if accelerator == "apple":
        assert hw.gpus == (Gpu("apple", "Apple MPS"),)


@pytest.mark.parametrize(("raw", "norm"), [("AMD64", "x86_64"), ("ARM64", "arm64"),
                                           ("x86_64", "x86_64"), ("aarch64", "aarch64")])
def test_machine_spelling(raw: str, norm: str) -> None:
    assert normalize_machine(raw) == norm


# ---------------------------------------------------------------- broken inputs


def test_garbled_sysfs_version_falls_back_to_procfs(tmp_path: Path) -> None:
    hw = run_detect(GARBLED / "root", tmp_path / "bin")
    assert hw.accelerator == "nvidia"
    assert hw.driver_version == "570.133.20"
    assert hw.gpus == (Gpu("nvidia", "NVIDIA L4", "8.9", "0000:01:00.0"),)
    assert ("nvidia-sysfs", False) in [(s.probe, s.ok) for s in hw.sources]
    assert "unexpected content" in detail(hw, "nvidia-sysfs")
    assert "nvidia-procfs" in probes(hw, ok=True)


def test_unreadable_version_files(tmp_path: Path) -> None:
    root = copy_root(H100, tmp_path / "root")
    (root / "sys/module/nvidia/version").unlink()
    (root / "sys/module/nvidia/version").mkdir()  # reading it fails: EISDIR
    (root / "proc/driver/nvidia/version").write_text("NVRM version: garbled\n")
    hw = run_detect(root, tmp_path / "bin")
    assert "cannot read /sys/module/nvidia/version" in detail(hw, "nvidia-sysfs")
    assert "no driver version" in detail(hw, "nvidia-procfs")
    # The GPU is still known; the driver is not (and there is no nvidia-smi to ask).
    assert hw.accelerator == "nvidia"
    assert hw.driver_version is None
    assert hw.gpus == (H100_GPU,)


def test_garbled_gpu_information_file(tmp_path: Path) -> None:
    root = copy_root(H100, tmp_path / "root")
    (root / "proc/driver/nvidia/gpus/0000:00:06.0/information").write_text("\x00\x01\n")
    hw = run_detect(root, tmp_path / "bin")
    assert "no 'Model:' line" in detail(hw, "nvidia-gpus")
    assert hw.driver_version == "580.159.04" and hw.gpus == ()


def test_hanging_nvidia_smi_is_abandoned_with_the_reason(tmp_path: Path) -> None:
    fake_tool(tmp_path / "bin", "nvidia-smi", sleep=60)
    hw = run_detect(tmp_path / "empty-root", tmp_path / "bin", timeout=0.5)
    assert hw.accelerator == "none"
    assert "did not answer within the timeout" in detail(hw, "nvidia-smi")


@pytest.mark.parametrize(
    ("out", "code", "why"),
    [
        ("No devices were found\n", 6, "exited with code 6: No devices were found"),
        ("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n", 9,
         "exited with code 9"),
        ("garbage, more garbage\n", 0, "unexpected nvidia-smi line"),
    ],
)
def test_failing_nvidia_smi(tmp_path: Path, out: str, code: int, why: str) -> None:
    fake_tool(tmp_path / "bin", "nvidia-smi", out=out, code=code)
    hw = run_detect(tmp_path / "empty-root", tmp_path / "bin")
    assert hw.accelerator == "none"
    assert why in detail(hw, "nvidia-smi")
    assert ("nvidia-smi", False) in [(s.probe, s.ok) for s in hw.sources]


def test_a_crashing_probe_becomes_a_source(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    def boom(env: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(nvidia, "probe", boom)
    hw = run_detect(AMD / "root", tmp_path / "bin")
    assert hw.accelerator == "amd"
    assert ("nvidia", False) in [(s.probe, s.ok) for s in hw.sources]
    assert "kaboom" in detail(hw, "nvidia")


# ---------------------------------------------------------------- several vendors


def test_nvidia_comes_before_amd_and_intel(tmp_path: Path) -> None:
    root = copy_root(H100, tmp_path / "root")
    shutil.copytree(AMD / "root", root, dirs_exist_ok=True)
    shutil.copytree(ARC / "root", root, dirs_exist_ok=True)
    log = tmp_path / "rocminfo.log"
    fake_tool(tmp_path / "bin", "rocminfo", log=log)
    hw = run_detect(root, tmp_path / "bin")
    assert hw.accelerator == "nvidia"
    assert hw.gpus == (H100_GPU,)
    notes = detail(hw, "detect")
    assert "amd GPU(s) also present" in notes and "intel GPU(s) also present" in notes
    assert not log.exists()


def test_default_environ_and_platform_never_raise() -> None:
    hw = detect()
    assert hw.accelerator in ("nvidia", "amd", "intel", "apple", "none")
    assert hw.os == sys.platform


def test_probe_order_per_platform() -> None:
    assert [n for n, _ in detect_mod._probes("linux")] == ["nvidia", "amd", "intel"]
    assert [n for n, _ in detect_mod._probes("win32")] == ["nvidia"]
    assert [n for n, _ in detect_mod._probes("darwin")] == ["apple"]
    assert detect_mod._probes("freebsd13") == ()
