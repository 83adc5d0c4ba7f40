"""``pipguard install --installer uv``: the option, the ``uv pip install`` line at the runner
seam, the options refused, and one real install with uv from the imitation index."""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest

from pipguard import runner, uvbin
from pipguard.commands import install as install_cmd
from pipguard.commands.planning import Guarded
from pipguard.errors import GuardError, UsageError
from pipguard.options import settings
from pipguard.pipargs import parse
from pipguard.pipcommand import strict_constraints
from pipguard.plan import Plan, PlannedPackage
from pipguard.uvcommand import check, install_argv
from scripts.serve_index import IndexServer
from tests.helpers import write_installed
from tests.test_reliability import GPU, Box, make_box, torch_args

UV = "/opt/uv/bin/uv"
PY = "/venv/bin/python"
TORCH = PlannedPackage("torch", "2.15.0+cu130", "https://x/whl/cu130/torch-2.15.0%2Bcu130-cp312"
                       "-cp312-manylinux_2_28_x86_64.whl", "ab" * 32, "torch-2.15.0+cu130-….whl")
PLAN = Plan("cu130", (TORCH,), index_url="https://x/whl/cu130")
PIN = f"torch @ {TORCH.url}#sha256={'ab' * 32}"
HEAD = [UV, "pip", "install", "--python", PY, "--index-strategy", "unsafe-best-match"]


# -- the option and its variable ----------------------------------------------------------------


@pytest.mark.parametrize(("argv", "environ", "want"), [
    (["install", "torch"], {}, "pip"),
    (["install", "torch", "--installer", "uv"], {}, "uv"),
    (["install", "torch", "--installer=AUTO"], {}, "auto"),
    (["install", "torch"], {"PIPGUARD_INSTALLER": "uv"}, "uv"),
    (["install", "torch", "--installer", "pip"], {"PIPGUARD_INSTALLER": "uv"}, "pip"),
    (["install", "torch"], {"PIPGUARD_INSTALLER": ""}, "pip"),
    (["download", "torch"], {"PIPGUARD_INSTALLER": "uv"}, "pip"),  # uv has no download
])
def test_installer_flag_over_variable_over_default(argv: list[str], environ: dict[str, str],
                                                   want: str) -> None:
    assert settings(parse(argv), environ).installer == want


@pytest.mark.parametrize(("argv", "environ", "words"), [
    (["install", "torch", "--installer", "poetry"], {}, "unknown installer 'poetry'"),
    (["install", "torch"], {"PIPGUARD_INSTALLER": "conda"}, "PIPGUARD_INSTALLER"),
    (["download", "torch", "--installer", "uv"], {}, "option of pipguard install"),
])
def test_a_bad_installer_is_a_usage_error(argv: list[str], environ: dict[str, str],
                                          words: str) -> None:
    with pytest.raises(UsageError, match=words):
        settings(parse(argv), environ)


def test_pip_variables_uv_does_not_read_are_named_only_for_uv() -> None:
    env = {"PIP_INDEX_URL": "https://company/simple", "PIP_CACHE_DIR": "/c"}
    assert settings(parse(["install", "x", "--installer", "uv"]), env).pip_only_vars == (
        "PIP_INDEX_URL",)
    assert settings(parse(["install", "x"]), env).pip_only_vars == ()


def test_uv_named_but_missing_is_a_usage_error_and_auto_falls_back_to_pip(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uvbin, "find_uv", lambda path: None)
    with pytest.raises(UsageError, match="uv was not found"):
        uvbin.choose("uv", "/usr/bin")
    assert uvbin.choose("auto", "/usr/bin") is None
    assert uvbin.choose("pip", "/usr/bin") is None
    monkeypatch.setattr(uvbin, "find_uv", lambda path: UV)
    assert uvbin.choose("auto", "/usr/bin") == UV


