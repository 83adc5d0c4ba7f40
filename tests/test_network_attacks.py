"""The network edge under attack: a private CA, basic auth, trickling and endless servers,
downgrade and cross-host redirects, range reads; credentials never shown.

Figures for docs/RELIABILITY.md are printed as ``FIGURE`` lines (``pytest -rP``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipguard.errors import IndexUnavailable
from pipguard.index import IndexClient
from pipguard.wheelmeta import read as read_metadata
from scripts.make_index import IndexLayout
from scripts.serve_index import IndexServer
from tests.helpers import REPO, clean_env
from tests.netattack import PrivateCA, endless, make_ca, redirect_to, serving, trickle

pytestmark = pytest.mark.integration

SECRET = "s3cret-tok3n"
CPU = ("torch", "--torch-backend", "cpu")


def figure(text: str) -> None:
    print(f"FIGURE {text}")


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> PrivateCA:
    pytest.importorskip("cryptography")
    return make_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "root").mkdir()
    return clean_env({"PIPGUARD_CACHE_DIR": str(tmp_path / "pg-cache"),
                      "PIPGUARD_SYSROOT": str(tmp_path / "root"),
                      "PIP_CACHE_DIR": str(tmp_path / "pip-cache")})


def pipguard(env: dict[str, str], *args: str, timeout: float = 300
             ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipguard", *args], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=timeout, check=False)


def everything_written(env: dict[str, str], done: subprocess.CompletedProcess[str]) -> str:
    """stdout, stderr, and every cache file's name and contents."""
    parts = [done.stdout, done.stderr]
    for path in Path(env["PIPGUARD_CACHE_DIR"]).rglob("*"):
        parts.append(str(path))
        if path.is_file():
            parts.append(path.read_bytes().decode("latin-1"))
    return "\n".join(parts)


# --- 1. TLS with a private CA: pip's --cert / PIP_CERT ------------------------------------


@pytest.fixture
def tls_server(index_layout: IndexLayout, ca: PrivateCA) -> Iterator[IndexServer]:
    with IndexServer(index_layout.root, tls=ca.server) as server:
        yield server


def test_private_ca_needs_pips_cert(tls_server: IndexServer, ca: PrivateCA,
                                    env: dict[str, str]) -> None:
    url = tls_server.torch_url
    start = time.monotonic()
    bad = pipguard(env, "plan", *CPU, "--torch-index-url", url)
    elapsed = time.monotonic() - start
    assert bad.returncode == 3, bad.stderr
    assert "certificate verify failed" in bad.stderr
    hint = bad.stderr.strip().splitlines()[-1]
    assert hint.startswith("hint: ") and "--cert" in hint and "PIP_CERT" in hint
    assert len(tls_server.requests) == 0  # the handshake failed: nothing was asked
    good = pipguard({**env, "PIP_CERT": str(ca.ca_pem)}, "plan", *CPU, "--torch-index-url", url)
    assert good.returncode == 0, good.stderr
    assert "+cpu" in good.stdout
    figure(f"private CA: without PIP_CERT exit 3 in {elapsed:.1f}s (not retried), with it exit 0")


def test_private_ca_from_a_pip_config_file_and_the_command_line(
        tls_server: IndexServer, ca: PrivateCA, env: dict[str, str], tmp_path: Path) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\ncert = {ca.ca_pem}\n")
    done = pipguard({**env, "PIP_CONFIG_FILE": str(conf)}, "plan", *CPU,
                    "--torch-index-url", tls_server.torch_url)
    assert done.returncode == 0, done.stderr
    done = pipguard(env, "plan", *CPU, "--cert", str(ca.ca_pem),
                    "--torch-index-url", tls_server.torch_url)
    assert done.returncode == 0, done.stderr
    wrong = pipguard({**env, "PIP_CERT": str(tmp_path / "missing.pem")}, "plan", *CPU,
                     "--torch-index-url", tls_server.torch_url)
    assert wrong.returncode == 2 and "PIP_CERT" in wrong.stderr, wrong.stderr


