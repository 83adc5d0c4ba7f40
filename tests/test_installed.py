"""Tests for pipguard.installed: what the target has installed (`pip inspect`, and the
named distributions read from the target's sys.path)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from pipguard import runner
from pipguard.errors import EXIT_TARGET, TargetError
from pipguard.installed import InstalledDist, inspect, inspect_named, parse_inspect
from pipguard.interpreter import inspect_interpreter

FIXTURE = Path(__file__).parent / "fixtures" / "pip_inspect_venv.json"
SITE = "/tmp/pipguard-fixture/venv/lib/python3.11/site-packages"


def load_fixture() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return data


def by_name(dists: Sequence[InstalledDist]) -> dict[str, InstalledDist]:
    return {d.name: d for d in dists}


# --- parse_inspect (pure) -------------------------------------------------------------


def test_parse_lists_every_distribution_in_pip_order() -> None:
    dists = parse_inspect(load_fixture())
    assert [d.name for d in dists] == ["pip", "setuptools", "tinydep", "tinypkg", "legacy-pkg"]


def test_parse_dist_info_install_with_direct_url() -> None:
    tiny = by_name(parse_inspect(load_fixture()))["tinypkg"]
    assert tiny.version == "1.0+cpu"
    assert tiny.location == SITE
    assert tiny.dist_info == f"{SITE}/tinypkg-1.0+cpu.dist-info"
    assert tiny.installer == "pip"
    assert tiny.requested is True
    assert tiny.requires_python == ">=3.8"
    assert tiny.requires_dist == ("tinydep>=0.1", 'colorama; sys_platform == "win32"')
    assert tiny.direct_url is not None
    assert tiny.direct_url["url"].endswith("tinypkg-1.0%2Bcpu-py3-none-any.whl")
    assert "archive_info" in tiny.direct_url


def test_parse_dependency_is_not_requested_and_has_no_direct_url() -> None:
    dep = by_name(parse_inspect(load_fixture()))["tinydep"]
    assert dep.requested is False
    assert dep.direct_url is None
    assert dep.requires_dist == ()


def test_parse_legacy_egg_info_has_no_dist_info() -> None:
    legacy = by_name(parse_inspect(load_fixture()))["legacy-pkg"]
    assert legacy.version == "2.0"
    assert legacy.location == SITE
    assert legacy.dist_info is None
    assert legacy.installer is None
    assert legacy.requested is False


def test_parse_names_are_canonical() -> None:
    report = load_fixture()
    report["installed"][3]["metadata"]["name"] = "Tiny_Pkg.Extra"
    assert parse_inspect(report)[3].name == "tiny-pkg-extra"


def test_parse_unpacked_egg_location_is_its_parent_dir() -> None:
    report = {
        "version": "1",
        "installed": [
            {
                "metadata": {"name": "old", "version": "1"},
                "metadata_location": "/sp/old-1-py3.11.egg/EGG-INFO",
            }
        ],
    }
    (old,) = parse_inspect(report)
    assert (old.location, old.dist_info) == ("/sp", None)


@pytest.mark.parametrize("version", ["2", "", "0"])
def test_parse_rejects_unknown_report_version(version: str) -> None:
    report = load_fixture()
    report["version"] = version
    with pytest.raises(TargetError, match="report version"):
        parse_inspect(report)


def test_parse_rejects_report_without_installed_list() -> None:
    with pytest.raises(TargetError):
        parse_inspect({"version": "1"})


def test_an_entry_without_name_or_version_is_skipped() -> None:
    # A .dist-info whose METADATA is gone (an install killed midway): pip cannot name it
    # either; its package folders are orphans, which verify and doctor report.
    report = {"version": "1", "installed": [{"metadata": {"name": "x"}},
                                            {"metadata": {"name": "y", "version": "1.0"}}]}
    assert [d.name for d in parse_inspect(report)] == ["y"]


# --- inspect() with a faked runner ----------------------------------------------------


class FakeRunner:
    def __init__(self, result: runner.Completed) -> None:
        self.result = result
        self.calls: list[tuple[tuple[str, ...], Mapping[str, str] | None]] = []

    def __call__(
        self,
        argv: Sequence[str],
        *,
        capture: bool = True,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        stdin_text: str | None = None,
        tee: bool = False,
    ) -> runner.Completed:
        self.calls.append((tuple(argv), env))
        return self.result


def fake(
    monkeypatch: pytest.MonkeyPatch, code: int, stdout: str = "", stderr: str = ""
) -> FakeRunner:
    result = runner.Completed(("x",), code, stdout, stderr)
    fake_runner = FakeRunner(result)
    monkeypatch.setattr(runner, "RUNNER", fake_runner)
    return fake_runner


def test_inspect_runs_target_pip_without_local(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_runner = fake(monkeypatch, 0, FIXTURE.read_text(encoding="utf-8"))
    dists = inspect("/opt/py/bin/python")
    assert len(dists) == 5
    ((argv, env),) = fake_runner.calls
    # The whole environment the interpreter sees: no --local, no --user, no --path.
    assert argv == ("/opt/py/bin/python", "-m", "pip", "inspect")
    # The user's pip configuration is left alone (only the output encoding is pinned).
    assert env is not None
    assert not any(key.startswith("PIP_") for key in env)


def test_inspect_tolerates_forced_colour_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    text = FIXTURE.read_text(encoding="utf-8")
    coloured = text.replace('"name"', '\x1b[1;34m"name"\x1b[0m').replace("{", "\x1b[1m{\x1b[0m")
    fake(monkeypatch, 0, coloured)
    assert [d.name for d in inspect("py")][:2] == ["pip", "setuptools"]


@pytest.mark.parametrize(
    ("code", "stderr", "message", "hint"),
    [
        (1, 'ERROR: unknown command "inspect"\n', "older than 22.2", "install -U pip"),
        (1, "/usr/bin/python3: No module named pip\n", "has no pip", "ensurepip"),
        (127, "[Errno 2] No such file or directory: 'nope'", "cannot run", "--python"),
        (2, "Traceback ...\nOSError: boom\n", "exit code 2: Traceback ... / OSError: boom", "pip"),
    ],
)
def test_inspect_failures_explain_themselves(
    monkeypatch: pytest.MonkeyPatch, code: int, stderr: str, message: str, hint: str
) -> None:
    fake(monkeypatch, code, "", stderr)
    with pytest.raises(TargetError, match=message) as info:
        inspect("nope")
    assert info.value.hint is not None and hint in info.value.hint
    assert info.value.exit_code == EXIT_TARGET


def test_inspect_timeout_is_a_target_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "RUNNER", FakeRunner(runner.Completed(("x",), 124, "", "", True)))
    with pytest.raises(TargetError, match="did not finish"):
        inspect("py")


@pytest.mark.parametrize("stdout", ["", "not json", "[1, 2]"])
def test_inspect_rejects_output_that_is_not_a_report(
    monkeypatch: pytest.MonkeyPatch, stdout: str
) -> None:
    fake(monkeypatch, 0, stdout)
    with pytest.raises(TargetError, match="JSON"):
        inspect("py")


# --- inspect_named: the target's sys.path, read here --------------------------------------


def _installed(site: Path, name: str, version: str, **files: str) -> Path:
    dist_info = site / f"{name}-{version}.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        "Requires-Dist: filelock\nRequires-Python: >=3.10\n", encoding="utf-8")
    for filename, text in files.items():
        (dist_info / filename.replace("_json", ".json")).write_text(text, encoding="utf-8")
    return dist_info


def test_named_reads_the_first_copy_on_the_path_as_import_does(tmp_path: Path) -> None:
    first, second = tmp_path / "venv-site", tmp_path / "global-site"
    url = {"url": "https://x/torch-2.9.0.whl", "archive_info": {}}
    dist_info = _installed(first, "torch", "2.9.0+cu128", INSTALLER="pip\n", REQUESTED="",
                           direct_url_json=json.dumps(url))
    _installed(second, "torch", "2.1.0")
    _installed(second, "Torch_Audio", "2.9.0")  # found by its canonical name

    found = by_name(inspect_named([str(tmp_path / "missing"), str(first), str(second)],
                                  ["torch", "torch-audio", "torchvision"]))

    assert sorted(found) == ["torch", "torch-audio"]  # not installed: simply absent
    torch = found["torch"]
    assert (torch.version, torch.location, torch.dist_info) == (
        "2.9.0+cu128", str(first), str(dist_info))
    assert torch.installer == "pip" and torch.requested and torch.direct_url == url
    assert torch.requires_dist == ("filelock",) and torch.requires_python == ">=3.10"
    assert found["torch-audio"].location == str(second)


def test_named_skips_metadata_without_a_name_and_bad_direct_url(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "half-1.0.dist-info").mkdir(parents=True)  # killed before METADATA was written
    _installed(site, "torch", "2.9.0", direct_url_json="{not json")
    found = by_name(inspect_named([str(site)], ["half", "torch"]))
    assert list(found) == ["torch"] and found["torch"].direct_url is None


def test_the_probe_reports_the_path_and_pip_is_read_from_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One start of the target: its facts and sys.path; its pip's version is read here."""
    site = tmp_path / "site"
    _installed(site, "pip", "25.1")
    facts = {"executable": "/t/python", "version": [3, 12, 4], "implementation": "cpython",
             "platform": "linux", "machine": "x86_64", "free_threaded": False,
             "glibc": "glibc 2.39", "prefix": "/t", "path": [str(site)]}
    calls: list[list[str]] = []

    def fake(argv: Sequence[str], **_: object) -> runner.Completed:
        calls.append(list(argv))
        return runner.Completed(tuple(argv), 0, json.dumps(facts), "")

    monkeypatch.setattr(runner, "RUNNER", fake)
    interp = inspect_interpreter("/t/python")
    assert [c[:3] for c in calls] == [["/t/python", "-I", "-c"]]
    assert interp.path == (str(site),) and interp.pip_version == "25.1"
    assert interp.prefix == "/t" and interp.version == (3, 12, 4)


def test_a_probe_without_facts_is_a_target_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "RUNNER", lambda argv, **_: runner.Completed(
        tuple(argv), 0, "[1, 2]", ""))
    with pytest.raises(TargetError, match="gave no facts"):
        inspect_interpreter("/t/python")


# --- one real run ---------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.integration  # makes a virtual environment and runs its pip
def test_inspect_real_venv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("PIP_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    scripts = "Scripts" if os.name == "nt" else "bin"
    python = venv / scripts / ("python.exe" if os.name == "nt" else "python")
    site = sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)})

    dists = by_name(inspect(str(python)))

    pip = dists["pip"]
    assert os.path.samefile(pip.location, site)
    assert pip.dist_info is not None and os.path.isfile(os.path.join(pip.dist_info, "RECORD"))
    assert pip.installer == "pip"
    assert pip.version.split(".")[0].isdigit()
    assert not any(d.name == "pytest" for d in dists.values())  # the venv does not see ours
