"""The hardware probes' pure parsers, the name table, ProbeEnv and the NVML reader."""

from __future__ import annotations

import ctypes
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from pipguard import gpunames
from pipguard.hardware import Gpu
from pipguard.probes import (
    ProbeEnv,
    ProbeError,
    VendorResult,
    amd,
    display_devices,
    intel,
    nvidia,
    nvml,
    parse_hex,
    tool_failure,
    unusable,
)
from pipguard.runner import Completed

FIXTURES = Path(__file__).parent / "fixtures" / "hardware"
H100 = FIXTURES / "linux-h100-driver580"


# ---------------------------------------------------------------- NVIDIA parsers


def test_module_version_from_the_recording() -> None:
    text = (H100 / "root/sys/module/nvidia/version").read_text()
    assert nvidia.parse_module_version(text) == "580.159.04"


@pytest.mark.parametrize("text", ["", "garbage\n", "\x00\x7fELF", "580", "580.159.04 extra"])
def test_module_version_rejects_anything_else(text: str) -> None:
    with pytest.raises(ValueError):
        nvidia.parse_module_version(text)


def test_proc_version_from_the_recording_keeps_the_leading_zero() -> None:
    text = (H100 / "root/proc/driver/nvidia/version").read_text()
    # "580.159.04", not the "580.159.4" another installer derived from it.
    assert nvidia.parse_proc_version(text) == "580.159.04"


def test_proc_version_of_the_proprietary_module() -> None:
    text = (
        "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.183.01  Sun May 12 19:39:15 UTC 2024\n"
        "GCC version:  gcc version 12.3.0 (Ubuntu 12.3.0-1ubuntu1~22.04) \n"
    )
    assert nvidia.parse_proc_version(text) == "535.183.01"


@pytest.mark.parametrize(
    "text",
    ["", "GCC version:  gcc 12\n", "NVRM version: NVIDIA UNIX x86_64 Kernel Module  Release\n"],
)
def test_proc_version_rejects_files_without_a_version(text: str) -> None:
    with pytest.raises(ValueError):
        nvidia.parse_proc_version(text)


def test_gpu_information_from_the_recording() -> None:
    text = (H100 / "root/proc/driver/nvidia/gpus/0000:00:06.0/information").read_text()
    assert nvidia.parse_gpu_information(text) == ("NVIDIA H100 80GB HBM3", "0000:00:06.0")


def test_gpu_information_without_model_is_malformed() -> None:
    with pytest.raises(ValueError):
        nvidia.parse_gpu_information("IRQ: 41\nBus Location: 0000:00:06.0\n")


def test_smi_csv_reads_every_row() -> None:
    text = (
        "Tesla V100-PCIE-32GB, 535.183.01, 7.0, 00000000:3B:00.0\n"
        "NVIDIA GeForce RTX 3090, 535.183.01, 8.6, 00000000:AF:00.0\n"
    )
    rows = nvidia.parse_smi_csv(text)
    assert rows == (
        nvidia.SmiRow("Tesla V100-PCIE-32GB", "535.183.01", "7.0", "0000:3b:00.0"),
        nvidia.SmiRow("NVIDIA GeForce RTX 3090", "535.183.01", "8.6", "0000:af:00.0"),
    )


def test_smi_csv_not_available_values_become_none() -> None:
    rows = nvidia.parse_smi_csv("NVIDIA H100 80GB HBM3, 580.159.04, [N/A], [N/A]\n")
    assert rows[0].compute_cap is None and rows[0].bus_id is None


