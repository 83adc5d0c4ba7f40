"""``pipguard explain [FILE]``: diagnose a failure text (standard input without FILE)."""

from __future__ import annotations

import sys
from collections.abc import Mapping

from pipguard.errors import UsageError
from pipguard.explain import explain
from pipguard.explain_doc import Context
from pipguard.knowledge_tables import load_word_model
from pipguard.options import settings
from pipguard.pipargs import CommandLine
from pipguard.results import Diagnosed
from pipguard.session import find_target, load_tables


def run_explain(cl: CommandLine, environ: Mapping[str, str]) -> tuple[int, Diagnosed]:
    """Findings for the text; exit 1 when any is an error."""
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
    s = settings(cl, environ)
    interp = find_target(s)
    # The target's facts and the user's tables (--knowledge-file): both sharpen the answer;
    # fixes are worded for the tool that printed the text (uv, Poetry, pip).
    ctx = Context(load_tables(s), python_version=interp.version_str, platform=interp.os,
                  machine=interp.machine, wording="auto", words=load_word_model())
    # (nothing read in the text: the environment itself may still show the cause)
    result = Diagnosed(tuple(explain(text, ctx)), "no known failure pattern in this text; "
                       "`pipguard doctor` checks this environment")
    return (1 if result.failed else 0), result
