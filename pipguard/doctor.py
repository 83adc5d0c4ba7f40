"""``pipguard doctor``: what is wrong with the torch environment, and the fix.

Reads the target environment (``pip inspect``), RECORD files and the knowledge
tables against the detected (or overridden) hardware; it does not import torch
unless ``--deep`` asks for it (in a subprocess with a timeout). The checks are
pure functions of an :class:`Environment` so tests feed recorded states; gathering
the facts, ``--deep`` and the report live in :mod:`pipguard.doctor_deep`.

A build's *variant* (``cu124``, ``cpu``, ``rocm6.2``) is its local label; an
unlabeled build is what PyPI ships for that release on that platform (the
CUDA build on Linux x86_64, the CPU build elsewhere), as the tables say.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pipguard.doctor_deep import _DEEP as _DEEP
from pipguard.doctor_deep import DEEP_TIMEOUT_S as DEEP_TIMEOUT_S
from pipguard.doctor_deep import _deep as _deep
from pipguard.doctor_deep import run_doctor as run_doctor
from pipguard.environment import InstalledDist
from pipguard.findings import Finding
from pipguard.hardware import Hardware
from pipguard.knowledge import Knowledge, covers, needs_ptx_jit, platform_of
from pipguard.variants import variant_kind
from pipguard.verify import DistVerification

COMPANIONS = ("torchvision", "torchaudio", "torchtext", "torchdata", "torchao", "torchcodec",
              "xformers", "torchrec", "fbgemm-gpu")
# Where torch-family files legitimately come from besides the configured torch index.
TRUSTED_URLS = ("https://download.pytorch.org/", "https://download-r2.pytorch.org/")
PYPI_FILES = "https://files.pythonhosted.org/"
_REINSTALL = "pipguard install --force-reinstall torch"


@dataclass(frozen=True)
class Environment:
    """The facts doctor judges: installed dists, their verification, the target."""

    dists: Mapping[str, InstalledDist]
    verified: Sequence[DistVerification]
    hw: Hardware
    os: str = "linux"
    machine: str = "x86_64"
    marker_env: Mapping[str, str] | None = None
    # URL prefixes of the torch index in use (``--torch-index-url``), trusted with TRUSTED_URLS.
    torch_index_urls: tuple[str, ...] = ()
    # Top-level package folders of the family that no installed distribution owns.
    orphans: tuple[str, ...] = ()


def _version(d: InstalledDist | None) -> Version | None:
    if d is None:
        return None
    try:
        return Version(d.version)
    except InvalidVersion:
        return None


def _markers(e: Environment) -> dict[str, str]:
    if e.marker_env is not None:
        return {**e.marker_env, "extra": ""}
    system = {"linux": "Linux", "win32": "Windows", "darwin": "Darwin"}.get(e.os, e.os)
    return {"sys_platform": e.os, "platform_system": system, "platform_machine": e.machine,
            "os_name": "nt" if e.os == "win32" else "posix", "extra": ""}


def _requires(d: InstalledDist, e: Environment) -> list[Requirement]:
    """``d``'s Requires-Dist that apply to the target (extras not requested)."""
    out = []
    env = _markers(e)
    for line in d.requires_dist:
        try:
            r = Requirement(line)
        except InvalidRequirement:
            continue
        if r.marker is None or r.marker.evaluate(env):
            out.append(r)
    return out


def _pin(r: Requirement) -> str:
    """``r`` as a command-line argument: without its marker (it already applied)."""
    extras = f"[{','.join(sorted(r.extras))}]" if r.extras else ""
    return f"{r.name}{extras} @ {r.url}" if r.url else f"{r.name}{extras}{r.specifier}"


def _platform(e: Environment) -> str:
    return platform_of(e.os, e.machine)


def _variant(name: str, d: InstalledDist | None, e: Environment, kn: Knowledge) -> str | None:
    """The build variant of ``d``: its label, else what PyPI ships for it here (or None)."""
    v = _version(d)
    if v is None:
        return None
    if v.local:
        return v.local if variant_kind(v.local) != "other" else None
    torch_v = v if name == "torch" else kn.torch_for_companion(name, Version(v.public))
    return kn.pypi_variant(torch_v, _platform(e)) if torch_v is not None else None


def _label(variant: str | None, d: InstalledDist) -> str:
    v = _version(d)
    return f"+{variant}" if v and v.local else f"PyPI ({variant})"


