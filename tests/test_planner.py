"""The selection policy as pure cases: hardware and target in, plan out (no server, no pip).

In the style of resolvelib's tests: each case names the machine, the request and the
expected variant and versions; the index is the imitation one, held in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from pipguard.errors import IndexUnavailable, NoMatchingBuild
from pipguard.hardware import Gpu, Hardware, Overrides, apply_overrides
from pipguard.knowledge import Knowledge
from pipguard.knowledge_tables import load_knowledge
from pipguard.options import parse_gpu_arch
from pipguard.plan import Plan
from pipguard.planner import plan
from pipguard.resolution import Request
from pipguard.target import Interpreter, tags_for
from scripts.make_index import build_index
from tests.memindex import MemoryIndex

KN = load_knowledge()


@pytest.fixture(scope="module")
def torch_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield build_index(tmp_path_factory.mktemp("memindex")).torch_dir


def linux(py: tuple[int, int] = (3, 11), os: str = "linux", machine: str = "x86_64",
          platforms: list[str] | None = None) -> Interpreter:
    # What pip's own tags are on a glibc 2.28 x86_64 Linux (newest first).
    glibc = [f"manylinux_2_{n}_x86_64" for n in range(28, 16, -1)]
    plats = platforms or {"linux": [*glibc, "manylinux2014_x86_64", "linux_x86_64"],
                          "win32": ["win_amd64"], "darwin": ["macosx_14_0_arm64"]}[os]
    return Interpreter("python", (*py, 0), "cpython", os, machine, False, "25.0", "/venv",
                       tags_for(py, False, plats), cross=True)


def nvidia(driver: str | None, *archs: str, backend: str | None = None) -> Hardware:
    ov = Overrides(driver, tuple(parse_gpu_arch(a) for a in archs), backend)
    return apply_overrides(Hardware(), ov)


def run(torch_dir: Path, hw: Hardware, *reqs: str, interp: Interpreter | None = None,
        kn: Knowledge = KN, channel: str = "stable") -> Plan:
    source = MemoryIndex(torch_dir, channel)
    requests = [Request(Requirement(r), "command line") for r in reqs]
    return plan(requests, hw=hw, interp=interp or linux(), kn=kn, source=source,
                variant_url=source.variant_url, prereleases=channel != "stable")


def versions(p: Plan) -> dict[str, str]:
    return {pkg.name: pkg.version for pkg in p.packages}


@pytest.mark.parametrize(("hw", "reqs", "variant", "torch"), [
    (nvidia("580.159.04", "9.0"), ("torch",), "cu130", "2.15.0+cu130"),
    (nvidia("550.54.14", "8.6"), ("torch",), "cu126", "2.15.0+cu126"),
    (nvidia("570.86.10", "sm_120"), ("torch", "torchvision"), "cu128", "2.11.0+cu128"),
    (nvidia("470.82.01", "8.6"), ("torch",), "cu118", "2.7.1+cu118"),
    (nvidia("570.86.10", "sm_120"), ("torch==2.7.1",), "cu128", "2.7.1+cu128"),
    (Hardware(), ("torch", "torchvision"), "cpu", None),
    (Hardware(), ("torchvision==0.20.1",), "cpu", "2.5.1+cpu"),
], ids=["h100-580", "ampere-550", "rtx5090-570", "driver-470", "blackwell-pin", "no-gpu",
        "companion-brings-torch"])
def test_chooses(torch_dir: Path, hw: Hardware, reqs: tuple[str, ...], variant: str,
                 torch: str | None) -> None:
    p = run(torch_dir, hw, *reqs)
    assert p.variant == variant
    got = versions(p)
    if torch is not None:
        assert got["torch"] == torch
    assert all(v.endswith("+" + variant) for n, v in got.items() if n.startswith("torch"))
    assert all(pkg.sha256 and len(pkg.sha256) == 64 for pkg in p.packages)
    assert p.index_url == f"https://download.pytorch.org/whl/{variant}"


def test_minor_version_compatibility_warns_and_says_why_cu130_is_out(torch_dir: Path) -> None:
    p = run(torch_dir, nvidia("550.54.14", "8.6"), "torch")
    assert any("minor-version compatibility" in w for w in p.warnings)
    assert any(r.variant == "cu130" and "580" in r.reason for r in p.rejected)


def test_rtx5090_rejections_give_their_true_reasons(torch_dir: Path) -> None:
    p = run(torch_dir, nvidia("570.86.10", "sm_120"), "torch", "torchvision")
    reasons = {r.variant: r.reason for r in p.rejected if r.version == "2.15.0"}
    assert "sm_120" in reasons["cu126"] and "580" in reasons["cu130"]
    assert any("2.15.0 exists but was not chosen" in w for w in p.warnings)


def test_blackwell_with_an_old_pin_names_the_first_release(torch_dir: Path) -> None:
    with pytest.raises(NoMatchingBuild) as err:
        run(torch_dir, nvidia(None, "sm_120"), "torch==2.6.0")
    assert "no 2.6.0 build has kernels for sm_120 (Blackwell)" in err.value.message
    assert "2.7.0" in err.value.message


def test_forced_backend_wins_and_warns(torch_dir: Path) -> None:
    p = run(torch_dir, nvidia("570.86.10", "sm_120", backend="cu126"), "torch")
    assert p.variant == "cu126" and any("sm_120" in w for w in p.warnings)


def test_a_local_label_forces_its_variant(torch_dir: Path) -> None:
    p = run(torch_dir, Hardware(), "torch==2.5.1+cu124")
    assert p.variant == "cu124" and versions(p)["torch"] == "2.5.1+cu124"


def test_a_forced_variant_that_does_not_exist(torch_dir: Path) -> None:
    with pytest.raises(NoMatchingBuild, match="cu999"):
        run(torch_dir, nvidia(None, backend="cu999"), "torch")


def test_python_too_new_for_a_pin(torch_dir: Path) -> None:
    with pytest.raises(NoMatchingBuild) as err:
        run(torch_dir, Hardware(), "torch==1.13.1", interp=linux((3, 11)))
    assert "1.13.1 has wheels for Python 3.7–3.10" in err.value.message
    assert "2.0.0 is the first with Python 3.11" in err.value.message


def test_conflicting_companion_pins_name_the_edge(torch_dir: Path) -> None:
    with pytest.raises(NoMatchingBuild, match=r"torch==2\.5\.1"):
        run(torch_dir, Hardware(), "torchvision==0.20.1", "torch==2.6.0")


def test_amd_gets_a_rocm_build_that_lists_its_gfx(torch_dir: Path) -> None:
    hw = apply_overrides(Hardware(), Overrides(None, ("gfx1100",), None))
    p = run(torch_dir, hw, "torch")
    assert p.variant.startswith("rocm") and versions(p)["torch"].endswith("+" + p.variant)


def test_macos_takes_the_cpu_pages(torch_dir: Path) -> None:
    p = run(torch_dir, Hardware(os="darwin", machine="arm64"), "torch",
            interp=linux(os="darwin", machine="arm64"))
    assert p.variant == "cpu"


def test_a_url_without_torch_pages_is_not_a_torch_index(tmp_path: Path) -> None:
    (tmp_path / "cpu").mkdir()
    with pytest.raises(IndexUnavailable, match="holds no torch page"):
        run(tmp_path, Hardware(), "torch")


def test_each_page_is_asked_for_once_per_variant(torch_dir: Path) -> None:
    source = MemoryIndex(torch_dir)
    plan([Request(Requirement("torch"), "cli"), Request(Requirement("torchvision"), "cli")],
         hw=nvidia("580.159.04", "9.0"), interp=linux(), kn=KN, source=source)
    assert source.asked[("cu130", "torch")] >= 1
    assert source.metadata_reads <= 12  # only the candidates tried, never every wheel


def test_rocm_unknown_arch_list_is_a_note_not_a_refusal(torch_dir: Path) -> None:
    hw = Hardware("amd", gpus=(Gpu("amd", "Radeon", "gfx9999"),))
    with pytest.raises(NoMatchingBuild):
        run(torch_dir, hw, "torch")


def test_each_variant_that_lost_says_its_true_reason(torch_dir: Path) -> None:
    # H100 on 580: cu130 fully supported; cu132 only under minor-version compatibility;
    # cu126/cu128 give the same torch with an older CUDA.
    p = run(torch_dir, nvidia("580.159.04", "9.0"), "torch")
    lost = {r.variant: r.reason for r in p.rejected if r.version == "2.15.0"}
    assert "minor-version compatibility" in lost["cu132"]
    assert "CUDA 12.6" in lost["cu126"] and "older than cu130" in lost["cu126"]
    assert not any("is preferred" in r for r in lost.values())


def test_a_gpu_without_its_driver_plans_cpu_and_names_the_driver(torch_dir: Path) -> None:
    from pipguard.hardware import NO_DRIVER, NOT_EXPOSED, UnusableGpu

    seen = Gpu("nvidia", "NVIDIA GPU [10de:2684]", None, "0000:01:00.0")
    hw = Hardware(unusable=(UnusableGpu(seen, NO_DRIVER, "no driver loaded", "10de:2684"),))
    p = run(torch_dir, hw, "torch")
    assert p.variant == "cpu"
    [w] = p.warnings
    assert "NVIDIA GPU [10de:2684] at 0000:01:00.0: no driver loaded" in w
    assert "cpu build" in w and "install the NVIDIA driver" in w
    # Named target hardware (Docker builds): this machine's GPUs are not the point.
    assert run(torch_dir, apply_overrides(hw, Overrides(torch_backend="cpu")), "torch"
               ).warnings == ()
    # Driver on the host, no device nodes here: plan for the GPU, and say how to reach it.
    gpu = Gpu("nvidia", "NVIDIA H100 80GB HBM3", "9.0", "0000:00:06.0")
    hw = Hardware("nvidia", "580.159.04", (gpu,), unusable=(
        UnusableGpu(gpu, NOT_EXPOSED, "driver 580.159.04 is loaded on the host, but this "
                    "container has no /dev/nvidiactl"),))
    p = run(torch_dir, hw, "torch")
    assert p.variant == "cu130"
    assert any("targets it anyway" in w and "--gpus all" in w for w in p.warnings)
