"""The imitation PyTorch index / PyPI (scripts/make_index.py) and its server (serve_index.py)."""

from __future__ import annotations

import base64
import csv
import dataclasses
import hashlib
import http.client
import io
import json
import os
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from email.parser import BytesParser
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

from scripts import make_index
from scripts.make_index import (
    DEFAULT_CATALOG,
    R2_PLACEHOLDER,
    IndexLayout,
    build_index,
    tamper,
)
from scripts.serve_index import IndexServer

REPO = Path(__file__).resolve().parents[1]
LOCALPROJ = REPO / "tests" / "fixtures" / "localproj"
PY = f"cp3{sys.version_info[1]}"
CPU_WHEEL = f"torch-2.11.0+cpu-{PY}-{PY}-manylinux_2_28_x86_64.whl"
CU130_WHEEL = f"torch-2.11.0+cu130-{PY}-{PY}-manylinux_2_28_x86_64.whl"


# -- helpers ----------------------------------------------------------------------------------


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self._open: tuple[dict[str, str | None], list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._open = (dict(attrs), [])

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open:
            self.anchors.append((self._open[0], "".join(self._open[1])))
            self._open = None


def anchors(text: str) -> list[tuple[dict[str, str | None], str]]:
    parser = _Anchors()
    parser.feed(text)
    return parser.anchors


def href_to_relpath(href: str, base: str = R2_PLACEHOLDER) -> str:
    path = unquote(urlsplit(href.removeprefix(base)).path)
    for prefix, sub in (("/whl/", "torch/"), ("/pypi/", "pypi/")):
        if path.startswith(prefix):
            return sub + path[len(prefix):]
    raise AssertionError(f"unexpected href {href}")


def fetch(server: IndexServer, path: str, *, method: str = "GET",
          headers: dict[str, str] | None = None, timeout: float = 10.0,
          ) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def only(layout: IndexLayout, filename: str) -> make_index.WheelInfo:
    (info,) = layout.find(filename)
    return info


def wheel_members(layout: IndexLayout, filename: str, where: str) -> dict[str, bytes]:
    """The files inside the stored copy of ``filename`` whose relpath starts with ``where``."""
    info = next(w for w in layout.find(filename) if w.relpath.startswith(where))
    with zipfile.ZipFile(layout.root / info.relpath) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def metadata_of(members: dict[str, bytes]) -> tuple[str, list[str]]:
    raw = next(v for k, v in members.items() if k.endswith(".dist-info/METADATA"))
    msg = BytesParser().parsebytes(raw)
    return msg["Version"], msg.get_all("Requires-Dist") or []


def small_catalog() -> make_index.Catalog:
    rel = next(r for r in DEFAULT_CATALOG.releases if r.version == "2.11.0")
    return dataclasses.replace(DEFAULT_CATALOG, releases=(rel,), pypi_builds=())


# -- generation -------------------------------------------------------------------------------


def test_build_is_deterministic(tmp_path: Path) -> None:
    first = build_index(tmp_path / "a", catalog=small_catalog())
    second = build_index(tmp_path / "b", catalog=small_catalog())
    assert first.sha256 == second.sha256
    assert len(first.sha256) > 50
    for page in first.pages:
        assert page.read_bytes() == (second.root / page.relative_to(first.root)).read_bytes()


def test_every_wheel_is_valid(index_layout: IndexLayout) -> None:
    assert len(index_layout.wheels) > 1000
    for info in index_layout.wheels:
        path = index_layout.root / info.relpath
        data = path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == info.sha256 == index_layout.sha256[info.relpath]
        name, version, _, tags = parse_wheel_filename(info.filename)
        assert info.filename == path.name and name == info.project
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = {n: zf.read(n) for n in zf.namelist()}
        info_dir = f"{info.filename.split('-')[0]}-{info.version}.dist-info"
        record = list(csv.reader(io.StringIO(members[f"{info_dir}/RECORD"].decode())))
        assert {row[0] for row in record} == set(members)
        for file, digest, size in record:
            if file.endswith("RECORD"):
                assert digest == size == ""
                continue
            blob = members[file]
            want = base64.urlsafe_b64encode(hashlib.sha256(blob).digest()).rstrip(b"=").decode()
            assert (digest, int(size)) == (f"sha256={want}", len(blob)), file
        meta = BytesParser().parsebytes(members[f"{info_dir}/METADATA"])
        assert meta["Metadata-Version"] == "2.1"
        assert canonicalize_name(meta["Name"]) == name and Version(meta["Version"]) == version
        for req in meta.get_all("Requires-Dist") or []:
            Requirement(req)
        wheel = BytesParser().parsebytes(members[f"{info_dir}/WHEEL"])
        assert set(wheel.get_all("Tag") or ()) == {str(t) for t in tags}
        if name == "torch" and not info.filename.endswith("-any.whl"):
            assert wheel["Root-Is-Purelib"] == "false"
        if info.metadata_sha256:
            sidecar = path.with_name(path.name + ".metadata").read_bytes()
            assert sidecar == members[f"{info_dir}/METADATA"]
            assert hashlib.sha256(sidecar).hexdigest() == info.metadata_sha256


def test_pages_parse_and_match_files(index_layout: IndexLayout) -> None:
    torch_pages = [p for p in index_layout.pages if "pypi" not in p.relative_to(
        index_layout.root).parts]
    checked = 0
    for page in index_layout.pages:
        text = page.read_text()
        if page in torch_pages:
            assert text.rstrip().endswith("<!--TIMESTAMP 1795651200-->")
        for attrs, label in anchors(text):
            href = attrs["href"] or ""
            if href.endswith("/"):  # a root page listing projects
                assert (page.parent / href / "index.html").is_file()
                continue
            relpath = href_to_relpath(href)
            assert unquote(relpath.rsplit("/", 1)[1]) == label
            assert "+" not in href.split("#")[0]  # '+' is always %2B in hrefs
            fragment = urlsplit(href).fragment
            if "/nightly/" in str(page):
                assert fragment == ""
            else:
                assert fragment == f"sha256={index_layout.sha256[relpath]}"
            meta = attrs.get("data-dist-info-metadata")
            assert meta == attrs.get("data-core-metadata")
            if meta:
                sidecar = (index_layout.root / (relpath + ".metadata")).read_bytes()
                assert meta == f"sha256={hashlib.sha256(sidecar).hexdigest()}"
            checked += 1
    assert checked > 2000


def test_catalog_facts_land_in_the_wheels(index_layout: IndexLayout) -> None:
    files = {w.filename for w in index_layout.wheels}
    cu129 = {f for f in files if "+cu129" in f}
    assert cu129 and all(f.startswith(("torch-2.8.0", "torchvision-0.23.0", "torchaudio-2.8.0"))
                         for f in cu129)
    assert "torch-2.5.1+cu124-cp313-cp313-linux_x86_64.whl" in files
    assert "torch-2.5.1+cu124-cp313-cp313-win_amd64.whl" not in files  # cp313 Linux-only
    assert "torch-2.5.1-cp311-cp311-linux_aarch64.whl" in files  # unlabeled, in whl/cu124
    assert "torch-2.11.0-cp311-none-macosx_11_0_arm64.whl" in files  # macOS: no +cpu
    assert "torch-1.13.1+cu117-cp37-cp37m-linux_x86_64.whl" in files
    assert not any(f.startswith("torchaudio-2.13") for f in files)

    members = wheel_members(index_layout, CU130_WHEEL, "torch/cu130/")
    version, reqs = metadata_of(members)
    assert version == "2.11.0+cu130"
    assert 'nvidia-cuda-runtime==13.0.96; platform_system == "Linux"' in reqs
    assert any(r.startswith("triton==3.6.0;") for r in reqs)
    assert "typing-extensions>=4.10.0" in reqs
    build = json.loads(members["torch/_pipguard_build.json"])
    assert build["arch_list"] == ["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"]
    assert (build["variant"], build["cuda"]) == ("cu130", "13.0")

    _, reqs = metadata_of(wheel_members(
        index_layout, f"torchvision-0.26.0+cu130-{PY}-{PY}-manylinux_2_28_x86_64.whl",
        "torch/cu130/"))
    assert "torch==2.11.0" in reqs and "numpy" in reqs
    _, reqs = metadata_of(wheel_members(
        index_layout, f"torchaudio-2.11.0+cu132-{PY}-{PY}-manylinux_2_28_x86_64.whl",
        "torch/cu132/"))
    assert reqs == []
    _, reqs = metadata_of(wheel_members(
        index_layout, f"torch-2.11.0+rocm7.1-{PY}-{PY}-manylinux_2_28_x86_64.whl",
        "torch/rocm7.1/"))
    assert any(r.startswith("pytorch-triton-rocm==3.6.0") for r in reqs)
    _, reqs = metadata_of(wheel_members(
        index_layout, f"torch-2.16.0.dev20261120+cu130-{PY}-{PY}-manylinux_2_28_x86_64.whl",
        "torch/nightly/cu130/"))
    assert any(r.startswith("pytorch-triton==3.7.0+git") for r in reqs)

    lookalike = wheel_members(index_layout, "torch-99.0.0-py3-none-any.whl", "pypi/")
    raw = next(v for k, v in lookalike.items() if k.endswith("METADATA"))
    assert b"PyPI build" in raw
    pypi = {w.filename.split("-")[0] + "-" + w.version for w in index_layout.wheels
            if w.relpath.startswith("pypi/")}
    assert {"torchtriton-99.0.0", "pytorch_triton-99.0.0", "triton-99.0.0",
            "torchvision-99.0.0", "torch-2.16.0", "numpy-1.26.4", "numpy-2.2.6"} <= pypi


def test_layout_paths_and_absolute_links(index_layout: IndexLayout) -> None:
    cu130 = index_layout.project_page("cu130", "torch").read_text()
    assert f'href="{R2_PLACEHOLDER}/whl/cu130/torch-2.11.0%2Bcu130-' in cu130
    cpu = index_layout.project_page("cpu", "torch").read_text()
    assert 'href="/whl/cpu/torch-2.11.0%2Bcpu-' in cpu and R2_PLACEHOLDER not in cpu
    assert ">typing_extensions-4.12.2-py3-none-any.whl<" in (
        index_layout.project_page("cu126", "typing_extensions").read_text())
    nightly = index_layout.project_page("cu130", "torch", channel="nightly")
    assert "#sha256=" not in nightly.read_text()
    assert index_layout.project_page("cu132", "torch", channel="test").is_file()
    assert (index_layout.torch_dir / "cu130" / CU130_WHEEL).is_file()  # literal '+' on disk


def test_tamper_breaks_then_restores_the_hash(tmp_path: Path) -> None:
    layout = build_index(tmp_path, catalog=small_catalog())
    page = layout.project_page("cpu", "torch")
    before = page.read_text()
    with tamper(layout, CPU_WHEEL) as t:
        changed = page.read_text()
        (attrs, _), = [(a, lbl) for a, lbl in anchors(changed) if lbl == CPU_WHEEL]
        assert urlsplit(attrs["href"] or "").fragment == f"sha256={t.fake_sha256}"
        assert t.fake_sha256 != only(layout, CPU_WHEEL).sha256
        assert changed.count("#sha256=") == before.count("#sha256=")
    assert page.read_text() == before
    with pytest.raises(ValueError):
        tamper(layout, "nope-1.0-py3-none-any.whl")


def test_make_index_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert make_index.main([str(tmp_path)]) == 0
    assert "wheels" in capsys.readouterr().out
    assert (tmp_path / "torch" / "cpu" / "torch" / "index.html").is_file()


# -- server -----------------------------------------------------------------------------------


def test_serves_encoded_plus_and_directories(index_server: IndexServer,
                                             index_layout: IndexLayout) -> None:
    encoded = "/whl/cpu/" + CPU_WHEEL.replace("+", "%2B")
    status, headers, body = fetch(index_server, encoded)
    assert status == 200 and hashlib.sha256(body).hexdigest() == only(
        index_layout, CPU_WHEEL).sha256
    assert fetch(index_server, encoded + ".metadata")[0] == 200
    for path in ("/whl/cpu/torch/", "/whl/cpu/torch", "/pypi/simple/numpy/", "/whl/",
                 "/whl/rocm6.2.4/torch/"):
        status, headers, body = fetch(index_server, path)
        assert status == 200 and headers["content-type"].startswith("text/html"), path
    log = index_server.requests
    assert log[0].path == "/whl/cpu/" + CPU_WHEEL and "%2B" in log[0].raw_path
    assert log[0].status == 200


def test_absolute_links_point_at_the_server(index_server: IndexServer) -> None:
    _, _, body = fetch(index_server, "/whl/cu130/torch/")
    hrefs = [a["href"] or "" for a, _ in anchors(body.decode())]
    assert hrefs and all(h.startswith(index_server.url + "/whl/cu130/") for h in hrefs)
    assert fetch(index_server, urlsplit(hrefs[0]).path)[0] == 200


def test_missing_is_403_under_whl_and_404_elsewhere(index_server: IndexServer) -> None:
    assert fetch(index_server, "/whl/cpu/torch-0.0.0-nope.whl")[0] == 403
    assert fetch(index_server, "/whl/cu999/torch/")[0] == 403
    assert fetch(index_server, "/whl/../pypi/simple/")[0] == 403
    assert fetch(index_server, "/pypi/simple/no-such-project/")[0] == 404
    assert fetch(index_server, "/elsewhere")[0] == 404
    assert [r.status for r in index_server.requests] == [403, 403, 403, 404, 404]


def test_fault_status_for_first_n(index_server: IndexServer) -> None:
    index_server.faults.fail("/whl/cpu/torch/*", status=500, count=2)
    index_server.faults.fail("/pypi/*", status=403)
    statuses = [fetch(index_server, "/whl/cpu/torch/")[0] for _ in range(3)]
    assert statuses == [500, 500, 200]
    assert fetch(index_server, "/pypi/simple/numpy/")[0] == 403
    assert fetch(index_server, "/whl/cpu/torchvision/")[0] == 200
    index_server.faults.fail("*.whl", status=404, count=1)
    assert fetch(index_server, "/whl/cpu/" + CPU_WHEEL)[0] == 404
    assert [r.fault for r in index_server.requests][:2] == ["status", "status"]


def test_fault_delay_and_hang(index_server: IndexServer) -> None:
    index_server.faults.delay("/whl/cpu/torch/", 5.0, count=1)
    with pytest.raises(TimeoutError):
        fetch(index_server, "/whl/cpu/torch/", timeout=0.3)
    assert fetch(index_server, "/whl/cpu/torch/")[0] == 200  # count used up
    index_server.faults.hang("/whl/cu130/*")
    with pytest.raises(TimeoutError):
        fetch(index_server, "/whl/cu130/torch/", timeout=0.3)
    hung = index_server.requests_for("/whl/cu130/*")
    assert [(r.status, r.fault) for r in hung] == [(None, "hang")]
    index_server.reset()  # wakes the hanging handler
    assert fetch(index_server, "/whl/cu130/torch/")[0] == 200


def test_fault_truncate_garbage_corrupt(index_server: IndexServer,
                                        index_layout: IndexLayout) -> None:
    wheel = "/whl/cpu/" + CPU_WHEEL.replace("+", "%2B")
    good = (index_layout.root / only(index_layout, CPU_WHEEL).relpath).read_bytes()
    index_server.faults.truncate("*.whl", count=1)
    with pytest.raises(http.client.IncompleteRead):
        fetch(index_server, wheel)
    index_server.faults.corrupt("*.whl", count=1)
    status, _, body = fetch(index_server, wheel)
    assert status == 200 and len(body) == len(good) and body != good
    assert fetch(index_server, wheel)[2] == good
    index_server.faults.garbage("/pypi/simple/*")
    status, headers, body = fetch(index_server, "/pypi/simple/numpy/")
    assert status == 200 and headers["content-type"] == "text/html"
    assert body and b"<" not in body and anchors(body.decode("latin-1")) == []


def test_etag_and_conditional_requests(index_server: IndexServer) -> None:
    _, headers, _ = fetch(index_server, "/whl/cpu/torch/")
    assert "etag" not in headers
    index_server.faults.set_etag("/whl/cpu/*")
    status, headers, body = fetch(index_server, "/whl/cpu/torch/")
    etag = headers["etag"]
    assert status == 200 and body
    status, _, body = fetch(index_server, "/whl/cpu/torch/", headers={"If-None-Match": etag})
    assert (status, body) == (304, b"")
    assert fetch(index_server, "/whl/cpu/torch/", headers={"If-None-Match": '"x"'})[0] == 200
    index_server.faults.set_etag("/pypi/*", "v1")
    assert fetch(index_server, "/pypi/simple/numpy/")[1]["etag"] == '"v1"'
    assert index_server.requests[2].headers["if-none-match"] == etag


def test_concurrent_clients(index_server: IndexServer) -> None:
    results: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(8):
            status = fetch(index_server, "/whl/cu126/torch/")[0]
            with lock:
                results.append(status)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 64
    assert len(index_server.requests_for("/whl/cu126/torch/")) == 64


def test_stop_joins_threads_even_with_a_hang(index_layout: IndexLayout) -> None:
    # Count only threads this test starts: other fixtures' servers have threads of their own
    # that come and go (counting every thread of the process made this test flaky).
    before = set(threading.enumerate())
    server = IndexServer(index_layout.root).start()
    server.faults.hang("*")
    outcome: list[BaseException] = []

    def client_call() -> None:
        try:
            fetch(server, "/whl/cpu/torch/", timeout=30)
        except OSError as exc:  # the server hangs up without answering
            outcome.append(exc)

    client = threading.Thread(target=client_call)
    client.start()
    while not server.requests:
        threading.Event().wait(0.01)
    server.stop()
    client.join(timeout=10)
    assert not client.is_alive() and len(outcome) == 1
    leftover = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert leftover == []
    with pytest.raises(OSError):
        fetch(server, "/whl/", timeout=1)


def test_serve_cli(index_layout: IndexLayout) -> None:
    with subprocess.Popen([sys.executable, str(REPO / "scripts" / "serve_index.py"),
                           str(index_layout.root), "--port", "0"],
                          stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            base = line.split()[2].removesuffix("/<variant>/")
            host, port = urlsplit(base).netloc.split(":")
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            conn.request("GET", "/whl/cpu/torch/")
            assert conn.getresponse().status == 200
            conn.close()
        finally:
            proc.terminate()


# -- the real pip -----------------------------------------------------------------------------


def pip_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, env=pip_env(), capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if PY not in ("cp310", "cp311", "cp312", "cp313"):
        pytest.skip(f"the imitation index has no {PY} torch wheels")
    root = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", str(root)])
    yield root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


PIP = ["-m", "pip", "--disable-pip-version-check", "--no-cache-dir", "--no-input"]


@pytest.mark.integration
def test_real_pip_installs_from_the_variant_index(index_server: IndexServer,
                                                  venv_python: Path) -> None:
    run([str(venv_python), *PIP, "install", "--index-url", f"{index_server.torch_url}/cpu",
         "torch==2.11.0+cpu", "--no-deps"])
    out = run([str(venv_python), "-c",
               "import torch, torch.version; print(torch.__version__, torch.version.cuda)"])
    assert out.stdout.split() == ["2.11.0+cpu", "None"]
    wheel_hits = index_server.requests_for("/whl/cpu/" + CPU_WHEEL)
    assert wheel_hits and "%2B" in wheel_hits[0].raw_path and wheel_hits[0].status == 200


@pytest.mark.integration
def test_real_pip_downloads_with_deps_and_absolute_links(
        index_server: IndexServer, index_layout: IndexLayout, venv_python: Path,
        tmp_path: Path) -> None:
    run([str(venv_python), *PIP, "download", "-d", str(tmp_path), "--index-url",
         f"{index_server.torch_url}/cu130", "torch==2.11.0+cu130"])
    got = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()}
    assert got[CU130_WHEEL] == only(index_layout, CU130_WHEEL).sha256
    projects = {parse_wheel_filename(name)[0] for name in got}
    assert {"torch", "triton", "filelock", "typing-extensions", "nvidia-cuda-runtime"} <= projects


@pytest.mark.integration
def test_localproj_builds_and_installs_offline(index_server: IndexServer, venv_python: Path,
                                               tmp_path: Path) -> None:
    run([str(venv_python), *PIP, "wheel", "--no-deps", "-w", str(tmp_path / "wheels"),
         "--index-url", index_server.pypi_url, str(LOCALPROJ)])
    (built,) = (tmp_path / "wheels").iterdir()
    assert built.name == "myproj-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(built) as zf:
        meta = zf.read("myproj-0.1.0.dist-info/METADATA").decode()
    assert "Requires-Dist: torch>=2.5" in meta
    target = tmp_path / "target"
    run([str(venv_python), *PIP, "install", "--target", str(target), "--index-url",
         index_server.pypi_url, str(LOCALPROJ)])
    installed = {p.name for p in target.iterdir()}
    assert {"myproj", "myproj-0.1.0.dist-info", "torch-99.0.0.dist-info"} <= installed


def test_localproj_backend_hooks(tmp_path: Path) -> None:
    sys.path.insert(0, str(LOCALPROJ))
    try:
        import _backend  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(LOCALPROJ))
    assert _backend.get_requires_for_build_wheel() == []
    assert _backend._mini_toml((LOCALPROJ / "pyproject.toml").read_text())["project"] == (
        _backend._read_pyproject()["project"])
    sdist = _backend.build_sdist(str(tmp_path))
    assert sdist == "myproj-0.1.0.tar.gz" and (tmp_path / sdist).stat().st_size > 0
    editable = _backend.build_editable(str(tmp_path))
    with zipfile.ZipFile(tmp_path / editable) as zf:
        assert zf.read("myproj.pth").decode().strip() == str(LOCALPROJ)
    assert _backend.prepare_metadata_for_build_wheel(str(tmp_path)) == "myproj-0.1.0.dist-info"


def test_many_parallel_clients_do_not_wait_for_the_listen_backlog(
        index_server: IndexServer) -> None:
    """64 connections at once: all answered; the backlog (1024, not socketserver's 5) holds them."""
    import socket
    import time

    assert index_server._httpd.request_queue_size >= 128
    host, port = "127.0.0.1", index_server.port
    start = time.monotonic()
    conns = [socket.create_connection((host, port), timeout=10) for _ in range(64)]
    try:
        for c in conns:
            c.sendall(b"HEAD /whl/ HTTP/1.0\r\nHost: x\r\n\r\n")
        answers = [c.recv(12) for c in conns]
    finally:
        for c in conns:
            c.close()
    assert all(a.startswith(b"HTTP/1.") for a in answers)
    assert time.monotonic() - start < 10
