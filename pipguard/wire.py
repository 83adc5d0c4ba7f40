"""What crosses the wire: pip's network settings, a server's reply, the two kinds of failure.

The vocabulary shared by :mod:`pipguard.transport` (connections), :mod:`pipguard.fetch`
(one request), :mod:`pipguard.reader` (retries and time budget), :mod:`pipguard.ranged`
(range reads) and :mod:`pipguard.index`; it imports nothing of pipguard.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "PAGE_LIMIT", "NetworkSettings", "Refused", "Reply", "Sender", "Transient", "describe",
]

PAGE_LIMIT = 64 << 20  # bytes: a project page (or .metadata file) larger than this is refused


@dataclass(frozen=True)
class NetworkSettings:
    """pip's network configuration, as pip would apply it to the torch index."""

    cert: str | None = None  # CA bundle: REQUESTS_CA_BUNDLE > --cert > PIP_CERT > cert=
    client_cert: str | None = None  # PEM with the key and the certificate (pip's --client-cert)
    truststore: bool = False  # the system trust store too (pip >= 24.2 on Python >= 3.10)
    trusted_hosts: tuple[str, ...] = ()  # host or host:port, not verified (pip's own option)
    proxy: str | None = None  # pip's --proxy
    env_proxies: Mapping[str, str] = field(default_factory=dict)  # scheme/"all" -> proxy
    no_proxy: str = ""
    timeout: float = 15.0  # seconds per connect and per read (pip's --timeout)
    retries: int = 3
    index_credentials: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # netloc
    netrc: str | None = None  # the .netrc file to read (NETRC, else ~/.netrc)
    sources: Mapping[str, str] = field(default_factory=dict)  # setting -> where it came from


@dataclass(frozen=True)
class Reply:
    """What the server answered: status, body (empty when streamed) and the headers used."""

    status: int
    body: bytes
    url: str  # after redirects (may carry the credentials of the request's URL)
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    content_range: str | None = None
    received: int = 0  # body bytes read
    notes: tuple[str, ...] = ()  # e.g. a redirect to another host


class Transient(Exception):
    """A failure worth retrying: 5xx, 429, timeout, connection error, garbage page."""

    received = 0  # body bytes read before the failure


class Refused(Exception):
    """A failure retrying cannot fix: bad certificate, refused redirect, too large."""

    received = 0  # body bytes read before the failure

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class Sender(Protocol):
    """Sends one GET and returns the urllib3 response, headers read, body not yet
    (:class:`pipguard.transport.Transport`)."""

    def send(self, url: str, headers: Mapping[str, str], timeout: float, end: float) -> Any: ...


def describe(reason: object) -> str:
    """A short reason for a failed request (``timed out``, ``Connection refused``); an
    exception that wraps its cause in ``.reason`` (urllib3's) is described by it."""
    inner = getattr(reason, "reason", None)
    if isinstance(reason, BaseException) and isinstance(inner, BaseException):
        reason = inner
    if isinstance(reason, TimeoutError) or type(reason).__name__.endswith("TimeoutError"):
        return "timed out"
    if isinstance(reason, BaseException):
        text = str(reason) or type(reason).__name__
        return text if not isinstance(reason, OSError) or not reason.strerror else reason.strerror
    return str(reason)
