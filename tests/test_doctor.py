"""`pipguard doctor`: every category, found in environments really built to have it.

Two layers. The pure :func:`pipguard.doctor.check` is fed constructed
:class:`InstalledDist` values (fast, exact). Then broken environments are built for real:
a virtual environment per scenario (a copy of one template venv, which is much faster than
``python -m venv`` each time), the mismatched builds installed with plain pip from the
imitation indexes, and ``pipguard --python <venv> doctor --json`` run on it with the
hardware given as overrides.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from pipguard import runner
from pipguard.commands.doctor import check
from pipguard.commands.doctor import deep as _deep
from pipguard.doctor_environment import Environment
from pipguard.filecheck import FileProblem
from pipguard.findings import CATEGORIES, Finding
from pipguard.hardware import Gpu, Hardware
from pipguard.installed import InstalledDist
from pipguard.knowledge import Knowledge
from pipguard.knowledge_tables import load_knowledge
from pipguard.verify import DistVerification
from tests.helpers import clean_env, pipguard

KN = load_knowledge()
SITE = "/venv/lib/python3.11/site-packages"
NO_HW = Hardware()


def H(*ccs: str, driver: str | None = "580.95.05") -> Hardware:
    """NVIDIA hardware with GPUs of these compute capabilities."""
    gpus = tuple(Gpu("nvidia", f"GPU sm_{cc.replace('.', '')}", cc) for cc in ccs)
    return Hardware("nvidia", driver, gpus)


def D(name: str, version: str, *requires: str, direct_url: dict[str, Any] | None = None,
      location: str = SITE) -> InstalledDist:
    return InstalledDist(name, version, location, f"{location}/{name}-{version}.dist-info",
                         "pip", True, direct_url, tuple(requires), None)


def torch(version: str, *extra: str) -> InstalledDist:
    """A torch dist with the Requires-Dist the imitation (and real) wheels have."""
    reqs = ["filelock", "typing-extensions>=4.10.0", 'opt-einsum>=3.3; extra == "opt-einsum"',
            *extra]
    return D("torch", version, *reqs)


def env(*dists: InstalledDist, hw: Hardware = NO_HW, os: str = "linux",
        verified: Sequence[DistVerification] = (), urls: tuple[str, ...] = ()) -> Environment:
    base = {d.name: d for d in (D("filelock", "3.16.1"), D("typing-extensions", "4.12.2"))}
    return Environment({**base, **{d.name: d for d in dists}}, verified, hw, os,
                       "AMD64" if os == "win32" else "x86_64", None, urls)


def run(e: Environment, kn: Knowledge = KN) -> list[Finding]:
    return check(e, kn)


def cats(found: Sequence[Finding], severity: str | None = None) -> set[str]:
    return {f.category for f in found if severity is None or f.severity == severity}


def only(found: Sequence[Finding], category: str) -> list[Finding]:
    return [f for f in found if f.category == category]


# --------------------------------------------------------------------------------------------
# check(): pure


def test_a_matching_set_has_no_findings() -> None:
    found = run(env(torch("2.11.0+cu130", "nvidia-cuda-runtime==13.0.96; platform_system == "
                          '"Linux"', 'triton==3.6.0; platform_system == "Linux"'),
                    D("nvidia-cuda-runtime", "13.0.96"), D("triton", "3.6.0"),
                    D("torchvision", "0.26.0+cu130", "torch==2.11.0"), hw=H("9.0")))
    assert found == []


def test_companion_of_another_variant_is_an_error() -> None:
    found = run(env(torch("2.5.1+cu124"), D("torchvision", "0.20.1+cpu", "torch==2.5.1")))
    [f] = only(found, "companion-mismatch")
    assert f.severity == "error" and "+cu124" in f.message and "+cpu" in f.message


def test_unlabeled_companion_is_what_pypi_ships_for_that_platform() -> None:
    # PyPI's torchvision 0.26.0 is the cu130 build on Linux x86_64, the CPU build on Windows.
    tv = D("torchvision", "0.26.0", "torch==2.11.0")
    [f] = only(run(env(torch("2.11.0+cpu"), tv)), "companion-mismatch")
    assert f.severity == "error" and "PyPI (cu130)" in f.message
    assert only(run(env(torch("2.11.0+cpu"), tv, os="win32")), "companion-mismatch") == []
    # The PyPI torch with the index's cu130 torchvision is the same build.
    assert only(run(env(torch("2.11.0"), D("torchvision", "0.26.0+cu130"))),
                "companion-mismatch") == []


def test_same_cuda_major_is_a_warning_and_a_wrong_release_too() -> None:
    [f] = only(run(env(torch("2.11.0+cu128"), D("torchvision", "0.26.0+cu126"))),
               "companion-mismatch")
    assert f.severity == "warning"
    found = only(run(env(torch("2.11.0+cpu"), D("torchaudio", "2.10.0+cpu"))),
                 "companion-mismatch")
    assert [f.severity for f in found] == ["warning"] and "torchaudio 2.11.0" in found[0].message


def test_companion_requires_dist_decides_before_the_tables() -> None:
    found = only(run(env(torch("2.11.0+cpu"), D("torchvision", "0.20.1+cpu", "torch==2.5.1"))),
                 "companion-mismatch")
    assert [f.severity for f in found] == ["error"] and "torch==2.5.1" in found[0].evidence


def test_cpu_build_on_a_usable_gpu_only() -> None:
    [f] = run(env(torch("2.5.1+cpu"), hw=H("9.0")))
    assert (f.category, f.severity) == ("cpu-build-on-gpu", "warning")
    assert run(env(torch("2.5.1+cpu"))) == []  # no GPU
    # Kepler sm_35: no CUDA build of 2.5.1 has kernels for it; CPU is the right build.
    assert run(env(torch("2.5.1+cpu"), hw=H("3.5", driver="470.256.02"))) == []
    # A driver too old for every CUDA build of the release: CPU is right as well.
    assert run(env(torch("2.11.0+cpu"), hw=H("9.0", driver="450.80.02"))) == []
    amd = Hardware("amd", gpus=(Gpu("amd", "Radeon RX 7900", "gfx1100"),))
    assert cats(run(env(torch("2.5.1+cpu"), hw=amd))) == {"cpu-build-on-gpu"}


def test_no_kernels_for_the_gpu() -> None:
    [f] = run(env(torch("2.5.1+cu124"), hw=H("12.0")))
    assert (f.category, f.severity) == ("gpu-arch-unsupported", "error")
    assert "Blackwell" in f.message and "sm_90" in f.evidence
    assert run(env(torch("2.5.1+cu124"), hw=H("8.9"))) == []  # sm_86 cubin runs on 8.9
    amd = Hardware("amd", gpus=(Gpu("amd", "Radeon RX 7900", "gfx1100"),))
    assert cats(run(env(torch("2.5.1+cu124"), hw=amd)), "error") == {"gpu-arch-unsupported"}


def test_driver_below_the_cuda_major_floor() -> None:
    [f] = run(env(torch("2.5.1+cu124"), hw=H("9.0", driver="470.256.02")))
    assert (f.category, f.severity) == ("driver-too-old", "error") and "525.60.13" in f.message
    # Unlabeled: the PyPI build on Linux is cu130, which needs 580.
    found = run(env(torch("2.11.0"), hw=H("9.0", driver="570.86.10")))
    assert cats(found, "error") == {"driver-too-old"}


def test_minor_version_compatibility_is_info_unless_ptx_jit_is_needed() -> None:
    [f] = run(env(torch("2.8.0+cu129"), hw=H("9.0", driver="535.104.05")))
    assert (f.category, f.severity) == ("driver-too-old", "info")
    # A GPU newer than every cubin runs only through compute_120 PTX: that needs the
    # toolkit's own driver, which minor-version compatibility does not give.
    [f] = run(env(torch("2.8.0+cu129"), hw=H("13.0", driver="535.104.05")))
    assert (f.category, f.severity) == ("driver-too-old", "error") and "PTX" in f.message


def test_numpy2_under_a_numpy1_torch() -> None:
    [f] = run(env(torch("2.2.2+cpu"), D("numpy", "2.2.6")))
    assert (f.category, f.severity) == ("numpy-abi", "error")
    assert run(env(torch("2.3.0+cpu"), D("numpy", "2.2.6"))) == []
    assert run(env(torch("2.2.2+cpu"), D("numpy", "1.26.4"))) == []
    # 2.4.0's Windows wheels were the exception; 2.4.1 fixed them.
    assert cats(run(env(torch("2.4.0+cpu"), D("numpy", "2.1.0"), os="win32"))) == {"numpy-abi"}
    assert run(env(torch("2.4.0+cpu"), D("numpy", "2.1.0"))) == []
    assert run(env(torch("2.4.1+cpu"), D("numpy", "2.1.0"), os="win32")) == []


def test_typing_extensions_from_metadata_first_then_tables() -> None:
    [f] = run(env(torch("2.11.0+cpu"), D("typing-extensions", "4.6.0")))
    assert (f.category, f.severity) == ("typing-extensions", "error") and ">=4.10.0" in f.message
    # torch's own Requires-Dist is the truth: a looser bound there wins over the tables.
    loose = D("torch", "2.11.0+cpu", "filelock", "typing-extensions>=4.8.0")
    assert run(env(loose, D("typing-extensions", "4.9.0"))) == []
    # No bound in the metadata: the tables stand in.
    bare = D("torch", "2.11.0+cpu", "filelock", "typing-extensions")
    assert cats(run(env(bare, D("typing-extensions", "4.9.0")))) == {"typing-extensions"}
    missing = env(torch("2.11.0+cpu"))
    missing = Environment({"torch": missing.dists["torch"], "filelock": D("filelock", "3")},
                          (), NO_HW)
    assert cats(run(missing), "error") == {"typing-extensions"}


CU12_RT = 'nvidia-cuda-runtime-cu12==12.4.127; platform_system == "Linux"'


def test_cuda_libraries_missing_wrong_major_and_stray() -> None:
    [f] = run(env(torch("2.5.1+cu124", CU12_RT)))
    assert (f.category, f.severity) == ("cuda-libraries", "error") and "missing" in f.message
    assert "; platform_system" not in f.fix  # the marker already applied
    # The marker keeps it off Windows.
    assert run(env(torch("2.5.1+cu124", CU12_RT), os="win32")) == []
    # Unsuffixed CUDA 13 names: a 12.x version of one is the wrong CUDA major.
    cu13 = torch("2.11.0+cu130", 'nvidia-cublas==13.0.0.19; platform_system == "Linux"')
    [f] = run(env(cu13, D("nvidia-cublas", "12.8.4.1")))
    assert f.severity == "error" and "CUDA 12" in f.message
    [f] = run(env(cu13, D("nvidia-cublas", "13.0.2.14")))
    assert f.severity == "warning"  # same major, not the pinned build
    # A CUDA 12 library beside a cu130 torch: not used, flagged as a warning.
    [f] = run(env(cu13, D("nvidia-cublas", "13.0.0.19"), D("nvidia-cudnn-cu12", "9.1.0.70")))
    assert (f.category, f.severity) == ("cuda-libraries", "warning")
    assert f.message.startswith("nvidia-cudnn-cu12")


def test_intels_extension_beside_a_torch_it_has_no_release_for() -> None:
    # it ended with 2.8 (its issue #867): beside torch 2.9 no release of it fits
    [f] = run(env(torch("2.9.1+xpu"), D("intel-extension-for-pytorch", "2.8.10+xpu")))
    assert (f.category, f.severity) == ("companion-mismatch", "warning")
    assert "torch 2.8" in f.message and "XPU" in f.message
    assert f.fix == "pip uninstall -y intel-extension-for-pytorch"
    assert run(env(torch("2.8.0+xpu"), D("intel-extension-for-pytorch", "2.8.10+xpu"))) == []
    assert run(env(torch("2.9.1"))) == []  # (not installed: nothing to say)
    # beside an older torch, its releases are numbered as torch's: another minor is refused
    [f] = run(env(torch("2.7.1+xpu"), D("intel-extension-for-pytorch", "2.6.10+xpu")))
    assert (f.category, f.severity) == ("companion-mismatch", "warning")
    assert "torch 2.7.1+xpu" in f.message  # its +xpu builds are on Intel's index, not PyPI's
    assert f.fix == ('pipguard install "intel-extension-for-pytorch==2.7.*" --extra-index-url '
                     "https://pytorch-extension.intel.com/release-whl/stable/xpu/us/")
    [f] = run(env(torch("2.7.1+cpu"), D("intel-extension-for-pytorch", "2.6.0+cpu")))
    assert f.fix == 'pipguard install "intel-extension-for-pytorch==2.7.*"'  # (PyPI has it)


def test_two_distributions_writing_one_package_folder() -> None:
    """pytorch-triton-xpu (what torch requires) and triton-xpu both install `triton`: removing
    or upgrading either removes the other's files ('module triton has no attribute language')."""
    xpu = D("torch", "2.8.0+xpu", "pytorch-triton-xpu==3.4.0")
    [f] = run(env(xpu, D("pytorch-triton-xpu", "3.4.0"), D("triton-xpu", "3.4.0")))
    assert (f.category, f.severity) == ("corrupt-install", "warning") and "`triton`" in f.message
    assert f.fix == ("pip uninstall -y triton-xpu && pipguard install --force-reinstall --no-deps "
                     '"pytorch-triton-xpu==3.4.0"')
    # none of them what torch requires: named, not chosen
    cpu = D("torch", "2.8.0", "filelock")
    [f] = run(env(cpu, D("triton", "3.4.0"), D("triton-xpu", "3.4.0")))
    assert f.category == "corrupt-install" and "keep the one your code uses" in f.message
    assert f.fix == ("pip uninstall -y triton-xpu && pipguard install --force-reinstall --no-deps "
                     '"triton==3.4.0"')
    assert "nothing here requires" in run(env(D("triton", "3.4.0"), D("triton-xpu", "3.4.0")))[
        0].message  # (no torch at all)
    assert run(env(xpu, D("pytorch-triton-xpu", "3.4.0"))) == []  # (one owner: nothing)
    # the release torch asks for, not the one installed
    cu = D("torch", "2.5.1+cu124", "triton==3.1.0")
    found = run(env(cu, D("triton", "3.2.0"), D("pytorch-triton", "3.1.0+cf34004b8a")))
    [f] = [f for f in found if f.category == "corrupt-install"]
    assert f.fix.endswith('--no-deps "triton==3.1.0"') and "pytorch-triton" in f.fix
    # in two places (a user site under a venv): no folder is shared (shadowing is another matter)
    user_site = D("triton", "3.1.0", location="/home/u/.local/lib/python3.11/site-packages")
    assert not [f for f in run(env(cu, user_site, D("pytorch-triton", "3.1.0+cf34004b8a")))
                if f.category == "corrupt-install"]
    # torchtriton is the dependency-confusion check's to remove, never one to keep
    nightly = D("torch", "2.0.0.dev20221215+cu117", "torchtriton==2.0.0+0d7e753227")
    found = run(env(nightly, D("torchtriton", "2.0.0+0d7e753227"),
                    D("pytorch-triton", "2.0.0+0d7e753227")))
    assert not any("install the `triton`" in f.message for f in found)
    # the files each one's RECORD says differ where the other wrote last: the shared folder's
    # finding says what to do; the integrity check says nothing more of them
    clash = DistVerification("triton-xpu", "3.4.0", 100, (FileProblem(
        "triton/language/core.py", "changed", "sha256=a", "sha256=b"),), False)
    found = check(Environment({d.name: d for d in (xpu, D("pytorch-triton-xpu", "3.4.0"),
                                                   D("triton-xpu", "3.4.0"))}, (clash,), NO_HW), KN)
    assert [f.severity for f in found if f.category == "corrupt-install"] == ["warning"]


