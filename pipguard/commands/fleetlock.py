"""``pipguard lock --variant …/--for …``: one PEP 751 lock per class of machines.

For each class: plan the torch family for that hardware (the same planning as
``install``: what the command names, what pip says it pulls in), then let pip resolve
everything else with the family pinned to the planned files
(``pip install --dry-run --ignore-installed --report``; ``--only-binary=:all:`` for a
cross target) and write ``pylock.<class>.toml`` from the plan and the report. A class
nothing fits is reported with the planner's reason; the others are still written.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from pipguard import console
from pipguard.artifacts import sha256_of
from pipguard.commands.planning import guard
from pipguard.errors import NoMatchingBuild, PipguardError
from pipguard.fleet import LockClass
from pipguard.lockfiles import write_text
from pipguard.locking import build_lock, unhashed_urls
from pipguard.pipargs import CommandLine, Option
from pipguard.plan import Plan
from pipguard.pylock import Lock, LockInfo, dumps, file_name
from pipguard.session import Session

_OURS = frozenset({"--variant", "--for", "-o", "--output"})


def pip_view(cl: CommandLine, scratch: Path) -> CommandLine:
    """The command line pip sees: our options out; for a cross target ``--only-binary=:all:``
    and a ``--target`` (older pips take platform options only with one; nothing is
    written there, the runs are ``--dry-run``)."""
    rest = tuple(i for i in cl.rest if not (isinstance(i, Option) and i.name in _OURS))
    if cl.has("--platform", "--python-version", "--abi", "--implementation"):
        if not any(v == ":all:" for v in cl.options("--only-binary")):
            rest += (Option("--only-binary", ":all:", ("--only-binary=:all:",)),)
        if not cl.has("--target", "-t"):
            rest += (Option("--target", str(scratch), ("--target", str(scratch))),)
    return replace(cl, rest=rest)


def run_fleet_lock(s: Session, classes: list[LockClass]) -> tuple[int, None]:
    """Write one lock per class into ``-o DIR`` (default: the current folder)."""
    outputs = s.cl.options("-o", "--output")
    out_dir = Path(outputs[-1] if outputs else ".")
    s.client  # noqa: B018 - made once, shared by every class's session
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="pipguard-") as tmpname:
        base = replace(s, cl=pip_view(s.cl, Path(tmpname) / "target"))
        for c in classes:
            tmp = Path(tmpname) / c.name
            tmp.mkdir()
            try:
                lock = lock_class(replace(base, hw=c.hardware(s.interp)), c, tmp,
                                  str(out_dir.resolve()))
            except NoMatchingBuild as exc:
                console.say(f"{c.name}: nothing fits: {exc.message}")
                failed.append(c.name)
                continue
            except PipguardError as exc:
                if exc.exit_code != 1:
                    raise  # usage, index, integrity, target: the whole command stops
                console.say(f"{c.name}: {exc.message}")
                failed.append(c.name)
                continue
            path = out_dir / file_name(c.name)
            write_text(path, dumps(lock))
            console.say(f"wrote {path}: {_summary(lock)}")
    if failed:
        console.say("no lock for: " + ", ".join(failed))
    return (1 if failed else 0), None


def lock_class(s: Session, c: LockClass, tmp: Path, base_dir: str) -> Lock:
    """The lock of one class (raises NoMatchingBuild when nothing fits it)."""
    # The same guard as install: pip resolves with the pins, every family item audited.
    checked = guard(s, tmp, {})
    plan, report = checked.plan, checked.report
    transport = s.client.reader.transport
    hashes = {url: sha256_of(url, tmp, transport) for url in unhashed_urls(report, plan)}
    return build_lock(report, plan, s.interp, _info(s, c, plan), hashes=hashes,
                      base_dir=base_dir)


def _info(s: Session, c: LockClass, plan: Plan | None) -> LockInfo:
    return LockInfo(c.name, plan.variant if plan else None, plan.index_url if plan else None,
                    c.describe(), s.interp.version_str, tuple(s.cl.options("--platform")))


def _summary(lock: Lock) -> str:
    torch = lock.package("torch")
    head = f"torch {torch.version}" if torch else "no torch"
    return f"{head}, {len(lock.packages)} packages"

