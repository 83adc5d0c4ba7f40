"""Lock files on disk: finding them (files, or folders of ``pylock*.toml``), reading, writing.

Writing goes through a temporary file and a rename, so a reader never sees half a lock.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

from pipguard.errors import UsageError
from pipguard.pylock import Lock, is_lock_file_name, loads


def lock_paths(args: Sequence[str]) -> list[Path]:
    """The lock files named: files as given, folders by their ``pylock*.toml`` files."""
    if not args:
        raise UsageError("name lock files or a folder of pylock.*.toml files",
                         hint="e.g. pipguard sync locks/")
    out: list[Path] = []
    for arg in args:
        path = Path(arg)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and is_lock_file_name(p.name))
            if not found:
                raise UsageError(f"no pylock.*.toml file in {path}")
            out.extend(found)
        elif path.is_file():
            out.append(path)
        else:
            raise UsageError(f"no such lock file or folder: {path}")
    return list(dict.fromkeys(out))


def read_locks(args: Sequence[str]) -> list[tuple[str, Path, Lock]]:
    """(file name, path, lock) of every lock named; unreadable ones are usage errors."""
    out = []
    for path in lock_paths(args):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {path}: {exc}") from None
        out.append((path.name, path, loads(text, str(path))))
    return out


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a temp file beside it, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
