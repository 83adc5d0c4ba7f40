"""The knowledge tables: lookups checked against the reference notes and the H100 recording."""

from __future__ import annotations

import ast
import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from pipguard.errors import UsageError
from pipguard.knowledge import ArchList, Knowledge, covers, needs_ptx_jit
from pipguard.knowledge_tables import CONFIDENCES, load_knowledge
from pipguard.lifecycle import ModuleChange, Retired
from pipguard.options import settings
from pipguard.pipargs import parse
from pipguard.platforms import platform_of
from pipguard.session import load_tables
from pipguard.variants import variant_kind

V = Version
LX, LA, WIN = "linux_x86_64", "linux_aarch64", "windows"
H100 = Path(__file__).parent / "fixtures" / "hardware" / "linux-h100-driver580"
FACTS = Path(__file__).resolve().parents[1] / "pipguard" / "data" / "facts.json"


@pytest.fixture(scope="module")
def kn() -> Knowledge:
    return load_knowledge()


def cuda_variants_covering(kn: Knowledge, torch: str, cc: tuple[int, int],
                           platform: str) -> list[str]:  # fmt: skip
    out = []
    for variant in kn.variants_for(V(torch), platform):
        arch = kn.arch_list(V(torch), variant, platform)
        if arch is not None and covers(arch, cc):
            out.append(variant)
    return out


