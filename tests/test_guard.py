"""The guard under attack: every way of writing a command that pip reads one way and a hand
parser another (issue 10). Each shape points pip at an index that serves look-alikes
(torch 99.0.0 on the imitation PyPI); the torch family that lands is the planned files, or
pipguard stops with a non-zero exit and the environment is byte-identical.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from scripts.serve_index import IndexServer
from tests.test_reliability import (
    GPU,
    LOOKALIKE,
    VARIANT,
    Box,
    figure,
    make_box,
    torch_args,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

Shape = Callable[[Box, IndexServer], list[str]]


def _write(box: Box, rel: str, text: str) -> Path:
    path = box.tmp / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _nested(box: Box, server: IndexServer, first_line: str, nested: str = "nested.txt") -> Path:
    """A requirements file whose only line pulls ``nested`` in, which names torch from the
    look-alike index."""
    _write(box, nested, f"--extra-index-url {server.pypi_url}\ntorch\ntorchvision\n")
    return _write(box, "top.txt", first_line.format(nested=nested, pypi=server.pypi_url) + "\n")


SHAPES: dict[str, Shape] = {
    "quoted-nested-path": lambda b, s: [
        "-r", str(_nested(b, s, '-r "{nested}"', nested="dir with space/reqs.txt"))],
    "pre-then-nested": lambda b, s: ["-r", str(_nested(b, s, "--pre -r {nested}"))],
    "index-url-then-nested": lambda b, s: [
        "-r", str(_nested(b, s, "--index-url {pypi} -r {nested}"))],
    "stacked-qr": lambda b, s: ["--no-deps", "-qr", str(_nested(b, s, "-r {nested}"))],
    "stacked-Ur": lambda b, s: ["-Ur", str(_nested(b, s, "-r {nested}"))],
    "abbreviated-requirem": lambda b, s: ["--requirem", str(_nested(b, s, "-r {nested}"))],
}


@pytest.fixture
def box(template_venv: Path, tmp_path: Path, index_server: IndexServer) -> Box:
    return make_box(template_venv, tmp_path, extra={"PIP_INDEX_URL": index_server.pypi_url})


def _family(box: Box) -> dict[str, tuple[str, str]]:
    """Installed family: name -> (version, where it came from)."""
    return {name: (item["metadata"]["version"], (item.get("direct_url") or {}).get("url", ""))
            for name, item in box.installed().items()
            if name in ("torch", "torchvision", "triton", "torchaudio")}


def _planned_or_nothing(box: Box, server: IndexServer, before: dict[str, int], rc: int,
                        shape: str) -> None:
    fam = _family(box)
    if rc != 0:
        assert box.site_listing() == before, f"{shape}: exit {rc} but the environment changed"
        figure(f"guard {shape}: stopped with exit {rc}, environment byte-identical")
        return
    assert fam, f"{shape}: exit 0 but no torch installed"
    for name, (version, url) in fam.items():
        assert version != LOOKALIKE, f"{shape}: the look-alike {name} {version} was installed"
        assert url.startswith(f"{server.torch_url}/"), f"{shape}: {name} from {url!r}"
    figure(f"guard {shape}: installed {sorted(v for v, _ in fam.values())} from the torch index")


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_shape_installs_the_planned_files_or_nothing(
        box: Box, index_server: IndexServer, shape: str) -> None:
    args = SHAPES[shape](box, index_server)
    before = box.site_listing()
    done = box.pipguard("install", *args, *GPU, *torch_args(index_server))
    assert "Traceback" not in done.stderr, done.stderr
    _planned_or_nothing(box, index_server, before, done.returncode, shape)


def test_requirements_only_through_pips_environment(
        box: Box, index_server: IndexServer) -> None:
    nested = _nested(box, index_server, "-r {nested}")
    box.env["PIP_REQUIREMENT"] = str(nested)
    before = box.site_listing()
    done = box.pipguard("install", *GPU, *torch_args(index_server))
    assert "Traceback" not in done.stderr, done.stderr
    _planned_or_nothing(box, index_server, before, done.returncode, "PIP_REQUIREMENT")
    assert done.returncode == 0, done.stderr


def test_no_deps_torchvision_does_not_pull_torch(box: Box, index_server: IndexServer) -> None:
    done = box.pipguard("install", "--no-deps", "torchvision", *GPU, *torch_args(index_server))
    assert done.returncode == 0, done.stderr
    fam = _family(box)
    assert set(fam) == {"torchvision"}, fam
    version, url = fam["torchvision"]
    assert version.endswith(f"+{VARIANT}") and url.startswith(index_server.torch_url)


def test_no_deps_lookalike_from_the_users_index_is_not_installed(
        box: Box, index_server: IndexServer) -> None:
    before = box.site_listing()
    done = box.pipguard("install", "--no-deps", "--index-url", index_server.pypi_url, "torch",
                        *GPU, *torch_args(index_server))
    _planned_or_nothing(box, index_server, before, done.returncode, "no-deps")


def test_a_failing_resolution_stops_closed(box: Box, index_server: IndexServer) -> None:
    """pip cannot resolve the command (the index answers 404 for a page): no continuing."""
    index_server.faults.fail("/pypi/simple/filelock/*", status=404)
    before = box.site_listing()
    done = box.pipguard("install", "torch", *GPU, *torch_args(index_server))
    assert done.returncode != 0, done.stdout + done.stderr
    assert "error: " in done.stderr and "Traceback" not in done.stderr
    assert box.site_listing() == before
    figure(f"guard 404 during resolution: exit {done.returncode}, environment byte-identical")


def test_download_with_a_platform_pip_refuses_to_resolve_stops_closed(
        box: Box, index_server: IndexServer, tmp_path: Path) -> None:
    dest = tmp_path / "dl"
    # pip refuses `install --dry-run --platform` without --only-binary: the check fails.
    done = box.pipguard("download", "torch", "--platform", "manylinux_2_28_x86_64", "-d",
                        str(dest), *GPU, *torch_args(index_server))
    assert done.returncode != 0
    assert not dest.exists() or not any(dest.iterdir())
    assert "Traceback" not in done.stderr


def test_a_lookalike_at_the_planned_version_is_replaced(
        box: Box, index_server: IndexServer, tmp_path: Path) -> None:
    """Install the planned torch, then swap in a copy with the same version from elsewhere
    (no PEP 610 record of the planned file): the next install replaces it."""
    done = box.pipguard("install", "torch", *GPU, *torch_args(index_server))
    assert done.returncode == 0, done.stderr
    planned_version, url = _family(box)["torch"]
    wheel = tmp_path / "wheels"
    assert box.pip("download", "--no-deps", "-d", str(wheel), f"torch @ {url}").returncode == 0
    # Reinstall the very same file from a local folder: same version, no planned URL recorded.
    [whl] = list(wheel.glob("*.whl"))
    local = tmp_path / whl.name
    shutil.copy(whl, local)
    assert box.pip("install", "--no-deps", "--force-reinstall", str(local)).returncode == 0
    assert _family(box)["torch"][1].startswith("file:")
    # verify and doctor name it: not the file pipguard installed (same version).
    verify = box.pipguard("verify")
    assert verify.returncode == 1 and "not the file pipguard installed" in verify.stdout
    doctor = box.pipguard("doctor", "--json", *GPU)
    assert doctor.returncode == 1 and "not the file pipguard installed" in doctor.stdout
    again = box.pipguard("install", "torch", *GPU, *torch_args(index_server))
    assert again.returncode == 0, again.stderr
    assert "not the planned file" in again.stderr
    version, source = _family(box)["torch"]
    assert version == planned_version and source.startswith(index_server.torch_url)


def test_a_local_project_needing_torch_gets_the_planned_build_over_pypis(
        box: Box, index_server: IndexServer, tmp_path: Path) -> None:
    """PyPI's torch pins a triton the variant lacks: that edge is the planner's, not PyPI's."""
    proj = tmp_path / "proj"  # depends on torch>=2.5; built with no download
    shutil.copytree(Path(__file__).parent / "fixtures" / "localproj", proj)
    done = box.pipguard("install", str(proj), "--extra-index-url", index_server.pypi_url,
                        *GPU, *torch_args(index_server))
    assert done.returncode == 0, done.stderr
    version, url = _family(box)["torch"]
    assert version.endswith(f"+{VARIANT}") and url.startswith(index_server.torch_url)