def test_smi_csv_without_compute_cap_field() -> None:
    rows = nvidia.parse_smi_csv("Tesla T4, 470.256.02, 00000000:00:04.0\n", nvidia.SMI_FIELDS_OLD)
    assert rows == (nvidia.SmiRow("Tesla T4", "470.256.02", None, "0000:00:04.0"),)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n",
        # the recorded file has a memory column: not what we asked for
        "NVIDIA H100 80GB HBM3, 580.159.04, 9.0, 81559 MiB, 00000000:00:06.0\n",
        "No devices were found\n",
        "NVIDIA H100, 580.159.04, nine, 00000000:00:06.0\n",
        "NVIDIA H100, driver?, 9.0, 00000000:00:06.0\n",
    ],
)
def test_smi_csv_rejects_unexpected_output(text: str) -> None:
    with pytest.raises(ValueError):
        nvidia.parse_smi_csv(text)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("00000000:00:06.0", "0000:00:06.0"),
        ("00000000:AF:00.0", "0000:af:00.0"),
        ("0000:3b:00.0", "0000:3b:00.0"),
        ("00010000:01:00.0", "10000:01:00.0"),
        ("odd", "odd"),
    ],
)
def test_bus_ids_use_the_sysfs_spelling(raw: str, expected: str) -> None:
    assert nvidia.normalize_bus_id(raw) == expected


@pytest.mark.parametrize(("value", "expected"), [(13000, "13.0"), (12080, "12.8"), (0, None)])
def test_cuda_version_from_integer(value: int, expected: str | None) -> None:
    assert nvml.cuda_version(value) == expected


def test_fill_from_table_says_where_the_capability_came_from() -> None:
    gpus, sources = nvidia.fill_from_table(
        (Gpu("nvidia", "NVIDIA H100 80GB HBM3"), Gpu("nvidia", "NVIDIA Mystery 9"),
         Gpu("nvidia", "NVIDIA L4", "8.9"))
    )
    assert [g.compute_capability for g in gpus] == ["9.0", None, "8.9"]
    assert [(s.probe, s.ok) for s in sources] == [("gpu-name-table", True),
                                                  ("gpu-name-table", False)]
    assert "9.0" in sources[0].detail and "name table" in sources[0].detail


def test_complete_needs_driver_gpus_and_every_capability() -> None:
    h100 = Gpu("nvidia", "H100", "9.0")
    assert nvidia.complete("580.159.04", (h100,))
    assert not nvidia.complete(None, (h100,))
    assert not nvidia.complete("580.159.04", ())
    assert not nvidia.complete("580.159.04", (h100, Gpu("nvidia", "X")))


# ---------------------------------------------------------------- NVML through a fake library


class FakeNvml:
    """Imitates libnvidia-ml: writes answers through the ctypes objects it is given."""

    def __init__(self, gpus: list[tuple[bytes, int, int, int]], *, init: int = 0) -> None:
        self.gpus = gpus
        self.init = init
        self.shut = False
        self.failing: set[str] = set()

    def nvmlInit_v2(self) -> int:
        return self.init

    def nvmlShutdown(self) -> int:
        self.shut = True
        return 0

    def nvmlSystemGetDriverVersion(self, buf: Any, size: Any) -> int:
        buf.value = b"580.159.04"
        return 0

    def nvmlSystemGetCudaDriverVersion_v2(self, ref: Any) -> int:
        ref._obj.value = 13000
        return 0

    def nvmlDeviceGetCount_v2(self, ref: Any) -> int:
        ref._obj.value = len(self.gpus)
        return 0

    def nvmlDeviceGetHandleByIndex_v2(self, index: Any, ref: Any) -> int:
        if "handle" in self.failing and index.value == 1:
            return 15  # NVML_ERROR_GPU_IS_LOST
        ref._obj.value = index.value + 1
        return 0

    def nvmlDeviceGetName(self, handle: Any, buf: Any, size: Any) -> int:
        buf.value = self.gpus[handle.value - 1][0]
        return 0

    def nvmlDeviceGetCudaComputeCapability(self, handle: Any, major: Any, minor: Any) -> int:
        if "cc" in self.failing:
            raise OSError("boom")  # a misbehaving library must not crash detect
        _, maj, mnr, _ = self.gpus[handle.value - 1]
        major._obj.value, minor._obj.value = maj, mnr
        return 0

    def nvmlDeviceGetPciInfo_v3(self, handle: Any, ref: Any) -> int:
        ref._obj.domain, ref._obj.bus, ref._obj.device = 0, self.gpus[handle.value - 1][3], 0
        return 0