def _orphaned(e: Environment, kn: Knowledge) -> list[Finding]:
    return [Finding("corrupt-install", "error",
                    f"{os.path.basename(path)} files in {os.path.dirname(path)} belong to no "
                    "installed distribution (an install stopped before pip wrote its metadata)",
                    path, f"pipguard install {os.path.basename(path)}")
            for path in e.orphans]


def check(e: Environment, kn: Knowledge) -> list[Finding]:
    """Every finding for the environment, errors first."""
    out: list[Finding] = []
    checks: tuple[Callable[[Environment, Knowledge], list[Finding]], ...] = (
        _integrity, _companions, _cpu_on_gpu, _gpu_arch, _driver, _numpy,
        _typing_extensions, _cuda_libs, _confusion, _conflicts, _orphaned)
    for fn in checks:
        out.extend(fn(e, kn))
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(out, key=lambda f: order[f.severity])


def _integrity(e: Environment, kn: Knowledge) -> list[Finding]:
    out = []
    for v in e.verified:
        fix = f"pipguard install --force-reinstall --no-deps {v.name}=={v.version}"
        if v.record_missing:  # a source/develop build or a foreign installer: can't judge
            out.append(Finding("corrupt-install", "warning",
                               f"{v.name} {v.version} cannot be verified: it has no RECORD",
                               "RECORD missing", fix))
        elif v.problems:
            paths = ", ".join(f"{p.problem} {p.path}" for p in v.problems[:5])
            more = f" (+{len(v.problems) - 5} more)" if len(v.problems) > 5 else ""
            out.append(Finding("corrupt-install", "error",
                               f"{v.name} {v.version} has files that differ from its RECORD",
                               paths + more, fix))
    return out


def _companions(e: Environment, kn: Knowledge) -> list[Finding]:
    torch = e.dists.get("torch")
    tv = _version(torch)
    if torch is None or tv is None:
        return []
    tvar = _variant("torch", torch, e, kn)
    expected = kn.companions(Version(tv.public))
    out = []
    for name in COMPANIONS:
        d = e.dists.get(name)
        dv = _version(d)
        if d is None or dv is None:
            continue
        fix = f"pipguard install torch=={tv.public} {name}"
        pinned = [r for r in _requires(d, e) if canonicalize_name(r.name) == "torch"]
        bad = [r for r in pinned if not r.specifier.contains(tv, prereleases=True)]
        for r in bad:
            out.append(Finding("companion-mismatch", "error",
                               f"{name} {d.version} requires {r}, but torch {torch.version} "
                               "is installed", f"{name} Requires-Dist: {r}", fix))
        want = expected.get(name)
        if not bad and want and Version(dv.public) != Version(want):
            out.append(Finding("companion-mismatch", "warning",
                               f"{name} {d.version} is not the release made for torch "
                               f"{tv.public} ({name} {want})",
                               f"torch {torch.version}, {name} {d.version}", fix))
        cvar = _variant(name, d, e, kn)
        if tvar is None or cvar is None or tvar == cvar:
            continue
        # Same CUDA major loads (companions check the major only); anything else does not.
        same_major = (variant_kind(tvar) == variant_kind(cvar) == "cuda"
                      and tvar[2:-1] == cvar[2:-1])
        out.append(Finding("companion-mismatch", "warning" if same_major else "error",
                           f"torch is the {_label(tvar, torch)} build but {name} is the "
                           f"{_label(cvar, d)} build" + ("" if same_major else
                           ": their compiled operators do not load together "
                           "(e.g. 'operator torchvision::nms does not exist')"),
                           f"torch {torch.version}, {name} {d.version}", fix))
    return out


def _nvidia_ok(e: Environment, kn: Knowledge, tv: Version, variant: str) -> bool:
    """Whether ``variant`` of release ``tv`` would run on this NVIDIA machine."""
    cuda = kn.cuda_version(variant, tv)
    floor = kn.compat_floor(cuda.major, "win32" if e.os == "win32" else "linux") if cuda else None
    driver = e.hw.driver()
    if driver is not None and (floor is None or driver < floor):
        return False
    arch = kn.arch_list(tv, variant, _platform(e))
    ccs = [cc for g in e.hw.gpus if (cc := g.nvidia_cc()) is not None]
    return not ccs or (arch is not None and all(covers(arch, cc) for cc in ccs))


