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

from pipguard import __version__, console
from pipguard.errors import EXIT_INTERRUPTED, PipguardError, UsageError
from pipguard.ownoptions import PIPGUARD_COMMANDS, WRAPPED_COMMANDS
from pipguard.pipargs import CommandLine, parse
from pipguard.redact import redact_text

if TYPE_CHECKING:
    from pipguard.results import Result

def _target_pip(cl: CommandLine) -> list[str]:
    """The target's ``python -m pip`` (or pipguard's pip with ``--python``)."""
    from pipguard.interpreter import choose_python, inspect_interpreter, pip_command
    from pipguard.options import settings

    s = settings(cl, os.environ)
    return pip_command(inspect_interpreter(choose_python(s.python,
                                                         (s.virtual_env, s.conda_prefix))))


def _passthrough(cl: CommandLine) -> int:
    """Hand the command to the target's pip, unchanged."""
    from pipguard import runner

    return runner.run([*_target_pip(cl), *cl.pip_argv], capture=False).returncode


def _command_help(cl: CommandLine, command: str) -> int:
    """One command's help; for a pip command pipguard wraps, pip's own help comes first."""
    from pipguard import helptext, runner

    if command not in WRAPPED_COMMANDS:
        sys.stdout.write(helptext.command_help(command))
        return 0
    done = runner.run([*_target_pip(cl), *cl.global_tokens(), command, "--help"], capture=True)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    sys.stdout.write("\n" + helptext.options_section(command))
    return done.returncode


def _help(cl: CommandLine) -> int:
    """``pipguard help [COMMAND]``: pipguard's help for its commands, pip's for the others."""
    from pipguard import helptext

    topics = cl.positionals()
    if topics and topics[0] in PIPGUARD_COMMANDS:
        return _command_help(cl, topics[0])
    rc = _passthrough(cl)
    if not topics:
        sys.stdout.write(helptext.overview(__version__))
    return rc


def _show(code: int, result: Result | None, cl: CommandLine) -> int:
    from pipguard.render import render

    console.end_progress()
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


def cmd_lock(cl: CommandLine) -> int:
    from pipguard.commands.planning import open_session
    from pipguard.fleet import classes_of

    classes = classes_of(cl)
    if not classes:  # pip's own `lock`, planned and guarded
        return cmd_install(cl)
    from pipguard.commands.fleetlock import run_fleet_lock

    return _show(*run_fleet_lock(open_session(cl, os.environ), classes), cl)


def cmd_sync(cl: CommandLine) -> int:
    from pipguard.commands.planning import open_session
    from pipguard.commands.sync import run_sync

    return _show(*run_sync(open_session(cl, os.environ)), cl)


def cmd_mirror(cl: CommandLine) -> int:
    from pipguard.commands.mirror import run_mirror

    return _show(*run_mirror(cl, os.environ), cl)


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
    "wheel": cmd_install, "lock": cmd_lock, "verify": cmd_verify, "doctor": cmd_doctor,
    "explain": cmd_explain, "alias": cmd_alias, "sync": cmd_sync, "mirror": cmd_mirror,
}


def dispatch(argv: Sequence[str]) -> int:
    cl = parse(argv)
    # pipguard's own lines follow pip's -q/-v (pip gets them too); progress only on a terminal.
    console.configure(cl.verbosity(), terminal=_is_terminal(sys.stderr))
    if cl.command is None:
        rc = _passthrough(cl)
        flags = {o.name for o in cl.pip_globals}
        if flags & {"-h", "--help"} or not argv:
            from pipguard.helptext import overview

            sys.stdout.write(overview(__version__))
        elif "--version" in flags or "-V" in flags:
            sys.stdout.write(f"pipguard {__version__}\n")
        return rc
    if cl.command == "help":
        return _help(cl)
    if cl.has("-h", "--help") and cl.command in COMMANDS:
        return _command_help(cl, cl.command)
    handler = COMMANDS.get(cl.command)
    if handler is None:
        return _passthrough(cl)
    return handler(cl)


def _is_terminal(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):
        return False


def _one_line(text: str) -> str:
    return " ".join(text.split())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pipguard`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return dispatch(args)
    except PipguardError as exc:
        console.end_progress()
        # One line each, whatever a message carried along (a parser's caret lines...).
        sys.stderr.write(f"error: {redact_text(_one_line(exc.message))}\n")
        if exc.hint:
            sys.stderr.write(f"hint: {redact_text(_one_line(exc.hint))}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        console.end_progress()
        sys.stderr.write("error: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    finally:
        console.end_progress()


def entry() -> None:
    """The console script: :func:`main`, and on Ctrl-C an exit that waits for no thread
    (an index read in a worker thread would otherwise hold the interpreter up to its timeout)."""
    code = main()
    if code == EXIT_INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
