"""How pipguard talks HTTP(S): pip's network settings applied to urllib3 connection pools.

:class:`NetworkSettings` is what pip's configuration says (gathered by
:mod:`pipguard.pipconfig`): the CA bundle, the client certificate, whether the system
trust store is used, trusted hosts, proxies, timeout, retries and where credentials
come from. :class:`Transport` turns it into urllib3 pool managers (one per proxy and
verification mode) and answers "which proxy", "which credentials" for a URL.

urllib3 rather than ``urllib``: connection pools (keep-alive across the dozens of
pages and range reads of one plan), explicit proxies (``CONNECT`` for https), a TLS
context we build ourselves (truststore, client certificates), and responses that can be
read piecewise with a deadline.
"""

from __future__ import annotations

import base64
import contextlib
import threading
import time
from collections.abc import Mapping
from typing import Any

from pipguard import __version__
from pipguard.errors import UsageError
from pipguard.redact import redact_url, split_credentials
from pipguard.wire import NetworkSettings, Refused, Transient, describe

__all__ = ["CERT_HINT", "Transport"]

CERT_HINT = ("if a proxy or a private index uses its own CA, give pip its bundle: --cert FILE "
             "or PIP_CERT=FILE (pipguard reads pip's settings)")


# --- a deadline for the header phase, per thread --------------------------------------------

_LOCAL = threading.local()


class deadline_scope:
    """Within it, a response whose headers do not arrive by ``end`` (monotonic) is cut off."""

    def __init__(self, end: float) -> None:
        self.end = end

    def __enter__(self) -> None:
        _LOCAL.end = self.end

    def __exit__(self, *exc: object) -> None:
        _LOCAL.end = None


def _watchdog(conn: Any) -> threading.Timer | None:
    """Shut the connection's socket at the thread's deadline (a server trickling headers)."""
    import socket

    end = getattr(_LOCAL, "end", None)
    sock = getattr(conn, "sock", None)
    if end is None or sock is None:
        return None

    def cut() -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(max(0.0, end - time.monotonic()), cut)
    timer.daemon = True
    timer.start()
    return timer


def _pool_classes() -> dict[str, Any]:
    """urllib3 pools whose connections wait for headers no longer than the deadline."""
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class Watched:
        """Waits for the response headers under the deadline's watchdog."""

        def getresponse(self) -> Any:
            timer = _watchdog(self)
            try:
                return super().getresponse()  # type: ignore[misc]  # the connection's
            finally:
                if timer is not None:
                    timer.cancel()

    class Conn(Watched, HTTPConnection):
        pass

    class TLSConn(Watched, HTTPSConnection):
        pass

    class Pool(HTTPConnectionPool):
        ConnectionCls = Conn

    class TLSPool(HTTPSConnectionPool):
        ConnectionCls = TLSConn

    return {"http": Pool, "https": TLSPool}


# --- the transport ------------------------------------------------------------------------------


