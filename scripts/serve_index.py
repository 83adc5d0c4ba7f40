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
import hashlib
import random
import socket
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

if __package__ in (None, ""):  # run as a plain script: make `scripts` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts.make_index import R2_PLACEHOLDER

HANG_SECONDS = 120.0  # longer than any client timeout used in tests
S3_DENIED = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
             b"<Message>Access Denied</Message></Error>")
KINDS = ("status", "delay", "hang", "truncate", "garbage", "corrupt")


@dataclass
class Fault:
    """One injected misbehaviour; ``count`` None means every matching request."""

    glob: str
    kind: str
    status: int = 500
    seconds: float = 0.0
    count: int | None = None
    hits: int = 0


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it; ``status`` None: it hung up without answering."""

    method: str
    path: str  # decoded, without the query string
    raw_path: str  # as sent on the request line
    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    fault: str | None = None


class Faults:
    """Thread-safe fault table consulted by every request, in the order faults were added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._etags: dict[str, str | None] = {}
        self._release = threading.Event()

    def _add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def fail(self, glob: str, status: int = 500, count: int | None = None) -> Fault:
        """Answer ``status`` (500, 403, 404, ...) with an empty-ish body, for ``count`` hits."""
        return self._add(Fault(glob, "status", status=status, count=count))

    def delay(self, glob: str, seconds: float, count: int | None = None) -> Fault:
        """Wait ``seconds`` before answering normally (a slow server)."""
        return self._add(Fault(glob, "delay", seconds=seconds, count=count))

    def hang(self, glob: str, seconds: float = HANG_SECONDS, count: int | None = None) -> Fault:
        """Never answer (until ``seconds`` pass, :meth:`clear`, or server stop), then hang up."""
        return self._add(Fault(glob, "hang", seconds=seconds, count=count))

    def truncate(self, glob: str, count: int | None = None) -> Fault:
        """Send the full Content-Length but only half the body, then close."""
        return self._add(Fault(glob, "truncate", count=count))

    def garbage(self, glob: str, count: int | None = None) -> Fault:
        """Answer 200 text/html with random bytes that contain no markup."""
        return self._add(Fault(glob, "garbage", count=count))

    def corrupt(self, glob: str, count: int | None = None) -> Fault:
        """Answer with a body of the right length but wrong bytes (for wheels)."""
        return self._add(Fault(glob, "corrupt", count=count))

    def set_etag(self, glob: str, etag: str | None = None) -> None:
        """Send an ETag (default: a hash of the body) and honour If-None-Match with 304."""
        with self._lock:
            self._etags[glob] = etag

    def clear(self) -> None:
        """Drop every fault and ETag rule; wake requests that are hanging or delayed."""
        with self._lock:
            self._faults.clear()
            self._etags.clear()
            self._release.set()
            self._release = threading.Event()

    def take(self, path: str) -> tuple[float, Fault | None, threading.Event]:
        """Consume the faults matching ``path``: total delay, the response fault, a wake event."""
        delay, chosen = 0.0, None
        with self._lock:
            for fault in self._faults:
                if not fnmatch.fnmatchcase(path, fault.glob):
                    continue
                if fault.count is not None and fault.hits >= fault.count:
                    continue
                if fault.kind == "delay":
                    delay += fault.seconds
                elif chosen is None:
                    chosen = fault
                else:
                    continue
                fault.hits += 1
            return delay, chosen, self._release

    def etag_for(self, path: str, body: bytes) -> str | None:
        with self._lock:
            for glob, etag in self._etags.items():
                if fnmatch.fnmatchcase(path, glob):
                    return f'"{etag or hashlib.sha256(body).hexdigest()[:16]}"'
        return None


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

    def _record(self, path: str, status: int | None, fault: str | None) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.owner._log(RequestRecord(self.command, path, self.path, status, headers,
                                             fault))

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
        self._send(path, 200, body, _content_type(file), body_wanted, etag=etag, fault=kind)

    def _send(self, path: str, status: int, body: bytes, ctype: str | None, body_wanted: bool,
              *, etag: str | None = None, fault: str | None = None) -> None:
        self._record(path, status, fault)
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        if etag:
            self.send_header("ETag", etag)
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

    def __init__(self, root: Path | str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = Path(root)
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
        return f"http://127.0.0.1:{self.port}"

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
