"""What ``doctor`` judges: the installed distributions, their verification, the target.

Shared by the checks (:mod:`pipguard.doctor_fit`, :mod:`pipguard.doctor_packages`). A
build's *variant* (``cu124``, ``cpu``, ``rocm6.2``) is its local label; an unlabeled
build is what PyPI ships for that release on that platform (the CUDA build on Linux
x86_64, the CPU build elsewhere), as the tables say.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from packaging.requirements import Requirement
from packaging.version import InvalidVersion, Version

from pipguard.hardware import Hardware
from pipguard.install_record import Record
from pipguard.installed import InstalledDist
from pipguard.knowledge import Knowledge
from pipguard.platforms import platform_of
from pipguard.target import applicable, platform_markers
from pipguard.variants import label_of
from pipguard.verify import DistVerification

REINSTALL = "pipguard install --force-reinstall torch"
# Where torch-family files legitimately come from besides the configured torch index.
TRUSTED_URLS = ("https://download.pytorch.org/", "https://download-r2.pytorch.org/")
PYPI_FILES = "https://files.pythonhosted.org/"


@dataclass(frozen=True)
class Environment:
    """The facts doctor judges: installed dists, their verification, the target."""

    dists: Mapping[str, InstalledDist]
    verified: Sequence[DistVerification]
    hw: Hardware
    os: str = "linux"
    machine: str = "x86_64"
    marker_env: Mapping[str, str] | None = None  # the target's; else derived from os
    # URL prefixes of the torch index in use (``--torch-index-url``), trusted with TRUSTED_URLS.
    torch_index_urls: tuple[str, ...] = ()
    # Top-level package folders of the family that no installed distribution owns.
    orphans: tuple[str, ...] = ()
    # Bytes each distribution occupies (RECORD sizes), where the command read them.
    sizes: Mapping[str, int] = field(default_factory=dict)
    # What pipguard recorded installing here (files and indexes), if anything.
    record: Record = field(default_factory=lambda: Record((), {}))

    @property
    def platform(self) -> str:
        return platform_of(self.os, self.machine)

    def markers(self) -> dict[str, str]:
        if self.marker_env is not None:
            return dict(self.marker_env)
        return platform_markers(self.os, self.machine)

    def requires(self, d: InstalledDist) -> list[Requirement]:
        """``d``'s Requires-Dist that apply to the target (extras not requested)."""
        return applicable(d.requires_dist, self.markers())


def version_of(d: InstalledDist | None) -> Version | None:
    if d is None:
        return None
    try:
        return Version(d.version)
    except InvalidVersion:
        return None


def variant_of(name: str, d: InstalledDist | None, e: Environment, kn: Knowledge) -> str | None:
    """The build variant of ``d``: its label, else what PyPI ships for it here (or None)."""
    v = version_of(d)
    if v is None:
        return None
    if v.local:
        return label_of(v)
    torch_v = v if name == "torch" else kn.torch_for_companion(name, Version(v.public))
    return kn.pypi_variant(torch_v, e.platform) if torch_v is not None else None


def build_label(variant: str | None, d: InstalledDist) -> str:
    v = version_of(d)
    return f"+{variant}" if v and v.local else f"PyPI ({variant})"


def shared_folders(e: Environment, kn: Knowledge) -> dict[str, tuple[str, ...]]:
    """Each family package folder that two or more installed distributions write, in one
    location (``triton``: pytorch-triton-xpu and triton-xpu), with those distributions.
    torchtriton is left to the dependency-confusion check, which removes it."""
    out: dict[str, tuple[str, ...]] = {}
    for folder, owners in sorted(kn.import_owners().items()):
        by_place: dict[str, list[str]] = {}
        for o in owners:
            if o in e.dists and o != "torchtriton":
                by_place.setdefault(e.dists[o].location, []).append(o)
        if here := next((names for names in by_place.values() if len(names) > 1), None):
            out[folder] = tuple(here)
    return out


def pin_arg(r: Requirement) -> str:
    """``r`` as a command-line argument: without its marker (it already applied)."""
    extras = f"[{','.join(sorted(r.extras))}]" if r.extras else ""
    return f"{r.name}{extras} @ {r.url}" if r.url else f"{r.name}{extras}{r.specifier}"


