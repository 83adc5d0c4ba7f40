"""Where pipguard's own lines go while a command runs: stderr, prefixed ``pipguard:``.

pip's stdout stays pip's (``--report -`` writes JSON there). Final results are
rendered by :mod:`pipguard.render`; this is for what a running command says.

How much it says follows pip's own ``-q``/``-v`` (pip gets them too): below zero
only warnings (errors are the CLI's), at zero the decisions (:func:`say`), above
zero the details as well (:func:`detail`). On a terminal, :func:`progress` keeps
one line rewritten in place; elsewhere it prints nothing. Every URL is shown redacted
(:mod:`pipguard.redact`): no credential reaches the terminal or a CI log.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass

from pipguard.redact import redact_text


@dataclass
class _State:
    verbosity: int = 0
    terminal: bool = False
    shown: bool = False  # a progress line is on the terminal


_state = _State()
_lock = threading.Lock()


def configure(verbosity: int = 0, *, terminal: bool = False) -> None:
    """Set how much the running command says, and whether stderr is a terminal."""
    with _lock:
        _state.verbosity, _state.terminal, _state.shown = verbosity, terminal, False


def verbosity() -> int:
    return _state.verbosity


def _write(line: str) -> None:
    with _lock:
        if _state.shown:
            sys.stderr.write("\r\x1b[K")
            _state.shown = False
        sys.stderr.write(f"pipguard: {redact_text(line)}\n")
        sys.stderr.flush()


def say(line: str) -> None:
    """One line of pipguard's own, on stderr (not with ``-q``)."""
    if verbosity() >= 0:
        _write(line)
    else:
        end_progress()


def detail(line: str) -> None:
    """A line only ``-v`` asks for (the full pip command, each page fetched)."""
    if verbosity() > 0:
        _write(line)


def warn(line: str) -> None:
    """A warning of pipguard's own: said whatever ``-q``."""
    _write(f"warning: {line}")


def progress(text: str) -> None:
    """Show ``text`` on the one rewritten progress line (terminals only, not with ``-q``)."""
    with _lock:
        if not _state.terminal or _state.verbosity < 0:
            return
        sys.stderr.write(f"\r\x1b[Kpipguard: {text}")
        sys.stderr.flush()
        _state.shown = True


def end_progress() -> None:
    """Clear the progress line, if one is shown (before other output takes the terminal)."""
    with _lock:
        if _state.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            _state.shown = False


def show(text: str) -> None:
    """Another program's captured output (pip's, of a quiet run that failed), as it was:
    shown whatever ``-q``, since it says why the command stops."""
    if text:
        end_progress()
        with _lock:
            text = redact_text(text)
            sys.stderr.write(text if text.endswith("\n") else text + "\n")
            sys.stderr.flush()
