"""Guarded installs under attack and failure (docs/RELIABILITY.md has the figures).

Every test here runs the real pip in a fresh virtual environment (a copy of one template venv,
which is much faster than ``python -m venv`` each time) against the imitation indexes, with
``PIP_CONFIG_FILE=os.devnull``, no inherited ``PIP_*`` variables and a pip cache of its own.
Detection sees an empty machine (``PIPGUARD_SYSROOT``); the GPU is named with overrides.

Lines printed with ``figure(...)`` are the numbers quoted in docs/RELIABILITY.md
(``pytest -rP tests/test_reliability.py`` shows them).
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.tags import sys_tags
from packaging.utils import parse_wheel_filename

from pipguard import index as index_mod
from pipguard.cli import main
from scripts.make_index import IndexLayout, build_index, tamper
from scripts.serve_index import IndexServer
from tests.helpers import REPO, clean_env, isolate_process

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# An H100 on a 580 driver: plans +cu126 with triton and an NVIDIA runtime dependency.
GPU = ("--cuda-driver", "580.65.06", "--gpu-arch", "sm_90")
VARIANT = "cu126"
FAMILY = ("torch", "torchvision", "triton")
LOOKALIKE = "99.0.0"


def figure(text: str) -> None:
    """A number for docs/RELIABILITY.md (shown by ``pytest -rP``)."""
    print(f"FIGURE {text}")


# --- fixtures -----------------------------------------------------------------------------


@dataclass
class Box:
    """One test's world: a fresh venv, its environment variables, its caches."""

    python: str
    site: Path
    env: dict[str, str]
    tmp: Path

    def pipguard(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pipguard", "--python", self.python, *args],
                              capture_output=True, text=True, env=self.env, timeout=timeout,
                              check=False, cwd=self.tmp)

    def pipguard_argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "pipguard", "--python", self.python, *args]

    def pip(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.python, "-m", "pip", *args], capture_output=True, text=True,
                              env=self.env, timeout=300, check=False, cwd=self.tmp)

    def freeze(self) -> list[str]:
        done = self.pip("freeze", "--all")
        assert done.returncode == 0, done.stderr
        return sorted(done.stdout.splitlines())

    def installed(self) -> dict[str, dict[str, Any]]:
        """name -> pip inspect item (metadata, direct_url)."""
        done = self.pip("inspect", "--local")
        assert done.returncode == 0, done.stderr
        return {item["metadata"]["name"].lower(): item
                for item in json.loads(done.stdout)["installed"]}

    def site_listing(self) -> dict[str, int]:
        return {str(p.relative_to(self.site)): p.stat().st_size
                for p in sorted(self.site.rglob("*")) if p.is_file() and "__pycache__" not in
                p.parts}


def make_box(template: Path, tmp: Path, name: str = "venv",
             extra: Mapping[str, str] | None = None) -> Box:
    dest = tmp / name
    shutil.copytree(template, dest, symlinks=True)
    (tmp / "sysroot").mkdir(exist_ok=True)
    env = clean_env({"PIPGUARD_CACHE_DIR": str(tmp / "pgcache"),
                     "PIPGUARD_SYSROOT": str(tmp / "sysroot"),
                     # Not inherited: a pip cache of this test's own, so that no earlier test's
                     # downloads (corrupt or not) change what pip fetches.
                     "PIP_CACHE_DIR": str(tmp / f"pipcache-{name}"),
                     **(extra or {})})
    site = next((dest / "lib").glob("python3*/site-packages"))
    return Box(str(dest / "bin" / "python"), site, env, tmp)


@pytest.fixture
def box(template_venv: Path, tmp_path: Path) -> Box:
    return make_box(template_venv, tmp_path)


def torch_args(server: IndexServer) -> list[str]:
    return ["--torch-index-url", server.torch_url]


def assert_from_torch_index(box: Box, server: IndexServer, names: tuple[str, ...] = FAMILY,
                            variant: str = VARIANT) -> dict[str, str]:
    """Each named package is installed, came from the torch index, and is no look-alike."""
    inst = box.installed()
    got: dict[str, str] = {}
    for name in names:
        assert name in inst, f"{name} not installed: {sorted(inst)}"
        version = inst[name]["metadata"]["version"]
        url = (inst[name].get("direct_url") or {}).get("url", "")
        assert version != LOOKALIKE, f"{name} {version} is the look-alike"
        assert url.startswith(f"{server.torch_url}/{variant}/"), f"{name} from {url!r}"
        got[name] = version
    assert "torchtriton" not in inst
    assert got["torch"].endswith(f"+{variant}")
    return got


