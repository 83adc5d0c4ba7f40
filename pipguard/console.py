"""Where pipguard's own lines go while a command runs: stderr, prefixed ``pipguard:``.

pip's stdout stays pip's (``--report -`` writes JSON there). Final results are
rendered by :mod:`pipguard.render`; this is for what a running command says.
"""

from __future__ import annotations

import sys


def say(line: str) -> None:
    """One line of pipguard's own, on stderr."""
    sys.stderr.write(f"pipguard: {line}\n")
    sys.stderr.flush()


def warn(line: str) -> None:
    """A warning of pipguard's own."""
    say(f"warning: {line}")


def show(text: str) -> None:
    """Another program's captured output (pip's, of a quiet run that failed), as it was."""
    if text:
        sys.stderr.write(text if text.endswith("\n") else text + "\n")
        sys.stderr.flush()
