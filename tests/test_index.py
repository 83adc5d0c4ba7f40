"""Tests for pipguard.index and pipguard.cache against a local HTTP server (127.0.0.1)."""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipguard import cache
from pipguard.cache import format_age
from pipguard.errors import EXIT_INDEX, IndexUnavailable, IntegrityError, UsageError
from pipguard.index import ACCEPT, IndexClient
from pipguard.simple import IndexFile, parse_html
from pipguard.wheelmeta import read as read_metadata

WHEEL = "torch-2.7.0%2Bcu128-cp312-cp312-manylinux_2_28_x86_64.whl"


def page_html(*names: str, extra: str = "") -> bytes:
    rows = "".join(
        f'<a href="/whl/cu128/{n}"{extra}>{n.replace("%2B", "+")}</a><br/>\n' for n in names
    )
    return (
        "<!DOCTYPE html>\n<html>\n  <body>\n    <h1>Links for torch</h1>\n"
        f"{rows}  </body>\n</html>\n<!--TIMESTAMP 1-->"
    ).encode()


# --- a tiny scripted server --------------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    truncate: bool = False  # announce more bytes than are sent, then hang up


Route = Reply | Callable[[dict[str, str]], Reply]


class Server:
    """Serves scripted replies per path; a list of replies is served in order."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Route]] = {}
        self.log: list[tuple[str, dict[str, str]]] = []
        self.inflight = 0
        self.max_inflight = 0
        self.lock = threading.Lock()
        script = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                with script.lock:
                    script.log.append((self.path, headers))
                    script.inflight += 1
                    script.max_inflight = max(script.max_inflight, script.inflight)
                    queue = script.routes.get(self.path, [Reply(404)])
                    route = queue.pop(0) if len(queue) > 1 else queue[0]
                try:
                    reply = route(headers) if callable(route) else route
                    time.sleep(reply.delay)
                    self.send_response(reply.status)
                    length = len(reply.body) + (100 if reply.truncate else 0)
                    self.send_header("Content-Length", str(length))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(reply.body)
                    self.wfile.flush()
                    if reply.truncate:
                        self.close_connection = True
                except OSError:  # the client gave up (timeout tests)
                    pass
                finally:
                    with script.lock:
                        script.inflight -= 1

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda *a: None  # type: ignore[method-assign]
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/whl"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.running = True

    def route(self, path: str, *replies: Route) -> None:
        self.routes[path] = list(replies)

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.log if p == path)

    def stop(self) -> None:
        if self.running:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.running = False


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.delenv("PIPGUARD_OFFLINE", raising=False)
    monkeypatch.setenv("PIPGUARD_CACHE_DIR", str(tmp_path / "env-cache"))


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.stop()


def client(base: str, tmp_path: Path, *, channel: str = "stable", retries: int = 2,
           offline: bool = False, timeout: float = 2.0, max_workers: int = 8) -> IndexClient:
    return IndexClient(base, channel, timeout=timeout, retries=retries, backoff=0.01,
                       offline=offline, cache_dir=tmp_path / "cache", max_workers=max_workers)


TORCH = "/whl/cu128/torch/"


# --- URLs ------------------------------------------------------------------------------


def test_urls_per_channel_and_canonical_project(tmp_path: Path) -> None:
    stable = client("https://mirror.example/pytorch/whl/", tmp_path)
    assert stable.variant_url("cu128") == "https://mirror.example/pytorch/whl/cu128/"
    assert stable.project_url("cu128", "Pytorch_Triton") == (
        "https://mirror.example/pytorch/whl/cu128/pytorch-triton/"
    )
    assert stable.variant_url("") == "https://mirror.example/pytorch/whl/"
    test = client("https://download.pytorch.org/whl", tmp_path, channel="test")
    assert test.variant_url("rocm6.4") == "https://download.pytorch.org/whl/test/rocm6.4/"
    nightly = client("https://download.pytorch.org/whl", tmp_path, channel="nightly")
    assert (
        nightly.project_url("cpu", "torch") == "https://download.pytorch.org/whl/nightly/cpu/torch/"
    )


def test_bad_channel_and_scheme_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        client("https://download.pytorch.org/whl", tmp_path, channel="beta")
    with pytest.raises(UsageError):
        client("ftp://mirror/whl", tmp_path)


# --- pages -----------------------------------------------------------------------------


def test_200_parses_sends_accept_and_caches(server: Server, tmp_path: Path) -> None:
    server.route(TORCH, Reply(200, page_html(WHEEL), {"Content-Type": "text/html"}))
    c = client(server.base, tmp_path)
    page = c.page("cu128", "torch")
    assert not page.missing and not page.from_cache
    assert [f.filename for f in page.files] == [WHEEL.replace("%2B", "+")]
    assert page.files[0].url == f"{server.base}/cu128/{WHEEL}"
    assert server.log[0][1]["accept"] == ACCEPT
    assert "if-none-match" not in server.log[0][1]
    entry = cache.read_entry(cache.entry_path(tmp_path / "cache", "pages", page.url))
    assert entry is not None and entry[1] == page_html(WHEEL)
    assert c.notes == []


def test_304_reuses_cached_body_and_refreshes_fetched_at(server: Server, tmp_path: Path) -> None:
    def conditional(headers: dict[str, str]) -> Reply:
        if headers.get("if-none-match") == '"v1"':
            assert headers.get("if-modified-since") == "Wed, 23 Apr 2025 16:00:00 GMT"
            return Reply(304)
        return Reply(
            200,
            page_html(WHEEL),
            {"ETag": '"v1"', "Last-Modified": "Wed, 23 Apr 2025 16:00:00 GMT"},
        )

    server.route(TORCH, conditional)
    c = client(server.base, tmp_path)
    first = c.page("cu128", "torch")
    time.sleep(0.01)
    second = c.page("cu128", "torch")
    assert server.hits(TORCH) == 2
    assert server.log[1][1].get("if-none-match") == '"v1"'
    assert second.files == first.files and len(second.files) == 1
    assert second.fetched_at > first.fetched_at and not second.from_cache
    entry = cache.read_entry(cache.entry_path(tmp_path / "cache", "pages", first.url))
    assert entry is not None
    header, _ = entry
    assert header["fetched_at"] == second.fetched_at


def test_500_then_200_is_retried(server: Server, tmp_path: Path) -> None:
    server.route(TORCH, Reply(500), Reply(503), Reply(200, page_html(WHEEL)))
    page = client(server.base, tmp_path).page("cu128", "torch")
    assert server.hits(TORCH) == 3 and len(page.files) == 1


@pytest.mark.parametrize("status", [403, 404])
def test_403_404_is_missing_without_retry_and_remembered(
    server: Server, tmp_path: Path, status: int
) -> None:
    server.route("/whl/cu999/torch/", Reply(status))
    c = client(server.base, tmp_path)
    page = c.page("cu999", "torch")
    assert page.missing and page.files == () and not page.from_cache
    again = c.page("cu999", "torch")
    assert again.missing
    assert server.hits("/whl/cu999/torch/") == 1  # no retry, and the answer is cached a while


def test_timeout_is_retried_then_index_unavailable(server: Server, tmp_path: Path) -> None:
    server.route(TORCH, Reply(200, page_html(WHEEL), delay=1.0))
    c = client(server.base, tmp_path, timeout=0.2, retries=1)
    with pytest.raises(IndexUnavailable) as err:
        c.page("cu128", "torch")
    assert server.hits(TORCH) == 2
    assert "timed out" in err.value.message and f"{server.base}/cu128/torch/" in err.value.message
    assert err.value.exit_code == EXIT_INDEX


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, b"Service temporarily overloaded, try later", {"Content-Type": "text/plain"}),
        Reply(200, page_html(WHEEL)[:-60]),  # cut before </html>
        Reply(200, page_html(WHEEL)[:150]),  # cut inside an anchor
        Reply(200, b"{not json", {"Content-Type": "application/vnd.pypi.simple.v1+json"}),
        Reply(200, page_html(WHEEL), truncate=True),  # shorter than Content-Length
    ],
    ids=["text", "no-close", "mid-tag", "bad-json", "short-body"],
)
def test_garbage_is_retried_and_never_planned_from(
    server: Server, tmp_path: Path, reply: Reply
) -> None:
    server.route(TORCH, reply)
    c = client(server.base, tmp_path)
    with pytest.raises(IndexUnavailable):
        c.page("cu128", "torch")
    assert server.hits(TORCH) == 3


def test_garbage_with_warm_cache_falls_back_with_note(server: Server, tmp_path: Path) -> None:
    server.route(TORCH, Reply(200, page_html(WHEEL)), Reply(200, b"\x00\x01garbage"))
    c = client(server.base, tmp_path)
    c.page("cu128", "torch")
    stale = c.page("cu128", "torch")
    assert stale.from_cache and len(stale.files) == 1
    assert any("planned from cache" in n and "unusable page" in n for n in c.notes)


def test_empty_html_page_is_empty_not_an_error(server: Server, tmp_path: Path) -> None:
    server.route(TORCH, Reply(200, page_html()))
    page = client(server.base, tmp_path).page("cu128", "torch")
    assert page.files == () and not page.missing and server.hits(TORCH) == 1


def test_json_answer_is_parsed_as_pep691(server: Server, tmp_path: Path) -> None:
    name = WHEEL.replace("%2B", "+")
    doc = {
        "meta": {"api-version": "1.1"},
        "name": "torch",
        "files": [{"filename": name, "url": f"../{WHEEL}", "hashes": {"sha256": "ab"}}],
    }
    ctype = "application/vnd.pypi.simple.v1+json"
    server.route(TORCH, Reply(200, json.dumps(doc).encode(), {"Content-Type": ctype}))
    c = client(server.base, tmp_path)
    (f,) = c.page("cu128", "torch").files
    assert f.filename == name and f.sha256 == "ab" and f.url == f"{server.base}/cu128/{WHEEL}"
    server.stop()
    (cached,) = c.page("cu128", "torch").files  # the cache remembers it was JSON
    assert cached == f


def test_unreachable_with_warm_cache_plans_from_cache(server: Server, tmp_path: Path) -> None:
    server.route(TORCH, Reply(200, page_html(WHEEL)))
    c = client(server.base, tmp_path)
    fresh = c.page("cu128", "torch")
    server.stop()
    stale = c.page("cu128", "torch")
    assert stale.from_cache and stale.files == fresh.files
    assert stale.fetched_at == fresh.fetched_at
    (note,) = c.notes
    assert note.startswith("index unreachable") and "planned from cache 0s old" in note
    assert fresh.url in note


def test_unreachable_without_cache_raises_with_hint(server: Server, tmp_path: Path) -> None:
    server.stop()
    c = client(server.base, tmp_path, retries=1)
    with pytest.raises(IndexUnavailable) as err:
        c.page("cu128", "torch")
    assert "\n" not in err.value.message and f"{server.base}/cu128/torch/" in err.value.message
    assert "--torch-index-url" in (err.value.hint or "")
    assert "PIPGUARD_OFFLINE" in (err.value.hint or "")


def test_offline_never_touches_the_network(server: Server, tmp_path: Path) -> None:
    server.route(TORCH, Reply(200, page_html(WHEEL)))
    client(server.base, tmp_path).page("cu128", "torch")
    c = client(server.base, tmp_path, offline=True)
    assert c.offline
    page = c.page("cu128", "torch")
    assert page.from_cache and len(page.files) == 1 and "offline" in c.notes[0]
    with pytest.raises(IndexUnavailable, match="not cached"):
        c.page("cu126", "torch")
    assert len(server.log) == 1


def test_corrupt_cache_entry_is_ignored(server: Server, tmp_path: Path) -> None:
    server.route(TORCH, Reply(200, page_html(WHEEL)))
    c = client(server.base, tmp_path)
    url = c.project_url("cu128", "torch")
    path = cache.entry_path(tmp_path / "cache", "pages", url)
    c.page("cu128", "torch")
    path.write_bytes(path.read_bytes()[:-5])  # damaged on disk
    assert cache.read_entry(path) is None
    assert len(c.page("cu128", "torch").files) == 1  # refetched, no conditional request
    assert "if-none-match" not in server.log[-1][1]
    path.write_bytes(b"\x00junk")
    with pytest.raises(IndexUnavailable):
        client(server.base, tmp_path, offline=True).page("cu128", "torch")


def test_pages_fetches_in_parallel(server: Server, tmp_path: Path) -> None:
    variants = ["cu118", "cu126", "cu128", "cpu"]
    for v in variants:
        server.route(f"/whl/{v}/torch/", Reply(200, page_html(), delay=0.3))
    c = client(server.base, tmp_path, max_workers=4)
    wanted = [(v, "torch") for v in variants] + [("cpu", "torch")]
    got = c.pages(wanted)
    assert sorted(got) == sorted((v, "torch") for v in variants)
    assert got[("cpu", "torch")].url.endswith("/whl/cpu/torch/")
    assert server.max_inflight >= 2
    assert len(server.log) == 4


def test_file_base_url_reads_a_mirror_on_disk(tmp_path: Path) -> None:
    root = tmp_path / "mirror" / "whl"
    (root / "cu128" / "torch").mkdir(parents=True)
    (root / "cu128" / "torch" / "index.html").write_text(
        f'<html><body><a href="../{WHEEL}">x</a></body></html>'
    )
    c = client(root.as_uri(), tmp_path)
    (f,) = c.page("cu128", "torch").files
    assert f.url == f"{root.as_uri()}/cu128/{WHEEL}"
    assert c.page("cu128", "torchaudio").missing


# --- metadata --------------------------------------------------------------------------

METADATA = (
    b"Metadata-Version: 2.1\nName: torch\nVersion: 2.7.0+cu128\nRequires-Dist: sympy>=1.13.3\n"
)


def make_wheel() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("torch/__init__.py", "")
        zf.writestr("torch-2.7.0+cu128.dist-info/METADATA", METADATA)
        zf.writestr("torch-2.7.0+cu128.dist-info/WHEEL", "Wheel-Version: 1.0\n")
    return buf.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def listed(base: str, attrs: str) -> IndexFile:
    (f,) = parse_html(page_html(WHEEL, extra=attrs).decode(), f"{base}/cu128/torch/")
    return f


def test_metadata_pep658_verified_and_cached_forever(server: Server, tmp_path: Path) -> None:
    server.route(f"/whl/cu128/{WHEEL}.metadata", Reply(200, METADATA))
    f = listed(server.base, f' data-core-metadata="sha256={sha(METADATA)}"')
    c = client(server.base, tmp_path)
    assert read_metadata(c, f) == METADATA.decode()
    server.stop()
    assert read_metadata(client(server.base, tmp_path), f) == METADATA.decode()


def test_metadata_sha256_mismatch_is_integrity_error(server: Server, tmp_path: Path) -> None:
    server.route(f"/whl/cu128/{WHEEL}.metadata", Reply(200, METADATA + b"Evil: yes\n"))
    f = listed(server.base, f' data-core-metadata="sha256={sha(METADATA)}"')
    c = client(server.base, tmp_path)
    with pytest.raises(IntegrityError):
        read_metadata(c, f)
    with pytest.raises(IntegrityError):  # a bad answer is never cached
        read_metadata(c, f)


def test_metadata_falls_back_to_the_wheel(server: Server, tmp_path: Path) -> None:
    wheel = make_wheel()
    server.route(f"/whl/cu128/{WHEEL}", Reply(200, wheel))
    c = client(server.base, tmp_path)
    plain = listed(server.base, "")
    assert read_metadata(c, plain) == METADATA.decode()
    # advertised but absent (403) -> the wheel, with its published sha256 checked
    (hashed,) = parse_html(
        page_html(f"{WHEEL}#sha256={sha(wheel)}", extra=' data-core-metadata="true"').decode(),
        f"{server.base}/cu128/torch/",
    )
    server.route(f"/whl/cu128/{WHEEL}.metadata", Reply(403))
    assert read_metadata(c, hashed) == METADATA.decode()
    (bad,) = parse_html(
        page_html(f"{WHEEL}#sha256={'0' * 64}").decode(), f"{server.base}/cu128/torch/"
    )
    with pytest.raises(IntegrityError):
        read_metadata(c, bad)


def test_metadata_offline_and_not_cached(server: Server, tmp_path: Path) -> None:
    f = listed(server.base, ' data-core-metadata="true"')
    with pytest.raises(IndexUnavailable):
        read_metadata(client(server.base, tmp_path, offline=True), f)
    assert server.log == []


# --- cache -----------------------------------------------------------------------------


def test_atomic_write_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "entry"
    cache.atomic_write_bytes(target, b"one")
    cache.atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["entry"]


@pytest.mark.parametrize(
    "raw",
    [b"", b"pipguard-cache-1\n", b"pipguard-cache-1\n{bad json\nbody", b"other\n{}\n"],
)
def test_damaged_entries_read_as_missing(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "e"
    path.write_bytes(raw)
    assert cache.read_entry(path) is None
    assert cache.read_entry(tmp_path / "absent") is None


def _hammer(path: str, fill: int, rounds: int) -> None:
    body = bytes([fill]) * 200_000
    for i in range(rounds):
        cache.write_entry(Path(path), {"writer": fill, "round": i}, body)


def test_two_processes_writing_one_key_leave_a_readable_entry(tmp_path: Path) -> None:
    path = tmp_path / "shared" / "entry"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_hammer, args=(str(path), fill, 40)) for fill in (1, 2)]
    for p in procs:
        p.start()
    seen = 0
    while any(p.is_alive() for p in procs):
        if path.exists():
            entry = cache.read_entry(path)
            assert entry is not None  # never a partial file
            header, body = entry
            assert body == bytes([header["writer"]]) * 200_000
            seen += 1
    assert seen > 0
    for p in procs:
        p.join()
        assert p.exitcode == 0
    assert cache.read_entry(path) is not None
    assert [p.name for p in path.parent.iterdir()] == ["entry"]


def test_format_age() -> None:
    assert [format_age(s) for s in (5, 130, 3 * 3600 + 5, 5 * 86400)] == ["5s", "2min", "3h", "5d"]
