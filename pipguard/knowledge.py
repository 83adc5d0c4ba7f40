"""What pipguard knows about PyTorch wheels, CUDA drivers and GPUs: pure queries over data.

The tables live in ``pipguard/data/facts.json`` (built from the reference notes; rows keep
a ``confidence`` of ``high``/``medium``/``uncertain`` and their ``source`` ids). They are
read once, lazily; :class:`Knowledge` only answers questions, it never does I/O.

A user file (``load_knowledge(path)``, ``$PIPGUARD_KNOWLEDGE_FILE``) has the same layout.
Merge rule: in every table a user row *replaces* the packaged row with the same key as a
whole (no deep merge), a new key *adds* a row and a ``null`` row *deletes* one; the scalars
``facts_date``/``about`` are replaced. Keys: ``releases`` and ``typing_extensions`` by torch
minor (``"2.15"``), ``companions`` by release (``"2.15.0"``), ``arch`` by
``"platform|variant|minor"`` (``"linux_x86_64|cu130|2.15"``), ``toolkit_driver`` by CUDA
version (``"13.2.1"``), ``compat_floor`` by CUDA major (``"13"``), the others by name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name
from packaging.version import Version

from pipguard.cudabuilds import CudaBuilds, build_of
from pipguard.lifecycle import ModuleChange, Retired
from pipguard.variants import CC, cuda_of, sort_key, variant_kind

ROLES = ("torch", "companion", "compiler", "other")


@dataclass(frozen=True)
class ArchList:
    """The GPU code compiled into one torch build: ``sm_XY`` cubins and ``compute_XY`` PTX.

    ``note`` is a caveat worth showing (an assumption, an unverified detail), else ``None``.
    """

    cubins: tuple[CC, ...]
    ptx: tuple[CC, ...]
    confidence: str
    note: str | None = None
    source: tuple[str, ...] = ()


def _native(arch: ArchList, cc: CC) -> bool:
    # A cubin for sm_X.y runs on any GPU X.z with z >= y (same major only).
    return any(c[0] == cc[0] and c[1] <= cc[1] for c in arch.cubins)


def covers(arch: ArchList, cc: CC) -> bool:
    """Whether a GPU of compute capability ``cc`` can run this build (cubin or PTX JIT)."""
    return _native(arch, cc) or any(p <= cc for p in arch.ptx)


def needs_ptx_jit(arch: ArchList, cc: CC) -> bool:
    """True when only PTX covers ``cc``: the driver must then be >= the toolkit's own driver."""
    return not _native(arch, cc) and any(p <= cc for p in arch.ptx)


def _minor(v: Version) -> str:
    return f"{v.major}.{v.minor}"


def _base(v: Version) -> Version:
    # "2.11.0+cu130" and "2.11.0rc1" are both release 2.11.0 for table lookups.
    return Version(".".join(str(p) for p in v.release))


def _triple(v: Version) -> tuple[int, int, int]:
    r = (*v.release, 0, 0)
    return (r[0], r[1], r[2])


@dataclass(frozen=True)
class FamilyMember:
    """One row of the family table: a package PyTorch builds per variant."""

    name: str  # canonical
    index_only: bool  # exists only on the torch index: never from anywhere else
    role: str  # one of ROLES: torch, companion (pinned to a torch release), compiler, other
    imports: tuple[str, ...] = ()  # the top-level import packages it installs


@dataclass(frozen=True)
class _Variant:
    name: str
    platforms: tuple[str, ...]
    releases: tuple[Version, ...]  # empty: every patch release of the minor
    confidence: str


@dataclass(frozen=True)
class _Release:
    minor: Version
    python: tuple[str, ...]
    python_platforms: Mapping[str, tuple[str, ...]]  # tags only some platforms have
    variants: tuple[_Variant, ...]
    pypi: Mapping[str, str]
    confidence: str


