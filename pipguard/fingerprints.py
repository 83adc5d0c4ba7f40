"""The fingerprints of files whose hash matched RECORD, kept between runs of verify.

:func:`pipguard.verify.verify_many` trusts a file whose stat fingerprint is one remembered
from an earlier match (see :data:`pipguard.filecheck.Fingerprint` for what it holds and why
that is safe); this module keeps them, one entry per distribution in the user cache
(``verified/``), and runs a check with them: :func:`verify_remembering`. A full check
(``--full``) trusts nothing, and only matches are remembered.

The store is a cache: a missing, unreadable, foreign or damaged entry means "hash it",
never an error; a read-only cache folder costs the next check a full hash, nothing more.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipguard.cache import cache_dir, entry_path, read_entry, write_entry
from pipguard.filecheck import FINGERPRINTS, Fingerprint
from pipguard.record import Parsed, RecordEntry, read_record
from pipguard.verify import Distribution, DistVerification, verify_many

_FORMAT = 2
_COLUMNS = ("record", "paths", "hashes", "sizes", "prints")
_MAX_BYTES = 64 << 20  # a stored entry larger than this is not one of ours: ignored


@dataclass(frozen=True)
class Remembered:
    """What one distribution's entry holds."""

    files: Mapping[str, Fingerprint]  # RECORD path -> fingerprint of its last match
    record: Parsed | None = None  # RECORD's digest and the entries parsed from it


def verify_remembering(dists: Sequence[Distribution], cache_root: Path | None, *,
                       full: bool = False) -> tuple[DistVerification, ...]:
    """:func:`~pipguard.verify.verify_many`, trusting files unchanged since an earlier
    check matched their hash (``full``: none), and remembering this check's matches.

    RECORD itself is read every time; when its bytes are those parsed last time, the
    remembered entries are used instead of parsing it again. ``cache_root`` None: the
    user cache folder.
    """
    root = cache_root if cache_root is not None else cache_dir()
    stored = [load(root, d.dist_info) for d in dists]
    records = [read_record(d.dist_info, m.record) for d, m in zip(dists, stored, strict=True)]
    results = verify_many(dists, known=[{} if full else m.files for m in stored],
                          records=records)
    for d, seen, read, r in zip(dists, stored, records, results, strict=True):
        if r.record_missing or read.entries is None or read.digest is None:
            continue
        same_record = seen.record is not None and seen.record[0] == read.digest
        if r.files_hashed or len(r.fingerprints) != len(seen.files) or not same_record:
            save(root, d.dist_info, Remembered(r.fingerprints, (read.digest, read.entries)))
    return results


def _where(root: Path, dist_info: str) -> Path:
    return entry_path(root, "verified", os.path.realpath(dist_info))


def load(root: Path, dist_info: str | None) -> Remembered:
    """What is remembered for one distribution (nothing, when the entry is not usable)."""
    if not FINGERPRINTS or dist_info is None:
        return _NOTHING
    path = _where(root, dist_info)
    try:
        if path.stat().st_size > _MAX_BYTES:
            return _NOTHING
    except OSError:
        return _NOTHING
    entry = read_entry(path)  # self-checking: a torn or damaged entry reads as None
    if entry is None:
        return _NOTHING
    header, body = entry
    if header.get("format") != _FORMAT or header.get("dist_info") != os.path.realpath(dist_info):
        return _NOTHING
    try:
        stored = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deep on purpose
        return _NOTHING
    return _remembered(stored) if isinstance(stored, dict) else _NOTHING


def _remembered(stored: dict[str, Any]) -> Remembered:
    """The entry's columns, one row per RECORD line: path, hash, size, and the fingerprint's
    other fields when that file matched (columns: 5 ms to check and load for torch's 15,000
    lines, where a loop over rows takes 40)."""
    digest, paths, hashes, sizes, prints = (stored.get(k) for k in _COLUMNS)
    if not (isinstance(digest, str) and isinstance(paths, list) and isinstance(hashes, list)
            and isinstance(sizes, list) and isinstance(prints, list)
            and len(paths) == len(hashes) == len(sizes) == len(prints)
            and set(map(type, paths)) <= {str} and set(map(type, hashes)) <= {str, type(None)}
            and set(map(type, sizes)) <= {int, type(None)}):
        return _NOTHING
    # No check of each fingerprint's fields: one that is not a file's own never equals it
    # (``verify`` compares whole tuples), so that file is simply hashed.
    try:
        files = {p: (h, *fp) for p, h, fp in zip(paths, hashes, prints, strict=True)
                 if fp is not None}
    except TypeError:
        return _NOTHING
    return Remembered(files, (digest, tuple(map(RecordEntry, paths, hashes, sizes))))


def save(root: Path, dist_info: str | None, remembered: Remembered) -> None:
    """Remember ``remembered`` for one distribution (replacing what was remembered); only
    a remembered RECORD parse is kept with its fingerprints (the rows carry them)."""
    if not FINGERPRINTS or dist_info is None or remembered.record is None:
        return
    digest, rows = remembered.record
    files = remembered.files
    prints = [list(fp[1:]) if (fp := files.get(e.path)) is not None and fp[0] == e.hash
              else None for e in rows]
    body = json.dumps(dict(zip(_COLUMNS, (digest, [e.path for e in rows], [e.hash for e in rows],
                                          [e.size for e in rows], prints), strict=True)),
                      separators=(",", ":"))
    with contextlib.suppress(OSError):
        write_entry(_where(root, dist_info),
                    {"format": _FORMAT, "dist_info": os.path.realpath(dist_info)},
                    body.encode("utf-8"))


_NOTHING = Remembered({})
