"""``doctor`` checks of fit: does the installed build run on this hardware?

Every answer comes from :mod:`pipguard.compatibility`, the same one ``plan`` uses,
whether the build is known from its metadata and the tables or from what the
imported torch reports (``doctor --deep``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from packaging.version import InvalidVersion, Version

from pipguard.compatibility import DRIVER, PTX, arch_from_list, covers_gpus, judge
from pipguard.doctor_environment import REINSTALL, Environment, variant_of, version_of
from pipguard.findings import Finding
from pipguard.hardware import Hardware
from pipguard.knowledge import Knowledge
from pipguard.variants import variant_kind


def fit(e: Environment, kn: Knowledge) -> list[Finding]:
    """Whether the installed torch runs here, and a CPU build where a GPU one would."""
    torch = e.dists.get("torch")
    tv, variant = version_of(torch), variant_of("torch", torch, e, kn)
    if tv is None or variant is None:
        return []
    base = Version(tv.public)
    out = _cpu_on_gpu(e, kn, tv, variant)
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
    """Judge what the imported torch reported (``doctor --deep``)."""
    out = []
    loaded = str(facts.get("version") or "")
    if loaded and not same_build(loaded, installed):
        out.append(Finding("corrupt-install", "error",
                           f"import torch loads {loaded}, but torch {installed} is "
                           "installed (another copy shadows it, or files are mixed)",
                           f"torch.__version__ == {loaded!r}",
                           f"pipguard install --force-reinstall torch=={installed}"))
    if hw.accelerator == "nvidia" and hw.gpus and not facts.get("cuda"):
        out.append(Finding("cpu-build-on-gpu", "warning",
                           f"torch {loaded} imports but cannot use the GPU",
                           "torch.cuda.is_available() is False", REINSTALL))
    items = [a for a in facts.get("arch", []) if isinstance(a, str)]
    if items:
        vd = covers_gpus(hw.gpus, arch_from_list(items), kn, "torch")
        if not vd.ok:
            out.append(Finding("gpu-arch-unsupported", "error", vd.reason,
                               f"torch.cuda.get_arch_list() == {items}", REINSTALL))
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
