"""``pipguard install`` (and ``download``, ``wheel``, ``lock``): plan, delegate to pip, verify.

1. Plan the family for what the command names, asking the real pip
   (``--dry-run --report``) what it pulls in transitively (:mod:`.planning`). A command
   with only options that force no reinstall (``planning.resolves_once``: the common case,
   family names or not, requirements files included) skips that run: the install below is
   constrained so that pip fails before installing anything should it need a family file
   that is not planned, and only then is the dry run made (:func:`_install_once`).
2. Hand pip the user's command unchanged, preceded by a pin of every planned
   family package to its file on the torch index, as a direct reference with
   the index's ``#sha256=`` (:mod:`pipguard.pipcommand`), and the guard's constraints.
3. When pip fails on a corrupt download, retry that file once without pip's
   cache; when it runs out of memory downloading or caching, retry once without
   the cache; when it fails otherwise, print the diagnosis (made once).
4. Verify what landed against RECORD (``--verify quick``, the default: each file present
   at its RECORD size, since pip has just checked each archive's hash; ``full``: each
   file hashed); repair a broken planned distribution by reinstalling it from its file.

With ``--installer uv`` step 2 is ``uv pip install`` (:mod:`pipguard.uvcommand`): the same
pins, audit and constraints; pip's own resolution stays the audit.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

from pipguard import console, pipcommand, pipreport, render, runner, uvbin, uvcommand
from pipguard.commands.planning import (
    diagnose,
    guard,
    installed_family,
    plan_once,
    preview,
    resolves_once,
    run_with_retry,
)
from pipguard.doctor_environment import Environment
from pipguard.doctor_packages import companions
from pipguard.errors import CheckFailed, GuardError
from pipguard.fingerprints import verify_remembering
from pipguard.install_record import Installed, record_install
from pipguard.installed import InstalledDist, inspect_named
from pipguard.plan import Plan, PlannedPackage
from pipguard.provenance import is_planned_copy
from pipguard.results import DryRun
from pipguard.session import Session
from pipguard.target import marker_environment
from pipguard.verify import DistVerification, verify_many


def run_install(s: Session) -> tuple[int, DryRun | None]:
    """``pipguard install|download|wheel|lock``: plan, audit pip's resolution, install, verify."""
    cl = s.cl
    dry_run = cl.has("--dry-run")
    is_install = cl.command == "install"
    # What is installed counts only where pip installs into the target's environment;
    # with --target, --prefix or --root it installs elsewhere (--target even ignores what
    # is installed), and download/wheel/lock ignore it: there, always the file.
    elsewhere = cl.has("--target", "-t", "--prefix", "--root")
    s.wanted  # noqa: B018 - bad requirements: usage errors, before pip
    uv = uvbin.choose(s.settings.installer, s.settings.path) if is_install else None
    if uv is not None:
        uvcommand.check(cl)  # an option uv cannot take: refused before anything runs
    installed = installed_family(s) if is_install and not elsewhere else {}
    with tempfile.TemporaryDirectory(prefix="pipguard-") as tmpname:
        tmp = Path(tmpname)
        if dry_run:
            # What `pipguard plan` shows (pip resolves only what it alone can read), and the
            # exact command: nothing is downloaded or installed.
            plan = preview(s, tmp)
            pins = pipcommand.pin_lines(plan, {}, reinstall=True) if plan is not None else ()
            shown = (uvcommand.install_argv(cl, uv, s.interp.python, pins) if uv is not None
                     else pipcommand.command_argv(cl, s.pip, pins))
            return 0, DryRun(plan, s.hw, pins, pipcommand.quote_argv(shown))
        if uv is None and is_install and resolves_once(s):
            return _install_once(s, tmp, installed, elsewhere), None
        checked = guard(s, tmp, installed)
        lines = (pipcommand.strict_constraints(s.family, checked.plan, {
            n: d.version for n, d in installed.items()}) if uv is not None else
            pipcommand.guard_constraints(s.family, checked.plan, frozenset(installed)))
        done, report = _run(s, tmp, checked.plan, checked.pins, lines, uv)
        if done.returncode != 0 or not is_install:
            return done.returncode, None
        return _after(s, checked.plan, installed, uv, elsewhere, report), None


