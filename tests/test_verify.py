"""Tests for pipguard.verify: RECORD parsing and checking installed files."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import threading
import zipfile
from pathlib import Path

import pytest

from pipguard.filecheck import FileProblem
from pipguard.installed import InstalledDist, parse_inspect
from pipguard.record import RecordEntry, parse_record
from pipguard.verify import (
    DistVerification,
    default_workers,
    environment_root,
    verify_dist,
    verify_many,
)

WHEEL_NAME = "tinypkg"
WHEEL_VERSION = "1.0+cpu"
BIG = bytes(range(256)) * (3 * 4096 + 17)  # > 3 MiB, so hashing goes through the chunked path


def record_hash(data: bytes, algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm, data).digest()
    return f"{algorithm}=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def build_wheel(
    directory: Path,
    name: str = WHEEL_NAME,
    version: str = WHEEL_VERSION,
    requires: tuple[str, ...] = ("packaging>=20",),
) -> Path:
    """Write a tiny valid wheel by hand (no build backend, no network)."""
    dist_info = f"{name}-{version}.dist-info"
    requires_dist = "".join(f"Requires-Dist: {r}\n" for r in requires)
    files = {
        f"{name}/__init__.py": b"def main():\n    return 0\n",
        f"{name}/data.bin": BIG,
        f"{name}/odd, name.txt": b"a file whose name holds a comma\n",
        f"{name}-{version}.data/scripts/{name}-script": b"#!python\nprint('hi')\n",
        f"{dist_info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
            f"Requires-Python: >=3.8\n{requires_dist}"
        ).encode(),
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
        f"{dist_info}/entry_points.txt": f"[console_scripts]\n{name}-cli = {name}:main\n".encode(),
    }
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for path, data in files.items():
        writer.writerow([path, record_hash(data), len(data)])
    writer.writerow([f"{dist_info}/RECORD", "", ""])
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in files.items():
            zf.writestr(path, data)
        zf.writestr(f"{dist_info}/RECORD", out.getvalue())
    return wheel


def pip_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def installed(site: Path, name: str = WHEEL_NAME, version: str = WHEEL_VERSION) -> InstalledDist:
    dist_info = site / f"{name}-{version}.dist-info"
    return InstalledDist(name, version, str(site), str(dist_info), "pip", True, None, (), None)


# --- parse_record (pure) --------------------------------------------------------------


def test_parse_record_plain_lines() -> None:
    text = "a/b.py,sha256=abc,12\nx-1.dist-info/RECORD,,\n"
    assert parse_record(text) == (
        RecordEntry("a/b.py", "sha256=abc", 12),
        RecordEntry("x-1.dist-info/RECORD", None, None),
    )


def test_parse_record_quoted_path_with_comma_and_quote() -> None:
    text = '"pkg/odd, name.txt",sha256=abc,3\n"pkg/say ""hi"".txt",sha256=def,4\n'
    assert [e.path for e in parse_record(text)] == ["pkg/odd, name.txt", 'pkg/say "hi".txt']


def test_parse_record_quoted_path_with_newline() -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([["a\nb.txt", "sha256=x", "1"], ["c", "", ""]])
    assert [e.path for e in parse_record(out.getvalue())] == ["a\nb.txt", "c"]


def test_parse_record_missing_hash_and_size() -> None:
    text = "pkg/__pycache__/m.cpython-311.pyc,,\nonly/path\npkg/x.py,sha256=abc\n"
    assert parse_record(text) == (
        RecordEntry("pkg/__pycache__/m.cpython-311.pyc", None, None),
        RecordEntry("only/path", None, None),
        RecordEntry("pkg/x.py", "sha256=abc", None),
    )


def test_parse_record_malformed_size_is_unknown_not_fatal() -> None:
    text = "a,sha256=abc,twelve\nb,sha256=abc,-3\nc,sha256=abc,\u00b2\nd,sha256=abc, 7 \n"
    assert [e.size for e in parse_record(text)] == [None, None, None, 7]


def test_parse_record_crlf_and_blank_lines() -> None:
    text = "a,sha256=x,1\r\n\r\n\nb,sha512=y,2\r\n"
    assert [(e.path, e.hash) for e in parse_record(text)] == [("a", "sha256=x"), ("b", "sha512=y")]


# --- verify on hand-made layouts (no pip) ---------------------------------------------


def make_dist(site: Path, files: dict[str, bytes], record_rows: list[list[str]]) -> InstalledDist:
    """Write files under ``site`` and a RECORD holding ``record_rows``."""
    for rel, data in files.items():
        target = site / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    dist_info = site / "demo-1.dist-info"
    dist_info.mkdir(parents=True, exist_ok=True)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(record_rows)
    if not any(row[0].endswith("/INSTALLER") for row in record_rows):
        # what any installer leaves; a test that lists INSTALLER decides itself
        (dist_info / "INSTALLER").write_text("pip\n", encoding="utf-8")
    (dist_info / "RECORD").write_text(out.getvalue(), encoding="utf-8")
    return InstalledDist("demo", "1", str(site), str(dist_info), None, False, None, (), None)


def test_verify_supports_sha384_sha512_and_padded_digests(tmp_path: Path) -> None:
    files = {"p/a": b"alpha", "p/b": b"beta", "p/c": b"gamma"}
    rows = [
        ["p/a", record_hash(b"alpha", "sha384"), "5"],
        ["p/b", record_hash(b"beta", "sha512"), "4"],
        ["p/c", record_hash(b"gamma") + "=", "5"],  # a stray pad must not count as a change
    ]
    result = verify_dist(make_dist(tmp_path / "site", files, rows))
    assert result.ok and result.files_checked == 3


def test_verify_detects_change_with_each_algorithm(tmp_path: Path) -> None:
    files = {"p/a": b"alphA", "p/b": b"betA"}
    rows = [["p/a", record_hash(b"alpha", "sha384"), "5"], ["p/b", record_hash(b"beta", "sha512")]]
    result = verify_dist(make_dist(tmp_path / "site", files, rows))
    assert [(p.path, p.problem) for p in result.problems] == [
        ("p/a", "changed"),
        ("p/b", "changed"),
    ]
    assert result.problems[0].actual == record_hash(b"alphA", "sha384")


def test_verify_size_mismatch_is_reported_before_hashing(tmp_path: Path) -> None:
    rows = [["p/a", record_hash(b"alpha"), "6"]]
    result = verify_dist(make_dist(tmp_path / "site", {"p/a": b"alpha"}, rows))
    assert result.problems == (FileProblem("p/a", "size", "6", "5"),)


def test_verify_unhashed_entries(tmp_path: Path) -> None:
    rows = [
        ["p/__pycache__/gone.cpython-311.pyc", "", ""],  # compiled later: optional
        ["p/old_style.pyc", "", ""],  # also optional
        ["demo-1.dist-info/INSTALLER", "", ""],  # no hash, but must exist
        ["demo-1.dist-info/RECORD", "", ""],
    ]
    result = verify_dist(make_dist(tmp_path / "site", {}, rows))
    assert result.problems == (FileProblem("demo-1.dist-info/INSTALLER", "missing", None, None),)
    assert result.files_checked == 2


def test_verify_path_below_a_file_is_missing(tmp_path: Path) -> None:
    rows = [["p/a/inner.py", record_hash(b"x"), "1"]]
    result = verify_dist(make_dist(tmp_path / "site", {"p/a": b"x"}, rows))
    assert [(p.path, p.problem) for p in result.problems] == [("p/a/inner.py", "missing")]


def test_verify_unknown_algorithm_checks_size_only(tmp_path: Path) -> None:
    rows = [["p/a", "md5=whatever", "5"], ["p/b", "md5=whatever", "9"]]
    files = {"p/a": b"alpha", "p/b": b"beta"}
    result = verify_dist(make_dist(tmp_path / "site", files, rows))
    assert [(p.path, p.problem) for p in result.problems] == [("p/b", "size")]


def test_verify_paths_leaving_site_packages(tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    site = prefix / "lib" / "python3.12" / "site-packages"
    script = prefix / "bin" / "tool"
    script.parent.mkdir(parents=True)
    script.write_bytes(b"#!/bin/sh\n")
    inside = prefix / "share" / "inside.txt"
    inside.parent.mkdir()
    inside.write_bytes(b"abs")
    secret = tmp_path / "elsewhere.txt"
    secret.write_bytes(b"secret")
    rows = [
        ["../../../bin/tool", record_hash(b"#!/bin/sh\n"), "10"],  # the scripts folder: fine
        [inside.as_posix(), record_hash(b"abs"), "3"],  # absolute, but in the environment
        ["../../../bin/gone", record_hash(b""), "0"],
        [secret.as_posix(), record_hash(b"secret"), "6"],  # absolute, outside: never read
        ["../../../../elsewhere.txt", record_hash(b"secret"), "6"],  # '..' above the prefix
        ["p/../../../../../etc/passwd", "", ""],
    ]
    result = verify_dist(make_dist(site, {}, rows))
    assert [(p.path, p.problem) for p in result.problems] == [
        ("../../../../elsewhere.txt", "outside"),
        ("../../../bin/gone", "missing"),
        (secret.as_posix(), "outside"),
        ("p/../../../../../etc/passwd", "outside"),
    ]


@pytest.mark.parametrize(("location", "root"), [
    ("/e/lib/python3.12/site-packages", "/e"),
    ("/e/lib64/python3.13t/site-packages", "/e"),
    ("/usr/lib/python3/dist-packages", "/usr"),
    ("/e/Lib/site-packages", "/e"),
    ("/e/lib/site-packages", "/e"),
    ("/home/u/.local/lib/python3.11/site-packages", "/home/u/.local"),
    ("/e/lib/pypy3.10/site-packages", "/e"),
    ("/srv/target-dir", "/srv/target-dir"),
])
def test_environment_root(location: str, root: str) -> None:
    assert environment_root(location) == os.path.normpath(root)


def test_default_workers_fits_the_machine() -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert default_workers() == max(1, min(8, cores or 1))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_verify_never_opens_a_fifo(tmp_path: Path) -> None:
    site = tmp_path / "site"
    dist = make_dist(site, {"p/other": b""}, [["p/pipe", record_hash(b""), ""]])
    fifo = site / "p" / "pipe"
    os.mkfifo(fifo)
    results: list[DistVerification] = []
    worker = threading.Thread(target=lambda: results.append(verify_dist(dist, workers=1)))
    worker.start()
    worker.join(timeout=10)
    if worker.is_alive():  # it opened the FIFO: give it a writer so it sees EOF, then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join()
        pytest.fail("verify opened a FIFO listed in RECORD")
    (result,) = results
    assert [(p.problem, p.actual) for p in result.problems] == [("changed", "not a regular file")]


def test_verify_without_record_or_dist_info(tmp_path: Path) -> None:
    site = tmp_path / "site"
    dist = make_dist(site, {"p/a": b"a"}, [["p/a", record_hash(b"a"), "1"]])
    os.remove(os.path.join(str(dist.dist_info), "RECORD"))
    legacy = InstalledDist("old", "1", str(site), None, None, False, None, (), None)
    for result in verify_many([dist, legacy]):
        assert result.record_missing and not result.ok and result.files_checked == 0


def test_verify_many_threads_agree_with_inline(tmp_path: Path) -> None:
    dists = []
    for n in range(3):
        files = {f"p{n}/f{i}": bytes([i]) * (i * 997 + n) for i in range(150)}
        rows = [[k, record_hash(v), str(len(v))] for k, v in files.items()]
        rows[7][1] = record_hash(b"wrong")
        dists.append(make_dist(tmp_path / f"site{n}", files, rows))
    threaded = verify_many(dists, workers=4)
    assert threaded == verify_many(dists, workers=1)
    assert [r.files_checked for r in threaded] == [150, 150, 150]
    assert [[p.path for p in r.problems] for r in threaded] == [["p0/f7"], ["p1/f7"], ["p2/f7"]]


# --- a real install by pip into a temp venv -------------------------------------------


@pytest.fixture(scope="module")
def pip_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv (without its own pip) where the host pip installed the tiny wheel."""
    root = tmp_path_factory.mktemp("verify")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    wheel = build_wheel(root)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    argv = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index"]
    subprocess.run([*argv, "--no-deps", str(wheel)], check=True, env=pip_env())
    return venv


