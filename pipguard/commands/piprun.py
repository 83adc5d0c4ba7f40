"""Running pip for a command: stream its output, retry a corrupt download once, diagnose.

Used for the guard's resolution (quietly: its output is shown only when it fails) and for
the install itself. A failed run is diagnosed once (:mod:`pipguard.explain`); whether one
more try is worth it is :mod:`pipguard.pipfailure`'s answer.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pipguard import console, pipcommand, render, runner
from pipguard.explain import explain
from pipguard.explain_doc import Context
from pipguard.findings import Finding
from pipguard.pipfailure import corrupt_download, integrity_error
from pipguard.plan import Plan
from pipguard.session import Session

# At most this many retries in one run, whatever else pip reports.
_MAX_RETRIES = 8


def run_pip(argv: list[str], *, quiet: bool = False) -> runner.Completed:
    """Run pip with its output streaming through (and kept, for a diagnosis)."""
    return runner.run(argv, capture=True) if quiet else runner.run(argv, capture=False, tee=True)


def run_with_retry(argv: list[str], plan: Plan, s: Session, *, quiet: bool = False
                   ) -> runner.Completed:
    """Run pip; retry each corrupt file once (without pip's cache); stop on a repeat.

    A failure that is not a corrupt download is diagnosed (after pip's own output, which a
    quiet run shows only now) and returned.
    """
    failed: set[str] = set()
    while True:
        done = run_pip(argv, quiet=quiet)
        if done.returncode == 0:
            return done
        output = done.stdout + "\n" + done.stderr
        findings = diagnose(output, s, plan)
        bad = corrupt_download(output, findings, plan)
        if bad is None:
            if quiet:
                console.show(done.stderr)
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
    return [f for f in explain(output, Context(s.kn, hardware=s.hw))
            if not (f.category == "dependency-confusion" and f.severity == "warning"
                    and own_host and own_host in f.message)]