def _cpu_on_gpu(e: Environment, kn: Knowledge) -> list[Finding]:
    torch = e.dists.get("torch")
    tv = _version(torch)
    if tv is None or _variant("torch", torch, e, kn) != "cpu":
        return []
    base = Version(tv.public)
    variants = kn.variants_for(base, _platform(e))
    acc = e.hw.accelerator
    if acc == "nvidia":  # only when some CUDA build of this release would run here
        usable = [v for v in variants if variant_kind(v) == "cuda" and _nvidia_ok(e, kn, base, v)]
    elif acc == "amd":
        gfx = [g.compute_capability for g in e.hw.gpus if g.compute_capability]
        usable = [v for v in variants if variant_kind(v) == "rocm"
                  and all(a in (kn.rocm_archs(v) or ()) for a in gfx)]
    elif acc == "intel":
        usable = [v for v in variants if v == "xpu"]
    else:
        return []
    if not usable:
        return []
    return [Finding("cpu-build-on-gpu", "warning",
                    f"torch {tv} is the CPU build, but this machine has {acc.upper()} GPUs "
                    f"it could use (e.g. the {usable[0]} build)",
                    ", ".join(g.name for g in e.hw.gpus) or acc, _REINSTALL)]


def _gpu_arch(e: Environment, kn: Knowledge) -> list[Finding]:
    torch = e.dists.get("torch")
    tv, variant = _version(torch), _variant("torch", torch, e, kn)
    if tv is None or variant is None:
        return []
    kind, out = variant_kind(variant), []
    if kind == "cuda":
        arch = kn.arch_list(Version(tv.public), variant, _platform(e))
        for g in e.hw.gpus:
            cc = g.nvidia_cc()
            if arch is None or cc is None or covers(arch, cc):
                continue
            have = " ".join([f"sm_{a}{b}" for a, b in arch.cubins]
                            + [f"compute_{a}{b}" for a, b in arch.ptx])
            sev = "warning" if arch.confidence == "uncertain" else "error"
            out.append(Finding("gpu-arch-unsupported", sev,
                               f"torch {tv} has no kernels for {g.name} (sm_{cc[0]}{cc[1]}, "
                               f"{kn.gpu_family_name(cc)})",
                               f"compiled for: {have}" + (f" ({arch.note})" if arch.note else ""),
                               _REINSTALL))
    elif kind == "rocm":
        archs = kn.rocm_archs(variant)
        for g in e.hw.gpus:
            gfx = g.compute_capability
            if g.vendor == "amd" and archs and gfx and gfx not in archs:
                out.append(Finding("gpu-arch-unsupported", "warning",
                                   f"torch {tv} has no kernels for {g.name} ({gfx})",
                                   f"compiled for: {' '.join(archs)}", _REINSTALL))
    vendor = {"cuda": "nvidia", "rocm": "amd"}.get(kind)
    if vendor and e.hw.gpus and all(g.vendor not in (vendor, "") for g in e.hw.gpus):
        out.append(Finding("gpu-arch-unsupported", "error",
                           f"torch {tv} is a {kind.upper()} build, but this machine's GPUs are "
                           f"{e.hw.accelerator.upper()}", ", ".join(g.name for g in e.hw.gpus),
                           _REINSTALL))
    return out


def _driver(e: Environment, kn: Knowledge) -> list[Finding]:
    torch = e.dists.get("torch")
    tv, variant, driver = _version(torch), _variant("torch", torch, e, kn), e.hw.driver()
    if tv is None or variant is None or driver is None or variant_kind(variant) != "cuda":
        return []
    os_name = "win32" if e.os == "win32" else "linux"
    base = Version(tv.public)
    cuda = kn.cuda_version(variant, base)
    floor = kn.compat_floor(cuda.major, os_name) if cuda else None
    if cuda is None or floor is None:
        return []
    if driver < floor:
        return [Finding("driver-too-old", "error",
                        f"torch {tv} needs NVIDIA driver >= {floor} (CUDA {cuda}); this machine "
                        f"has {driver}", f"driver {driver}, torch {tv}",
                        f"{_REINSTALL}  (or upgrade the driver)")]
    own = kn.toolkit_min_driver(cuda, os_name)
    if own is None or driver >= own:
        return []
    arch = kn.arch_list(base, variant, _platform(e))
    jit = [g.name for g in e.hw.gpus if arch and (cc := g.nvidia_cc()) and needs_ptx_jit(arch, cc)]
    if jit:  # minor-version compatibility does not cover PTX JIT
        return [Finding("driver-too-old", "error",
                        f"torch {tv} runs on {', '.join(jit)} only through PTX JIT, which needs "
                        f"driver >= {own} (CUDA {cuda}); this machine has {driver}",
                        f"driver {driver}, torch {tv}", f"upgrade the driver, or {_REINSTALL}")]
    return [Finding("driver-too-old", "info",
                    f"driver {driver} runs CUDA {cuda} under minor-version compatibility "
                    f"(full support from {own})", f"driver {driver}, torch {tv}",
                    f"upgrade the driver to >= {own} for full support")]