def test_ctrl_c_while_downloading_ends_everything_within_two_seconds(
        box: Box, index_server: IndexServer) -> None:
    """SIGINT to the terminal's process group (pipguard and the pip it runs) while pip waits
    on a wheel: pipguard exits 130 within 2 s and no process of the group is left."""
    import os
    import signal
    import subprocess
    import time

    index_server.faults.hang("/whl/cu126/torch-*.whl", seconds=60)
    # A terminal's Ctrl-C: SIGINT at its default, whatever this test runner inherited (a
    # shell starts a background job with SIGINT ignored, and children inherit that).
    proc = subprocess.Popen(box.pipguard_argv("install", "torch", *GPU,
                                              *torch_args(index_server)),
                            env=box.env, cwd=box.tmp, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not index_server.requests_for("/whl/cu126/torch-*.whl"):
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "pip never asked for the torch wheel"
        time.sleep(0.05)
    started = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    try:  # (reading stderr while waiting: a full pipe must not hold pipguard up)
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # leave no process behind, then fail
        _, err = proc.communicate()
        message = f"pipguard still running 10 s after SIGINT; stderr: {err[-2000:]}"
        raise AssertionError(message) from None
    took = time.monotonic() - started
    assert proc.returncode == 130, err
    assert took <= 2.0, took
    while True:  # the group (pip included) must be gone within the same 2 s
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        assert time.monotonic() - started <= 2.0, "a process of pipguard's group outlived it"
        time.sleep(0.02)
    took = time.monotonic() - started
    figure(f"guard Ctrl-C while downloading: exit 130 in {took:.2f} s, no process left")