def test_an_orphaned_folder_is_given_the_owner_torch_requires() -> None:
    rocm = D("torch", "2.5.1+rocm6.2", "pytorch-triton-rocm==3.1.0")
    found = run(Environment({"torch": rocm}, (), NO_HW, orphans=(f"{SITE}/triton",)))
    [f] = [f for f in found if "belong to no installed" in f.message]
    assert f.fix == 'pipguard install "pytorch-triton-rocm==3.1.0"'


def test_a_projects_build_for_another_cuda_major() -> None:
    # cupy-cuda11x beside a CUDA 12 torch, with no CUDA 11 library installed: a warning
    # naming the build for torch's major, as a command that swaps them.
    [f] = run(env(torch("2.5.1+cu124"), D("cupy-cuda11x", "13.3.0")))
    assert (f.category, f.severity) == ("cuda-libraries", "warning")
    assert "CUDA 11" in f.message and "CUDA 12" in f.message
    # (the same release: cupy publishes each for every major; an unpinned one would move to
    # another cupy, NumPy 2-based from 14)
    assert f.fix == 'pip uninstall -y cupy-cuda11x && pipguard install "cupy-cuda12x==13.3.0"'
    # cupy's older per-release names (cupy-cuda102) read as their major; no pin where the
    # build for torch's major has no such release (cupy-cuda12x from 12.0.0, 13x from 13.6.0)
    [f] = run(env(torch("2.5.1+cu124"), D("cupy-cuda102", "9.6.0")))
    assert f.fix.endswith('pipguard install "cupy-cuda12x"')
    [f] = run(env(torch("2.11.0+cu130"), D("cupy-cuda12x", "13.3.0")))
    assert f.fix.endswith('pipguard install "cupy-cuda13x"')
    [f] = run(env(torch("2.11.0+cu130"), D("cupy-cuda12x", "13.6.0")))
    assert f.fix.endswith('pipguard install "cupy-cuda13x==13.6.0"')
    # torch's major's build already installed beside it: the uninstall empties the folder they
    # share, so it is installed again, at its own release
    [f] = run(env(torch("2.5.1+cu124"), D("cupy-cuda11x", "13.3.0"), D("cupy-cuda12x", "13.4.0")))
    assert f.fix == ('pip uninstall -y cupy-cuda11x && pipguard install --force-reinstall '
                     '--no-deps "cupy-cuda12x==13.4.0"')
    # builds for two other majors: each named with its own
    [f] = run(env(torch("2.5.1+cu124"), D("cupy-cuda11x", "13.3.0"), D("cupy-cuda13x", "13.6.0")))
    assert "cupy-cuda11x 13.3.0 (CUDA 11) and cupy-cuda13x 13.6.0 (CUDA 13)" in f.message
    # jax's plugin and pjrt are one build: one finding, both replaced (jax[cuda13] needs a
    # newer jax, so no pin).
    [f] = run(env(torch("2.11.0+cu130"), D("jax-cuda12-plugin", "0.7.2"),
                  D("jax-cuda12-pjrt", "0.7.2")))
    assert f.fix == ('pip uninstall -y jax-cuda12-pjrt jax-cuda12-plugin && pipguard install '
                     '"jax[cuda13]"')
    # jax itself installed is no build of a CUDA major: nothing reinstalled with it
    [f] = run(env(torch("2.11.0+cu130"), D("jax", "0.7.2"), D("jax-cuda12-plugin", "0.7.2"),
                  D("jax-cuda12-pjrt", "0.7.2")))
    assert "--force-reinstall" not in f.fix
    # a pre-release is no release the other build is known to have: unpinned
    [f] = run(env(torch("2.5.1+cu118"), D("cupy-cuda12x", "14.0.0rc1")))
    assert f.fix.endswith('pipguard install "cupy-cuda11x"')
    # No build of the project for torch's major: said, and no build invented.
    [f] = run(env(torch("2.11.0+cu130"), D("faiss-gpu-cu12", "1.9.0")))
    assert "no build for CUDA 13" in f.message and "faiss-gpu-cu13" not in f.fix
    # Nothing to say: the same major; the other major's libraries installed (its own
    # requirements, or cupy's [ctk]), and those then no stray; a CPU torch.
    assert run(env(torch("2.5.1+cu124"), D("cupy-cuda12x", "13.3.0"))) == []
    assert run(env(torch("2.5.1+cu124"), D("cupy-cuda11x", "13.3.0"),
                   D("nvidia-cublas-cu11", "11.11.3.6"))) == []
    assert run(env(torch("2.11.0+cpu"), D("cupy-cuda11x", "13.3.0"))) == []
    # Without such a build, a CUDA 11 library is still a stray beside a CUDA 12 torch.
    [f] = run(env(torch("2.5.1+cu124"), D("nvidia-cublas-cu11", "11.11.3.6")))
    assert f.message.startswith("nvidia-cublas-cu11")


