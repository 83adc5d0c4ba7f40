#!/usr/bin/env python3
"""Build an imitation of download.pytorch.org/whl and of PyPI for pipguard's tests.

The real index is out of reach from tests, so this writes a small, deterministic copy of its
shape: PEP 503 project pages per variant (``torch/<variant>/<project>/index.html``), wheels in
a flat per-variant directory (a literal ``+`` on disk, ``%2B`` in hrefs), PEP 658 ``.metadata``
files, the ``test/`` and ``nightly/`` channels, mirrored dependencies at the ``/whl/`` root and
a few absolute (R2-like) hrefs. A second tree, ``pypi/``, imitates PyPI: torch's ordinary
dependencies plus look-alikes for dependency-confusion tests.

Every wheel is tiny but valid (METADATA, WHEEL, RECORD with hashes) and installable by pip;
none contains executable logic. Serve the result with ``scripts/serve_index.py``.

Usage: ``python scripts/make_index.py DEST``
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import io
import json
import sys
import zipfile
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from packaging.tags import parse_tag
from packaging.utils import canonicalize_name
from packaging.version import Version

# Absolute hrefs (like download-r2.pytorch.org) are written with this host; the test server
# replaces it with its own http://127.0.0.1:PORT when it serves a page.
R2_PLACEHOLDER = "https://download-r2.pipguard.invalid"
TIMESTAMP = 1795651200  # 2026-11-26, the trailing <!--TIMESTAMP n--> of every torch page
ZIP_DATE = (2026, 1, 1, 0, 0, 0)  # fixed so that wheel hashes never change

# ---------------------------------------------------------------------------------------------
# Catalog: a SUBSET of pytorch_facts.md, enough for tests. Extend here. On purpose, cu129
# appears only in 2.8.0 (the real 2.9-2.13 Linux-only cu129 builds are left out).


@dataclass(frozen=True)
class Release:
    """One torch version in one channel, with its companions and variants."""

    version: str
    variants: tuple[str, ...]
    pythons: tuple[str, ...] = ("cp310", "cp311", "cp312", "cp313")
    requires_python: str = ">=3.10"
    torchvision: str | None = None
    torchaudio: str | None = None
    triton: str | None = None
    triton_project: str = "triton"  # nightlies depend on pytorch-triton instead
    aarch64: tuple[str, ...] = ()  # variants that also ship manylinux aarch64 wheels
    plain_aarch64: tuple[str, ...] = ()  # variant dirs holding unlabeled linux_aarch64 torch
    linux_only_pythons: tuple[str, ...] = ()  # e.g. cp313 for 2.5.x: no Windows wheels
    channel: str = "stable"  # stable | test | nightly
    uploaded: str = "2026-01-01T00:00:00Z"
    metadata: bool = True  # PEP 658 file (old nightlies lack it)


@dataclass(frozen=True)
class Dist:
    """A non-torch-family distribution: a mirrored dependency or a PyPI package."""

    name: str  # as written in METADATA
    version: str
    tags: tuple[str, ...] = ("py3-none-any",)
    requires_python: str | None = None
    requires: tuple[str, ...] = ()
    package: str | None = None  # import package; defaults to the normalized name
    summary: str = "Imitation wheel for pipguard tests"
    lookalike: bool = False


PY37_310 = ("cp37", "cp38", "cp39", "cp310")
PY38_311 = ("cp38", "cp39", "cp310", "cp311")
NIGHTLY_TRITON = "3.7.0+git1a2b3c4d"


@dataclass(frozen=True)
class Catalog:
    """Everything build_index generates."""

    releases: tuple[Release, ...]
    deps: tuple[Dist, ...]  # mirrored at the /whl/ root and published on PyPI
    nvidia_runtime: Mapping[str, tuple[str, str]]  # variant -> (project, version)
    pypi_builds: tuple[tuple[str, str], ...]  # (torch version, Linux x86_64 build variant)
    pypi_only: tuple[Dist, ...]
    absolute: frozenset[str]  # stable variants whose torch-family hrefs are absolute
    r2_projects: frozenset[str] = frozenset({"torch", "torchvision", "torchaudio", "triton"})


DEFAULT_CATALOG = Catalog(
    releases=(
        Release("1.13.1", ("cu116", "cu117", "cpu"), PY37_310, ">=3.7.0", "0.14.1", "0.13.1",
                uploaded="2022-12-15T18:00:00Z"),
        Release("2.0.0", ("cu117", "cu118", "cpu"), PY38_311, ">=3.8.0", "0.15.1", "2.0.1",
                "2.0.0", uploaded="2023-03-15T18:00:00Z"),
        Release("2.5.1", ("cu118", "cu121", "cu124", "cpu", "rocm6.2"), requires_python=">=3.8.0",
                torchvision="0.20.1", torchaudio="2.5.1", triton="3.1.0", plain_aarch64=("cu124",),
                linux_only_pythons=("cp313",), uploaded="2024-10-29T18:00:00Z"),
        Release("2.6.0", ("cu118", "cu124", "cu126", "cpu", "rocm6.2.4", "xpu"),
                requires_python=">=3.9.0", torchvision="0.21.0", torchaudio="2.6.0", triton="3.2.0",
                uploaded="2025-01-29T18:00:00Z"),
        Release("2.7.1", ("cu118", "cu126", "cu128", "cpu", "rocm6.3", "xpu"),
                requires_python=">=3.9.0", torchvision="0.22.1", torchaudio="2.7.1", triton="3.3.1",
                aarch64=("cpu", "cu128"), uploaded="2025-06-04T18:00:00Z"),
        Release("2.8.0", ("cu126", "cu128", "cu129", "cpu", "rocm6.4", "xpu"),
                requires_python=">=3.9.0", torchvision="0.23.0", torchaudio="2.8.0", triton="3.4.0",
                aarch64=("cpu", "cu129"), uploaded="2025-08-06T18:00:00Z"),
        Release("2.10.0", ("cu126", "cu128", "cu130", "cpu", "rocm7.1", "xpu"),
                torchvision="0.25.0", torchaudio="2.10.0", triton="3.6.0",
                aarch64=("cpu", "cu128", "cu130"), uploaded="2026-01-21T18:00:00Z"),
        Release("2.11.0", ("cu126", "cu128", "cu130", "cpu", "rocm7.1", "rocm7.2", "xpu"),
                torchvision="0.26.0", torchaudio="2.11.0", triton="3.6.0",
                aarch64=("cpu", "cu128", "cu130"), uploaded="2026-03-23T18:00:00Z"),
        # No torchaudio 2.13: torchaudio 2.11.0 (no Requires-Dist on torch) is used instead.
        Release("2.13.0", ("cu126", "cu130", "cu132", "cpu", "rocm7.2", "xpu"),
                torchvision="0.28.0", torchaudio="2.11.0", triton="3.7.1",
                aarch64=("cpu", "cu130"), uploaded="2026-07-15T18:00:00Z"),
        # Newer than the knowledge tables: tools must learn it from the index.
        Release("2.15.0", ("cu126", "cu130", "cu132", "cpu"), torchvision="0.30.0",
                triton="3.8.0", aarch64=("cpu", "cu130"), uploaded="2026-10-14T18:00:00Z"),
        Release("2.16.0", ("cu126", "cu130", "cu132", "cpu"), torchvision="0.31.0",
                triton="3.8.1", channel="test", uploaded="2026-11-18T18:00:00Z"),
        # Newest nightly first: shared files (pytorch-triton) keep their PEP 658 metadata.
        Release("2.16.0.dev20261120", ("cu126", "cu130", "cpu"),
                torchvision="0.31.0.dev20261120", triton=NIGHTLY_TRITON,
                triton_project="pytorch-triton", channel="nightly",
                uploaded="2026-11-20T07:00:00Z"),
        Release("2.16.0.dev20261119", ("cu126", "cu130", "cpu"),
                torchvision="0.31.0.dev20261119", triton=NIGHTLY_TRITON,
                triton_project="pytorch-triton", channel="nightly", metadata=False,
                uploaded="2026-11-19T07:00:00Z"),
    ),
    deps=(
        Dist("filelock", "3.16.1", requires_python=">=3.8"),
        Dist("typing-extensions", "4.6.0", requires_python=">=3.7", package="typing_extensions"),
        Dist("typing-extensions", "4.12.2", requires_python=">=3.8", package="typing_extensions"),
        Dist("numpy", "1.26.4", requires_python=">=3.9"),
        Dist("numpy", "2.2.6", requires_python=">=3.10"),
        Dist("pillow", "11.0.0", requires_python=">=3.9", package="PIL"),
    ),
    nvidia_runtime={
        "cu118": ("nvidia-cuda-runtime-cu11", "11.8.89"),
        "cu121": ("nvidia-cuda-runtime-cu12", "12.1.105"),
        "cu124": ("nvidia-cuda-runtime-cu12", "12.4.127"),
        "cu126": ("nvidia-cuda-runtime-cu12", "12.6.77"),
        "cu128": ("nvidia-cuda-runtime-cu12", "12.8.90"),
        "cu129": ("nvidia-cuda-runtime-cu12", "12.9.79"),
        "cu130": ("nvidia-cuda-runtime", "13.0.96"),
        "cu132": ("nvidia-cuda-runtime", "13.2.51"),
    },
    pypi_builds=(("2.11.0", "cu130"),),
    pypi_only=tuple(
        Dist(name, version, requires_python=">=3.9", package=pkg, lookalike=True,
             summary="PyPI build (look-alike for dependency-confusion tests)")
        for name, version, pkg in (
            ("torch", "2.16.0", "torch"), ("torch", "99.0.0", "torch"),
            ("torchvision", "99.0.0", "torchvision"), ("triton", "99.0.0", "triton"),
            ("pytorch-triton", "99.0.0", "triton"), ("torchtriton", "99.0.0", "triton"),
        )
    ),
    absolute=frozenset({"cu128", "cu130"}),
)

NVIDIA_TAGS = (
    "py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64",
    "py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64",
)
TRITON_PLATFORM = "manylinux_2_27_x86_64.manylinux_2_28_x86_64"

# GPU code in each build (pytorch_facts.md §5), as (first minor, last minor, variants, os, archs).
_ARCHS: tuple[tuple[str, str, tuple[str, ...], str, str], ...] = (
    ("1.13", "2.0", ("cu116", "cu117"), "linux", "sm_37 sm_50 sm_60 sm_70 sm_75 sm_80 sm_86"),
    ("2.0", "2.7", ("cu118",), "linux", "sm_37 sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90"),
    ("2.1", "2.6", ("cu121", "cu124"), "linux", "sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90"),
    ("2.6", "99", ("cu126",), "linux", "sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90"),
    ("2.7", "2.7", ("cu128",), "linux", "sm_75 sm_80 sm_86 sm_90 sm_100 sm_120 compute_120"),
    ("2.8", "2.10", ("cu128",), "linux", "sm_70 sm_75 sm_80 sm_86 sm_90 sm_100 sm_120"),
    ("2.8", "2.10", ("cu129",), "linux",
     "sm_70 sm_75 sm_80 sm_86 sm_90 sm_100 sm_120 compute_120"),
    ("2.9", "2.10", ("cu130",), "linux", "sm_75 sm_80 sm_86 sm_90 sm_100 sm_120 compute_120"),
    ("2.11", "2.11", ("cu128",), "linux", "sm_75 sm_80 sm_86 sm_90 sm_100 sm_120"),
    ("2.11", "99", ("cu130", "cu132"), "linux", "sm_75 sm_80 sm_86 sm_90 sm_100 sm_120"),
    ("1.13", "2.0", ("cu116", "cu117"), "win",
     "sm_37 sm_50 sm_60 sm_61 sm_70 sm_75 sm_80 sm_86 compute_37"),
    ("2.0", "2.7", ("cu118",), "win",
     "sm_37 sm_50 sm_60 sm_61 sm_70 sm_75 sm_80 sm_86 sm_90 compute_37"),
    ("2.1", "99", ("cu121", "cu124", "cu126"), "win",
     "sm_50 sm_60 sm_61 sm_70 sm_75 sm_80 sm_86 sm_90"),
    ("2.7", "99", ("cu128", "cu129", "cu130", "cu132"), "win",
     "sm_75 sm_80 sm_86 sm_90 sm_100 sm_120"),
    ("2.7", "99", ("cu126",), "aarch64", "sm_80 sm_90"),
    ("2.7", "99", ("cu128", "cu129"), "aarch64", "sm_80 sm_90 sm_100 sm_120"),
    ("2.9", "99", ("cu130", "cu132"), "aarch64", "sm_80 sm_90 sm_100 sm_110 sm_120 compute_120"),
)
_ROCM_ARCHS = "gfx900 gfx906 gfx908 gfx90a gfx942 gfx1030 gfx1100 gfx1101 gfx1200 gfx1201"


def arch_list(version: str, variant: str, os_kind: str) -> tuple[str, ...]:
    """The (simplified) arch list a build of ``torch==version`` for ``variant`` reports."""
    if variant.startswith("rocm"):
        return tuple(_ROCM_ARCHS.split())
    if variant == "xpu":
        return ("pvc", "lnl-m", "bmg")
    minor = Version(Version(version).base_version).release[:2]
    for first, last, variants, kind, archs in _ARCHS:
        lo, hi = Version(first).release[:2], Version(last).release[:2]
        if variant in variants and kind == os_kind and lo <= minor <= hi:
            return tuple(archs.split())
    return ()


# ---------------------------------------------------------------------------------------------
# Wheels


@dataclass(frozen=True)
class WheelSpec:
    """What goes into one generated wheel."""

    name: str
    version: str
    tag: str
    package: str
    requires: tuple[str, ...] = ()
    requires_python: str | None = None
    summary: str = "Imitation wheel for pipguard tests"
    purelib: bool = False
    marker: Mapping[str, object] = field(default_factory=dict)
    files: tuple[tuple[str, str], ...] = ()

    @property
    def dist(self) -> str:
        return canonicalize_name(self.name).replace("-", "_")

    @property
    def filename(self) -> str:
        return f"{self.dist}-{self.version}-{self.tag}.whl"

    def metadata(self) -> bytes:
        # Canonical Name: pip 23.0 rejects PEP 658 metadata whose Name is not canonical.
        name = canonicalize_name(self.name)
        lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {self.version}",
                 f"Summary: {self.summary}"]
        if self.requires_python:
            lines.append(f"Requires-Python: {self.requires_python}")
        lines += [f"Requires-Dist: {r}" for r in self.requires]
        return ("\n".join(lines) + "\n\n").encode()

    def wheel_text(self) -> bytes:
        tags = [str(t) for t in sorted(parse_tag(self.tag), key=str)]
        lines = ["Wheel-Version: 1.0", "Generator: pipguard-make-index (1.0)",
                 f"Root-Is-Purelib: {'true' if self.purelib else 'false'}"]
        return ("\n".join(lines + [f"Tag: {t}" for t in tags]) + "\n").encode()


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def build_wheel(spec: WheelSpec) -> bytes:
    """Return the bytes of a valid wheel for ``spec``; same spec, same bytes."""
    init = (f'"""Imitation of {spec.name} made by pipguard scripts/make_index.py (no real code)."""'
            f"\n\n__version__ = {spec.version!r}\nPIPGUARD_FAKE = {dict(spec.marker)!r}\n")
    info = f"{spec.dist}-{spec.version}.dist-info"
    members = [(f"{spec.package}/__init__.py", init.encode())]
    members += [(path, text.encode()) for path, text in spec.files]
    members += [(f"{info}/METADATA", spec.metadata()), (f"{info}/WHEEL", spec.wheel_text())]
    record = "".join(f"{p},{_record_hash(d)},{len(d)}\n" for p, d in members)
    members.append((f"{info}/RECORD", (record + f"{info}/RECORD,,\n").encode()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path, data in members:
            zi = zipfile.ZipInfo(path, date_time=ZIP_DATE)
            zi.external_attr = 0o644 << 16
            zi.create_system = 3
            zf.writestr(zi, data, compress_type=zipfile.ZIP_STORED)
    return buf.getvalue()


def _cuda(variant: str) -> str | None:
    return f"{variant[2:-1]}.{variant[-1]}" if variant.startswith("cu") else None


def _torch_spec(rel: Release, build: str, tag: str, *, label: bool, source: str,
                nvidia_runtime: Mapping[str, tuple[str, str]]) -> WheelSpec:
    """The torch wheel of ``rel`` built for variant ``build`` (label: add ``+build``)."""
    v = Version(rel.version)
    version = f"{rel.version}+{build}" if label else rel.version
    reqs = ["filelock"] if v >= Version("2.0") else []
    reqs.append("typing-extensions>=4.10.0" if v >= Version("2.6") else "typing-extensions>=4.8.0")
    nvidia = nvidia_runtime.get(build) if v >= Version("2.1") else None
    if nvidia:
        reqs.append(f'{nvidia[0]}=={nvidia[1]}; platform_system == "Linux"')
    if rel.triton and build.startswith("cu"):
        reqs.append(f'{rel.triton_project}=={rel.triton}; platform_system == "Linux" and '
                    'platform_machine == "x86_64"')
    elif rel.triton and build.startswith(("rocm", "xpu")):
        family = "rocm" if build.startswith("rocm") else "xpu"
        reqs.append(f'pytorch-triton-{family}=={rel.triton}; platform_system == "Linux"')
    reqs.append('opt-einsum>=3.3; extra == "opt-einsum"')
    os_kind = "win" if "win" in tag else "aarch64" if "aarch64" in tag else "linux"
    hip = f"{build[4:]}.0-pipguard" if build.startswith("rocm") else None
    info: dict[str, object] = {
        "project": "torch", "version": version, "variant": build, "channel": rel.channel,
        "source": source, "tag": tag, "cuda": _cuda(build), "hip": hip,
        "xpu": "20250101" if build == "xpu" else None,
        "arch_list": list(arch_list(rel.version, build, os_kind)),
    }
    version_py = (f"__version__ = {version!r}\ndebug = False\ncuda = {_cuda(build)!r}\n"
                  f"git_version = 'pipguard0000'\nhip = {hip!r}\nxpu = {info['xpu']!r}\n")
    return WheelSpec(
        "torch", version, tag, "torch", tuple(reqs), rel.requires_python,
        summary=f"Tensors and Dynamic neural networks (pipguard imitation, {build} build)",
        marker={"variant": build, "channel": rel.channel, "source": source},
        files=(("torch/version.py", version_py),
               ("torch/_pipguard_build.json", json.dumps(info, indent=1, sort_keys=True))),
    )


def _companion_spec(rel: Release, project: str, version: str, build: str, tag: str,
                    label: bool) -> WheelSpec:
    reqs: list[str] = []
    if project == "torchvision":
        reqs = ["numpy", f"torch=={rel.version}", "pillow!=8.3.*,>=5.3.0"]
    elif Version(version) < Version("2.11"):  # torchaudio 2.11 has no Requires-Dist on torch
        reqs = [f"torch=={rel.version}"]
    full = f"{version}+{build}" if label else version
    return WheelSpec(project, full, tag, project, tuple(reqs), rel.requires_python,
                     marker={"variant": build, "channel": rel.channel})


def _platforms(rel: Release, variant: str) -> Iterator[tuple[str, str]]:
    """(os kind, platform tag) pairs of ``variant``'s wheels in ``rel``."""
    new = Version(rel.version) >= Version("2.7")
    yield "linux", "manylinux_2_28_x86_64" if new else "linux_x86_64"
    if not variant.startswith("rocm"):
        yield "win", "win_amd64"
    if variant == "cpu":
        yield "mac", "macosx_11_0_arm64"
    if variant in rel.aarch64:
        yield "aarch64", "manylinux_2_28_aarch64" if new else "manylinux2014_aarch64"


