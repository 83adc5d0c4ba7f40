"""Reading the knowledge tables: the packaged JSON, a user file, the merge and the parse.

:mod:`pipguard.knowledge` holds the parsed :class:`~pipguard.knowledge.Knowledge` and its
queries; this module is the edge that reads the files and builds one. The merge rule and
the table keys are described in :mod:`pipguard.knowledge`'s docstring.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pipguard.cudabuilds import CudaBuilds
from pipguard.errors import PipguardError, UsageError
from pipguard.hardware import DriverVersion
from pipguard.knowledge import (
    ROLES,
    ArchList,
    FamilyMember,
    Knowledge,
    _Release,
    _Variant,
)
from pipguard.lifecycle import ModuleChange, Retired
from pipguard.variants import CC, sort_key
from pipguard.wordmodel import WordModel

KNOWLEDGE_HINT = "fix the file named by --knowledge-file or PIPGUARD_KNOWLEDGE_FILE"
SCHEMA = 1
CONFIDENCES = ("high", "medium", "uncertain")
TABLES = (
    *("sources", "releases", "companions", "toolkits", "toolkit_driver", "compat_floor", "arch"),
    *("rocm_archs", "numpy2", "typing_extensions", "family", "nvidia_libs", "index_mirrors"),
    "gpu_families", "cuda_builds", "retired", "modules", "cpp_api",
)
SCALARS = ("schema", "facts_date", "about")
_ROW_META = ("confidence", "source", "note", "detail")  # "detail": provenance, never shown


def merge_tables(base: Mapping[str, Any], user: Mapping[str, Any], origin: str) -> dict[str, Any]:
    """Apply a user file to the packaged tables (rule: :mod:`pipguard.knowledge`); pure."""
    unknown = sorted(set(user) - set(TABLES) - set(SCALARS))
    if unknown:
        hint = f"known tables: {', '.join(TABLES)}"
        raise UsageError(f"{origin}: unknown knowledge table(s) {', '.join(unknown)}", hint)
    if user.get("schema", SCHEMA) != SCHEMA:
        raise UsageError(
            f"{origin}: knowledge schema {user.get('schema')!r} is not {SCHEMA}",
            hint=KNOWLEDGE_HINT,
        )
    out = {**base, **{k: v for k, v in user.items() if k not in TABLES}}
    for key in set(user) & set(TABLES):
        if not isinstance(user[key], dict):
            raise UsageError(
                f"{origin}: table {key!r} must be an object of rows", hint=KNOWLEDGE_HINT
            )
        merged = {**base.get(key, {}), **user[key]}
        out[key] = {k: row for k, row in merged.items() if row is not None}
    return out


def _cc(s: str) -> CC:
    major, minor = s.split(".")
    return (int(major), int(minor))


def _conf(row: Mapping[str, Any]) -> str:
    c = row.get("confidence", "high")
    if c not in CONFIDENCES:
        raise ValueError(f"confidence {c!r} is not one of {', '.join(CONFIDENCES)}")
    return str(c)


def _driver(s: str | None) -> Version | None:
    return DriverVersion(s) if s else None


def _parse_release(minor: str, r: Mapping[str, Any]) -> _Release:
    variants = tuple(
        _Variant(n, tuple(v["platforms"]), tuple(map(Version, v.get("releases", ()))), _conf(v))
        for n, v in sorted(r.get("variants", {}).items(), key=lambda kv: sort_key(kv[0]))
    )
    only = {t: tuple(p) for t, p in r.get("python_platforms", {}).items()}
    python = tuple(r.get("python", ()))
    return _Release(Version(minor), python, only, variants, dict(r.get("pypi", {})), _conf(r))


def build_knowledge(data: Mapping[str, Any], origin: str) -> Knowledge:
    """Parse (merged) tables into a :class:`Knowledge`; bad rows raise ``UsageError``."""
    try:
        return _build(data)
    except (KeyError, ValueError, TypeError, AttributeError, InvalidVersion) as exc:
        why = f"{type(exc).__name__}: {exc}"
        raise UsageError(
            f"{origin}: malformed knowledge tables ({why})", hint=KNOWLEDGE_HINT
        ) from exc


def _canon(name: str) -> str:
    return str(canonicalize_name(name))


def _minor(v: Version) -> str:
    return f"{v.major}.{v.minor}"


def _triple(v: Version) -> tuple[int, int, int]:
    r = (*v.release, 0, 0)
    return (r[0], r[1], r[2])


def _member(name: str, row: Mapping[str, Any]) -> FamilyMember:
    role = str(row.get("role", "other"))
    if role not in ROLES:
        raise ValueError(f"family role {role!r} of {name} is not one of {', '.join(ROLES)}")
    imports = tuple(str(i) for i in row.get("imports") or ())
    return FamilyMember(_canon(name), bool(row.get("index_only", False)), role, imports)


def _cuda_builds(project: str, row: Mapping[str, Any]) -> CudaBuilds:
    """A ``cuda_builds`` row: the pattern must name the major it reads, the build name take it."""
    try:
        pattern = re.compile(str(row["pattern"]))
    except re.error as exc:
        raise ValueError(f"cuda_builds row {project}: {exc}") from exc
    build, majors = str(row["build"]), row.get("majors") or []
    if "major" not in pattern.groupindex or "{major}" not in build:
        raise ValueError(f"cuda_builds row {project}: the pattern needs a group 'major' and "
                         "the build a '{major}'")
    try:
        build.format(major=0)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"cuda_builds row {project}: the build may hold only {{major}}") from exc
    if not isinstance(majors, list) or not all(type(m) is int for m in majors):
        raise ValueError(f"cuda_builds row {project}: majors must be a list of integers")
    same = _flag(row, "same_releases", f"cuda_builds row {project}")
    try:
        since, before = ({int(k): Version(v) for k, v in (row.get(key) or {}).items()}
                         for key in ("since", "before"))
    except (AttributeError, TypeError, ValueError, InvalidVersion) as exc:
        raise ValueError(f"cuda_builds row {project}: since and before map a major to a "
                         f"release ({exc})") from exc
    return CudaBuilds(project, pattern, build, tuple(majors), same, since, before)


def _flag(row: Mapping[str, Any], key: str, where: str) -> bool:
    """A row's optional true/false column (absent: false); anything else is refused."""
    if not isinstance(value := row.get(key, False), bool):
        raise ValueError(f"{where}: {key} must be true or false")
    return value


