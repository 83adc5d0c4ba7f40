"""`doctor` on GPUs torch cannot reach, and `doctor --deep`'s proof that the build runs.

Pure: :func:`pipguard.doctor_fit.deep_fit` judges recorded facts (the H100's own, and
shapes built from it); :mod:`pipguard.deep_probe` runs through the runner seam with canned
output; nothing imports a real torch.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pipguard import runner
from pipguard.commands.doctor import check, deep_with_facts
from pipguard.deep_probe import SCRIPT, probe_torch
from pipguard.doctor_environment import Environment
from pipguard.doctor_fit import deep_fit
from pipguard.findings import Finding
from pipguard.hardware import NO_DRIVER, NOT_EXPOSED, Gpu, Hardware, UnusableGpu
from pipguard.installed import InstalledDist
from pipguard.knowledge_tables import load_knowledge
from pipguard.render import render
from pipguard.results import Diagnosed

KN = load_knowledge()
H100 = Gpu("nvidia", "NVIDIA H100 80GB HBM3", "9.0", "0000:00:06.0")
H100_HW = Hardware("nvidia", "580.159.04", (H100,))
# What the real H100 reported (tests/fixtures/hardware/linux-h100-driver580/torch-info.txt),
# in the probe's shape.
H100_FACTS: dict[str, Any] = {
    "version": "2.11.0+cu130", "has_cuda_module": True, "cuda_version": "13.0", "hip": None,
    "cuda": True, "arch": ["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"],
    "xpu": False, "mps": False, "cudnn": 91900, "gcn_arch": [],
    "ops": {"cpu": {"ok": True, "error": None}, "cuda": {"ok": True, "error": None}},
    "libraries": ["/venv/lib/python3.12/site-packages/nvidia/cu13/lib/libcudart.so.13",
                  "/venv/lib/python3.12/site-packages/nvidia/cudnn/lib/libcudnn.so.9"],
}
RX6700 = Gpu("amd", "AMD Radeon RX 6700 XT", "gfx1031", "0000:03:00.0")
ROCM_FACTS: dict[str, Any] = {
    "version": "2.9.1+rocm6.4", "cuda_version": None, "hip": "6.4.43482", "cuda": True,
    "arch": ["gfx900", "gfx906", "gfx908", "gfx90a", "gfx942", "gfx1030", "gfx1100",
             "gfx1101", "gfx1200", "gfx1201"],
    "ops": {"cpu": {"ok": True, "error": None},
            "cuda": {"ok": False, "error": "RuntimeError: HIP error: invalid device function"}},
}


def judged(facts: dict[str, Any], hw: Hardware = H100_HW,
           installed: str = "2.11.0") -> list[Finding]:
    return deep_fit(facts, hw, KN, installed)


def one(found: Sequence[Finding]) -> Finding:
    assert len(found) == 1, found
    return found[0]


# ---------------------------------------------------------------- GPUs torch cannot reach


def dist(name: str, version: str) -> InstalledDist:
    site = "/venv/lib/python3.11/site-packages"
    return InstalledDist(name, version, site, f"{site}/{name}-{version}.dist-info", "pip",
                         True, None, (), None)


def environment(hw: Hardware, *dists: InstalledDist) -> Environment:
    return Environment({d.name: d for d in dists}, (), hw)


NO_DRIVER_HW = Hardware(unusable=(UnusableGpu(
    Gpu("nvidia", "NVIDIA GPU [10de:2684]", None, "0000:01:00.0"), NO_DRIVER,
    "no driver loaded", "10de:2684"),))
CONTAINER_HW = Hardware("nvidia", "580.159.04", (H100,), unusable=(UnusableGpu(
    H100, NOT_EXPOSED, "driver 580.159.04 is loaded on the host, but this container has no "
    "/dev/nvidiactl or /dev/nvidia0"),))


def test_a_gpu_without_its_driver_is_a_finding_even_without_torch() -> None:
    f = one(check(environment(NO_DRIVER_HW), KN))
    assert (f.category, f.severity) == ("driver-too-old", "warning")
    assert "NVIDIA GPU [10de:2684] at 0000:01:00.0: no driver loaded" in f.message
    assert "install the NVIDIA driver" in f.fix and "--force-reinstall torch" in f.fix


def test_a_cuda_build_in_a_container_without_device_nodes_is_an_error() -> None:
    found = check(environment(CONTAINER_HW, dist("torch", "2.11.0+cu130")), KN)
    f = one([f for f in found if f.category == "driver-too-old"])
    assert f.severity == "error" and "torch 2.11.0+cu130 cannot use it" in f.message
    assert "--gpus all" in f.fix and "NVIDIA Container Toolkit" in f.fix


# ---------------------------------------------------------------- deep_fit, pure


def test_the_h100s_own_facts_are_healthy() -> None:
    assert judged(H100_FACTS) == []


def test_a_cpu_build_on_an_nvidia_machine_says_so() -> None:
    facts = {**H100_FACTS, "version": "2.11.0+cpu", "cuda_version": None, "cuda": False,
             "arch": [], "ops": {"cpu": {"ok": True, "error": None}}, "libraries": []}
    f = one(judged(facts, installed="2.11.0+cpu"))
    assert (f.category, f.severity) == ("cpu-build-on-gpu", "error")
    assert "CPU build" in f.message and "H100" in f.message


def test_cuda_unavailable_names_why() -> None:
    why = "RuntimeError: Found no NVIDIA driver on your system."
    facts = {**H100_FACTS, "cuda": False, "cuda_error": why,
             "ops": {"cpu": {"ok": True, "error": None}, "cuda": {"ok": False, "error": why}}}
    f = one(judged(facts))
    assert (f.category, f.severity) == ("driver-too-old", "error")
    assert why in f.message and f.evidence == why
    # In a container without device nodes the finding says that, and how to start it.
    f = one(judged(facts, CONTAINER_HW))
    assert "/dev/nvidiactl" in f.message and "--gpus all" in f.fix
    # A reason that is no driver's: the build is what cannot use the GPU.
    facts = {**facts, "cuda_error": "CUDA unknown error"}
    f = one(judged(facts))
    assert (f.category, f.severity) == ("cpu-build-on-gpu", "error")
    assert "CUDA unknown error" in f.message


def test_a_failed_tiny_op_is_an_error_with_the_text_kept() -> None:
    error = ("RuntimeError: CUDA error: no kernel image is available for execution on the "
             "device")
    facts = {**H100_FACTS, "ops": {"cpu": {"ok": True, "error": None},
                                   "cuda": {"ok": False, "error": error}}}
    f = one(judged(facts))
    assert (f.category, f.severity) == ("gpu-arch-unsupported", "error")
    assert f.evidence == error and "device='cuda'" in f.message
    wrong = {**H100_FACTS, "ops": {"cpu": {"ok": False, "error": "wrong result"}}}
    assert one(judged(wrong)).category == "corrupt-install"


def test_the_compiled_arch_list_is_judged_with_the_tables_rules() -> None:
    facts = {**H100_FACTS, "arch": ["sm_80", "sm_86"]}
    f = one(judged(facts))
    assert (f.category, f.severity) == ("gpu-arch-unsupported", "error")
    assert "sm_90" in f.message


def test_amd_consumer_gpu_the_rocm_build_does_not_list_names_the_override() -> None:
    hw = Hardware("amd", gpus=(RX6700,), rocm_version="6.4.1")
    f = one(judged(ROCM_FACTS, hw, "2.9.1+rocm6.4"))
    assert (f.category, f.severity) == ("gpu-arch-unsupported", "error")
    assert "gfx1031" in f.message and "HSA_OVERRIDE_GFX_VERSION=10.3.0" in f.message
    assert f.fix.startswith("export HSA_OVERRIDE_GFX_VERSION=10.3.0")
    assert "crash" in f.fix and "wrong results" in f.fix
    # Already overridden, and the tiny op works: a warning that keeps the risk in view.
    ok = {**ROCM_FACTS, "gcn_arch": ["gfx1030"],
          "ops": {"cpu": {"ok": True, "error": None}, "cuda": {"ok": True, "error": None}}}
    f = one(judged(ok, hw, "2.9.1+rocm6.4"))
    assert f.severity == "warning" and "runs as gfx1030 through HSA_OVERRIDE" in f.message
    # No GPU of its family listed: no override to name.
    old = Gpu("amd", "AMD Radeon RX 5700 XT", "gfx1010")
    f = one(judged(ROCM_FACTS, Hardware("amd", gpus=(old,)), "2.9.1+rocm6.4"))
    assert "HSA_OVERRIDE" not in f.message + f.fix and "nor for any GPU of its family" in f.message


def test_a_cuda_library_of_another_major_loaded_is_named() -> None:
    stray = "/usr/local/cuda-12.4/lib64/libcudart.so.12"
    facts = {**H100_FACTS, "libraries": [*H100_FACTS["libraries"], stray]}
    f = one(judged(facts))
    assert (f.category, f.severity) == ("cuda-libraries", "error")
    assert "libcudart.so.12" in f.message and f.evidence == stray


# ---------------------------------------------------------------- deep_probe, through the runner


def _fake(stdout: str, returncode: int = 0) -> Any:
    def fake(argv: Sequence[str], **kw: Any) -> runner.Completed:
        assert argv[:2] == ["py", "-c"] and argv[2] == SCRIPT and kw.get("timeout")
        return runner.Completed(tuple(argv), returncode, stdout, "", False)
    return fake


def test_the_probe_reads_the_last_line_the_target_prints(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    noise = "a warning torch printed on import\n"
    monkeypatch.setattr(runner, "RUNNER", _fake(noise + json.dumps(H100_FACTS) + "\n"))
    assert probe_torch("py").facts == H100_FACTS
    found, facts = deep_with_facts("py", H100_HW, KN, "2.11.0")
    assert found == [] and facts == H100_FACTS


# A CUDA build on a machine without a driver, as far as the script can tell.
FAKE_TORCH = """
import warnings
__version__ = '2.11.0+cu130'
class version:
    cuda, hip = '13.0', None