def test_nvml_answers_driver_cuda_api_and_gpus() -> None:
    lib = FakeNvml([(b"NVIDIA H100 80GB HBM3", 9, 0, 6), (b"NVIDIA B200", 10, 0, 0x1B)])
    info = nvml.query_nvml(lib)
    assert info == nvml.NvmlInfo(
        "580.159.04",
        "13.0",
        (Gpu("nvidia", "NVIDIA H100 80GB HBM3", "9.0", "0000:06:00.0"),
         Gpu("nvidia", "NVIDIA B200", "10.0", "0000:1b:00.0")),
        True,
    )
    assert lib.shut


def test_nvml_failed_calls_are_guarded() -> None:
    lib = FakeNvml([(b"NVIDIA H100 80GB HBM3", 9, 0, 6), (b"NVIDIA B200", 10, 0, 0x1B)])
    lib.failing = {"handle", "cc"}
    info = nvml.query_nvml(lib)
    assert [g.name for g in info.gpus] == ["NVIDIA H100 80GB HBM3"]
    assert info.gpus[0].compute_capability is None
    assert not info.whole and lib.shut


def test_nvml_init_failure_is_an_nvml_error() -> None:
    with pytest.raises(nvml.NvmlError):
        nvml.query_nvml(FakeNvml([], init=9))


def test_nvml_missing_symbol_falls_back_to_the_old_pci_call() -> None:
    class OldNvml(FakeNvml):
        nvmlDeviceGetPciInfo_v3 = None  # type: ignore[assignment]

        def nvmlDeviceGetPciInfo(self, handle: Any, ref: Any) -> int:
            ref._obj.domain, ref._obj.bus, ref._obj.device = 1, 2, 3
            return 0

    info = nvml.query_nvml(OldNvml([(b"Tesla V100-SXM2-16GB", 7, 0, 0)]))
    assert info.gpus[0].bus_id == "0001:02:03.0"


def test_nvml_is_never_loaded_for_a_moved_root(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    def no_load(name: str) -> None:
        raise AssertionError(f"NVML loaded from {name}")

    monkeypatch.setattr(ctypes, "CDLL", no_load)
    env = ProbeEnv(root=str(H100 / "root"))
    assert not env.is_real_root
    assert nvidia.read_nvml(env) is None
    # On the real root, a machine without the driver's files does not try either.
    assert nvidia._nvml_candidates(ProbeEnv(root=str(tmp_path))) == []
    assert nvidia._nvml_candidates(ProbeEnv(root="/", system="darwin")) == []


# ---------------------------------------------------------------- AMD parsers


@pytest.mark.parametrize(
    ("value", "arch"),
    [
        (110000, "gfx1100"),
        (90402, "gfx942"),
        (90010, "gfx90a"),
        (90008, "gfx908"),
        (90006, "gfx906"),
        (90500, "gfx950"),
        (100300, "gfx1030"),
        (110501, "gfx1151"),
        (120001, "gfx1201"),
        (0, None),
        (91600, None),
    ],
)
def test_gfx_arch_from_target_version(value: int, arch: str | None) -> None:
    assert amd.gfx_arch(value) == arch


def test_kfd_properties_and_bus_id() -> None:
    root = FIXTURES / "linux-amd-kfd-gfx1100-gfx90a/root"
    props = amd.parse_properties((root / amd.KFD_NODES.lstrip("/") / "2/properties").read_text())
    assert props["gfx_target_version"] == 90010
    assert amd.is_gpu_node(props)
    assert amd.node_bus_id(props) == "0000:43:00.0"
    cpu = amd.parse_properties((root / amd.KFD_NODES.lstrip("/") / "0/properties").read_text())
    assert not amd.is_gpu_node(cpu)
    assert amd.node_bus_id(cpu) is None


def test_kfd_properties_without_pairs_are_malformed() -> None:
    with pytest.raises(ValueError):
        amd.parse_properties("\x00\x01 garbled\n")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("ip discovery\n", "AMD gfx1100"), ("", "AMD gfx1100"), (None, "AMD gfx1100"),
     ("navi21\n", "AMD navi21")],
)
def test_node_name(name: str | None, expected: str) -> None:
    assert amd.node_name(name, "gfx1100") == expected