def _abi(py: str, os_kind: str) -> str:
    # macOS wheels use the 'none' ABI tag (observed quirk); cp37 still had the 'm' ABI flag.
    return "none" if os_kind == "mac" else f"{py}m" if py == "cp37" else py


def release_wheels(rel: Release, catalog: Catalog) -> Iterator[tuple[str, WheelSpec]]:
    """Yield (variant dir, spec) for every wheel of ``rel`` on the torch index."""
    for variant in rel.variants:
        for os_kind, plat in _platforms(rel, variant):
            pythons = [p for p in rel.pythons if not (os_kind != "linux" and
                                                      p in rel.linux_only_pythons)]
            for py in pythons:
                if os_kind == "mac" and py == "cp37":
                    continue
                tag, label = f"{py}-{_abi(py, os_kind)}-{plat}", os_kind != "mac"
                yield variant, _torch_spec(rel, variant, tag, label=label, source="whl",
                                           nvidia_runtime=catalog.nvidia_runtime)
                for project, version in (("torchvision", rel.torchvision),
                                         ("torchaudio", rel.torchaudio)):
                    if version:
                        yield variant, _companion_spec(rel, project, version, variant, tag, label)
        triton = {"cu": rel.triton_project, "ro": "pytorch-triton-rocm", "xp": "pytorch-triton-xpu"}
        if rel.triton and variant[:2] in triton:
            for py in rel.pythons:
                tag = f"{py}-{py}-{TRITON_PLATFORM}"
                yield variant, WheelSpec(triton[variant[:2]], rel.triton, tag, "triton",
                                         marker={"channel": rel.channel})
    for variant in rel.plain_aarch64:  # fixture C: CPU builds without a label in a cuNNN dir
        for py in rel.pythons:
            tag = f"{py}-{py}-linux_aarch64"
            yield variant, _torch_spec(rel, "cpu", tag, label=False, source="whl",
                                       nvidia_runtime=catalog.nvidia_runtime)