class _C:
    @staticmethod
    def _cuda_getArchFlags():
        return 'sm_75 sm_80 sm_90'
class cuda:
    @staticmethod
    def is_available():
        warnings.warn('CUDA initialization: Found no NVIDIA driver on your system.')
        return False
class backends:
    class cudnn:
        @staticmethod
        def version():
            return 91900
class _T:
    def __mul__(self, other): return self
    def sum(self): return self
    def item(self): return 4
def ones(n, device='cpu'):
    if device != 'cpu':
        raise RuntimeError('Found no NVIDIA driver on your system.')
    return _T()
"""


def test_the_script_runs_in_the_target_and_every_attribute_is_optional(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text(FAKE_TORCH)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    facts = probe_torch(sys.executable).facts
    assert facts["version"] == "2.11.0+cu130" and facts["cuda"] is False
    assert (facts["cuda_version"], facts["hip"], facts["cudnn"]) == ("13.0", None, 91900)
    assert facts["arch"] == ["sm_75", "sm_80", "sm_90"]
    assert (facts["xpu"], facts["mps"]) == (None, None)  # absent from this torch
    assert facts["ops"] == {"cpu": {"ok": True, "error": None}, "cuda": {
        "ok": False, "error": "RuntimeError: Found no NVIDIA driver on your system."}}
    assert facts["cuda_error"] == ("CUDA initialization: Found no NVIDIA driver on your "
                                   "system.; RuntimeError: Found no NVIDIA driver on your "
                                   "system.")
    assert isinstance(facts["libraries"], list)
    f = one(judged(facts))
    assert (f.category, f.severity) == ("driver-too-old", "error")


def test_doctor_deep_shows_what_the_import_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    result = Diagnosed((), "no problems found (torch 2.11.0)", H100_FACTS)
    text = render(result, as_json=False)
    assert "torch 2.11.0+cu130 imported (CUDA 13.0, cuDNN 91900): cuda available yes" in text
    assert "tiny op: cpu ok, cuda ok" in text and "libcudart.so.13" in text
    data = json.loads(render(result, as_json=True))
    assert data == {"findings": [], "deep": H100_FACTS}
    assert "deep" not in json.loads(render(Diagnosed((), "x"), as_json=True))


@pytest.mark.parametrize("failure", [
    # no rule reads it, whatever the words lean to: the failed import is the error
    "Traceback (most recent call last):\n  File \"<string>\", line 1\nOSError: [Errno 28] No "
    "space left on device\n",
    "Traceback (most recent call last):\n  File \"<string>\", line 1\nRuntimeError: zork\n",
])
def test_a_failed_import_no_rule_reads_is_an_error(monkeypatch: pytest.MonkeyPatch,
                                                    failure: str) -> None:
    monkeypatch.setattr(runner, "RUNNER", _fake(failure, returncode=1))
    found, facts = deep_with_facts("py", H100_HW, KN, "2.11.0")
    assert facts is None and found[0].severity == "error"
    assert found[0].message == "import torch failed"
    assert all(f.severity == "info" for f in found[1:])  # a probable cause may follow


def test_a_failed_import_a_rule_reads_is_that_rules_finding(monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    failure = "ImportError: libcudnn.so.9: cannot open shared object file: No such file\n"
    monkeypatch.setattr(runner, "RUNNER", _fake(failure, returncode=1))
    found, _ = deep_with_facts("py", H100_HW, KN, "2.11.0")
    assert found[0].category == "cuda-libraries" and found[0].severity == "error"
