"""What a user pastes, as the ``explain`` rules read it.

A failure reaches ``explain`` as a paste, and a paste rarely is the text the tool printed:
terminal colour, CRLF, each line behind a log prefix (BuildKit's ``#10 98.65``, a CI or
logger timestamp, Docker Compose's ``web-1  |``, syslog's ``host python[42]:``), quoted as
a Markdown or e-mail reply (``> ``), or broken into rows by the terminal it was copied
from. The rules key on the tools' own sentences and line starts; :func:`clean` gives them
those back, whatever wrapped them, so one rule serves every way of pasting.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["clean", "rereadings"]

_ANSI = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
# Prefixes a log puts before every line, whatever the line says: Docker BuildKit ("#10
# 98.65 "), GitHub Actions, ISO and bracketed timestamps (with a logger's level), clock
# times, syslog/journald ("Jan  2 03:04:05 host python3[42]: ").
_PREFIX = re.compile(
    r"^(?:#\d+ \d+(?:\.\d+)? "
    r"|\[?\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d)?(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\]?"
    r"(?:(?: [-|:])? \[?(?:DEBUG|INFO|WARN(?:ING)?|ERROR|CRITICAL|FATAL|stdout|stderr)\]?)?"
    r"(?: [-|:] | )"
    r"|\[\d{4}-\d\d-\d\d[^\]\n]*\] "
    r"|\[?\d\d:\d\d:\d\d(?:[.,]\d+)?\]? +"
    r"|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d [\w.-]+ [\w./-]+(?:\[\d+\])?: )", re.M)
# A quoted reply ("> ", "> > ") and Docker Compose's service column ("web-1  | "): only when
# most lines carry one, since a lone "> " or "a | b" can be the tool's own text.
_QUOTE = re.compile(r"^[ \t]{0,3}(?:> ?)+", re.M)
_COMPOSE = re.compile(r"^[\w.-]{1,40} +\| ?", re.M)
# Terminal widths a hard-wrapped copy is cut at (a row of exactly this many characters
# continues on the next one).
_MIN_WIDTH = 60


def clean(text: str) -> str:
    """The paste as the tool printed it: no colour, LF only, no per-line log prefix or reply
    quoting, terminal rows joined back into lines; ``%2B`` in wheel URLs decoded."""
    text = _ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _PREFIX.sub("", text)
    for column in (_QUOTE, _COMPOSE):
        text = _strip_column(text, column)
    return text.replace("%2B", "+").replace("%2b", "+")


def _strip_column(text: str, column: re.Pattern[str]) -> str:
    lines = [line for line in text.split("\n") if line.strip()]
    marked = sum(1 for line in lines if column.match(line))
    if not lines or marked < 0.6 * len(lines):
        return text
    return column.sub("", text)


def _join_rows(text: str) -> str:
    """Rows a terminal cut at its width joined back: a row exactly the longest row's length
    (at least ``_MIN_WIDTH``) continues on the next."""
    rows = text.split("\n")
    width = max((len(r) for r in rows), default=0)
    if width < _MIN_WIDTH:
        return text
    out: list[str] = []
    joining = False
    for row in rows:
        if joining:
            out[-1] += row
        else:
            out.append(row)
        joining = len(row) == width
    return "\n".join(out)


def rereadings(text: str) -> Iterator[str]:
    """Other readings of a cleaned paste, for when no rule recognised it as it is: rows cut at
    a terminal's width joined back, then rows wrapped at a word joined with a space (a paste
    reflowed by a forum, an e-mail or an editor). A wrapped paste's width is its longest row,
    or its longest row with a space in it when a long path or URL ran past the width."""
    seen = {text}
    rows = text.split("\n")
    widths = (max((len(r.rstrip()) for r in rows), default=0),
              max((len(r.rstrip()) for r in rows if " " in r.strip()), default=0))
    for reading in (_join_rows(text), *(_reflow(rows, w) for w in widths if w >= _MIN_WIDTH)):
        if reading not in seen:
            seen.add(reading)
            yield reading


def _reflow(rows: list[str], width: int) -> str:
    """A row that ends near ``width`` continues, after a space, on the next row (unless that
    one is blank); "near" leaves room for the word that did not fit."""
    out: list[str] = []
    joining = False
    for row in rows:
        if joining and row.strip():
            out[-1] += " " + row.strip()
        else:
            out.append(row)
        joining = len(row.rstrip()) >= width - 30
    return "\n".join(out)