def test_pips_trusted_host_skips_verification_for_that_host_only(
        tls_server: IndexServer, env: dict[str, str]) -> None:
    done = pipguard({**env, "PIP_TRUSTED_HOST": "127.0.0.1"}, "plan", *CPU,
                    "--torch-index-url", tls_server.torch_url)
    assert done.returncode == 0, done.stderr
    other = pipguard({**env, "PIP_TRUSTED_HOST": "localhost",
                      "PIPGUARD_CACHE_DIR": env["PIPGUARD_CACHE_DIR"] + "-2"}, "plan", *CPU,
                     "--torch-index-url", tls_server.torch_url)
    assert other.returncode == 3 and "certificate verify failed" in other.stderr


def test_private_ca_install_end_to_end(tls_server: IndexServer, ca: PrivateCA,
                                       env: dict[str, str], tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env,
                   capture_output=True)
    e = {**env, "PIP_CERT": str(ca.ca_pem)}
    e.pop("PYTHONPATH", None)
    done = pipguard(e, "--python", str(venv / "bin" / "python"), "install", *CPU,
                    "--index-url", tls_server.pypi_url, "--torch-index-url", tls_server.torch_url)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert [r for r in tls_server.requests_for("/whl/cpu/torch-*.whl") if r.status == 200]


# --- 2. credentials: basic auth, .netrc, redaction everywhere --------------------------------


@pytest.fixture
def auth_server(index_layout: IndexLayout) -> Iterator[IndexServer]:
    with IndexServer(index_layout.root, auth=("alice", SECRET)) as server:
        yield server


def with_auth(server: IndexServer) -> str:
    return server.torch_url.replace("http://", f"http://alice:{SECRET}@")


def test_credentials_in_the_index_url_work_and_never_show(auth_server: IndexServer,
                                                          env: dict[str, str]) -> None:
    url = with_auth(auth_server)
    plan = pipguard(env, "plan", *CPU, "--json", "--torch-index-url", url)
    assert plan.returncode == 0, plan.stderr
    data = json.loads(plan.stdout)
    assert "alice:****@" in json.dumps(data)
    assert SECRET not in everything_written(env, plan)
    dry = pipguard(env, "install", "--dry-run", *CPU, "--torch-index-url", url)
    assert dry.returncode == 0, dry.stderr
    assert "alice:****@" in dry.stdout and SECRET not in everything_written(env, dry)
    # What pip is handed keeps the credentials (it must download the files): only shown masked.
    # Wrong credentials and nothing cached: exit 3 (with a cache, the stale copy is used:
    # the cache key is the redacted URL).
    fresh = {**env, "PIPGUARD_CACHE_DIR": env["PIPGUARD_CACHE_DIR"] + "-fresh"}
    denied = pipguard(fresh, "plan", *CPU, "--torch-index-url",
                      url.replace(SECRET, "wrong-" + SECRET))
    assert denied.returncode == 3 and "HTTP 401" in denied.stderr
    assert SECRET not in everything_written(fresh, denied)
    keyed = [r for r in auth_server.requests if r.status == 200]
    assert keyed and all(r.headers.get("authorization") for r in keyed)


def test_netrc_credentials_work(auth_server: IndexServer, env: dict[str, str],
                                tmp_path: Path) -> None:
    rc = tmp_path / "netrc"
    rc.write_text(f"machine 127.0.0.1 login alice password {SECRET}\n")
    anonymous = pipguard(env, "plan", *CPU, "--torch-index-url", auth_server.torch_url)
    assert anonymous.returncode == 3 and "HTTP 401" in anonymous.stderr
    done = pipguard({**env, "NETRC": str(rc)}, "plan", *CPU,
                    "--torch-index-url", auth_server.torch_url)
    assert done.returncode == 0, done.stderr


def test_query_tokens_are_redacted_in_errors(env: dict[str, str]) -> None:
    done = pipguard(env, "plan", *CPU, "--torch-index-url",
                    f"http://127.0.0.1:9/whl?token={SECRET}", timeout=120)
    assert done.returncode == 3, done.stderr
    assert SECRET not in everything_written(env, done) and "token=****" in done.stderr


# --- 3. bounded reads: trickling and endless servers -----------------------------------------