def test_uv_on_path_is_found_when_the_extra_is_not(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_uv(name: str, *args: Any, **kw: Any) -> Any:
        if name == "uv":
            raise ImportError(name)
        return real_import(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", no_uv)
    exe = tmp_path / "uv"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    assert uvbin.find_uv(f"/nonexistent:{tmp_path}") == str(exe)
    assert uvbin.find_uv("/nonexistent") is None


# -- the uv argv ----------------------------------------------------------------------------


def test_pins_then_constraints_then_the_users_words_translated() -> None:
    cl = parse(["--cache-dir", "/c", "-q", "install", "--requirement", "r.txt", "-U", "-fx/wheels",
                "--force-reinstall", "--pre", "--no-deps", "--no-cache-dir", "--compile",
                "-i", "https://i/simple", "--extra-index-url=https://e/simple",
                "--no-warn-script-location", "-C", "k=v", "-vv", "torch>=2.5", "--dry-run"])
    check(cl)
    assert install_argv(cl, UV, PY, [PIN], "/tmp/guard.txt") == [
        *HEAD, PIN, "-c", "/tmp/guard.txt", "--cache-dir", "/c", "-q",
        "-r", "r.txt", "--upgrade", "--find-links", "x/wheels", "--reinstall",
        "--prerelease", "allow", "--no-deps",
        "--no-cache", "--compile-bytecode", "--index-url", "https://i/simple",
        "--extra-index-url", "https://e/simple", "-C", "k=v", "-v", "-v", "torch>=2.5"]


def test_the_target_python_is_passed_never_pips_own_python_option() -> None:
    cl = parse(["--python", "/elsewhere/python", "install", "torch"])
    check(cl)
    assert install_argv(cl, UV, PY, []) == [*HEAD, "torch"]


def test_abbreviations_pip_would_accept_are_written_out() -> None:
    cl = parse(["install", "--no-dependencies", "--force-rein", "torch"])
    check(cl)
    assert install_argv(cl, UV, PY, [])[len(HEAD):] == ["--no-deps", "--reinstall", "torch"]


@pytest.mark.parametrize(("argv", "named"), [
    (["install", "--user", "torch"], "--user"),
    (["install", "--root", "/r", "torch"], "--root"),
    (["install", "-I", "torch"], "-I"),
    (["install", "--ignore-installed", "torch"], "--ignore-installed"),
    (["install", "--report", "r.json", "torch"], "--report"),
    (["install", "--upgrade-strategy", "eager", "torch"], "--upgrade-strategy"),
    (["install", "--platform", "manylinux_2_28_x86_64", "torch"], "--platform"),
    (["install", "--prefer-binary", "torch"], "--prefer-binary"),
    (["--proxy", "http://p:3128", "install", "torch"], "--proxy"),
    (["--cert", "/ca.pem", "install", "torch"], "--cert"),
    (["install", "--timeout", "5", "torch"], "--timeout"),
    (["install", "--requirem", "r.txt"], "--requirem"),  # ambiguous for pip 26 too
    (["install", "-Ur", "r.txt"], "-Ur"),
    (["install", "-qr", "r.txt"], "-qr"),
])
def test_options_uv_cannot_take_are_refused_by_name(argv: list[str], named: str) -> None:
    with pytest.raises(UsageError) as err:
        check(parse(argv))
    assert named in str(err.value)


def test_guard_constraints_also_hold_installed_unplanned_names_where_they_are() -> None:
    family = frozenset({"torch", "torchvision", "torchaudio", "triton"})
    assert strict_constraints(family, PLAN, {"torchaudio": "2.5.1+cu124"}) == [
        "torchaudio==2.5.1+cu124", "torchvision<0", "triton<0"]


# -- run_install at the runner seam ------------------------------------------------------------


class FakeRunner:
    """Records and answers the uv call, which installs ``after`` into :attr:`site`."""

    def __init__(self, uv_rc: int = 0, after: Sequence[dict[str, Any]] = (),
                 site: Path | None = None) -> None:
        self.site = site or Path(os.devnull)  # no `after`: never written
        self.uv_rc = uv_rc
        self.after = list(after)
        self.calls: list[list[str]] = []
        self.constraints = ""
        self.uv_ran = False

    def __call__(self, argv: Sequence[str], **_: object) -> runner.Completed:
        argv = list(argv)
        self.calls.append(argv)
        if argv[0] == UV:
            self.uv_ran = True
            for entry in self.after:  # what uv installed
                write_installed(self.site, entry)
            self.constraints = Path(argv[argv.index("-c") + 1]).read_text(encoding="utf-8")
            return runner.Completed(tuple(argv), self.uv_rc, "", "")
        raise AssertionError(f"unexpected process {argv}")


def _session(tmp_path: Path, argv: list[str]) -> Any:
    from pipguard.hardware import Hardware
    from pipguard.knowledge_tables import load_knowledge
    from pipguard.session import Session
    from pipguard.target import Interpreter

    interp = Interpreter(PY, (3, 12, 0), "cpython", "linux", "x86_64", False, "25.0",
                         str(tmp_path), (), path=(str(tmp_path / "site"),))
    cl = parse(argv)
    env = {"PATH": "/usr/bin", "PIP_CONFIG_FILE": os.devnull}
    return Session(cl, settings(cl, env), interp, Hardware(), load_knowledge())


@pytest.fixture
def seam(monkeypatch: pytest.MonkeyPatch) -> None:
    """uv is found; the guard (pip's audited dry-run, tested in test_guard) agrees with PLAN."""
    monkeypatch.setattr(uvbin, "find_uv", lambda path: UV)
    monkeypatch.setattr(install_cmd, "guard",
                        lambda s, tmp, installed: Guarded(PLAN, (PIN,), {}))


def _dist(name: str, version: str, url: str | None = None) -> dict[str, Any]:
    return {"metadata": {"name": name, "version": version}, "installer": "uv",
            "direct_url": {"url": url, "archive_info": {}} if url else None}


def test_install_runs_uv_with_the_pins_and_the_guard_constraints(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seam: None) -> None:
    fake = FakeRunner(uv_rc=0, after=[_dist("torch", TORCH.version, TORCH.url)],
                      site=tmp_path / "site")
    monkeypatch.setattr(runner, "RUNNER", fake)
    s = _session(tmp_path, ["install", "torch", "--installer", "uv", "-q"])
    monkeypatch.setattr("pipguard.commands.install.verify_many",
                        lambda dists, **_: [_ok(d.name) for d in dists])
    # uv installs from its own cache, unchecked: the planned files are hashed after it.
    monkeypatch.setattr("pipguard.commands.install.verify_remembering",
                        lambda dists, *_, **__: [_ok(d.name) for d in dists])
    rc, _ = install_cmd.run_install(s)
    assert rc == 0
    [uv_call] = [c for c in fake.calls if c[0] == UV]
    assert uv_call[:len(HEAD) + 2] == [*HEAD, PIN, "-c"]
    assert uv_call[len(HEAD) + 3:] == ["torch", "-q"]
    assert "--report" not in uv_call  # uv writes none: the family is inspected instead
    assert "torchvision<0" in fake.constraints.splitlines()
    assert not any(c[0] != UV and "pip" in c and "install" in c for c in fake.calls)


def _ok(name: str) -> Any:
    from pipguard.verify import DistVerification

    return DistVerification(name, "", 1, (), False)


def test_an_unplanned_family_change_after_uv_is_a_guard_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seam: None) -> None:
    fake = FakeRunner(uv_rc=0, after=[_dist("torch", TORCH.version, TORCH.url),
                                      _dist("torchaudio", "99.0.0")], site=tmp_path / "site")
    monkeypatch.setattr(runner, "RUNNER", fake)
    with pytest.raises(GuardError, match=r"torchaudio 99\.0\.0"):
        install_cmd.run_install(_session(tmp_path, ["install", "torch", "--installer", "uv"]))


def test_a_failing_uv_returns_its_exit_code(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seam: None) -> None:
    monkeypatch.setattr(runner, "RUNNER", FakeRunner(uv_rc=2))
    rc, _ = install_cmd.run_install(_session(tmp_path, ["install", "torch", "--installer", "uv"]))
    assert rc == 2


def test_an_option_uv_cannot_take_stops_before_any_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seam: None) -> None:
    fake = FakeRunner()
    monkeypatch.setattr(runner, "RUNNER", fake)
    with pytest.raises(UsageError, match="--user"):
        install_cmd.run_install(_session(tmp_path, ["install", "--user", "torch",
                                                    "--installer", "uv"]))
    assert fake.calls == []


