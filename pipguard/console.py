"""Where pipguard's own lines go while a command runs: stderr, prefixed ``pipguard:``.

pip's stdout stays pip's (``--report -`` writes JSON there). Final results are
rendered by :mod:`pipguard.render`; this is for what a running command says.
"""

from __future__ import annotations

import sys

from pipguard.redact import redact_text


def say(line: str) -> None:
    """One line of pipguard's own, on stderr (URLs redacted)."""
    sys.stderr.write(f"pipguard: {redact_text(line)}\n")
    sys.stderr.flush()


def warn(line: str) -> None:
    """A warning of pipguard's own."""
    say(f"warning: {line}")
