#!/usr/bin/env python3
"""Serve an index built by ``scripts/make_index.py`` on 127.0.0.1, with fault injection.

URL map: ``/whl/...`` -> ``<dir>/torch/...`` and ``/pypi/...`` -> ``<dir>/pypi/...``. Paths are
percent-decoded (``%2B`` -> ``+``), directory URLs serve their ``index.html``, a missing file
answers 403 under ``/whl`` (as S3 does) and 404 elsewhere. The R2 placeholder host in pages is
replaced by this server's own address. Every request is logged for assertions.

Faults are set at run time per path glob (``fnmatch`` on the decoded path), see :class:`Faults`.

Usage: ``python scripts/serve_index.py DIR [--port N]``
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import random
import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

if __package__ in (None, ""):  # run as a plain script: make `scripts` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts.index_faults import HANG_SECONDS, Faults, RequestRecord
from scripts.make_index import R2_PLACEHOLDER

__all__ = ["HANG_SECONDS", "Faults", "IndexServer", "RequestRecord"]

S3_DENIED = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
             b"<Message>Access Denied</Message></Error>")


def _content_type(path: Path) -> str:
    if path.suffix == ".html":
        return "text/html"
    return "binary/octet-stream"  # what S3 reports for wheels and .metadata files


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 30  # an idle or half-open connection must not pin a thread forever

    def log_message(self, format: str, *args: object) -> None:
        pass  # requests are recorded in IndexServer.requests instead

    def do_GET(self) -> None:
        self._handle(body_wanted=True)

    def do_HEAD(self) -> None:
        self._handle(body_wanted=False)

    def _record(self, path: str, status: int | None, fault: str | None, sent: int = 0) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.owner._log(RequestRecord(self.command, path, self.path, status, headers,
                                             fault, sent))

    def _resolve(self, path: str) -> Path | None:
        root = self.server.owner.root
        for prefix, sub in (("/whl", "torch"), ("/pypi", "pypi")):
            if path == prefix or path.startswith(prefix + "/"):
                base = (root / sub).resolve()
                target = (base / path[len(prefix):].lstrip("/")).resolve()
                if target != base and base not in target.parents:
                    return None  # ../ escapes are treated as missing
                if target.is_dir():
                    target = target / "index.html"
                return target if target.is_file() else None
        return None

    def _handle(self, *, body_wanted: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        owner = self.server.owner
        if owner.auth is not None and not owner.authorized(self.headers.get("Authorization")):
            self._send(path, 401, b"authentication required\n", "text/plain", body_wanted,
                       extra={"WWW-Authenticate": 'Basic realm="index"'})
            return
        delay, fault, release = owner.faults.take(path)
        if (delay and release.wait(delay)) or owner._stopping.is_set():
            self._record(path, None, "delay")
            self.close_connection = True
            return
        if fault is not None and fault.kind == "hang":
            self._record(path, None, "hang")
            release.wait(fault.seconds)
            self.close_connection = True
            return
        if fault is not None and fault.kind == "status":
            self._send(path, fault.status, b"injected failure\n", "text/plain", body_wanted,
                       fault="status")
            return
        file = self._resolve(path)
        if file is None:
            if path == "/whl" or path.startswith("/whl/"):
                self._send(path, 403, S3_DENIED, "application/xml", body_wanted)
            else:
                self._send(path, 404, b"not found\n", "text/plain", body_wanted)
            return
        body = file.read_bytes()
        if file.suffix == ".html":
            body = body.replace(R2_PLACEHOLDER.encode(), owner.url.encode())
        etag = owner.faults.etag_for(path, body)
        if etag is not None and etag in self.headers.get("If-None-Match", ""):
            self._send(path, 304, b"", None, False, etag=etag)
            return
        kind = fault.kind if fault is not None else None
        if kind == "garbage":
            rng = random.Random(path)
            body = bytes(b for b in rng.randbytes(2048) if b not in b"<>&")[:1024]
        elif kind == "corrupt":
            body = bytes(b ^ 0x5A for b in body)
        wanted = _byte_range(self.headers.get("Range"), len(body))
        if wanted is not None and kind != "norange" and file.suffix != ".html":
            start, end = wanted
            self._send(path, 206, body[start:end + 1], _content_type(file), body_wanted,
                       etag=etag, fault=kind,
                       extra={"Content-Range": f"bytes {start}-{end}/{len(body)}"})
            return
        self._send(path, 200, body, _content_type(file), body_wanted, etag=etag, fault=kind)

    def _send(self, path: str, status: int, body: bytes, ctype: str | None, body_wanted: bool,
              *, etag: str | None = None, fault: str | None = None,
              extra: dict[str, str] | None = None) -> None:
        self._record(path, status, fault, len(body) if body_wanted else 0)
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        if etag:
            self.send_header("ETag", etag)
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not body_wanted:
            return
        if fault == "truncate":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)  # the client sees EOF mid-body
            return
        self.wfile.write(body)


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``Range: bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` → (first, last); None: whole file."""
    if not header or not header.startswith("bytes=") or "," in header or size == 0:
        return None
    first, _, last = header[6:].strip().partition("-")
    if not first:
        return (max(0, size - int(last)), size - 1) if last.isdigit() and int(last) else None
    if not first.isdigit() or int(first) >= size:
        return None
    return int(first), min(size - 1, int(last)) if last.isdigit() else size - 1


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # threads are joined by server_close(): nothing leaks
    block_on_close = True
    # listen() backlog: socketserver's default of 5 makes parallel clients (pip, uv and
    # pipguard's page threads at once) wait for SYN retries (1 s, 3 s, ...) when it fills.
    request_queue_size = 1024

    def __init__(self, owner: IndexServer, address: tuple[str, int]) -> None:
        self.owner = owner
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.owner.tls is not None:  # the handshake runs in the handler's thread
            try:
                request = self.owner.tls.wrap_socket(request, server_side=True)
            except OSError:
                return  # e.g. the client does not trust our certificate
        super().finish_request(request, client_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # clients hanging up early is expected
            super().handle_error(request, client_address)

    def drop_connections(self) -> None:
        """Unblock handler threads still reading from clients so that joining them is quick."""
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class IndexServer:
    """The imitation index over HTTP; a context manager that starts and stops it."""

    def __init__(self, root: Path | str, host: str = "127.0.0.1", port: int = 0, *,
                 tls: ssl.SSLContext | None = None, auth: tuple[str, str] | None = None) -> None:
        self.root = Path(root)
        self.tls = tls  # serve https with this server-side context
        self.auth = auth  # require HTTP basic auth with this (user, password)
        self.faults = Faults()
        self._log_lock = threading.Lock()
        self._requests: list[RequestRecord] = []
        self._stopping = threading.Event()
        self._httpd = _Server(self, (host, port))
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def authorized(self, header: str | None) -> bool:
        import base64

        assert self.auth is not None
        want = base64.b64encode(":".join(self.auth).encode()).decode()
        return header == f"Basic {want}"

    @property
    def torch_url(self) -> str:
        return f"{self.url}/whl"

    @property
    def pypi_url(self) -> str:
        return f"{self.url}/pypi/simple"

    def _log(self, record: RequestRecord) -> None:
        with self._log_lock:
            self._requests.append(record)

    @property
    def requests(self) -> list[RequestRecord]:
        """A copy of the request log, oldest first."""
        with self._log_lock:
            return list(self._requests)

    def requests_for(self, glob: str) -> list[RequestRecord]:
        """Logged requests whose decoded path matches ``glob``."""
        return [r for r in self.requests if fnmatch.fnmatchcase(r.path, glob)]

    def clear_requests(self) -> None:
        with self._log_lock:
            self._requests.clear()

    def reset(self) -> None:
        """Forget faults, ETag rules and the request log (between tests)."""
        self.faults.clear()
        self.clear_requests()

    def start(self) -> IndexServer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever,
                                            kwargs={"poll_interval": 0.05},
                                            name=f"index-server-{self.port}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake hanging handlers, and join every thread."""
        self._stopping.set()
        self.faults.clear()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.drop_connections()
        self._httpd.server_close()

    def __enter__(self) -> IndexServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """CLI: serve DIR until interrupted."""
    parser = argparse.ArgumentParser(description="Serve an imitation PyTorch/PyPI index.")
    parser.add_argument("dir", type=Path)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    if not (args.dir / "torch").is_dir():
        parser.error(f"{args.dir} has no torch/ (build it with scripts/make_index.py)")
    with IndexServer(args.dir, port=args.port) as server:
        print(f"torch index: {server.torch_url}/<variant>/   PyPI: {server.pypi_url}/", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
