"""The one exception hierarchy of pipguard and its exit-code table.

The CLI catches :class:`PipguardError` once, prints ``error: <message>`` and,
when there is one, ``hint: <hint>``, and exits with the error's code.

Exit codes (documented in the README):

====  ==========================================================
0     success
1     a check failed or nothing fits (plan, verify, doctor, explain)
2     usage error: bad option, malformed override or requirement
3     the torch index could not be reached and nothing is cached
4     integrity: a file does not match the hash its index published
5     the target interpreter is missing or unusable
6     the guard could not establish where every torch-family file comes from
      (pip's resolution failed, or kept naming files that are not planned); nothing installed
130   interrupted (Ctrl-C)
pip   when pip itself fails, pipguard exits with pip's own code
====  ==========================================================
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INDEX = 3
EXIT_INTEGRITY = 4
EXIT_TARGET = 5
EXIT_GUARD = 6
EXIT_INTERRUPTED = 130


class PipguardError(Exception):
    """Base of every error pipguard reports to a user."""

    exit_code = EXIT_FAILED
    default_hint: str | None = None

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint


class UsageError(PipguardError):
    """Bad command line, malformed override, requirement or requirements file."""

    exit_code = EXIT_USAGE
    default_hint = "see `pipguard --help` and the README's option table"


class NoMatchingBuild(PipguardError):
    """No build of the requested torch family fits the target."""

    exit_code = EXIT_FAILED


class IndexUnavailable(PipguardError):
    """The torch index could not be reached and nothing usable is cached."""

    exit_code = EXIT_INDEX
    default_hint = "check the network or --torch-index-url; a warm cache plans with --offline"


class IntegrityError(PipguardError):
    """A downloaded or installed file does not match its published hash."""

    exit_code = EXIT_INTEGRITY


class TargetError(PipguardError):
    """The target interpreter cannot be found or run."""

    exit_code = EXIT_TARGET


class GuardError(PipguardError):
    """pipguard cannot establish where every torch-family file would come from.

    Raised before anything is installed: the guard fails closed, it never "continues".
    """

    exit_code = EXIT_GUARD
    default_hint = ("nothing was installed; `pipguard plan` shows what pipguard would take, "
                    "`-v` shows pip's own output")


class Unresolvable(GuardError):
    """pip itself cannot resolve the command (its own error, not the plan's)."""


class CheckFailed(PipguardError):
    """A check (verify, doctor) found problems; details were already rendered."""

    exit_code = EXIT_FAILED