def write(tmp_path: Path, data: Any, name: str = "user.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# ---------------------------------------------------------------- the data file itself


def test_packaged_tables_are_well_formed() -> None:
    data = json.loads(FACTS.read_text(encoding="utf-8"))
    assert data["schema"] == 1
    for table in ("releases", "companions", "toolkits", "toolkit_driver", "arch", "rocm_archs",
                  "cuda_builds", "retired", "modules"):
        for key, row in data[table].items():
            assert row.get("confidence", "high") in CONFIDENCES, (table, key)
            assert "source" in row, (table, key)
            assert set(row["source"]) <= set(data["sources"]), (table, key)


def test_every_arch_row_matches_a_published_variant(kn: Knowledge) -> None:
    published = {(p, v.name, str(r.minor)) for r in kn.releases for v in r.variants
                 for p in v.platforms}  # fmt: skip
    for key in kn.arch:
        assert key in published, key


def test_every_published_cuda_variant_has_an_arch_row(kn: Knowledge) -> None:
    for r in kn.releases:
        if r.confidence == "uncertain":  # 2.14: an RC at the facts' date; falls back instead
            continue
        for v in r.variants:
            if variant_kind(v.name) != "cuda":
                continue
            for platform in v.platforms:
                assert (platform, v.name, str(r.minor)) in kn.arch, (platform, v.name, r.minor)


def test_every_variant_has_a_toolkit_and_rocm_list(kn: Knowledge) -> None:
    for variant in kn.known_variants():
        if variant_kind(variant) == "cuda":
            assert variant in kn.toolkits
        elif variant_kind(variant) == "rocm":
            assert kn.rocm_archs(variant), variant
        else:
            assert variant in ("cpu", "xpu")


def test_knowledge_is_frozen_and_cached(kn: Knowledge) -> None:
    assert load_knowledge() is kn
    with pytest.raises(dataclasses.FrozenInstanceError):
        kn.date = "x"  # type: ignore[misc]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", kn.facts_date())


# ---------------------------------------------------------------- releases and variants


def test_known_variants(kn: Knowledge) -> None:
    known = kn.known_variants()
    cuda = [v for v in known if v.startswith("cu")]
    assert cuda == ["cu116", "cu117", "cu118", "cu121", "cu124", "cu126", "cu128", "cu129",
                    "cu130", "cu132"]  # fmt: skip
    assert {"rocm5.4.2", "rocm6.2.4", "rocm6.4", "rocm7.2", "cpu", "xpu"} <= set(known)
    assert known[-2:] == ("cpu", "xpu")


def test_variants_for(kn: Knowledge) -> None:
    assert kn.variants_for(V("2.11.0"))[:4] == ("cu126", "cu128", "cu129", "cu130")
    assert "cu118" in kn.variants_for(V("2.7.1")) and "cu118" not in kn.variants_for(V("2.8.0"))
    assert "cu128" not in kn.variants_for(V("2.12.0"))
    # cu129 came back with 2.12.1 only, Linux-only
    assert "cu129" not in kn.variants_for(V("2.12.0"))
    assert "cu129" in kn.variants_for(V("2.12.1"), LX)
    assert "cu129" not in kn.variants_for(V("2.12.1"), WIN)
    assert "rocm5.6" in kn.variants_for(V("2.2.0")) and "rocm5.7" not in kn.variants_for(V("2.2.0"))
    assert "rocm5.7" in kn.variants_for(V("2.2.2+rocm5.7"))
    assert kn.variants_for(V("2.7.0"), LA) == ("cu128", "cpu")
    assert kn.variants_for(V("2.3.0"), "macos_x86_64") == ()
    assert kn.variants_for(V("2.2.2"), "macos_x86_64") == ("cpu",)
    assert not any(v.startswith("rocm") for v in kn.variants_for(V("2.11.0"), WIN))


def test_release_newer_than_the_tables(kn: Knowledge) -> None:
    assert not kn.is_known_release(V("2.15.0"))
    assert kn.is_known_release(V("2.14.0")) and kn.release_confidence(V("2.14.0")) == "uncertain"
    assert kn.release_confidence(V("2.11.0")) == "high"
    assert kn.variants_for(V("2.15.0")) == kn.variants_for(V("2.14.0"))
    assert "cu130" in kn.variants_for(V("3.0.0"))
    assert kn.variants_for(V("1.12.1")) == ()
    assert kn.newest_release() == V("2.14.0")


def test_pypi_builds(kn: Knowledge) -> None:
    assert kn.pypi_variant(V("2.10.0"), LX) == "cu128"
    assert kn.pypi_variant(V("2.11.0"), LX) == "cu130"
    assert kn.pypi_variant(V("2.10.0"), LA) == "cpu"
    assert kn.pypi_variant(V("2.11.0"), LA) == "cu130"
    assert kn.pypi_variant(V("2.11.0"), WIN) == "cpu"
    assert kn.last_release_for_platform("macos_x86_64") == V("2.2.2")


# ---------------------------------------------------------------- Python tags


def test_python_tags(kn: Knowledge) -> None:
    assert kn.python_tags(V("1.13.1")) == ("cp37", "cp38", "cp39", "cp310")
    assert "cp313" in kn.python_tags(V("2.5.1"), LX)  # type: ignore[operator]
    assert "cp313" not in kn.python_tags(V("2.5.1"), WIN)  # type: ignore[operator]
    assert "cp313t" in kn.python_tags(V("2.11.0"))  # type: ignore[operator]
    assert "cp313t" not in kn.python_tags(V("2.12.1"))  # type: ignore[operator]
    assert "cp315" in kn.python_tags(V("2.13.0"), LX)  # type: ignore[operator]
    assert "cp315" not in kn.python_tags(V("2.13.0"), WIN)  # type: ignore[operator]
    assert kn.python_tags(V("2.15.0")) is None


def test_python_first_and_last(kn: Knowledge) -> None:
    assert kn.first_release_for_python("cp311") == V("2.0.0")
    assert kn.first_release_for_python("cp314") == V("2.9.0")
    assert kn.first_release_for_python("cp313t") == V("2.6.0")
    assert kn.last_release_for_python("cp37") == V("1.13.1")
    assert kn.last_release_for_python("cp38") == V("2.4.1")
    assert kn.last_release_for_python("cp39") == V("2.8.0")
    assert kn.first_release_for_python("cp36") is None
    assert kn.last_release_for_python("cp36") is None


# ---------------------------------------------------------------- companions, numpy, typing


def test_companions(kn: Knowledge) -> None:
    assert kn.companions(V("2.11.0+cu130")) == {
        "torchvision": "0.26.0", "torchaudio": "2.11.0", "triton": "3.6.0"}  # fmt: skip
    assert kn.companions(V("2.0.0"))["torchvision"] == "0.15.1"  # the pip pairing, not conda's
    assert kn.companions(V("1.13.1")) == {"torchvision": "0.14.1", "torchaudio": "0.13.1"}
    assert kn.companions(V("2.12.1"))["torchaudio"] == "2.11.0"  # no torchaudio 2.12
    assert kn.companions(V("2.15.0")) == {}
    assert kn.torch_for_companion("torchvision", V("0.20.1")) == V("2.5.1")
    assert kn.torch_for_companion("TorchVision", V("0.26.0+cu130")) is None  # local label counts
    assert kn.torch_for_companion("torchaudio", V("2.11.0")) == V("2.11.0")
    assert kn.torch_for_companion("triton", V("3.7.1")) == V("2.12.1")
    assert kn.torch_for_companion("torchvision", V("9.9.9")) is None


def test_the_h100_recording_agrees_with_the_companion_table(kn: Knowledge) -> None:
    lines = (H100 / "pip-list-torch.txt").read_text().splitlines()
    listed = dict(line.split()[:2] for line in lines)
    expected = kn.companions(V(listed["torch"]))
    assert {k: listed[k] for k in expected} == expected


@pytest.mark.parametrize(("torch", "os", "ok"), [
    ("2.2.2", "linux", False), ("1.13.1", "win32", False), ("2.3.0", "linux", True),
    ("2.4.0", "win32", False), ("2.4.0+cpu", "win32", False), ("2.4.0", "linux", True),
    ("2.4.1", "win32", True), ("2.11.0", "darwin", True),
])  # fmt: skip
def test_numpy2(kn: Knowledge, torch: str, os: str, ok: bool) -> None:
    assert kn.numpy2_compatible(V(torch), os) is ok


def test_min_typing_extensions(kn: Knowledge) -> None:
    assert kn.min_typing_extensions(V("2.1.2")) is None
    assert kn.min_typing_extensions(V("2.2.0")) == V("4.8.0")
    assert kn.min_typing_extensions(V("2.5.1")) == V("4.8.0")
    assert kn.min_typing_extensions(V("2.6.0")) == V("4.10.0")
    assert kn.min_typing_extensions(V("2.15.0")) == V("4.10.0")
    assert kn.min_typing_extensions(V("1.0.0")) is None


# ---------------------------------------------------------------- CUDA toolkits and drivers


def test_cuda_version(kn: Knowledge) -> None:
    assert kn.cuda_version("cu128", V("2.7.1")) == V("12.8.0")
    assert kn.cuda_version("cu128", V("2.8.0")) == V("12.8.1")
    assert kn.cuda_version("cu128", V("2.11.0+cu128")) == V("12.8.1")
    assert kn.cuda_version("cu130", V("2.9.0")) == V("13.0.0")
    assert kn.cuda_version("cu130", V("2.11.0")) == V("13.0.2")
    assert kn.cuda_version("cu130", V("2.13.0")) == V("13.0.3")
    assert kn.cuda_version("cu126", None) == V("12.6.3")
    assert kn.cuda_version("cu133", None) == V("13.3")
    assert kn.cuda_version("cu92", V("1.7.0")) == V("9.2")
    for other in ("cpu", "xpu", "rocm6.4", "bogus"):
        assert kn.cuda_version(other, None) is None


def test_toolkit_min_driver(kn: Knowledge) -> None:
    assert kn.toolkit_min_driver(V("12.8.1"), "linux") == V("570.124.06")
    assert str(kn.toolkit_min_driver(V("12.8.1"), "linux")) == "570.124.06"  # zeros kept
    assert kn.toolkit_min_driver(V("12.8.0"), "linux") == V("570.26")
    assert kn.toolkit_min_driver(V("12.8"), "win32") == V("570.65")
    assert kn.toolkit_min_driver(V("12.8.1"), "win32") == V("572.61")
    assert kn.toolkit_min_driver(V("12.6.3"), "linux") == V("560.35.05")
    assert kn.toolkit_min_driver(V("11.8.0"), "win32") == V("520.06")
    assert kn.toolkit_min_driver(V("13.0.0"), "linux") == V("580.65.06")
    assert kn.toolkit_min_driver(V("13.0.0"), "win32") is None  # N/A in NVIDIA's table
    # 13.0 Update 3 has no row: the newest earlier update is a lower bound
    assert kn.toolkit_min_driver(V("13.0.3"), "linux") == V("580.95.05")
    assert kn.toolkit_min_driver(V("13.2.1"), "linux") is None  # newer than the table
    assert kn.toolkit_min_driver(V("12.7.0"), "linux") is None  # no such toolkit
    assert kn.toolkit_min_driver(V("12.8.1"), "darwin") is None


def test_every_exact_toolkit_has_a_driver_row_or_is_flagged(kn: Knowledge) -> None:
    for variant, (cuda, by_minor) in kn.toolkits.items():
        for exact in (cuda, *by_minor.values()):
            driver = kn.toolkit_min_driver(exact, "linux")
            assert driver is not None or variant == "cu132", (variant, exact)


def test_compat_floor(kn: Knowledge) -> None:
    assert kn.compat_floor(11, "linux") == V("450.80.02")
    assert kn.compat_floor(11, "win32") == V("452.39")
    assert kn.compat_floor(12, "linux") == V("525.60.13")
    assert kn.compat_floor(12, "win32") == V("527.41")
    assert kn.compat_floor(13, "linux") == V("580")
    assert kn.compat_floor(13, "win32") == V("580")
    assert kn.compat_floor(14, "linux") is None


def test_driver_cuda_api(kn: Knowledge) -> None:
    # the H100 recording: driver 580.159.04, cuDriverGetVersion 13000
    driver = (H100 / "root/sys/module/nvidia/version").read_text().strip()
    api = re.search(r"cuDriverGetVersion\D*(\d+)", (H100 / "libcuda-driver.txt").read_text())
    assert api is not None
    expected = V(f"{int(api.group(1)) // 1000}.{int(api.group(1)) % 1000 // 10}")
    assert kn.driver_cuda_api(V(driver), "linux") == expected == V("13.0")
    assert kn.driver_cuda_api(V("570.86.10"), "linux") == V("12.8")
    assert kn.driver_cuda_api(V("570.124.06"), "linux") == V("12.8")
    assert kn.driver_cuda_api(V("590.48.01"), "linux") == V("13.1")
    assert kn.driver_cuda_api(V("525.60.13"), "linux") == V("12.0")
    assert kn.driver_cuda_api(V("572.61"), "win32") == V("12.8")
    assert kn.driver_cuda_api(V("581.15"), "win32") == V("13.0")  # the CUDA 13 floor
    assert kn.driver_cuda_api(V("450.80.02"), "linux") == V("11.0")
    assert kn.driver_cuda_api(V("418.0"), "linux") is None


# ---------------------------------------------------------------- GPU architectures


def test_h100_recording_matches_the_2_11_cu130_row(kn: Knowledge) -> None:
    text = (H100 / "torch-info.txt").read_text()
    listed = ast.literal_eval(re.search(r"arch_list (\[.*\])", text).group(1))  # type: ignore[union-attr]
    recorded = tuple(sorted(divmod(int(a[3:]), 10) for a in listed))
    arch = kn.arch_list(V("2.11.0+cu130"), "cu130", LX)
    assert arch is not None
    assert arch.cubins == recorded
    assert arch.ptx == ()  # no compute_XX entry
    assert arch.confidence == "high" and arch.note is None  # provenance is not a caveat
    later = kn.arch_list(V("2.12.0"), "cu130", LX)
    assert later is not None and later.confidence == "medium" and "PTX" in (later.note or "")
    assert covers(arch, (9, 0)) and not needs_ptx_jit(arch, (9, 0))


def test_pascal_only_cu126_from_2_8(kn: Knowledge) -> None:
    for minor in range(8, 14):
        for cc in ((6, 0), (6, 1), (5, 2)):
            assert cuda_variants_covering(kn, f"2.{minor}.0", cc, LX) == ["cu126"], (minor, cc)
            assert cuda_variants_covering(kn, f"2.{minor}.0", cc, WIN) == ["cu126"], (minor, cc)
    assert "cu118" in cuda_variants_covering(kn, "2.7.0", (6, 1), LX)
    assert kn.last_release_with_cc((6, 1), LX) == (V("2.13.0"), "cu126")
    assert kn.first_release_with_cc((6, 1), LX) == (V("1.13.0"), "cu116")


def test_volta_removed_from_cu128_in_2_11(kn: Knowledge) -> None:
    assert "cu128" not in cuda_variants_covering(kn, "2.7.0", (7, 0), LX)
    assert "cu128" in cuda_variants_covering(kn, "2.10.0", (7, 0), LX)
    assert cuda_variants_covering(kn, "2.11.0", (7, 0), LX) == ["cu126"]
    assert kn.last_release_with_cc((7, 0), LX) == (V("2.13.0"), "cu126")


def test_blackwell_first_in_2_7_cu128(kn: Knowledge) -> None:
    for cc in ((12, 0), (10, 0), (12, 1), (10, 3)):
        assert kn.first_release_with_cc(cc, LX) == (V("2.7.0"), "cu128"), cc
        assert kn.first_release_with_cc(cc, WIN) == (V("2.7.0"), "cu128"), cc
    assert cuda_variants_covering(kn, "2.7.0", (12, 0), LX) == ["cu128"]
    assert "cu126" not in cuda_variants_covering(kn, "2.13.0", (12, 0), LX)
    arch = kn.arch_list(V("2.7.0"), "cu128", LX)
    assert arch is not None and arch.ptx == ((12, 0),)  # the 2.7 cu128 build had compute_120
    first = kn.first_release_with_cc((11, 0), LA)  # Thor: CUDA 13 aarch64 builds only
    assert first is not None and first[1] == "cu130"


def test_minor_compatible_cubins(kn: Knowledge) -> None:
    arch = kn.arch_list(V("2.5.1"), "cu121", LX)
    assert arch is not None and (8, 9) not in arch.cubins
    assert covers(arch, (8, 9)) and not needs_ptx_jit(arch, (8, 9))  # Ada runs sm_86
    assert not covers(arch, (10, 0))
    blackwell = kn.arch_list(V("2.11.0"), "cu130", LX)
    assert blackwell is not None and covers(blackwell, (12, 1))  # GB10 runs sm_120
    assert not covers(blackwell, (7, 0))


def test_arch_list_for_a_newer_release(kn: Knowledge) -> None:
    newest = kn.arch_list(V("2.13.0"), "cu130", LX)
    assumed = kn.arch_list(V("2.15.0"), "cu130", LX)
    assert newest is not None and assumed is not None
    assert (assumed.cubins, assumed.ptx) == (newest.cubins, newest.ptx)
    assert assumed.note == "tables end at 2.13; assumed same as 2.13"
    assert assumed.confidence == "medium"  # its own variant's newest row: a good guess
    gone = kn.arch_list(V("2.12.0"), "cu128", LX)  # cu128 ended with 2.11
    assert gone is not None and "tables end at 2.11" in (gone.note or "")
    assert kn.arch_list(V("2.6.0"), "cu128", LX) is None  # before cu128 existed
    assert kn.arch_list(V("2.8.0"), "cu128", LA) is None  # 2.8 had only cu129 on aarch64


def test_arch_list_for_an_unknown_variant(kn: Knowledge) -> None:
    arch = kn.arch_list(V("2.15.0"), "cu133", LX)
    cu132 = kn.arch_list(V("2.13.0"), "cu132", LX)
    assert arch is not None and cu132 is not None
    assert arch.cubins == cu132.cubins and arch.confidence == "uncertain"
    assert arch.note and "cu133" in arch.note and "cu132" in arch.note
    same_release = kn.arch_list(V("2.11.0"), "cu133", LX)
    assert same_release is not None and same_release.note and "cu130" in same_release.note
    windows = kn.arch_list(V("2.15.0"), "cu133", WIN)
    assert windows is not None and windows.ptx == ()
    assert kn.arch_list(V("2.11.0"), "cu999", LX) is None  # no row of CUDA major 99


def test_arch_list_for_non_cuda(kn: Knowledge) -> None:
    for variant in ("cpu", "xpu", "rocm6.4"):
        assert kn.arch_list(V("2.11.0"), variant, LX) is None
    assert kn.arch_list(V("2.11.0"), "cu130", "macos_arm64") is None


def test_rocm_archs(kn: Knowledge) -> None:
    archs = kn.rocm_archs("rocm6.4")
    assert archs is not None and {"gfx90a", "gfx942", "gfx1100"} <= set(archs)
    assert "gfx1201" in (kn.rocm_archs("rocm7.2") or ())
    assert kn.rocm_archs("rocm9.9") is None
    assert kn.rocm_archs("cu130") is None


@pytest.mark.parametrize(("cc", "name"), [
    ((6, 1), "Pascal"), ((7, 0), "Volta"), ((7, 5), "Turing"), ((8, 0), "Ampere"),
    ((8, 6), "Ampere"), ((8, 9), "Ada"), ((9, 0), "Hopper"), ((10, 0), "Blackwell"),
    ((12, 1), "Blackwell"), ((3, 7), "Kepler"), ((42, 1), "sm_421"),
])  # fmt: skip
def test_gpu_family_name(kn: Knowledge, cc: tuple[int, int], name: str) -> None:
    assert kn.gpu_family_name(cc) == name


def test_covers_and_ptx_jit() -> None:
    arch = ArchList(((8, 0), (8, 6), (9, 0)), ((9, 0),), "high")
    assert covers(arch, (8, 0)) and covers(arch, (8, 7)) and covers(arch, (9, 0))
    assert not needs_ptx_jit(arch, (8, 9))
    assert covers(arch, (12, 0)) and needs_ptx_jit(arch, (12, 0))  # PTX JIT for newer GPUs
    assert not covers(arch, (7, 5))  # PTX and cubins never run on older GPUs
    no_ptx = ArchList(((8, 6),), (), "high")
    assert not covers(no_ptx, (8, 0))  # sm_86 does not run on 8.0
    assert not covers(no_ptx, (9, 0)) and not needs_ptx_jit(no_ptx, (9, 0))


ccs = st.tuples(st.integers(3, 13), st.integers(0, 9))


@given(cubins=st.lists(ccs, max_size=6), ptx=st.lists(ccs, max_size=2), cc=ccs)
def test_covers_properties(cubins: list[tuple[int, int]], ptx: list[tuple[int, int]],
                           cc: tuple[int, int]) -> None:  # fmt: skip
    arch = ArchList(tuple(sorted(cubins)), tuple(sorted(ptx)), "high")
    if needs_ptx_jit(arch, cc):
        assert covers(arch, cc)
    if covers(arch, cc):  # a newer minor of the same major is covered too
        assert covers(arch, (cc[0], cc[1] + 1))
    if cc in cubins:
        assert covers(arch, cc) and not needs_ptx_jit(arch, cc)


# ---------------------------------------------------------------- packages


def test_family(kn: Knowledge) -> None:
    fam = kn.family()
    assert {"torch", "torchvision", "torchaudio", "triton", "pytorch-triton", "xformers",
            "torchao", "fbgemm-gpu", "fbgemm-gpu-genai", "flash-attn-3", "torch-tensorrt",
            "executorch", "torchcodec", "torchtune", "triton-rocm"} <= fam  # fmt: skip
    assert not {"numpy", "pillow", "sympy", "typing-extensions", "nvidia-cublas-cu12"} & fam
    assert kn.index_only() == {"pytorch-triton", "pytorch-triton-rocm", "pytorch-triton-xpu",
                               "torchtriton"}  # fmt: skip
    assert kn.index_only() <= fam


def test_cuda_major_of_nvidia_lib(kn: Knowledge) -> None:
    assert kn.cuda_major_of_nvidia_lib("nvidia-cublas-cu12") == 12
    assert kn.cuda_major_of_nvidia_lib("nvidia_cudnn_cu11") == 11
    assert kn.cuda_major_of_nvidia_lib("nvidia-cublas") == 13
    assert kn.cuda_major_of_nvidia_lib("nvidia-ml-py") is None
    assert kn.cuda_major_of_nvidia_lib("numpy") is None
    # every CUDA library torch 2.11+cu130 pulled in on the H100 is recognised as CUDA 13
    names = [line.split()[0] for line in (H100 / "pip-list-torch.txt").read_text().splitlines()]
    libs = [n for n in names if n.startswith("nvidia-") and n != "nvidia-ml-py"]
    assert libs and all(kn.cuda_major_of_nvidia_lib(n) == 13 for n in libs), libs


@pytest.mark.parametrize(("os", "machine", "platform"), [
    ("linux", "x86_64", LX), ("linux", "aarch64", LA), ("Linux", "arm64", LA),
    ("win32", "AMD64", WIN), ("Windows", "x86_64", WIN), ("win32", "ARM64", "windows_arm64"),
    ("darwin", "arm64", "macos_arm64"), ("Darwin", "x86_64", "macos_x86_64"),
    ("linux", "ppc64le", "linux_ppc64le"),
])  # fmt: skip
def test_platform_of(kn: Knowledge, os: str, machine: str, platform: str) -> None:
    assert platform_of(os, machine) == platform
    assert platform_of(os, machine) == platform


# ---------------------------------------------------------------- user file


def test_user_file_replaces_and_adds_rows(kn: Knowledge, tmp_path: Path) -> None:
    user = {
        "facts_date": "2027-01-01",
        "arch": {
            "linux_x86_64|cu130|2.11": {"cubins": ["8.0", "9.0"], "ptx": ["9.0"],
                                        "confidence": "medium", "source": ["me"]},
            "linux_x86_64|cu130|2.15": {"cubins": ["9.0", "10.0"], "ptx": []},
        },
        "releases": {"2.15": {"python": ["cp311", "cp315"], "variants": {
            "cu130": {"platforms": [LX]}, "cu133": {"platforms": [LX]}}}},
        "companions": {"2.15.0": {"torchvision": "0.30.0"}},
        "toolkits": {"cu133": {"cuda": "13.3.0"}},
    }  # fmt: skip
    mine = load_knowledge(write(tmp_path, user))
    arch = mine.arch_list(V("2.11.0"), "cu130", LX)
    assert arch == ArchList(((8, 0), (9, 0)), ((9, 0),), "medium", None, ("me",))
    assert mine.arch_list(V("2.15.0"), "cu130", LX).cubins == ((9, 0), (10, 0))  # type: ignore[union-attr]
    assert mine.arch_list(V("2.10.0"), "cu130", LX) == kn.arch_list(V("2.10.0"), "cu130", LX)
    assert mine.is_known_release(V("2.15.0")) and mine.newest_release() == V("2.15.0")
    assert mine.variants_for(V("2.15.1")) == ("cu130", "cu133")
    assert mine.python_tags(V("2.15.0")) == ("cp311", "cp315")
    assert mine.companions(V("2.15.0")) == {"torchvision": "0.30.0"}
    assert mine.cuda_version("cu133", V("2.15.0")) == V("13.3.0")
    assert "cu133" in mine.known_variants()
    assert mine.facts_date() == "2027-01-01"
    # the packaged tables are untouched
    assert kn.arch_list(V("2.11.0"), "cu130", LX).ptx == ()  # type: ignore[union-attr]
    assert load_knowledge().facts_date() == kn.facts_date() != "2027-01-01"


def test_user_file_null_deletes_a_row(tmp_path: Path) -> None:
    mine = load_knowledge(write(tmp_path, {"arch": {"linux_x86_64|cu126|2.13": None},
                                           "family": {"xformers": None}}))  # fmt: skip
    assert mine.arch_list(V("2.13.0"), "cu126", LX) is not None  # now assumed from 2.12
    assert "tables end at 2.12" in (mine.arch_list(V("2.13.0"), "cu126", LX).note or "")  # type: ignore[union-attr]
    assert "xformers" not in mine.family()


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "must hold a JSON object"),
    ('{"arhc": {}}', "unknown knowledge table"),
    ('{"schema": 2}', "schema"),
    ('{"arch": []}', "must be an object of rows"),
    ('{"arch": {"linux_x86_64|cu130|2.11": {"cubins": ["9"], "ptx": []}}}', "malformed"),
    ('{"companions": {"2.11.0": {"torchvision": "0.26.0", "confidence": "low"}}}', "confidence"),
    ('{"releases": {"2.15": {"variants": {"cu130": {}}}}}', "malformed"),
    ('{"toolkit_driver": {"13.3.0": {"linux": "not a version"}}}', "malformed"),
    ('{"cuda_builds": {"x": {"pattern": "x-cu(\\\\d+)", "build": "x{major}"}}}', "group 'major'"),
    ('{"cuda_builds": {"x": {"pattern": "x-cu(?P<major>", "build": "x-cu{major}"}}}', "malformed"),
    ('{"cuda_builds": {"x": {"pattern": "x-cu(?P<major>\\\\d+)", "build": "x{major}{minor}"}}}',
     "only \\{major\\}"),
    ('{"cuda_builds": {"x": {"pattern": "x-cu(?P<major>\\\\d+)", "build": "x{major}", '
     '"majors": "12"}}}',
     "list of integers"),
    ('{"cuda_builds": {"x": {"pattern": "x-cu(?P<major>\\\\d+)", "build": "x{major}", '
     '"same_releases": "no"}}}', "true or false"),
    ('{"retired": {"x": {"last": "two", "instead": "y"}}}', "malformed"),
    ('{"retired": {"x": {"last": "2.8"}}}', "malformed"),  # what replaces it must be said
    ('{"retired": {"x": {"last": "2.8", "instead": " "}}}', "replaces it"),
    ('{"retired": {"x": {"last": 2.8, "instead": "y"}}}', "must be a string"),
    ('{"retired": {"x": {"last": "2.8", "instead": "y", "same_minor": "yes"}}}', "true or false"),
    ('{"retired": {"x": {"last": "2.8", "instead": "y", "indexes": {"xpu": "http://x"}}}}',
     "https URL"),
    ('{"modules": {"torch.x": {"package": "torch", "added": 1.10}}}', "must be a string"),
    ('{"modules": {"torch.x": {"package": "torch"}}}', "added or removed"),
    ('{"modules": {"torch.x": {"added": "1.8"}}}', "malformed"),  # (which package ships it)
    ('{"cpp_api": {"X": {"package": "torch"}}}', "cpp_api row X: give the release"),
    ('{"cpp_api": {"X": {"package": "torch", "removed": 1.5}}}', "must be a string"),
    ('{"cpp_api": {"X": {"package": "torch", "removed": "1.5", "prefixes": "X_"}}}',
     "cpp_api row X: prefixes must be a list"),  # a string would be read letter by letter
    ('{"cpp_api": {"X": {"package": "torch", "removed": "1.5", "prefixes": [""]}}}',
     "non-empty strings"),  # "" would claim every name
])  # fmt: skip
def test_bad_user_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError, match=message) as err:
        load_knowledge(path)
    assert str(path) in err.value.message
    assert err.value.exit_code == 2


