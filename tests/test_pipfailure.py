"""Whether a failed pip run is worth one more try (pure), and the install's retry at the
runner seam: pip out of memory while downloading or caching is retried once without its
cache; a corrupt zip names its file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from types import SimpleNamespace
from typing import cast

import pytest

from pipguard import runner
from pipguard.commands.planning import run_with_retry
from pipguard.explain import explain
from pipguard.explain_doc import Context
from pipguard.findings import Finding
from pipguard.knowledge_tables import load_knowledge
from pipguard.pipfailure import corrupt_download, out_of_memory
from pipguard.plan import Plan, PlannedPackage
from pipguard.session import Session

KNOWLEDGE = load_knowledge()
WHEEL = "torch-2.1.2+cu121-cp311-cp311-linux_x86_64.whl"
PLAN = Plan("cu121", (PlannedPackage("torch", "2.1.2+cu121",
                                     f"https://download.pytorch.org/whl/cu121/{WHEEL}",
                                     "a" * 64, WHEEL),),
            index_url="https://download.pytorch.org/whl/cu121")  # fmt: skip
MEMORY_ERROR = f"""Collecting torch==2.1.2+cu121
  Downloading https://download.pytorch.org/whl/cu121/{WHEEL.replace("+", "%2B")} (2200.7 MB)
     ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 2.2/2.2 GB 48.3 MB/s eta 0:00:00
ERROR: Exception:
Traceback (most recent call last):
  File "/v/lib/python3.11/site-packages/pip/_vendor/cachecontrol/serialize.py", line 70, in dumps
    return b",".join([b"cc=4", msgpack.dumps(data, use_bin_type=True)])
MemoryError
"""
KILLED = ("Collecting torch\n  Downloading torch-2.0.1-cp310-cp310-manylinux1_x86_64.whl "
          "(619.9 MB)\nKilled\n")
DISK_FULL = ("Collecting torch\n  Downloading torch-2.0.1-cp38-cp38-manylinux1_x86_64.whl "
             "(619.9 MB)\nERROR: Could not install packages due to an OSError: [Errno 28] No "
             "space left on device\n")
def test_a_probable_cause_is_said_never_acted_on() -> None:
    """An info finding (a hint, the word model's lean) names no file pip broke on: no retry."""
    guess = [Finding(c, "info", "probably: ...", "ERROR: something", "pipguard install torch")
             for c in ("download-integrity", "resource-exhausted")]
    assert corrupt_download("ERROR: something", guess, PLAN) is None
    assert out_of_memory("ERROR: something", guess) is None
    # the same findings from a rule (an error) are acted on
    ruled = [replace(f, severity="error") for f in guess]
    assert corrupt_download("ERROR: something", ruled, PLAN) is not None
    assert out_of_memory("ERROR: something", ruled) is not None


def test_memory_error_while_caching_is_worth_a_retry() -> None:
    oom = out_of_memory(MEMORY_ERROR, explain(MEMORY_ERROR, Context(facts=KNOWLEDGE)))
    assert oom is not None and oom.what == WHEEL


def test_killed_after_download_is_worth_a_retry() -> None:
    oom = out_of_memory(KILLED, explain(KILLED, Context(facts=KNOWLEDGE)))
    assert oom is not None and oom.what == "torch-2.0.1-cp310-cp310-manylinux1_x86_64.whl"


def test_a_full_disk_is_not_retried() -> None:
    found = explain(DISK_FULL, Context(facts=KNOWLEDGE))
    assert found[0].category == "resource-exhausted"
    assert out_of_memory(DISK_FULL, found) is None


@pytest.mark.parametrize("line", [
    "zipfile.BadZipFile: Bad CRC-32 for file 'torch/lib/libtorch_cuda.so'",
    "zipfile.BadZipFile: File is not a zip file",
    f"ERROR: Wheel 'torch' located at /tmp/{WHEEL} is invalid.",
])  # fmt: skip
def test_broken_archives_are_corrupt_downloads_named_by_file(line: str) -> None:
    text = (f"Collecting torch\n  Downloading https://download.pytorch.org/whl/cu121/{WHEEL} "
            f"(2200.7 MB)\n{line}\n")
    bad = corrupt_download(text, explain(text, Context(facts=KNOWLEDGE)), PLAN)
    assert bad is not None and bad.name == "torch" and bad.key == WHEEL
    assert out_of_memory(text, explain(text, Context(facts=KNOWLEDGE))) is None


class FakePip:
    """The runner seam: answers pip's runs in turn, and keeps each argv."""

    def __init__(self, *answers: tuple[int, str]) -> None:
        self.answers = list(answers)
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str], *, capture: bool = True,
                 timeout: float | None = None, env: Mapping[str, str] | None = None,
                 stdin_text: str | None = None, tee: bool = False) -> runner.Completed:
        self.calls.append(list(argv))
        code, err = self.answers.pop(0)
        return runner.Completed(tuple(argv), code, "", err)


def session() -> Session:
    return cast(Session, SimpleNamespace(kn=KNOWLEDGE, hw=None, cl=None, pip=["python", "-m",
                                                                             "pip"]))


ARGV = ["python", "-m", "pip", "install", "torch"]


def test_install_retries_once_without_the_cache_when_pip_runs_out_of_memory(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakePip((2, MEMORY_ERROR), (0, ""))
    monkeypatch.setattr(runner, "RUNNER", fake)
    assert run_with_retry(list(ARGV), PLAN, session()).returncode == 0
    assert fake.calls == [ARGV, [*ARGV, "--no-cache-dir"]]
    assert (f"pip ran out of memory while downloading or caching {WHEEL}; retrying once "
            "without pip's cache") in capsys.readouterr().err


def test_out_of_memory_twice_stops_with_the_diagnosis(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakePip((137, KILLED), (137, KILLED))
    monkeypatch.setattr(runner, "RUNNER", fake)
    assert run_with_retry(list(ARGV), PLAN, session()).returncode == 137
    assert fake.calls == [ARGV, [*ARGV, "--no-cache-dir"]]
    assert "diagnosis [resource-exhausted]" in capsys.readouterr().err


def test_a_full_disk_is_diagnosed_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakePip((1, DISK_FULL))
    monkeypatch.setattr(runner, "RUNNER", fake)
    assert run_with_retry(list(ARGV), PLAN, session()).returncode == 1
    assert fake.calls == [ARGV]
