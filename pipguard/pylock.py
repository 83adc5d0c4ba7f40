"""PEP 751 lock files (``pylock.toml``, ``pylock.<name>.toml``): the data, written and read.

Pure: :func:`dumps` turns a :class:`Lock` into TOML text (``tomli_w``), :func:`loads`
reads one back (``tomllib``, or ``tomli`` before Python 3.11). What pipguard writes is a
*single-use* lock: one target (Python version, platform) and one hardware class, every
file with its URL and sha256, the class and its torch variant under ``[tool.pipguard]``.
Everything is sorted and nothing carries a time, so the same inputs give the same bytes.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import tomli_w
from packaging.markers import InvalidMarker, Marker
from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from pipguard.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

LOCK_VERSION = "1.0"
CREATED_BY = "pipguard"
# PEP 751: "pylock.toml", or "pylock.<name>.toml" with a name without dots.
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_FILE_RE = re.compile(r"pylock(?:\.([^.]+))?\.toml")


@dataclass(frozen=True)
class LockedFile:
    """One file of a package: a wheel or an sdist, where it lives and its sha256."""

    name: str  # the file name
    url: str
    sha256: str


@dataclass(frozen=True)
class LockedPackage:
    """One package of a lock: its wheels (or sdist), or a local directory."""

    name: str  # canonical
    version: str | None
    wheels: tuple[LockedFile, ...] = ()
    sdist: LockedFile | None = None
    directory: str | None = None  # a local project (relative to the lock file's folder)
    editable: bool = False
    index: str | None = None  # the simple index the files came from, when known
    marker: str | None = None


@dataclass(frozen=True)
class LockInfo:
    """What pipguard records under ``[tool.pipguard]``: the class the lock was made for."""

    lock_class: str = ""
    variant: str | None = None  # the torch index variant of the family; None: no family
    torch_index: str | None = None  # that variant's index URL
    hardware: Mapping[str, str] = field(default_factory=dict)  # driver, gpu-arch, backend
    python: str = ""  # "3.12"
    platform: tuple[str, ...] = ()  # pip's --platform values, when the target was a cross one


@dataclass(frozen=True)
class Lock:
    """A lock file's content."""

    packages: tuple[LockedPackage, ...]
    info: LockInfo = field(default_factory=LockInfo)
    environments: tuple[str, ...] = ()
    requires_python: str | None = None
    created_by: str = CREATED_BY

    def package(self, name: str) -> LockedPackage | None:
        wanted = canonicalize_name(name)
        return next((p for p in self.packages if p.name == wanted), None)


def valid_class_name(name: str) -> bool:
    """Whether ``pylock.<name>.toml`` is a PEP 751 file name (and a safe one)."""
    return _NAME_RE.fullmatch(name) is not None


def file_name(lock_class: str) -> str:
    return f"pylock.{lock_class}.toml"


def is_lock_file_name(name: str) -> bool:
    return _FILE_RE.fullmatch(name) is not None


def _file_table(f: LockedFile) -> dict[str, Any]:
    return {"name": f.name, "url": f.url, "hashes": {"sha256": f.sha256}}


def _package_table(p: LockedPackage) -> dict[str, Any]:
    t: dict[str, Any] = {"name": p.name}
    if p.version is not None:
        t["version"] = p.version
    if p.marker:
        t["marker"] = p.marker
    if p.index:
        t["index"] = p.index
    if p.directory is not None:
        t["directory"] = {"path": p.directory, "editable": p.editable}
    if p.sdist is not None:
        t["sdist"] = _file_table(p.sdist)
    if p.wheels:
        t["wheels"] = [_file_table(w) for w in sorted(p.wheels, key=lambda w: w.name)]
    return t


def to_dict(lock: Lock) -> dict[str, Any]:
    """The lock as the TOML document's tables, in a fixed order."""
    doc: dict[str, Any] = {"lock-version": LOCK_VERSION}
    if lock.environments:
        doc["environments"] = sorted(lock.environments)
    if lock.requires_python:
        doc["requires-python"] = lock.requires_python
    doc["created-by"] = lock.created_by
    doc["packages"] = [_package_table(p) for p in sorted(lock.packages, key=lambda p: p.name)]
    info = lock.info
    tool: dict[str, Any] = {"class": info.lock_class, "python": info.python}
    if info.variant:
        tool["variant"] = info.variant
    if info.torch_index:
        tool["torch-index"] = info.torch_index
    if info.platform:
        tool["platform"] = list(info.platform)
    if info.hardware:
        tool["hardware"] = dict(sorted(info.hardware.items()))
    doc["tool"] = {"pipguard": tool}
    return doc


