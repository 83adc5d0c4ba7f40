"""The plan of a command and the guard: what it names, what pip resolves it to, the audit.

Also how pipguard runs pip for a command (the guard's resolution and the install itself):
output streamed, a corrupt download retried once without pip's cache, a failure diagnosed
once (:mod:`pipguard.explain`; whether a retry is worth it is :mod:`pipguard.pipfailure`'s).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from pipguard import console, pipcommand, pipreport, render, runner, wheelmeta
from pipguard.detect import detect_overridden
from pipguard.errors import GuardError, NoMatchingBuild, Unresolvable
from pipguard.findings import Finding
from pipguard.hardware import Hardware
from pipguard.index import IndexClient
from pipguard.installed import InstalledDist, inspect_named
from pipguard.options import settings
from pipguard.pipargs import CommandLine
from pipguard.pipfailure import corrupt_download, integrity_error, out_of_memory
from pipguard.plan import Plan
from pipguard.planner import candidate_variants, family_requests, plan
from pipguard.provenance import is_planned_copy
from pipguard.reqfiles import Wanted
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
        return wheelmeta.read(self.client, file)

    def prefetch(self, variants: list[str], projects: list[str]) -> None:
        for key, page in self.client.pages([(v, p) for v in variants for p in projects]).items():
            self._seen[key] = None if page.missing else page.files


def open_session(cl: CommandLine, environ: Mapping[str, str]) -> Session:
    """Gather the session of one command: settings, target, hardware, tables."""
    s = settings(cl, environ)
    interp = find_target(s, cl)
    # pip reads its configuration (a pip start) on another core while pipguard detects.
    session = Session(cl, s, interp, Hardware(), load_tables(s))
    session.ask_pip_config()
    session.hw = detect_overridden(s.sysroot, s.path, s.overrides)
    return session


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
        if s.client.tags is None:
            raise
        # Nothing fits: say why with every platform's files in view ("no wheel for
        # darwin/x86_64; the newest release with wheels for it is ...").
        result = plan_with(s.client.everywhere())
    named = s.settings.torch_index_from
    said = (f"the torch index {s.client.base_url}" + (f" and the variant {s.hw.torch_backend}"
            if s.hw.torch_backend else "") + f" come from pip's {named}",) if named else ()
    notes = tuple(dict.fromkeys((*said, *result.notes, *s.client.notes)))
    return Plan(result.variant, result.packages, notes, result.warnings, result.rejected,
                result.index_url)


@dataclass(frozen=True)
class Guarded:
    """A plan that pip's own resolution of the command agrees with (the audit passed)."""

    plan: Plan | None  # None: pip's resolution needs no family file from the torch index
    pins: tuple[str, ...]
    report: dict[str, Any]  # pip's dry-run report of exactly the command with these pins


# Each round is one pip resolution: plan, let pip resolve with the pins, audit. A name
# found in the audit is planned in the next round; more rounds than this mean pip keeps
# naming files pipguard cannot plan, and the guard stops.
MAX_ROUNDS = 3


