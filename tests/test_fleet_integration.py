"""Fleets end to end: `lock --for` against the imitation index, `sync` into fresh venvs by
hardware overrides, and `mirror` served by a real `python -m http.server` process."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from pipguard.pylock import Lock, loads
from scripts.make_index import IndexLayout
from tests.helpers import clean_env
from tests.test_install import Run, direct_urls, pip_list

pytestmark = pytest.mark.integration

H100 = ("--cuda-driver", "580.159.04", "--gpu-arch", "9.0")
VOLTA = ("--cuda-driver", "580.159.04", "--gpu-arch", "7.0")
CLASSES = ("--for", "driver=580.159.04,arch=9.0", "--for", "driver=580.159.04,arch=7.0",
           "--for", "cpu")
FILES = {"h100": "pylock.driver580_159_04-sm90.toml", "volta": "pylock.driver580_159_04-sm70.toml",
         "cpu": "pylock.cpu.toml"}
BUILDS = {"h100": "2.15.0+cu130", "volta": "2.15.0+cu126", "cpu": "2.15.0+cpu"}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """No GPU visible, private caches, pip without configuration."""
    base = tmp_path_factory.mktemp("fleet-env")
    (base / "root").mkdir()
    e = clean_env({"PIPGUARD_CACHE_DIR": str(base / "pg-cache"),
                   "PIPGUARD_SYSROOT": str(base / "root"), "PIP_CACHE_DIR": str(base / "pip")})
    e.pop("PYTHONPATH", None)
    return e


def pipguard(env: Mapping[str, str], *args: str, cwd: Path | None = None) -> Run:
    done = subprocess.run([sys.executable, "-m", "pipguard", *args], capture_output=True,
                          text=True, env=dict(env), cwd=cwd, timeout=300, check=False)
    return Run(done)


def lock_cmd(index_server: Any, out: Path, *extra: str) -> tuple[str, ...]:
    return ("lock", *CLASSES, "torch", "torchvision", "-o", str(out), "--torch-index-url",
            index_server.torch_url, "--index-url", index_server.pypi_url, *extra)


@pytest.fixture(scope="module")
def locks(index_server: Any, env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
          ) -> Path:
    out = tmp_path_factory.mktemp("locks")
    run = pipguard(env, *lock_cmd(index_server, out))
    assert run.rc == 0, run
    return out


def read(path: Path) -> Lock:
    return loads(path.read_text(encoding="utf-8"))


def test_lock_writes_one_complete_lock_per_class_byte_identical_on_rerun(
        locks: Path, index_server: Any, index_layout: IndexLayout, env: dict[str, str],
        tmp_path: Path) -> None:
    assert sorted(p.name for p in locks.iterdir()) == sorted(FILES.values())
    for key, fname in FILES.items():
        lock = read(locks / fname)
        torch = lock.package("torch")
        assert torch is not None and torch.version == BUILDS[key]
        variant = BUILDS[key].partition("+")[2]
        assert lock.info.variant == variant and torch.index == f"{index_server.torch_url}/{variant}"
        assert {"torchvision", "typing-extensions", "filelock"} <= {p.name for p in lock.packages}
        for p in lock.packages:
            files = [*p.wheels, *([p.sdist] if p.sdist else [])]
            assert files, p
            for f in files:  # every file: its URL on the server, and the hash of its bytes
                assert f.url.startswith(index_server.url) and len(f.sha256) == 64
                assert f.sha256 in {w.sha256 for w in index_layout.find(f.name)}, f
    again = tmp_path / "again"
    run = pipguard(env, *lock_cmd(index_server, again))
    assert run.rc == 0, run
    for fname in FILES.values():
        assert (again / fname).read_bytes() == (locks / fname).read_bytes()


@pytest.mark.parametrize("hardware", ["h100", "volta", "cpu"])
def test_sync_installs_the_lock_that_fits_exactly_and_verifies(
        hardware: str, locks: Path, venv: Path, env: dict[str, str]) -> None:
    overrides = {"h100": H100, "volta": VOLTA, "cpu": ()}[hardware]
    run = pipguard(env, "sync", str(locks), "--python", str(venv), *overrides)
    assert run.rc == 0, run
    assert f"chose {FILES[hardware]}" in run.err and "verified" in run.err
    lock = read(locks / FILES[hardware])
    installed = pip_list(venv, env)
    for name in ("pip", "setuptools"):
        installed.pop(name, None)
    assert installed == {p.name: p.version for p in lock.packages}
    urls = direct_urls(venv, env)
    assert urls == {p.name: p.wheels[0].url for p in lock.packages}
    if hardware == "volta":
        assert "no kernels for sm_70" in run.err  # why the cu130 lock was not taken
    rerun = pipguard(env, "sync", str(locks), "--python", str(venv), *overrides)
    assert rerun.rc == 0 and "already installed" in rerun.err, rerun


def test_sync_refuses_when_no_lock_fits(locks: Path, venv: Path, env: dict[str, str]) -> None:
    gpu_locks = [str(locks / FILES["h100"]), str(locks / FILES["volta"])]
    run = pipguard(env, "sync", *gpu_locks, "--python", str(venv),
                   "--cuda-driver", "470.82.01", "--gpu-arch", "7.0")
    assert run.rc == 1, run
    assert "no lock fits this machine" in run.err and "needs driver" in run.err
    assert "torch" not in pip_list(venv, env)


def test_a_class_nothing_fits_is_reported_and_the_others_written(
        index_server: Any, env: dict[str, str], tmp_path: Path) -> None:
    run = pipguard(env, "lock", "--for", "driver=470.82.01,arch=12.0", "--variant", "cpu",
                   "torch", "-o", str(tmp_path), "--torch-index-url", index_server.torch_url,
                   "--index-url", index_server.pypi_url)
    assert run.rc == 1, run
    assert "driver470_82_01-sm120: nothing fits" in run.err
    assert [p.name for p in tmp_path.iterdir()] == ["pylock.cpu.toml"]


def test_cross_target_lock_is_refused_by_another_python(
        index_server: Any, env: dict[str, str], tmp_path: Path, venv: Path) -> None:
    run = pipguard(env, "lock", "--for", "cpu", "torch", "-o", str(tmp_path),
                   "--python-version", "3.12", "--platform", "manylinux_2_28_x86_64",
                   "--torch-index-url", index_server.torch_url,
                   "--index-url", index_server.pypi_url)
    assert run.rc == 0, run
    lock = read(tmp_path / "pylock.cpu.toml")
    torch = lock.package("torch")
    assert torch is not None and "-cp312-cp312-manylinux_2_28_x86_64" in torch.wheels[0].name
    assert lock.info.platform == ("manylinux_2_28_x86_64",)
    if sys.version_info[:2] != (3, 12):  # the venv's Python is not the lock's
        refused = pipguard(env, "sync", str(tmp_path), "--python", str(venv))
        assert refused.rc == 1 and "made for" in refused.err, refused


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A real `python -m http.server` process serving tmp_path/mirror."""
    root = tmp_path / "mirror"
    root.mkdir()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                             "127.0.0.1", "--directory", str(root)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield root, url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_mirror_served_by_a_real_server_installs_the_same_environment(
        locks: Path, venv: Path, env: dict[str, str], http_server: tuple[Path, str],
        template_venv: Path, tmp_path: Path) -> None:
    root, url = http_server
    run = pipguard(env, "mirror", str(locks), "--to", str(root))
    assert run.rc == 0, run
    page = (root / "whl" / "cu126" / "torch" / "index.html").read_text()
    assert "#sha256=" in page and 'data-core-metadata="sha256=' in page
    assert (root / "packages").is_dir() and (root / "simple" / "filelock" / "index.html").is_file()
    mirror_env = {**env, "PIPGUARD_CACHE_DIR": str(tmp_path / "cache2"),
                  "PIP_CACHE_DIR": str(tmp_path / "pip2")}
    run = pipguard(mirror_env, "install", "torch", "torchvision", "--python", str(venv), *VOLTA,
                   "--torch-index-url", f"{url}/whl", "--index-url", f"{url}/simple")
    assert run.rc == 0, run
    original = tmp_path / "original"
    shutil.copytree(template_venv, original, symlinks=True)
    run = pipguard(env, "sync", str(locks), "--python", str(original), *VOLTA)
    assert run.rc == 0, run
    assert pip_list(venv, env) == pip_list(original, env)
    assert all(u.startswith(url) for u in direct_urls(venv, env).values())


def test_a_local_project_is_locked_as_a_directory_and_synced(
        index_server: Any, env: dict[str, str], tmp_path: Path, venv: Path) -> None:
    project = Path(__file__).parent / "fixtures" / "localproj"
    out = tmp_path / "locks"
    run = pipguard(env, "lock", "--for", "cpu", str(project), "-o", str(out),
                   "--torch-index-url", index_server.torch_url,
                   "--index-url", index_server.pypi_url)
    assert run.rc == 0, run
    lock = read(out / "pylock.cpu.toml")
    proj = lock.package("myproj")
    assert proj is not None and proj.directory is not None
    assert (out / proj.directory).resolve() == project.resolve()  # relative to the lock
    torch = lock.package("torch")
    assert torch is not None and torch.version == "2.15.0+cpu"
    run = pipguard(env, "sync", str(out), "--python", str(venv))
    assert run.rc == 0, run
    assert pip_list(venv, env)["myproj"] == "0.1.0"