def test_dependency_confusion() -> None:
    found = run(env(torch("2.11.0+cpu"), D("torchtriton", "99.0.0")))
    assert [(f.category, f.severity) for f in found] == [("dependency-confusion", "error")]
    for name in ("torch", "torchvision", "triton", "pytorch-triton"):
        found = only(run(env(D(name, "99.0.0"))), "dependency-confusion")
        assert [f.severity for f in found] == ["error"], name
    # A release newer than the tables is not a look-alike...
    assert cats(run(env(torch("2.16.0+cu130")))) == set()
    # ...but a torch that declares no dependencies is suspicious.
    assert cats(run(env(D("torch", "2.16.0")))) == {"dependency-confusion"}


def test_direct_url_origin() -> None:
    pypi = {"url": "https://files.pythonhosted.org/packages/torch-2.11.0-cp311-x.whl",
            "archive_info": {}}
    mirror = {"url": "https://evil.example/simple/torch-2.11.0-cp311-x.whl", "archive_info": {}}
    mine = {"url": "https://mirror.corp/torch/cu130/torch-2.11.0%2Bcu130-x.whl",
            "archive_info": {}}
    r2 = {"url": "https://download-r2.pytorch.org/whl/cu130/torch-2.11.0.whl"}
    git = {"url": "https://github.com/pytorch/vision", "vcs_info": {"vcs": "git"}}
    ok = [D("torch", "2.11.0", "filelock", direct_url=pypi),
          D("torch", "2.11.0+cu130", "filelock", direct_url=r2),
          D("torchvision", "0.26.0", direct_url=git)]
    for d in ok:
        assert only(run(env(d)), "dependency-confusion") == [], d
    assert only(run(env(D("torch", "2.11.0+cu130", "filelock", direct_url=mine),
                        urls=("https://mirror.corp/torch/",))), "dependency-confusion") == []
    [f] = only(run(env(D("torch", "2.11.0", "filelock", direct_url=mirror))),
               "dependency-confusion")
    assert f.severity == "warning" and "evil.example" in f.message
    # An index-only name never comes from PyPI's file host.
    [f] = only(run(env(D("pytorch-triton", "3.7.0+git1a2b3c4d", direct_url=pypi))),
               "dependency-confusion")
    assert "files.pythonhosted.org" in f.message


