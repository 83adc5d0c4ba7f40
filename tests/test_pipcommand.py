"""The pip command lines pipguard runs, asserted exactly at the runner seam's input."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pytest

from pipguard.pipargs import parse
from pipguard.pipcommand import command_argv, discovery_argv, guard_constraints, pin_lines
from pipguard.plan import Plan, PlannedPackage
from pipguard.simple import scan_html

if TYPE_CHECKING:
    from pipguard.session import Session

PIP = ["/venv/bin/python", "-m", "pip"]
TORCH = PlannedPackage("torch", "2.15.0+cu130", "https://x/whl/cu130/torch-2.15.0%2Bcu130-cp312"
                       "-cp312-manylinux_2_28_x86_64.whl", "ab" * 32, "torch-2.15.0+cu130-….whl")
TV = PlannedPackage("torchvision", "0.30.0+cu130", "https://x/whl/cu130/tv.whl", None, "tv.whl",
                    "md5=0123456789abcdef0123456789abcdef")
PLAN = Plan("cu130", (TORCH, TV), index_url="https://x/whl/cu130")


def test_pins_go_first_with_the_guards_constraints_before_the_users_words() -> None:
    cl = parse(["install", "-qr", "reqs.txt", "--dry-run", "torch>=2.5"])
    pins = pin_lines(PLAN, {}, reinstall=False)
    assert command_argv(cl, PIP, pins, "/tmp/guard.txt") == [
        *PIP, "install", f"torch @ {TORCH.url}#sha256={'ab' * 32}",
        f"torchvision @ {TV.url}#md5=0123456789abcdef0123456789abcdef",
        "-c", "/tmp/guard.txt", "-qr", "reqs.txt", "torch>=2.5"]


def test_the_audit_is_the_users_command_as_a_quiet_dry_run_without_pips_version_check(
        ) -> None:
    """The user's own pip run still checks for a newer pip; the audit (ours) does not
    send PyPI a request for it on every install."""
    cl = parse(["install", "-qr", "reqs.txt", "--dry-run", "torch>=2.5"])
    pins = pin_lines(PLAN, {}, reinstall=False)
    assert discovery_argv(cl, PIP, "/tmp/r.json", pins) == [
        *PIP, "install", *pins, "--dry-run", "--quiet", "--disable-pip-version-check",
        "--report", "/tmp/r.json", "-qr", "reqs.txt", "torch>=2.5"]


def test_a_planned_copy_already_installed_is_pinned_by_version() -> None:
    assert pin_lines(PLAN, {"torch": "2.15.0+cu130"}, reinstall=False)[0] == "torch==2.15.0+cu130"
    assert pin_lines(PLAN, {"torch": "2.15.0+cu130"}, reinstall=True)[0].startswith("torch @ ")


def test_no_deps_pins_only_what_the_command_names() -> None:
    pins = pin_lines(PLAN, {}, reinstall=False, only=frozenset({"torchvision"}))
    assert [p.split(" @ ")[0] for p in pins] == ["torchvision"]


def test_unplanned_uninstalled_family_names_can_never_resolve() -> None:
    family = frozenset({"torch", "torchvision", "torchaudio", "triton"})
    assert guard_constraints(family, PLAN, frozenset({"triton"})) == ["torchaudio<0"]
    assert guard_constraints(family, None, frozenset()) == [
        "torch<0", "torchaudio<0", "torchvision<0", "triton<0"]


def test_a_page_with_only_an_md5_passes_it_through() -> None:
    page = ('<a href="tv-0.30.0+cu130-cp312-cp312-manylinux_2_28_x86_64.whl'
            '#md5=0123456789ABCDEF0123456789abcdef">x</a>')
    [f] = scan_html(page, "https://x/whl/cu130/torchvision/").files
    assert f.sha256 is None and f.other_hash == "md5=0123456789abcdef0123456789abcdef"


def _session() -> Session:
    from pipguard.hardware import Hardware
    from pipguard.knowledge_tables import load_knowledge
    from pipguard.options import Settings
    from pipguard.session import Session
    from pipguard.target import Interpreter

    interp = Interpreter("/venv/bin/python", (3, 12, 0), "cpython", "linux", "x86_64", False,
                         "25.0", "/venv", ())
    return Session(parse(["--cache-dir", "/c", "install", "torch"]), Settings(), interp,
                   Hardware(), load_knowledge())


def test_a_corrupt_download_is_retried_once_without_the_cache(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from pipguard import runner
    from pipguard.commands.planning import run_with_retry

    calls: list[list[str]] = []
    bad = ("ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.\n"
           f"    torch from {TORCH.url}:\n        Expected sha256 {'ab' * 32}\n"
           f"             Got        {'cd' * 32}\n")

    def fake(argv: Sequence[str], **kw: object) -> runner.Completed:
        calls.append(list(argv))
        failed = len([c for c in calls if "cache" not in c]) == 1 and "cache" not in argv
        return runner.Completed(tuple(argv), 1 if failed else 0, "", bad if failed else "")

    monkeypatch.setattr(runner, "RUNNER", fake)
    argv = [*PIP, "install", f"torch @ {TORCH.url}#sha256={'ab' * 32}"]
    done = run_with_retry(list(argv), PLAN, _session(), quiet=True)
    assert done.returncode == 0
    assert calls == [argv, [*PIP, "--cache-dir", "/c", "cache", "remove", "torch"],
                     [*argv, "--no-cache-dir"]]