def guard(s: Session, tmp: Path, installed: Mapping[str, InstalledDist], *,
          echo: bool = True) -> Guarded:
    """Plan the family and check it against pip's own reading of the command.

    pip decides what the command means (nested and quoted ``-r``, stacked and abbreviated
    options, ``PIP_*`` variables, config files, constraints): it resolves the command with
    the planned pins (``install --dry-run --report``) and every family item of its report
    must be a planned file with the planned hash. What pipguard reads of the command line
    itself is only a first guess. Fails closed (:class:`GuardError`): nothing is installed
    when pip cannot resolve, or keeps naming family files that are not planned.
    """
    wanted = s.wanted
    requests, plan, keep = _first_round(s, wanted, installed)
    no_deps = s.cl.has("--no-deps")
    leaks: list[pipreport.Leak] = []
    for _ in range(MAX_ROUNDS):
        only = frozenset(canonicalize_name(r.requirement.name) for r in requests) \
            if no_deps else None
        pins = pipcommand.pin_lines(plan, _planned_copies(plan, installed),
                                    reinstall=pipcommand.wants_reinstall(s.cl),
                                    only=only) if plan is not None else ()
        report = _resolve(s, tmp, plan, pins, echo)
        leaks = pipreport.audit(report, plan, s.family)
        if not leaks:
            return Guarded(plan, pins, report)
        needs = [r for r in pipreport.family_needs(report, s.family)
                 if not any(_same(r, q) for q in requests)]
        if not needs and all(leak.name in _names(plan) for leak in leaks):
            break  # pip takes another file for a planned name: replanning will not help
        requests = requests + needs + _companions_to_move(s, plan, keep, requests + needs)
        plan = make_plan(s, requests, wanted)
    raise GuardError(
        "pip's resolution of this command takes torch-family files that are not the planned "
        "ones: " + "; ".join(str(leak) for leak in leaks[:3]),
        hint="nothing was installed; a constraint or a pin of the command forces another "
             "build (see `pipguard plan`), or an index serves a look-alike")


# Options that neither change whether installed files are replaced nor make pip write a
# report of its own: a command with only these resolves once (see resolves_once). Anything
# else, from the command line or pip's configuration (abbreviations, --group,
# PIP_FORCE_REINSTALL, --report …), is not.
_ONCE_SAFE = frozenset({
    "-q", "--quiet", "-v", "--verbose", "-i", "--index-url", "--extra-index-url", "-f",
    "--find-links", "--no-index", "--pre", "--no-cache-dir", "--cache-dir", "--timeout",
    "--retries", "--proxy", "--cert", "--client-cert", "--no-deps", "-U",
    "--upgrade", "--no-compile", "--compile", "--no-warn-conflicts",
    "--no-warn-script-location", "--disable-pip-version-check", "--progress-bar",
    "--root-user-action", "--break-system-packages", "-c", "--constraint", "--only-binary",
    "--prefer-binary", "--isolated", "--require-virtualenv", "--log", "--no-input",
    "--keyring-provider", "--exists-action", "--no-build-isolation", "--no-clean",
    "-t", "--target", "--prefix", "--root", "--user", "-r", "--requirement", "-e", "--editable",
})
# Only where the command names nothing but family requirements (the planner then moves the
# family itself): with other names, an eager upgrade would want to move installed family
# packages the install's constraints hold where they are.
_FAMILY_ONLY = frozenset({"--upgrade-strategy"})


def resolves_once(s: Session) -> bool:
    """Whether the install can be its own audit: one pip resolution, with options from
    :data:`_ONCE_SAFE` only (on the command line and in pip's configuration).

    What pipguard reads of the command (its names, its requirements files) is only a first
    guess; the install carries the plan's pins and constraints under which every other
    family name never installs or stays exactly as installed, so a resolution that needs
    any family file pipguard did not plan, however pip read the command, fails in pip
    before anything is installed (:func:`pipguard.commands.install._install_once`)."""
    wanted = s.wanted
    family_only = bool(wanted.requirements) and not pipcommand.has_opaque(wanted, s.family)
    allowed = _ONCE_SAFE | _FAMILY_ONLY if family_only else _ONCE_SAFE
    # From pip's configuration, no place to install to: what is installed would then be
    # another environment's (or none), not the snapshot the constraints are made from.
    config = {o.lstrip("-") for o in allowed if o.startswith("--")} - {
        "requirement", "editable", "target", "prefix", "root", "user"} | {
        "default-timeout", "config-file"}
    options = [o.name for o in (*s.cl.pip_globals, *s.cl.rest) if not isinstance(o, str)]
    # pip sees PYTHONPATH and (outside a venv) the user site; pipguard's snapshot of what is
    # installed (the target's probe, run isolated) does not: there pip is asked first.
    seen_alike = not s.settings.pythonpath and (s.interp.user_site is None
                                                 or s.settings.no_user_site)
    return (bool(wanted.requirements or wanted.opaque) and seen_alike
            and all(o in allowed or o == "--python" for o in options)
            and set(s.pip_config) <= config)