def test_resolver_conflicts_involving_the_family() -> None:
    t = torch("2.11.0+cu130", 'triton==3.6.0; platform_system == "Linux"')
    found = only(run(env(t, D("triton", "3.1.0"))), "resolver-conflict")
    assert [f.severity for f in found] == ["error"] and "triton 3.1.0" in found[0].message
    found = only(run(env(t)), "resolver-conflict")
    assert "not installed" in found[0].message
    assert found[0].fix == 'pipguard install "triton==3.6.0"'
    # Outside the family it is not doctor's business; a marker that excludes it neither.
    assert run(env(D("requests", "2.0", "urllib3>=9"))) == []
    assert only(run(env(t, os="win32")), "resolver-conflict") == []
    # A family-outsider pinning torch is.
    found = run(env(torch("2.11.0+cpu"), D("lightning", "2.0", "torch<2.5")))
    assert cats(found) == {"resolver-conflict"}


def test_integrity_and_ordering() -> None:
    bad = DistVerification("torch", "2.11.0+cpu", 10,
                           (FileProblem("torch/version.py", "changed", "sha256=a", "sha256=b"),),
                           False)
    unverifiable = DistVerification("torchvision", "0.26.0", 0, (), True)
    found = run(env(torch("2.11.0+cpu"), D("torchvision", "0.26.0+cpu"),
                    D("numpy", "2.2.6"), hw=H("9.0"), verified=[unverifiable, bad]))
    assert [(f.category, f.severity) for f in found] == [
        ("corrupt-install", "error"), ("corrupt-install", "warning"),
        ("cpu-build-on-gpu", "warning")]
    assert "changed torch/version.py" in found[0].evidence