ROCMINFO = """\
ROCk module version 6.10.5 is loaded
=====================
HSA System Attributes
=====================
Runtime Version:         1.15
==========
HSA Agents
==========
*******
Agent 1
*******
  Name:                    AMD EPYC 9654 96-Core Processor
  Marketing Name:          AMD EPYC 9654 96-Core Processor
  Vendor Name:             CPU
  Device Type:             CPU
*******
Agent 2
*******
  Name:                    gfx942
  Uuid:                    GPU-2b6c2f1a3e4d5c6b
  Marketing Name:          AMD Instinct MI300X
  Vendor Name:             AMD
  Device Type:             GPU
  ISA Info:
    ISA 1
      Name:                    amdgcn-amd-amdhsa--gfx942:sramecc+:xnack-
*** Done ***
"""


def test_rocminfo_lists_gpu_agents_only() -> None:
    assert amd.parse_rocminfo(ROCMINFO) == (("gfx942", "AMD Instinct MI300X"),)
    assert amd.parse_rocminfo("garbage") == ()


def test_agent_enumerator_skips_the_cpu() -> None:
    assert amd.parse_agent_enumerator("gfx000\ngfx1100\ngfx90a\n") == ("gfx1100", "gfx90a")


@pytest.mark.parametrize(("text", "version"), [("6.4.1-120\n", "6.4.1"), ("7.1.0\n", "7.1.0"),
                                                ("6.2\n", "6.2")])
def test_rocm_version(text: str, version: str) -> None:
    assert amd.parse_rocm_version(text) == version


def test_rocm_version_garbled() -> None:
    with pytest.raises(ValueError):
        amd.parse_rocm_version("unknown\n")


# ---------------------------------------------------------------- Intel


@pytest.mark.parametrize(
    ("vendor", "cls", "device", "family"),
    [
        (0x8086, 0x030000, 0x56A0, "Arc A-series"),
        (0x8086, 0x030000, 0xE20B, "Arc B-series"),
        (0x8086, 0x038000, 0x0BD5, "GPU Max"),
        (0x8086, 0x038000, 0x56C0, "GPU Flex"),
        (0x8086, 0x030000, 0x7D55, "Meteor Lake"),
        (0x8086, 0x030000, 0x7D51, "Arrow Lake"),
        (0x8086, 0x030000, 0x64A0, "Lunar Lake"),
        (0x8086, 0x030000, 0x9A49, None),  # Tiger Lake iGPU: no XPU build
        (0x8086, 0x030000, 0xA780, None),  # Raptor Lake iGPU
        (0x8086, 0x040300, 0x56A0, None),  # right id, not a display controller
        (0x10DE, 0x030000, 0x56A0, None),  # not Intel
    ],
)
def test_xpu_family(vendor: int, cls: int, device: int, family: str | None) -> None:
    got = intel.xpu_family(vendor, cls, device)
    assert (got is None) if family is None else (got is not None and family in got)


def test_parse_hex() -> None:
    assert parse_hex("0x8086\n") == 0x8086
    with pytest.raises(ValueError):
        parse_hex("intel")


# ---------------------------------------------------------------- PCI, unusable GPUs


