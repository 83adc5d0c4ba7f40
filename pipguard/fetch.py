"""One HTTP(S) or ``file://`` GET for the index client: replies, failures, streaming.

Only stdlib HTTP (``urllib``), imported lazily so that importing this module stays cheap:
it honours the system's proxy settings and always verifies TLS. A reply is returned for
2xx, 304 and 4xx; everything worth retrying (5xx, 429, timeouts, cut-short bodies)
raises :class:`Transient` and the caller decides how often to retry.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pipguard import __version__

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True)
class Reply:
    """What the server answered: status, body (empty when streamed) and the headers used."""

    status: int
    body: bytes
    url: str  # after redirects
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None


class Transient(Exception):
    """A failure worth retrying: 5xx, 429, timeout, connection error, garbage page."""


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
    url: str, headers: Mapping[str, str], timeout: float, *, sink: IO[bytes] | None = None
) -> Reply:
    """One GET. Replies for 2xx, 304 and 4xx; raises :class:`Transient` for the rest.

    With ``sink`` the body is streamed there instead of kept in memory.
    """
    if url.startswith("file:"):
        return request_file(url, sink)
    import http.client
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, headers={"User-Agent": f"pipguard/{__version__}", **headers})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            if sink is None:
                body = resp.read()  # raises IncompleteRead when cut short
            else:
                body = b""
                stream(resp, sink, resp.headers.get("Content-Length"))
            return Reply(
                resp.status,
                body,
                resp.geturl(),
                resp.headers.get("Content-Type", ""),
                resp.headers.get("ETag"),
                resp.headers.get("Last-Modified"),
            )
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code >= 500 or exc.code in (408, 429):
            raise Transient(f"HTTP {exc.code}") from None
        return Reply(exc.code, b"", url)
    except urllib.error.URLError as exc:
        raise Transient(describe(exc.reason)) from None
    except (OSError, http.client.HTTPException) as exc:
        raise Transient(describe(exc)) from None


def stream(resp: Any, sink: IO[bytes], length: str | None) -> None:
    """Copy a response into ``sink``; a short body is a transient failure."""
    got = 0
    for chunk in iter(lambda: resp.read(1 << 20), b""):
        sink.write(chunk)
        got += len(chunk)
    # http.client does not raise on a short body read in pieces, so check here.
    if length is not None and length.isdigit() and got != int(length):
        raise Transient(f"connection closed after {got} of {length} bytes")


def describe(reason: object) -> str:
    """A short reason for a failed request (``timed out``, ``Connection refused``)."""
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, BaseException):
        text = str(reason) or type(reason).__name__
        return text if not isinstance(reason, OSError) or not reason.strerror else reason.strerror
    return str(reason)


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
                return Reply(200, fh.read(), url, ctype)
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                sink.write(chunk)
            return Reply(200, b"", url, ctype)
    except (FileNotFoundError, NotADirectoryError):
        return Reply(404, b"", url)
    except PermissionError:
        return Reply(403, b"", url)
    except OSError as exc:
        raise Transient(describe(exc)) from None
