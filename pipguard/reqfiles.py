"""Read what an install asks for: command-line requirements and requirements files.

pipguard reads requirements only to find the torch family; the files
themselves are handed to pip unchanged, so everything pip supports in them
(options, hashes, environment variables) keeps working.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from pipguard.errors import UsageError

_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
_COMMENT = re.compile(r"(^|\s+)#.*$")


@dataclass(frozen=True)
class Wanted:
    """Everything an install names, split by kind."""

    requirements: tuple[tuple[Requirement, str], ...] = ()  # (requirement, origin)
    constraints: tuple[tuple[Requirement, str], ...] = ()
    # local projects, editables, archives and URLs whose dependencies only pip can tell
    opaque: tuple[str, ...] = ()
    pre: bool = False


def _logical_lines(text: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    buf, start = "", 0
    for n, raw in enumerate(text.splitlines(), 1):
        line = _COMMENT.sub("", raw)
        if not buf:
            start = n
        if line.endswith("\\"):
            buf += line[:-1]
            continue
        buf += line
        if buf.strip():
            out.append((start, buf.strip()))
        buf = ""
    if buf.strip():
        out.append((start, buf.strip()))
    return out


def _expand(line: str) -> str:
    return _ENV_VAR.sub(lambda m: os.environ.get(m.group(1), m.group(0)), line)


def parse_requirement(text: str, origin: str) -> Requirement | None:
    """A requirement, or ``None`` for a path/URL pip must look at itself."""
    text = text.split(" --", 1)[0].strip()  # per-line options (--hash, --config-settings)
    if _looks_like_path(text):
        return None
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        # packaging's message draws a caret under the text on further lines: errors are one line.
        why = (str(exc).splitlines() or ["not PEP 508"])[0]
        raise UsageError(f"invalid requirement {text!r} ({_one_line(origin)}): {why}",
                         hint="write it as pip does, e.g. 'torch>=2.5'") from None


def _one_line(text: str) -> str:
    """``text`` for an error line: quoted when it holds control characters (a newline)."""
    return repr(text) if any(not c.isprintable() for c in text) else text


def _looks_like_path(text: str) -> bool:
    if re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*@\s", text):
        return False  # "name @ url": a PEP 508 direct reference
    if "://" in text.split("@")[0] or text.startswith((".", "/", "~", "file:")):
        return True
    if re.match(r"^[A-Za-z]:[\\/]", text):  # Windows path
        return True
    if text.endswith((".whl", ".zip", ".tar.gz", ".tgz")):
        return True
    return os.sep in text and " @ " not in text


class _Reader:
    def __init__(self) -> None:
        self.reqs: list[tuple[Requirement, str]] = []
        self.cons: list[tuple[Requirement, str]] = []
        self.opaque: list[str] = []
        self.pre = False
        self.seen: set[Path] = set()

    def add_arg(self, text: str, origin: str, *, constraint: bool = False) -> None:
        req = parse_requirement(text, origin)
        if req is None:
            if not constraint:
                self.opaque.append(text)
            return
        if req.url:
            self.opaque.append(text)
        (self.cons if constraint else self.reqs).append((req, origin))

    def read_file(self, name: str, *, constraint: bool, base: Path | None) -> None:
        if re.match(r"^https?://", name):
            # Remote requirements files are pip's to fetch; treat as opaque.
            self.opaque.append(f"-r {name}")
            return
        path = (base / name) if base is not None and not Path(name).is_absolute() else Path(name)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise UsageError(f"requirements file {_one_line(name)} not found",
                             hint="check the path given to -r/-c") from None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            # ValueError: a path with a NUL byte; UnicodeDecodeError: not UTF-8 text.
            raise UsageError(f"cannot read requirements file {_one_line(name)}: "
                             f"{_one_line(getattr(exc, 'strerror', None) or str(exc))}",
                             hint="requirements files are UTF-8 text; check the path given "
                                  "to -r/-c") from None
        resolved = path.resolve()
        if resolved in self.seen:
            return  # a file included twice (or a loop) is read once
        self.seen.add(resolved)
        for lineno, line in _logical_lines(text):
            self._line(_expand(line), f"{name}:{lineno}", constraint, path.parent)

    def _line(self, line: str, origin: str, constraint: bool, base: Path) -> None:
        m = re.match(r"^(-r|--requirement|-c|--constraint)(?:\s+|=)?(\S+)$", line)
        if m:
            nested_constraint = m.group(1) in ("-c", "--constraint") or constraint
            self.read_file(m.group(2), constraint=nested_constraint, base=base)
            return
        m = re.match(r"^(-e|--editable)(?:\s+|=)(.+)$", line)
        if m:
            self.opaque.append(m.group(2).strip())
            return
        if line.startswith("--pre"):
            self.pre = True
            return
        if line.startswith("-"):
            return  # index and other options: pip reads them itself
        self.add_arg(line, origin, constraint=constraint)


def read_wanted(
    positionals: list[str], requirement_files: list[str], constraint_files: list[str],
    editables: list[str], *, pre: bool = False,
) -> Wanted:
    """Collect the requirements an install names (files nested as pip nests them)."""
    r = _Reader()
    r.pre = pre
    for arg in positionals:
        r.add_arg(arg, "command line")
    for f in requirement_files:
        r.read_file(f, constraint=False, base=None)
    for f in constraint_files:
        r.read_file(f, constraint=True, base=None)
    r.opaque.extend(editables)
    return Wanted(tuple(r.reqs), tuple(r.cons), tuple(r.opaque), r.pre)
