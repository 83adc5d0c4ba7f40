"""``doctor`` checks of the packages: integrity, companions, dependencies, provenance.

Pure functions of an :class:`~pipguard.doctor_environment.Environment` and the tables.
"""

from __future__ import annotations

from dataclasses import replace

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pipguard.doctor_environment import (
    PYPI_FILES,
    REINSTALL,
    TRUSTED_URLS,
    Environment,
    build_label,
    pin_arg,
    shared_folders,
    variant_of,
    version_of,
)
from pipguard.findings import Finding
from pipguard.install_record import swapped
from pipguard.knowledge import Knowledge
from pipguard.variants import variant_kind


def packages(e: Environment, kn: Knowledge) -> list[Finding]:
    """Every package finding for the environment."""
    out: list[Finding] = []
    for check in (_integrity, companions, _retired, _numpy, _typing_extensions, _cuda_libs,
                  _other_cuda_builds, _confusion, _conflicts):
        out.extend(check(e, kn))
    return out


def _integrity(e: Environment, kn: Knowledge) -> list[Finding]:
    out = []
    shared = {(name, folder) for folder, names in shared_folders(e, kn).items() for name in names}
    for v in e.verified:
        # (a folder two distributions write: each one's files differ where the other wrote
        # last; doctor_folders' finding says which to keep, so these say nothing more)
        v = replace(v, problems=tuple(p for p in v.problems if (
            canonicalize_name(v.name), p.path.replace("\\", "/").split("/", 1)[0]) not in shared))
        fix = f"pipguard install --force-reinstall --no-deps {v.name}=={v.version}"
        if v.record_damage:  # it was there, and it is broken: so may the files be
            out.append(Finding("corrupt-install", "error",
                               f"{v.name} {v.version} cannot be verified: its RECORD is damaged",
                               f"RECORD damaged: {v.record_damage}",
                               # pip cannot uninstall by a broken RECORD: install over it
                               fix.replace("--force-reinstall", "--ignore-installed")))
        elif v.record_missing:  # a source/develop build or a foreign installer: can't judge
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


def companions(e: Environment, kn: Knowledge) -> list[Finding]:
    """torch and its companions: each companion requires the installed torch, and is its build."""
    torch = e.dists.get("torch")
    tv = version_of(torch)
    if torch is None or tv is None:
        return []
    tvar = variant_of("torch", torch, e, kn)
    expected = kn.companions(Version(tv.public))
    out = []
    for name in kn.companion_names():
        d = e.dists.get(name)
        dv = version_of(d)
        if d is None or dv is None:
            continue
        fix = f"pipguard install torch=={tv.public} {name}"
        pinned = [r for r in e.requires(d) if canonicalize_name(r.name) == "torch"]
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
        cvar = variant_of(name, d, e, kn)
        if tvar is None or cvar is None or tvar == cvar:
            continue
        # Same CUDA major loads (companions check the major only); anything else does not.
        same_major = (variant_kind(tvar) == variant_kind(cvar) == "cuda"
                      and tvar[2:-1] == cvar[2:-1])
        out.append(Finding("companion-mismatch", "warning" if same_major else "error",
                           f"torch is the {build_label(tvar, torch)} build but {name} is the "
                           f"{build_label(cvar, d)} build" + ("" if same_major else
                           ": their compiled operators do not load together "
                           "(e.g. 'operator torchvision::nms does not exist')"),
                           f"torch {torch.version}, {name} {d.version}", fix))
    return out


def _retired(e: Environment, kn: Knowledge) -> list[Finding]:
    """A library released in step with torch that stopped (Intel's extension after 2.8),
    installed beside a newer torch: no release of it fits, and its import refuses torch.
    Beside an older one, where its releases are numbered as torch's, another minor than
    torch's is refused the same way."""
    tv = version_of(e.dists.get("torch"))
    if tv is None:
        return []
    out, minor = [], Version(f"{tv.major}.{tv.minor}")
    for name, row in kn.retired.items():
        if (d := e.dists.get(name)) is None:
            continue
        dv = version_of(d)
        if minor <= row.last:
            if row.same_minor and dv is not None and (dv.major, dv.minor) != (tv.major, tv.minor):
                index = row.indexes.get(str(dv.local or ""))  # (its build's own index: +xpu)
                out.append(Finding("companion-mismatch", "warning",
                                   f"{name} {d.version} is for torch {dv.major}.{dv.minor}, and "
                                   f"torch {tv} is installed: its import refuses another minor "
                                   "than its own; install its release for this torch"
                                   + (f" from {index}, where its +{dv.local} builds are" if index
                                      else ""), f"torch {tv}, {name} {d.version}",
                                   f'pipguard install "{name}=={minor}.*"'
                                   + (f" --extra-index-url {index}" if index else "")))
            continue
        out.append(Finding("companion-mismatch", "warning",
                           f"{name} {d.version} has no release for torch {tv.public}: its last "
                           f"is for torch {row.last}, and {row.instead} replaces it (uninstall "
                           "it and drop its import, or go back to torch "
                           f"{row.last})", f"torch {tv.public}, {name} {d.version}",
                           f"pip uninstall -y {name}"))
    return out