def test_display_controllers_only_and_the_bound_driver(tmp_path: Path) -> None:
    devices = tmp_path / "sys/bus/pci/devices"
    for addr, vendor, cls, device, driver in (
            ("0000:01:00.0", "0x10de", "0x030000", "0x2684", "nouveau"),
            ("0000:01:00.1", "0x10de", "0x040300", "0x22ba", None),  # its audio function
            ("0000:02:00.0", "0x1002", "0x038000", "0x740f", None),
            ("0000:03:00.0", "0x10ec", "0x020000", "0x8168", None)):
        d = devices / addr
        d.mkdir(parents=True)
        for name, value in (("vendor", vendor), ("class", cls), ("device", device)):
            (d / name).write_text(value + "\n")
        if driver:
            (d / "driver").symlink_to(f"../../../bus/pci/drivers/{driver}")
    env = ProbeEnv(root=str(tmp_path))
    found, sources = display_devices(env)
    assert [(d.address, d.pci_id, d.driver) for d in found] == [
        ("0000:01:00.0", "10de:2684", "nouveau"), ("0000:02:00.0", "1002:740f", None)]
    assert sources == ()
    assert display_devices(env)[0] is found  # scanned once per ProbeEnv


@pytest.mark.parametrize(
    ("vendor", "bound", "loaded", "detail"),
    [
        ("nvidia", None, False, "no driver loaded"),
        ("nvidia", None, True, None),
        ("nvidia", "nvidia", False, None),
        ("nvidia", "nouveau", True, "bound to nouveau (in use), not the nvidia driver"),
        ("nvidia", "vfio-pci", False, "passed through to a virtual machine"),
        ("amd", "amdgpu", False, None),
        ("amd", "radeon", False, "not the amdgpu driver"),
        ("amd", None, False, "no driver loaded"),
    ],
)
def test_no_driver_detail(vendor: str, bound: str | None, loaded: bool,
                          detail: str | None) -> None:
    got = unusable.no_driver_detail(vendor, bound, loaded)
    assert (got is None) if detail is None else (got is not None and detail in got)


# ---------------------------------------------------------------- the GPU name table


@pytest.mark.parametrize(
    ("name", "cc"),
    [
        ("Tesla K80", "3.7"),
        ("Tesla P100-PCIE-16GB", "6.0"),
        ("NVIDIA GeForce GTX 1080 Ti", "6.1"),
        ("Tesla V100-SXM2-16GB", "7.0"),
        ("Tesla V100S-PCIE-32GB", "7.0"),
        ("Tesla T4", "7.5"),
        ("NVIDIA GeForce RTX 2080 Ti", "7.5"),
        ("Quadro RTX 6000", "7.5"),
        ("NVIDIA A100-SXM4-80GB", "8.0"),
        ("NVIDIA A30", "8.0"),
        ("NVIDIA GeForce RTX 3090", "8.6"),
        ("NVIDIA A10G", "8.6"),
        ("NVIDIA A10", "8.6"),
        ("NVIDIA A40", "8.6"),
        ("NVIDIA RTX A6000", "8.6"),
        ("Orin (nvgpu)", "8.7"),
        ("NVIDIA L4", "8.9"),
        ("NVIDIA L40S", "8.9"),
        ("NVIDIA GeForce RTX 4090 Laptop GPU", "8.9"),
        ("NVIDIA RTX 6000 Ada Generation", "8.9"),
        ("NVIDIA RTX 4000 SFF Ada Generation", "8.9"),
        ("NVIDIA H100 80GB HBM3", "9.0"),
        ("NVIDIA H100 PCIe", "9.0"),
        ("NVIDIA H200", "9.0"),
        ("NVIDIA GH200 480GB", "9.0"),
        ("NVIDIA B200", "10.0"),
        ("NVIDIA GB200", "10.0"),
        ("NVIDIA GeForce RTX 5090", "12.0"),
        ("NVIDIA RTX PRO 6000 Blackwell Workstation Edition", "12.0"),
        ("NVIDIA RTX PRO 6000 Blackwell Server Edition", "12.0"),
        ("NVIDIA GB10", "12.1"),
        ("NVIDIA GeForce GTX TITAN X", "5.2"),
        ("NVIDIA TITAN X (Pascal)", "6.1"),
        ("NVIDIA Quantum Foo 1", None),
        ("", None),
    ],
)
def test_compute_capability_for(name: str, cc: str | None) -> None:
    assert gpunames.compute_capability_for(name) == cc


