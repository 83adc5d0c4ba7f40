"""Check installed files against the RECORD their installer wrote.

A wheel's RECORD lists every file with its hash and size; pip keeps the list
(re-pointed at where it put scripts) in ``<name>-<ver>.dist-info/RECORD``.
Comparing the disk with it finds truncated or half-overwritten installs (the
"corrupt-install" failure) without any network.

Rules (from the wheel spec and what installers actually write):

* paths are relative to the directory holding the ``.dist-info`` (scripts
  appear as ``../../bin/x``), and are only ever *read*, never written;
* an entry with a hash must exist, be a regular file, have the listed size
  and the listed sha256/sha384/sha512 digest (urlsafe base64, no padding);
* an entry without a hash (RECORD itself, files the installer writes) must
  exist, except ``*.pyc`` files, which are compiled after install and may be
  cleaned away at any time;
* other algorithms (the spec forbids md5/sha1) are checked for size only.

Hashing is spread over threads: hashlib releases the GIL while it digests a
large buffer, so a torch install (~15k files, several GB) is bounded by the
disk or by the cores, not by the interpreter.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import stat
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

PROBLEMS = ("missing", "changed", "size", "unreadable", "incomplete")
HASH_ALGORITHMS = frozenset({"sha256", "sha384", "sha512"})
_CHUNK = 1 << 20  # 1 MiB reads: large enough that hashlib drops the GIL for each
_BATCH_BYTES = 16 << 20  # group small files so one thread task is never trivially short
_BATCH_FILES = 64


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
class RecordEntry:
    """One line of a RECORD file."""

    path: str  # as written, "/"-separated, relative to the dist's location
    hash: str | None  # "<algorithm>=<urlsafe b64 digest, no padding>"
    size: int | None


@dataclass(frozen=True)
class FileProblem:
    """One installed file that does not match its RECORD entry."""

    path: str  # as written in RECORD
    problem: str  # one of PROBLEMS
    expected: str | None  # "sha256=..." or a size in bytes
    actual: str | None


@dataclass(frozen=True)
class DistVerification:
    """The result of checking one distribution."""

    name: str
    version: str
    files_checked: int  # RECORD entries compared with the disk (optional .pyc excluded)
    problems: tuple[FileProblem, ...]
    record_missing: bool  # no readable RECORD: nothing could be verified

    @property
    def ok(self) -> bool:
        return not self.record_missing and not self.problems


def parse_record(text: str) -> tuple[RecordEntry, ...]:
    """Parse RECORD text (CSV: path, hash, size). Blank lines are skipped.

    A malformed size is read as unknown rather than failing the whole file:
    the hash still decides.
    """
    entries = []
    # newline="": csv itself tells line ends from newlines inside quoted paths.
    for row in csv.reader(io.StringIO(text, newline="")):
        if not row or not row[0]:
            continue
        path = row[0]
        digest = row[1].strip() if len(row) > 1 and row[1].strip() else None
        raw_size = row[2].strip() if len(row) > 2 else ""
        size = int(raw_size) if raw_size.isascii() and raw_size.isdigit() else None
        entries.append(RecordEntry(path, digest, size))
    return tuple(entries)


def installed_size(dist: Distribution) -> int:
    """The bytes a distribution's RECORD lists (0 when it has no readable RECORD)."""
    return sum(e.size or 0 for e in _read_record(dist) or ())


def verify_dist(dist: Distribution, *, workers: int | None = None) -> DistVerification:
    """Check one distribution's files against its RECORD."""
    return verify_many([dist], workers=workers)[0]


def verify_many(
    dists: Sequence[Distribution], *, workers: int | None = None
) -> tuple[DistVerification, ...]:
    """Check several distributions, sharing one pool of hashing threads.

    ``workers`` defaults to ``min(8, cpu_count + 2)``; 1 hashes inline.
    """
    records = [_read_record(d) for d in dists]
    jobs: list[_Job] = []
    for index, (dist, entries) in enumerate(zip(dists, records, strict=True)):
        jobs.extend(_Job(index, dist.location, e) for e in entries or () if _needs_check(e))
    outcomes = _run(jobs, _default_workers() if workers is None else max(1, workers))
    problems: list[list[FileProblem]] = [[] for _ in dists]
    for job, outcome in zip(jobs, outcomes, strict=True):
        if outcome is not None:
            problems[job.dist].append(outcome)
    for i, dist in enumerate(dists):
        problems[i].extend(_unfinished(dist))
    counts = [0] * len(dists)
    for job in jobs:
        counts[job.dist] += 1
    return tuple(
        DistVerification(
            name=dist.name,
            version=dist.version,
            files_checked=counts[i],
            problems=tuple(sorted(problems[i], key=lambda p: p.path)),
            record_missing=records[i] is None,
        )
        for i, dist in enumerate(dists)
    )