def _dist_specs(dist: Dist) -> Iterator[WheelSpec]:
    package = dist.package or canonicalize_name(dist.name).replace("-", "_")
    files: tuple[tuple[str, str], ...] = ()
    if dist.lookalike and dist.name == "torch":
        info = {"project": "torch", "version": dist.version, "variant": "pypi-lookalike"}
        files = (("torch/_pipguard_build.json", json.dumps(info, sort_keys=True)),)
    for tag in dist.tags:
        yield WheelSpec(dist.name, dist.version, tag, package, dist.requires,
                        dist.requires_python, dist.summary, purelib=True,
                        marker={"lookalike": dist.lookalike}, files=files)


def _nvidia_dists(catalog: Catalog) -> tuple[Dist, ...]:
    pins = sorted(set(catalog.nvidia_runtime.values()))
    return tuple(Dist(n, v, NVIDIA_TAGS, ">=3", package="nvidia") for n, v in pins)


def pypi_specs(catalog: Catalog) -> Iterator[WheelSpec]:
    """Every wheel of the imitation PyPI."""
    for dist in catalog.deps + _nvidia_dists(catalog) + catalog.pypi_only:
        yield from _dist_specs(dist)
    for version, build in catalog.pypi_builds:
        rel = next(r for r in catalog.releases if r.version == version and r.channel == "stable")
        # Like the real promotion: labels stripped; Linux is the CUDA build, the rest CPU.
        for os_kind, plat in (("linux", "manylinux_2_28_x86_64"), ("win", "win_amd64"),
                              ("mac", "macosx_11_0_arm64")):
            variant = build if os_kind == "linux" else "cpu"
            for py in rel.pythons:
                tag = f"{py}-{_abi(py, os_kind)}-{plat}"
                yield _torch_spec(rel, variant, tag, label=False, source="pypi",
                                  nvidia_runtime=catalog.nvidia_runtime)
                for project, cv in (("torchvision", rel.torchvision),
                                    ("torchaudio", rel.torchaudio)):
                    if cv:
                        yield _companion_spec(rel, project, cv, variant, tag, False)
        if rel.triton:
            for py in rel.pythons:
                tag = f"{py}-{py}-{TRITON_PLATFORM}"
                yield WheelSpec("triton", rel.triton, tag, "triton", marker={"source": "pypi"})


