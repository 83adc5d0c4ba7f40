"""One HTTP(S) or ``file://`` GET for the index client: replies, failures, bounds.

A request is sent through a :class:`~pipguard.wire.Sender` (the urllib3
:class:`~pipguard.transport.Transport`, with pip's network settings) and is
bounded: it ends by its ``deadline`` (headers and body, so a server trickling one
byte a second ends too) and reads at most ``limit`` bytes (:data:`PAGE_LIMIT` for
pages). Redirects are followed by hand (at most
:data:`MAX_REDIRECTS`): https → http is refused, another host is allowed and noted,
and credentials are never carried to another host.

A reply is returned for 2xx, 304 and 4xx; what is worth retrying (5xx, 408, 429,
timeouts, cut-short bodies) raises :class:`Transient`, what retrying cannot fix
(a certificate failure, a refused redirect, a body over the limit) raises
:class:`Refused`; the caller decides how often to retry.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from pipguard.redact import keep_auth, netloc_of, redact_url, split_credentials
from pipguard.simple import JSON_TYPE
from pipguard.wire import PAGE_LIMIT, Refused, Reply, Sender, Transient, describe

MAX_REDIRECTS = 10
_REDIRECTS = (301, 302, 303, 307, 308)
_CHUNK = 1 << 16


@contextlib.contextmanager
def temp_file(root: Path) -> Iterator[IO[bytes]]:
    """A temp file near the cache (wheels can be GBs; /tmp may be RAM)."""
    import tempfile

    folder: Path | None = root / "tmp"
    try:
        (root / "tmp").mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = None  # an unwritable cache: fall back to the system's temp dir
    with tempfile.TemporaryFile(dir=folder) as fh:
        yield fh


def request(
    url: str, headers: Mapping[str, str], timeout: float, *, transport: Sender,
    sink: IO[bytes] | None = None, deadline: float | None = None, limit: int = PAGE_LIMIT,
) -> Reply:
    """One GET. Replies for 2xx, 304 and 4xx; raises :class:`Transient` or :class:`Refused`.

    With ``sink`` the body is streamed there instead of kept in memory. ``deadline``
    (``time.monotonic()`` seconds) defaults to ``2 * timeout`` from now.
    """
    if url.startswith("file:"):
        return request_file(url, sink)
    end = deadline if deadline is not None else time.monotonic() + 2 * timeout
    start_host = netloc_of(url)
    current, notes = url, list[str]()
    for _ in range(MAX_REDIRECTS + 1):
        resp = transport.send(current, headers, timeout, end)
        location = resp.headers.get("Location")
        if resp.status not in _REDIRECTS or not location:
            return _reply(resp, current, sink, end, limit, timeout, tuple(notes))
        resp.close()
        from urllib.parse import urljoin

        target = urljoin(split_credentials(current)[0], location)
        if current.lower().startswith("https:") and not target.lower().startswith("https:"):
            raise Refused(f"{redact_url(current)} redirected from https to "
                          f"{redact_url(target)}, which is not encrypted; refused",
                          hint="use an index URL that stays on https")
        if netloc_of(target) != start_host:
            note = f"{redact_url(url)} redirected to another host: {redact_url(target)}"
            if note not in notes:
                notes.append(note)
        current = target if netloc_of(target) != netloc_of(current) else keep_auth(current, target)
    raise Refused(f"{redact_url(url)}: more than {MAX_REDIRECTS} redirects")


def _reply(resp: Any, url: str, sink: IO[bytes] | None, end: float, limit: int,
           timeout: float, notes: tuple[str, ...]) -> Reply:
    """Read (or drop) the body of a response and make the :class:`Reply`."""
    status = int(resp.status)
    if status >= 500 or status in (408, 429):
        resp.close()
        raise Transient(f"HTTP {status}")
    if status >= 300:  # 304, 4xx: the status is the answer
        resp.close()
        return Reply(status, b"", url, notes=notes)
    h = resp.headers
    counted = [0]
    try:
        body, got = _read_body(resp, sink, end, limit, timeout, url, counted)
    except (Transient, Refused) as exc:
        exc.received = counted[0]
        raise
    return Reply(status, body, url, h.get("Content-Type", ""), h.get("ETag"),
                 h.get("Last-Modified"), h.get("Content-Range"), got, notes)


def _read_body(resp: Any, sink: IO[bytes] | None, end: float, limit: int, timeout: float,
               url: str, counted: list[int]) -> tuple[bytes, int]:
    """The body, piecewise: no read waits past ``end``; more than ``limit`` bytes is refused."""
    import urllib3

    parts: list[bytes] = []
    got = 0
    length = resp.headers.get("Content-Length")
    done = False
    try:
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise Transient(f"{redact_url(url)} sent {got} bytes and did not finish in time")
            sock = getattr(getattr(resp, "connection", None), "sock", None)
            if sock is not None:
                sock.settimeout(min(timeout, left))
            chunk = resp.read1(_CHUNK)
            if not chunk:
                done = True
                break
            got += len(chunk)
            counted[0] = got
            if got > limit:
                raise Refused(f"{redact_url(url)} is larger than {limit >> 20} MiB; refused",
                              hint="an index page this large is not a package index page")
            if sink is None:
                parts.append(chunk)
            else:
                sink.write(chunk)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        if end - time.monotonic() < 0.1:  # the read was cut short by the deadline
            raise Transient(f"{redact_url(url)} sent {got} bytes and did not finish in "
                            "time") from None
        raise Transient(f"connection broke after {got} bytes: {describe(exc)}") from None
    finally:
        if done:
            resp.release_conn()
        else:
            resp.close()
    # A short body is a failure (urllib3 does not always raise on one read piecewise).
    if length is not None and length.isdigit() and got != int(length) \
            and not resp.headers.get("Content-Encoding"):
        raise Transient(f"connection closed after {got} of {length} bytes")
    return b"".join(parts), got


def request_file(url: str, sink: IO[bytes] | None) -> Reply:
    """A ``file://`` "GET": a folder serves its index.html, like the CDN does."""
    from urllib.parse import urlsplit
    from urllib.request import url2pathname

    path = Path(url2pathname(urlsplit(url).path))
    if path.is_dir():
        path = path / "index.html"
    ctype = JSON_TYPE if path.suffix == ".json" else "text/html"
    try:
        with path.open("rb") as fh:
            if sink is None:
                data = fh.read()
                return Reply(200, data, url, ctype, received=len(data))
            got = 0
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                sink.write(chunk)
                got += len(chunk)
            return Reply(200, b"", url, ctype, received=got)
    except (FileNotFoundError, NotADirectoryError):
        return Reply(404, b"", url)
    except PermissionError:
        return Reply(403, b"", url)
    except OSError as exc:
        raise Transient(describe(exc)) from None
