"""``doctor`` checks of fit: does the installed build run on this hardware?

Every answer comes from :mod:`pipguard.compatibility`, the same one ``plan`` uses,
whether the build is known from its metadata and the tables or from what the
imported torch reports (``doctor --deep``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from packaging.version import InvalidVersion, Version

from pipguard.compatibility import (
    DRIVER,
    PTX,
    arch_from_list,
    covers_gfx,
    covers_gpus,
    hsa_override,
    judge,
)
from pipguard.doctor_environment import REINSTALL, Environment, variant_of, version_of
from pipguard.findings import Finding
from pipguard.hardware import NO_DRIVER, Hardware
from pipguard.knowledge import Knowledge
from pipguard.variants import variant_kind


def fit(e: Environment, kn: Knowledge) -> list[Finding]:
    """Whether the installed torch runs here, and a CPU build where a GPU one would."""
    torch = e.dists.get("torch")
    tv, variant = version_of(torch), variant_of("torch", torch, e, kn)
    if tv is None or variant is None:
        return []
    base = Version(tv.public)
    out = _cpu_on_gpu(e, kn, tv, variant) + _gpu_build_without_gpu(e, tv, variant)
    vd = judge(e.hw, e.os, e.machine, kn, variant, base)
    driver = e.hw.driver()
    for bad in vd.failures():
        if bad.failed == DRIVER:
            out.append(Finding("driver-too-old", "error", f"torch {tv}: {bad.reason}",
                               f"driver {driver}, torch {tv}",
                               f"{REINSTALL}  (or upgrade the driver)"))
        elif bad.failed == PTX:
            out.append(Finding("driver-too-old", "error", f"torch {tv}: {bad.reason}",
                               f"driver {driver}, torch {tv}",
                               f"upgrade the driver, or {REINSTALL}"))
        else:
            sev = "error" if bad.certain and variant_kind(variant) != "rocm" else "warning"
            out.append(Finding("gpu-arch-unsupported", sev, bad.reason, bad.evidence,
                               REINSTALL))
    if not vd.full_support and vd.warning and not any(
            bad.failed in (DRIVER, PTX) for bad in vd.failures()):
        out.append(Finding("driver-too-old", "info", vd.warning,
                           f"driver {driver}, torch {tv}", "upgrade the driver for full support"))
    return out


def unusable_gpus(e: Environment, kn: Knowledge) -> list[Finding]:
    """GPUs that are there but unusable here: no driver, or not exposed to the container.

    An error when the installed torch is a build for that GPU's vendor (it cannot use
    it), else a warning (nothing installed needs it yet).
    """
    torch = e.dists.get("torch")
    variant = variant_of("torch", torch, e, kn) if torch is not None else None
    kind = variant_kind(variant) if variant else None
    out = []
    for u in e.hw.unusable:
        needs_it = kind == {"nvidia": "cuda", "amd": "rocm"}.get(u.gpu.vendor)
        what = f"torch {torch.version} cannot use it" if torch is not None and needs_it else (
            "torch cannot use it")
        fix = u.fix + ("; then `pipguard install --force-reinstall torch` for a GPU build"
                       if u.reason == NO_DRIVER and not needs_it else "")
        out.append(Finding("driver-too-old", "error" if needs_it else "warning",
                           f"{u.describe()}: {what}", f"{u.reason}: {u.detail}", fix))
    return out


# Libraries a GPU build pulls in that the cpu build does not.
GPU_ONLY = ("nvidia-", "cuda-", "triton", "pytorch-triton")


def _gpu_build_without_gpu(e: Environment, tv: Version, variant: str) -> list[Finding]:
    """A CUDA/ROCm build on a machine with no GPU at all: it runs, on the CPU, at a size."""
    kind = variant_kind(variant)
    # Only where the command measured the install (its sizes include torch's): the finding
    # is about what the build costs.
    if kind not in ("cuda", "rocm") or e.hw.accelerator != "none" or e.hw.gpus \
            or e.hw.unusable or "torch" not in e.sizes:
        return []
    torch = e.dists["torch"]
    libs = sorted({r.name.lower() for r in e.requires(torch)
                   if r.name.lower().startswith(GPU_ONLY)} & set(e.sizes))
    saved = sum(e.sizes[n] for n in libs)
    size = f"; the cpu build saves about {saved / 1e9:.1f} GB ({len(libs)} GPU libraries)" \
        if saved else ""
    return [Finding("gpu-build-without-gpu", "warning",
                    f"torch {tv} is the {variant} build, but this machine has no GPU: it runs "
                    f"on the CPU only{size}", f"torch {tv}, accelerator none",
                    "pipguard install --force-reinstall torch --torch-backend cpu")]


def _cpu_on_gpu(e: Environment, kn: Knowledge, tv: Version, variant: str) -> list[Finding]:
    if variant != "cpu":
        return []
    base = Version(tv.public)
    acc = e.hw.accelerator
    if acc not in ("nvidia", "amd", "intel"):
        return []
    kind = {"nvidia": "cuda", "amd": "rocm", "intel": "xpu"}[acc]
    usable = [v for v in kn.variants_for(base, e.platform)
              if variant_kind(v) == kind and judge(e.hw, e.os, e.machine, kn, v, base).ok]
    if not usable:
        return []
    return [Finding("cpu-build-on-gpu", "warning",
                    f"torch {tv} is the CPU build, but this machine has {acc.upper()} GPUs "
                    f"it could use (e.g. the {usable[0]} build)",
                    ", ".join(g.name for g in e.hw.gpus) or acc, REINSTALL)]


def deep_fit(facts: Mapping[str, Any], hw: Hardware, kn: Knowledge,
             installed: str) -> list[Finding]:
    """Judge what the imported torch reported (``doctor --deep``; keys in :mod:`deep_probe`).

    The build must be the installed one; on an NVIDIA (or, with a ROCm build, AMD) machine
    CUDA must be available, and why not is named; every tiny operation must have worked;
    the compiled architectures must cover the GPUs (for an AMD GPU the build lacks, the
    ``HSA_OVERRIDE_GFX_VERSION`` users apply, and its risk); the loaded CUDA libraries
    must be the build's CUDA major.
    """
    out = []
    loaded = str(facts.get("version") or "")
    if loaded and not same_build(loaded, installed):
        out.append(Finding("corrupt-install", "error",
                           f"import torch loads {loaded}, but torch {installed} is "
                           "installed (another copy shadows it, or files are mixed)",
                           f"torch.__version__ == {loaded!r}",
                           f"pipguard install --force-reinstall torch=={installed}"))
    out.extend(_unavailable(facts, hw, loaded or installed))
    items = [a for a in facts.get("arch") or [] if isinstance(a, str)]
    arch = arch_from_list(items)
    if arch.cubins or arch.ptx:
        vd = covers_gpus(hw.gpus, arch, kn, "torch")
        if not vd.ok:
            out.append(Finding("gpu-arch-unsupported", "error", vd.reason,
                               f"torch.cuda.get_arch_list() == {items}", REINSTALL))
    out.extend(_gfx(facts, hw, items, loaded or installed))
    said = {f.category for f in out}
    out.extend(f for f in _ops(facts) if f.category not in said)
    out.extend(_libraries(facts, loaded or installed))
    return out


def _unavailable(facts: Mapping[str, Any], hw: Hardware, torch: str) -> list[Finding]:
    """CUDA (or HIP) not available on a machine with the GPUs of the build's vendor."""
    hip = facts.get("hip")
    vendor = "amd" if hip else "nvidia"
    gpus = [g for g in hw.gpus if g.vendor == vendor]
    if hw.accelerator != vendor or not gpus or facts.get("cuda"):
        return []
    names = ", ".join(g.name for g in gpus)
    evidence = "torch.cuda.is_available() is False"
    if "cuda_version" in facts and not facts["cuda_version"] and not hip:
        return [Finding("cpu-build-on-gpu", "error", f"torch {torch} is a CPU build "
                        f"(torch.version.cuda is None): it cannot use the {names}",
                        evidence, REINSTALL)]
    why = str(facts.get("cuda_error") or "")
    blocked = [u for u in hw.unusable if u.gpu.vendor == vendor]
    because = "; ".join([*(u.describe() for u in blocked), *([why] if why else [])])
    message = f"torch {torch} cannot use the {names}: torch.cuda.is_available() is False" + (
        f" ({because})" if because else "")
    if blocked or "driver" in why.lower():
        fix = blocked[0].fix if blocked else (
            "install or update the GPU driver (`pipguard detect` shows what it finds)")
        return [Finding("driver-too-old", "error", message, why or evidence, fix)]
    return [Finding("cpu-build-on-gpu", "error", message, why or evidence, REINSTALL)]


