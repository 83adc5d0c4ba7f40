"""An install that forces no reinstall resolves once: family names or not.

At the runner seam: the install itself carries the pins and constraints that keep every
other family file out (pip fails before installing anything should it need one); pip's
dry run (the guard) is asked only when that install fails before resolving, and decides
what happens next.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pipguard import runner
from pipguard.commands import install as install_cmd
from pipguard.commands import planning
from pipguard.commands.planning import Guarded
from pipguard.errors import GuardError, Unresolvable
from pipguard.hardware import Hardware
from pipguard.knowledge_tables import load_knowledge
from pipguard.options import settings
from pipguard.pipargs import parse
from pipguard.plan import Plan, PlannedPackage
from pipguard.session import Session
from pipguard.target import Interpreter
from pipguard.verify import DistVerification
from tests.helpers import write_installed

PY = "/venv/bin/python"
TORCH = PlannedPackage("torch", "2.15.0+cu130", "https://x/whl/cu130/torch-2.15.0%2Bcu130-cp312"
                       "-cp312-manylinux_2_28_x86_64.whl", "ab" * 32, "torch-2.15.0+cu130-….whl")
TRITON = PlannedPackage("triton", "3.5.0", "https://x/whl/cu130/triton-3.5.0-cp312-cp312-"
                        "manylinux_2_28_x86_64.whl", "cd" * 32, "triton-3.5.0-….whl")
PLAN = Plan("cu130", (TORCH,), index_url="https://x/whl/cu130")
BIGGER = Plan("cu130", (TORCH, TRITON), index_url="https://x/whl/cu130")
PIN = f"torch @ {TORCH.url}#sha256={'ab' * 32}"
TRITON_PIN = f"triton @ {TRITON.url}#sha256={'cd' * 32}"


def _item(p: PlannedPackage) -> dict[str, Any]:
    return {"metadata": {"name": p.name, "version": p.version},
            "download_info": {"url": p.url, "archive_info": {"hashes": {"sha256": p.sha256}}}}


class FakePip:
    """pip install (rc per run, writing its report); what is installed (:meth:`site`)."""

    def __init__(self, rcs: Sequence[int], installed: Sequence[dict[str, Any]] = (),
                 reported: Sequence[PlannedPackage] = (TORCH,)) -> None:
        self.rcs = list(rcs)
        self.installed = list(installed)
        self.reported = list(reported)
        self.installs: list[list[str]] = []
        self.constraints: list[str] = []

    def site(self, tmp_path: Path) -> Path:
        """The target's site-packages, holding what is installed there."""
        site = tmp_path / "site"
        for entry in self.installed:
            write_installed(site, entry)
        return site

    def __call__(self, argv: Sequence[str], **_: object) -> runner.Completed:
        argv = list(argv)
        assert argv[1:4] == ["-m", "pip", "install"] and "--dry-run" not in argv, argv
        self.installs.append(argv)
        self.constraints.append(Path(argv[argv.index("-c") + 1]).read_text(encoding="utf-8"))
        rc = self.rcs.pop(0)
        if rc == 0:
            Path(argv[argv.index("--report") + 1]).write_text(json.dumps(
                {"version": "1", "install": [_item(p) for p in self.reported]}))
        return runner.Completed(tuple(argv), rc, "", "ERROR: pip failed" if rc else "")


def _session(tmp_path: Path, argv: list[str], site: Path | None = None) -> Session:
    interp = Interpreter(PY, (3, 12, 0), "cpython", "linux", "x86_64", False, "25.0",
                         str(tmp_path), (), path=(str(site or tmp_path / "site"),))
    cl = parse(argv)
    return Session(cl, settings(cl, {"PATH": "/usr/bin", "PIP_CONFIG_FILE": os.devnull}),
                   interp, Hardware(), load_knowledge())