def one_line_error(stderr: str) -> tuple[str, str]:
    """The ``error:`` line and the ``hint:`` line that end pipguard's output."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) >= 2, stderr
    err, hint = lines[-2], lines[-1]
    assert err.startswith("error: "), stderr
    assert hint.startswith("hint: "), stderr
    assert "Traceback" not in stderr
    return err, hint


# --- 1. dependency confusion ------------------------------------------------------------------


def test_plain_pip_falls_for_the_lookalikes(box: Box, index_server: IndexServer) -> None:
    """The control: without pipguard, the fake PyPI wins. Then doctor names what landed."""
    done = box.pip("install", "--index-url", index_server.pypi_url, "torch", "torchtriton")
    assert done.returncode == 0, done.stderr
    inst = box.installed()
    assert inst["torch"]["metadata"]["version"] == LOOKALIKE
    doctor = box.pipguard("doctor", "--json")
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr
    findings = json.loads(doctor.stdout)["findings"]
    confusion = [f for f in findings if f["category"] == "dependency-confusion"]
    assert any("torchtriton" in f["message"] and f["severity"] == "error" for f in confusion)
    assert any(LOOKALIKE in f["message"] and "torch" in f["message"] for f in confusion)


def _req_file(box: Box, server: IndexServer) -> list[str]:
    path = box.tmp / "requirements.txt"
    path.write_text(f"--index-url {server.pypi_url}\n--extra-index-url {server.pypi_url}\n"
                    "torch\ntorchvision\n")
    return ["-r", str(path)]


CONFUSION_WAYS: dict[str, Callable[[Box, IndexServer], list[str]]] = {
    "index-url": lambda b, s: ["--index-url", s.pypi_url, "torch", "torchvision"],
    "extra-index-url": lambda b, s: ["--index-url", f"{s.torch_url}/cpu", "--extra-index-url",
                                     s.pypi_url, "torch", "torchvision"],
    "requirements-file": _req_file,
    "upgrade": lambda b, s: ["-U", "--index-url", s.pypi_url, "torch>=2", "torchvision",
                             "triton"],
}


@pytest.mark.parametrize("way", sorted(CONFUSION_WAYS))
def test_lookalike_index_never_wins(box: Box, index_server: IndexServer, way: str) -> None:
    args = CONFUSION_WAYS[way](box, index_server)
    done = box.pipguard("install", *args, *GPU, *torch_args(index_server))
    assert done.returncode == 0, done.stderr
    got = assert_from_torch_index(box, index_server)
    assert not any(LOOKALIKE in line for line in box.freeze())
    assert box.pipguard("verify").returncode == 0
    offered = len(index_server.requests_for("/pypi/simple/torch*"))
    figure(f"confusion {way}: installed {got}; look-alike pages pip read: {offered}")


def test_nightly_pytorch_triton_is_not_taken_from_the_lookalike(
        box: Box, index_server: IndexServer) -> None:
    done = box.pipguard("install", "--index-url", index_server.pypi_url, "torch",
                        "--torch-channel", "nightly", *GPU, *torch_args(index_server))
    assert done.returncode == 0, done.stderr
    inst = box.installed()
    for name in ("torch", "pytorch-triton"):
        url = (inst[name].get("direct_url") or {}).get("url", "")
        assert url.startswith(f"{index_server.torch_url}/nightly/"), (name, url)
        assert inst[name]["metadata"]["version"] != LOOKALIKE
    assert "torchtriton" not in inst
    figure(f"confusion nightly: torch {inst['torch']['metadata']['version']}, pytorch-triton "
           f"{inst['pytorch-triton']['metadata']['version']}")


# --- 2. tampered index ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tampered(tmp_path_factory: pytest.TempPathFactory, template_venv: Path) -> Iterator[
        tuple[Box, IndexServer, IndexLayout, subprocess.CompletedProcess[str], list[str],
              list[str], str, str]]:
    """A private index copy whose page lies about torch 2.15.0+cpu's hash; one upgrade try."""
    tmp = tmp_path_factory.mktemp("tampered")
    layout = build_index(tmp / "index")
    tags = set(sys_tags())
    wheel = next(w for w in layout.wheels if w.relpath.startswith("torch/cpu/torch-2.15.0+cpu-")
                 and parse_wheel_filename(w.filename)[3] & tags)
    # Every page read anew: with the page cached fresh, pipguard would never see the tampering
    # (and would install the genuine file it planned before, which is no attack).
    b = make_box(template_venv, tmp, extra={"PIPGUARD_FRESH_FOR": "0"})
    with IndexServer(layout.root) as server:
        first = b.pipguard("install", "torch==2.13.0", "--torch-backend", "cpu",
                           "--index-url", server.pypi_url, *torch_args(server))
        assert first.returncode == 0, first.stderr
        before = b.freeze()
        listing = b.site_listing()
        with tamper(layout, wheel.filename) as t:
            done = b.pipguard("install", "-U", "torch", "--torch-backend", "cpu",
                              "--index-url", server.pypi_url, *torch_args(server))
        after = b.freeze()
        assert b.site_listing() == listing
        tries = len(server.requests_for(f"*/{wheel.filename}"))
        figure(f"tampered: exit {done.returncode}, {tries} downloads of the file")
        yield b, server, layout, done, before, after, t.fake_sha256, wheel.sha256