def _gfx(facts: Mapping[str, Any], hw: Hardware, items: list[str],
         torch: str) -> list[Finding]:
    """AMD GPUs the ROCm build does not list, with the override users apply and its risk."""
    gfx = [a for a in items if a.startswith("gfx")]
    if not gfx or covers_gfx(hw.gpus, gfx, "").ok:
        return []
    listed = {a.split(":")[0] for a in gfx}
    # A device that runs as a listed target its hardware is not: an override is active.
    runs_as = [a.split(":")[0] for a in facts.get("gcn_arch") or [] if isinstance(a, str)]
    out = []
    for g in hw.gpus:
        arch = g.compute_capability
        if g.vendor != "amd" or not arch or arch in listed:
            continue
        build = f"torch {torch} (ROCm {facts.get('hip') or '?'})"
        value = hsa_override(arch, gfx)
        risk = (f"unsupported by AMD: {arch} runs kernels built for another GPU of its family "
                "and may crash, hang or compute wrong results")
        evidence = f"torch.cuda.get_arch_list() == {gfx}"
        set_to = next((a for a in runs_as if a in listed and a != arch), None)
        if set_to and (facts.get("ops") or {}).get("cuda", {}).get("ok"):
            out.append(Finding("gpu-arch-unsupported", "warning",
                               f"{build} has no kernels for {arch} ({g.name}); it runs as "
                               f"{set_to} through HSA_OVERRIDE_GFX_VERSION: {risk}", evidence,
                               "check results against the CPU; a ROCm build listing "
                               f"{arch}, when one exists: {REINSTALL}"))
        elif value:
            out.append(Finding("gpu-arch-unsupported", "error",
                               f"{build} has no kernels for {arch} ({g.name}); users run it "
                               f"with HSA_OVERRIDE_GFX_VERSION={value} ({risk})", evidence,
                               f"export HSA_OVERRIDE_GFX_VERSION={value}  (at your own risk: "
                               f"{risk})"))
        else:
            out.append(Finding("gpu-arch-unsupported", "error",
                               f"{build} has no kernels for {arch} ({g.name}), nor for any "
                               "GPU of its family", evidence, REINSTALL))
    return out


