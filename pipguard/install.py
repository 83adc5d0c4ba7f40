"""``pipguard install`` (and ``download``, ``wheel``, ``lock``): route, delegate, verify.

1. Read what the command asks for; when something other than the torch family
   is named (a project, an editable, a package that may pull torch in), ask the
   real pip what it would install (``--dry-run --report``) to find the family
   packages it pulls in transitively.
2. Plan the family (:mod:`pipguard.planner`).
3. Hand pip the user's command unchanged, preceded by a pin of every planned
   family package to its file on the torch index, as a direct reference with
   the index's ``#sha256=``: pip then takes those packages from there and
   nowhere else, and checks the hash before anything is installed.
4. When pip fails on a corrupt download, retry that file once without pip's
   cache; when it fails otherwise, print a diagnosis (:mod:`pipguard.explain`).
5. Verify what landed against RECORD; repair a broken planned distribution by
   reinstalling it from its pinned file.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from pipguard import runner
from pipguard.errors import IntegrityError
from pipguard.pipargs import CommandLine, Option
from pipguard.planner import Plan
from pipguard.reqfiles import Wanted
from pipguard.resolve import Request
from pipguard.target import Interpreter, pip_command

# Options of `pip install` that may be repeated in a discovery run; the rest
# (report, target dirs, ...) either don't matter for resolution or are ours.
_DISCOVERY_DROP = frozenset({"--report", "--dry-run", "-d", "--dest", "-w", "--wheel-dir",
                             "-o", "--output", "--progress-bar"})


def pin_lines(plan: Plan, installed: Mapping[str, str], *, reinstall: bool) -> tuple[str, ...]:
    """Pin each planned package: to its file, or to its version when it is already there.

    A package installed at exactly the planned version (local label included)
    is pinned by version, so pip keeps it instead of downloading it again.
    """
    return tuple(
        f"{p.name}=={p.version}"
        if not reinstall and installed.get(p.name) == p.version
        else file_pin(plan, p.name)
        for p in plan.packages
    )


def file_pin(plan: Plan, name: str) -> str:
    """The direct reference to a planned package's file, with the index's hash."""
    p = plan.package(name)
    assert p is not None
    return f"{p.name} @ {p.url}" + (f"#sha256={p.sha256}" if p.sha256 else "")


def discovery_argv(cl: CommandLine, interp: Interpreter, report: Path,
                   pins: Sequence[str] = ()) -> list[str]:
    """``pip install --dry-run --report`` over what the user's command names."""
    # The pins go first, for the reason given in :func:`command_argv`.
    argv = [*pip_command(interp), *cl.global_tokens(), "install", *pins, "--dry-run", "--quiet",
            "--report", str(report)]
    for item in cl.rest:
        if isinstance(item, str):
            argv.append(item)
        elif item.name not in _DISCOVERY_DROP:
            argv.extend(item.tokens)
    if cl.command in ("download", "wheel") and not cl.has("--ignore-installed", "-I"):
        argv.append("--ignore-installed")
    return argv


def command_argv(cl: CommandLine, interp: Interpreter, pins: Sequence[str]) -> list[str]:
    """The user's pip command with the pins added, and ``--dry-run`` (ours) removed.

    The pins are requirement arguments placed *before* everything the user
    wrote. pip's resolver looks each root requirement up as it meets it, and
    it meets command-line requirements before ``-r`` files and editables: a
    user's ``torch==2.5.1`` met before the direct reference that satisfies it
    is searched for on the user's index alone, where it may not exist ("No
    matching distribution"). Met after the pin, it only narrows the pinned file.
    """
    assert cl.command is not None
    rest = [t for item in cl.rest if not (isinstance(item, Option) and item.name == "--dry-run")
            for t in (item.tokens if isinstance(item, Option) else (item,))]
    return [*pip_command(interp), *cl.global_tokens(), cl.command, *pins, *rest]


def transitive_requests(report: Mapping[str, Any], family: frozenset[str]) -> list[Request]:
    """Family requirements of the packages pip would install (from its report)."""
    env = {k: str(v) for k, v in (report.get("environment") or {}).items()}
    out: list[Request] = []
    for item in report.get("install", []) or []:
        meta = item.get("metadata") or {}
        name = canonicalize_name(str(meta.get("name", "")))
        origin = f"{name} {meta.get('version', '')}".strip()
        extras = frozenset(item.get("requested_extras") or ())
        if name in family and item.get("requested"):
            # A family package pip found on the user's indexes: plan it ourselves.
            out.append(Request(Requirement(name), origin + " (requested)"))
        for line in meta.get("requires_dist") or ():
            try:
                req = Requirement(str(line))
            except InvalidRequirement:
                continue
            if canonicalize_name(req.name) not in family:
                continue
            if req.marker is not None and not any(
                req.marker.evaluate({**env, "extra": e}) for e in (extras or {""})
            ):
                continue
            out.append(Request(req, origin))
    return out


