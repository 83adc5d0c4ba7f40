"""One installed file against its RECORD entry: where it is, its stat, its hash.

The rules (see :mod:`pipguard.verify` for the whole check): a path is resolved lexically
under the folder RECORD is relative to and must stay inside the environment; an entry with
a hash must be a regular file of the listed size and digest (read within ``stat``'s size,
never blocking on a FIFO); one without a hash must exist. A file whose stat fingerprint is
that of an earlier match is not read (:data:`Fingerprint`).
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple, Protocol

PROBLEMS = ("missing", "changed", "size", "unreadable", "incomplete", "outside")
HASH_ALGORITHMS = frozenset({"sha256", "sha384", "sha512"})
_CHUNK = 1 << 20  # 1 MiB reads: fits the CPU cache, long enough that hashlib drops the GIL
_NEW: dict[str, Callable[..., hashlib._Hash]] = {
    "sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
_O_READ = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)

# A file's stat fingerprint when its content matched RECORD: the RECORD hash it matched, then
# size, mtime_ns, ctime_ns, inode, device; the same fingerprint later is not read again (as
# ``git status`` trusts its index). The kernel sets ctime on every write, chmod, rename or
# link and no user can set it back: an overwritten file is read again even with its mtime
# restored. Windows has no ctime (st_ctime is the creation time): nothing is trusted there.
Fingerprint = tuple[str, int, int, int, int, int]
FINGERPRINTS = os.name != "nt"
# A file changed this recently (before the check began) may change again within the same
# timestamp tick (git's "racily clean" case; FAT ticks in 2 s): not fingerprinted.
SETTLE_NS = 2_000_000_000



class Entry(Protocol):
    """One RECORD line as checked here (:class:`pipguard.record.RecordEntry` is one)."""

    @property
    def path(self) -> str: ...  # "/"-separated, relative to the distribution's location
    @property
    def hash(self) -> str | None: ...  # "<algorithm>=<urlsafe b64 digest, no padding>"
    @property
    def size(self) -> int | None: ...


@dataclass(frozen=True)
class FileProblem:
    """One installed file that does not match its RECORD entry."""

    path: str  # as written in RECORD
    problem: str  # one of PROBLEMS
    expected: str | None  # "sha256=..." or a size in bytes
    actual: str | None


class FileJob(NamedTuple):  # a tuple: one per file, 12,000 for torch
    dist: int  # index into the dists being verified
    base: str  # the absolute folder RECORD's paths are relative to
    root: str  # environment_root(base) + os.sep: no path may leave it
    entry: Entry
    known: Fingerprint | None = None  # remembered from an earlier match of this file
    hash_files: bool = True
    started: int = 0  # time.time_ns() before any stat


# How a file was checked: by stat alone, read and hashed, or found unchanged (fingerprint).
STAT, HASHED, UNCHANGED = 0, 1, 2
Outcome = tuple[FileProblem | None, Fingerprint | None, int]


def unchanged(base: str, entry: Entry, fingerprint: Fingerprint) -> bool:
    """Whether a file still has the fingerprint of its last match: its stat, and nothing
    else, for the thousands of files of a repeat check (the other cases, a path to fold
    or a stat that fails, are the jobs' to check and report)."""
    rel = entry.path
    if not plain(base, rel):
        return False
    try:
        st = os.stat(base + os.sep + rel.replace("/", os.sep))
    except (OSError, ValueError):
        return False
    return stat.S_ISREG(st.st_mode) and fingerprint == (
        entry.hash, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def plain(base: str, rel: str) -> bool:
    """Whether ``base/rel`` needs no folding: no ``..``, ``.``, absolute part or drive;
    such a path is inside ``base``."""
    return (bool(base) and rel[:1] not in "./\\" and "/." not in rel and "//" not in rel
            and ":" not in rel and "\\" not in rel and not rel.endswith("/")
            and "\x00" not in rel)


def read_and_check(job: FileJob) -> Outcome:
    outcome = check(job)
    assert outcome is not None  # reading allowed: always an answer
    return outcome


def check(job: FileJob, *, read: bool = True) -> Outcome | None:
    """Compare one file with its RECORD entry: its problem (None when it matches), its
    fingerprint when its hash matched, and how it was checked; None when the file would
    have to be read and ``read`` is False."""
    compared = _compare(job, read)
    if compared is None:
        return None
    problem, st, how = compared
    if how == UNCHANGED:
        return None, job.known, how  # equal to the file's fingerprint, settled when stored
    if (problem is None and how != STAT and st is not None and job.entry.hash is not None
            and FINGERPRINTS and job.started - st.st_ctime_ns > SETTLE_NS):
        return None, _fingerprint(job.entry.hash, st), how
    return problem, None, how


def _compare(job: FileJob, read: bool
             ) -> tuple[FileProblem | None, os.stat_result | None, int] | None:
    entry = job.entry
    # RECORD uses "/"; normpath collapses "../../bin" lexically, the way the
    # installer computed it, so a symlinked lib dir cannot change the answer.
    rel = entry.path
    path = (job.base + os.sep + rel.replace("/", os.sep) if plain(job.base, rel)
            else os.path.normpath(os.path.join(job.base, rel.replace("/", os.sep))))
    if not path.startswith(job.root) or "\x00" in path:
        return FileProblem(entry.path, "outside", entry.hash or _size_text(entry.size),
                           "outside the environment; not read"), None, STAT
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return (FileProblem(entry.path, "missing", entry.hash or _size_text(entry.size), None),
                None, STAT)
    except OSError as exc:
        return (FileProblem(entry.path, "unreadable", entry.hash, exc.strerror or str(exc)),
                None, STAT)
    if entry.hash is None:
        return None, st, STAT
    if not stat.S_ISREG(st.st_mode):
        # Never open a FIFO or device a RECORD points at: reading could block forever.
        return FileProblem(entry.path, "changed", entry.hash, "not a regular file"), st, STAT
    if entry.size is not None and st.st_size != entry.size:
        return FileProblem(entry.path, "size", str(entry.size), str(st.st_size)), st, STAT
    if not job.hash_files:
        return None, st, STAT
    # Inline, not _fingerprint(): this is the one test most files of a repeat check get.
    if FINGERPRINTS and job.known is not None and job.known == (
            entry.hash, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev):
        return None, st, UNCHANGED  # only a supported algorithm's match was remembered
    algorithm, _, expected = entry.hash.partition("=")
    new = _NEW.get(algorithm.lower())
    if new is None:
        return None, st, STAT
    if not read:
        return None
    try:
        actual = _digest(path, new, st.st_size)
    except OSError as exc:
        return (FileProblem(entry.path, "unreadable", entry.hash, exc.strerror or str(exc)),
                st, HASHED)
    if actual is None:
        return FileProblem(entry.path, "changed", entry.hash, "changed while read"), st, HASHED
    if actual != expected.rstrip("="):
        return (FileProblem(entry.path, "changed", entry.hash, f"{algorithm.lower()}={actual}"),
                st, HASHED)
    return None, st, HASHED


def _fingerprint(record_hash: str, st: os.stat_result) -> Fingerprint:
    return (record_hash, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def _digest(path: str, new: Callable[..., hashlib._Hash], size: int) -> str | None:
    """The file's digest in RECORD's encoding (urlsafe base64, no padding).

    Reads at most ``size`` bytes (what ``stat`` said); None when the file turned
    out longer or shorter, i.e. it changed under us.
    """
    fd = os.open(path, _O_READ)  # O_NONBLOCK: a FIFO swapped in after stat cannot block
    try:
        if size <= _CHUNK:
            data = os.read(fd, size + 1)
            while len(data) < size and (more := os.read(fd, size + 1 - len(data))):
                data += more
            if len(data) != size:
                return None
            h = new(data)
        else:
            h = new()
            buffer = bytearray(_CHUNK)
            view = memoryview(buffer)
            left = size
            with open(fd, "rb", buffering=0, closefd=False) as f:
                while left > 0 and (n := f.readinto(buffer)):
                    h.update(view[:n])
                    left -= n
                if left != 0 or f.read(1):
                    return None
    finally:
        os.close(fd)
    return base64.urlsafe_b64encode(h.digest()).rstrip(b"=").decode("ascii")


def _size_text(size: int | None) -> str | None:
    return None if size is None else str(size)
