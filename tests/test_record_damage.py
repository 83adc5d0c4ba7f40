"""Damaged metadata never crashes or hangs (issue #10, item 8).

Each attack is built for real on disk (a zero-filled RECORD, a FIFO, a symlink to
/dev/zero, a sparse multi-GB file, a 200 KiB field) and checked within a time
bound: the distribution is reported unverifiable (``record_missing``, with the
damage named), ``pipguard verify NAME`` exits 1 and ``doctor`` reports an error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from pipguard.installed import InstalledDist
from pipguard.record import MAX_FIELD_CHARS, MAX_RECORD_BYTES, read_record
from pipguard.verify import DistVerification, verify_dist
from tests.helpers import clean_env, pipguard
from tests.test_verify import WHEEL_NAME, build_wheel, installed, pip_env, venv_path

BOUND_S = 10.0  # each attack is answered well within this (normally in milliseconds)
_T = TypeVar("_T")
posix_only = pytest.mark.skipif(os.name != "posix", reason="needs POSIX files")


def within(bound: float, call: Callable[[], _T]) -> _T:
    """``call()``, failing the test (not hanging it) when it takes longer than ``bound``."""
    out: list[_T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            out.append(call())
        except BaseException as exc:
            errors.append(exc)

    start = time.monotonic()
    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(bound)
    if worker.is_alive():
        pytest.fail(f"no answer within {bound:.0f} s: it hangs")
    if errors:
        raise errors[0]
    assert time.monotonic() - start < bound
    return out[0]


def dist_with_record(site: Path, make_record: Callable[[Path], None]) -> InstalledDist:
    info = site / "demo-1.dist-info"
    info.mkdir(parents=True)
    (info / "INSTALLER").write_text("pip\n", encoding="utf-8")
    make_record(info / "RECORD")
    return InstalledDist("demo", "1", str(site), str(info), "pip", False, None, (), None)


def zero_filled(path: Path) -> None:
    path.write_bytes(b"\0" * 8192)  # what a power loss leaves: the size, but no data


def long_field(path: Path) -> None:
    path.write_text("p/" + "a" * (200 << 10) + ",sha256=x,1\n", encoding="utf-8")


def fifo(path: Path) -> None:
    os.mkfifo(path)


def dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def sparse_gigabytes(path: Path) -> None:
    with open(path, "wb") as f:
        f.truncate(4 << 30)  # 4 GiB of holes: costs no disk


def just_over_the_cap(path: Path) -> None:
    with open(path, "wb") as f:
        f.truncate(MAX_RECORD_BYTES + 1)


def not_utf8(path: Path) -> None:
    path.write_bytes(b"p/\xff\xfe,sha256=x,1\n")


def a_directory(path: Path) -> None:
    path.mkdir()


ATTACKS = {
    "zero-filled": (zero_filled, "NUL"),
    "200 KiB field": (long_field, "CSV"),
    "fifo": (fifo, "not a regular file"),
    "symlink to /dev/zero": (dev_zero, "not a regular file"),
    "sparse 4 GiB": (sparse_gigabytes, "longer than 64 MiB"),
    "64 MiB + 1": (just_over_the_cap, "longer than 64 MiB"),
    "not UTF-8": (not_utf8, "UTF-8"),
    "a directory": (a_directory, "not a regular file"),
}


@posix_only
@pytest.mark.parametrize("attack", list(ATTACKS))
def test_damaged_record_is_reported_not_fatal(tmp_path: Path, attack: str) -> None:
    make, said = ATTACKS[attack]
    dist = dist_with_record(tmp_path / "site", make)
    result: DistVerification = within(BOUND_S, lambda: verify_dist(dist))
    assert result.record_missing and not result.ok and result.files_checked == 0
    assert result.record_damage is not None and said in result.record_damage


def test_a_long_field_is_refused_even_when_csv_allows_it(tmp_path: Path) -> None:
    import csv

    old = csv.field_size_limit(1 << 30)  # someone else in the process raised csv's limit
    try:
        dist = dist_with_record(tmp_path / "site", long_field)
        read = read_record(dist.dist_info)
    finally:
        csv.field_size_limit(old)
    assert read.entries is None
    assert read.damage == f"a field is longer than {MAX_FIELD_CHARS >> 10} KiB"


def test_missing_record_is_missing_not_damaged(tmp_path: Path) -> None:
    dist = dist_with_record(tmp_path / "site", lambda p: None)
    result = verify_dist(dist)
    assert result.record_missing and result.record_damage is None


# --- through the command line, on a real install ----------------------------------------


@pytest.fixture
def damaged_venv(tmp_path: Path) -> tuple[Path, Path]:
    """A venv (no pip of its own) holding the tiny wheel, its RECORD zero-filled."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    wheel = build_wheel(tmp_path)
    argv = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
            "--no-index", "--no-deps", "-q", str(wheel)]
    subprocess.run(argv, check=True, env=pip_env())
    record = Path(str(installed(venv_path(venv, "purelib")).dist_info)) / "RECORD"
    record.write_bytes(b"\0" * record.stat().st_size)
    return venv, wheel


@posix_only
def test_verify_and_doctor_report_a_zero_filled_record(damaged_venv: tuple[Path, Path],
                                                         tmp_path: Path) -> None:
    venv, _ = damaged_venv
    python = str(venv / "bin" / "python")
    (tmp_path / "root").mkdir()
    env = clean_env({"PIPGUARD_SYSROOT": str(tmp_path / "root"),
                     "PIPGUARD_CACHE_DIR": str(tmp_path / "cache")})
    done = pipguard("--python", python, "verify", WHEEL_NAME, env=env, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "RECORD damaged (it holds NUL bytes" in done.stdout
    done = pipguard("--python", python, "verify", "--json", WHEEL_NAME, env=env, timeout=60)
    (dist,) = json.loads(done.stdout)["distributions"]
    assert dist["record_missing"] and "NUL" in dist["record_damage"]


def test_doctor_names_a_damaged_record_as_an_error() -> None:
    from pipguard.doctor_environment import Environment
    from pipguard.doctor_packages import packages
    from pipguard.hardware import Hardware
    from pipguard.knowledge_tables import load_knowledge

    damaged = DistVerification("torch", "2.9.0", 0, (), True, "it holds NUL bytes")
    env = Environment({}, (damaged,), Hardware(), "linux", "x86_64", {}, ())
    (finding,) = [f for f in packages(env, load_knowledge(None))
                  if f.category == "corrupt-install"]
    assert finding.severity == "error" and "damaged" in finding.message
    assert finding.fix and "--ignore-installed" in finding.fix


@posix_only
def test_installing_over_a_damaged_record_repairs_it(damaged_venv: tuple[Path, Path]) -> None:
    """What the install command's repair does for a RECORD it cannot use (record_missing)."""
    venv, wheel = damaged_venv
    dist = installed(venv_path(venv, "purelib"))
    assert verify_dist(dist).record_missing
    argv = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
            "--no-index", "--no-deps", "-q", "--ignore-installed", str(wheel)]
    subprocess.run(argv, check=True, env=pip_env(), timeout=120)
    assert verify_dist(dist).ok