def test_tampered_page_stops_with_exit_4_and_changes_nothing(tampered: Any) -> None:
    b, server, _, done, before, after, fake, _real = tampered
    assert done.returncode == 4, done.stderr
    assert before == after
    assert any(line.startswith("torch @ ") and "2.13.0%2Bcpu" in line for line in after)
    err, hint = one_line_error(done.stderr)
    assert "torch" in err and server.torch_url in err and fake in err
    assert "nothing was installed" in hint
    assert b.pipguard("verify").returncode == 0


def test_tampered_error_names_both_hashes(tampered: Any) -> None:
    _, _, _, done, _, _, fake, real = tampered
    err, _ = one_line_error(done.stderr)
    assert fake in err and real in err


# --- 3. corrupt downloads ---------------------------------------------------------------------


def _corrupt_first(server: IndexServer, globs: list[str]) -> None:
    # A Fault's count is shared by every path its glob matches: one fault per file.
    for glob in globs:
        server.faults.corrupt(glob, count=1)


FAMILY_WHEELS = [f"/whl/{VARIANT}/{p}-*.whl" for p in FAMILY]
DEP_WHEELS = [f"/pypi/files/{p}-*.whl" for p in
              ("filelock", "numpy", "pillow", "typing_extensions", "nvidia_cuda_runtime_cu12")]


def _install_recovers(box: Box, server: IndexServer, globs: list[str], label: str) -> None:
    _corrupt_first(server, globs)
    done = box.pipguard("install", "torch", "torchvision", "--index-url", server.pypi_url, *GPU,
                        *torch_args(server))
    corrupt = [r for r in server.requests if r.fault == "corrupt"]
    wheels = [r for r in server.requests if r.path.endswith(".whl")]
    figure(f"corrupt {label}: exit {done.returncode}; {len(corrupt)} corrupt answers, "
           f"{len(wheels)} wheel downloads")
    assert done.returncode == 0, done.stderr
    assert "arrived corrupt" in done.stderr
    assert_from_torch_index(box, server)
    assert box.pipguard("verify").returncode == 0


def test_corrupt_torch_download_is_retried_and_verified(box: Box,
                                                        index_server: IndexServer) -> None:
    _install_recovers(box, index_server, FAMILY_WHEELS[:1], "torch only")


def test_every_family_wheel_corrupt_once_recovers(box: Box, index_server: IndexServer) -> None:
    _install_recovers(box, index_server, FAMILY_WHEELS, "every family wheel")


def test_every_wheel_corrupt_once_recovers(box: Box, index_server: IndexServer) -> None:
    _install_recovers(box, index_server, FAMILY_WHEELS + DEP_WHEELS, "every wheel")


def test_a_file_corrupt_every_time_stops_with_exit_4(box: Box,
                                                     index_server: IndexServer) -> None:
    index_server.faults.corrupt(FAMILY_WHEELS[0])
    before = box.freeze()
    done = box.pipguard("install", "torch", "--index-url", index_server.pypi_url, *GPU,
                        *torch_args(index_server))
    assert done.returncode == 4, done.stderr
    err, _ = one_line_error(done.stderr)
    assert "torch-" in err and index_server.torch_url in err
    assert box.freeze() == before
    tries = len(index_server.requests_for(FAMILY_WHEELS[0]))
    figure(f"corrupt always: exit 4 after {tries} downloads")
    assert tries == 2