def test_longest_key_wins_and_ties_are_ambiguous() -> None:
    table = gpunames.parse_table(
        {"families": [{"cc": "7.5", "names": ["rtx 6000"]},
                      {"cc": "8.9", "names": ["rtx 6000 ada"]},
                      {"cc": "1.0", "names": ["foo"]}, {"cc": "2.0", "names": ["bar"]}]}
    )
    assert gpunames.lookup("Quadro RTX 6000", table) == "7.5"
    assert gpunames.lookup("RTX 6000 Ada Generation", table) == "8.9"
    assert gpunames.lookup("foo bar", table) is None


@pytest.mark.parametrize(
    "data",
    [[], {"families": {}}, {"families": [{"cc": "9", "names": ["x"]}]},
     {"families": [{"cc": "9.0", "names": ["--"]}]}, {"families": [{"cc": "9.0"}]}],
)
def test_malformed_table_is_rejected(data: object) -> None:
    with pytest.raises(ValueError):
        gpunames.parse_table(data)


def test_shipped_table_has_no_contradictions() -> None:
    seen: dict[tuple[str, ...], str] = {}
    for key, cc in gpunames._table():
        assert seen.setdefault(key, cc) == cc, key
    assert len(seen) > 100


# ---------------------------------------------------------------- ProbeEnv and helpers


def test_probe_env_reads_under_its_root(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/text").write_text("hello\n")
    (tmp_path / "proc/binary").write_bytes(b"\xff\xfe\x00")
    (tmp_path / "proc/dir").mkdir()
    env = ProbeEnv(root=str(tmp_path))
    assert env.read("/proc/text") == "hello\n"
    assert env.read("/proc/missing") is None
    assert env.read("/proc/text/below") is None
    assert env.listdir("/proc") == ["binary", "dir", "text"]
    assert env.listdir("/nowhere") is None
    with pytest.raises(ProbeError, match="not text"):
        env.read("/proc/binary")
    with pytest.raises(ProbeError, match="cannot read"):
        env.read("/proc/dir")


def test_probe_env_which_looks_on_path_then_in_extra_dirs(tmp_path: Path) -> None:
    bin_dir, root = tmp_path / "bin", tmp_path / "root"
    (root / "opt/tool").mkdir(parents=True)
    bin_dir.mkdir()
    for tool in (bin_dir / "onpath", root / "opt/tool/inroot"):
        tool.write_text("#!/bin/sh\n")
        tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    env = ProbeEnv(root=str(root), path=str(bin_dir))
    assert env.which("onpath") == str(bin_dir / "onpath")
    assert env.which("inroot") is None
    assert env.which("inroot", also=("/opt/tool",)) == str(root / "opt/tool/inroot")
    # No PATH at all finds nothing on PATH (not the default search path).
    assert ProbeEnv(root=str(root), path="").which("sh") is None


def test_real_root() -> None:
    assert ProbeEnv(root=os.sep).is_real_root
    assert ProbeEnv(root="/tmp/x").is_real_root is False


def test_tool_failure_messages() -> None:
    hung = Completed(("nvidia-smi",), 124, "", "", timed_out=True)
    assert "did not answer within the timeout" in tool_failure("nvidia-smi", hung)
    failed = Completed(("nvidia-smi",), 9, "", "NVIDIA-SMI has failed because it couldn't "
                       "communicate with the NVIDIA driver.\nMore\n")
    assert tool_failure("nvidia-smi", failed) == (
        "nvidia-smi exited with code 9: NVIDIA-SMI has failed because it couldn't "
        "communicate with the NVIDIA driver."
    )


def test_vendor_found() -> None:
    assert not VendorResult("amd").found
    assert VendorResult("nvidia", driver_version="580.159.04").found
    assert not VendorResult("amd", rocm_version="6.4").found
