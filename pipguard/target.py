"""The target interpreter: which Python pip installs into, and its wheel tags.

The rule (also in the README):

1. ``--python PATH`` names it (a ``python`` executable or a virtual environment);
2. otherwise an *active* virtual environment (``VIRTUAL_ENV``) or conda
   environment (``CONDA_PREFIX``) that is not pipguard's own, so that a
   pipguard installed with pipx serves whatever environment is active;
3. otherwise the interpreter pipguard itself runs in.

pip always runs as ``<target python> -m pip``; if the target has no pip (a
``uv venv``, say), pipguard's own pip is used with ``--python <target>``.
"""

from __future__ import annotations

import json
import os
import platform
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging import tags as ptags

from pipguard import runner
from pipguard.errors import TargetError, UsageError

# Runs inside the target interpreter: standard library only, prints one JSON object.
_PROBE = r"""
import json, os, platform, sys, sysconfig
try:
    from importlib.metadata import version as _v
    pip = _v("pip")
except Exception:
    pip = None
try:
    glibc = os.confstr("CS_GNU_LIBC_VERSION")
except (AttributeError, ValueError, OSError):
    glibc = None
print(json.dumps({
    "executable": sys.executable,
    "version": list(sys.version_info[:3]),
    "implementation": sys.implementation.name,
    "platform": sys.platform,
    "machine": platform.machine(),
    "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "glibc": glibc,
    "pip": pip,
    "prefix": sys.prefix,
    "base_prefix": getattr(sys, "base_prefix", sys.prefix),
    "pointer_bits": 64 if sys.maxsize > 2**32 else 32,
}))
"""


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

    @property
    def python_tag(self) -> str:
        return f"cp{self.version[0]}{self.version[1]}{'t' if self.free_threaded else ''}"

    @property
    def version_str(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


def _python_in(path: Path) -> Path:
    """Accept a venv folder as well as an interpreter path."""
    if path.is_dir():
        for cand in (path / "bin" / "python", path / "Scripts" / "python.exe"):
            if cand.exists():
                return cand
        raise TargetError(
            f"no Python interpreter in {path}", hint="--python takes an interpreter or a venv"
        )
    return path


def choose_python(explicit: str | None, environ: Mapping[str, str]) -> str:
    """Apply the target rule (module docstring) and return the interpreter path."""
    if explicit:
        p = Path(explicit).expanduser()
        if not p.exists():
            raise TargetError(
                f"target interpreter {explicit} does not exist",
                hint="--python takes the path of a python executable or a virtual environment",
            )
        return str(_python_in(p))
    own_prefix = Path(sys.prefix).resolve()
    for var in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        value = environ.get(var)
        if value and Path(value).resolve() != own_prefix and Path(value).is_dir():
            try:
                return str(_python_in(Path(value)))
            except TargetError:
                continue
    return sys.executable


def _venv_root(python: str) -> Path | None:
    root = Path(os.path.abspath(python)).parent.parent
    return root.resolve() if (root / "pyvenv.cfg").exists() else None


def _same_interpreter(python: str) -> bool:
    """Whether ``python`` is the interpreter we run in (a venv's symlink is not)."""
    if os.path.abspath(python) == os.path.abspath(sys.executable):
        return True
    try:
        same_binary = Path(python).resolve() == Path(sys.executable).resolve()
    except OSError:
        return False
    return same_binary and _venv_root(python) == _venv_root(sys.executable)


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


def _tags_for(
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


def inspect_interpreter(python: str) -> Interpreter:
    """Ask the target interpreter about itself (in-process when it is ours)."""
    if _same_interpreter(python):
        facts: dict[str, object] = {
            "executable": sys.executable,
            "version": list(sys.version_info[:3]),
            "implementation": sys.implementation.name,
            "platform": sys.platform,
            "machine": platform.machine(),
            "free_threaded": bool(
                __import__("sysconfig").get_config_var("Py_GIL_DISABLED")
            ),
            "pip": _own_pip_version(),
            "prefix": sys.prefix,
        }
        tags: tuple[ptags.Tag, ...] = tuple(ptags.sys_tags())
    else:
        done = runner.run([python, "-I", "-c", _PROBE], timeout=30)
        if done.returncode != 0:
            raise TargetError(
                f"could not run the target interpreter {python}",
                hint=(done.stderr.strip().splitlines() or ["check --python"])[-1],
            )
        try:
            facts = json.loads(done.stdout)
        except ValueError as exc:
            raise TargetError(f"target interpreter {python} gave no facts") from exc
        v = facts["version"]
        assert isinstance(v, list)
        tags = _tags_for((int(v[0]), int(v[1])), bool(facts["free_threaded"]), None)
    ver = facts["version"]
    assert isinstance(ver, list)
    return Interpreter(
        python=python,
        version=(int(ver[0]), int(ver[1]), int(ver[2])),
        implementation=str(facts["implementation"]),
        os=str(facts["platform"]),
        machine=str(facts["machine"]),
        free_threaded=bool(facts["free_threaded"]),
        pip_version=None if facts.get("pip") is None else str(facts["pip"]),
        prefix=str(facts["prefix"]),
        tags=tags,
    )


def _own_pip_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("pip")
    except Exception:
        return None


def cross_target(
    base: Interpreter,
    *,
    platforms: Sequence[str],
    python_version: str | None,
    abis: Sequence[str],
) -> Interpreter:
    """Apply pip's ``--platform``/``--python-version``/``--abi`` to the target."""
    version = base.version
    if python_version:
        parts = python_version.split(".") if "." in python_version else [
            python_version[:1], python_version[1:]
        ]
        if len(parts) < 2 or not all(p.isdigit() for p in parts[:2]):
            raise UsageError(
                f"malformed --python-version {python_version!r}", hint="e.g. --python-version 3.12"
            )
        version = (int(parts[0]), int(parts[1]), 0)
    free = any(a.endswith("t") for a in abis) if abis else base.free_threaded
    plats = list(platforms) or None
    tags = _tags_for((version[0], version[1]), free, plats)
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
    )


def pip_command(interp: Interpreter) -> list[str]:
    """The argv prefix that runs pip for the target."""
    if interp.pip_version is not None:
        return [interp.python, "-m", "pip"]
    if _own_pip_version() is None:
        raise TargetError(
            f"no pip in {interp.python} nor beside pipguard",
            hint=f"{interp.python} -m ensurepip",
        )
    return [sys.executable, "-m", "pip", "--python", interp.python]
