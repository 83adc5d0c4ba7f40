"""What pipguard installed from where, recorded in the target environment.

``install`` records, in ``<prefix>/pipguard-installs.json``, the torch index it used (so
``doctor`` trusts a company mirror without the user naming it again) and each family file
it installed: name, version, URL and sha256. ``verify`` and ``doctor`` then name a copy
that was swapped since (a look-alike at exactly the same version). URLs are stored without
credentials. A record that cannot be read or written only costs those checks, never the
install.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

FILE = "pipguard-installs.json"


@dataclass(frozen=True)
class Installed:
    """One file pipguard installed."""

    name: str
    version: str
    url: str  # without credentials, as pip's PEP 610 record holds it
    sha256: str | None


@dataclass(frozen=True)
class Record:
    """The record of one environment: torch indexes used, files installed (by name)."""

    indexes: tuple[str, ...]
    files: Mapping[str, Installed]

    def file(self, name: str) -> Installed | None:
        return self.files.get(name)


def read(prefix: str) -> Record:
    """The record of the environment at ``prefix`` (empty when there is none)."""
    try:
        data = json.loads((Path(prefix) / FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Record((), {})
    if not isinstance(data, dict):
        return Record((), {})
    urls = data.get("torch_indexes")
    indexes = tuple(u for u in urls if isinstance(u, str)) if isinstance(urls, list) else ()
    files: dict[str, Installed] = {}
    for name, row in (data.get("files") or {}).items() if isinstance(data.get("files"),
                                                                        dict) else ():
        if isinstance(row, dict) and isinstance(row.get("version"), str) \
                and isinstance(row.get("url"), str):
            sha = row.get("sha256")
            files[str(name)] = Installed(str(name), row["version"], row["url"],
                                         sha if isinstance(sha, str) else None)
    return Record(indexes, files)


def recorded_indexes(prefix: str) -> tuple[str, ...]:
    """The torch indexes earlier installs into ``prefix`` used (empty when unknown)."""
    return read(prefix).indexes


def record_install(prefix: str, index_url: str, installed: Iterable[Installed]) -> None:
    """Add an install to the record of the environment at ``prefix``."""
    old = read(prefix)
    index = without_credentials(index_url) if index_url else ""
    indexes = [*old.indexes, *([index] if index and index not in old.indexes else [])]
    files: dict[str, Any] = {n: dict(f.__dict__) for n, f in old.files.items()}
    for f in installed:
        files[f.name] = {"name": f.name, "version": f.version,
                         "url": without_credentials(f.url), "sha256": f.sha256}
    path = Path(prefix) / FILE
    tmp = path.with_suffix(".tmp")
    with contextlib.suppress(OSError):
        tmp.write_text(json.dumps({"torch_indexes": indexes, "files": files}, indent=1,
                                  sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, path)


def swapped(record: Record, name: str, version: str,
            direct_url: Mapping[str, Any] | None) -> str | None:
    """Why the installed ``name`` is not the file pipguard installed, or ``None``.

    Only a copy at the recorded version is judged: another version is a later install.
    """
    f = record.file(name)
    if f is None or f.version != version:
        return None
    url, _, fragment = str((direct_url or {}).get("url", "")).partition("#")
    if not url:
        return f"no record of where it came from; pipguard installed it from {f.url}"
    # uv records a file: wheel's URL unescaped (`+` for `%2B`), its #sha256= kept.
    if unquote(without_credentials(url)) != unquote(f.url):
        return f"installed from {without_credentials(url)}; pipguard installed {f.url}"
    info = (direct_url or {}).get("archive_info") or {}
    hashes = info.get("hashes") or {}
    got = hashes.get("sha256") if isinstance(hashes, Mapping) else None
    if not got and fragment.startswith("sha256="):
        got = fragment.partition("=")[2]
    if f.sha256 and got and got.lower() != f.sha256:
        return f"its sha256 is {got.lower()}; pipguard installed {f.sha256}"
    return None


def without_credentials(url: str) -> str:
    """Never store a secret: ``https://user:token@host/whl?token=…`` -> ``https://host/whl``."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return url
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
