"""Check installed files against the RECORD their installer wrote.

A wheel's RECORD lists every file with its hash and size; pip keeps the list (re-pointed at
where it put scripts) in ``<name>-<ver>.dist-info/RECORD``. Comparing the disk with it finds
truncated or half-overwritten installs ("corrupt-install") without any network. RECORD is
read within limits (:mod:`pipguard.record`); a damaged one makes the dist unverifiable.

Rules (from the wheel spec and what installers actually write; one file's check is
:mod:`pipguard.filecheck`):

* paths are relative to the directory holding the ``.dist-info`` (scripts
  appear as ``../../bin/x``), and are only ever *read*, never written;
* a path that leaves the environment (absolute, or ``..`` above the prefix
  that holds ``lib/pythonX.Y/site-packages``, see :func:`environment_root`) is
  reported as ``outside`` and never touched;
* an entry with a hash must exist, be a regular file, have the listed size
  and the listed sha256/sha384/sha512 digest (urlsafe base64, no padding);
* an entry without a hash (RECORD itself, files the installer writes) must
  exist, except ``*.pyc`` files, which are compiled after install and may be
  cleaned away at any time;
* other algorithms (the spec forbids md5/sha1) are checked for size only.

Speed: hashing is spread over one thread per usable core (:func:`default_workers`); large
files in 1 MiB reads (hashlib and the read release the GIL), small ones in batches. A file
whose stat fingerprint is one remembered from an earlier match is not even handed to a
job, only stat-ed (see :data:`pipguard.filecheck.Fingerprint`; :mod:`pipguard.fingerprints`
keeps them); ``hash_files=False`` checks
presence and sizes only (after an install: pip has just checked the archive's hash).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pipguard.filecheck import (
    FINGERPRINTS,
    HASHED,
    STAT,
    UNCHANGED,
    FileJob,
    FileProblem,
    Fingerprint,
    Outcome,
    check,
    read_and_check,
    unchanged,
)
from pipguard.record import RecordEntry, RecordRead, read_record

MAX_WORKERS = 8  # beyond this a disk, not the cores, is the limit
_BATCH_BYTES = 32 << 20  # group small files so one thread task is never trivially short
_BATCH_FILES = 256
_PYTHON_DIR = re.compile(r"python\d*(\.\d+)?t?|pypy\d*(\.\d+)?", re.IGNORECASE)

class Distribution(Protocol):
    """What verification needs of an installed distribution
    (:class:`pipguard.installed.Distribution` has it)."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def location(self) -> str: ...  # RECORD paths are relative to it
    @property
    def dist_info(self) -> str | None: ...


@dataclass(frozen=True)
class DistVerification:
    """The result of checking one distribution."""

    name: str
    version: str
    files_checked: int  # RECORD entries compared with the disk (optional .pyc excluded)
    problems: tuple[FileProblem, ...]
    record_missing: bool  # no usable RECORD (absent or damaged): nothing could be verified
    record_damage: str | None = None  # why an existing RECORD was unusable
    files_hashed: int = 0  # files read and hashed in this check
    files_unchanged: int = 0  # not read: their fingerprint is that of an earlier match
    sizes_only: bool = False  # nothing was hashed on purpose (hash_files=False)
    # Files whose hash matched, in this check or before: for the next check.
    fingerprints: Mapping[str, Fingerprint] = field(default_factory=dict, compare=False)

    @property
    def ok(self) -> bool:
        return not self.record_missing and not self.problems


def default_workers() -> int:
    """One thread per core this process may run on, at most :data:`MAX_WORKERS`.

    More threads than cores only adds switching: the per-file work holds the GIL.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cores))


def environment_root(location: str) -> str:
    """The prefix a RECORD's paths may reach from ``location`` (its site-packages).

    ``<prefix>/lib/python3.12/site-packages``, ``<prefix>/lib/python3/dist-packages``
    and ``<prefix>/Lib/site-packages`` give ``<prefix>``, which holds the scripts
    folder (``bin``, ``Scripts``) and the data files; any other location (a
    ``--target`` folder) is its own root.
    """
    path = os.path.normpath(os.path.abspath(location))
    head, tail = os.path.split(path)
    if tail.lower() not in ("site-packages", "dist-packages"):
        return path
    if _PYTHON_DIR.fullmatch(os.path.basename(head)):
        head = os.path.dirname(head)
    if os.path.basename(head).lower() in ("lib", "lib64", "lib32"):
        head = os.path.dirname(head)
    return head


def verify_dist(dist: Distribution, *, workers: int | None = None) -> DistVerification:
    """Check one distribution's files against its RECORD."""
    return verify_many([dist], workers=workers)[0]