def _install_once(s: Session, tmp: Path, installed: dict[str, InstalledDist],
                  elsewhere: bool) -> int:
    """Install with one pip resolution (see ``planning.resolves_once``): pip's resolution
    of the install itself is the audit. Every planned file is pinned with its hash, and
    every other family name is constrained to stay as it is (not installed: never); a
    resolution that needs anything else fails in pip before anything is installed. Only
    then is pip asked (the guard's dry run) what it needs, and the command planned and
    installed again.

    pip writes its report once it has resolved, before it installs: a failed run that
    left one (or moved the family) failed part way, and is not run again."""
    plan, pins, pinned = plan_once(s, installed)
    # A local project, sdist or editable is rebuilt and reinstalled by pip even at the
    # installed version: with one in the command (or a requirements file that may hold
    # one), an installed family name that is not planned may not be touched at all.
    local = bool(s.wanted.opaque) or s.cl.has("-r", "--requirement", "-e", "--editable")
    kept = {} if local else {n: d.version for n, d in installed.items()}
    lines = pipcommand.strict_constraints(s.family, plan, kept, pinned=pinned, exact=True)
    done, report = _run(s, tmp, plan, pins, lines, None, explain_failure=False)
    if done.returncode == 0:
        if report is None or "install" not in pipreport.parse_report(_read(report)):
            raise GuardError("pip wrote no report of what it installed, so it cannot be "
                             "checked", hint="run `pipguard verify` and `pipguard doctor`")
        return _after(s, plan, installed, None, elsewhere, report)
    now = installed_family(s) if not elsewhere else {}
    resolved = report is not None and report.is_file()
    if resolved or _state(now) != _state(installed):  # failed part way: no second install
        _explain(s, done, plan)
        return done.returncode
    # pip refused before installing: its dry run (audited) says whether the plan fell
    # short. When pip cannot resolve the command at all, that is the guard's stop (exit 6).
    checked = guard(s, tmp, installed, echo=False)
    if _packages(checked.plan) == _packages(plan):  # the plan was whole: pip's own failure
        _explain(s, done, plan)
        return done.returncode
    console.say("pip needs torch-family packages the plan did not hold (the conflict above "
                "is pipguard's guard): planned again with pip's own resolution")
    lines = pipcommand.guard_constraints(s.family, checked.plan, frozenset(installed))
    done, report = _run(s, tmp, checked.plan, checked.pins, lines, None)
    if done.returncode != 0:
        return done.returncode
    return _after(s, checked.plan, installed, None, elsewhere, report)


def _packages(plan: Plan | None) -> frozenset[PlannedPackage]:
    return frozenset(plan.packages) if plan is not None else frozenset()


def _state(dists: dict[str, InstalledDist]) -> dict[str, tuple[str, str | None]]:
    return {n: (d.version, d.dist_info) for n, d in dists.items()}


def _explain(s: Session, done: runner.Completed, plan: Plan | None) -> None:
    """The diagnosis of pip's failed install (it is pip's own, not the plan's)."""
    for line in render.diagnosis_lines(diagnose(done.stdout + "\n" + done.stderr, s,
                                                plan or Plan("", ()))):
        console.say(line)


def _run(s: Session, tmp: Path, plan: Plan | None, pins: tuple[str, ...], lines: list[str],
         uv: str | None, *, explain_failure: bool = True) -> tuple[runner.Completed, Path | None]:
    """Run the user's command with the pins and the guard's constraints; pip writes its
    report (for the audit after the install) unless the user asked for one on stdout."""
    cl = s.cl
    constraints = tmp / "guard-constraints.txt"
    constraints.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    argv = (uvcommand.install_argv(cl, uv, s.interp.python, pins, str(constraints))
            if uv is not None else pipcommand.command_argv(cl, s.pip, pins, str(constraints)))
    report_path: Path | None = None
    if uv is not None:
        for var in s.settings.pip_only_vars:
            console.warn(f"uv does not read {var}; pip's audit did (uv reads UV_* "
                         "variables and its own configuration)")
    elif cl.command == "install":
        user_report = cl.options("--report")
        if user_report and user_report[-1] != "-":
            report_path = Path(user_report[-1])
        elif not user_report:
            report_path = tmp / "report.json"
            argv += ["--report", str(report_path)]
    if plan is not None:
        console.say(render.summary_line(plan, s.hw))
        for w in plan.warnings:
            console.warn(w)
    console.detail("running: " + pipcommand.quote_argv(argv))
    return (run_with_retry(argv, plan or Plan("", ()), s, explain_failure=explain_failure),
            report_path)


def _after(s: Session, plan: Plan | None, installed: dict[str, InstalledDist], uv: str | None,
           elsewhere: bool, report_path: Path | None) -> int:
    """After a successful install: audit pip's report, verify, repair."""
    if uv is not None and not elsewhere:
        _family_unmoved(s, plan, installed)
    fresh: frozenset[str] = frozenset()  # what pip installed now, from a hash-checked file
    if report_path is not None:
        report = pipreport.parse_report(_read(report_path))
        fresh = pipreport.installed_names(report)
        leaks = pipreport.audit(report, plan, s.family)
        if leaks:
            # Cannot happen after the pins and the constraints; if it does, say it loudly.
            raise GuardError("pip installed torch-family files that were not planned: "
                             + "; ".join(map(str, leaks[:3])),
                             hint="run `pipguard verify` and `pipguard doctor`, and report "
                                  "this to pipguard")
    if plan is None:
        return 0
    if elsewhere or s.cl.has("--user"):
        console.say("installed outside the interpreter's environment; run `pipguard verify` "
                    "with --python on an interpreter that sees it")
        return 0
    return _verify_and_repair(s, plan, fresh)