# ---------------------------------------------------------------------------------------------
# The site on disk


@dataclass(frozen=True)
class WheelInfo:
    """One generated wheel file."""

    filename: str
    project: str  # canonical name
    version: str
    relpath: str  # posix path under the layout root, e.g. torch/cu130/torch-...whl
    url_path: str  # how the server exposes it, '+' as %2B: /whl/cu130/torch-2.11.0%2Bcu130-...
    sha256: str
    size: int
    metadata_sha256: str | None


@dataclass(frozen=True)
class IndexLayout:
    """Where build_index wrote everything, plus every wheel's hash."""

    root: Path
    wheels: tuple[WheelInfo, ...]
    sha256: Mapping[str, str]  # relpath -> sha256 hex of every wheel
    pages: tuple[Path, ...]

    @property
    def torch_dir(self) -> Path:
        return self.root / "torch"

    @property
    def pypi_dir(self) -> Path:
        return self.root / "pypi"

    def project_page(self, variant: str, project: str, channel: str = "stable") -> Path:
        """Path of ``/whl/[channel/]variant/project/index.html`` on disk."""
        prefix = "" if channel == "stable" else f"{channel}/"
        return self.torch_dir / f"{prefix}{variant}" / canonicalize_name(project) / "index.html"

    def find(self, filename: str) -> list[WheelInfo]:
        """Every stored copy of ``filename`` (mirrored deps may sit in several places)."""
        return [w for w in self.wheels if w.filename == filename]


