"""Why nothing fits: the message and hint that name the nearest thing that would work.

The planner (:mod:`pipguard.planner`) calls :func:`nothing_fits` when no variant gives a
build of what was asked; the words live here so the policy reads in one sitting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import canonicalize_name
from packaging.version import Version

from pipguard.hardware import Hardware
from pipguard.knowledge import Knowledge
from pipguard.plan import Rejection
from pipguard.platforms import platform_of
from pipguard.resolution import IndexSource, Request
from pipguard.simple import IndexFile
from pipguard.target import Interpreter


def spec_for(name: str, requests: Sequence[Request]) -> SpecifierSet:
    """The combined specifier of every request on ``name``."""
    spec = SpecifierSet()
    for r in requests:
        if canonicalize_name(r.requirement.name) == name:
            spec &= r.requirement.specifier
    return spec


def not_a_torch_index(url_of: str, variants: Sequence[str]) -> tuple[str, str]:
    """No variant has a torch page at all: the URL is not a torch index."""
    return (f"{url_of} holds no torch page for any of {', '.join(variants)}",
            "--torch-index-url must be the folder that holds cu126/, cpu/ … "
            "(e.g. https://download.pytorch.org/whl)")


def nothing_fits(requests: Sequence[Request], hw: Hardware, interp: Interpreter,
                 kn: Knowledge, source: IndexSource, variants: Sequence[str],
                 rejected: Sequence[Rejection], tag_order: Mapping[Tag, int]
                 ) -> tuple[str, str]:
    """The message and hint naming the nearest thing that would work."""
    spec = spec_for("torch", requests)
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