def test_trickling_index_ends_within_its_budget(tmp_path: Path) -> None:
    with serving(trickle) as server:
        client = IndexClient(server.url + "/whl", cache_dir=tmp_path, timeout=1.0, retries=3,
                             backoff=0.01)
        start = time.monotonic()
        with pytest.raises(IndexUnavailable, match="did not finish in time"):
            client.page("cpu", "torch")
        elapsed = time.monotonic() - start
    assert elapsed < 6 * 1.0 + 1.5  # BUDGET_TIMEOUTS × timeout, plus slack
    figure(f"trickle (1 byte/0.5 s), timeout 1 s: exit-3 error after {elapsed:.1f}s, "
           f"{server.hits} attempts, {client.reader.received} bytes read")


def test_trickling_index_end_to_end_takes_pips_timeout(env: dict[str, str]) -> None:
    with serving(trickle) as server:
        start = time.monotonic()
        done = pipguard({**env, "PIP_DEFAULT_TIMEOUT": "1"}, "plan", *CPU,
                        "--torch-index-url", server.url + "/whl", timeout=120)
        elapsed = time.monotonic() - start
    assert done.returncode == 3, done.stderr
    assert "did not finish in time" in done.stderr
    assert elapsed < 20
    figure(f"trickle end to end, PIP_DEFAULT_TIMEOUT=1: exit 3 in {elapsed:.1f}s "
           f"({server.hits} requests)")


def test_endless_page_is_cut_at_the_size_cap(tmp_path: Path) -> None:
    with serving(endless) as server:
        client = IndexClient(server.url + "/whl", cache_dir=tmp_path, timeout=5.0, retries=3,
                             backoff=0.01)
        tracemalloc.start()
        start = time.monotonic()
        with pytest.raises(IndexUnavailable, match="larger than 64 MiB"):
            client.page("cpu", "torch")
        elapsed = time.monotonic() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert server.hits == 1  # refused, not retried
    assert client.reader.received <= (64 << 20) + (1 << 16)
    assert peak < 200 << 20
    figure(f"endless page: refused after {client.reader.received >> 20} MiB in {elapsed:.1f}s, "
           f"1 request, peak Python memory {peak >> 20} MiB")


# --- 4. redirects ------------------------------------------------------------------------------


def test_https_to_http_redirect_is_refused(index_server: IndexServer, ca: PrivateCA,
                                           env: dict[str, str]) -> None:
    with serving(redirect_to(index_server.url), tls=ca.server) as server:
        done = pipguard({**env, "PIP_CERT": str(ca.ca_pem)}, "plan", *CPU,
                        "--torch-index-url", server.url + "/whl")
    assert done.returncode == 3, done.stderr
    assert "redirected from https to" in done.stderr and "refused" in done.stderr
    assert not index_server.requests  # the plain-http target was never asked
    figure(f"https→http redirect: exit 3, {server.hits} request(s), target never contacted")


def test_cross_host_redirect_is_followed_noted_and_drops_credentials(
        index_server: IndexServer, env: dict[str, str]) -> None:
    with serving(redirect_to(index_server.url)) as server:
        url = server.url.replace("http://", f"http://alice:{SECRET}@") + "/whl"
        done = pipguard(env, "plan", *CPU, "--json", "--torch-index-url", url)
    assert done.returncode == 0, done.stderr
    notes = json.loads(done.stdout)["notes"]
    assert any("redirected to another host" in n and index_server.url in n for n in notes), notes
    assert all(b"Authorization" in h for h in server.heads)  # sent to the URL's own host
    assert not any("authorization" in r.headers for r in index_server.requests)
    assert SECRET not in everything_written(env, done)


# --- 5. metadata by range requests -------------------------------------------------------------


