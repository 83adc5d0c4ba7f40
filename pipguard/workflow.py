"""The commands that plan and install, as functions over a :class:`Session`.

A session gathers everything a command needs — the parsed command line, the
target interpreter, the hardware (detected, then overridden), the knowledge
tables and the index client — so the steps below stay small.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from pipguard import install as steps
from pipguard.errors import CheckFailed, UsageError
from pipguard.hardware import Hardware, target_hardware
from pipguard.pipargs import CommandLine
from pipguard.planner import Plan, family_requests, marker_environment, plan, summary_line
from pipguard.reqfiles import Wanted, read_wanted
from pipguard.resolve import Request
from pipguard.simple import IndexFile
from pipguard.target import (
    Interpreter,
    choose_python,
    cross_target,
    inspect_interpreter,
    pip_command,
)

if TYPE_CHECKING:
    from pipguard.index import IndexClient
    from pipguard.knowledge import Knowledge


class ClientSource:
    """Adapts :class:`~pipguard.index.IndexClient` to the planner's IndexSource."""

    def __init__(self, client: IndexClient) -> None:
        self.client = client
        # One fetch per page per run, however often the planner asks.
        self._seen: dict[tuple[str, str], tuple[IndexFile, ...] | None] = {}

    def files(self, variant: str, project: str) -> tuple[IndexFile, ...] | None:
        key = (variant, project)
        if key not in self._seen:
            page = self.client.page(variant, project)
            self._seen[key] = None if page.missing else page.files
        return self._seen[key]

    def metadata(self, file: IndexFile) -> str:
        return self.client.metadata(file)

    def prefetch(self, variants: list[str], projects: list[str]) -> None:
        for key, page in self.client.pages([(v, p) for v in variants for p in projects]).items():
            self._seen[key] = None if page.missing else page.files


@dataclass
class Session:
    """What every planning command works with."""

    cl: CommandLine
    environ: Mapping[str, str]
    interp: Interpreter
    hw: Hardware
    kn: Knowledge
    _client: IndexClient | None = field(default=None, repr=False)

    @property
    def client(self) -> IndexClient:
        if self._client is None:
            from pipguard.index import DEFAULT_INDEX_URL, IndexClient

            base = (self.cl.own.get("--torch-index-url")
                    or self.environ.get("PIPGUARD_TORCH_INDEX_URL") or DEFAULT_INDEX_URL)
            channel = (self.cl.own.get("--torch-channel")
                       or self.environ.get("PIPGUARD_TORCH_CHANNEL") or "stable")
            if channel not in ("stable", "test", "nightly"):
                raise UsageError(f"unknown torch channel {channel!r}",
                                 hint="use stable, test or nightly")
            offline = "--offline" in self.cl.own_flags or self.environ.get(
                "PIPGUARD_OFFLINE", "") not in ("", "0")
            self._client = IndexClient(base.rstrip("/"), channel, offline=offline)
        return self._client

    @property
    def channel(self) -> str:
        return self.client.channel

    @property
    def family(self) -> frozenset[str]:
        return self.kn.family()


def hardware(cl: CommandLine, environ: Mapping[str, str]) -> Hardware:
    """Detected hardware with the overrides applied."""
    return target_hardware(cl.own, environ)


def knowledge(cl: CommandLine, environ: Mapping[str, str]) -> Knowledge:
    from pipguard.knowledge_tables import load_knowledge

    name = cl.own.get("--knowledge-file") or environ.get("PIPGUARD_KNOWLEDGE_FILE")
    return load_knowledge(Path(name) if name else None)


def interpreter(cl: CommandLine, environ: Mapping[str, str]) -> Interpreter:
    interp = inspect_interpreter(choose_python(cl.python, environ))
    platforms = cl.options("--platform")
    pyver = cl.options("--python-version")
    abis = cl.options("--abi")
    if platforms or pyver or abis:
        interp = cross_target(interp, platforms=platforms,
                              python_version=pyver[-1] if pyver else None, abis=abis)
    return interp


def open_session(cl: CommandLine, environ: Mapping[str, str] | None = None) -> Session:
    env = os.environ if environ is None else environ
    return Session(cl, env, interpreter(cl, env), hardware(cl, env), knowledge(cl, env))


def wanted_of(cl: CommandLine) -> Wanted:
    return read_wanted(
        [p for p in cl.positionals() if p != "--"],
        cl.options("-r", "--requirement"),
        cl.options("-c", "--constraint"),
        cl.options("-e", "--editable"),
        pre=cl.has("--pre"),
    )