def _numpy(e: Environment, kn: Knowledge) -> list[Finding]:
    tv, nv = _version(e.dists.get("torch")), _version(e.dists.get("numpy"))
    if tv is None or nv is None or nv.major < 2:
        return []
    if kn.numpy2_compatible(Version(tv.public), e.os):
        return []
    return [Finding("numpy-abi", "error",
                    f"torch {tv} was built against NumPy 1.x and breaks with numpy {nv}",
                    f"torch {tv}, numpy {nv}", 'pipguard install "numpy<2"')]


def _typing_extensions(e: Environment, kn: Knowledge) -> list[Finding]:
    torch, te = e.dists.get("torch"), e.dists.get("typing-extensions")
    tv, tev = _version(torch), _version(te)
    if torch is None or tv is None:
        return []
    if te is None:  # every torch release imports typing_extensions
        return [Finding("typing-extensions", "error",
                        "typing-extensions is missing; torch imports it",
                        f"torch {tv}", "pipguard install typing-extensions")]
    if tev is None:
        return []
    # torch's own metadata is the truth; the tables only stand in when it has no bound.
    spec = [r.specifier for r in _requires(torch, e)
            if canonicalize_name(r.name) == "typing-extensions" and str(r.specifier)]
    if not spec:
        needed = kn.min_typing_extensions(Version(tv.public))
        if needed is None:
            return []
        from packaging.specifiers import SpecifierSet

        spec = [SpecifierSet(f">={needed}")]
    bad = [s for s in spec if not s.contains(tev, prereleases=True)]
    if not bad:
        return []
    return [Finding("typing-extensions", "error",
                    f"typing-extensions {tev} is too old for torch {tv} (needs {bad[0]})",
                    f"typing-extensions {tev} at {te.location}",
                    f'pipguard install -U "typing-extensions{bad[0]}"')]


def _lib_major(name: str, version: str, kn: Knowledge) -> int | None:
    """CUDA major of an nvidia-* wheel, from its name (``-cu12``, or the tables' list of
    CUDA 13 names). Not from its version: cuFFT 12.0 and cuRAND 10.4 ship with CUDA 13."""
    return kn.cuda_major_of_nvidia_lib(name)


def _version_major(version: str) -> int | None:
    try:
        return Version(version).major
    except InvalidVersion:
        return None


def _name_of(requirement_line: str) -> str:
    try:
        return Requirement(requirement_line).name
    except InvalidRequirement:
        return ""


def _cuda_libs(e: Environment, kn: Knowledge) -> list[Finding]:
    torch = e.dists.get("torch")
    tv, variant = _version(torch), _variant("torch", torch, e, kn)
    if torch is None or tv is None:
        return []
    out, required = [], set()
    for r in _requires(torch, e):
        name = canonicalize_name(r.name)
        if not name.startswith("nvidia-"):
            continue
        required.add(name)
        d = e.dists.get(name)
        if d is None:
            out.append(Finding("cuda-libraries", "error",
                               f"{name} is missing; torch {tv} loads its CUDA libraries from it",
                               f"torch requires {r}", f'pipguard install "{_pin(r)}"'))
        elif not r.specifier.contains(d.version, prereleases=True):
            want = [Version(s.version.split("+")[0]).major for s in r.specifier
                    if s.operator in ("==", "===", "~=", ">=") and s.version[:1].isdigit()]
            # the same package in two versions: its own numbering compares
            have = _version_major(d.version)
            wrong = bool(want) and have is not None and have != want[0]
            out.append(Finding("cuda-libraries", "error" if wrong else "warning",
                               f"{name} {d.version} is "
                               + (f"a CUDA {have} library; torch {tv} needs CUDA {want[0]}"
                                  if wrong else f"not the version torch {tv} was built with "
                                  f"({r.specifier})"),
                               f"torch requires {r}", f'pipguard install "{_pin(r)}"'))
    cuda = kn.cuda_version(variant, Version(tv.public)) if variant else None
    if cuda is None:
        return out
    # A library any installed distribution asks for (torch through cuda-toolkit's
    # extras, say) is not a stray, whatever its markers say here.
    wanted = {canonicalize_name(_name_of(line)) for d in e.dists.values()
              for line in d.requires_dist}
    for lib, d in e.dists.items():
        major = _lib_major(lib, d.version, kn) if lib.startswith("nvidia-") else None
        if major and major != cuda.major and lib not in required | wanted:
            out.append(Finding("cuda-libraries", "warning",
                               f"{lib} {d.version} is a CUDA {major} library beside a "
                               f"CUDA {cuda.major} torch ({tv}); torch does not use it",
                               f"{lib} {d.version} at {d.location}",
                               f"pip uninstall {lib}  (if nothing else needs it)"))
    return out