# --- 4. killed mid-install --------------------------------------------------------------------


def _wait_for(cond: Callable[[], bool], limit: float = 60.0) -> bool:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.0005)
    return False


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


KILL_POINTS = ("planning", "download", "install")


@pytest.mark.parametrize("point", KILL_POINTS)
def test_killed_install_is_named_and_repaired(box: Box, index_server: IndexServer,
                                              point: str) -> None:
    args = ("install", "torch", "torchvision", "--index-url", index_server.pypi_url, *GPU,
            *torch_args(index_server))
    faults = index_server.faults
    if point == "planning":
        gate = faults.delay(f"/whl/{VARIANT}/torchvision/", 30)
        ready: Callable[[], bool] = lambda: gate.hits > 0  # noqa: E731
    elif point == "download":
        gate = faults.delay(f"/whl/{VARIANT}/torchvision-*.whl", 30)
        ready = lambda: gate.hits > 0  # noqa: E731
    else:
        ready = lambda: (box.site / "torch").exists()  # noqa: E731
    with open(box.tmp / "out.txt", "wb") as out:
        proc = subprocess.Popen(box.pipguard_argv(*args), stdout=out, stderr=subprocess.STDOUT,
                                env=box.env, cwd=box.tmp, start_new_session=True)
        try:
            assert _wait_for(ready), (box.tmp / "out.txt").read_text()
            _kill_group(proc)
        finally:
            if proc.poll() is None:
                _kill_group(proc)
    faults.clear()
    verify = box.pipguard("verify")
    doctor = box.pipguard("doctor")
    assert "Traceback" not in verify.stderr + doctor.stderr
    assert verify.returncode in (0, 1)
    broken = [line.split()[0] for line in verify.stdout.splitlines() if "FAILED" in line]
    if verify.returncode == 1:
        assert broken, verify.stdout
        for name in broken:
            assert name in doctor.stdout, doctor.stdout
    leftovers = sorted(p.name for p in box.site.iterdir()
                       if p.name.split("-")[0] in FAMILY or p.name.startswith("~"))
    again = box.pipguard(*args)
    assert again.returncode == 0, again.stderr
    assert box.pipguard("verify").returncode == 0
    inst = box.installed()
    assert inst["torch"]["metadata"]["version"] == f"2.15.0+{VARIANT}"
    assert all(inst[n]["metadata"]["version"] != LOOKALIKE for n in FAMILY)
    incomplete = _incomplete_dist_infos(box)
    figure(f"killed at {point}: verify exit {verify.returncode} broken={broken}, doctor exit "
           f"{doctor.returncode}; left in site-packages: {leftovers}; rerun exit 0, verify ok; "
           f"dist-info still incomplete after the rerun: {incomplete}")


def _incomplete_dist_infos(box: Box) -> list[str]:
    """dist-info folders pip did not finish: no INSTALLER, or a temp file left behind."""
    return sorted(d.name for d in box.site.glob("*.dist-info")
                  if not (d / "INSTALLER").exists() or list(d.glob("*.tmp")))


def _kill_while_writing_installer(box: Box, server: IndexServer) -> list[str]:
    """The state a SIGKILL leaves while pip writes torch's INSTALLER (seen in the kill test):
    every file and the wheel's RECORD in place, no INSTALLER/REQUESTED/direct_url.json, a temp
    file left behind."""
    args = ["install", "torch", "--index-url", server.pypi_url, *GPU, *torch_args(server)]
    assert box.pipguard(*args).returncode == 0
    info = next(box.site.glob("torch-*.dist-info"))
    dropped = ("INSTALLER", "REQUESTED", "direct_url.json")
    for name in dropped:
        (info / name).unlink(missing_ok=True)
    # pip rewrites RECORD last: until then it is the wheel's own (no pip-added entries).
    record = info / "RECORD"
    lines = record.read_text().splitlines(keepends=True)
    record.write_text("".join(line for line in lines if "__pycache__" not in line
                              and not line.split(",")[0].endswith(dropped)))
    (info / "INSTALLERk1ll3d.tmp").write_text("")
    return args


def test_verify_names_a_distribution_pip_did_not_finish(box: Box,
                                                        index_server: IndexServer) -> None:
    _kill_while_writing_installer(box, index_server)
    done = box.pipguard("verify")
    assert done.returncode == 1 and "torch" in done.stdout