@dataclass
class _Site:
    root: Path
    wheels: dict[str, WheelInfo] = field(default_factory=dict)
    # page path (relative) -> title -> anchors (filename, anchor html)
    pages: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    titles: dict[str, str] = field(default_factory=dict)

    def add_file(self, relpath: str, spec: WheelSpec, url_path: str, *,
                 metadata: bool) -> WheelInfo:
        if relpath in self.wheels:
            return self.wheels[relpath]
        data, meta = build_wheel(spec), spec.metadata()
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if metadata:
            path.with_name(path.name + ".metadata").write_bytes(meta)
        info = WheelInfo(spec.filename, canonicalize_name(spec.name), spec.version, relpath,
                         url_path, hashlib.sha256(data).hexdigest(), len(data),
                         hashlib.sha256(meta).hexdigest() if metadata else None)
        self.wheels[relpath] = info
        return info

    def link(self, page_dir: str, info: WheelInfo, anchor: str) -> None:
        self.pages[f"{page_dir}/{info.project}/index.html"].setdefault(info.filename, anchor)
        self.titles[f"{page_dir}/{info.project}/index.html"] = info.project


def _anchor(href: str, info: WheelInfo, *, sha: bool, upload: str | None,
            requires_python: str | None = None) -> str:
    attrs = [f'href="{href}{"#sha256=" + info.sha256 if sha else ""}"']
    if requires_python:
        attrs.append(f'data-requires-python="{html.escape(requires_python)}"')
    if info.metadata_sha256:
        attrs.append(f'data-dist-info-metadata="sha256={info.metadata_sha256}"')
        attrs.append(f'data-core-metadata="sha256={info.metadata_sha256}"')
    if upload:
        attrs.append(f'data-upload-time="{upload}"')
    return f'    <a {" ".join(attrs)}>{info.filename}</a><br/>'