def make_plan(s: Session, requests: list[Request], wanted: Wanted) -> Plan:
    """Plan the family for ``requests`` (constraints on family names apply too)."""
    names = {canonicalize_name(r.requirement.name) for r in requests}
    reqs = list(requests) + [
        Request(r, origin) for r, origin in wanted.constraints
        if canonicalize_name(r.name) in names and not r.url
    ]
    source = ClientSource(s.client)
    from pipguard.planner import candidate_variants

    variants = list(candidate_variants(s.hw, s.interp, s.kn, s.hw.torch_backend))
    source.prefetch(variants, sorted(names | {"torch"}))
    prerelease = s.channel != "stable" or wanted.pre
    result = plan(reqs, hw=s.hw, interp=s.interp, kn=s.kn, source=source,
                  index_url=s.client.variant_url("VARIANT"), prereleases=prerelease)
    url = s.client.variant_url(result.backend).rstrip("/")
    notes = tuple(result.notes) + tuple(s.client.notes)
    return Plan(result.backend, result.packages, tuple(dict.fromkeys(notes)),
                result.warnings, result.rejected, url)


def plan_for_command(s: Session, tmp: Path,
                     installed: Mapping[str, str] | None = None) -> Plan | None:
    """The plan for what the command line names, discovering transitive needs via pip.

    ``installed`` (family name -> version) lets the discovery run keep what is
    already there instead of fetching it again to read its metadata.
    """
    wanted = wanted_of(s.cl)
    # A requirement whose marker is false for the target is not installed by
    # pip: planning it would pin (and install) it regardless.
    env = marker_environment(s.interp)
    requests = [r for r in family_requests(list(wanted.requirements), s.family)
                if r.requirement.marker is None
                or r.requirement.marker.evaluate({**env, "extra": ""})]
    current: Plan | None = make_plan(s, requests, wanted) if requests else None
    if steps.has_opaque(wanted, s.family) and not s.cl.has("--no-deps"):
        pins: tuple[str, ...] = ()
        if current is not None:
            pins = steps.pin_lines(current, installed or {},
                                   reinstall=steps.wants_reinstall(s.cl))
        report_path = tmp / "discover.json"
        argv = steps.discovery_argv(s.cl, s.interp, report_path, pins)
        done = steps.run_pip(argv, quiet_output=True)
        if done.returncode != 0:
            steps.say("pip could not resolve the request while looking for torch-family "
                      "dependencies; continuing with what the command names directly")
        else:
            report = steps.read_report(report_path)
            extra = steps.transitive_requests(report, s.family)
            unplanned = [r for r in extra if current is None or current.package(
                canonicalize_name(r.requirement.name)) is None]
            if unplanned or (current is not None and steps.audit_routing(
                    report, current, s.family)):
                current = make_plan(s, requests + extra, wanted)
    return current


def installed_versions(s: Session) -> dict[str, str]:
    from pipguard.environment import inspect_named

    # Only a finished install counts: pip writes INSTALLER last, so a
    # distribution without it was interrupted and must be reinstalled from its file.
    return {d.name: d.version for d in inspect_named(s.interp.python, sorted(s.family))
            if d.installer is not None}


def verify_planned(s: Session, plan_: Plan) -> list[tuple[str, bool]]:
    """Planned distributions whose installed files fail RECORD, and whether RECORD is gone."""
    from pipguard.environment import inspect_named
    from pipguard.verify import verify_many

    names = {p.name for p in plan_.packages}
    dists = [d for d in inspect_named(s.interp.python, sorted(names)) if d.name in names]
    results = verify_many(dists)
    broken = [(r.name, r.record_missing) for r in results if not r.ok]
    for d, r in zip(dists, results, strict=True):
        if d.dist_info and any(p.problem == "incomplete" for p in r.problems):
            _drop_temp_files(Path(d.dist_info))
    for r in results:
        for prob in r.problems[:5]:
            steps.say(f"{r.name}: {prob.problem} {prob.path}")
    return broken