def _family_unmoved(s: Session, plan: Plan | None, before: dict[str, InstalledDist]) -> None:
    """After uv: no family distribution but the planned ones changed (uv writes no pip
    report to audit; the planned ones are checked against their files by verify)."""
    planned = {p.name for p in plan.packages} if plan is not None else set()
    moved = [f"{d.name} {d.version}" for d in inspect_named(s.interp.path, sorted(s.family))
             if d.name in s.family and d.name not in planned
             and (before.get(d.name) is None or before[d.name].version != d.version)]
    if moved:
        raise GuardError("uv installed torch-family distributions that were not planned: "
                         + ", ".join(moved),
                         hint="run `pipguard verify` and `pipguard doctor`, and report this "
                              "to pipguard")


def _verify_and_repair(s: Session, plan: Plan, fresh: frozenset[str]) -> int:
    # One read of the installed family serves the RECORD check and the companion check
    # (each read starts the target interpreter).
    family = installed_family(s)
    broken, checked = _verify_planned(s, plan, family, fresh)
    if broken:
        console.say("repairing " + ", ".join(n for n, _ in broken) + " from the torch index")
        # pip cannot uninstall a distribution whose RECORD is gone (a killed
        # install): those are installed over, the others reinstalled.
        for mode, names in (("--ignore-installed", [n for n, gone in broken if gone]),
                            ("--force-reinstall", [n for n, gone in broken if not gone])):
            if names:
                rc = run_with_retry(pipcommand.repair_argv(s.cl, s.pip, plan, names, mode),
                                    plan, s).returncode
                if rc != 0:
                    return rc
        family = installed_family(s)
        broken, checked = _verify_planned(s, plan, family, fresh | {n for n, _ in broken})
        if broken:
            raise CheckFailed("installed files still differ from their RECORD after a repair",
                              hint="pipguard verify names them; pipguard doctor explains")
    _companions_agree(s, family)
    record_install(s.interp.prefix, s.settings.torch_index_url,
                   [Installed(p.name, p.version, p.url, p.sha256) for p in plan.packages])
    console.say(f"verified {', '.join(p.name + ' ' + p.version for p in plan.packages)}: "
                + render.how_verified(checked))
    return 0


def _companions_agree(s: Session, dists: dict[str, InstalledDist]) -> None:
    """Never 'verified' over a family that `pip check` would reject: each installed
    companion must require the installed torch (they move with it; see planning)."""
    env = Environment(dists, (), s.hw, s.interp.os, s.interp.machine,
                      marker_environment(s.interp))
    bad = [f for f in companions(env, s.kn) if f.severity == "error"]
    if bad:
        raise CheckFailed(bad[0].message, hint=bad[0].fix)


def _verify_planned(s: Session, plan: Plan, family: dict[str, InstalledDist],
                    fresh: frozenset[str]) -> tuple[list[tuple[str, bool]],
                                                    tuple[DistVerification, ...]]:
    """Planned distributions that are broken, and whether their RECORD is gone; and the
    checks themselves.

    Broken: installed files that fail RECORD, or an installed copy that is not the
    planned file (a look-alike at exactly the planned version: see provenance).
    """
    dists = [family[p.name] for p in plan.packages if p.name in family]
    # Sizes only for what pip just installed from a file whose hash it checked; a copy it
    # left alone (or uv installed from its cache) is hashed, trusting only fingerprints.
    quick = [d for d in dists if d.name in fresh and not s.settings.verify_full]
    hashed = [d for d in dists if d not in quick]
    by_name = {r.name: r for r in (*verify_many(quick, hash_files=False), *verify_remembering(
        hashed, s.settings.cache_dir, full=s.settings.verify_full))}
    results = tuple(by_name[d.name] for d in dists)
    for d, r in zip(dists, results, strict=True):
        if d.dist_info and any(p.problem == "incomplete" for p in r.problems):
            _drop_temp_files(Path(d.dist_info))
    for r in results:
        for prob in r.problems[:5]:
            console.say(f"{r.name}: {prob.problem} {prob.path}")
    broken = [(r.name, r.record_missing) for r in results if not r.ok]
    for d in dists:
        p = plan.package(d.name)
        if p is not None and d.name not in dict(broken) and not is_planned_copy(d, p):
            source = (d.direct_url or {}).get("url") or "an index (no direct URL recorded)"
            console.say(f"{d.name} {d.version} is not the planned file (installed from "
                        f"{source}); replacing it")
            broken.append((d.name, False))
    return broken, results


def _drop_temp_files(dist_info: Path) -> None:
    """Remove the temporary files a killed pip left in a dist-info folder.

    Only ``*.tmp`` files of a distribution verify found unfinished: they keep
    pip's uninstall from removing the folder, so the reinstall would inherit them.
    """
    for tmp in dist_info.glob("*.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""