def _page(title: str, lines: list[str], *, timestamp: bool) -> str:
    head = f"<!DOCTYPE html>\n<html>\n  <body>\n    <h1>Links for {title}</h1>\n"
    tail = "  </body>\n</html>\n" + (f"<!--TIMESTAMP {TIMESTAMP}-->\n" if timestamp else "")
    return head + "".join(line + "\n" for line in lines) + tail


def _root_page(projects: list[str]) -> str:
    links = [f'    <a href="{p}/">{p}</a><br/>' for p in sorted(set(projects))]
    return ("<!DOCTYPE html>\n<html>\n  <body>\n" + "\n".join(links) + "\n  </body>\n</html>\n"
            f"<!--TIMESTAMP {TIMESTAMP}-->\n")


def _build_torch_index(site: _Site, catalog: Catalog) -> None:
    nvidia = _nvidia_dists(catalog)
    for rel in catalog.releases:
        prefix = "" if rel.channel == "stable" else f"{rel.channel}/"
        sha = rel.channel != "nightly"  # nightly pages carry no #sha256 (pytorch_facts §8)
        for variant, spec in release_wheels(rel, catalog):
            rel_file = f"{prefix}{variant}/{spec.filename}"
            url = "/whl/" + quote(rel_file, safe="/")
            info = site.add_file(f"torch/{rel_file}", spec, url, metadata=rel.metadata)
            absolute = (rel.channel == "stable" and variant in catalog.absolute
                        and info.project in catalog.r2_projects)
            href = (R2_PLACEHOLDER + url) if absolute else url
            site.link(f"torch/{prefix}{variant}", info, _anchor(href, info, sha=sha,
                                                                  upload=rel.uploaded))
            if rel.channel == "stable":  # the all-variants page /whl/<project>/
                site.link("torch", info, _anchor(url, info, sha=True, upload=rel.uploaded))
        for variant in rel.variants:
            for dist in catalog.deps + (nvidia if variant.startswith("cu") else ()):
                for spec in _dist_specs(dist):
                    url = "/whl/" + quote(spec.filename)
                    info = site.add_file(f"torch/{spec.filename}", spec, url, metadata=True)
                    anchor = _anchor(url, info, sha=sha, upload="2025-01-01T00:00:00Z")
                    site.link(f"torch/{prefix}{variant}", info, anchor)
                    site.link("torch", info, anchor)