def family_items(report: Mapping[str, Any], family: frozenset[str]) -> list[dict[str, Any]]:
    """Report items that are torch-family packages."""
    return [i for i in report.get("install", []) or []
            if canonicalize_name(str((i.get("metadata") or {}).get("name", ""))) in family]


def audit_routing(report: Mapping[str, Any], plan: Plan, family: frozenset[str]) -> list[str]:
    """Family packages in pip's report that did not come from the planned files."""
    planned = {p.name: p for p in plan.packages}
    problems = []
    for item in family_items(report, family):
        meta = item.get("metadata") or {}
        name = canonicalize_name(str(meta.get("name", "")))
        url = str((item.get("download_info") or {}).get("url", ""))
        p = planned.get(name)
        if p is None or url.split("#")[0] != p.url:
            problems.append(f"{name} {meta.get('version')} from {url or 'an unknown place'}")
    return problems


def run_pip(argv: Sequence[str], *, quiet_output: bool = False) -> runner.Completed:
    """Run pip with its output streaming through (and kept, for a diagnosis)."""
    if quiet_output:
        return runner.run(argv, capture=True)
    return runner.run(argv, capture=False, tee=True)


@dataclass(frozen=True)
class Corrupt:
    """One download pip rejected: which file, and the hashes pip printed."""

    key: str  # identifies the file across attempts: its expected hash, else its name
    name: str | None  # the planned package it belongs to, if any
    expected: str | None
    actual: str | None
    evidence: str


_HASHES = re.compile(r"Expected\s+sha256\s+([0-9a-f]{64})\s+Got\s+([0-9a-f]{64})", re.I)
_WHEEL = re.compile(r"([A-Za-z0-9_.+%-]+\.whl)")


def integrity_failure(output: str, plan: Plan) -> Corrupt | None:
    """Whether pip failed on a corrupt or mismatching download, and which file.

    pip has no machine-readable failure report, so this reads its text; it only
    decides whether one more try is worth it, never what gets installed. A
    file is known by the hash pip expected (its published sha256), so each
    file gets its own retry however pip words the rest.
    """
    from pipguard.explain import explain
    from pipguard.explain_doc import Context
    from pipguard.knowledge_tables import default_knowledge

    found = explain(output, Context(facts=default_knowledge()))
    findings = [f for f in found if f.category == "download-integrity"]
    match = _HASHES.search(output)
    if not findings and match is None:
        return None
    evidence = findings[0].evidence if findings else match.group(0) if match else ""
    by_hash = {p.sha256: p for p in plan.packages if p.sha256}
    if match is not None:
        expected, actual = match.group(1).lower(), match.group(2).lower()
        p = by_hash.get(expected)
        return Corrupt(expected, p.name if p else None, expected, actual, evidence)
    # A broken archive (bad zip, truncated): name the wheel pip was handling.
    wheels = _WHEEL.findall(evidence) or _WHEEL.findall(output)
    names = [w.replace("%2B", "+") for w in wheels]
    for p in plan.packages:
        if p.filename in names:
            return Corrupt(p.filename, p.name, p.sha256, None, evidence)
    return Corrupt(names[-1] if names else "", None, None, None, evidence)


def integrity_error(plan: Plan, bad: Corrupt) -> IntegrityError:
    """The error for a file that failed its check on the retry too."""
    p = plan.package(bad.name) if bad.name else None
    where = f"{p.name} ({p.filename}) from {plan.index_url}" if p else (
        bad.key if bad.key and not bad.expected else "a download")
    hashes = (f"expected sha256 {bad.expected}, got {bad.actual}" if bad.actual
              else f"expected sha256 {bad.expected}, got an unreadable archive"
              if bad.expected else "the archive is unreadable")
    return IntegrityError(
        f"{where} failed its integrity check twice: {hashes}",
        hint="the index or a proxy serves a file that differs from its published hash; "
             "nothing was installed",
    )


def read_report(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def temp_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="pipguard-")


def say(line: str) -> None:
    """pipguard's own lines go to stderr: pip's stdout (``--report -``) stays pip's."""
    sys.stderr.write(f"pipguard: {line}\n")
    sys.stderr.flush()


def quote_argv(argv: Sequence[str]) -> str:
    import shlex

    return " ".join(shlex.quote(a) for a in argv)


def wants_reinstall(cl: CommandLine) -> bool:
    return cl.has("--force-reinstall", "-I", "--ignore-installed")


def no_cache(argv: list[str]) -> list[str]:
    return argv if "--no-cache-dir" in argv else [*argv, "--no-cache-dir"]


def has_opaque(wanted: Wanted, family: frozenset[str]) -> bool:
    """Whether pip must be asked what the command pulls in."""
    return bool(wanted.opaque) or any(
        canonicalize_name(r.name) not in family for r, _ in wanted.requirements
    )
