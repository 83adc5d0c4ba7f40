"""Files a lock names: downloaded through :mod:`pipguard.fetch`, each checked against its sha256.

``download`` streams a file to a temporary name beside its destination, hashes it, and
renames it into place only when the hash is the one the lock holds (one retry on a
transient failure or a mismatch; a second mismatch is an :class:`IntegrityError`).
``sha256_of`` hashes a file no index published a hash for; ``wheel_metadata`` reads a
wheel's ``METADATA`` (for PEP 658 ``.metadata`` files).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import zipfile
from pathlib import Path

from pipguard.errors import IndexUnavailable, IntegrityError
from pipguard.fetch import request
from pipguard.wire import Sender, Transient

_TRIES = 2
_TIMEOUT = 60.0
_WHEEL_LIMIT = 64 << 30  # a file of a lock: torch wheels are GBs


def _fetch_to(url: str, path: Path, transport: Sender) -> str:
    """GET ``url`` into ``path`` (with pip's network settings); the sha256 of what arrived."""
    last = ""
    for _ in range(_TRIES):
        try:
            with path.open("wb") as fh:
                reply = request(url, {}, _TIMEOUT, transport=transport, sink=fh,
                                limit=_WHEEL_LIMIT)
        except Transient as exc:
            last = str(exc)
            continue
        if reply.status != 200:
            raise IndexUnavailable(f"cannot download {url}: HTTP {reply.status}")
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()
    raise IndexUnavailable(f"cannot download {url}: {last}")


def download(url: str, dest: Path, sha256: str, transport: Sender) -> bool:
    """Put the file at ``url`` at ``dest``, checked; False when ``dest`` already matched."""
    if dest.is_file() and file_sha256(dest) == sha256:
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        got = ""
        for _ in range(_TRIES):
            got = _fetch_to(url, part, transport)
            if got == sha256:
                os.replace(part, dest)
                return True
        raise IntegrityError(f"{url} does not match its locked hash: expected sha256 "
                             f"{sha256}, got {got}",
                             hint="the index changed the file since the lock was made; "
                                  "lock again, or find out who changed it")
    finally:
        with contextlib.suppress(OSError):
            part.unlink()


def sha256_of(url: str, scratch: Path, transport: Sender) -> str:
    """The sha256 of the file at ``url`` (downloaded once into ``scratch``, then removed)."""
    path = scratch / "hash.part"
    try:
        return _fetch_to(url, path, transport)
    finally:
        with contextlib.suppress(OSError):
            path.unlink()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def wheel_metadata(path: Path) -> bytes:
    """The ``*.dist-info/METADATA`` of a wheel on disk."""
    try:
        with zipfile.ZipFile(path) as wheel:
            names = [n for n in wheel.namelist()
                     if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
            if len(names) != 1:
                raise IntegrityError(f"{path.name} has {len(names)} METADATA files")
            return wheel.read(names[0])
    except (zipfile.BadZipFile, OSError) as exc:
        raise IntegrityError(f"{path.name} is not a readable wheel: {exc}") from None