def test_every_finding_is_well_formed() -> None:
    found = run(env(torch("2.0.0+cu118", CU12_RT), D("torchvision", "0.20.1+cpu", "torch==2.5.1"),
                    D("numpy", "2.2.6"), D("typing-extensions", "4.0.0"),
                    D("torchtriton", "99.0.0"), hw=H("12.0", driver="470.1")))
    assert {f.category for f in found} >= {"companion-mismatch", "numpy-abi", "typing-extensions",
                                           "driver-too-old", "gpu-arch-unsupported",
                                           "cuda-libraries", "dependency-confusion"}
    for f in found:
        assert f.category in CATEGORIES and f.message and f.evidence and f.fix


# --------------------------------------------------------------------------------------------
# --deep, with the runner faked


def _fake(returncode: int, stdout: str = "", stderr: str = "", timed_out: bool = False) -> Any:
    def fake(argv: Sequence[str], **kw: Any) -> runner.Completed:
        assert "-c" in argv and kw.get("timeout")
        return runner.Completed(tuple(argv), returncode, stdout, stderr, timed_out)
    return fake


def test_the_h100_machines_own_environment_is_healthy() -> None:
    """What the real H100 showed (docs/DEVICE.md): PyPI's torch 2.11.0 (cu130) pulls its CUDA 13
    libraries through cuda-toolkit's extras, and several carry their own numbering (cuFFT 12.0,
    cuRAND 10.4): none of them is a stray CUDA 12 or 10 library."""
    toolkit = D("cuda-toolkit", "13.0.2",
                *[f'nvidia-{lib}=={v}; extra == "{lib}"' for lib, v in (
                    ("cufft", "12.0.0.61"), ("curand", "10.4.0.35"), ("cusolver", "12.0.4.66"),
                    ("cusparse", "12.6.3.3"), ("cublas", "13.1.0.3"))])
    libs = [D("nvidia-cufft", "12.0.0.61"), D("nvidia-curand", "10.4.0.35"),
            D("nvidia-cusolver", "12.0.4.66"), D("nvidia-cusparse", "12.6.3.3"),
            D("nvidia-cublas", "13.1.0.3")]
    pypi_torch = torch("2.11.0", 'cuda-toolkit[cublas,cufft,curand,cusolver,cusparse]==13.0.2; '
                                 'platform_system == "Linux"')
    assert cats(run(env(pypi_torch, toolkit, *libs, hw=H("9.0", driver="580.159.04")))) == set()