@pytest.fixture
def seam(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The planner's answer is PLAN; each guard (dry-run) call is recorded, and fails the
    test unless a test replaces it."""
    calls: list[str] = []
    monkeypatch.setattr(install_cmd, "plan_once",
                        lambda s, installed: (PLAN, (PIN,), frozenset({"torch"})))
    monkeypatch.setattr(install_cmd, "verify_many",
                        lambda dists, **_: [DistVerification(d.name, d.version, 1, (), False)
                                            for d in dists])

    def no_guard(s: Session, tmp: Path, installed: object, **_: object) -> Guarded:
        calls.append("guard")
        raise AssertionError("the dry run was not needed")

    monkeypatch.setattr(install_cmd, "guard", no_guard)
    return calls


def _dist(name: str, version: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "version": version}, "installer": "pip"}


def test_a_family_command_installs_with_one_pip_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seam: list[str]) -> None:
    fake = FakePip([0], installed=[_dist("torchaudio", "2.5.1+cu124")])
    monkeypatch.setattr(runner, "RUNNER", fake)
    monkeypatch.setattr(install_cmd, "_verify_and_repair", lambda s, plan, fresh: 0)
    rc, _ = install_cmd.run_install(_session(tmp_path, ["install", "torch"],
                                             fake.site(tmp_path)))
    assert rc == 0 and seam == []
    [argv] = fake.installs
    assert argv[4:6] == [PIN, "-c"] and argv[7] == "torch"
    lines = fake.constraints[0].splitlines()
    assert "torchvision<0" in lines and "triton<0" in lines  # never installed
    assert "torchaudio===2.5.1+cu124" in lines  # installed, not planned: stays, this very one
    assert not any(line.startswith("torch") and line[5:6] in "<=" for line in lines)


def test_when_pip_refuses_its_dry_run_decides_and_the_plan_grows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seam: list[str]) -> None:
    fake = FakePip([1, 0], reported=(TORCH, TRITON))
    monkeypatch.setattr(runner, "RUNNER", fake)
    monkeypatch.setattr(install_cmd, "_verify_and_repair", lambda s, plan, fresh: 0)
    monkeypatch.setattr(install_cmd, "guard",
                        lambda s, tmp, installed, **_: Guarded(BIGGER, (PIN, TRITON_PIN), {}))
    rc, _ = install_cmd.run_install(_session(tmp_path, ["install", "torch"]))
    assert rc == 0 and len(fake.installs) == 2
    assert fake.installs[1][4:7] == [PIN, TRITON_PIN, "-c"]
    assert "triton<0" not in fake.constraints[1].splitlines()


def test_a_failure_that_is_not_the_plans_is_pips_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seam: list[str]) -> None:
    fake = FakePip([1])
    monkeypatch.setattr(runner, "RUNNER", fake)
    monkeypatch.setattr(install_cmd, "guard",
                        lambda s, tmp, installed, **_: Guarded(PLAN, (PIN,), {}))
    rc, _ = install_cmd.run_install(_session(tmp_path, ["install", "torch"]))
    assert rc == 1 and len(fake.installs) == 1


def test_pip_unable_to_resolve_at_all_is_the_guards_stop(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seam: list[str]) -> None:
    fake = FakePip([1])
    monkeypatch.setattr(runner, "RUNNER", fake)

    def unresolvable(s: Session, tmp: Path, installed: object, **_: object) -> Guarded:
        raise Unresolvable("pip could not resolve the command")

    monkeypatch.setattr(install_cmd, "guard", unresolvable)
    with pytest.raises(Unresolvable):  # exit 6, as when the dry run comes first
        install_cmd.run_install(_session(tmp_path, ["install", "torch"]))
    assert len(fake.installs) == 1


@pytest.mark.parametrize("argv", [
    ["install", "torch", "--report", "-"],  # no report of ours to audit afterwards
    ["install", "--req=reqs.txt", "torch"],  # pip's abbreviation of --requirement
    ["install", "--group", "dev", "torch"],  # requirements from pyproject.toml
    ["install", "--force-reinstall", "torch"],  # another file of a version may come in
    ["install", "--upgrade-strategy", "eager", "requests"],  # would move installed torch
    ["install", "--force-reinstall", "requests"],
    ["install", "--req=reqs.txt"],  # pip's abbreviation: pip's parser, not pipguard's
])
def test_other_commands_ask_pip_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      seam: list[str], argv: list[str]) -> None:
    (tmp_path / "reqs.txt").write_text("torch\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(runner, "RUNNER", FakePip([0]))
    with pytest.raises(AssertionError, match="the dry run was not needed"):
        install_cmd.run_install(_session(tmp_path, argv))
    assert seam == ["guard"]


def test_pips_configuration_can_open_a_command(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seam: list[str]) -> None:
    """PIP_FORCE_REINSTALL (or a config file's requirement=) is pip's reading, not the
    command line's: such a command is not closed, and pip is asked first."""
    s = _session(tmp_path, ["install", "torch"])
    s._pip_config = {"force-reinstall": ("1", "PIP_FORCE_REINSTALL")}
    monkeypatch.setattr(runner, "RUNNER", FakePip([0]))
    with pytest.raises(AssertionError, match="the dry run was not needed"):
        install_cmd.run_install(s)


def test_no_deps_keeps_the_planned_names_it_does_not_pin_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seam: list[str]) -> None:
    """With --no-deps only the named packages are pinned; another planned name pip might
    meet (a PIP_REQUIREMENT naming it) must not come from the user's index unpinned."""
    fake = FakePip([0], reported=(TRITON,))
    monkeypatch.setattr(runner, "RUNNER", fake)
    monkeypatch.setattr(install_cmd, "plan_once",
                        lambda s, installed: (BIGGER, (TRITON_PIN,), frozenset({"triton"})))
    monkeypatch.setattr(install_cmd, "_verify_and_repair", lambda s, plan, fresh: 0)
    rc, _ = install_cmd.run_install(_session(tmp_path, ["install", "--no-deps", "triton"]))
    assert rc == 0 and "torch<0" in fake.constraints[0].splitlines()


def test_a_missing_report_is_not_a_passed_audit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seam: list[str]) -> None:
    class NoReport(FakePip):
        def __call__(self, argv: Sequence[str], **kw: object) -> runner.Completed:
            done = super().__call__(argv, **kw)
            if "--report" in argv:
                Path(argv[list(argv).index("--report") + 1]).write_text("")
            return done

    monkeypatch.setattr(runner, "RUNNER", NoReport([0]))
    with pytest.raises(GuardError, match="no report"):
        install_cmd.run_install(_session(tmp_path, ["install", "torch"]))