def _drop_temp_files(dist_info: Path) -> None:
    """Remove the temporary files a killed pip left in a dist-info folder.

    Only ``*.tmp`` files of a distribution verify found unfinished: they keep
    pip's uninstall from removing the folder, so the reinstall would inherit them.
    """
    for tmp in dist_info.glob("*.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()


def run_install(s: Session) -> int:
    """``pipguard install|download|wheel|lock``: plan, delegate to pip, verify."""
    cl = s.cl
    dry_run = cl.has("--dry-run")
    is_install = cl.command == "install"
    # Version pins rely on pip seeing what `pip inspect` sees; with --target,
    # --prefix or --root it installs elsewhere (--target even ignores what is
    # installed), and download/wheel/lock ignore it: there, always the file.
    elsewhere = cl.has("--target", "-t", "--prefix", "--root")
    wanted_of(cl)  # bad requirements are usage errors before anything runs
    installed = installed_versions(s) if is_install and not elsewhere else {}
    with steps.temp_dir() as tmpname:
        plan_ = plan_for_command(s, Path(tmpname), installed)
        if plan_ is None:
            base = [*pip_command(s.interp), *[a for a in cl.pip_argv if a != "--dry-run"]]
            if dry_run:
                steps.say("no torch-family package involved; pip would run as is")
                print(steps.quote_argv(base))
                return 0
            return steps.run_pip(base).returncode
        pins = steps.pin_lines(plan_, installed, reinstall=steps.wants_reinstall(cl))
        argv = steps.command_argv(cl, s.interp, pins)
        report_path: Path | None = None
        if is_install and not dry_run:
            user_report = cl.options("--report")
            if user_report and user_report[-1] != "-":
                report_path = Path(user_report[-1])
            elif not user_report:
                report_path = Path(tmpname) / "report.json"
                argv += ["--report", str(report_path)]
        if dry_run:
            # The plan and the exact command, on stdout; nothing runs.
            print(summary_line(plan_, s.hw))
            for w in plan_.warnings:
                print(f"warning: {w}")
            for line in pins:
                print(f"  {line}")
            print(steps.quote_argv(argv))
            return 0
        steps.say(summary_line(plan_, s.hw))
        for w in plan_.warnings:
            steps.say(f"warning: {w}")
        steps.say("running: " + steps.quote_argv(argv))
        rc = _run_with_retry(argv, plan_, s)
        if rc != 0 or not is_install:
            return rc
        if report_path is not None:
            leaks = steps.audit_routing(steps.read_report(report_path), plan_, s.family)
            for leak in leaks:
                steps.say(f"warning: torch-family package not from the torch index: {leak}")
        if elsewhere or cl.has("--user"):
            steps.say("installed outside the interpreter's environment; run `pipguard verify` "
                      "with --python on an interpreter that sees it")
            return 0
        return _verify_and_repair(s, plan_)


def _verify_and_repair(s: Session, plan_: Plan) -> int:
    broken = verify_planned(s, plan_)
    if broken:
        steps.say("repairing " + ", ".join(n for n, _ in broken) + " from the torch index")
        # pip cannot uninstall a distribution whose RECORD is gone (a killed
        # install): those are installed over, the others reinstalled.
        for mode, names in (("--ignore-installed", [n for n, gone in broken if gone]),
                            ("--force-reinstall", [n for n, gone in broken if not gone])):
            if not names:
                continue
            repair = [*pip_command(s.interp), *s.cl.global_tokens(), "install", "--no-deps",
                      mode, *[steps.file_pin(plan_, n) for n in names]]
            rc = _run_with_retry(repair, plan_, s)
            if rc != 0:
                return rc
        if verify_planned(s, plan_):
            raise CheckFailed("installed files still differ from their RECORD after a repair",
                              hint="pipguard verify names them; pipguard doctor explains")
    steps.say(f"verified {', '.join(p.name + ' ' + p.version for p in plan_.packages)}")
    return 0


# At most this many retries in one install, whatever else pip reports.
_MAX_RETRIES = 8


def _run_with_retry(argv: list[str], plan_: Plan, s: Session) -> int:
    """Run pip; retry each corrupt file once (without pip's cache); stop on a repeat."""
    failed: set[str] = set()
    while True:
        done = steps.run_pip(argv)
        if done.returncode == 0:
            return 0
        output = done.stdout + "\n" + done.stderr
        bad = steps.integrity_failure(output, plan_)
        if bad is None:
            _diagnose(output, plan_)
            return done.returncode
        if bad.key in failed or len(failed) >= _MAX_RETRIES:
            raise steps.integrity_error(plan_, bad)
        failed.add(bad.key)
        if bad.name:
            # with the user's global options: --cache-dir names the cache to clean
            steps.run_pip([*pip_command(s.interp), *s.cl.global_tokens(), "cache", "remove",
                           bad.name], quiet_output=True)
        steps.say(f"a download of {bad.name or bad.key or 'a file'} arrived corrupt; "
                  "retrying once without pip's cache")
        argv = steps.no_cache(argv)


def _diagnose(output: str, plan_: Plan) -> None:
    from urllib.parse import urlsplit

    from pipguard.explain import explain
    from pipguard.explain_doc import Context
    from pipguard.knowledge_tables import default_knowledge

    # The torch index the user chose (a mirror, say) is the one we route to on
    # purpose: a warning that its builds come from a non-pytorch.org host is noise.
    own_host = urlsplit(plan_.index_url).netloc
    for f in explain(output, Context(facts=default_knowledge())):
        if (f.category == "dependency-confusion" and f.severity == "warning" and own_host
                and own_host in f.message):
            continue
        steps.say(f"diagnosis [{f.category}]: {f.message}")
        if f.fix:
            steps.say(f"  fix: {f.fix}")