def _build_pypi(site: _Site, catalog: Catalog) -> None:
    for spec in pypi_specs(catalog):
        url = "/pypi/files/" + quote(spec.filename)
        info = site.add_file(f"pypi/files/{spec.filename}", spec, url, metadata=True)
        site.link("pypi/simple", info, _anchor(url, info, sha=True, upload=None,
                                                requires_python=spec.requires_python))


def build_index(dest: Path, *, catalog: Catalog = DEFAULT_CATALOG) -> IndexLayout:
    """Write the imitation indexes under ``dest`` (``torch/`` and ``pypi/``); deterministic."""
    dest = Path(dest)
    site = _Site(dest)
    _build_torch_index(site, catalog)
    _build_pypi(site, catalog)
    written: list[Path] = []
    roots: dict[str, list[str]] = defaultdict(list)
    for relpage, anchors in site.pages.items():
        lines = [anchors[name] for name in sorted(anchors)]
        is_pypi = relpage.startswith("pypi/")
        page_dir, project = relpage.rsplit("/", 2)[:2]
        roots[page_dir].append(project)
        path = dest / relpage
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_page(site.titles[relpage], lines, timestamp=not is_pypi))
        written.append(path)
    for page_dir, projects in roots.items():
        path = dest / page_dir / "index.html"
        path.write_text(_root_page(projects))
        written.append(path)
    wheels = tuple(site.wheels[k] for k in sorted(site.wheels))
    return IndexLayout(dest, wheels, {w.relpath: w.sha256 for w in wheels}, tuple(sorted(written)))