def _unfinished(dist: Distribution) -> list[FileProblem]:
    """Signs that the installer was stopped before it finished this distribution.

    pip writes INSTALLER after the wheel's files and then rewrites RECORD to
    list it; a missing INSTALLER that RECORD does not list means it was killed
    in between.
    """
    if dist.dist_info is None or not os.path.isdir(dist.dist_info):
        return []
    names = os.listdir(dist.dist_info)
    base = os.path.basename(dist.dist_info)
    out: list[FileProblem] = []
    if "INSTALLER" not in names and not _record_lists(dist, f"{base}/INSTALLER"):
        # RECORD names INSTALLER once the installer rewrote it; a missing file it
        # lists is reported as "missing" by the ordinary check instead.
        out.append(FileProblem(f"{base}/INSTALLER", "incomplete", "present", "missing"))
    return out


def _record_lists(dist: Distribution, path: str) -> bool:
    entries = _read_record(dist)
    return entries is not None and any(e.path == path for e in entries)


@dataclass(frozen=True)
class _Job:
    dist: int  # index into the dists being verified
    base: str
    entry: RecordEntry


def _needs_check(entry: RecordEntry) -> bool:
    # A .pyc without a hash is a byte-compilation product, not wheel content.
    return entry.hash is not None or not entry.path.endswith(".pyc")


def _read_record(dist: Distribution) -> tuple[RecordEntry, ...] | None:
    """RECORD's entries, or None when there is none (or it cannot be read)."""
    if dist.dist_info is None:
        return None
    try:
        with open(os.path.join(dist.dist_info, "RECORD"), encoding="utf-8", newline="") as f:
            return parse_record(f.read())
    except (OSError, UnicodeDecodeError):
        return None


def _default_workers() -> int:
    return min(8, (os.cpu_count() or 1) + 2)


def _run(jobs: Sequence[_Job], workers: int) -> list[FileProblem | None]:
    """Check every job; results come back in ``jobs`` order."""
    if workers == 1 or len(jobs) < 2:
        return [_check(job) for job in jobs]
    from concurrent.futures import ThreadPoolExecutor

    results: list[FileProblem | None] = [None] * len(jobs)
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


def _batches(jobs: Sequence[_Job]) -> Iterator[list[int]]:
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


def _check_batch(jobs: Sequence[_Job]) -> list[FileProblem | None]:
    return [_check(job) for job in jobs]


def _check(job: _Job) -> FileProblem | None:
    """Compare one file with its RECORD entry; None when it matches."""
    entry = job.entry
    # RECORD uses "/"; an absolute path (a file installed outside the prefix)
    # replaces the base in join. normpath collapses "../../bin" lexically, the
    # way the installer computed it, so a symlinked lib dir cannot change the answer.
    path = os.path.normpath(os.path.join(job.base, entry.path.replace("/", os.sep)))
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return FileProblem(entry.path, "missing", entry.hash or _size_text(entry.size), None)
    except OSError as exc:
        return FileProblem(entry.path, "unreadable", entry.hash, exc.strerror or str(exc))
    if entry.hash is None:
        return None
    if not stat.S_ISREG(st.st_mode):
        # Never open a FIFO or device a RECORD points at: reading could block forever.
        return FileProblem(entry.path, "changed", entry.hash, "not a regular file")
    if entry.size is not None and st.st_size != entry.size:
        return FileProblem(entry.path, "size", str(entry.size), str(st.st_size))
    algorithm, _, expected = entry.hash.partition("=")
    algorithm = algorithm.lower()
    if algorithm not in HASH_ALGORITHMS:
        return None
    try:
        actual = _digest(path, algorithm, st.st_size)
    except OSError as exc:
        return FileProblem(entry.path, "unreadable", entry.hash, exc.strerror or str(exc))
    if actual != expected.rstrip("="):
        return FileProblem(entry.path, "changed", entry.hash, f"{algorithm}={actual}")
    return None


_local = threading.local()


def _digest(path: str, algorithm: str, size: int) -> str:
    """The file's digest in RECORD's encoding (urlsafe base64, no padding)."""
    with open(path, "rb") as f:
        if size <= _CHUNK:
            h = hashlib.new(algorithm, f.read())
        else:
            h = hashlib.new(algorithm)
            buffer = getattr(_local, "buffer", None)
            if buffer is None:
                buffer = _local.buffer = bytearray(_CHUNK)  # one per thread, reused
            view = memoryview(buffer)
            while n := f.readinto(buffer):
                h.update(view[:n])
    return base64.urlsafe_b64encode(h.digest()).rstrip(b"=").decode("ascii")


def _size_text(size: int | None) -> str | None:
    return None if size is None else str(size)