def _numpy(e: Environment, kn: Knowledge) -> list[Finding]:
    tv, nv = version_of(e.dists.get("torch")), version_of(e.dists.get("numpy"))
    if tv is None or nv is None or nv.major < 2:
        return []
    if kn.numpy2_compatible(Version(tv.public), e.os):
        return []
    return [Finding("numpy-abi", "error",
                    f"torch {tv} was built against NumPy 1.x and breaks with numpy {nv}",
                    f"torch {tv}, numpy {nv}", 'pipguard install "numpy<2"')]


def _typing_extensions(e: Environment, kn: Knowledge) -> list[Finding]:
    torch, te = e.dists.get("torch"), e.dists.get("typing-extensions")
    tv, tev = version_of(torch), version_of(te)
    if torch is None or tv is None:
        return []
    if te is None:  # every torch release imports typing_extensions
        return [Finding("typing-extensions", "error",
                        "typing-extensions is missing; torch imports it",
                        f"torch {tv}", "pipguard install typing-extensions")]
    if tev is None:
        return []
    # torch's own metadata is the truth; the tables only stand in when it has no bound.
    spec = [r.specifier for r in e.requires(torch)
            if canonicalize_name(r.name) == "typing-extensions" and str(r.specifier)]
    if not spec:
        needed = kn.min_typing_extensions(Version(tv.public))
        if needed is None:
            return []
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
    tv = version_of(torch)
    if torch is None or tv is None:
        return []
    out, required = [], set()
    for r in e.requires(torch):
        name = canonicalize_name(r.name)
        if not name.startswith("nvidia-"):
            continue
        required.add(name)
        d = e.dists.get(name)
        if d is None:
            out.append(Finding("cuda-libraries", "error",
                               f"{name} is missing; torch {tv} loads its CUDA libraries from it",
                               f"torch requires {r}", f'pipguard install "{pin_arg(r)}"'))
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
                               f"torch requires {r}", f'pipguard install "{pin_arg(r)}"'))
    if (cuda := _torch_cuda(e, kn)) is None:
        return out
    # A library any installed distribution asks for (torch through cuda-toolkit's
    # extras, say) is not a stray, whatever its markers say here.
    wanted = {canonicalize_name(_name_of(line)) for d in e.dists.values()
              for line in d.requires_dist}
    # ... nor is one of the major another project's CUDA build here loads (cupy-cuda11x).
    served = {found[1] for name in e.dists if (found := kn.cuda_build_of(name))}
    for lib, d in e.dists.items():
        major = _lib_major(lib, d.version, kn) if lib.startswith("nvidia-") else None
        if major and major not in (cuda.major, *served) and lib not in required | wanted:
            out.append(Finding("cuda-libraries", "warning",
                               f"{lib} {d.version} is a CUDA {major} library beside a "
                               f"CUDA {cuda.major} torch ({tv}); torch does not use it",
                               f"{lib} {d.version} at {d.location}",
                               f"pip uninstall {lib}  (if nothing else needs it)"))
    return out


def _torch_cuda(e: Environment, kn: Knowledge) -> Version | None:
    """The CUDA version the installed torch build was made for (``None``: no torch, or not
    a CUDA build)."""
    torch = e.dists.get("torch")
    tv, variant = version_of(torch), variant_of("torch", torch, e, kn)
    return kn.cuda_version(variant, Version(tv.public)) if tv and variant else None


