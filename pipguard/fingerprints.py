"""The fingerprints of files whose hash matched RECORD, kept between runs of verify.

:func:`pipguard.verify.verify_many` trusts a file whose stat fingerprint is one remembered
from an earlier match (see :data:`pipguard.verify.Fingerprint` for what it holds and why
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
from pathlib import Path

from pipguard.cache import cache_dir, entry_path, read_entry, write_entry
from pipguard.verify import FINGERPRINTS, Distribution, DistVerification, Fingerprint, verify_many

_FORMAT = 1
_MAX_BYTES = 64 << 20  # a stored entry larger than this is not one of ours: ignored


def verify_remembering(dists: Sequence[Distribution], cache_root: Path | None, *,
                       full: bool = False) -> tuple[DistVerification, ...]:
    """:func:`~pipguard.verify.verify_many`, trusting files unchanged since an earlier
    check matched their hash (``full``: none), and remembering this check's matches.

    ``cache_root`` None: the user cache folder.
    """
    root = cache_root if cache_root is not None else cache_dir()
    known = [{} if full else load(root, d.dist_info) for d in dists]
    results = verify_many(dists, known=known)
    for d, seen, r in zip(dists, known, results, strict=True):
        if not r.record_missing and (r.files_hashed or len(r.fingerprints) != len(seen)):
            save(root, d.dist_info, r.fingerprints)
    return results


def _where(root: Path, dist_info: str) -> Path:
    return entry_path(root, "verified", os.path.realpath(dist_info))


def load(root: Path, dist_info: str | None) -> dict[str, Fingerprint]:
    """The fingerprints remembered for one distribution (RECORD path -> fingerprint)."""
    if not FINGERPRINTS or dist_info is None:
        return {}
    path = _where(root, dist_info)
    try:
        if path.stat().st_size > _MAX_BYTES:
            return {}
    except OSError:
        return {}
    entry = read_entry(path)  # self-checking: a torn or damaged entry reads as None
    if entry is None:
        return {}
    header, body = entry
    if header.get("format") != _FORMAT or header.get("dist_info") != os.path.realpath(dist_info):
        return {}
    try:
        files = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deep on purpose
        return {}
    if not isinstance(files, dict):
        return {}
    # No check of each value's shape: one that is not a fingerprint never equals a file's
    # own (``verify`` compares whole tuples), so that file is simply hashed.
    try:
        return {str(k): tuple(v) for k, v in files.items()}
    except TypeError:
        return {}


def save(root: Path, dist_info: str | None, prints: Mapping[str, Fingerprint]) -> None:
    """Remember ``prints`` for one distribution (replacing what was remembered)."""
    if not FINGERPRINTS or dist_info is None:
        return
    body = json.dumps({k: list(v) for k, v in sorted(prints.items())}, separators=(",", ":"))
    with contextlib.suppress(OSError):
        write_entry(_where(root, dist_info),
                    {"format": _FORMAT, "dist_info": os.path.realpath(dist_info)},
                    body.encode("utf-8"))