@dataclass(frozen=True)
class Tampering:
    """Undo record of :func:`tamper`; also a context manager that restores on exit."""

    originals: Mapping[Path, str]
    fake_sha256: str

    def restore(self) -> None:
        for path, text in self.originals.items():
            path.write_text(text)

    def __enter__(self) -> Tampering:
        return self

    def __exit__(self, *exc: object) -> None:
        self.restore()


def tamper(layout: IndexLayout, filename: str, *, pages: list[Path] | None = None) -> Tampering:
    """Rewrite the ``#sha256=`` of ``filename``'s anchors so it no longer matches the file.

    By default every page that links ``filename`` is changed; pass ``pages`` to limit it.
    """
    fake = hashlib.sha256(b"tampered:" + filename.encode()).hexdigest()
    originals: dict[Path, str] = {}
    for page in pages if pages is not None else layout.pages:
        text = page.read_text()
        if f">{filename}</a>" not in text:
            continue
        lines = text.splitlines(keepends=True)
        for i, line in enumerate(lines):
            if f">{filename}</a>" in line and "#sha256=" in line:
                start = line.index("#sha256=") + len("#sha256=")
                lines[i] = line[:start] + fake + line[start + 64:]
        originals[page] = text
        page.write_text("".join(lines))
    if not originals:
        raise ValueError(f"no page links {filename!r} with a #sha256 fragment")
    return Tampering(originals, fake)


def main(argv: list[str] | None = None) -> int:
    """CLI: build the imitation index into DEST and print a summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("dest", type=Path)
    args = parser.parse_args(argv)
    layout = build_index(args.dest)
    print(f"{len(layout.wheels)} wheels, {len(layout.pages)} pages under {layout.root}")
    print(f"serve it: python scripts/serve_index.py {layout.root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
