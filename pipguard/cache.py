"""pipguard's on-disk cache: where it lives, atomic writes, self-checking entries.

Several pipguard processes may share one cache folder. Writers write a temp
file in the target's folder and ``os.replace`` it into place, so a reader
sees either the old entry or the new one, never a partial file. Entries carry
their own length and sha256; a damaged entry reads as missing, never as an
error, because a cache is only ever an optimisation or a fallback.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "atomic_write_bytes",
    "cache_dir",
    "entry_path",
    "fetched_at",
    "format_age",
    "read_bytes",
    "read_entry",
    "write_entry",
]

_MAGIC = b"pipguard-cache-1\n"


def cache_dir() -> Path:
    """The platform's user cache folder for pipguard (``PIPGUARD_CACHE_DIR`` is read by
    :mod:`pipguard.options` and given to the index client instead)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("pipguard", appauthor=False))


def entry_path(root: Path, namespace: str, key: str) -> Path:
    """Where the entry for ``key`` (e.g. a URL) lives: a hash, fanned out by prefix."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return root / namespace / digest[:2] / digest


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers never see a partial file.

    The data goes to a temp file in the same folder (``os.replace`` is only
    atomic within one file system), is fsynced, then renamed over ``path``.
    """
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable; not possible (nor needed) everywhere, e.g. Windows."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_bytes(path: Path) -> bytes | None:
    """The contents of ``path``, or None when it is missing or unreadable."""
    try:
        return path.read_bytes()
    except OSError:
        return None


def write_entry(path: Path, header: Mapping[str, Any], body: bytes) -> None:
    """Store ``header`` (JSON-able) and ``body`` as one self-checking entry."""
    head = dict(header)
    head["_length"] = len(body)
    head["_sha256"] = hashlib.sha256(body).hexdigest()
    line = json.dumps(head, sort_keys=True, separators=(",", ":")).encode("utf-8")
    atomic_write_bytes(path, _MAGIC + line + b"\n" + body)


def read_entry(path: Path) -> tuple[dict[str, Any], bytes] | None:
    """The ``(header, body)`` stored at ``path``; None if missing or damaged."""
    raw = read_bytes(path)
    if raw is None or not raw.startswith(_MAGIC):
        return None
    line, newline, body = raw[len(_MAGIC) :].partition(b"\n")
    if not newline:
        return None
    try:
        header = json.loads(line)
    except (ValueError, RecursionError):  # RecursionError: nested deep on purpose
        return None
    if not isinstance(header, dict):
        return None
    length, digest = header.pop("_length", None), header.pop("_sha256", None)
    if length != len(body) or digest != hashlib.sha256(body).hexdigest():
        return None
    return header, body


def format_age(seconds: float) -> str:
    """A short human age: ``45s``, ``12min``, ``3h``, ``2d``."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds // 60:.0f}min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600:.0f}h"
    return f"{seconds // 86400:.0f}d"


def fetched_at(header: Mapping[str, Any]) -> float:
    """When a cache entry was fetched; a damaged stamp reads as long ago (never fresh)."""
    value = header.get("fetched_at")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        return 0.0
    return float(value)