def venv_path(venv: Path, kind: str) -> Path:
    return Path(sysconfig.get_path(kind, vars={"base": str(venv), "platbase": str(venv)}))


@pytest.fixture
def venv_copy(pip_venv: Path, tmp_path: Path) -> Path:
    """A private copy of the installed venv, free to damage."""
    copy = tmp_path / "venv"
    shutil.copytree(pip_venv, copy, symlinks=True)
    return copy


def test_real_install_verifies_ok_through_pip_inspect(pip_venv: Path) -> None:
    python = pip_venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    argv = [sys.executable, "-m", "pip", "--python", str(python), "inspect"]
    report = subprocess.run(argv, check=True, env=pip_env(), capture_output=True, text=True)
    dists = [d for d in parse_inspect(json.loads(report.stdout)) if d.name == WHEEL_NAME]
    (result,) = verify_many(dists)
    assert result.ok, result
    # wheel files + 2 scripts + INSTALLER/REQUESTED/direct_url.json/RECORD; the .pyc is optional
    assert result.files_checked == 12


def test_real_install_changed_file_is_named(venv_copy: Path) -> None:
    site = venv_path(venv_copy, "purelib")
    path = site / WHEEL_NAME / "data.bin"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, different content
    path.write_bytes(bytes(data))
    result = verify_dist(installed(site))
    assert not result.ok
    assert result.problems == (
        FileProblem("tinypkg/data.bin", "changed", record_hash(BIG), record_hash(bytes(data))),
    )


def test_real_install_deleted_files_are_missing(venv_copy: Path) -> None:
    site = venv_path(venv_copy, "purelib")
    os.remove(site / WHEEL_NAME / "odd, name.txt")
    for script in venv_path(venv_copy, "scripts").glob(f"{WHEEL_NAME}-cli*"):
        os.remove(script)
    for pyc in site.rglob("*.pyc"):  # byte-compiled files may go: not a problem
        os.remove(pyc)
    result = verify_dist(installed(site))
    assert [(p.problem, p.path.rsplit("/", 1)[-1]) for p in result.problems] == [
        ("missing", "tinypkg-cli"),
        ("missing", "odd, name.txt"),
    ]


def test_real_install_without_record(venv_copy: Path) -> None:
    dist = installed(venv_path(venv_copy, "purelib"))
    os.remove(Path(str(dist.dist_info)) / "RECORD")
    result = verify_dist(dist)
    assert result.record_missing and not result.ok and result.problems == ()