def _module(module: str, row: Mapping[str, Any], table: str = "modules") -> ModuleChange:
    """A ``modules`` (or ``cpp_api``) row: the distribution that ships it, and the release
    that added or removed it (at least one)."""
    added, removed = (_version_text(row[k]) if row.get(k) else None for k in ("added", "removed"))
    if added is None and removed is None:
        raise ValueError(f"{table} row {module}: give the release that added or removed it")
    return ModuleChange(module, _canon(str(row["package"])), added, removed,
                        str(row.get("instead", "")))


def _prefixes(name: str, row: Mapping[str, Any]) -> list[str]:
    """A ``cpp_api`` row's name starts: a list of non-empty strings. A bare string would
    be read letter by letter, and "T" would claim every name that starts with it."""
    prefixes = row.get("prefixes", [])
    if not isinstance(prefixes, list) or not all(isinstance(p, str) and p for p in prefixes):
        raise ValueError(f"cpp_api row {name}: prefixes must be a list of non-empty strings")
    return prefixes


def _version_text(value: object) -> Version:
    """A release written as a string: a JSON number would lose "1.10" to 1.1."""
    if not isinstance(value, str):
        raise ValueError(f"release {value!r} must be a string")
    return Version(value)


def _retired(name: str, row: Mapping[str, Any]) -> Retired:
    """A ``retired`` row: the last torch minor it was released for, and what replaces it."""
    instead = str(row["instead"]).strip()
    if not instead:
        raise ValueError(f"retired row {name}: say what replaces it ('instead')")
    same = _flag(row, "same_minor", f"retired row {name}")
    indexes = row.get("indexes", {})
    if not isinstance(indexes, dict) or not all(
            isinstance(k, str) and isinstance(u, str) and u.startswith("https://")
            for k, u in indexes.items()):
        raise ValueError(f"retired row {name}: indexes map a local label to an https URL")
    return Retired(Version(_minor(_version_text(row["last"]))), instead, same, dict(indexes))