@dataclass(frozen=True, eq=False, repr=False)  # identity semantics: the tables are big
class Knowledge:
    """The merged tables, parsed. Build it with :func:`load_knowledge`; query its methods."""

    date: str
    releases: tuple[_Release, ...]  # oldest first
    companion_rows: Mapping[Version, Mapping[str, str]]
    toolkits: Mapping[str, tuple[Version, Mapping[str, Version]]]
    drivers: tuple[tuple[tuple[int, int, int], Version | None, Version | None], ...]
    floors: Mapping[int, Mapping[str, Version]]
    arch: Mapping[tuple[str, str, str], ArchList]  # (platform, variant, minor)
    rocm: Mapping[str, tuple[str, ...]]
    numpy2_first: Version
    numpy2_broken: frozenset[tuple[Version, str]]
    typing_ext: Mapping[str, Version | None]
    members: Mapping[str, FamilyMember]
    nvidia_libs: Mapping[str, int]
    gpu_families: Mapping[str, str]
    mirrors: frozenset[str]  # third-party names the PyTorch index also serves
    cuda_builds: tuple[CudaBuilds, ...] = ()
    retired: Mapping[str, Retired] = field(default_factory=dict)  # canonical name -> row
    modules: Mapping[str, ModuleChange] = field(default_factory=dict)  # module -> row
    cpp_api: Mapping[str, ModuleChange] = field(default_factory=dict)  # C++ name -> row
    cpp_prefixes: Mapping[str, str] = field(default_factory=dict)  # a name's start -> its row

    def _release(self, v: Version, newer_fallback: bool = False) -> _Release | None:
        minor = Version(_minor(v))
        for r in self.releases:
            if r.minor == minor:
                return r
        if newer_fallback and self.releases and minor > self.releases[-1].minor:
            return self.releases[-1]
        return None

    def _patches(self, r: _Release) -> list[Version]:
        found = sorted(t for t in self.companion_rows if Version(_minor(t)) == r.minor)
        return found or [Version(f"{r.minor}.0")]

    def facts_date(self) -> str:
        """The date of the newest fact in the tables."""
        return self.date

    def is_known_release(self, v: Version) -> bool:
        """Whether the tables have a row for ``v``'s minor (possibly an uncertain one)."""
        return self._release(v) is not None

    def release_confidence(self, v: Version) -> str | None:
        """The confidence of ``v``'s release row (2.14 is ``uncertain``), or ``None``."""
        r = self._release(v)
        return r.confidence if r else None

    def newest_release(self) -> Version:
        """The newest torch release the tables list."""
        return self._patches(self.releases[-1])[-1]

    def known_variants(self) -> tuple[str, ...]:
        """Every index variant name the tables know: CUDA, then ROCm, then cpu, xpu."""
        names = {v.name for r in self.releases for v in r.variants} | set(self.toolkits)
        return tuple(sorted(names, key=sort_key))

    def variants_for(self, torch_version: Version, platform: str | None = None) -> tuple[str, ...]:
        """Variants published for that release (uncertain ones included).

        Variants of only some patch releases (2.12.1's cu129) count for those only. A
        release newer than the tables gets the newest release's variants, an older unknown
        one ``()``. ``platform`` (``linux_x86_64``...) keeps that platform's only.
        """
        r = self._release(torch_version, newer_fallback=True)
        if r is None:
            return ()
        exact = r.minor == Version(_minor(torch_version))
        base = _base(torch_version)
        return tuple(
            v.name
            for v in r.variants
            if (not exact or not v.releases or base in v.releases)
            and (platform is None or platform in v.platforms)
        )

    def pypi_variant(self, torch_version: Version, platform: str) -> str | None:
        """Which build PyPI's plain ``torch`` is on that platform (``cu130``, ``cpu``)."""
        r = self._release(torch_version, newer_fallback=True)
        return r.pypi.get(platform) if r else None

    def last_release_for_platform(self, platform: str) -> Version | None:
        """The last listed release with wheels for a platform (``macos_x86_64`` -> 2.2.2)."""
        hits = [r for r in self.releases if any(platform in v.platforms for v in r.variants)]
        return self._patches(hits[-1])[-1] if hits else None

    def python_tags(self, v: Version, platform: str | None = None) -> tuple[str, ...] | None:
        """CPython tags with wheels (``cp310``, ``cp313t``); ``None`` for an unknown minor."""
        r = self._release(v)
        if r is None:
            return None
        only = r.python_platforms
        return tuple(t for t in r.python if not platform or platform in only.get(t, (platform,)))

    def first_release_for_python(self, tag: str) -> Version | None:
        """The first release with ``tag`` wheels (``cp311`` -> 2.0.0)."""
        hits = [r for r in self.releases if tag in r.python]
        return self._patches(hits[0])[0] if hits else None

    def last_release_for_python(self, tag: str) -> Version | None:
        """The last listed release with ``tag`` wheels (``cp37`` -> 1.13.1; may still go on)."""
        hits = [r for r in self.releases if tag in r.python]
        return self._patches(hits[-1])[-1] if hits else None

    def companions(self, torch_version: Version) -> dict[str, str]:
        """``{"torchvision": ..., "torchaudio": ..., "triton": ...}`` for a release, or ``{}``."""
        return dict(self.companion_rows.get(_base(torch_version), {}))

    def torch_for_companion(self, name: str, version: Version) -> Version | None:
        """The first torch release paired with that companion (torchvision 0.20.1 -> 2.5.1)."""
        key = _canon(name)
        for torch in sorted(self.companion_rows):
            got = self.companion_rows[torch].get(key)
            if got is not None and Version(got) == version:
                return torch
        return None

    def numpy2_compatible(self, torch_version: Version, os: str) -> bool:
        """Whether the torch wheels work with numpy >= 2 (False <= 2.2.x, 2.4.0 on win32)."""
        base = _base(torch_version)
        return base >= self.numpy2_first and (base, os) not in self.numpy2_broken

    def min_typing_extensions(self, torch_version: Version) -> Version | None:
        """Best-known typing_extensions lower bound of torch's Requires-Dist (``None``: none).

        Torch's own metadata is the real truth; newer releases reuse the newest row.
        """
        minor = _minor(torch_version)
        if minor in self.typing_ext:
            return self.typing_ext[minor]
        newest = max(self.typing_ext, key=Version, default=None)
        if newest is not None and Version(minor) > Version(newest):
            return self.typing_ext[newest]
        return None

    def cuda_version(self, variant: str, torch_version: Version | None) -> Version | None:
        """The CUDA toolkit inside a variant (cu128: 12.8.0 in 2.7, 12.8.1 in 2.8-2.11).

        An unknown ``cuNNN`` is read from its name (cu133 -> 13.3); non-CUDA gives ``None``.
        """
        if variant_kind(variant) != "cuda":
            return None
        if variant not in self.toolkits:
            return cuda_of(variant)
        default, by_minor = self.toolkits[variant]
        return default if torch_version is None else by_minor.get(_minor(torch_version), default)

    def toolkit_min_driver(self, cuda: Version, os: str) -> Version | None:
        """NVIDIA Table 3: the driver packaged with that toolkit update (``linux``/``win32``).

        An update missing from the table gets the newest earlier update of its minor (a
        lower bound); a toolkit newer than the table, or an N/A cell, gives ``None``.
        """
        key = _triple(cuda)
        if os not in ("linux", "win32") or not self.drivers or key > self.drivers[-1][0]:
            return None
        rows = [r for r in self.drivers if r[0][:2] == key[:2] and r[0] <= key]
        if not rows:
            return None
        return rows[-1][1] if os == "linux" else rows[-1][2]

    def compat_floor(self, cuda_major: int, os: str) -> Version | None:
        """Minor-version-compatibility floor of a CUDA major (12 -> 525.60.13 on linux)."""
        return self.floors.get(cuda_major, {}).get(os)

    def driver_cuda_api(self, driver: Version, os: str) -> Version | None:
        """The highest CUDA ``major.minor`` a driver fully supports (580.159.04 -> 13.0)."""
        best: tuple[int, int] | None = None
        for cuda, linux, win in self.drivers:
            need = linux if os == "linux" else win if os == "win32" else None
            if need is not None and need <= driver:
                best = max(best or cuda[:2], cuda[:2])
        for major, by_os in self.floors.items():
            floor = by_os.get(os)
            if floor is not None and floor <= driver:
                best = max(best or (major, 0), (major, 0))
        return Version(f"{best[0]}.{best[1]}") if best else None

    def arch_list(self, torch_version: Version, variant: str, platform: str) -> ArchList | None:
        """The CUDA arch list of ``torch_version+variant`` on ``platform``.

        A release newer than the variant's rows gets its newest row, an unknown ``cuNNN``
        the newest row of the same CUDA major: both marked ``uncertain``, with a note.
        ROCm, cpu and xpu give ``None`` (see :meth:`rocm_archs`).
        """
        if variant_kind(variant) != "cuda":
            return None
        minor = Version(_minor(torch_version))
        exact = self.arch.get((platform, variant, str(minor)))
        if exact is not None:
            return exact
        rows = [(Version(k[2]), sort_key(k[1]), a) for k, a in self.arch.items()
                if k[0] == platform]  # fmt: skip
        mine = [r for r in rows if r[1][2] == variant]
        if mine:
            last, _, row = max(mine, key=lambda r: r[0])
            if minor < last:
                return None  # the variant did not exist for that older release
            # The same variant's newest row: a release keeps its variant's arch list unless
            # PyPI notes say otherwise, so this is a good guess (medium), not a blind one.
            return _assumed(row, f"tables end at {last}; assumed same as {last}", "medium")
        major = (cuda_of(variant) or Version("0")).major
        same = [r for r in rows if r[1][1].major == major]
        if not same:
            return None
        m, key, row = max([r for r in same if r[0] == minor] or same, key=lambda r: r[:2])
        return _assumed(row, f"{variant} is not in the tables; assumed same as {key[2]} in {m}")

    def _cc_release(self, cc: CC, platform: str, last: bool) -> tuple[Version, str] | None:
        rows = [(Version(k[2]), k[1], a) for k, a in self.arch.items() if k[0] == platform]
        # Prefer builds with a native cubin; PTX-only coverage counts when nothing is native
        # (else the Windows cu11x 3.7+PTX builds would "cover" every newer GPU).
        pool = [r for r in rows if _native(r[2], cc)] or [r for r in rows if covers(r[2], cc)]
        if not pool:
            return None
        minor, key = sorted((m, sort_key(v)) for m, v, _ in pool)[-1 if last else 0]
        r = self._release(minor)
        patches = self._patches(r) if r else [Version(f"{minor}.0")]
        return (patches[-1 if last else 0], key[2])

    def first_release_with_cc(self, cc: CC, platform: str) -> tuple[Version, str] | None:
        """The first release and variant whose arch list covers ``cc`` ((12, 0): 2.7.0 cu128)."""
        return self._cc_release(cc, platform, last=False)

    def last_release_with_cc(self, cc: CC, platform: str) -> tuple[Version, str] | None:
        """The last listed release and variant covering ``cc`` (Pascal: newest cu126 row)."""
        return self._cc_release(cc, platform, last=True)

    def rocm_archs(self, variant: str) -> tuple[str, ...] | None:
        """gfx targets of a ROCm variant (``uncertain``: general knowledge), or ``None``."""
        return self.rocm.get(variant)

    def gpu_family_name(self, cc: CC) -> str:
        """``Pascal``, ``Volta``, ``Turing``, ``Ampere``, ``Ada``, ``Hopper``, ``Blackwell``..."""
        fams = self.gpu_families
        return fams.get(f"{cc[0]}.{cc[1]}") or fams.get(str(cc[0])) or f"sm_{cc[0]}{cc[1]}"

    def family(self) -> frozenset[str]:
        """Canonical names of the torch family: routed to the torch index, planned together."""
        return frozenset(self.members)

    def index_only(self) -> frozenset[str]:
        """Names that exist only on the PyTorch index and must never come from elsewhere."""
        return frozenset(n for n, m in self.members.items() if m.index_only)

    def index_mirrored(self, name: str) -> bool:
        """Whether the PyTorch index serves its own copy of ``name`` (a canonical name): the
        nvidia-* libraries and the third-party dependencies it mirrors."""
        return name in self.mirrors or name.startswith("nvidia-")

    def companion_names(self) -> tuple[str, ...]:
        """Family packages released in step with torch (torchvision, torchaudio, xformers…)."""
        return tuple(n for n, m in self.members.items() if m.role == "companion")

    def import_owners(self) -> dict[str, tuple[str, ...]]:
        """Each family import package and the distributions that may install it."""
        out: dict[str, list[str]] = {}
        for name, m in self.members.items():
            for imp in m.imports:
                out.setdefault(imp, []).append(name)
        return {imp: tuple(owners) for imp, owners in out.items()}

    def cuda_major_of_nvidia_lib(self, dist_name: str) -> int | None:
        """CUDA major of an ``nvidia-*`` wheel: ``-cu12`` -> 12; unsuffixed CUDA 13 names -> 13."""
        name = _canon(dist_name)
        m = re.fullmatch(r"nvidia-.+-cu(\d+)", name)
        return int(m.group(1)) if m else self.nvidia_libs.get(name)

    def retirement(self, dist_name: str) -> Retired | None:
        """The last torch minor a library released in step with torch was made for, and what
        replaces it; ``None`` while it goes on."""
        return self.retired.get(_canon(dist_name))

    def module_change(self, module: str) -> ModuleChange | None:
        """The release of torch or a companion that added or removed ``module``
        ("torch.fx"), where the tables know it."""
        return self.modules.get(module)

    def cpp_api_change(self, name: str) -> ModuleChange | None:
        """The release that removed ``name`` from torch's C++ API ("AT_CHECK", or a name a row's
        ``prefixes`` begin: "THCState" is THC's), where the tables know it."""
        return self.cpp_api.get(name) or next(
            (self.cpp_api[k] for p, k in self.cpp_prefixes.items() if name.startswith(p)), None)

    def cuda_build_of(self, dist_name: str) -> tuple[CudaBuilds, int] | None:
        """The project a distribution is one CUDA major's build of, and that major."""
        return build_of(self.cuda_builds, dist_name)


def _assumed(row: ArchList, note: str, confidence: str = "uncertain") -> ArchList:
    return ArchList(row.cubins, row.ptx, confidence, note, row.source)


def _canon(name: str) -> str:
    return str(canonicalize_name(name))