def test_missing_user_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read knowledge file"):
        load_knowledge(tmp_path / "nope.json")


def test_the_knowledge_file_setting_is_honoured(kn: Knowledge, tmp_path: Path) -> None:
    var = "PIPGUARD_KNOWLEDGE_FILE"

    def tables(env: dict[str, str], *argv: str) -> Knowledge:
        return load_tables(settings(parse(["plan", *argv]), env))

    assert tables({}) is kn
    assert tables({var: "  "}) is kn
    path = write(tmp_path, {"facts_date": "2030-01-01"})
    assert tables({var: str(path)}).facts_date() == "2030-01-01"
    assert tables({}, "--knowledge-file", str(path)).facts_date() == "2030-01-01"
    with pytest.raises(UsageError):
        tables({var: str(tmp_path / "missing.json")})


def test_a_cuda_builds_row_whose_major_may_be_absent_reads_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, {"cuda_builds": {"x": {"pattern": r"x(?:-cu(?P<major>\d+))?",
                                                  "build": "x-cu{major}", "majors": [12]}}})
    kn = load_knowledge(path)
    assert kn.cuda_build_of("x") is None
    found = kn.cuda_build_of("x-cu12")
    assert found is not None and found[1] == 12


def test_a_retired_library_is_its_last_torch_minor_and_a_user_row_can_add_or_remove_one(
        kn: Knowledge, tmp_path: Path) -> None:
    assert kn.retirement("Intel_Extension_For_PyTorch") == Retired(  # (issue #867; archived)
        Version("2.8"), "torch's own XPU and CPU support", same_minor=True,
        indexes={"xpu": "https://pytorch-extension.intel.com/release-whl/stable/xpu/us/"})
    assert kn.retirement("torchvision") is None
    path = write(tmp_path, {"retired": {"intel-extension-for-pytorch": None,
                                        "torchtext": {"last": "2.3.1", "instead": "nothing"}}})
    mine = load_knowledge(path)
    assert mine.retirement("intel-extension-for-pytorch") is None
    assert mine.retirement("torchtext") == Retired(Version("2.3"), "nothing")  # (a minor: 2.3.*)