def _other_cuda_builds(e: Environment, kn: Knowledge) -> list[Finding]:
    """A project's build for another CUDA major than torch's (``cupy-cuda11x`` beside a CUDA
    12 torch) loads that major's CUDA libraries. Where no ``nvidia-*`` library of that major
    is installed (by its own requirements or an extra), only a system CUDA of that major on
    the loader's path can serve it; without one it fails at import or first use
    (``libcublas.so.11: cannot open shared object file``). One finding per project: its
    builds of other majors go together (jax's plugin and pjrt), replaced by the same release
    where the project publishes each release for every major."""
    tv, cuda = version_of(e.dists.get("torch")), _torch_cuda(e, kn)
    if cuda is None:
        return []
    present = {kn.cuda_major_of_nvidia_lib(n) for n in e.dists if n.startswith("nvidia-")}
    stray: dict[str, list[tuple[str, int]]] = {}
    for name in sorted(e.dists):
        found = kn.cuda_build_of(name)
        if found is not None and found[1] not in (cuda.major, *present):
            stray.setdefault(found[0].project, []).append((name, found[1]))
    out = []
    for builds in kn.cuda_builds:
        if not (mine := stray.get(builds.project)):
            continue
        names, first = " ".join(n for n, _ in mine), e.dists[mine[0][0]]
        listing = " and ".join(f"{n} {e.dists[n].version} (CUDA {major})" for n, major in mine)
        others = sorted({major for _, major in mine})
        right = builds.build_for(cuda.major)
        fix = f"pip uninstall {names}  (or install CUDA {others[0]}'s libraries for it)"
        if right:
            # the same release where it exists for torch's major; a build of it already here
            # shares the package folder the uninstall empties: installed again
            name = str(canonicalize_name(right.split("[")[0]))
            here = e.dists.get(name) if kn.cuda_build_of(name) else None  # (not jax itself)
            version = _public_version((here or first).version)
            pin = f"=={version}" if version and builds.has_release(cuda.major, version) else ""
            fix = (f"pip uninstall -y {names} && pipguard install "
                   + ("--force-reinstall --no-deps " if here else "") + f'"{right}{pin}"')
        out.append(Finding(
            "cuda-libraries", "warning",
            f"{listing} {'are' if len(mine) > 1 else 'is'} {builds.project}'s build"
            f"{'s' if len(mine) > 1 else ''} for another CUDA major than torch's "
            f"({tv}: CUDA {cuda.major}), and no CUDA {'/'.join(map(str, others))} library is "
            "installed here: unless a system CUDA of that major is on the loader's path it "
            "cannot load its libraries; " + (f"{right} is its build for CUDA {cuda.major}"
                                           if right else f"{builds.project} has no build for "
                                           f"CUDA {cuda.major}"),
            f"{first.name} {first.version} at {first.location}", fix))
    return out


def _public_version(version: str) -> Version | None:
    """A release's public version (local label dropped), or ``None`` where it does not parse."""
    try:
        return Version(Version(version).public)
    except InvalidVersion:
        return None


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
        why = swapped(e.record, name, d.version, d.direct_url)
        if why is not None:
            out.append(Finding("dependency-confusion", "error",
                               f"{name} {d.version} is not the file pipguard installed: {why}",
                               f"{name} {d.version} at {d.location}",
                               f"pipguard install --force-reinstall {name}=={d.version}"))
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
        v, newest = version_of(d), _newest_known(name, kn)
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
                               f"torch {d.version} at {d.location}", REINSTALL))
    return out


def _conflicts(e: Environment, kn: Knowledge) -> list[Finding]:
    """Broken requirements that involve the torch family (what `pip check` would say)."""
    fam = kn.family()
    out = []
    for name, d in e.dists.items():
        for r in e.requires(d):
            dep = canonicalize_name(r.name)
            if dep not in fam and name not in fam:
                continue
            if (name in kn.companion_names() and dep == "torch") or (name == "torch" and (
                    dep.startswith("nvidia-") or dep == "typing-extensions")):
                continue  # companion-mismatch, cuda-libraries and typing-extensions say it
            have = e.dists.get(dep)
            if have is None:
                out.append(Finding("resolver-conflict", "error",
                                   f"{name} {d.version} requires {r}, which is not installed",
                                   f"{name} Requires-Dist: {r}",
                                   f'pipguard install "{pin_arg(r)}"'))
            elif not r.specifier.contains(have.version, prereleases=True):
                out.append(Finding("resolver-conflict", "error",
                                   f"{name} {d.version} requires {r}, but {dep} {have.version} "
                                   "is installed", f"{name} Requires-Dist: {r}",
                                   f'pipguard install "{name}" "{pin_arg(r)}"'))
    return out