def test_deep_accepts_the_label_pypi_strips_from_metadata(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # On the H100: torch.__version__ == "2.11.0+cu130", pip's metadata says "2.11.0".
    facts = {"version": "2.11.0+cu130", "cuda": True, "arch": ["sm_75", "sm_90", "sm_120"]}
    monkeypatch.setattr(runner, "RUNNER", _fake(0, json.dumps(facts) + "\n"))
    assert _deep("py", H("9.0"), KN, "2.11.0") == []
    [f] = _deep("py", H("9.0"), KN, "2.11.0+cu126")
    assert f.category == "corrupt-install"


def test_deep_judges_what_torch_says(monkeypatch: pytest.MonkeyPatch) -> None:
    facts = {"version": "2.5.1+cu124", "cuda": True, "arch": ["sm_80", "sm_90"]}
    monkeypatch.setattr(runner, "RUNNER", _fake(0, json.dumps(facts) + "\n"))
    assert _deep("py", H("9.0"), KN, "2.5.1+cu124") == []
    [f] = _deep("py", H("12.0"), KN, "2.5.1+cu124")
    assert (f.category, f.severity) == ("gpu-arch-unsupported", "error")
    [f] = _deep("py", H("9.0"), KN, "2.6.0+cu124")
    assert f.category == "corrupt-install" and "shadows" in f.message
    monkeypatch.setattr(runner, "RUNNER", _fake(0, json.dumps({**facts, "cuda": False})))
    assert cats(_deep("py", H("9.0"), KN, "2.5.1+cu124")) == {"cpu-build-on-gpu"}
    monkeypatch.setattr(runner, "RUNNER", _fake(124, timed_out=True))
    assert cats(_deep("py", H("9.0"), KN, "2.5.1+cu124"), "warning") == {"corrupt-install"}
    monkeypatch.setattr(runner, "RUNNER", _fake(1, stderr="Traceback...\nSyntaxError: x\n"))
    [f] = _deep("py", H("9.0"), KN, "2.5.1+cu124")
    assert (f.category, f.severity) == ("corrupt-install", "error") and "SyntaxError" in f.evidence


# --------------------------------------------------------------------------------------------
# Real environments, built with plain pip from the imitation indexes


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("doctor") / "template"
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, env=clean_env())
    return path


