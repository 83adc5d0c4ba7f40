"""pip's configuration answer is remembered while every file pip read for it is unchanged.

At the runner seam: `pip config list` and `pip config debug` are answered by a fake pip that
counts its starts; the files are real (their stat is what is remembered).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from pipguard import configfiles, runner

PIP = ["/venv/bin/python", "-m", "pip"]
KEY: dict[str, object] = {"pip": PIP, "prefix": "/venv", "pip_version": "25.1", "env": []}


class FakePip:
    def __init__(self, files: Sequence[Path], listed: str = "global.timeout='60'\n") -> None:
        self.files = files
        self.listed = listed
        self.calls: list[str] = []

    def __call__(self, argv: Sequence[str], **_: object) -> runner.Completed:
        what = argv[-1]
        self.calls.append(what)
        if what == "list":
            return runner.Completed(tuple(argv), 0, self.listed, "")
        assert what == "debug", argv
        lines = ["env_var:", "env:", "global:"] + [
            f"  {p}, exists: {p.exists()}" for p in self.files] + ["site:", "user:"]
        return runner.Completed(tuple(argv), 0, "\n".join(lines) + "\n", "")


def _old(path: Path, text: str) -> None:
    """A config file written long enough ago to be trusted (outside the settle window)."""
    path.write_text(text, encoding="utf-8")
    past = time.time_ns() - 10 * 10**9
    os.utime(path, ns=(past, past))


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    conf = tmp_path / "pip.conf"
    _old(conf, "[global]\ntimeout = 60\n")
    return [conf, tmp_path / "absent.conf"]


def _ask(tmp_path: Path, fake: FakePip, key: dict[str, object] = KEY) -> str:
    return configfiles.start_config_list(PIP, [], key, tmp_path / "cache")().stdout


def test_the_answer_is_remembered_while_the_files_are_unchanged(
        tmp_path: Path, files: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakePip(files)
    monkeypatch.setattr(runner, "RUNNER", fake)
    monkeypatch.setattr(configfiles, "_SETTLE_NS", -10**12)  # ctime is now: trust it anyway
    assert _ask(tmp_path, fake) == fake.listed
    assert sorted(fake.calls) == ["debug", "list"]  # side by side, the first time
    assert _ask(tmp_path, fake) == fake.listed and len(fake.calls) == 2  # no pip start
    assert _ask(tmp_path, fake, {**KEY, "env": [["PIP_TIMEOUT", "5"]]}) == fake.listed
    assert len(fake.calls) == 4  # other variables: another answer, asked of pip


@pytest.mark.parametrize("change", ["rewrite", "appear", "vanish"])
def test_a_changed_appearing_or_vanishing_file_means_asking_pip_again(
        tmp_path: Path, files: list[Path], monkeypatch: pytest.MonkeyPatch,
        change: str) -> None:
    fake = FakePip(files)
    monkeypatch.setattr(runner, "RUNNER", fake)
    monkeypatch.setattr(configfiles, "_SETTLE_NS", -10**12)
    _ask(tmp_path, fake)
    if change == "rewrite":  # same size, mtime put back: the ctime still moves
        before = files[0].stat()
        files[0].write_text("[global]\ntimeout = 99\n", encoding="utf-8")
        os.utime(files[0], ns=(before.st_atime_ns, before.st_mtime_ns))
    elif change == "appear":
        files[1].write_text("[global]\nno-index = true\n", encoding="utf-8")
    else:
        files[0].unlink()
    fake.listed = "global.timeout='99'\n"
    assert _ask(tmp_path, fake) == "global.timeout='99'\n" and len(fake.calls) == 4


def test_a_file_written_just_now_is_not_trusted(tmp_path: Path, files: list[Path],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    files[0].write_text("[global]\ntimeout = 60\n", encoding="utf-8")  # ctime: now
    fake = FakePip(files)
    monkeypatch.setattr(runner, "RUNNER", fake)
    _ask(tmp_path, fake)
    _ask(tmp_path, fake)
    assert len(fake.calls) == 4


@pytest.mark.parametrize("listed", [
    "global.index-url='https://user:s3cret@mirror.example/simple'\n",
    ":env:.proxy='http://me:pw@proxy:3128'\n",
    "global.proxy='me:pw@proxy.corp:3128'\n",  # no scheme: requests adds one, pip takes it
    'global.index-url="https://me:p\'w@mirror.example/simple"\n',  # a quote in the password
])
def test_an_answer_with_a_credential_is_never_stored(
        tmp_path: Path, files: list[Path], monkeypatch: pytest.MonkeyPatch,
        listed: str) -> None:
    fake = FakePip(files, listed)
    monkeypatch.setattr(runner, "RUNNER", fake)
    monkeypatch.setattr(configfiles, "_SETTLE_NS", -10**12)
    assert _ask(tmp_path, fake) == listed
    assert _ask(tmp_path, fake) == listed and len(fake.calls) == 4
    stored = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert not any(b"s3cret" in p.read_bytes() or b"me:pw" in p.read_bytes() for p in stored)


def test_debug_output_not_understood_means_no_memory(
        tmp_path: Path, files: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    class Other(FakePip):
        def __call__(self, argv: Sequence[str], **kw: object) -> runner.Completed:
            done = super().__call__(argv, **kw)
            return done if argv[-1] == "list" else runner.Completed(tuple(argv), 0, "?", "")

    fake = Other(files)
    monkeypatch.setattr(runner, "RUNNER", fake)
    monkeypatch.setattr(configfiles, "_SETTLE_NS", -10**12)
    _ask(tmp_path, fake)
    _ask(tmp_path, fake)
    assert len(fake.calls) == 4


@pytest.mark.parametrize("body", [b"not json", b'{"files": [[3, null]], "stdout": "x"}',
                                  b'{"files": [], "stdout": "x"}', b'{"stdout": 7}'])
def test_a_damaged_store_means_asking_pip(tmp_path: Path, files: list[Path],
                                          monkeypatch: pytest.MonkeyPatch, body: bytes) -> None:
    from pipguard.cache import write_entry

    fake = FakePip(files)
    monkeypatch.setattr(runner, "RUNNER", fake)
    monkeypatch.setattr(configfiles, "_SETTLE_NS", -10**12)
    _ask(tmp_path, fake)
    [stored] = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    write_entry(stored, {"format": 1}, body)
    assert _ask(tmp_path, fake) == fake.listed and len(fake.calls) == 4


def test_the_remembered_answer_is_keyed_on_the_pip_that_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A target without pip of its own runs pipguard's pip: upgrading that one is a new
    answer too (its version is in the key, not the target's None)."""
    from pipguard import interpreter, session
    from pipguard.hardware import Hardware
    from pipguard.knowledge_tables import load_knowledge
    from pipguard.options import settings
    from pipguard.pipargs import parse
    from pipguard.target import Interpreter

    keys: list[object] = []

    def capture(pip: object, cl: object, inert: bool, *, key: object = None,
                cache_root: object = None) -> object:
        keys.append(key)
        return dict

    monkeypatch.setattr(session, "start_pip_config", capture)
    interp = Interpreter("/t/python", (3, 12, 0), "cpython", "linux", "x86_64", False, None,
                         "/t", ())
    cl = parse(["install", "torch"])
    for own in ("24.0", "25.1"):
        monkeypatch.setattr(interpreter, "_own_pip_version", lambda own=own: own)
        s = session.Session(cl, settings(cl, {"PATH": "/usr/bin"}), interp, Hardware(),
                            load_knowledge())
        s.ask_pip_config()
    assert [k["pip_version"] for k in keys] == ["24.0", "25.1"]  # type: ignore[index]