_OP_KINDS = (
    (re.compile(r"no kernel image|invalid device function|no binary for gpu|"
                r"not compatible with the current pytorch", re.I), "gpu-arch-unsupported"),
    (re.compile(r"driver", re.I), "driver-too-old"),
    (re.compile(r"libcu|cublas|cudnn|undefined symbol|cannot open shared object", re.I),
     "cuda-libraries"),
)
_OP_FIXES = {"gpu-arch-unsupported": REINSTALL, "driver-too-old": "update the GPU driver",
             "cuda-libraries": f"pipguard verify torch; {REINSTALL}",
             "corrupt-install": f"pipguard verify torch; {REINSTALL}"}


def _ops(facts: Mapping[str, Any]) -> list[Finding]:
    """Each tiny operation that failed (``cuda`` only when CUDA claims to be available)."""
    out = []
    ops = facts.get("ops")
    for device, result in (ops.items() if isinstance(ops, dict) else ()):
        if not isinstance(result, dict) or result.get("ok") or (
                device == "cuda" and not facts.get("cuda")):
            continue
        error = str(result.get("error") or "failed")
        category = next((c for rx, c in _OP_KINDS if rx.search(error)),
                        "corrupt-install" if device == "cpu" else "cuda-libraries")
        out.append(Finding(category, "error", f"a tiny operation on {device} failed: "
                           f"(torch.ones(2, device={device!r}) * 2).sum() — {error}",
                           error, _OP_FIXES[category]))
    return out


_SONAME = re.compile(r"(libcudart|libcublas|libcublasLt)\.so\.(\d+)")


def _libraries(facts: Mapping[str, Any], torch: str) -> list[Finding]:
    """A CUDA library of another major loaded into torch's process (LD_LIBRARY_PATH...)."""
    try:
        major = int(str(facts.get("cuda_version") or "").split(".")[0])
    except ValueError:
        return []
    out = []
    for path in facts.get("libraries") or []:
        m = _SONAME.fullmatch(str(path).replace("\\", "/").rsplit("/", 1)[-1])
        if m and int(m.group(2)) != major:
            out.append(Finding("cuda-libraries", "error",
                               f"torch {torch} is built for CUDA {facts['cuda_version']}, but "
                               f"the process loaded {m.group(0)} (CUDA {m.group(2)}) from "
                               f"{path}: another CUDA's library shadows torch's own", path,
                               "remove that CUDA from LD_LIBRARY_PATH (or the stray nvidia-* "
                               "wheel), then `pipguard verify torch`"))
    return out


def same_build(loaded: str, installed: str) -> bool:
    """Whether ``torch.__version__`` names the installed distribution.

    PyPI's torch says ``2.11.0+cu130`` at run time but ``2.11.0`` in its
    metadata (the label is stripped for PyPI), so a label only on the loaded
    side still matches; two different labels, or versions, do not.
    """
    try:
        a, b = Version(loaded), Version(installed)
    except InvalidVersion:
        return loaded == installed
    return a.public == b.public and (b.local is None or a.local == b.local)