def test_a_failure_part_way_is_not_followed_by_a_second_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seam: list[str]) -> None:
    class PartWay(FakePip):
        def __call__(self, argv: Sequence[str], **kw: object) -> runner.Completed:
            done = super().__call__(argv, **kw)
            if argv[1:4] == ["-m", "pip", "install"]:  # torch landed, then the disk filled up
                write_installed(tmp_path / "site", _dist("torch", TORCH.version))
            return done

    fake = PartWay([1])
    monkeypatch.setattr(runner, "RUNNER", fake)
    rc, _ = install_cmd.run_install(_session(tmp_path, ["install", "torch"]))
    assert rc == 1 and len(fake.installs) == 1 and seam == []


def test_after_install_only_what_pip_just_installed_is_checked_by_size(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A planned copy pip left in place (or uv took from its cache) was not hash-checked
    in this run: it is hashed (trusting only fingerprints of earlier matches)."""
    from pipguard.installed import InstalledDist

    seen: dict[str, list[str]] = {"sizes": [], "hashed": []}

    def sizes(dists: Sequence[InstalledDist], **_: object) -> list[DistVerification]:
        seen["sizes"] += [d.name for d in dists]
        return [DistVerification(d.name, d.version, 1, (), False, sizes_only=True)
                for d in dists]

    def hashed(dists: Sequence[InstalledDist], *_: object, **__: object
               ) -> list[DistVerification]:
        seen["hashed"] += [d.name for d in dists]
        return [DistVerification(d.name, d.version, 1, (), False, files_hashed=1)
                for d in dists]

    monkeypatch.setattr(install_cmd, "verify_many", sizes)
    monkeypatch.setattr(install_cmd, "verify_remembering", hashed)
    family = {p.name: InstalledDist(p.name, p.version, str(tmp_path), None, "pip", False,
                                    {"url": p.url, "archive_info": {"hashes": {
                                        "sha256": p.sha256}}}, (), None)
              for p in BIGGER.packages}
    install_cmd._verify_planned(_session(tmp_path, ["install", "torch"]), BIGGER, family,
                                frozenset({"torch"}))
    assert seen == {"sizes": ["torch"], "hashed": ["triton"]}


# -- commands that name other packages (and requirements files) ---------------------------


class Resolved(FakePip):
    """pip resolved (and wrote its report), then failed installing (rc 1)."""

    def __call__(self, argv: Sequence[str], **kw: object) -> runner.Completed:
        done = super().__call__(argv, **kw)
        Path(argv[list(argv).index("--report") + 1]).write_text(
            json.dumps({"version": "1", "install": []}))
        return done


@pytest.mark.parametrize(("argv", "installed_torch"), [
    (["install", "requests"], "torch===2.5.1+cu124"),  # stays, this very one
    # pip rebuilds a local project (an editable, a path, an sdist) even at the installed
    # version: with one in the command, or a file that may hold one, torch may not move
    (["install", "-r", "reqs.txt"], "torch<0"),
    (["install", "-U", "requests", "-e", "./proj"], "torch<0"),
])
def test_a_command_naming_no_family_package_resolves_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seam: list[str],
        argv: list[str], installed_torch: str) -> None:
    """Nothing to plan: the install is pip's, under constraints that keep every family name
    out (or exactly as installed); no dry run first."""
    (tmp_path / "reqs.txt").write_text("requests==2.32.3\nrich\n")
    (tmp_path / "proj").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(install_cmd, "plan_once", planning.plan_once)
    fake = FakePip([0], installed=[_dist("torch", "2.5.1+cu124")], reported=())
    monkeypatch.setattr(runner, "RUNNER", fake)
    rc, _ = install_cmd.run_install(_session(tmp_path, argv, fake.site(tmp_path)))
    assert rc == 0 and seam == [] and len(fake.installs) == 1
    [install] = fake.installs
    assert install[4] == "-c" and install[6:] == [*argv[1:], "--report", install[-1]]
    lines = fake.constraints[0].splitlines()
    assert installed_torch in lines and "torchvision<0" in lines


def test_a_failure_after_pip_resolved_is_not_followed_by_a_dry_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seam: list[str]) -> None:
    """pip wrote its report: it resolved, so the constraints held; what failed is pip's
    own (a build, the disk), and nothing is run again."""
    monkeypatch.setattr(install_cmd, "plan_once", planning.plan_once)
    fake = Resolved([1], reported=())
    monkeypatch.setattr(runner, "RUNNER", fake)
    rc, _ = install_cmd.run_install(_session(tmp_path, ["install", "requests"]))
    assert rc == 1 and len(fake.installs) == 1 and seam == []


def test_a_package_that_needs_torch_is_planned_after_pip_refuses(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seam: list[str]) -> None:
    """`torch<0` keeps torch out of the first run; pip's dry run then says torchmetrics
    needs it, and the install runs again with torch planned and pinned."""
    monkeypatch.setattr(install_cmd, "plan_once", planning.plan_once)
    fake = FakePip([1, 0])
    monkeypatch.setattr(runner, "RUNNER", fake)
    monkeypatch.setattr(install_cmd, "_verify_and_repair", lambda s, plan, fresh: 0)
    monkeypatch.setattr(install_cmd, "guard",
                        lambda s, tmp, installed, **_: Guarded(PLAN, (PIN,), {}))
    rc, _ = install_cmd.run_install(_session(tmp_path, ["install", "torchmetrics"]))
    assert rc == 0 and len(fake.installs) == 2
    assert "torch<0" in fake.constraints[0].splitlines()
    assert fake.installs[1][4:6] == [PIN, "-c"]
    assert "torch<0" not in fake.constraints[1].splitlines()


@pytest.mark.parametrize("where", [
    {"target": ("/opt/t", "PIP_TARGET")},  # pip ignores what is installed there
    {"prefix": ("/opt/p", "pip config (install.prefix)")},
    {"user": ("1", "PIP_USER")},
])
def test_a_place_to_install_from_pips_configuration_asks_pip_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seam: list[str],
        where: dict[str, tuple[str, str]]) -> None:
    """What is installed would be another environment's: the snapshot the constraints keep
    in place is not pip's, so pip's dry run comes first."""
    s = _session(tmp_path, ["install", "torchmetrics"])
    s._pip_config = where
    monkeypatch.setattr(runner, "RUNNER", FakePip([0]))
    with pytest.raises(AssertionError, match="the dry run was not needed"):
        install_cmd.run_install(s)


@pytest.mark.parametrize("seen", ["pythonpath", "user_site"])
def test_what_pip_sees_beyond_the_probe_makes_pip_answer_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seam: list[str], seen: str) -> None:
    """PYTHONPATH, or a user site outside a venv: pip's run sees distributions the target's
    isolated probe does not (an older torch there), so the snapshot is not pip's."""
    from dataclasses import replace

    s = _session(tmp_path, ["install", "torchmetrics"])
    if seen == "pythonpath":
        s.settings = replace(s.settings, pythonpath=True)
    else:
        s.interp = replace(s.interp, user_site=str(tmp_path / "user-site"))
    monkeypatch.setattr(runner, "RUNNER", FakePip([0]))
    with pytest.raises(AssertionError, match="the dry run was not needed"):
        install_cmd.run_install(s)
