"""``pipguard plan ARGS``: what ``install ARGS`` would take, and why; changes nothing."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

from pipguard.commands.planning import open_session, preview
from pipguard.errors import EXIT_USAGE, PipguardError
from pipguard.pipargs import CommandLine
from pipguard.results import PlanFailed, Planned


def run_plan(cl: CommandLine, environ: Mapping[str, str]) -> tuple[int, Planned | PlanFailed]:
    """The plan; with ``--json`` a failure is a document too (usage errors stay errors)."""
    try:
        s = open_session(cl, environ)
        with tempfile.TemporaryDirectory(prefix="pipguard-") as tmp:
            p = preview(s, Path(tmp))
    except PipguardError as exc:
        if "--json" in cl.own_flags and exc.exit_code != EXIT_USAGE:
            return exc.exit_code, PlanFailed(exc.message, exc.hint)
        raise
    return 0, Planned(p, s.hw, s.interp.python_tag)