class Venv:
    def __init__(self, path: Path, server: Any, workdir: Path) -> None:
        self.path, self.server = path, server
        self.python = str(path / "bin" / "python")
        (workdir / "root").mkdir(exist_ok=True)  # detection sees no GPU
        self.env = clean_env({"PIPGUARD_SYSROOT": str(workdir / "root"),
                              "PIPGUARD_CACHE_DIR": str(workdir / "cache")})

    def pip(self, index: str, *reqs: str) -> None:
        done = subprocess.run([self.python, "-m", "pip", "install", "-q", "--no-deps",
                               "--index-url", index, *reqs], env=self.env, capture_output=True,
                              text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr

    def torch_index(self, variant: str, *reqs: str) -> None:
        self.pip(f"{self.server.torch_url}/{variant}", *reqs)

    def pypi(self, *reqs: str) -> None:
        self.pip(self.server.pypi_url, *reqs)

    def doctor(self, *args: str, json_out: bool = True) -> tuple[int, list[dict[str, str]]]:
        done = pipguard("--python", self.python, "doctor", *(("--json",) if json_out else ()),
                        *args, env=self.env)
        assert done.returncode in (0, 1), done.stderr
        if not json_out:
            return done.returncode, [{"text": done.stdout}]
        return done.returncode, json.loads(done.stdout)["findings"]

    def site(self) -> Path:
        return next((self.path / "lib").glob("python3*/site-packages"))


@pytest.fixture
def venv(template: Path, tmp_path: Path, index_server: Any) -> Iterator[Venv]:
    path = tmp_path / "venv"
    shutil.copytree(template, path, symlinks=True)  # venvs find their prefix from pyvenv.cfg
    # The copy's console scripts point at the template; only `python -m pip` is used.
    yield Venv(path, index_server, tmp_path)


def by(found: list[dict[str, str]], category: str) -> list[dict[str, str]]:
    return [f for f in found if f["category"] == category]


H100 = ("--gpu-arch", "sm_90", "--cuda-driver", "580.95.05")


@pytest.mark.slow
def test_real_healthy_environment_from_pipguard_install(venv: Venv) -> None:
    done = pipguard("--python", venv.python, "install", "torch==2.11.0", "torchvision", *H100,
                    "--torch-index-url", venv.server.torch_url, "--index-url",
                    venv.server.pypi_url, env=venv.env)
    assert done.returncode == 0, done.stdout + done.stderr
    rc, found = venv.doctor(*H100, "--torch-index-url", venv.server.torch_url)
    assert (rc, found) == (0, [])
    rc, text = venv.doctor(*H100, "--torch-index-url", venv.server.torch_url, json_out=False)
    assert rc == 0 and "no problems found (torch 2.11.0+cu130)" in text[0]["text"]
    # Without the index named again, doctor knows it from what the install recorded.
    rc, found = venv.doctor(*H100)
    assert (rc, found) == (0, [])


def test_real_companion_of_another_variant(venv: Venv) -> None:
    venv.torch_index("cu124", "torch==2.5.1+cu124")
    venv.torch_index("cpu", "torchvision==0.20.1+cpu")
    rc, found = venv.doctor(*H100)
    [f] = by(found, "companion-mismatch")
    assert rc == 1 and f["severity"] == "error" and "torchvision 0.20.1+cpu" in f["evidence"]


def test_real_unlabeled_pypi_companion_beside_a_cpu_torch(venv: Venv) -> None:
    venv.torch_index("cpu", "torch==2.11.0+cpu")
    venv.pypi("torchvision==0.26.0")
    rc, found = venv.doctor(*H100)
    [f] = by(found, "companion-mismatch")
    assert rc == 1 and f["severity"] == "error" and "PyPI (cu130)" in f["message"]
    assert by(found, "cpu-build-on-gpu")[0]["severity"] == "warning"


def test_real_cuda_build_against_the_hardware(venv: Venv) -> None:
    venv.torch_index("cu124", "torch==2.5.1+cu124")
    rc, found = venv.doctor("--gpu-arch", "sm_120", "--cuda-driver", "570.86.10")
    assert rc == 1 and by(found, "gpu-arch-unsupported")[0]["severity"] == "error"
    assert not by(found, "driver-too-old")
    rc, found = venv.doctor("--gpu-arch", "sm_90", "--cuda-driver", "470.256.02")
    assert rc == 1 and by(found, "driver-too-old")[0]["severity"] == "error"
    assert not by(found, "gpu-arch-unsupported")
    # Installed with --no-deps: its CUDA runtime wheel and triton are missing.
    [lib] = by(found, "cuda-libraries")
    assert lib["severity"] == "error" and "nvidia-cuda-runtime-cu12" in lib["message"]
    assert any("triton" in f["message"] for f in by(found, "resolver-conflict"))


def test_real_cpu_build_on_a_gpu_machine(venv: Venv) -> None:
    venv.torch_index("cpu", "torch==2.5.1+cpu")
    venv.pypi("filelock", "typing-extensions==4.12.2")
    rc, found = venv.doctor(*H100)
    assert (rc, [(f["category"], f["severity"]) for f in found]) == (
        0, [("cpu-build-on-gpu", "warning")])
    rc, found = venv.doctor()  # no GPU: the CPU build is right
    assert (rc, found) == (0, [])


def test_real_numpy2_under_torch_2_0(venv: Venv) -> None:
    venv.torch_index("cpu", "torch==2.0.0+cpu")
    venv.pypi("numpy==2.2.6", "filelock", "typing-extensions==4.12.2")
    rc, found = venv.doctor()
    assert rc == 1 and [(f["category"], f["severity"]) for f in found] == [("numpy-abi", "error")]


def test_real_old_typing_extensions_under_torch_2_11(venv: Venv) -> None:
    venv.torch_index("cpu", "torch==2.11.0+cpu")
    venv.pypi("typing-extensions==4.6.0", "filelock")
    rc, found = venv.doctor()
    assert rc == 1 and [f["category"] for f in found] == ["typing-extensions"]
    assert ">=4.10.0" in found[0]["message"]


def test_real_cuda_12_library_beside_a_cu130_torch(venv: Venv) -> None:
    venv.torch_index("cu130", "torch==2.11.0+cu130")
    venv.pypi("nvidia-cuda-runtime-cu12==12.8.90")
    rc, found = venv.doctor(*H100)
    libs = sorted((f["severity"], f["message"].split()[0]) for f in by(found, "cuda-libraries"))
    assert libs == [("error", "nvidia-cuda-runtime"), ("warning", "nvidia-cuda-runtime-cu12")]
    venv.pypi("nvidia-cuda-runtime==13.0.96")
    rc, found = venv.doctor(*H100)
    assert rc == 1  # triton is still missing (resolver-conflict)
    [f] = by(found, "cuda-libraries")
    assert f["severity"] == "warning" and "CUDA 12 library" in f["message"]


def test_real_dependency_confusion(venv: Venv) -> None:
    venv.pypi("torchtriton==99.0.0")
    rc, found = venv.doctor()
    assert rc == 1 and [(f["category"], f["severity"]) for f in found] == [
        ("dependency-confusion", "error")]
    venv.pypi("torch==99.0.0")
    rc, found = venv.doctor()
    msgs = [f["message"] for f in by(found, "dependency-confusion") if f["severity"] == "error"]
    assert any(m.startswith("torch 99.0.0 is not a PyTorch release") for m in msgs)


def test_real_torch_from_another_host(venv: Venv) -> None:
    # The same server, but PyPI's file area: not the torch index named with --torch-index-url.
    url = f"{venv.server.pypi_url.rsplit('/simple', 1)[0]}/files/"
    py = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    venv.pip(venv.server.pypi_url, f"torch @ {url}torch-2.11.0-{py}-{py}-manylinux_2_28_x86_64.whl")
    rc, found = venv.doctor("--torch-index-url", venv.server.torch_url)
    [f] = by(found, "dependency-confusion")
    assert rc == 1 and f["severity"] == "warning" and "/pypi/files/" in f["evidence"]


def test_real_changed_and_missing_files(venv: Venv) -> None:
    venv.torch_index("cpu", "torch==2.11.0+cpu")
    venv.pypi("filelock", "typing-extensions==4.12.2")
    assert venv.doctor() == (0, [])
    site = venv.site()
    version_py = site / "torch" / "version.py"
    # Same size, one byte different: only the hash can tell.
    version_py.write_text(version_py.read_text().replace("2.11.0+cpu", "2.11.0+cu1"))
    (site / "torch" / "_pipguard_build.json").unlink()
    rc, found = venv.doctor()
    [f] = found
    assert rc == 1 and (f["category"], f["severity"]) == ("corrupt-install", "error")
    assert "changed torch/version.py" in f["evidence"]
    assert "missing torch/_pipguard_build.json" in f["evidence"]


def test_real_deep_imports_torch_only_when_asked(venv: Venv, tmp_path: Path) -> None:
    venv.torch_index("cpu", "torch==2.11.0+cpu")
    venv.pypi("filelock", "typing-extensions==4.12.2")
    marker = tmp_path / "imported"
    init = venv.site() / "torch" / "__init__.py"
    # A torch whose files say one version and whose import says another (half-overwritten).
    init.write_text(f"open({str(marker)!r}, 'w').close()\n__version__ = '2.10.0+cpu'\n")
    rc, found = venv.doctor()
    assert not marker.exists() and rc == 1 and {f["category"] for f in found} == {
        "corrupt-install"}
    rc, found = venv.doctor("--deep")
    assert marker.exists() and rc == 1
    assert any("import torch loads 2.10.0+cpu" in f["message"] for f in found)


def test_orphaned_family_files_are_named(tmp_path: Path) -> None:
    """A kill before pip wrote torch's metadata leaves `torch/` that nothing owns."""
    from pipguard.orphans import find_orphans

    (tmp_path / "torch").mkdir()
    (tmp_path / "triton").mkdir()
    (tmp_path / "requests").mkdir()
    installed = {"pytorch-triton": object()}
    orphans = find_orphans([str(tmp_path)], installed, KN.import_owners())
    assert orphans == (str(tmp_path / "torch"),)
    [f] = run(Environment({}, (), NO_HW, orphans=orphans))
    assert (f.category, f.severity) == ("corrupt-install", "error")
    assert f.fix == "pipguard install torch"


def test_real_orphaned_torch_folder_fails_verify_and_doctor(venv: Venv) -> None:
    (venv.site() / "torch").mkdir()
    (venv.site() / "torch" / "__init__.py").write_text("")
    done = pipguard("--python", venv.python, "verify", env=venv.env)
    assert done.returncode == 1
    assert done.stdout.startswith("torch (files without metadata")
    rc, found = venv.doctor()
    assert rc == 1
    assert [f["fix"] for f in by(found, "corrupt-install")] == ["pipguard install torch"]


def test_a_gpu_build_on_a_machine_without_a_gpu_names_the_size_the_cpu_build_saves() -> None:
    big = D("nvidia-cublas-cu12", "12.4.5.8")
    t = torch("2.5.1+cu124", "nvidia-cublas-cu12==12.4.5.8; platform_system == 'Linux'")
    found = run(Environment({"torch": t, "nvidia-cublas-cu12": big}, (), Hardware(),
                            sizes={"nvidia-cublas-cu12": 2_300_000_000, "torch": 900_000_000}))
    [f] = [f for f in found if f.category == "gpu-build-without-gpu"]
    assert f.severity == "warning" and "2.3 GB" in f.message and "--torch-backend cpu" in f.fix
