"""Attack servers for the network edge: a private CA, a trickling, an endless and a
redirecting server on 127.0.0.1 (the imitation index itself is scripts/serve_index.py)."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PrivateCA:
    ca_pem: Path  # the CA certificate clients must trust
    server: ssl.SSLContext  # a server context with a certificate for 127.0.0.1 signed by it


def make_ca(folder: Path) -> PrivateCA:
    """A CA and a server certificate for 127.0.0.1 (and localhost), made with cryptography."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pipguard test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    ca_pem = folder / "ca.pem"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain = folder / "server.pem"
    chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain)
    return PrivateCA(ca_pem, context)


Behaviour = Callable[[socket.socket, bytes, "RawServer"], None]


class RawServer:
    """A TCP server on 127.0.0.1 that reads a request head and hands the socket to
    ``behaviour``; counts the bytes it sent (``sent``) and the requests (``hits``)."""

    def __init__(self, behaviour: Behaviour, tls: ssl.SSLContext | None = None) -> None:
        self.behaviour = behaviour
        self.tls = tls
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.sent = 0
        self.hits = 0
        self.heads: list[bytes] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.sock.getsockname()[1]}"

    def count(self, n: int) -> None:
        with self._lock:
            self.sent += n

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            t = threading.Thread(target=self._one, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _one(self, conn: socket.socket) -> None:
        if self.tls is not None:
            try:
                conn.settimeout(5)
                conn = self.tls.wrap_socket(conn, server_side=True)
            except OSError:
                conn.close()
                return
        with conn:
            conn.settimeout(5)
            head = b""
            with contextlib.suppress(OSError):
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    head += chunk
            with self._lock:
                self.hits += 1
                self.heads.append(head)
            with contextlib.suppress(OSError):
                self.behaviour(conn, head, self)

    def __enter__(self) -> RawServer:
        self._main = threading.Thread(target=self._serve, daemon=True)
        self._main.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self._main.join()
        for t in self._threads:
            t.join(timeout=5)
        self.sock.close()


def trickle(conn: socket.socket, head: bytes, server: RawServer) -> None:
    """200, a large Content-Length, then one byte a second (0.5 s here) until stopped."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000000\r\n\r\n")
    while not server.stop.is_set():
        conn.sendall(b"<")
        server.count(1)
        time.sleep(0.5)


def endless(conn: socket.socket, head: bytes, server: RawServer) -> None:
    """200 without a length, then an endless body as fast as the client reads."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n")
    block = b"<a>" * 21845 + b"x"
    while not server.stop.is_set():
        conn.sendall(block)
        server.count(len(block))


def redirect_to(target: str) -> Behaviour:
    """302 to ``target`` plus the request's path."""

    def behaviour(conn: socket.socket, head: bytes, server: RawServer) -> None:
        path = head.split(b" ", 2)[1].decode()
        conn.sendall(f"HTTP/1.1 302 Found\r\nLocation: {target}{path}\r\n"
                     "Content-Length: 0\r\nConnection: close\r\n\r\n".encode())

    return behaviour


@contextlib.contextmanager
def serving(behaviour: Behaviour, tls: ssl.SSLContext | None = None) -> Iterator[RawServer]:
    with RawServer(behaviour, tls) as server:
        yield server
