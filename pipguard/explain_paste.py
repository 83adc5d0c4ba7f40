"""What a user pastes, as the ``explain`` rules read it.

A failure reaches ``explain`` as a paste, and a paste rarely is the text the tool printed:
terminal colour, CRLF, a forum's curly quotes, no-break or full-width spaces and signs, each
line behind a log prefix (BuildKit's ``#10 98.65``, a CI or logger timestamp, Docker
Compose's ``web-1  |``, syslog's ``host python[42]:``), quoted as a Markdown or e-mail reply
(``> ``), or broken into rows by the terminal it was copied from. The rules key on the
tools' own sentences and line starts; :func:`clean` gives them those back, whatever wrapped
them, so one rule serves every way of pasting.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

__all__ = ["clean", "rereadings", "trimmed"]

_ANSI = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
# Prefixes a log puts before every line, whatever the line says: Docker BuildKit ("#10
# 98.65 "), GitHub Actions, ISO and bracketed timestamps (with a logger's level), clock
# times, syslog/journald ("Jan  2 03:04:05 host python3[42]: "); indented where the log
# itself was indented or pasted as a code block.
_PREFIX = re.compile(
    r"^[ \t]*(?:#\d+ \d+(?:\.\d+)? "
    r"|\[?\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d)?(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\]?"
    r"(?:(?: [-|:])? \[?(?:DEBUG|INFO|WARN(?:ING)?|ERROR|CRITICAL|FATAL|stdout|stderr)\]?)?"
    r"(?: [-|:] | )"
    r"|\[\d{4}-\d\d-\d\d[^\]\n]*\] "
    r"|\[?\d\d:\d\d:\d\d(?:[.,]\d+)?\]? +"
    r"|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d [\w.-]+ [\w./-]+(?:\[\d+\])?: )", re.M)
# A quoted reply ("> ", "> > ") and Docker Compose's service column ("web-1  | "): only when
# most lines carry one, since a lone "> " or "a | b" can be the tool's own text; Compose's
# column also names few services and puts its bar at one place (a table's first column does
# neither).
_QUOTE = re.compile(r"^[ \t]{0,3}(?:> ?)+", re.M)
_COMPOSE = re.compile(r"^([\w.-]{1,40} +)\| ?", re.M)
# Terminal widths a hard-wrapped copy is cut at (a row of exactly this many characters
# continues on the next one).
_MIN_WIDTH = 60
# Past this size a paste is a whole log, read as it is: another reading would cost as much.
_REREAD_LIMIT = 64 * 1024
# A whole log is read by its start (the command line, the environment) and its end (where a
# failure ends): the rules' cost grows with the text, a failure's lines do not.
_HEAD, _TAIL = 16 * 1024, 112 * 1024
# A forum's or an editor's typographic quotes (and a compiler's, in a UTF-8 locale), a web
# page's no-break spaces, a CJK input method's full-width punctuation and letters: the rules
# read the ASCII that tools print.
_TYPOGRAPHY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                             "\u00a0": " ", "\u202f": " ", "\u3000": " ",
                             **{chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}})
# A token that names a wheel (no quote, bracket or space in it): its %2B is a "+".
_WHEEL_NAME = re.compile(r"(?<![^\s\"'<>])[^\s\"'<>]+?\.whl\b")


def clean(text: str) -> str:
    """The paste as the tool printed it: no colour, LF only, straight quotes and plain spaces,
    no per-line log prefix or reply quoting; ``%2B`` in wheel URLs decoded."""
    text = _ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n").translate(_TYPOGRAPHY)
    # Twice: a log that was itself logged (a BuildKit line in a CI or syslog line) has two.
    text = _PREFIX.sub("", _PREFIX.sub("", text))
    stripped = _strip_column(_strip_column(text, _QUOTE), _COMPOSE, names=3)
    if stripped != text:  # a timestamp may follow the column (`docker compose logs -t`)
        text = _PREFIX.sub("", stripped)
    return _WHEEL_NAME.sub(lambda m: m.group(0).replace("%2B", "+").replace("%2b", "+"), text)


def trimmed(text: str) -> str:
    """``text``, or for a whole log its first ``_HEAD`` and last ``_TAIL`` characters, cut at
    line ends and joined by a ``[...]`` line."""
    if len(text) <= _HEAD + _TAIL:
        return text
    head = text[:_HEAD].rsplit("\n", 1)[0]
    tail = text[-_TAIL:].split("\n", 1)[-1]
    return f"{head}\n[...]\n{tail}"


def _strip_column(text: str, column: re.Pattern[str], names: int = 0) -> str:
    lines = [line for line in text.split("\n") if line.strip()]
    marks = [m for line in lines if (m := column.match(line))]
    if not lines or len(marks) < 0.6 * len(lines):
        return text
    few = min(names, max(1, len(marks) // 4))  # a service logs many lines
    if names and (len({m.group(1).strip() for m in marks}) > few
                  or len({m.end(1) for m in marks}) > 1):
        return text
    return column.sub("", text)


def _joined(rows: list[str], glue: str, continues: Callable[[str], bool]) -> str:
    """``rows`` with each row for which ``continues`` holds joined to the next by ``glue``
    (the next row stripped of its indent when ``glue`` is a space; a blank row ends a line)."""
    lines: list[str] = []
    parts: list[str] = []
    for row in rows:
        if parts and not (glue and not row.strip()):
            parts.append(row.strip() if glue else row)
        else:
            if parts:
                lines.append(glue.join(parts))
            parts = [row]
        if not continues(row):
            lines.append(glue.join(parts))
            parts = []
    if parts:
        lines.append(glue.join(parts))
    return "\n".join(lines)


def rereadings(text: str) -> Iterator[str]:
    """Other readings of a cleaned paste, for when no rule recognised it as it is: rows cut at
    a terminal's width joined back (a row exactly the longest row's length continues on the
    next), then rows wrapped at a word joined with a space (a paste reflowed by a forum, an
    e-mail or an editor: a row that ends within 30 characters of the width continues). A
    wrapped paste's width is its longest row, or its longest row with a space in it when a
    long path or URL ran past the width. None for a whole log (``_REREAD_LIMIT``)."""
    if len(text) > _REREAD_LIMIT:
        return
    seen = {text}
    rows = text.split("\n")
    longest = max((len(r) for r in rows), default=0)
    widths = dict.fromkeys((max((len(r.rstrip()) for r in rows), default=0),
                            max((len(r.rstrip()) for r in rows if " " in r.strip()), default=0)))
    readings = [_joined(rows, "", lambda r: len(r) == longest)] if longest >= _MIN_WIDTH else []
    readings += [_joined(rows, " ", _ends_near(w)) for w in widths if w >= _MIN_WIDTH]
    for reading in readings:
        if reading not in seen:
            seen.add(reading)
            yield reading


def _ends_near(width: int) -> Callable[[str], bool]:
    """A row wrapped at a word: it ends within 30 characters (the word that did not fit) of
    ``width``."""
    return lambda row: len(row.rstrip()) >= width - 30