def test_rerun_finishes_a_distribution_pip_did_not_finish(box: Box,
                                                          index_server: IndexServer) -> None:
    args = _kill_while_writing_installer(box, index_server)
    assert box.pipguard(*args).returncode == 0
    assert _incomplete_dist_infos(box) == []
    assert_from_torch_index(box, index_server, ("torch", "triton"))


# --- 5. concurrency ---------------------------------------------------------------------------

HARDWARE = (
    ("--cuda-driver", "580.65.06", "--gpu-arch", "sm_90"),
    ("--cuda-driver", "570.86.10", "--gpu-arch", "sm_120"),
    ("--torch-backend", "cpu"),
    ("--cuda-driver", "550.54.15", "--gpu-arch", "8.6"),
)


def test_four_concurrent_installs_share_one_cache(template_venv: Path, tmp_path: Path,
                                                  index_server: IndexServer) -> None:
    boxes = [make_box(template_venv, tmp_path, f"venv{i}") for i in range(4)]
    shared = {"PIP_CACHE_DIR": str(tmp_path / "pipcache-shared")}
    for b in boxes:
        b.env.update(shared)  # one pipguard cache (same tmp_path) and one pip cache for all
    start = time.monotonic()
    procs = []
    for b, hw in zip(boxes, HARDWARE, strict=True):
        argv = b.pipguard_argv("install", "torch", "torchvision", "--index-url",
                               index_server.pypi_url, *hw, *torch_args(index_server))
        procs.append(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      env=b.env, cwd=tmp_path, text=True))
    results = [p.communicate(timeout=300) for p in procs]
    elapsed = time.monotonic() - start
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
    for b in boxes:
        assert b.pipguard("verify").returncode == 0
    cache = tmp_path / "pgcache"
    entries = [p for p in cache.rglob("*") if p.is_file() and p.parent.name != "tmp"]
    from pipguard.cache import read_entry

    assert entries and all(read_entry(p) is not None for p in entries)
    assert not [p for p in entries if p.name.endswith(".tmp")]
    # The cache alone now answers every plan: no request reaches the index.
    index_server.faults.hang("/whl/*", seconds=30)
    index_server.clear_requests()
    for b, hw in zip(boxes, HARDWARE, strict=True):
        online = box_plan(b, index_server, hw)
        offline = box_plan(b, index_server, hw, "--offline")
        assert offline == online
    assert index_server.requests_for("/whl/*") == []
    figure(f"concurrency: 4 installs in {elapsed:.1f}s, all exit 0; {len(entries)} cache "
           "entries all readable; 4 offline plans identical, 0 index requests")


def box_plan(b: Box, server: IndexServer, hw: tuple[str, ...], *extra: str) -> list[Any]:
    if not extra:
        # The online plan is computed with the index healthy in between.
        server.faults.clear()
    done = b.pipguard("plan", "torch", "torchvision", "--json", *hw, *extra, *torch_args(server))
    if not extra:
        server.faults.hang("/whl/*", seconds=30)
        server.clear_requests()
    assert done.returncode == 0, done.stdout + done.stderr
    return list(json.loads(done.stdout)["packages"])


# --- 6. index faults --------------------------------------------------------------------------


@pytest.fixture
def fast_client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """In-process planning with a 1 s timeout (the default is 15 s) and short backoff.

    A failed plan leaves its other page reads running (the CLI exits and ends them; in
    process they go on): they are waited for here, so they cannot reach the next test's
    server log and be counted as its requests."""
    defaults = dict(index_mod.IndexClient.__init__.__kwdefaults__ or {})
    monkeypatch.setattr(index_mod.IndexClient.__init__, "__kwdefaults__",
                        {**defaults, "timeout": 1.0, "backoff": 0.01})
    isolate_process(monkeypatch, tmp_path)
    before = set(threading.enumerate())
    yield
    for thread in set(threading.enumerate()) - before:
        if thread.name.startswith("ThreadPoolExecutor"):  # (not the server's own threads)
            thread.join(timeout=30)


def plan_in_process(server: IndexServer, capsys: pytest.CaptureFixture[str],
                    *extra: str) -> tuple[int, str, str]:
    rc = main(["plan", "torch", "torchvision", "--torch-backend", "cpu", *extra,
               *torch_args(server)])
    out = capsys.readouterr()
    return rc, out.out, out.err


