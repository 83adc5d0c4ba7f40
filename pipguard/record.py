"""Reading a distribution's RECORD safely: it is input, and it may be damaged.

A RECORD is a CSV file (path, hash, size) that the installer wrote into
``<name>-<ver>.dist-info``. It is read with limits, so that no damage to it can
crash pipguard or make it hang:

* only a regular file is opened: RECORD is ``stat``-ed first (a FIFO, a device
  such as a symlink to ``/dev/zero``, a directory are refused without opening),
  then opened with ``O_NONBLOCK`` and checked again with ``fstat`` (a file
  swapped in between cannot block the read either);
* at most :data:`MAX_RECORD_BYTES` (64 MiB) are read: a sparse or runaway file
  of gigabytes is refused from its size, and a file that grows while read is cut
  at the cap and refused (torch's own RECORD is about 2 MB);
* a file holding NUL bytes (a zero-filled block after a power loss) is damaged;
  so is text that is not UTF-8, CSV that does not parse, and any field longer
  than :data:`MAX_FIELD_CHARS` (128 KiB, also the :mod:`csv` module's default).

:func:`read_record` answers the entries, or why there are none.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import stat
from dataclasses import dataclass
from typing import NamedTuple

MAX_RECORD_BYTES = 64 << 20  # 64 MiB
MAX_FIELD_CHARS = 128 << 10  # 128 KiB


class RecordEntry(NamedTuple):
    """One line of a RECORD file (a tuple: torch's RECORD has 15,000 of them)."""

    path: str  # as written, "/"-separated, relative to the dist's location
    hash: str | None  # "<algorithm>=<urlsafe b64 digest, no padding>"
    size: int | None


@dataclass(frozen=True)
class RecordRead:
    """A RECORD as read: its entries, or None and why there are none."""

    entries: tuple[RecordEntry, ...] | None
    missing: bool = False  # there is no RECORD file at all (or no .dist-info)
    damage: str | None = None  # why an existing RECORD could not be used
    digest: str | None = None  # sha256 of the bytes the entries were parsed from


class RecordDamaged(ValueError):
    """RECORD text that cannot be a RECORD an installer wrote."""


def parse_record(text: str) -> tuple[RecordEntry, ...]:
    """Parse RECORD text (CSV: path, hash, size). Blank lines are skipped.

    A malformed size is read as unknown rather than failing the whole file:
    the hash still decides. Raises :class:`RecordDamaged` for text no installer
    writes: NUL characters, a field over :data:`MAX_FIELD_CHARS`, broken CSV.
    """
    if "\x00" in text:
        raise RecordDamaged("it holds NUL bytes (zero-filled, e.g. after a power loss)")
    entries = []
    try:
        # newline="": csv itself tells line ends from newlines inside quoted paths.
        for row in csv.reader(io.StringIO(text, newline="")):
            if not row or not row[0]:
                continue
            if max(map(len, row)) > MAX_FIELD_CHARS:
                raise RecordDamaged(f"a field is longer than {MAX_FIELD_CHARS // 1024} KiB")
            path = row[0]
            digest = row[1].strip() if len(row) > 1 and row[1].strip() else None
            raw_size = row[2].strip() if len(row) > 2 else ""
            size = int(raw_size) if raw_size.isascii() and raw_size.isdigit() else None
            entries.append(RecordEntry(path, digest, size))
    except csv.Error as exc:  # e.g. "field larger than field limit (131072)"
        raise RecordDamaged(f"it is not valid CSV ({exc})") from None
    return tuple(entries)


# A RECORD's digest and the entries parsed from those bytes (by an earlier read).
Parsed = tuple[str, tuple[RecordEntry, ...]]


def read_record(dist_info: str | None, parsed: Parsed | None = None) -> RecordRead:
    """The entries of ``<dist_info>/RECORD``, read within the limits above.

    ``parsed``: an earlier read's digest and entries; when RECORD's bytes have that
    digest, its entries are those (parsing is a function of the bytes) and the text is
    not parsed again: 2 ms instead of 60 for torch's 15,000 lines.
    """
    if dist_info is None:
        return RecordRead(None, missing=True)
    path = os.path.join(dist_info, "RECORD")
    try:
        data = _read_capped(path)
    except FileNotFoundError:
        return RecordRead(None, missing=True)
    except NotADirectoryError:
        return RecordRead(None, damage="its .dist-info is not a directory")
    except RecordDamaged as exc:
        return RecordRead(None, damage=str(exc))
    except OSError as exc:
        return RecordRead(None, damage=f"it cannot be read ({exc.strerror or exc})")
    digest = hashlib.sha256(data).hexdigest()
    if parsed is not None and parsed[0] == digest:
        return RecordRead(parsed[1], digest=digest)
    try:
        return RecordRead(parse_record(data.decode("utf-8")), digest=digest)
    except UnicodeDecodeError:
        return RecordRead(None, damage="it is not UTF-8 text")
    except RecordDamaged as exc:
        return RecordRead(None, damage=str(exc))


def _read_capped(path: str) -> bytes:
    """A regular file's bytes, at most :data:`MAX_RECORD_BYTES`; never blocks."""
    _regular(os.stat(path))  # before opening: opening a FIFO for reading waits for a writer
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        _regular(os.fstat(fd))  # the file that was opened, not the one stat-ed
        chunks = []
        left = MAX_RECORD_BYTES + 1  # one byte more tells "too long" from "exactly the cap"
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    if left <= 0:
        raise RecordDamaged(f"it is longer than {MAX_RECORD_BYTES >> 20} MiB")
    return b"".join(chunks)


def _regular(st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise RecordDamaged("it is not a regular file")
    if st.st_size > MAX_RECORD_BYTES:
        raise RecordDamaged(f"it is longer than {MAX_RECORD_BYTES >> 20} MiB "
                            f"({st.st_size} bytes)")


def installed_size(dist_info: str | None) -> int:
    """The bytes a distribution's RECORD lists (0 when it has no readable RECORD)."""
    return sum(e.size or 0 for e in read_record(dist_info).entries or ())
