"""``pipguard install`` (and ``download``, ``wheel``, ``lock``): plan, delegate to pip, verify.

1. Plan the family for what the command names, asking the real pip
   (``--dry-run --report``) what it pulls in transitively (:mod:`.planning`).
2. Hand pip the user's command unchanged, preceded by a pin of every planned
   family package to its file on the torch index, as a direct reference with
   the index's ``#sha256=`` (:mod:`pipguard.pipcommand`).
3. When pip fails on a corrupt download, retry that file once without pip's
   cache; when it runs out of memory downloading or caching, retry once without
   the cache; when it fails otherwise, print the diagnosis (made once).
4. Verify what landed against RECORD; repair a broken planned distribution by
   reinstalling it from its pinned file.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

from pipguard import console, pipcommand, pipreport, render, runner
from pipguard.commands.planning import installed_versions, plan_for_command, wanted_of
from pipguard.errors import CheckFailed
from pipguard.explain import explain
from pipguard.explain_doc import Context
from pipguard.findings import Finding
from pipguard.installed import inspect_named
from pipguard.pipfailure import corrupt_download, integrity_error, out_of_memory
from pipguard.plan import Plan
from pipguard.results import DryRun
from pipguard.session import Session
from pipguard.verify import verify_many

# At most this many retries in one install, whatever else pip reports.
_MAX_RETRIES = 8


def run_install(s: Session) -> tuple[int, DryRun | None]:
    """``pipguard install|download|wheel|lock``: plan, delegate to pip, verify."""
    cl = s.cl
    dry_run = cl.has("--dry-run")
    is_install = cl.command == "install"
    # Version pins rely on pip seeing what the target's metadata says; with --target,
    # --prefix or --root it installs elsewhere (--target even ignores what is
    # installed), and download/wheel/lock ignore it: there, always the file.
    elsewhere = cl.has("--target", "-t", "--prefix", "--root")
    wanted_of(cl)  # bad requirements are usage errors before anything runs
    installed = installed_versions(s) if is_install and not elsewhere else {}
    with tempfile.TemporaryDirectory(prefix="pipguard-") as tmpname:
        plan = plan_for_command(s, Path(tmpname), installed)
        if plan is None:
            argv = [*s.pip, *[a for a in cl.pip_argv if a != "--dry-run"]]
            if dry_run:
                return 0, DryRun(None, s.hw, (), pipcommand.quote_argv(argv))
            return _pip(argv).returncode, None
        pins = pipcommand.pin_lines(plan, installed, reinstall=pipcommand.wants_reinstall(cl))
        argv = pipcommand.command_argv(cl, s.pip, pins)
        if dry_run:
            return 0, DryRun(plan, s.hw, pins, pipcommand.quote_argv(argv))
        report_path: Path | None = None
        if is_install:
            user_report = cl.options("--report")
            if user_report and user_report[-1] != "-":
                report_path = Path(user_report[-1])
            elif not user_report:
                report_path = Path(tmpname) / "report.json"
                argv += ["--report", str(report_path)]
        console.say(render.summary_line(plan, s.hw))
        for w in plan.warnings:
            console.warn(w)
        console.say("running: " + pipcommand.quote_argv(argv))
        rc = _run_with_retry(argv, plan, s)
        if rc != 0 or not is_install:
            return rc, None
        if report_path is not None:
            report = pipreport.parse_report(_read(report_path))
            for leak in pipreport.audit_routing(report, plan, s.family):
                console.warn(f"torch-family package not from the torch index: {leak}")
        if elsewhere or cl.has("--user"):
            console.say("installed outside the interpreter's environment; run `pipguard verify` "
                        "with --python on an interpreter that sees it")
            return 0, None
        return _verify_and_repair(s, plan), None


def _pip(argv: list[str], *, quiet: bool = False) -> runner.Completed:
    """Run pip with its output streaming through (and kept, for a diagnosis)."""
    return runner.run(argv, capture=True) if quiet else runner.run(argv, capture=False, tee=True)


def _verify_and_repair(s: Session, plan: Plan) -> int:
    broken = _verify_planned(s, plan)
    if broken:
        console.say("repairing " + ", ".join(n for n, _ in broken) + " from the torch index")
        # pip cannot uninstall a distribution whose RECORD is gone (a killed
        # install): those are installed over, the others reinstalled.
        for mode, names in (("--ignore-installed", [n for n, gone in broken if gone]),
                            ("--force-reinstall", [n for n, gone in broken if not gone])):
            if names:
                rc = _run_with_retry(pipcommand.repair_argv(s.cl, s.pip, plan, names, mode),
                                     plan, s)
                if rc != 0:
                    return rc
        if _verify_planned(s, plan):
            raise CheckFailed("installed files still differ from their RECORD after a repair",
                              hint="pipguard verify names them; pipguard doctor explains")
    console.say(f"verified {', '.join(p.name + ' ' + p.version for p in plan.packages)}")
    return 0


def _verify_planned(s: Session, plan: Plan) -> list[tuple[str, bool]]:
    """Planned distributions whose installed files fail RECORD, and whether RECORD is gone."""
    names = {p.name for p in plan.packages}
    dists = [d for d in inspect_named(s.interp.python, sorted(names)) if d.name in names]
    results = verify_many(dists)
    for d, r in zip(dists, results, strict=True):
        if d.dist_info and any(p.problem == "incomplete" for p in r.problems):
            _drop_temp_files(Path(d.dist_info))
    for r in results:
        for prob in r.problems[:5]:
            console.say(f"{r.name}: {prob.problem} {prob.path}")
    return [(r.name, r.record_missing) for r in results if not r.ok]


def _drop_temp_files(dist_info: Path) -> None:
    """Remove the temporary files a killed pip left in a dist-info folder.

    Only ``*.tmp`` files of a distribution verify found unfinished: they keep
    pip's uninstall from removing the folder, so the reinstall would inherit them.
    """
    for tmp in dist_info.glob("*.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()


def _run_with_retry(argv: list[str], plan: Plan, s: Session) -> int:
    """Run pip; retry each corrupt file once (without pip's cache); stop on a repeat.

    pip out of memory while downloading or caching: one more try without its cache.
    """
    failed: set[str] = set()
    while True:
        done = _pip(argv)
        if done.returncode == 0:
            return 0
        output = done.stdout + "\n" + done.stderr
        findings = diagnose(output, s, plan)
        bad = corrupt_download(output, findings, plan)
        if bad is None:
            oom = out_of_memory(output, findings)
            if oom is not None and "--no-cache-dir" not in argv:  # once: the retry has it
                console.say(f"pip ran out of memory while downloading or caching {oom.what}; "
                            "retrying once without pip's cache")
                argv = pipcommand.no_cache(argv)
                continue
            for line in render.diagnosis_lines(findings):
                console.say(line)
            return done.returncode
        if bad.key in failed or len(failed) >= _MAX_RETRIES:
            raise integrity_error(plan, bad)
        failed.add(bad.key)
        if bad.name:
            _pip(pipcommand.cache_remove_argv(s.cl, s.pip, bad.name), quiet=True)
        console.say(f"a download of {bad.name or bad.key or 'a file'} arrived corrupt; "
                    "retrying once without pip's cache")
        argv = pipcommand.no_cache(argv)


def diagnose(output: str, s: Session, plan: Plan) -> list[Finding]:
    """The findings for a failed pip run, made once."""
    from urllib.parse import urlsplit

    # The torch index the user chose (a mirror, say) is the one we route to on
    # purpose: a warning that its builds come from a non-pytorch.org host is noise.
    own_host = urlsplit(plan.index_url).netloc
    return [f for f in explain(output, Context(s.kn, hardware=s.hw))
            if not (f.category == "dependency-confusion" and f.severity == "warning"
                    and own_host and own_host in f.message)]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""