def dumps(lock: Lock) -> str:
    """The lock as TOML text; the same lock always gives the same text."""
    return tomli_w.dumps(to_dict(lock))


def loads(text: str, origin: str = "lock file") -> Lock:
    """Read a PEP 751 lock; a usage error names what is wrong with it."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{origin} is not TOML: {exc}", hint="give a pylock.*.toml file") from None
    if str(doc.get("lock-version", "")).split(".")[0] != "1":
        raise UsageError(f"{origin} has lock-version {doc.get('lock-version')!r}; "
                         "pipguard reads version 1 (PEP 751)")
    raw = doc.get("packages")
    if not isinstance(raw, list):
        raise UsageError(f"{origin} has no [[packages]]")
    packages = tuple(_package(p, origin) for p in raw)
    tool = (doc.get("tool") or {}).get("pipguard") or {}
    hardware = tool.get("hardware") or {}
    info = LockInfo(str(tool.get("class", "")), tool.get("variant") or None,
                    tool.get("torch-index") or None,
                    {str(k): str(v) for k, v in hardware.items()},
                    str(tool.get("python", "")), tuple(str(p) for p in tool.get("platform", ())))
    envs = doc.get("environments") or ()
    return Lock(packages, info, tuple(str(e) for e in envs),
                doc.get("requires-python") or None, str(doc.get("created-by", "")))


def _file(t: Any, origin: str, what: str) -> LockedFile:
    if not isinstance(t, Mapping):
        raise UsageError(f"{origin}: {what} is not a table")
    url = t.get("url")
    sha = (t.get("hashes") or {}).get("sha256")
    if not isinstance(url, str) or not isinstance(sha, str):
        raise UsageError(f"{origin}: {what} needs a url and a sha256 hash",
                         hint="pipguard installs only files it can check")
    name = t.get("name") or url.rpartition("/")[2].partition("#")[0]
    return LockedFile(str(name).replace("%2B", "+"), url, sha.lower())


def _package(t: Any, origin: str) -> LockedPackage:
    if not isinstance(t, Mapping) or not isinstance(t.get("name"), str):
        raise UsageError(f"{origin}: a package without a name")
    name = canonicalize_name(t["name"])
    what = f"package {name}"
    wheels = tuple(_file(w, origin, f"a wheel of {name}") for w in t.get("wheels") or ())
    sdist = _file(t["sdist"], origin, f"the sdist of {name}") if "sdist" in t else None
    directory = t.get("directory")
    if isinstance(directory, Mapping):
        return LockedPackage(name, t.get("version"), directory=str(directory.get("path", "")),
                             editable=bool(directory.get("editable", False)),
                             marker=t.get("marker"))
    if not wheels and sdist is None:
        kinds = [k for k in ("vcs", "archive") if k in t]
        raise UsageError(f"{origin}: {what} has no wheels or sdist"
                         + (f" ({kinds[0]} entries are not supported)" if kinds else ""))
    return LockedPackage(name, t.get("version"), wheels, sdist, index=t.get("index"),
                         marker=t.get("marker"))


def applies(marker: str | None, environment: Mapping[str, str]) -> bool:
    """Whether a lock's or package's marker holds for the target (no marker: yes)."""
    if not marker:
        return True
    try:
        return Marker(marker).evaluate(dict(environment))
    except InvalidMarker:
        return False


def best_wheel(p: LockedPackage, tags: Sequence[Tag]) -> LockedFile | None:
    """The package's wheel that fits the target's tags best, or None."""
    order = {t: i for i, t in enumerate(tags)}
    best: tuple[int, LockedFile] | None = None
    for w in p.wheels:
        try:
            wtags = parse_wheel_filename(w.name)[3]
        except InvalidWheelFilename:
            continue
        ranks = [order[t] for t in wtags if t in order]
        if ranks and (best is None or min(ranks) < best[0]):
            best = (min(ranks), w)
    return best[1] if best else None
