"""The plan of a command: what it names, what pip says it pulls in, and the planner's answer."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from packaging.utils import canonicalize_name

from pipguard import console, pipcommand, pipreport, runner
from pipguard.detect import detect_overridden
from pipguard.errors import NoMatchingBuild
from pipguard.index import IndexClient
from pipguard.installed import inspect_named
from pipguard.options import settings
from pipguard.pipargs import CommandLine
from pipguard.plan import Plan
from pipguard.planner import candidate_variants, family_requests, plan
from pipguard.reqfiles import Wanted, read_wanted
from pipguard.resolution import Request
from pipguard.session import Session, find_target, load_tables
from pipguard.simple import IndexFile
from pipguard.target import marker_environment


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


def open_session(cl: CommandLine, environ: Mapping[str, str]) -> Session:
    """Gather the session of one command: settings, target, hardware, tables."""
    s = settings(cl, environ)
    return Session(cl, s, find_target(s, cl), detect_overridden(s.sysroot, s.path, s.overrides),
                   load_tables(s))


def wanted_of(cl: CommandLine) -> Wanted:
    """What the command line names (bad requirements are usage errors here)."""
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
    variants = list(candidate_variants(s.hw, s.interp, s.kn, s.hw.torch_backend))

    def plan_with(client: IndexClient) -> Plan:
        source = ClientSource(client)
        source.prefetch(variants, sorted(names | {"torch"}))
        return plan(reqs, hw=s.hw, interp=s.interp, kn=s.kn, source=source,
                    variant_url=client.variant_url,
                    prereleases=client.channel != "stable" or wanted.pre)

    try:
        result = plan_with(s.client)
    except NoMatchingBuild:
        if s.client.platforms is None:
            raise
        # Nothing fits: say why with every platform's files in view ("no wheel for
        # darwin/x86_64; the newest release with wheels for it is ...").
        result = plan_with(s.client.everywhere())
    notes = tuple(dict.fromkeys((*result.notes, *s.client.notes)))
    return Plan(result.variant, result.packages, notes, result.warnings, result.rejected,
                result.index_url)


def plan_for_command(s: Session, tmp: Path, installed: dict[str, str] | None = None
                     ) -> Plan | None:
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
    if pipcommand.has_opaque(wanted, s.family) and not s.cl.has("--no-deps"):
        pins: tuple[str, ...] = ()
        if current is not None:
            pins = pipcommand.pin_lines(current, installed or {},
                                        reinstall=pipcommand.wants_reinstall(s.cl))
        report_path = tmp / "discover.json"
        done = runner.run(pipcommand.discovery_argv(s.cl, s.pip, str(report_path), pins),
                          capture=True)
        if done.returncode != 0:
            console.say("pip could not resolve the request while looking for torch-family "
                        "dependencies; continuing with what the command names directly")
        else:
            report = pipreport.parse_report(_read(report_path))
            extra = pipreport.transitive_requests(report, s.family)
            unplanned = [r for r in extra if current is None or current.package(
                canonicalize_name(r.requirement.name)) is None]
            if unplanned or (current is not None and pipreport.audit_routing(
                    report, current, s.family)):
                current = make_plan(s, requests + extra, wanted)
    return current


def installed_versions(s: Session) -> dict[str, str]:
    """Family distributions installed in the target, by version (finished installs only)."""
    # pip writes INSTALLER last, so a distribution without it was interrupted
    # and must be reinstalled from its file.
    return {d.name: d.version for d in inspect_named(s.interp.python, sorted(s.family))
            if d.installer is not None}


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""