def _newest_known(name: str, kn: Knowledge) -> Version | None:
    """The newest release of a family package the tables know (torch, or a companion)."""
    if name == "torch":
        return kn.newest_release()
    key = "triton" if "triton" in name else name  # pytorch-triton* follow triton's numbering
    return max((Version(row[key]) for row in kn.companion_rows.values() if key in row),
               default=None)


def _confusion(e: Environment, kn: Knowledge) -> list[Finding]:
    out = []
    if "torchtriton" in e.dists:
        d = e.dists["torchtriton"]
        out.append(Finding("dependency-confusion", "error",
                           "torchtriton is installed: the name of the Dec 2022 malicious PyPI "
                           "package (PyTorch's real dependency is pytorch-triton)",
                           f"torchtriton {d.version} at {d.location}",
                           "pip uninstall -y torchtriton torch torchvision torchaudio && "
                           "pip cache purge && pipguard install torch"))
    fam, index_only = kn.family(), kn.index_only()
    trusted = tuple(u.rstrip("/") + "/" for u in e.torch_index_urls) + TRUSTED_URLS
    for name, d in e.dists.items():
        if name not in fam or name == "torchtriton":
            continue
        info = d.direct_url or {}
        url = str(info.get("url", ""))
        ok = trusted if name in index_only else (*trusted, PYPI_FILES)
        # An archive fetched over HTTP from elsewhere; a VCS checkout or local build is the
        # user's own choice.
        if url.startswith(("http://", "https://")) and "vcs_info" not in info \
                and not url.startswith(ok):
            out.append(Finding("dependency-confusion", "warning",
                               f"{name} {d.version} was installed from {url.split('/')[2]}, "
                               "not from the torch index", url,
                               f"pipguard install --force-reinstall {name}"))
        v, newest = _version(d), _newest_known(name, kn)
        if v is not None and newest is not None and \
                v.major > max(2 * newest.major, newest.major + 2):
            out.append(Finding("dependency-confusion", "error",
                               f"{name} {v} is not a PyTorch release (the newest known is "
                               f"{newest}): a look-alike from another index",
                               f"{name} {v} at {d.location}",
                               f"pip uninstall -y {name} && pipguard install {name}"))
        elif name == "torch" and not d.requires_dist:
            out.append(Finding("dependency-confusion", "warning",
                               f"torch {d.version} declares no dependencies, unlike every "
                               "PyTorch build: probably not from PyTorch",
                               f"torch {d.version} at {d.location}", _REINSTALL))
    return out


def _conflicts(e: Environment, kn: Knowledge) -> list[Finding]:
    """Broken requirements that involve the torch family (what `pip check` would say)."""
    fam = kn.family()
    out = []
    for name, d in e.dists.items():
        for r in _requires(d, e):
            dep = canonicalize_name(r.name)
            if dep not in fam and name not in fam:
                continue
            if (name in COMPANIONS and dep == "torch") or (name == "torch" and (
                    dep.startswith("nvidia-") or dep == "typing-extensions")):
                continue  # companion-mismatch, cuda-libraries and typing-extensions say it
            have = e.dists.get(dep)
            if have is None:
                out.append(Finding("resolver-conflict", "error",
                                   f"{name} {d.version} requires {r}, which is not installed",
                                   f"{name} Requires-Dist: {r}", f'pipguard install "{_pin(r)}"'))
            elif not r.specifier.contains(have.version, prereleases=True):
                out.append(Finding("resolver-conflict", "error",
                                   f"{name} {d.version} requires {r}, but {dep} {have.version} "
                                   "is installed", f"{name} Requires-Dist: {r}",
                                   f'pipguard install "{name}" "{_pin(r)}"'))
    return out
