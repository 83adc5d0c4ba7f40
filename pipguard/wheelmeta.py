"""The core metadata (``METADATA``) of a wheel listed on an index page.

Read from ``<url>.metadata`` (PEP 658) when the index offers it, checking its sha256 when
published; otherwise ``*.dist-info/METADATA`` out of the wheel by range requests
(:mod:`pipguard.ranged`), or, when the server ignores ranges, from the whole wheel
(checking its sha256 when published). Cached forever: files behind an index URL do not
change. Read through an index client (:mod:`pipguard.index`): its reader, cache and counters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from pipguard import cache
from pipguard.errors import IndexUnavailable, IntegrityError
from pipguard.fetch import temp_file
from pipguard.index import HINT, MISSING, IndexClient
from pipguard.ranged import WHEEL_LIMIT, NoRanges, metadata_member, read_member
from pipguard.redact import redact_url
from pipguard.simple import IndexFile
from pipguard.wire import Reply


def read(client: IndexClient, file: IndexFile) -> str:
    """The core metadata (``METADATA``) of a wheel listed on a page.

    Reads ``<url>.metadata`` (PEP 658) when the index offers it, checking its
    sha256 when published; otherwise reads ``*.dist-info/METADATA`` out of the wheel
    with range requests (:mod:`pipguard.ranged`), or, when the server ignores
    ranges, from the whole wheel (checking its sha256 when published).
    Cached forever: files behind an index URL do not change.
    Raises :class:`IntegrityError` on a hash mismatch.
    """
    key = f"{redact_url(file.url)}\0{file.metadata_sha256 or ''}\0{file.sha256 or ''}"
    path = cache.entry_path(client.cache_root, "metadata", key)
    hit = cache.read_entry(path)
    if hit is not None:
        return hit[1].decode("utf-8", errors="replace")
    if client.offline:
        raise IndexUnavailable(
            f"offline and the metadata of {file.filename} is not cached",
            hint="run once with network access, or unset PIPGUARD_OFFLINE",
        )
    body = _metadata_file(client, file) if file.has_metadata else None
    if body is None:
        body = _metadata_from_wheel(client, file)
    client.store(path, {"url": redact_url(file.url)}, body)
    return body.decode("utf-8", errors="replace")


def _metadata_file(client: IndexClient, file: IndexFile) -> bytes | None:
    """``<url>.metadata``, verified; None when the index does not have it after all."""
    url = file.url + ".metadata"
    reply = client.reader.get(url, {})
    client.count(url, len(reply.body))
    if reply.status in MISSING:
        return None
    if reply.status != 200:
        raise IndexUnavailable(f"cannot read {redact_url(url)}: HTTP {reply.status}",
                               hint=HINT)
    _verify(url, file.metadata_sha256, hashlib.sha256(reply.body).hexdigest())
    return reply.body

def _metadata_from_wheel(client: IndexClient, file: IndexFile) -> bytes:
    """METADATA by range requests; the whole wheel (to a temp file) only if need be."""
    import zipfile

    def pick(names: list[str]) -> str:
        return metadata_member(names, file.name)

    def get(headers: Mapping[str, str], sink: Any, limit: int) -> Reply:
        return client.reader.get(file.url, headers, sink=sink, limit=limit)

    with temp_file(client.cache_root) as fh:
        try:
            body, _ = read_member(get, fh, pick)
            if body is not None:
                return body
        except (NoRanges, zipfile.BadZipFile, KeyError, OSError, EOFError):
            fh.seek(0)
            fh.truncate()
            client.reader.get(file.url, {}, sink=fh, limit=WHEEL_LIMIT, whole=True)
        client.count(file.url, fh.tell())
        fh.seek(0)
        digest = hashlib.sha256()
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
        _verify(file.url, file.sha256, digest.hexdigest())
        try:
            with zipfile.ZipFile(fh) as wheel:
                return wheel.read(pick(wheel.namelist()))
        except (zipfile.BadZipFile, KeyError, OSError) as exc:
            raise IntegrityError(f"{redact_url(file.url)} is not a readable wheel: {exc}",
                                 hint="the index serves a broken file; retry later or "
                                      "use another mirror") from None


def _verify(url: str, expected: str | None, actual: str) -> None:
    if expected is not None and expected.lower() != actual:
        raise IntegrityError(
            f"{redact_url(url)} has sha256 {actual}, but the index published {expected.lower()}",
            hint="a proxy or mirror may have altered it; do not install it, and retry later",
        )