@pytest.fixture(scope="module")
def big_wheel_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """An index with one 4 MiB wheel of 2500 members and no PEP 658 file."""
    root = tmp_path_factory.mktemp("bigindex")
    folder = root / "torch" / "cpu"
    (folder / "bigpkg").mkdir(parents=True)
    name = "bigpkg-1.0-py3-none-any.whl"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as wheel:
        wheel.writestr("bigpkg/blob.bin", os.urandom(4 << 20))
        for i in range(2500):  # a central directory larger than the first range (like torch's)
            wheel.writestr(f"bigpkg/module_{i:05d}.py", f"X = {i}\n")
        wheel.writestr("bigpkg-1.0.dist-info/METADATA",
                       "Metadata-Version: 2.1\nName: bigpkg\nVersion: 1.0\nRequires-Dist: numpy\n")
        wheel.writestr("bigpkg-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
        wheel.writestr("bigpkg-1.0.dist-info/RECORD", "")
    data = buf.getvalue()
    (folder / name).write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    (folder / "bigpkg" / "index.html").write_text(
        f'<!DOCTYPE html><html><body><a href="../{name}#sha256={digest}">{name}</a><br/>'
        "</body></html>\n")
    return root, len(data)


def test_metadata_by_range_requests_reads_a_small_fraction(
        big_wheel_index: tuple[Path, int], tmp_path: Path) -> None:
    root, size = big_wheel_index
    with IndexServer(root) as server:
        client = IndexClient(server.torch_url, cache_dir=tmp_path / "a", timeout=5.0)
        (file,) = client.page("cpu", "bigpkg").files
        server.clear_requests()
        text = read_metadata(client, file)
        ranged = server.requests_for("*.whl")
        sent = sum(r.sent for r in ranged)
        assert "Requires-Dist: numpy" in text
        assert all(r.status == 206 for r in ranged) and 1 < len(ranged) <= 3
        assert sent < size / 10  # the central directory itself is ~170 KB here
        figure(f"metadata by ranges: {len(ranged)} requests, {sent} bytes of a {size}-byte "
               f"wheel ({100 * sent / size:.2f}%)")
        # A server that ignores Range: the whole wheel, its sha256 checked.
        server.faults.no_ranges("*.whl")
        server.clear_requests()
        whole = IndexClient(server.torch_url, cache_dir=tmp_path / "b", timeout=5.0)
        assert "Requires-Dist: numpy" in read_metadata(whole, file)
        (only,) = server.requests_for("*.whl")
        assert only.status == 200 and only.sent == size


def test_ranges_still_end_in_pips_hash_check(big_wheel_index: tuple[Path, int],
                                             tmp_path: Path) -> None:
    """A wrong published sha256 is caught when the whole wheel is read (no ranges);
    with ranges the planner only reads metadata and pip checks the hash at install."""
    root, _ = big_wheel_index
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    page = copy / "torch" / "cpu" / "bigpkg" / "index.html"
    text = page.read_text()
    digest = text.split("sha256=")[1][:64]
    page.write_text(text.replace(digest, "0" * 64))
    with IndexServer(copy) as server:
        server.faults.no_ranges("*.whl")
        client = IndexClient(server.torch_url, cache_dir=tmp_path / "c", timeout=5.0)
        (file,) = client.page("cpu", "bigpkg").files
        from pipguard.errors import IntegrityError

        with pytest.raises(IntegrityError):
            read_metadata(client, file)


def test_plan_without_pep658_files_reads_metadata_by_ranges(
        index_server: IndexServer, env: dict[str, str]) -> None:
    """The imitation index with every ``.metadata`` file gone: the plan is the same."""
    with_658 = pipguard(env, "plan", "torch", "torchvision", "--torch-backend", "cpu",
                        "--json", "--torch-index-url", index_server.torch_url)
    assert with_658.returncode == 0, with_658.stderr
    index_server.faults.fail("*.metadata", 403)
    index_server.clear_requests()
    fresh = {**env, "PIPGUARD_CACHE_DIR": env["PIPGUARD_CACHE_DIR"] + "-no658"}
    without = pipguard(fresh, "plan", "torch", "torchvision", "--torch-backend", "cpu",
                       "--json", "--torch-index-url", index_server.torch_url)
    assert without.returncode == 0, without.stderr
    assert json.loads(without.stdout)["packages"] == json.loads(with_658.stdout)["packages"]
    wheels = index_server.requests_for("*.whl")
    assert wheels and all(r.status == 206 and "range" in r.headers for r in wheels)
