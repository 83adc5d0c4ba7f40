"""``pipguard install`` end to end: the real pip, fresh virtual environments, the imitation index.

Every test runs pipguard as a user would (``python -m pipguard --python VENV ...``) against
``index_server`` and checks what pip installed (``pip list``), where the files came from (the
server's request log) and what pipguard said. pip runs with no configuration
(``PIP_CONFIG_FILE=os.devnull``), no inherited ``PIP_*`` variables and a pip cache per test.
Fresh environments are copies of one made by ``python -m venv`` (making each anew costs ~8 s).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO, clean_env

pytestmark = pytest.mark.integration

LOCALPROJ = REPO / "tests" / "fixtures" / "localproj"
RTX5090 = ("--cuda-driver", "570.86.10", "--gpu-arch", "sm_120")
PIP_VERSIONS = ("23.0.1", "26.3")  # the oldest pip pipguard supports, and the newest


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pip_wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """pip 23.0.1 and 26.3 from the real PyPI, once per session (skip when unreachable)."""
    dest = tmp_path_factory.mktemp("pip-wheels")
    env = clean_env()
    for version in PIP_VERSIONS:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "-d", str(dest), f"pip=={version}", "--index-url", "https://pypi.org/simple",
             "--timeout", "30", "--retries", "1"],
            env=env, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            pytest.skip(f"cannot download pip {version} from PyPI: {done.stderr[-300:]}")
    wheels = {v: dest / f"pip-{v}-py3-none-any.whl" for v in PIP_VERSIONS}
    assert all(w.is_file() for w in wheels.values())
    return wheels


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """No GPU visible, private caches, pip without configuration."""
    (tmp_path / "root").mkdir()
    e = clean_env({"PIPGUARD_CACHE_DIR": str(tmp_path / "pg-cache"),
                   "PIPGUARD_SYSROOT": str(tmp_path / "root"),
                   "PIP_CACHE_DIR": str(tmp_path / "pip-cache")})
    # pipguard is importable from the repository (cwd); the venv's pip must not see it.
    e.pop("PYTHONPATH", None)
    return e


# -- helpers ----------------------------------------------------------------------------------


class Run:
    def __init__(self, done: subprocess.CompletedProcess[str]) -> None:
        self.rc = done.returncode
        self.out = done.stdout
        self.err = done.stderr

    def __repr__(self) -> str:  # shown by pytest when an assertion fails
        return f"rc={self.rc}\n--- stdout\n{self.out[-4000:]}\n--- stderr\n{self.err[-4000:]}"


def pipguard(venv: Path, env: Mapping[str, str], *args: str, server: Any = None) -> Run:
    extra = ("--torch-index-url", server.torch_url) if server is not None else ()
    done = subprocess.run(
        [sys.executable, "-m", "pipguard", "--python", str(venv / "bin" / "python"), *args,
         *extra], capture_output=True, text=True, env=dict(env), cwd=REPO, timeout=300,
        check=False)
    return Run(done)


def pip_list(venv: Path, env: Mapping[str, str]) -> dict[str, str]:
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
                          capture_output=True, text=True, env=dict(env), check=True)
    return {d["name"].lower(): d["version"] for d in json.loads(done.stdout)}


def direct_urls(venv: Path, env: Mapping[str, str]) -> dict[str, str]:
    """Where each installed distribution came from (PEP 610), from ``pip inspect``."""
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "inspect"],
                          capture_output=True, text=True, env=dict(env), check=True)
    return {d["metadata"]["name"].lower(): d["direct_url"]["url"]
            for d in json.loads(done.stdout)["installed"] if d.get("direct_url")}


def wheel_gets(server: Any, glob: str = "/whl/*.whl") -> list[str]:
    """Wheel files fetched (GET, answered 200), as decoded paths."""
    return [r.path for r in server.requests_for(glob) if r.method == "GET" and r.status == 200]


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


@pytest.fixture
def pypi_only(tmp_path: Path) -> str:
    """An empty index as --index-url, so --extra-index-url tests never reach the real PyPI."""
    empty = tmp_path / "empty-index"
    empty.mkdir()
    (empty / "index.html").write_text("<!DOCTYPE html><html><body></body></html>\n")
    return empty.as_uri()


# -- the main job -----------------------------------------------------------------------------


def test_rtx5090_gets_cu128_builds_verify_rerun_and_uninstall(
        venv: Path, env: dict[str, str], index_server: Any) -> None:
    r = pipguard(venv, env, "install", "torch", "torchvision", *RTX5090,
                 "--index-url", index_server.pypi_url, server=index_server)
    assert r.rc == 0, r
    got = pip_list(venv, env)
    assert got["torch"] == "2.11.0+cu128" and got["torchvision"] == "0.26.0+cu128"
    fetched = wheel_gets(index_server)
    assert any(p.startswith("/whl/cu128/torch-2.11.0+cu128-") for p in fetched), fetched
    assert any(p.startswith("/whl/cu128/torchvision-0.26.0+cu128-") for p in fetched), fetched
    # Nothing of the family came from the (fake) PyPI, which offers torch 99.0.0.
    assert not [p for p in wheel_gets(index_server, "/pypi/*.whl") if "torch" in p]
    assert "pipguard: verified torch 2.11.0+cu128" in r.err

    v = pipguard(venv, env, "verify")
    assert v.rc == 0, v
    assert "torch 2.11.0+cu128: ok" in v.out

    # The same install again: a no-op that fetches no torch-family wheel.
    index_server.clear_requests()
    again = pipguard(venv, env, "install", "-v", "torch", "torchvision", *RTX5090,
                     "--index-url", index_server.pypi_url, server=index_server)
    assert again.rc == 0, again
    assert wheel_gets(index_server) == []
    assert "torch===2.11.0+cu128" in again.err  # pinned by exact version, not by file (-v)
    assert pip_list(venv, env) == got

    # A changed file of torch: verify fails (exit 1) and names it.
    changed = site_packages(venv) / "torch" / "__init__.py"
    changed.write_text(changed.read_text() + "\n# tampered\n")
    bad = pipguard(venv, env, "verify", "torch")
    assert bad.rc == 1, bad
    assert "torch/__init__.py" in bad.out and "FAILED" in bad.out

    # Uninstall passes through to pip.
    u = pipguard(venv, env, "uninstall", "-y", "torch")
    assert u.rc == 0, u
    assert "Successfully uninstalled torch-2.11.0+cu128" in u.out
    assert "torch" not in pip_list(venv, env)


def test_quiet_install_says_nothing_of_its_own_and_verbose_shows_the_pip_command(
        venv: Path, env: dict[str, str], index_server: Any) -> None:
    args = ("install", "torch", "--torch-backend", "cpu", "--index-url", index_server.pypi_url)
    quiet = pipguard(venv, env, "-q", *args, server=index_server)
    assert quiet.rc == 0, quiet
    assert "pipguard:" not in quiet.err and "pipguard:" not in quiet.out
    assert "Successfully installed" not in quiet.out  # pip got its -q too
    assert pip_list(venv, env)["torch"] == "2.15.0+cpu"

    plain = pipguard(venv, env, *args, "--force-reinstall", server=index_server)
    assert plain.rc == 0, plain
    ours = [line for line in plain.err.splitlines() if line.startswith("pipguard:")]
    assert ours[0].startswith("pipguard: torch 2.15.0+cpu for no GPU — from ")
    assert ours[-1].startswith("pipguard: verified torch 2.15.0+cpu: ")
    assert "present at their RECORD sizes" in ours[-1]  # quick: pip checked the archive
    assert not any("-m pip install" in line for line in ours)  # the command only with -v
    loud = pipguard(venv, env, "-v", *args, "--force-reinstall", server=index_server)
    assert "pipguard: running: " in loud.err and " -v " in loud.err  # pip got -v too


def test_install_repairs_a_changed_file(venv: Path, env: dict[str, str],
                                        index_server: Any) -> None:
    args = ("install", "torch", "--torch-backend", "cpu", "--index-url", index_server.pypi_url)
    assert pipguard(venv, env, *args, server=index_server).rc == 0
    changed = site_packages(venv) / "torch" / "__init__.py"
    original = changed.read_bytes()
    changed.write_bytes(original + b"\n# tampered\n")
    r = pipguard(venv, env, *args, server=index_server)
    assert r.rc == 0, r
    assert "repairing torch" in r.err
    assert changed.read_bytes() == original
    assert pipguard(venv, env, "verify").rc == 0


@pytest.mark.slow
@pytest.mark.parametrize("pip_version", PIP_VERSIONS)
def test_core_install_with_oldest_and_newest_pip(venv: Path, env: dict[str, str],
                                                 index_server: Any, pip_wheels: dict[str, Path],
                                                 pip_version: str) -> None:
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                    str(pip_wheels[pip_version])], env=env, check=True, capture_output=True)
    assert pip_list(venv, env)["pip"] == pip_version
    r = pipguard(venv, env, "install", "torch", "torchvision", *RTX5090,
                 "--index-url", index_server.pypi_url, server=index_server)
    assert r.rc == 0, r
    got = pip_list(venv, env)
    assert got["torch"] == "2.11.0+cu128" and got["torchvision"] == "0.26.0+cu128"
    assert pipguard(venv, env, "verify").rc == 0
    if pip_version == "26.3":  # `pip lock` exists from pip 25.1
        lock = venv.parent / "pylock.toml"
        lk = pipguard(venv, env, "lock", "torch", *RTX5090, "-o", str(lock),
                      "--index-url", index_server.pypi_url, server=index_server)
        assert lk.rc == 0, lk
        text = lock.read_text()
        assert "/whl/cu128/torch-2.11.0%2Bcu128-" in text
        assert "99.0.0" not in text


# -- what pulls torch in ----------------------------------------------------------------------


def test_requirements_file_companion_pin_brings_its_torch(venv: Path, env: dict[str, str],
                                                          index_server: Any,
                                                          tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("torchvision==0.20.1\n")
    r = pipguard(venv, env, "install", "-r", str(req), "--index-url", index_server.pypi_url,
                 server=index_server)
    assert r.rc == 0, r
    got = pip_list(venv, env)
    assert got["torchvision"] == "0.20.1+cpu" and got["torch"] == "2.5.1+cpu"

    # --upgrade passes through: the newest fitting build replaces both.
    up = pipguard(venv, env, "install", "-v", "--upgrade", "torch", "torchvision",
                  "--index-url", index_server.pypi_url, server=index_server)
    assert up.rc == 0, up
    assert "--upgrade" in up.err  # in the command pipguard ran (-v shows it)
    got = pip_list(venv, env)
    assert got["torch"] == "2.15.0+cpu" and got["torchvision"].endswith("+cpu")
    assert got["torchvision"] != "0.20.1+cpu"


def test_positional_pin_the_users_index_lacks(venv: Path, env: dict[str, str],
                                              index_server: Any) -> None:
    # The fake PyPI has no torch 2.5.1: pip must take it from the pinned file.
    r = pipguard(venv, env, "install", "torch==2.5.1", "--index-url", index_server.pypi_url,
                 server=index_server)
    assert r.rc == 0, r
    assert pip_list(venv, env)["torch"] == "2.5.1+cpu"

    # --force-reinstall passes through: pip fetches the file again.
    index_server.clear_requests()
    f = pipguard(venv, env, "install", "-v", "--force-reinstall", "--no-deps", "torch==2.5.1",
                 "--index-url", index_server.pypi_url, server=index_server)
    assert f.rc == 0, f
    assert "Successfully installed torch-2.5.1+cpu" in f.out
    assert "torch @ " in f.err  # the file, not the installed version (-v shows it)


def test_local_project_gets_the_torch_index_build_over_a_newer_pypi_torch(
        venv: Path, env: dict[str, str], index_server: Any) -> None:
    r = pipguard(venv, env, "install", str(LOCALPROJ), "--index-url", index_server.pypi_url,
                 server=index_server)
    assert r.rc == 0, r
    got = pip_list(venv, env)
    assert got["myproj"] == "0.1.0"
    assert got["torch"] == "2.15.0+cpu"  # not PyPI's 99.0.0
    assert direct_urls(venv, env)["torch"].startswith(
        index_server.torch_url + "/cpu/torch-2.15.0%2Bcpu-")


def test_extras_and_markers_with_extra_index_url(venv: Path, env: dict[str, str],
                                                 index_server: Any, pypi_only: str) -> None:
    r = pipguard(venv, env, "install", f"{LOCALPROJ}[vision]",
                 "torchaudio; sys_platform == 'win32'", "pillow; python_version >= '3'",
                 "--index-url", pypi_only, "--extra-index-url", index_server.pypi_url,
                 server=index_server)
    assert r.rc == 0, r
    got = pip_list(venv, env)
    assert got["torch"] == "2.15.0+cpu"
    assert got["torchvision"].endswith("+cpu")
    assert "torchaudio" not in got and "pillow" in got
    # (pip < 24 fetches PyPI's torch 99.0.0 whole during the discovery dry run; what it
    # installs is what counts.)
    urls = direct_urls(venv, env)
    assert urls["torch"].startswith(index_server.torch_url + "/cpu/torch-2.15.0%2Bcpu-")
    assert urls["torchvision"].startswith(index_server.torch_url + "/cpu/torchvision-")


# -- modes ------------------------------------------------------------------------------------


def test_dry_run_prints_plan_and_command_installs_nothing(
        venv: Path, env: dict[str, str], index_server: Any) -> None:
    r = pipguard(venv, env, "install", "--dry-run", "torch", "torchvision", *RTX5090,
                 "--index-url", index_server.pypi_url, server=index_server)
    assert r.rc == 0, r
    assert "torch 2.11.0+cu128" in r.out
    command = r.out.strip().splitlines()[-1]
    assert command.startswith(str(venv / "bin" / "python") + " -m pip install ")
    assert "/whl/cu128/torch-2.11.0%2Bcu128-" in command and "#sha256=" in command
    assert "--dry-run" not in command
    assert "torch" not in pip_list(venv, env)
    assert wheel_gets(index_server) == []


def test_download_and_wheel_take_the_torch_index_files(
        venv: Path, env: dict[str, str], index_server: Any, tmp_path: Path) -> None:
    for command, flag in (("download", "-d"), ("wheel", "-w")):
        dest = tmp_path / command
        r = pipguard(venv, env, command, "torch", "torchvision", *RTX5090, flag, str(dest),
                     "--index-url", index_server.pypi_url, server=index_server)
        assert r.rc == 0, (command, r)
        names = sorted(p.name for p in dest.iterdir())
        assert "torch-2.11.0+cu128-cp311-cp311-manylinux_2_28_x86_64.whl" in names, names
        assert any(n.startswith("torchvision-0.26.0+cu128-") for n in names), names
        assert not any("99.0.0" in n for n in names)
    assert "torch" not in pip_list(venv, env)


def test_target_dir(venv: Path, env: dict[str, str], index_server: Any, tmp_path: Path) -> None:
    target = tmp_path / "target"
    r = pipguard(venv, env, "install", "torch==2.5.1", "--target", str(target),
                 "--index-url", index_server.pypi_url, server=index_server)
    assert r.rc == 0, r
    assert (target / "torch-2.5.1+cpu.dist-info").is_dir()
    assert "torch" not in pip_list(venv, env)


# -- failures ---------------------------------------------------------------------------------


def test_failed_resolution_shows_pips_words_a_diagnosis_and_stops_closed(
        venv: Path, env: dict[str, str], index_server: Any) -> None:
    # pip fails while resolving the command for the guard: its own words, the diagnosis,
    # and the guard's exit code; nothing is installed.
    r = pipguard(venv, env, "install", "torch", "no-such-package-pipguard",
                 "--index-url", index_server.pypi_url, server=index_server)
    assert r.rc == 6, r
    pip_error = r.err.index("No matching distribution found for no-such-package-pipguard")
    diagnosis = r.err.index("pipguard: diagnosis [")
    assert pip_error < diagnosis
    assert "torch" not in pip_list(venv, env)


def test_corrupt_download_is_retried_once_without_the_cache(
        venv: Path, env: dict[str, str], index_server: Any) -> None:
    index_server.faults.corrupt("/whl/cpu/torch-2.15.0+cpu-*.whl", count=1)
    r = pipguard(venv, env, "install", "torch", "--index-url", index_server.pypi_url,
                 server=index_server)
    assert r.rc == 0, r
    assert "retrying once" in r.err
    # A closed command resolves once: the install fetched it (corrupt), then once more
    # without pip's cache.
    assert len(wheel_gets(index_server, "/whl/cpu/torch-2.15.0+cpu-*.whl")) == 2
    assert pip_list(venv, env)["torch"] == "2.15.0+cpu"


def test_corrupt_twice_is_exit_4_and_installs_nothing(
        venv: Path, env: dict[str, str], index_server: Any) -> None:
    index_server.faults.corrupt("/whl/cpu/torch-2.15.0+cpu-*.whl")
    r = pipguard(venv, env, "install", "torch", "--index-url", index_server.pypi_url,
                 server=index_server)
    assert r.rc == 4, r
    assert "torch-2.15.0+cpu-" in r.err and "error: " in r.err
    assert "torch" not in pip_list(venv, env)