def plan_once(s: Session, installed: Mapping[str, InstalledDist]
              ) -> tuple[Plan | None, tuple[str, ...], frozenset[str]]:
    """The plan, pins and pinned names of a command that :func:`resolves_once`, without
    asking pip: the first round of :func:`guard` (companions of a torch that moves move
    with it; no plan when the command names no family requirement). A planned copy already
    installed is pinned by its exact version string (``===``): no other file of that
    version, from any index, satisfies it."""
    requests, plan, _ = _first_round(s, s.wanted, installed)
    if plan is None:
        return None, (), frozenset()
    only = frozenset(canonicalize_name(r.requirement.name) for r in requests) \
        if s.cl.has("--no-deps") else None
    pins = pipcommand.pin_lines(plan, _planned_copies(plan, installed), exact=True,
                                reinstall=pipcommand.wants_reinstall(s.cl), only=only)
    return plan, pins, frozenset(p.name for p in plan.packages
                                 if only is None or p.name in only)


def _first_round(s: Session, wanted: Wanted, installed: Mapping[str, InstalledDist]
                 ) -> tuple[list[Request], Plan | None, dict[str, str]]:
    """What the command line asks of the family, its plan, and the installed versions
    (pip's installs): a torch that moves takes its installed companions along."""
    env = {**marker_environment(s.interp), "extra": ""}
    # A requirement whose marker is false for the target is not installed by pip.
    requests = [r for r in family_requests(list(wanted.requirements), s.family)
                if r.requirement.marker is None or r.requirement.marker.evaluate(env)]
    keep = {n: d.version for n, d in installed.items() if d.installer is not None}
    plan: Plan | None = make_plan(s, requests, wanted) if requests else None
    if moved := _companions_to_move(s, plan, keep, requests):
        requests = requests + moved
        plan = make_plan(s, requests, wanted)
    return requests, plan, keep


def preview(s: Session, tmp: Path) -> Plan | None:
    """``pipguard plan``: what install would take. When the command names only family
    requirements on its command line the planner answers alone (no pip run); otherwise
    pip resolves it, exactly as :func:`guard` does for ``install``."""
    wanted = s.wanted
    if pipcommand.has_opaque(wanted, s.family) or s.cl.has("-r", "--requirement"):
        return guard(s, tmp, {}).plan
    env = {**marker_environment(s.interp), "extra": ""}
    requests = [r for r in family_requests(list(wanted.requirements), s.family)
                if r.requirement.marker is None or r.requirement.marker.evaluate(env)]
    return make_plan(s, requests, wanted) if requests else None


def _names(plan: Plan | None) -> set[str]:
    return {p.name for p in plan.packages} if plan is not None else set()


def _same(a: Request, b: Request) -> bool:
    return str(a.requirement) == str(b.requirement)


def _planned_copies(plan: Plan | None, installed: Mapping[str, InstalledDist]) -> dict[str, str]:
    """Planned packages whose installed copy is the planned file (see provenance)."""
    if plan is None:
        return {}
    return {p.name: p.version for p in plan.packages
            if (d := installed.get(p.name)) is not None and d.installer is not None
            and is_planned_copy(d, p)}


def _companions_to_move(s: Session, plan: Plan | None, keep: Mapping[str, str],
                        requests: list[Request]) -> list[Request]:
    """Installed companions of a torch the command moves: they move with it."""
    torch = plan.package("torch") if plan is not None else None
    if torch is None or keep.get("torch") in (None, torch.version):
        return []
    named = {canonicalize_name(r.requirement.name) for r in requests}
    return [Request(Requirement(n), f"installed {n} {keep[n]}, moved with torch")
            for n in s.kn.companion_names() if n in keep and n not in named]


