"""The pip command lines pipguard runs: the user's command with the plan's pins added.

Pure: each function returns an argv list; :mod:`pipguard.runner` runs it. Tests assert
these exact lines at the runner seam.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence

from packaging.utils import canonicalize_name

from pipguard.pipargs import CommandLine, Option
from pipguard.plan import Plan
from pipguard.reqfiles import Wanted

# Options of `pip install` that may be repeated in a discovery run; the rest
# (report, target dirs, ...) either don't matter for resolution or are ours.
_DISCOVERY_DROP = frozenset({"--report", "--dry-run", "-d", "--dest", "-w", "--wheel-dir",
                             "-o", "--output", "--progress-bar"})


def pin_lines(plan: Plan, keep: Mapping[str, str], *, reinstall: bool,
              only: frozenset[str] | None = None, exact: bool = False) -> tuple[str, ...]:
    """Pin each planned package: to its file, or to its version when it is already there.

    ``keep`` names the packages whose installed copy *is* the planned file (version, URL
    and hash; see :mod:`pipguard.provenance`): those are pinned by version, so pip keeps
    them instead of downloading them again. ``only`` limits the pins to these names
    (``--no-deps``: pinning torch would make pip install it). ``exact``: by ``===``.
    """
    return tuple(
        f"{p.name}{'===' if exact else '=='}{p.version}"
        if not reinstall and keep.get(p.name) == p.version
        else file_pin(plan, p.name)
        for p in plan.packages
        if only is None or p.name in only
    )


def guard_constraints(family: frozenset[str], plan: Plan | None,
                      installed: frozenset[str]) -> list[str]:
    """Constraint lines no version satisfies, for every family name neither planned nor
    installed: should pip come to need one after the audit (the index changed between the
    two runs), it fails instead of taking it from wherever it finds it."""
    planned = {p.name for p in plan.packages} if plan is not None else set()
    return [f"{name}<0" for name in sorted(family - planned - installed)]


def strict_constraints(family: frozenset[str], plan: Plan | None,
                       installed: Mapping[str, str], *,
                       pinned: frozenset[str] | None = None, exact: bool = False) -> list[str]:
    """:func:`guard_constraints`, and each installed family name that is not planned stays
    at its installed version: no family file but the planned ones can change. For an
    install that no audit run preceded (a closed command, see ``commands.install``), and
    for uv, whose ``--upgrade`` upgrades everything it resolves (pip's only what it must):
    what pip's audit left alone, uv leaves alone too. ``pinned``: the names the command's
    pins cover (``--no-deps`` pins fewer than are planned); ``exact``: ``===``."""
    if pinned is None:
        pinned = frozenset(p.name for p in plan.packages) if plan is not None else frozenset()
    eq = "===" if exact else "=="
    return [f"{name}<0" if name not in installed else f"{name}{eq}{installed[name]}"
            for name in sorted(family - pinned)]


def file_pin(plan: Plan, name: str) -> str:
    """The direct reference to a planned package's file, with the index's hash."""
    p = plan.package(name)
    assert p is not None
    return f"{p.name} @ {p.url}{p.fragment}"


def discovery_argv(cl: CommandLine, pip: Sequence[str], report: str,
                   pins: Sequence[str] = ()) -> list[str]:
    """``pip install --dry-run --report`` over what the user's command names."""
    # The pins go first, for the reason given in :func:`command_argv`. pip's check for a
    # newer pip (a request to PyPI) is left to the user's own run: the audit is ours.
    argv = [*pip, *cl.global_tokens(), "install", *pins, "--dry-run", "--quiet",
            "--disable-pip-version-check", "--report", report]
    for item in cl.rest:
        if isinstance(item, str):
            argv.append(item)
        elif item.name not in _DISCOVERY_DROP:
            argv.extend(item.tokens)
    if cl.command in ("download", "wheel", "lock") and not cl.has("--ignore-installed", "-I"):
        argv.append("--ignore-installed")
    return argv


def command_argv(cl: CommandLine, pip: Sequence[str], pins: Sequence[str],
                 constraints: str | None = None) -> list[str]:
    """The user's pip command with the pins added, and ``--dry-run`` (ours) removed.

    The pins are requirement arguments placed *before* everything the user
    wrote. pip's resolver looks each root requirement up as it meets it, and
    it meets command-line requirements before ``-r`` files and editables: a
    user's ``torch==2.5.1`` met before the direct reference that satisfies it
    is searched for on the user's index alone, where it may not exist ("No
    matching distribution"). Met after the pin, it only narrows the pinned file.
    ``constraints`` is the guard's constraints file (:func:`guard_constraints`).
    """
    assert cl.command is not None
    rest = [t for item in cl.rest if not (isinstance(item, Option) and item.name == "--dry-run")
            for t in (item.tokens if isinstance(item, Option) else (item,))]
    guard = ["-c", constraints] if constraints else []
    return [*pip, *cl.global_tokens(), cl.command, *pins, *guard, *rest]


def repair_argv(cl: CommandLine, pip: Sequence[str], plan: Plan, names: Sequence[str],
                mode: str) -> list[str]:
    """Reinstall broken planned distributions from their files (``mode``: how pip replaces)."""
    return [*pip, *cl.global_tokens(), "install", "--no-deps", mode,
            *[file_pin(plan, n) for n in names]]


def cache_remove_argv(cl: CommandLine, pip: Sequence[str], name: str) -> list[str]:
    """Drop a corrupt file from pip's cache (with the user's ``--cache-dir`` and the like)."""
    return [*pip, *cl.global_tokens(), "cache", "remove", name]


def quote_argv(argv: Sequence[str]) -> str:
    """The command as a shell would take it (for ``--dry-run`` and messages)."""
    return " ".join(shlex.quote(a) for a in argv)


def wants_reinstall(cl: CommandLine) -> bool:
    return cl.has("--force-reinstall", "-I", "--ignore-installed")


def no_cache(argv: list[str]) -> list[str]:
    return argv if "--no-cache-dir" in argv else [*argv, "--no-cache-dir"]


def has_opaque(wanted: Wanted, family: frozenset[str]) -> bool:
    """Whether pip must be asked what the command pulls in."""
    return bool(wanted.opaque) or any(
        canonicalize_name(r.name) not in family for r, _ in wanted.requirements
    )