def verify_many(
    dists: Sequence[Distribution], *, workers: int | None = None, hash_files: bool = True,
    known: Sequence[Mapping[str, Fingerprint]] | None = None,
    records: Sequence[RecordRead] | None = None,
) -> tuple[DistVerification, ...]:
    """Check several distributions, sharing one pool of hashing threads.

    ``workers`` defaults to :func:`default_workers`; 1 hashes inline. ``known`` holds,
    per distribution, the fingerprints remembered from earlier matches (see the module
    docstring); ``hash_files=False`` compares presence, kind and size only. ``records``:
    each distribution's RECORD as the caller read it (default: read here).
    """
    if records is None:
        records = [read_record(d.dist_info) for d in dists]
    started = time.time_ns()  # before any stat: the settle window counts from here
    jobs: list[FileJob] = []
    prints: list[dict[str, Fingerprint]] = [{} for _ in dists]
    for index, (dist, read) in enumerate(zip(dists, records, strict=True)):
        base = os.path.abspath(dist.location) if dist.location else ""
        root = environment_root(base) + os.sep
        seen = known[index] if known is not None and hash_files and FINGERPRINTS else {}
        for e in read.entries or ():
            if not _needs_check(e):
                continue
            fingerprint = seen.get(e.path)
            if fingerprint is None or not unchanged(base, e, fingerprint):
                jobs.append(FileJob(index, base, root, e, fingerprint, hash_files, started))
            else:
                prints[index][e.path] = fingerprint
    outcomes = _run(jobs, default_workers() if workers is None else max(1, workers))
    problems: list[list[FileProblem]] = [[] for _ in dists]
    same = [len(p) for p in prints]
    counts = same.copy()
    hashed = [0] * len(dists)
    for job, (problem, fingerprint, how) in zip(jobs, outcomes, strict=True):
        counts[job.dist] += 1
        hashed[job.dist] += how == HASHED
        same[job.dist] += how == UNCHANGED
        if problem is not None:
            problems[job.dist].append(problem)
        elif fingerprint is not None:
            prints[job.dist][job.entry.path] = fingerprint
    for i, dist in enumerate(dists):
        problems[i].extend(_unfinished(dist, records[i]))
    return tuple(
        DistVerification(
            name=dist.name,
            version=dist.version,
            files_checked=counts[i],
            problems=tuple(sorted(problems[i], key=lambda p: p.path)),
            record_missing=records[i].entries is None,
            record_damage=records[i].damage,
            files_hashed=hashed[i],
            files_unchanged=same[i],
            sizes_only=not hash_files,
            fingerprints=prints[i],
        )
        for i, dist in enumerate(dists)
    )


def _unfinished(dist: Distribution, read: RecordRead) -> list[FileProblem]:
    """Signs that the installer was stopped before it finished this distribution.

    pip writes INSTALLER after the wheel's files and then rewrites RECORD to
    list it; a missing INSTALLER that RECORD does not list means it was killed
    in between.
    """
    if dist.dist_info is None or not os.path.isdir(dist.dist_info):
        return []
    base = os.path.basename(dist.dist_info)
    installer = f"{base}/INSTALLER"
    if os.path.lexists(os.path.join(dist.dist_info, "INSTALLER")):
        return []
    if read.entries is not None and any(e.path == installer for e in read.entries):
        # RECORD names INSTALLER once the installer rewrote it; a missing file it
        # lists is reported as "missing" by the ordinary check instead.
        return []
    return [FileProblem(installer, "incomplete", "present", "missing")]


def _needs_check(entry: RecordEntry) -> bool:
    # A .pyc without a hash is a byte-compilation product, not wheel content.
    return entry.hash is not None or not entry.path.endswith(".pyc")


def _run(jobs: Sequence[FileJob], workers: int) -> list[Outcome]:
    """Check every job; results come back in ``jobs`` order.

    Files that need no reading (a size check, an unchanged fingerprint) are checked
    inline: that is Python work under the GIL, which threads would only slow down. The
    files left to hash are spread over the pool.
    """
    first = [check(job, read=False) for job in jobs]
    left = [job for job, outcome in zip(jobs, first, strict=True) if outcome is None]
    if not left:
        return [o for o in first if o is not None]
    hashed = iter(_hash_all(left, workers))
    return [o if o is not None else next(hashed) for o in first]


def _hash_all(jobs: Sequence[FileJob], workers: int) -> list[Outcome]:
    if workers == 1 or len(jobs) < 2:
        return [read_and_check(job) for job in jobs]
    from concurrent.futures import ThreadPoolExecutor

    results: list[Outcome] = [(None, None, STAT)] * len(jobs)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pipguard-verify")
    try:
        # One task per batch (not per file) keeps the pool's overhead small on
        # the thousands of tiny files; largest first, so a 1 GB library does
        # not start last and leave the other threads idle at the end.
        batches = list(_batches(jobs))
        done = pool.map(_check_batch, ([jobs[i] for i in batch] for batch in batches))
        for batch, outcomes in zip(batches, done, strict=True):
            for i, outcome in zip(batch, outcomes, strict=True):
                results[i] = outcome
    finally:
        # On Ctrl-C, drop the queued batches instead of hashing gigabytes first.
        pool.shutdown(wait=True, cancel_futures=True)
    return results


def _batches(jobs: Sequence[FileJob]) -> Iterator[list[int]]:
    order = sorted(range(len(jobs)), key=lambda i: jobs[i].entry.size or 0, reverse=True)
    batch: list[int] = []
    total = 0
    for i in order:
        batch.append(i)
        total += jobs[i].entry.size or 0
        if total >= _BATCH_BYTES or len(batch) >= _BATCH_FILES:
            yield batch
            batch, total = [], 0
    if batch:
        yield batch


def _check_batch(jobs: Sequence[FileJob]) -> list[Outcome]:
    return [read_and_check(job) for job in jobs]


