"""The selection policy: which torch build fits the target, and why.

Pure over its parameters: the hardware (detected or overridden), the target
interpreter, the knowledge tables and an :class:`~pipguard.resolve.IndexSource`.
The policy, as the README states it:

* walk torch versions newest first among those the requirements allow;
* a variant is a candidate only if the index has a wheel for the target's tags;
* a CUDA variant qualifies only if the driver meets its CUDA major's floor and
  every GPU is covered by its compiled architectures (PTX only with a driver
  at least the toolkit's own);
* among qualifying variants prefer those the driver fully supports, newest CUDA
  first; else the newest under minor-version compatibility, with a warning;
* ROCm needs the GPU's gfx arch in the variant's list, Intel takes ``xpu``,
  no accelerator ``cpu``; ``--torch-backend`` forces a variant;
* companions are resolved jointly with torch inside the chosen variant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import canonicalize_name
from packaging.version import Version

from pipguard.errors import IndexUnavailable, NoMatchingBuild
from pipguard.hardware import Hardware
from pipguard.knowledge import Knowledge, covers, needs_ptx_jit, platform_of
from pipguard.resolve import (
    Candidate,
    FamilyProvider,
    IndexSource,
    Request,
    ResolutionFailed,
    resolve,
    tag_rank,
)
from pipguard.simple import IndexFile
from pipguard.target import Interpreter

_NO_TORCH = "the index has no torch for this variant"


@dataclass(frozen=True)
class PlannedPackage:
    """One file the install will take from the torch index."""

    name: str
    version: str  # with its local label: "2.11.0+cu128"
    url: str
    sha256: str | None
    filename: str

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "version": self.version, "url": self.url,
                "sha256": self.sha256, "filename": self.filename}


@dataclass(frozen=True)
class Rejection:
    """A variant (for a torch version) that was not chosen, and why."""

    variant: str
    reason: str
    version: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"variant": self.variant, "version": self.version, "reason": self.reason}


@dataclass(frozen=True)
class Plan:
    """The decision: backend, files, notes and what was rejected."""

    backend: str
    packages: tuple[PlannedPackage, ...]
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    rejected: tuple[Rejection, ...] = ()
    index_url: str = ""

    def package(self, name: str) -> PlannedPackage | None:
        for p in self.packages:
            if p.name == canonicalize_name(name):
                return p
        return None

    def as_dict(self) -> dict[str, object]:
        return {
            "backend": self.backend,
            "index_url": self.index_url,
            "packages": [p.as_dict() for p in self.packages],
            "notes": list(self.notes) + [f"warning: {w}" for w in self.warnings],
            "warnings": list(self.warnings),
            "rejected": [r.as_dict() for r in self.rejected],
        }


@dataclass(frozen=True)
class Verdict:
    """Whether a (torch version, variant) pair may run on the hardware."""

    ok: bool
    full_support: bool = True
    reason: str = ""
    warning: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def marker_environment(interp: Interpreter) -> dict[str, str]:
    """PEP 508 marker values for the target interpreter."""
    system = {"linux": "Linux", "win32": "Windows", "darwin": "Darwin"}.get(interp.os, interp.os)
    full = ".".join(str(p) for p in interp.version)
    return {
        "implementation_name": interp.implementation,
        "implementation_version": full,
        "os_name": "nt" if interp.os == "win32" else "posix",
        "platform_machine": interp.machine,
        "platform_release": "",
        "platform_system": system,
        "platform_version": "",
        "python_full_version": full,
        "platform_python_implementation": "CPython" if interp.implementation == "cpython"
        else interp.implementation,
        "python_version": interp.version_str,
        "sys_platform": interp.os,
    }


def candidate_variants(hw: Hardware, interp: Interpreter, kn: Knowledge,
                       forced: str | None) -> tuple[str, ...]:
    """Variants worth looking at for this hardware, before looking at the index."""
    if forced:
        return (forced,)
    if interp.os == "darwin":
        return ("cpu",)
    known = kn.known_variants()
    if hw.accelerator == "nvidia":
        cuda = [v for v in known if v.startswith("cu")]
        return tuple(sorted(cuda, key=lambda v: kn.cuda_version(v, None) or Version("0"),
                            reverse=True))
    if hw.accelerator == "amd" and interp.os == "linux":
        return tuple(sorted((v for v in known if v.startswith("rocm")),
                            key=lambda v: Version(v[4:]), reverse=True))
    if hw.accelerator == "intel":
        return ("xpu",)
    return ("cpu",)


def judge(hw: Hardware, interp: Interpreter, kn: Knowledge, variant: str,
          torch: Version) -> Verdict:
    """Decide whether ``torch``+``variant`` can run on ``hw`` (the policy's core)."""
    if variant.startswith("cu"):
        return _judge_cuda(hw, interp, kn, variant, torch)
    if variant.startswith("rocm"):
        archs = kn.rocm_archs(variant)
        gfx = [g.compute_capability for g in hw.gpus if g.vendor == "amd" and g.compute_capability]
        if archs is None or not gfx:
            return Verdict(True, notes=(f"{variant}: GPU architecture list unknown; not checked",))
        missing = [g for g in gfx if g not in archs]
        if missing:
            return Verdict(False, reason=f"{variant} has no kernels for {', '.join(missing)}")
        return Verdict(True)
    return Verdict(True)


def _judge_cuda(hw: Hardware, interp: Interpreter, kn: Knowledge, variant: str,
                torch: Version) -> Verdict:
    os_name = "win32" if interp.os == "win32" else "linux"
    cuda = kn.cuda_version(variant, torch)
    notes: list[str] = []
    driver = hw.driver()
    full = True
    warning = None
    toolkit_driver = None
    if cuda is not None:
        toolkit_driver = kn.toolkit_min_driver(cuda, os_name) or kn.toolkit_min_driver(
            Version(f"{cuda.major}.{cuda.minor}"), os_name)
    if driver is None:
        if hw.accelerator == "nvidia":
            notes.append("NVIDIA driver version unknown; assuming it is new enough")
    elif cuda is not None:
        floor = kn.compat_floor(cuda.major, os_name)
        if floor is not None and driver < floor:
            return Verdict(False, reason=(
                f"{variant} (CUDA {cuda}) needs driver >= {floor}; found {driver}"))
        if toolkit_driver is None:
            notes.append(f"{variant}: driver needed by CUDA {cuda} unknown; checked the "
                         f"CUDA {cuda.major}.x floor only")
        elif driver < toolkit_driver:
            full = False
            warning = (f"{variant} runs on driver {driver} only through CUDA minor-version "
                       f"compatibility; upgrade the driver to >= {toolkit_driver} for full support")
    ccs = [(g, g.nvidia_cc()) for g in hw.gpus if g.vendor == "nvidia"]
    if not ccs:
        return Verdict(True, full, warning=warning, notes=tuple(notes))
    platform = platform_of(interp.os, interp.machine)
    arch = kn.arch_list(torch, variant, platform)
    if arch is None:
        notes.append(f"{variant}: compiled GPU architectures unknown for {torch}; not checked")
        return Verdict(True, full, warning=warning, notes=tuple(notes))
    if arch.note:
        notes.append(f"{variant}: {arch.note}")
    for gpu, cc in ccs:
        if cc is None:
            notes.append(f"compute capability of {gpu.name} unknown; not checked")
            continue
        if not covers(arch, cc):
            return Verdict(False, reason=(
                f"torch {torch}+{variant} has no kernels for sm_{cc[0]}{cc[1]} "
                f"({kn.gpu_family_name(cc)}, {gpu.name})"))
        if needs_ptx_jit(arch, cc) and not full:
            return Verdict(False, reason=(
                f"{variant} reaches sm_{cc[0]}{cc[1]} only through PTX, which needs driver >= "
                f"{toolkit_driver} (minor-version compatibility does not cover PTX JIT)"))
    return Verdict(True, full, warning=warning, notes=tuple(notes))


@dataclass
class _Outcome:
    variant: str
    result: dict[str, Candidate]
    torch: Version | None
    verdicts: dict[Version, Verdict]


def plan(
    requests: Sequence[Request],
    *,
    hw: Hardware,
    interp: Interpreter,
    kn: Knowledge,
    source: IndexSource,
    index_url: str = "",
    prereleases: bool = False,
) -> Plan:
    """Choose the variant and the exact family files for ``requests``.

    Raises :class:`~pipguard.errors.NoMatchingBuild` naming the nearest thing
    that would work when nothing fits.
    """
    forced = hw.torch_backend or _forced_by_label(requests)
    variants = candidate_variants(hw, interp, kn, forced)
    tag_order = {t: i for i, t in enumerate(interp.tags)}
    env = marker_environment(interp)
    family = kn.family()
    torch_spec = _spec_for("torch", requests)
    rejected: list[Rejection] = []
    notes: list[str] = []
    outcomes: list[_Outcome] = []
    best_version: Version | None = None

    for variant in variants:
        verdicts: dict[Version, Verdict] = {}

        def accept(c: Candidate, variant: str = variant,
                   verdicts: dict[Version, Verdict] = verdicts) -> bool:
            if c.name != "torch":
                return True
            base = Version(c.version.public)
            if base not in verdicts:
                verdicts[base] = judge(hw, interp, kn, variant, base)
            # A forced variant is taken as asked; the verdict becomes a warning.
            return verdicts[base].ok or forced is not None

        provider = FamilyProvider(source, variant, tag_order=tag_order, environment=env,
                                  family=family, prereleases=prereleases, accept=accept)
        torch_files = source.files(variant, "torch")
        available = sorted({Version(f.version.public) for f in torch_files or ()
                            if tag_rank(f, tag_order) is not None
                            and torch_spec.contains(f.version, prereleases=True)}, reverse=True)
        if torch_files is None or (not available and _wants_torch(requests)):
            reason = (_NO_TORCH if torch_files is None
                      else f"no torch wheel for {interp.python_tag} on this platform"
                      + (f" matching {torch_spec}" if str(torch_spec) else ""))
            rejected.append(Rejection(variant, reason))
            continue
        if best_version is not None and available and available[0] < best_version:
            rejected.append(Rejection(variant, f"newest torch here is {available[0]}; "
                                               f"{best_version} was found elsewhere"))
            continue
        try:
            result = resolve(provider, requests)
        except ResolutionFailed as exc:
            bad = sorted((v, vd.reason) for v, vd in verdicts.items() if not vd.ok)
            if bad and not any(vd.ok for vd in verdicts.values()):
                rejected.append(Rejection(variant, bad[-1][1], str(bad[-1][0])))
            else:
                rejected.append(Rejection(variant, exc.reason,
                                          str(available[0]) if available else None))
            continue
        torch_c = result.get("torch")
        tv = Version(torch_c.version.public) if torch_c else None
        for v, vd in verdicts.items():
            if not vd.ok and (tv is None or v > tv):
                rejected.append(Rejection(variant, vd.reason, str(v)))
        outcomes.append(_Outcome(variant, result, tv, verdicts))
        if tv is not None and (best_version is None or tv > best_version):
            best_version = tv

    if not outcomes and not forced and rejected and all(
            r.reason == _NO_TORCH for r in rejected):
        # Not one variant has a torch page: the URL is not a torch index at all.
        raise IndexUnavailable(
            f"{index_url.replace('VARIANT', '<variant>')} holds no torch page for any of "
            f"{', '.join(variants)}",
            hint="--torch-index-url must be the folder that holds cu126/, cpu/ … "
                 "(e.g. https://download.pytorch.org/whl)")
    if not outcomes:
        raise NoMatchingBuild(*_nothing_fits(requests, hw, interp, kn, source, variants,
                                             rejected, tag_order))

    def rank(o: _Outcome) -> tuple[Version, bool, Version]:
        vd = o.verdicts.get(o.torch) if o.torch else None
        return (o.torch or Version("0"), vd.full_support if vd else True,
                kn.cuda_version(o.variant, o.torch) or Version("0"))

    chosen = max(outcomes, key=rank)
    warnings: list[str] = []
    chosen_vd = chosen.verdicts.get(chosen.torch) if chosen.torch else None
    if chosen_vd is not None:
        notes.extend(chosen_vd.notes)
        if chosen_vd.warning:
            warnings.append(chosen_vd.warning)
    for o in outcomes:
        if o is not chosen:
            rejected.append(Rejection(o.variant, f"gives torch {o.torch}; {chosen.variant} "
                                      "is preferred (newer torch, full driver support, newer CUDA)",
                                      str(o.torch) if o.torch else None))
    newest = _newest_anywhere(source, variants, torch_spec, tag_order)
    why = "; ".join(sorted({r.reason for r in rejected if r.version == str(newest)
                            and "is preferred" not in r.reason}))
    # Only when the hardware ruled the newer release out: a companion pin that
    # needs an older torch is the user's choice, not news.
    if chosen.torch is not None and newest is not None and newest > chosen.torch and why:
        warnings.append(f"torch {newest} exists but was not chosen: {why}; "
                        f"planned the newest that fits, {chosen.torch}")
    if forced:
        for v in sorted(chosen.verdicts):
            if v == chosen.torch and not chosen.verdicts[v].ok:
                warnings.append(chosen.verdicts[v].reason)
    if chosen.torch is not None and not kn.is_known_release(chosen.torch):
        notes.append(f"torch {chosen.torch} is newer than pipguard's tables "
                     f"(facts of {kn.facts_date()}); planned from the index "
                     "with the newest known rows")
    packages = []
    for name, cand in sorted(chosen.result.items()):
        if cand.file.sha256 is None:
            notes.append(f"{cand.file.filename}: the index publishes no sha256; "
                         "pip will record the hash it sees")
        packages.append(PlannedPackage(name, str(cand.version), cand.file.url,
                                       cand.file.sha256, cand.file.filename))
    return Plan(chosen.variant, tuple(packages), tuple(dict.fromkeys(notes)),
                tuple(warnings), tuple(rejected), index_url)


def _wants_torch(requests: Sequence[Request]) -> bool:
    return any(canonicalize_name(r.requirement.name) == "torch" for r in requests)


def _spec_for(name: str, requests: Sequence[Request]) -> SpecifierSet:
    spec = SpecifierSet()
    for r in requests:
        if canonicalize_name(r.requirement.name) == name:
            spec &= r.requirement.specifier
    return spec


def _forced_by_label(requests: Sequence[Request]) -> str | None:
    """A requirement like ``torch==2.5.1+cu124`` names its variant."""
    for r in requests:
        for s in r.requirement.specifier:
            if s.operator in ("==", "===") and "+" in s.version and "*" not in s.version:
                return s.version.split("+", 1)[1]
    return None


def _newest_anywhere(source: IndexSource, variants: Sequence[str], spec: SpecifierSet,
                     tag_order: Mapping[Tag, int]) -> Version | None:
    found = [Version(f.version.public) for v in variants for f in source.files(v, "torch") or ()
             if spec.contains(f.version, prereleases=True)
             and any(t in tag_order for t in f.tags)]
    return max(found) if found else None


def _nothing_fits(requests: Sequence[Request], hw: Hardware, interp: Interpreter,
                  kn: Knowledge, source: IndexSource, variants: Sequence[str],
                  rejected: Sequence[Rejection], tag_order: Mapping[Tag, int]
                  ) -> tuple[str, str]:
    """The message and hint naming the nearest thing that would work."""
    spec = _spec_for("torch", requests)
    wanted = ", ".join(str(r.requirement) for r in requests) or "torch"
    reasons = "; ".join(dict.fromkeys(f"{r.variant}: {r.reason}" for r in rejected))
    all_files = [f for v in variants for f in source.files(v, "torch") or ()]
    matching = [f for f in all_files if spec.contains(f.version, prereleases=True)]
    if matching and not any(t in tag_order for f in matching for t in f.tags):
        return _python_or_platform(matching, all_files, interp, kn, tag_order)
    for gpu in hw.gpus:
        cc = gpu.nvidia_cc()
        if cc is None:
            continue
        platform = platform_of(interp.os, interp.machine)
        first = kn.first_release_with_cc(cc, platform)
        last = kn.last_release_with_cc(cc, platform)
        blocked = [r for r in rejected if f"sm_{cc[0]}{cc[1]}" in r.reason]
        if not blocked:
            continue
        fam = kn.gpu_family_name(cc)
        versions = [Version(f.version.public) for f in matching]
        if first and versions and all(v < first[0] for v in versions):
            return (f"no {_versions(versions)} build has kernels for sm_{cc[0]}{cc[1]} ({fam}); "
                    f"{first[0]} (+{first[1]}) is the first release that has",
                    f"ask for torch>={first[0]}")
        if last is not None:
            return (f"no {_versions(versions)} build has kernels for sm_{cc[0]}{cc[1]} ({fam}); "
                    f"the newest release with them is {last[0]} (+{last[1]})",
                    f"ask for torch=={last[0]} or --torch-backend {last[1]}")
    if hw.driver() is not None and any("needs driver" in r.reason for r in rejected):
        return (f"no build of {wanted} runs on NVIDIA driver {hw.driver_version}: {reasons}",
                "upgrade the NVIDIA driver, allow an older torch, or --torch-backend cpu")
    return (f"no build of {wanted} fits this target: {reasons or 'no files on the index'}",
            "see `pipguard plan --json` for every rejected variant; --torch-backend forces one")


def _python_or_platform(matching: Sequence[IndexFile], all_files: Sequence[IndexFile],
                        interp: Interpreter, kn: Knowledge, tag_order: Mapping[Tag, int]
                        ) -> tuple[str, str]:
    """Why none of the wanted files fits: the Python, or the platform, and what would."""
    platforms = {t.platform for t in tag_order}
    where = f"{interp.os}/{interp.machine}"
    versions = _versions([Version(f.version.public) for f in matching])
    on_platform = [f for f in matching if any(t.platform in platforms for t in f.tags)]
    if on_platform:
        pys = sorted({t.interpreter for f in on_platform for t in f.tags
                      if t.interpreter.startswith("cp")}, key=lambda s: (len(s), s))
        fitting = sorted((f for f in all_files if any(t in tag_order for t in f.tags)),
                         key=lambda f: f.version)
        nearest = (f"{Version(fitting[0].version.public)} is the first with Python "
                   f"{interp.version_str}" if fitting else
                   f"no release on this index has wheels for Python {interp.version_str}")
        return (f"torch {versions} has wheels for Python {_py_range(pys)} only on {where} "
                f"(target is Python {interp.version_str}); {nearest}",
                "pin a release that supports this Python, or use --python with another "
                "interpreter")
    here = sorted((Version(f.version.public) for f in all_files
                   if any(t.platform in platforms for t in f.tags)), reverse=True)
    last = kn.last_release_for_platform(platform_of(interp.os, interp.machine))
    nearest = (f"the newest release with wheels for it here is {here[0]}" if here else
               f"the tables say {last} was the last release for it" if last else
               "no release on this index has wheels for it")
    return (f"torch {versions} has no wheel for {where}; {nearest}",
            "pin a release built for this platform, or install on a supported platform")


def _versions(versions: Sequence[Version]) -> str:
    vs = sorted(set(versions))
    if len(vs) > 4:
        return f"{vs[0]} … {vs[-1]}"
    return ", ".join(str(v) for v in vs) if vs else "matching"


def _py_range(tags: Sequence[str]) -> str:
    def fmt(t: str) -> str:
        return f"{t[2]}.{t[3:]}"
    if not tags:
        return "none"
    return fmt(tags[0]) if len(tags) == 1 else f"{fmt(tags[0])}–{fmt(tags[-1])}"


def family_requests(reqs: Sequence[tuple[Requirement, str]], family: frozenset[str]
                    ) -> list[Request]:
    """Keep the requirements on family packages (URL requirements stay with pip)."""
    return [Request(r, origin) for r, origin in reqs
            if canonicalize_name(r.name) in family and not r.url]


def _arch_label(vendor: str, cc: str | None) -> str:
    if cc is None:
        return "?"
    return "sm_" + cc.replace(".", "") if vendor == "nvidia" else cc


def summary_line(plan: Plan, hw: Hardware) -> str:
    """One line: what will be installed, for which hardware, from where."""
    torch = plan.package("torch")
    what = f"torch {torch.version}" if torch else ", ".join(
        f"{p.name} {p.version}" for p in plan.packages) or "nothing from the torch index"
    gpus = ", ".join(f"{g.name} ({_arch_label(g.vendor, g.compute_capability)})"
                     for g in hw.gpus) or ("no GPU" if hw.accelerator == "none"
                                           else hw.accelerator)
    driver = f", driver {hw.driver_version}" if hw.driver_version else ""
    return f"{what} for {gpus}{driver} — from {plan.index_url}"
