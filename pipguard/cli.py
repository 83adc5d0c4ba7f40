"""The command line: dispatch, rendering (text or ``--json``) and the one error handler.

Commands of pipguard's own: ``detect``, ``plan``, ``verify``, ``doctor``,
``explain``, ``alias``. ``install``, ``download``, ``wheel`` and ``lock`` are
pip's, planned and guarded. Everything else goes to the real pip unchanged.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pipguard import __version__
from pipguard.errors import EXIT_INTERRUPTED, PipguardError, UsageError
from pipguard.pipargs import CommandLine, parse

if TYPE_CHECKING:
    from pipguard.results import Result

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
  --refresh (ask the index again even for pages cached less than PIPGUARD_FRESH_FOR s ago)
"""


def _passthrough(cl: CommandLine) -> int:
    """Hand the command to the target's pip, unchanged."""
    from pipguard import runner
    from pipguard.interpreter import choose_python, inspect_interpreter, pip_command
    from pipguard.options import settings

    s = settings(cl, os.environ)
    interp = inspect_interpreter(choose_python(s.python, (s.virtual_env, s.conda_prefix)))
    return runner.run([*pip_command(interp), *cl.pip_argv], capture=False).returncode


def _show(code: int, result: Result | None, cl: CommandLine) -> int:
    from pipguard.render import render

    if result is not None:
        sys.stdout.write(render(result, as_json="--json" in cl.own_flags))
    return code


def cmd_detect(cl: CommandLine) -> int:
    # Only detection and overrides: `detect` must start faster than `pip --version`.
    from pipguard.commands.detect import run_detect

    return _show(*run_detect(cl, os.environ), cl)


def cmd_plan(cl: CommandLine) -> int:
    from pipguard.commands.plan import run_plan

    return _show(*run_plan(cl, os.environ), cl)


def cmd_install(cl: CommandLine) -> int:
    from pipguard.commands.install import run_install
    from pipguard.commands.planning import open_session

    return _show(*run_install(open_session(cl, os.environ)), cl)


def cmd_verify(cl: CommandLine) -> int:
    from pipguard.commands.verify import run_verify

    return _show(*run_verify(cl, os.environ), cl)


def cmd_doctor(cl: CommandLine) -> int:
    from pipguard.commands.doctor import run_doctor

    return _show(*run_doctor(cl, os.environ), cl)


def cmd_explain(cl: CommandLine) -> int:
    from pipguard.commands.explain import run_explain

    return _show(*run_explain(cl, os.environ), cl)


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