def test_a_module_is_the_release_that_added_or_removed_it(kn: Knowledge, tmp_path: Path) -> None:
    assert kn.module_change("torch.fx") == ModuleChange("torch.fx", "torch", added=Version("1.8"))
    gone = kn.module_change("torchvision.transforms.functional_tensor")
    assert gone is not None and gone.removed == Version("0.17") and gone.added is None
    assert kn.module_change("torch") is None
    mine = load_knowledge(write(tmp_path, {"modules": {"torch._six": {
        "package": "torch", "removed": "2.0", "instead": "Python's own modules"}}}))
    assert mine.module_change("torch._six") == ModuleChange(
        "torch._six", "torch", removed=Version("2.0"), instead="Python's own modules")


def test_a_cpp_api_name_is_the_release_that_removed_it(kn: Knowledge, tmp_path: Path) -> None:
    at = kn.cpp_api_change("AT_CHECK")
    assert at is not None and at.removed == Version("1.5") and at.instead == "TORCH_CHECK"
    thc = kn.cpp_api_change("THC")
    assert thc is not None and thc.removed == Version("1.11")
    assert kn.cpp_api_change("TORCH_CHECK") is None and kn.module_change("AT_CHECK") is None
    mine = load_knowledge(write(tmp_path, {"cpp_api": {"AT_CHECK": None}}))
    assert mine.cpp_api_change("AT_CHECK") is None  # a user file deletes a row by key
