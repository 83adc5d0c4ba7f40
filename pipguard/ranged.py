"""A wheel's METADATA through HTTP range requests, for indexes without PEP 658 files.

A wheel is a zip file: its end holds the end-of-central-directory record, which says
where the central directory is; the central directory says where each member is.
:func:`read_member` asks for the last :data:`TAIL` bytes (``Range: bytes=-N``), then
only the ranges :mod:`zipfile` reads (the central directory, the member), so a
metadata read costs a few small requests instead of the whole wheel.

What can be checked is checked: every range answer must be a ``206`` whose
``Content-Range`` names the range asked for and the same total length; later ranges
carry ``If-Range`` with the first answer's ETag (a changed file answers ``200`` and
ends the range read); the member's CRC-32 is checked by :mod:`zipfile`. The sha256 of
the whole wheel cannot be checked from ranges: the planner only needs the metadata,
and pip checks the wheel's hash when it installs it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping
from typing import IO

from packaging.utils import canonicalize_name

from pipguard.wire import Reply

__all__ = ["TAIL", "Getter", "NoRanges", "read_member"]

TAIL = 1 << 16  # bytes asked for first: the EOCD record, usually the central directory too
FETCH = 1 << 16  # the least asked for by a later range (zipfile reads in small pieces)
MAX_RANGES = 64  # a metadata read needing more requests than this is not worth it
WHEEL_LIMIT = 8 << 30  # bytes: the largest wheel downloaded whole when ranges fail

# get(headers, sink, limit): one GET (retried by the caller), body to sink or in memory.
Getter = Callable[[Mapping[str, str], "IO[bytes] | None", int], Reply]
_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+)")


class NoRanges(Exception):
    """The server does not serve byte ranges (as asked): download the whole file."""


def read_member(get: Getter, sink: IO[bytes], pick: Callable[[list[str]], str]
                ) -> tuple[bytes | None, int]:
    """``(member bytes, bytes received)`` by range requests.

    ``(None, received)`` when the server answered the first request with the whole
    file (``200``): it is then in ``sink``. Raises :class:`NoRanges` when range reads
    fail in a way a whole download may not; zipfile's errors and ``pick``'s
    ``KeyError`` pass through.
    """
    import zipfile

    first = get({"Range": f"bytes=-{TAIL}"}, sink, WHEEL_LIMIT)
    if first.status == 200:
        return None, first.received
    if first.status != 206:
        raise NoRanges(f"HTTP {first.status} for a range")
    start, end, total = _content_range(first)
    if first.received > TAIL:
        raise NoRanges(f"{first.received} bytes for a range of {TAIL}")
    sink.seek(0)
    data = sink.read()
    if len(data) != end - start + 1 or end + 1 != total:
        raise NoRanges("the first range answer is not the file's tail")
    view = RangeFile(get, total, first.etag)
    view.add(start, data)
    view.received = first.received
    with zipfile.ZipFile(view) as wheel:
        member = wheel.read(pick(wheel.namelist()))
    return member, view.received


def _content_range(reply: Reply) -> tuple[int, int, int]:
    m = _RANGE.fullmatch((reply.content_range or "").strip())
    if not m:
        raise NoRanges(f"no usable Content-Range ({reply.content_range!r})")
    start, end, total = (int(g) for g in m.groups())
    if not start <= end < total:
        raise NoRanges(f"an impossible Content-Range ({reply.content_range!r})")
    return start, end, total


class RangeFile(io.RawIOBase):
    """A read-only, seekable view of a remote file, filled by range requests as read."""

    def __init__(self, get: Getter, length: int, etag: str | None) -> None:
        super().__init__()
        self._get = get
        self._length = length
        self._etag = etag if etag and not etag.startswith("W/") else None
        self._pos = 0
        self._spans: list[tuple[int, bytes]] = []
        self.requests = 0
        self.received = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._length}[whence]
        if base + offset < 0:
            raise OSError("seek before the start of the file")
        self._pos = base + offset
        return self._pos

    def add(self, start: int, data: bytes) -> None:
        self._spans.append((start, data))

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        want = min(len(buffer), self._length - self._pos)
        if want <= 0:
            return 0
        data = self._covered(self._pos, want)
        if data is None:
            self._fetch(self._pos, max(want, FETCH))
            data = self._covered(self._pos, want)
            assert data is not None
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def _covered(self, pos: int, n: int) -> bytes | None:
        for start, data in self._spans:
            if start <= pos and pos + n <= start + len(data):
                return data[pos - start : pos - start + n]
        return None

    def _fetch(self, pos: int, n: int) -> None:
        end = min(self._length, pos + n) - 1
        self.requests += 1
        if self.requests > MAX_RANGES:
            raise NoRanges(f"more than {MAX_RANGES} range requests")
        headers = {"Range": f"bytes={pos}-{end}"}
        if self._etag:
            headers["If-Range"] = self._etag
        reply = self._get(headers, None, end - pos + 1)
        self.received += reply.received
        if reply.status != 206:
            raise NoRanges(f"HTTP {reply.status} for a range")
        start, stop, total = _content_range(reply)
        if (start, stop, total) != (pos, end, self._length) or len(reply.body) != end - pos + 1:
            raise NoRanges(f"asked for bytes {pos}-{end}, got {reply.content_range}")
        self.add(pos, reply.body)


def metadata_member(names: list[str], project: str) -> str:
    """The ``<name>-<version>.dist-info/METADATA`` member of ``project``'s wheel."""
    found = [n for n in names if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
    for name in found:
        if canonicalize_name(name.split("-", 1)[0]) == project:
            return name
    if found:
        return found[0]
    raise KeyError("no .dist-info/METADATA")
