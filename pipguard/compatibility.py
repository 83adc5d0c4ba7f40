"""Whether a torch build runs on the hardware, and why not: the one answer.

``plan`` asks it of every (release, variant) it considers, ``doctor`` of the installed
build, ``doctor --deep`` of the arch list the imported torch reports. Pure over the
hardware, the target platform, the knowledge tables and the build.

The rules:

* a CUDA build needs the driver to meet its CUDA major's minor-version-compatibility floor;
  below the toolkit's own driver it runs only under minor-version compatibility (a warning);
* every NVIDIA GPU must be covered by the build's compiled code: a cubin of the same major
  and a minor at most the GPU's, or PTX of an older arch — and PTX needs the toolkit's own
  driver (minor-version compatibility does not cover PTX JIT);
* a ROCm build needs each AMD GPU's gfx target in its list (:func:`covers_gfx`); for one
  it lacks, :func:`hsa_override` names the ``HSA_OVERRIDE_GFX_VERSION`` users apply to run
  a listed target of the same family (unsupported: it may crash or compute wrongly);
* a CUDA build on a machine whose GPUs are all another vendor's (or a ROCm build likewise)
  cannot use them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from packaging.version import Version

from pipguard.hardware import Gpu, Hardware
from pipguard.knowledge import ArchList, Knowledge, covers, needs_ptx_jit
from pipguard.platforms import platform_of
from pipguard.variants import CC, parse_arch, parse_gfx, variant_kind

# Verdict.failed: which rule ruled the build out.
DRIVER, ARCH, PTX, VENDOR = "driver", "arch", "ptx", "vendor"


@dataclass(frozen=True)
class Verdict:
    """Whether a build may run on the hardware; when not, which rule failed and why.

    ``reason``/``failed``/``evidence``/``certain`` describe the first failure; ``also``
    holds the verdicts of further rules that failed too (a driver too old *and* no kernels).
    """

    ok: bool
    full_support: bool = True
    reason: str = ""
    failed: str | None = None  # DRIVER, ARCH, PTX or VENDOR when not ok
    warning: str | None = None
    notes: tuple[str, ...] = ()
    evidence: str = ""  # the compiled code or driver facts the verdict rests on
    certain: bool = True  # False when the arch list is an assumption (tables end earlier)
    also: tuple[Verdict, ...] = ()

    def failures(self) -> tuple[Verdict, ...]:
        """Every failed rule, the first one first."""
        return () if self.ok else (self, *self.also)


def _os(os_name: str) -> str:
    return "win32" if os_name == "win32" else "linux"


def judge(hw: Hardware, os_name: str, machine: str, kn: Knowledge, variant: str,
          torch: Version) -> Verdict:
    """Whether ``torch`` + ``variant`` runs on ``hw`` for the target ``os_name``/``machine``."""
    kind = variant_kind(variant)
    vendor = {"cuda": "nvidia", "rocm": "amd"}.get(kind)
    if vendor and hw.gpus and all(g.vendor not in (vendor, "") for g in hw.gpus):
        return Verdict(False, reason=(f"{variant} is a {kind.upper()} build, but this machine's "
                                      f"GPUs are {hw.accelerator.upper()}"), failed=VENDOR,
                       evidence=", ".join(g.name for g in hw.gpus))
    if kind == "cuda":
        return _judge_cuda(hw, os_name, machine, kn, variant, torch)
    if kind == "rocm":
        return _judge_rocm(hw, kn, variant)
    return Verdict(True)


def _judge_rocm(hw: Hardware, kn: Knowledge, variant: str) -> Verdict:
    archs = kn.rocm_archs(variant)
    gfx = [g.compute_capability for g in hw.gpus if g.vendor == "amd" and g.compute_capability]
    if archs is None or not gfx:
        return Verdict(True, notes=(f"{variant}: GPU architecture list unknown; not checked",))
    return covers_gfx(hw.gpus, archs, variant)


def covers_gfx(gpus: tuple[Gpu, ...], archs: Sequence[str], build: str) -> Verdict:
    """Whether the gfx targets ``archs`` (``gfx1100``, ``gfx90a:xnack-``) list every AMD GPU."""
    listed = {a.split(":")[0] for a in archs}
    missing = list(dict.fromkeys(
        g.compute_capability for g in gpus
        if g.vendor == "amd" and g.compute_capability and g.compute_capability not in listed))
    if missing:
        return Verdict(False, reason=f"{build} has no kernels for {', '.join(missing)}",
                       failed=ARCH, evidence=f"compiled for: {' '.join(archs)}")
    return Verdict(True)


def hsa_override(gfx: str, archs: Sequence[str]) -> str | None:
    """The ``HSA_OVERRIDE_GFX_VERSION`` that runs a listed target of ``gfx``'s family.

    ROCm runs kernels built for another target of the same major and minor when told to
    (gfx1031 as 10.3.0, i.e. gfx1030; gfx1103 as 11.0.0): the override users apply to
    consumer GPUs a build does not list. ``None`` when the build lists none of the family.
    """
    want = parse_gfx(gfx)
    if want is None:
        return None
    family = sorted({p for p in (parse_gfx(a) for a in archs)
                     if p is not None and p[:2] == want[:2] and p != want},
                    key=lambda p: p[2])
    return ".".join(map(str, family[0])) if family else None


def _judge_cuda(hw: Hardware, os_name: str, machine: str, kn: Knowledge, variant: str,
                torch: Version) -> Verdict:
    os_key = _os(os_name)
    cuda = kn.cuda_version(variant, torch)
    notes: list[str] = []
    driver = hw.driver()
    full, warning, toolkit_driver = True, None, None
    if cuda is not None:
        toolkit_driver = kn.toolkit_min_driver(cuda, os_key) or kn.toolkit_min_driver(
            Version(f"{cuda.major}.{cuda.minor}"), os_key)
    driver_fail: Verdict | None = None
    if driver is None:
        if hw.accelerator == "nvidia":
            notes.append("NVIDIA driver version unknown; assuming it is new enough")
    elif cuda is not None:
        floor = kn.compat_floor(cuda.major, os_key)
        if floor is not None and driver < floor:
            driver_fail = Verdict(False, reason=(
                f"{variant} (CUDA {cuda}) needs driver >= {floor}; found {driver}"),
                failed=DRIVER, evidence=f"driver {driver}")
        elif toolkit_driver is None:
            notes.append(f"{variant}: driver needed by CUDA {cuda} unknown; checked the "
                         f"CUDA {cuda.major}.x floor only")
        elif driver < toolkit_driver:
            full = False
            warning = (f"{variant} runs on driver {driver} only through CUDA minor-version "
                       f"compatibility; upgrade the driver to >= {toolkit_driver} for full support")
    arch = kn.arch_list(torch, variant, platform_of(os_name, machine))
    has_nvidia = any(g.vendor == "nvidia" for g in hw.gpus)
    if arch is None:
        if has_nvidia:
            notes.append(f"{variant}: compiled GPU architectures unknown for {torch}; not checked")
        return driver_fail or Verdict(True, full, warning=warning, notes=tuple(notes))
    if arch.note and has_nvidia:
        notes.append(f"{variant}: {arch.note}")
    # Below the floor nothing runs at all: PTX is not the question then.
    verdict = covers_gpus(hw.gpus, arch, kn, f"torch {torch}+{variant}",
                          ptx_allowed=full or driver_fail is not None,
                          toolkit_driver=toolkit_driver, variant=variant)
    if driver_fail is not None:
        return replace(driver_fail, also=verdict.failures())
    if not verdict.ok:
        return replace(verdict, full_support=full, warning=warning)
    return Verdict(True, full, warning=warning, notes=tuple(notes) + verdict.notes)


def covers_gpus(gpus: tuple[Gpu, ...], arch: ArchList, kn: Knowledge, build: str, *,
                ptx_allowed: bool = True, toolkit_driver: Version | None = None,
                variant: str = "") -> Verdict:
    """Whether compiled code ``arch`` covers every NVIDIA GPU (PTX only if ``ptx_allowed``)."""
    notes: list[str] = []
    evidence = "compiled for: " + arch_text(arch) + (f" ({arch.note})" if arch.note else "")
    for gpu in gpus:
        if gpu.vendor != "nvidia":
            continue
        cc = gpu.nvidia_cc()
        if cc is None:
            notes.append(f"compute capability of {gpu.name} unknown; not checked")
            continue
        if not covers(arch, cc):
            return Verdict(False, reason=(
                f"{build} has no kernels for sm_{cc[0]}{cc[1]} ({kn.gpu_family_name(cc)}, "
                f"{gpu.name})"), failed=ARCH, evidence=evidence,
                certain=arch.confidence != "uncertain")
        if needs_ptx_jit(arch, cc) and not ptx_allowed:
            return Verdict(False, reason=(
                f"{variant or build} reaches sm_{cc[0]}{cc[1]} only through PTX, which needs "
                f"driver >= {toolkit_driver} (minor-version compatibility does not cover PTX "
                "JIT)"), failed=PTX, evidence=evidence)
    return Verdict(True, notes=tuple(notes), evidence=evidence)


def arch_text(arch: ArchList) -> str:
    """``sm_80 sm_90 compute_90``: the compiled code as ``get_arch_list()`` prints it."""
    return " ".join([f"sm_{a}{b}" for a, b in arch.cubins]
                    + [f"compute_{a}{b}" for a, b in arch.ptx])


def arch_from_list(items: list[str]) -> ArchList:
    """An :class:`ArchList` from ``torch.cuda.get_arch_list()`` (what the build really has)."""
    cubins: list[CC] = []
    ptx: list[CC] = []
    for item in items:
        parsed = parse_arch(item)
        if parsed is not None:
            (cubins if parsed[0] == "sm" else ptx).append(parsed[1])
    return ArchList(tuple(sorted(set(cubins))), tuple(sorted(set(ptx))), "high")