def _build(d: Mapping[str, Any]) -> Knowledge:
    releases = sorted((_parse_release(*kv) for kv in d["releases"].items()), key=lambda r: r.minor)
    companions = {
        Version(t): {_canon(k): str(v) for k, v in row.items() if k not in _ROW_META and v}
        for t, row in d.get("companions", {}).items()
    }
    toolkits = {
        name: (Version(row["cuda"]), {m: Version(c) for m, c in row.get("by_minor", {}).items()})
        for name, row in d.get("toolkits", {}).items()
    }
    drivers = sorted(
        (_triple(Version(c)), _driver(row.get("linux")), _driver(row.get("win32")))
        for c, row in d.get("toolkit_driver", {}).items()
    )
    floors = {
        int(major): {o: DriverVersion(row[o]) for o in ("linux", "win32") if row.get(o)}
        for major, row in d.get("compat_floor", {}).items()
    }
    arch: dict[tuple[str, str, str], ArchList] = {}
    for key, row in d.get("arch", {}).items():
        platform, variant, minor = key.split("|")
        cubins, ptx = (tuple(sorted(map(_cc, row.get(k, ())))) for k in ("cubins", "ptx"))
        source = tuple(row.get("source") or ())
        arch[(platform, variant, _minor(Version(minor)))] = ArchList(
            cubins, ptx, _conf(row), row.get("note"), source
        )
    np2 = d.get("numpy2", {})
    broken = [(Version(r["torch"]), r["os"]) for r in np2.values() if r.get("compatible") is False]
    te = d.get("typing_extensions", {})
    family = d.get("family", {})
    for table in ("companions", "toolkits", "typing_extensions", "rocm_archs", "nvidia_libs",
                  "index_mirrors", "cuda_builds", "retired", "modules", "cpp_api"):
        for row in d.get(table, {}).values():
            _conf(row)
    return Knowledge(
        date=str(d.get("facts_date", "")),
        releases=tuple(releases),
        companion_rows=companions,
        toolkits=toolkits,
        drivers=tuple(drivers),
        floors=floors,
        arch=arch,
        rocm={k: tuple(r["archs"]) for k, r in d.get("rocm_archs", {}).items()},
        numpy2_first=Version(np2["first_compatible"]["torch"]),
        numpy2_broken=frozenset(broken),
        typing_ext={m: Version(r["min"]) if r["min"] else None for m, r in te.items()},
        members={m.name: m for m in (_member(n, r) for n, r in family.items())},
        nvidia_libs={_canon(n): int(r["cuda_major"]) for n, r in d.get("nvidia_libs", {}).items()},
        mirrors=frozenset(map(_canon, d.get("index_mirrors", {}))),
        gpu_families=dict(d.get("gpu_families", {})),
        cuda_builds=tuple(_cuda_builds(project, row)
                          for project, row in d.get("cuda_builds", {}).items()),
        modules={m: _module(m, row) for m, row in d.get("modules", {}).items()},
        cpp_api={n: _module(n, row, "cpp_api") for n, row in d.get("cpp_api", {}).items()},
        cpp_prefixes={p: n for n, row in d.get("cpp_api", {}).items()
                      for p in _prefixes(n, row)},
        retired={_canon(n): _retired(n, r) for n, r in d.get("retired", {}).items()},
    )


def _packaged(name: str) -> Any:
    """A JSON file of the package's data folder, parsed."""
    from importlib import resources

    return json.loads((resources.files("pipguard") / "data" / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _packaged_data() -> Mapping[str, Any]:
    data: Mapping[str, Any] = _packaged("facts.json")
    return data


@lru_cache(maxsize=1)
def _packaged_knowledge() -> Knowledge:
    return build_knowledge(_packaged_data(), "pipguard/data/facts.json")


def _read_user_file(path: Path) -> Mapping[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(
            f"cannot read knowledge file {path}: {exc.strerror or exc}", hint=KNOWLEDGE_HINT
        ) from exc
    except ValueError as exc:
        raise UsageError(
            f"knowledge file {path} is not valid JSON: {exc}", hint=KNOWLEDGE_HINT
        ) from exc
    if not isinstance(data, dict):
        raise UsageError(f"knowledge file {path} must hold a JSON object", hint=KNOWLEDGE_HINT)
    return data


def load_knowledge(user_file: Path | None = None) -> Knowledge:
    """The packaged tables (parsed once, cached), or them merged with ``user_file``.

    Merge rule: a user row replaces the packaged row with the same key, a new key adds a
    row, a ``null`` row deletes one (keys: see the module docstring).
    """
    if user_file is None:
        return _packaged_knowledge()
    merged = merge_tables(_packaged_data(), _read_user_file(user_file), str(user_file))
    return build_knowledge(merged, str(user_file))


@lru_cache(maxsize=1)
def load_word_model() -> WordModel:
    """The packaged word model of ``explain``'s last resort (:mod:`pipguard.wordmodel`)."""
    try:
        return WordModel.from_json(_packaged("explain_words.json"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PipguardError(f"pipguard's packaged word model is unreadable: {exc}",
                            hint="reinstall pipguard: pip install --force-reinstall "
                                 "pipguard-torch") from None