def _resolve(s: Session, tmp: Path, plan: Plan | None, pins: tuple[str, ...], echo: bool
             ) -> dict[str, Any]:
    """pip's resolution of the command with the pins, as its report; fails closed. ``echo``
    False: pip's words on failure are not shown (they were, by the install just before)."""
    report_path = tmp / "resolution.json"
    report_path.unlink(missing_ok=True)
    argv = pipcommand.discovery_argv(s.cl, s.pip, str(report_path), pins)
    done = run_with_retry(argv, plan or Plan("", ()), s, quiet=True, echo=echo)
    report = pipreport.parse_report(_read(report_path)) if done.returncode == 0 else {}
    if done.returncode != 0 or "install" not in report:
        why = _last_error(done.stderr) or f"pip exited with {done.returncode}"
        raise Unresolvable(f"pip could not resolve the command, so where the torch family "
                         f"comes from cannot be checked: {why}")
    return report


def _last_error(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("ERROR:")]
    return (errors or lines or [""])[-1][:400]


def installed_family(s: Session) -> dict[str, InstalledDist]:
    """Family distributions installed in the target (pip writes INSTALLER last: one
    without it was interrupted, and is reinstalled from its file)."""
    return {d.name: d for d in inspect_named(s.interp.path, sorted(s.family))}


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


# -- running pip for a command: stream, retry a corrupt download once, diagnose --------

# At most this many retries in one run, whatever else pip reports.
_MAX_RETRIES = 8


def run_pip(argv: list[str], *, quiet: bool = False) -> runner.Completed:
    """Run pip with its output streaming through (and kept, for a diagnosis)."""
    return runner.run(argv, capture=True) if quiet else runner.run(argv, capture=False, tee=True)


def run_with_retry(argv: list[str], plan: Plan, s: Session, *, quiet: bool = False,
                   explain_failure: bool = True, echo: bool = True) -> runner.Completed:
    """Run pip; retry each corrupt file once (without pip's cache); stop on a repeat.

    pip out of memory while downloading or caching: one more try without its cache. Any
    other failure is diagnosed (after pip's own output, which a quiet run shows only now)
    and returned.
    """
    failed: set[str] = set()
    while True:
        done = run_pip(argv, quiet=quiet)
        if done.returncode == 0:
            return done
        output = done.stdout + "\n" + done.stderr
        findings = diagnose(output, s, plan)
        bad = corrupt_download(output, findings, plan)
        oom = out_of_memory(output, findings) if bad is None else None
        if oom is not None and "--no-cache-dir" not in argv:  # once: the retry has it
            console.say(f"pip ran out of memory while downloading or caching {oom.what}; "
                        "retrying once without pip's cache")
            argv = pipcommand.no_cache(argv)
            continue
        if bad is None:
            if quiet and echo:
                console.show(done.stderr)
            if explain_failure:
                for line in render.diagnosis_lines(findings):
                    console.say(line)
            return done
        if bad.key in failed or len(failed) >= _MAX_RETRIES:
            raise integrity_error(plan, bad)
        failed.add(bad.key)
        if bad.name:
            run_pip(pipcommand.cache_remove_argv(s.cl, s.pip, bad.name), quiet=True)
        console.say(f"a download of {bad.name or bad.key or 'a file'} arrived corrupt; "
                    "retrying once without pip's cache")
        argv = pipcommand.no_cache(argv)


def diagnose(output: str, s: Session, plan: Plan) -> list[Finding]:
    """The findings for a failed pip run, made once."""
    # The torch index the user chose (a mirror, say) is the one we route to on
    # purpose: a warning that its builds come from a non-pytorch.org host is noise.
    own_host = urlsplit(plan.index_url).netloc
    # Imported here: only a failed pip run needs the rules (hundreds of regexes compiled).
    from pipguard.explain import explain
    from pipguard.explain_doc import Context
    from pipguard.knowledge_tables import load_word_model

    return [f for f in explain(output, Context(s.kn, hardware=s.hw, words=load_word_model()))
            if not (f.category == "dependency-confusion" and f.severity == "warning"
                    and own_host and own_host in f.message)]
