"""The command line: dispatch, rendering (text or ``--json``) and the one error handler.

Commands of pipguard's own: ``detect``, ``plan``, ``verify``, ``doctor``,
``explain``, ``alias``. ``install``, ``download``, ``wheel`` and ``lock`` are
pip's, planned and guarded. Everything else goes to the real pip unchanged.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from pipguard import __version__
from pipguard.errors import EXIT_INTERRUPTED, EXIT_USAGE, PipguardError, UsageError
from pipguard.pipargs import CommandLine, parse

HELP = f"""
pipguard {__version__} commands (besides every pip command):
  detect            show the accelerators found (--json for scripts)
  plan [ARGS]       show which torch build `install ARGS` would take, and why
  verify [NAME...]  check installed files against RECORD (default: torch family; --all)
  doctor            find what is wrong with the torch environment (--deep imports torch)
  explain [FILE]    diagnose a failure text (standard input without FILE)
  alias SHELL       print the lines that make `pip` mean `pipguard` (bash, zsh, fish, powershell)
options for every command:
  --cuda-driver VERSION  --gpu-arch LIST  --torch-backend NAME|auto
  --torch-index-url URL  --torch-channel stable|test|nightly  --python PATH  --offline
"""


def _dump(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


def _passthrough(cl: CommandLine) -> int:
    from pipguard import runner
    from pipguard.target import choose_python, inspect_interpreter, pip_command

    interp = inspect_interpreter(choose_python(cl.python, os.environ))
    return runner.run([*pip_command(interp), *cl.pip_argv], capture=False).returncode


def cmd_detect(cl: CommandLine) -> int:
    # Only detection and overrides: `detect` must start faster than `pip --version`.
    from pipguard.hardware import target_hardware

    hw = target_hardware(cl.own, os.environ)
    if "--json" in cl.own_flags:
        _dump(hw.as_dict())
        return 0
    print(f"accelerator: {hw.accelerator}")
    if hw.driver_version:
        print(f"driver: {hw.driver_version}" + (f" (CUDA {hw.cuda_driver_api})"
                                                 if hw.cuda_driver_api else ""))
    if hw.rocm_version:
        print(f"ROCm: {hw.rocm_version}")
    for i, g in enumerate(hw.gpus):
        print(f"gpu {i}: {g.name}  compute capability {g.compute_capability or 'unknown'}")
    if hw.torch_backend:
        print(f"torch backend: {hw.torch_backend} (forced)")
    if hw.overridden:
        print("overrides: " + ", ".join(hw.overridden) + " (from the command line or PIPGUARD_*)")
    for s in hw.sources:
        print(f"  {'ok ' if s.ok else 'no '} {s.probe}: {s.detail}")
    return 0


def cmd_plan(cl: CommandLine) -> int:
    import tempfile
    from pathlib import Path

    from pipguard.planner import summary_line
    from pipguard.workflow import open_session, plan_for_command

    as_json = "--json" in cl.own_flags
    try:
        s = open_session(cl)
        with tempfile.TemporaryDirectory(prefix="pipguard-") as tmp:
            p = plan_for_command(s, Path(tmp))
    except PipguardError as exc:
        if as_json and exc.exit_code != EXIT_USAGE:
            _dump({"backend": None, "packages": [], "notes": [], "error": exc.message,
                   "hint": exc.hint})
            return exc.exit_code
        raise
    if p is None:
        if as_json:
            _dump({"backend": None, "packages": [], "notes": [
                "no torch-family package involved; pip decides alone"]})
        else:
            print("no torch-family package involved; pip decides alone")
        return 0
    if as_json:
        data = p.as_dict()
        data["hardware"] = s.hw.as_dict()
        data["python"] = s.interp.python_tag
        _dump(data)
        return 0
    print(summary_line(p, s.hw))
    print(f"backend: {p.backend}")
    for pkg in p.packages:
        print(f"  {pkg.name}=={pkg.version}  sha256={pkg.sha256 or 'unpublished'}")
        print(f"    {pkg.url}")
    for w in p.warnings:
        print(f"warning: {w}")
    for n in p.notes:
        print(f"note: {n}")
    if p.rejected:
        print("rejected:")
        for r in p.rejected:
            print(f"  {r.variant}{' ' + r.version if r.version else ''}: {r.reason}")
    return 0


def cmd_install(cl: CommandLine) -> int:
    from pipguard.workflow import open_session, run_install

    return run_install(open_session(cl))


def cmd_verify(cl: CommandLine) -> int:
    from pipguard.environment import inspect
    from pipguard.target import choose_python, inspect_interpreter, pip_command
    from pipguard.verify import verify_many
    from pipguard.workflow import knowledge

    interp = inspect_interpreter(choose_python(cl.python, os.environ))
    dists = inspect(interp.python, pip_command(interp))
    from packaging.utils import canonicalize_name

    names = {canonicalize_name(n) for n in cl.positionals()}
    if names:
        unknown = names - {d.name for d in dists}
        if unknown:
            raise UsageError(f"not installed: {', '.join(sorted(unknown))}",
                             hint="pipguard list shows what is installed")
        chosen = [d for d in dists if d.name in names]
    elif "--all" in cl.own_flags:
        chosen = list(dists)
    else:
        kn = knowledge(cl, os.environ)
        fam = kn.family()
        chosen = [d for d in dists if d.name in fam]
    results = verify_many(chosen)
    bad = [r for r in results if not r.ok]
    # Files of the family that no distribution owns (an install killed before
    # pip wrote the metadata) have no RECORD to check, but are broken all the same.
    from pipguard.orphans import find_orphans

    orphans = () if names else find_orphans([d.location for d in dists],
                                            {d.name: d for d in dists})
    if "--json" in cl.own_flags:
        _dump({"ok": not bad and not orphans, "orphans": list(orphans), "distributions": [
            {"name": r.name, "version": r.version, "files_checked": r.files_checked,
             "record_missing": r.record_missing,
             "problems": [{"path": p.path, "problem": p.problem, "expected": p.expected,
                           "actual": p.actual} for p in r.problems]} for r in results]})
    else:
        for path in orphans:
            name = os.path.basename(path)
            print(f"{name} (files without metadata in {path}): FAILED; "
                  f"`pipguard install {name}` repairs it")
        for r in results:
            state = "ok" if r.ok else "FAILED"
            print(f"{r.name} {r.version}: {state} ({r.files_checked} files)")
            if r.record_missing:
                print("  RECORD missing: cannot verify")
            for p in r.problems:
                print(f"  {p.problem}: {p.path}")
        if not results and not orphans:
            print("nothing to verify" if names or "--all" in cl.own_flags
                  else "no torch-family distribution installed")
    return 1 if bad or orphans else 0


def cmd_doctor(cl: CommandLine) -> int:
    from pipguard.doctor import run_doctor

    return run_doctor(cl)


def cmd_explain(cl: CommandLine) -> int:
    from pipguard.explain import explain
    from pipguard.explain_doc import Context
    from pipguard.knowledge_tables import default_knowledge

    files = cl.positionals()
    if len(files) > 1:
        raise UsageError("explain takes at most one file", hint="pipguard explain LOG.txt")
    if files and files[0] != "-":
        try:
            with open(files[0], encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except OSError as exc:
            raise UsageError(f"cannot read {files[0]}: {exc.strerror}") from None
    else:
        text = sys.stdin.read()
    ctx = Context(facts=default_knowledge(),
                  python_version=f"{sys.version_info[0]}.{sys.version_info[1]}",
                  platform=sys.platform)
    findings = explain(text, ctx)
    if "--json" in cl.own_flags:
        _dump({"findings": [f.as_dict() for f in findings]})
    elif not findings:
        print("no known failure pattern in this text")
    for f in findings if "--json" not in cl.own_flags else ():
        print(f"[{f.severity}] {f.category}: {f.message}")
        if f.evidence:
            print(f"  evidence: {f.evidence}")
        if f.fix:
            print(f"  fix: {f.fix}")
    return 1 if any(f.severity == "error" for f in findings) else 0


ALIASES = {
    "bash": "alias pip='pipguard'\nalias pip3='pipguard'\n",
    "zsh": "alias pip='pipguard'\nalias pip3='pipguard'\n",
    "fish": "function pip --wraps pipguard\n    pipguard $argv\nend\n"
            "function pip3 --wraps pipguard\n    pipguard $argv\nend\n",
    "powershell": "Set-Alias -Name pip -Value pipguard\nSet-Alias -Name pip3 -Value pipguard\n",
}


def cmd_alias(cl: CommandLine) -> int:
    args = cl.positionals()
    if len(args) != 1 or args[0] not in ALIASES:
        raise UsageError("alias needs one shell: " + ", ".join(ALIASES),
                         hint="e.g. pipguard alias bash >> ~/.bashrc")
    sys.stdout.write(ALIASES[args[0]])
    return 0


COMMANDS = {
    "detect": cmd_detect, "plan": cmd_plan, "install": cmd_install, "download": cmd_install,
    "wheel": cmd_install, "lock": cmd_install, "verify": cmd_verify, "doctor": cmd_doctor,
    "explain": cmd_explain, "alias": cmd_alias,
}


def dispatch(argv: Sequence[str]) -> int:
    cl = parse(argv)
    if cl.command is None:
        rc = _passthrough(cl)
        flags = {o.name for o in cl.pip_globals}
        if flags & {"-h", "--help"} or not argv:
            sys.stdout.write(HELP)
        elif "--version" in flags or "-V" in flags:
            sys.stdout.write(f"pipguard {__version__}\n")
        return rc
    if cl.has("-h", "--help") and cl.command in ("install", "download", "wheel", "lock"):
        return _passthrough(cl)
    if cl.has("-h", "--help") and cl.command in COMMANDS:
        sys.stdout.write(HELP.lstrip("\n"))
        return 0
    handler = COMMANDS.get(cl.command)
    if handler is None:
        return _passthrough(cl)
    return handler(cl)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pipguard`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return dispatch(args)
    except PipguardError as exc:
        # One line each, whatever a message carried along (a parser's caret lines...).
        sys.stderr.write(f"error: {_one_line(exc.message)}\n")
        if exc.hint:
            sys.stderr.write(f"hint: {_one_line(exc.hint)}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