class Transport:
    """urllib3 pool managers for one set of :class:`NetworkSettings` (thread-safe)."""

    def __init__(self, net: NetworkSettings | None = None) -> None:
        self.net = net or NetworkSettings()
        self._lock = threading.Lock()
        self._managers: dict[tuple[str | None, bool], Any] = {}
        self._netrc: Any = None
        self._netrc_read = False
        self._learned: dict[str, tuple[str, str]] = {}  # netloc -> credentials seen in a URL

    def manager(self, url: str) -> Any:
        """The urllib3 pool manager for ``url``: its proxy, its TLS verification."""
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        proxy = self.proxy_for(url)
        insecure = parts.scheme == "https" and self.trusted(parts.hostname or "", parts.port)
        key = (proxy, insecure)
        with self._lock:
            if key not in self._managers:
                self._managers[key] = self._make(proxy, insecure)
            return self._managers[key]

    def _make(self, proxy: str | None, insecure: bool) -> Any:
        import urllib3

        context = _unverified_context() if insecure else self._context()
        kwargs: dict[str, Any] = {"ssl_context": context, "maxsize": 8, "block": False}
        if proxy is None:
            manager = urllib3.PoolManager(num_pools=16, **kwargs)
        else:
            bare, user, password = split_credentials(proxy)
            headers = None
            if user is not None:
                headers = urllib3.make_headers(proxy_basic_auth=f"{user}:{password or ''}")
            manager = urllib3.ProxyManager(bare, num_pools=16, proxy_headers=headers,
                                           proxy_ssl_context=context, **kwargs)
        manager.pool_classes_by_scheme = _pool_classes()
        return manager

    def _context(self) -> Any:
        """The TLS context pip would use: truststore + certifi (+ --cert), else the bundle."""
        import ssl

        import certifi

        net = self.net
        try:
            if net.truststore:
                import truststore

                context: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.load_verify_locations(certifi.where())
                if net.cert:
                    context.load_verify_locations(net.cert)
            else:
                context = ssl.create_default_context(cafile=net.cert or certifi.where())
        except (OSError, ssl.SSLError) as exc:
            raise UsageError(
                f"cannot read the CA bundle {net.cert} "
                f"(from {net.sources.get('cert', '--cert')}): {exc}",
                hint="point --cert (or PIP_CERT) at a PEM file of CA certificates") from None
        if net.client_cert:
            try:
                context.load_cert_chain(net.client_cert)
            except (OSError, ssl.SSLError) as exc:
                raise UsageError(
                    f"cannot read the client certificate {net.client_cert}: {exc}",
                    hint="--client-cert (PIP_CLIENT_CERT) must name one PEM file holding "
                         "the private key and the certificate") from None
        return context

    def send(self, url: str, headers: Mapping[str, str], timeout: float, end: float) -> Any:
        """One GET of ``url`` (no redirects followed, no retries): the urllib3 response,
        headers read by ``end`` (monotonic), body not yet. Raises :class:`Transient`
        or, for a TLS failure, :class:`Refused` with the ``--cert`` hint."""
        import urllib3

        bare = split_credentials(url)[0]
        sent = {"User-Agent": f"pipguard/{__version__}", **headers}
        cred = self.credentials(url)
        if cred is not None:
            token = base64.b64encode(f"{cred[0]}:{cred[1]}".encode()).decode("ascii")
            sent["Authorization"] = f"Basic {token}"
        left = end - time.monotonic()
        if left <= 0:
            raise Transient(f"no time left to ask {redact_url(url)}")
        wait = min(timeout, left)
        try:
            with deadline_scope(end):
                return self.manager(bare).request(
                    "GET", bare, headers=sent, redirect=False, retries=False,
                    preload_content=False, decode_content=True,
                    timeout=urllib3.Timeout(connect=wait, read=wait))
        except urllib3.exceptions.SSLError as exc:
            raise Refused(f"TLS failure for {redact_url(url)}: {_tls_reason(exc)}",
                          hint=CERT_HINT) from None
        except urllib3.exceptions.ProxyError as exc:
            raise Transient(f"proxy failure: {describe(exc)}") from None
        except urllib3.exceptions.HTTPError as exc:
            raise Transient(describe(exc)) from None
        except OSError as exc:
            raise Transient(describe(exc)) from None

    # --- per-URL answers ------------------------------------------------------------------

    def trusted(self, host: str, port: int | None) -> bool:
        """Whether pip's trusted-host setting names ``host`` (any port) or ``host:port``."""
        for item in self.net.trusted_hosts:
            name, _, want = item.strip().lower().rpartition(":")
            if not name or not want.isdigit():
                name, want = item.strip().lower(), ""
            if name.strip("[]") == host.lower() and (not want or (port and int(want) == port)):
                return True
        return False

    def proxy_for(self, url: str) -> str | None:
        """The proxy for ``url``: as pip (requests) decides, an environment proxy
        (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``) not bypassed by ``NO_PROXY``
        wins over ``--proxy``."""
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        env = self.net.env_proxies
        found = env.get(parts.scheme) or env.get("all")
        if found and not _bypassed(parts.hostname or "", parts.port, self.net.no_proxy):
            return found if "://" in found else f"http://{found}"
        return self.net.proxy

    def credentials(self, url: str) -> tuple[str, str] | None:
        """``(user, password)`` for ``url`` as pip finds them: in the URL (remembered for its
        host, as pip does), in an index URL of pip's configuration for the same host, in
        ``.netrc``."""
        from urllib.parse import urlsplit

        bare, user, password = split_credentials(url)
        parts = urlsplit(bare)
        netloc = parts.netloc.lower()
        if user is not None:
            with self._lock:
                self._learned[netloc] = (user, password or "")
            return user, password or ""
        with self._lock:
            found = self._learned.get(netloc)
        if found is None:
            found = self.net.index_credentials.get(netloc)
        if found is not None:
            return found
        return self._from_netrc(parts.hostname or "")

    def _from_netrc(self, host: str) -> tuple[str, str] | None:
        import netrc

        with self._lock:
            if not self._netrc_read:
                self._netrc_read = True
                if self.net.netrc:
                    try:
                        self._netrc = netrc.netrc(self.net.netrc)
                    except (OSError, netrc.NetrcParseError):
                        self._netrc = None
        if self._netrc is None or not host:
            return None
        entry = self._netrc.authenticators(host)
        if not entry:
            return None
        login, account, password = entry
        return (login or account or ""), password or ""


def _unverified_context() -> Any:
    """For a host the user named with pip's own trusted-host option, and only for it:
    pip does not verify its certificate either."""
    import ssl

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    """``NO_PROXY`` as requests reads it: ``*``, domain suffixes, ``host:port``, CIDRs."""
    import ipaddress

    host = host.lower()
    for raw in no_proxy.replace(" ", "").split(","):
        entry = raw.lower().lstrip("*").lstrip(".")
        if not entry:
            if raw.strip() == "*":
                return True
            continue
        if "/" in entry:
            try:
                if ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        name = f"{host}:{port}" if port and ":" in entry else host
        if name == entry or name.endswith("." + entry):
            return True
    return False


def _tls_reason(exc: BaseException) -> str:
    text = str(getattr(exc, "reason", None) or exc)
    for marker in ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed"):
        if marker in text:
            return "certificate verify failed" + text.split(marker, 1)[1].split(")")[0]
    return text
