"""The target: the interpreter pip installs into, its wheel tags and its marker values.

Pure data and functions over it; finding and asking the interpreter is
:mod:`pipguard.interpreter`. ``--platform``/``--python-version``/``--abi`` make a
*cross* target (:func:`cross_target`), as pip's options do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging import tags as ptags

if TYPE_CHECKING:
    from packaging.requirements import Requirement


@dataclass(frozen=True)
class Interpreter:
    """Facts about the target interpreter that decide which wheels fit it."""

    python: str
    version: tuple[int, int, int]
    implementation: str
    os: str  # sys.platform: "linux", "win32", "darwin"
    machine: str  # "x86_64", "aarch64", "AMD64", "arm64"
    free_threaded: bool
    pip_version: str | None
    prefix: str
    tags: tuple[ptags.Tag, ...]
    # True when tags came from --platform/--python-version (a cross target).
    cross: bool = False
    # Its sys.path (as `python -I` has it): where its installed distributions are found.
    path: tuple[str, ...] = ()
    # The user site pip's own run has on its path (unless PYTHONNOUSERSITE) and `python -I`
    # leaves out (outside a venv, or one with the system's site-packages): None when there
    # is none, or no folder.
    user_site: str | None = None

    @property
    def python_tag(self) -> str:
        return f"cp{self.version[0]}{self.version[1]}{'t' if self.free_threaded else ''}"

    @property
    def version_str(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


def expand_platform(platform: str) -> list[str]:
    """The platform tags a ``--platform`` value admits, as pip expands them.

    ``macosx_14_0_arm64`` admits every older macOS tag of that arch, and the
    legacy ``manylinux2014``/``manylinux2010`` names their older aliases.
    """
    mac = re.fullmatch(r"macosx_(\d+)_(\d+)_(\w+)", platform)
    if mac:
        major, minor, arch = int(mac.group(1)), int(mac.group(2)), mac.group(3)
        return list(ptags.mac_platforms((major, minor), arch))
    legacy = re.fullmatch(r"(manylinux2014|manylinux2010)_(\w+)", platform)
    if legacy:
        order = ["manylinux2014", "manylinux2010", "manylinux1"]
        start = order.index(legacy.group(1))
        return [f"{name}_{legacy.group(2)}" for name in order[start:]]
    return [platform]


def tags_for(
    version: tuple[int, int], free_threaded: bool, platforms: Sequence[str] | None
) -> tuple[ptags.Tag, ...]:
    abi = f"cp{version[0]}{version[1]}{'t' if free_threaded else ''}"
    plats = (
        [p for given in platforms for p in expand_platform(given)]
        if platforms
        else list(ptags.platform_tags())
    )
    out = list(ptags.cpython_tags(version, [abi], plats))
    out.extend(ptags.compatible_tags(version, f"cp{version[0]}{version[1]}", plats))
    return tuple(out)


def cross_target(
    base: Interpreter,
    *,
    platforms: Sequence[str],
    python_version: tuple[int, int] | None,
    abis: Sequence[str],
) -> Interpreter:
    """Apply pip's ``--platform``/``--python-version``/``--abi`` to the target."""
    version = (*python_version, 0) if python_version else base.version
    free = any(a.endswith("t") for a in abis) if abis else base.free_threaded
    plats = list(platforms) or None
    tags = tags_for((version[0], version[1]), free, plats)
    os_name, machine = base.os, base.machine
    if plats:
        first = plats[0]
        if first.startswith("win"):
            os_name, machine = "win32", "AMD64" if "amd64" in first else first.split("_", 1)[-1]
        elif first.startswith("macosx"):
            mac = re.fullmatch(r"macosx_\d+_\d+_(\w+)", first)
            os_name, machine = "darwin", mac.group(1) if mac else "arm64"
        else:
            os_name = "linux"
            machine = "aarch64" if first.endswith("aarch64") else first.rsplit("_", 2)[-1]
            if first.endswith("x86_64"):
                machine = "x86_64"
    return Interpreter(
        python=base.python,
        version=version,
        implementation=base.implementation,
        os=os_name,
        machine=machine,
        free_threaded=free,
        pip_version=base.pip_version,
        prefix=base.prefix,
        tags=tags,
        cross=True,
        path=base.path,
        user_site=base.user_site,
    )


def platform_markers(os: str, machine: str) -> dict[str, str]:
    """The PEP 508 marker values a platform decides (``sys.platform`` and the machine)."""
    system = {"linux": "Linux", "win32": "Windows", "darwin": "Darwin"}.get(os, os)
    return {"os_name": "nt" if os == "win32" else "posix", "platform_machine": machine,
            "platform_release": "", "platform_system": system, "platform_version": "",
            "sys_platform": os}


def marker_environment(interp: Interpreter) -> dict[str, str]:
    """PEP 508 marker values for the target interpreter."""
    full = ".".join(str(p) for p in interp.version)
    return {
        **platform_markers(interp.os, interp.machine),
        "implementation_name": interp.implementation,
        "implementation_version": full,
        "python_full_version": full,
        "platform_python_implementation": "CPython" if interp.implementation == "cpython"
        else interp.implementation,
        "python_version": interp.version_str,
    }


def applicable(lines: Iterable[str], environment: Mapping[str, str],
               extras: Iterable[str] = ()) -> list[Requirement]:
    """The ``Requires-Dist`` lines whose markers hold for the target with ``extras``.

    Unparseable lines are skipped: metadata is the package's word, not ours to reject.
    """
    # Here, not at the top: finding the target (verify, pass-through) never needs it.
    from packaging.requirements import InvalidRequirement, Requirement

    wanted = tuple(extras) or ("",)
    out: list[Requirement] = []
    for line in lines:
        try:
            req = Requirement(str(line))
        except InvalidRequirement:
            continue
        if req.marker is None or any(
                req.marker.evaluate({**environment, "extra": e}) for e in wanted):
            out.append(req)
    return out