# -- with the real uv ----------------------------------------------------------------------------


def _real_uv() -> str | None:
    return uvbin.find_uv(os.environ.get("PATH", ""))


@pytest.mark.integration
@pytest.mark.skipif(_real_uv() is None, reason="uv is not installed (pip install uv)")
def test_uv_installs_the_planned_torch_from_the_imitation_index(
        template_venv: Path, tmp_path: Path, index_server: IndexServer) -> None:
    box: Box = make_box(template_venv, tmp_path, extra={"UV_CACHE_DIR": str(tmp_path / "uv")})
    args = [*GPU, *torch_args(index_server), "--index-url", index_server.pypi_url]
    planned = json.loads(box.pipguard("plan", "torch", *args, "--json").stdout)["packages"]
    done = box.pipguard("install", "torch", "--installer", "uv", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pipguard: verified torch" in done.stderr
    inst = box.installed()
    for p in planned:
        assert inst[p["name"]]["metadata"]["version"] == p["version"]
        assert inst[p["name"]]["direct_url"]["url"].split("#")[0] == p["url"]
    torch_info = next(box.site.glob("torch-*.dist-info"))
    assert (torch_info / "INSTALLER").read_text().strip() == "uv"


@pytest.mark.integration
@pytest.mark.skipif(_real_uv() is None, reason="uv is not installed (pip install uv)")
def test_uv_refuses_a_pinned_file_whose_hash_is_wrong(
        template_venv: Path, tmp_path: Path, index_server: IndexServer) -> None:
    """The pins carry the index's #sha256=; uv checks it (also from its cache) and installs
    nothing on a mismatch."""
    box: Box = make_box(template_venv, tmp_path, extra={"UV_CACHE_DIR": str(tmp_path / "uv")})
    page = urllib.request.urlopen(f"{index_server.torch_url}/cpu/filelock/", timeout=30).read()
    href = re.search(r'href="([^"#]+)#sha256=([0-9a-f]{64})"', page.decode()).group  # type: ignore[union-attr]
    url, digest = urljoin(f"{index_server.torch_url}/cpu/filelock/", href(1)), href(2)
    uv = _real_uv()
    assert uv is not None

    def install(digest: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([uv, "pip", "install", "--python", box.python,
                               f"filelock @ {url}#sha256={digest}"], capture_output=True,
                              text=True, env=box.env, timeout=120, check=False)

    good = install(digest)
    assert good.returncode == 0, good.stderr
    assert box.pip("uninstall", "-y", "filelock").returncode == 0
    bad = install("00" * 32)  # the file is in uv's cache now: the hash is still checked
    assert bad.returncode != 0 and "hash" in bad.stderr.lower(), bad.stderr
    assert "filelock" not in box.installed()


@pytest.mark.integration
@pytest.mark.skipif(_real_uv() is None, reason="uv is not installed (pip install uv)")
def test_a_corrupt_file_under_uv_is_retried_once_then_exit_4(
        template_venv: Path, tmp_path: Path, index_server: IndexServer) -> None:
    box: Box = make_box(template_venv, tmp_path, extra={"UV_CACHE_DIR": str(tmp_path / "uv")})
    args = [*GPU, *torch_args(index_server), "--index-url", index_server.pypi_url]
    # Served intact to pip's audit (the first fetch), corrupt to uv (every later one).
    index_server.faults.no_ranges("/whl/cu126/torch-*.whl", count=1)  # pip's: intact
    index_server.faults.corrupt("/whl/cu126/torch-*.whl")
    done = box.pipguard("install", "torch", "--installer", "uv", *args)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "retrying once without" in done.stderr and "Traceback" not in done.stderr
    assert "torch" not in box.installed()
    # pip's audit once (intact), then uv twice (corrupt; the second without its cache).
    gets = [r for r in index_server.requests_for("/whl/cu126/torch-*.whl") if r.method == "GET"]
    assert len(gets) == 3, gets


def test_a_file_wheel_uv_installed_is_the_planned_copy() -> None:
    """uv records a file: wheel's URL with `+` for the index's `%2B` and the #sha256= kept."""
    from pipguard.installed import InstalledDist
    from pipguard.provenance import is_planned_copy

    planned = PlannedPackage("torch", "2.13.0+cpu", "file:///i/cpu/torch-2.13.0%2Bcpu-cp311-"
                             "cp311-manylinux_2_28_x86_64.whl", "ab" * 32, "torch.whl")

    def dist(url: str) -> InstalledDist:
        return InstalledDist("torch", "2.13.0+cpu", "/site", None, "uv", True,
                             {"url": url, "archive_info": {}}, (), None)

    recorded = "file:///i/cpu/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"
    assert is_planned_copy(dist(f"{recorded}#sha256={'ab' * 32}"), planned)
    assert not is_planned_copy(dist(f"{recorded}#sha256={'cd' * 32}"), planned)
    assert not is_planned_copy(dist(recorded.replace("/cpu/", "/other/")), planned)
    from pipguard.install_record import Installed, Record, swapped

    record = Record((), {"torch": Installed("torch", "2.13.0+cpu", planned.url, "ab" * 32)})
    assert swapped(record, "torch", "2.13.0+cpu", dist(f"{recorded}#sha256={'ab' * 32}")
                   .direct_url) is None
    assert "sha256" in (swapped(record, "torch", "2.13.0+cpu",
                                {"url": f"{recorded}#sha256={'cd' * 32}"}) or "")