FAULTS: dict[str, Callable[[IndexServer], object]] = {
    "http-500": lambda s: s.faults.fail("/whl/*", 500),
    "http-503": lambda s: s.faults.fail("/whl/*", 503),
    "hang": lambda s: s.faults.hang("/whl/*", seconds=30),
    "truncated": lambda s: s.faults.truncate("/whl/*"),
    "garbage": lambda s: s.faults.garbage("/whl/*"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_index_fault_gives_one_line_exit_3(index_server: IndexServer, fast_client: None,
                                           capsys: pytest.CaptureFixture[str],
                                           fault: str) -> None:
    FAULTS[fault](index_server)
    start = time.monotonic()
    rc, _, err = plan_in_process(index_server, capsys)
    elapsed = time.monotonic() - start
    assert rc == 3, err
    line, hint = one_line_error(err)
    assert index_server.torch_url in line
    assert "PIPGUARD_OFFLINE" in hint or "--torch-index-url" in hint
    per_page: dict[str, int] = {}
    for r in index_server.requests:
        per_page[r.path] = per_page.get(r.path, 0) + 1
    assert per_page and max(per_page.values()) <= 4  # 1 try + 3 retries, never more
    figure(f"fault {fault}: exit 3 in {elapsed:.1f}s (timeout 1 s), at most "
           f"{max(per_page.values())} requests per page, {len(index_server.requests)} in all; "
           f"{line[:120]}")


@pytest.mark.parametrize("status", [403, 404])
def test_index_that_denies_everything_is_not_a_crash(index_server: IndexServer,
                                                     fast_client: None,
                                                     capsys: pytest.CaptureFixture[str],
                                                     status: int) -> None:
    # 403/404 means "no such page" on download.pytorch.org (S3): not retried; when every
    # variant is missing, the URL is no torch index (exit 3).
    index_server.faults.fail("/whl/*", status)
    rc, _, err = plan_in_process(index_server, capsys)
    # exit 3 when no variant at all has a torch page; with a forced variant (as here) the
    # answer is the forced variant's: "no torch for cpu" (exit 1)
    assert rc in (1, 3), err
    line, _ = one_line_error(err)
    per_page = max(len(index_server.requests_for(r.path)) for r in index_server.requests)
    assert per_page == 1
    figure(f"fault http-{status}: exit {rc}, 1 request per page; {line[:140]}")


def test_slow_index_is_waited_for(index_server: IndexServer, fast_client: None,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    index_server.faults.delay("/whl/*", 0.3)
    rc, out, err = plan_in_process(index_server, capsys)
    assert rc == 0, err
    assert "torch==" in out


def test_flaky_index_recovers_within_the_retries(index_server: IndexServer, fast_client: None,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    index_server.faults.fail("/whl/cpu/torch/", 500, count=2)
    index_server.faults.truncate("/whl/cpu/torchvision/", count=1)
    rc, _, err = plan_in_process(index_server, capsys)
    assert rc == 0, err
    statuses = [r.status for r in index_server.requests_for("/whl/cpu/torch/")]
    assert statuses[:3] == [500, 500, 200], statuses
    figure(f"flaky: 2 x HTTP 500 then 200 -> exit 0; the page was requested {len(statuses)} "
           "times in one plan")


def test_warm_cache_plans_through_faults_and_offline(index_server: IndexServer,
                                                     fast_client: None,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPGUARD_FRESH_FOR", "0")  # revalidate: the index is asked, and fails
    rc, fresh, err = plan_in_process(index_server, capsys)
    assert rc == 0, err
    index_server.faults.fail("/whl/*", 500)
    rc, stale, err = plan_in_process(index_server, capsys)
    assert rc == 0, err
    assert "planned from cache" in stale
    assert _packages(stale) == _packages(fresh)
    index_server.faults.clear()
    index_server.faults.hang("/whl/*", seconds=30)
    index_server.clear_requests()
    rc, offline, err = plan_in_process(index_server, capsys, "--offline")
    assert rc == 0, err
    assert _packages(offline) == _packages(fresh)
    assert index_server.requests == []


def _packages(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if "==" in line and "sha256=" in line]


def test_unreachable_index_install_exits_3_and_leaves_the_venv(
        box: Box, index_server: IndexServer) -> None:
    """With the real defaults (3 retries, 0.5 s backoff) through the subprocess."""
    index_server.faults.fail("/whl/*", 500)
    before = box.freeze()
    start = time.monotonic()
    done = box.pipguard("install", "torch", "--index-url", index_server.pypi_url, *GPU,
                        *torch_args(index_server))
    elapsed = time.monotonic() - start
    assert done.returncode == 3, done.stderr
    one_line_error(done.stderr)
    assert box.freeze() == before
    assert not index_server.requests_for("/pypi/*")  # pip never ran
    figure(f"unreachable (HTTP 500, real defaults): exit 3 in {elapsed:.1f}s")


# --- 8. static guarantees ---------------------------------------------------------------------

SOURCES = sorted((REPO / "pipguard").rglob("*.py"))


def _calls(tree: ast.AST) -> Iterator[tuple[str, ast.Call]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = (f.id if isinstance(f, ast.Name) else
                    f"{ast.unparse(f.value)}.{f.attr}" if isinstance(f, ast.Attribute) else "")
            yield name, node


def violations(source: str, rel: str) -> list[str]:
    """Every breach of the static guarantees in one module's source."""
    tree = ast.parse(source, rel)
    out: list[str] = []
    for name, call in _calls(tree):
        where = f"{rel}:{call.lineno}"
        if name in ("eval", "exec", "compile", "os.system", "os.popen") or \
                name.startswith(("os.spawn", "os.exec", "pty.")):
            out.append(f"{where}: {name}()")
        if name in ("__import__", "importlib.import_module") and not all(
                isinstance(a, ast.Constant) for a in call.args):
            out.append(f"{where}: {name}() of a computed name")
        for kw in call.keywords:
            if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant)
                                          and kw.value.value is False):
                out.append(f"{where}: shell=")
            if kw.arg in ("verify", "check_hostname") and isinstance(kw.value, ast.Constant) \
                    and kw.value.value is False:
                out.append(f"{where}: {kw.arg}=False")
    modules = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
               for a in n.names}
    modules |= {(n.module or "").split(".")[0] for n in ast.walk(tree)
                if isinstance(n, ast.ImportFrom)}
    if rel != "pipguard/runner.py" and modules & {"subprocess", "multiprocessing", "pty"}:
        out.append(f"{rel}: imports {sorted(modules & {'subprocess', 'multiprocessing', 'pty'})}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            # pipargs.py only knows the option's name, to hand the user's own value to pip.
            if "trusted-host" in node.value and rel not in ("pipguard/pipargs.py",
                                                            "pipguard/pipoptions.py"):
                out.append(f"{rel}:{node.lineno}: adds --trusted-host")
            if "PYTHONHTTPSVERIFY" in node.value:
                out.append(f"{rel}:{node.lineno}: PYTHONHTTPSVERIFY")
        if isinstance(node, ast.Attribute) and node.attr in ("CERT_NONE",
                                                               "_create_unverified_context"):
            out.append(f"{rel}:{node.lineno}: {node.attr}")
    return out


# The audited exceptions. pip's own trusted-host option names hosts whose certificates
# pip does not verify; pipguard reads the user's setting from pip (pipconfig.py) and
# applies it to exactly those hosts (transport.py, tests/test_network.py checks the
# matching); uvcommand.py translates the user's own --trusted-host to uv's spelling
# (--allow-insecure-host); it never adds a trusted host of its own.
ALLOWED = {
    "pipguard/pipconfig.py": ("adds --trusted-host",),
    "pipguard/transport.py": ("adds --trusted-host", "CERT_NONE"),
    "pipguard/uvcommand.py": ("adds --trusted-host",),
}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_source_keeps_the_static_guarantees(path: Path) -> None:
    rel = path.relative_to(REPO).as_posix()
    found = violations(path.read_text(encoding="utf-8"), rel)
    assert [v for v in found if not v.endswith(ALLOWED.get(rel, ()))] == []


def test_static_scan_catches_each_kind_of_violation() -> None:
    """The scanner itself can fail: a module that breaks every rule once."""
    bad = ("import subprocess\nimport ssl\nsubprocess.run('x', shell=True)\neval(page)\n"
           "os.system('ls')\nrequests.get(u, verify=False)\nssl._create_unverified_context()\n"
           "args = ['--trusted-host', host]\nexec(body)\n__import__(name)\n")
    found = violations(bad, "pipguard/x.py")
    for what in ("shell=", "eval()", "os.system()", "verify=False", "_create_unverified_context",
                 "trusted-host", "exec()", "imports", "computed name"):
        assert any(what in v for v in found), (what, found)
    assert violations("import subprocess\n", "pipguard/runner.py") == []
