"""A lock from a plan and pip's report: the torch family from the plan, the rest from pip.

Pure. The planner's files (URL, sha256) stand for the torch family; every other item of
pip's ``--report`` (``pip install --dry-run --ignore-installed`` with the family pinned)
gives its URL and ``download_info.archive_info.hashes``. A file whose hash neither
published is hashed by the caller (``hashes``), so that every file entry has both.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.utils import canonicalize_name

from pipguard.errors import UsageError
from pipguard.plan import Plan
from pipguard.pylock import Lock, LockedFile, LockedPackage, LockInfo
from pipguard.target import Interpreter, marker_environment


def _items(report: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [i for i in report.get("install", []) or [] if isinstance(i, Mapping)]


def _report_sha256(info: Mapping[str, Any]) -> str | None:
    archive = info.get("archive_info") or {}
    sha = (archive.get("hashes") or {}).get("sha256")
    if not sha:  # pip before 23.1 wrote only "hash": "sha256=..."
        algo, _, value = str(archive.get("hash") or "").partition("=")
        sha = value if algo == "sha256" else None
    return str(sha).lower() if sha else None


def unhashed_urls(report: Mapping[str, Any], plan: Plan | None) -> list[str]:
    """Archive URLs in the report that have no sha256 from pip nor from the plan."""
    out = []
    for item in _items(report):
        info = item.get("download_info") or {}
        name = canonicalize_name(str((item.get("metadata") or {}).get("name", "")))
        planned = plan.package(name) if plan is not None else None
        if "archive_info" in info and _report_sha256(info) is None and not (
                planned is not None and planned.sha256):
            out.append(str(info.get("url", "")))
    return sorted(set(out))


def target_marker(interp: Interpreter) -> str:
    """The PEP 508 marker that holds exactly for the lock's target."""
    env = marker_environment(interp)
    keys = ("implementation_name", "platform_machine", "python_version", "sys_platform")
    return " and ".join(f"{k} == '{env[k]}'" for k in keys)


def build_lock(report: Mapping[str, Any], plan: Plan | None, interp: Interpreter,
               info: LockInfo, *, hashes: Mapping[str, str] | None = None,
               base_dir: str = ".") -> Lock:
    """The lock for one class: pip's report, with the family taken from the plan."""
    hashes = hashes or {}
    packages: dict[str, LockedPackage] = {}
    for item in _items(report):
        meta = item.get("metadata") or {}
        name = canonicalize_name(str(meta.get("name", "")))
        version = str(meta.get("version", "")) or None
        info_ = item.get("download_info") or {}
        url = str(info_.get("url", ""))
        planned = plan.package(name) if plan is not None else None
        if planned is not None:
            sha = planned.sha256 or _report_sha256(info_) or hashes.get(planned.url)
            if sha is None:
                raise UsageError(f"no sha256 for {planned.filename}")
            packages[name] = _archive(name, planned.version, planned.url, sha,
                                      planned.filename, plan.index_url if plan else None)
        elif "dir_info" in info_:
            packages[name] = LockedPackage(
                name, version, directory=_relative(url, base_dir),
                editable=bool((info_.get("dir_info") or {}).get("editable", False)))
        elif "archive_info" in info_:
            sha = _report_sha256(info_) or hashes.get(url)
            if sha is None:
                raise UsageError(f"pip gave no sha256 for {url}",
                                 hint="the lock needs a hash for every file")
            packages[name] = _archive(name, version, url, sha, None, None)
        else:
            raise UsageError(f"{name} comes from {url}, a version-control checkout: "
                             "pipguard locks files and local projects only",
                             hint="pin it to a released version or a wheel URL")
    return Lock(tuple(packages[n] for n in sorted(packages)), info,
                environments=(target_marker(interp),),
                requires_python=f"=={interp.version_str}.*")


def _archive(name: str, version: str | None, url: str, sha256: str, filename: str | None,
             index: str | None) -> LockedPackage:
    base = url.partition("#")[0]
    fname = filename or unquote(base.rpartition("/")[2])
    f = LockedFile(fname, base, sha256)
    if fname.endswith(".whl"):
        return LockedPackage(name, version, wheels=(f,), index=index)
    return LockedPackage(name, version, sdist=f, index=index)


def _relative(url: str, base_dir: str) -> str:
    parts = urlsplit(url)
    path = unquote(parts.path) if parts.scheme == "file" else url
    try:
        rel = os.path.relpath(path, base_dir)
    except ValueError:  # another drive on Windows
        return path
    return rel.replace(os.sep, "/")
