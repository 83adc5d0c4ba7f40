"""The fault table of ``scripts/serve_index.py``: injected misbehaviour per path glob,
and the request log's records."""

from __future__ import annotations

import fnmatch
import hashlib
import threading
from dataclasses import dataclass, field

HANG_SECONDS = 120.0  # longer than any client timeout used in tests
KINDS = ("status", "delay", "hang", "truncate", "garbage", "corrupt", "norange")


@dataclass
class Fault:
    """One injected misbehaviour; ``count`` None means every matching request."""

    glob: str
    kind: str
    status: int = 500
    seconds: float = 0.0
    count: int | None = None
    hits: int = 0


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it; ``status`` None: it hung up without answering."""

    method: str
    path: str  # decoded, without the query string
    raw_path: str  # as sent on the request line
    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    fault: str | None = None
    sent: int = 0  # body bytes sent


class Faults:
    """Thread-safe fault table consulted by every request, in the order faults were added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._etags: dict[str, str | None] = {}
        self._release = threading.Event()

    def _add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def fail(self, glob: str, status: int = 500, count: int | None = None) -> Fault:
        """Answer ``status`` (500, 403, 404, ...) with an empty-ish body, for ``count`` hits."""
        return self._add(Fault(glob, "status", status=status, count=count))

    def delay(self, glob: str, seconds: float, count: int | None = None) -> Fault:
        """Wait ``seconds`` before answering normally (a slow server)."""
        return self._add(Fault(glob, "delay", seconds=seconds, count=count))

    def hang(self, glob: str, seconds: float = HANG_SECONDS, count: int | None = None) -> Fault:
        """Never answer (until ``seconds`` pass, :meth:`clear`, or server stop), then hang up."""
        return self._add(Fault(glob, "hang", seconds=seconds, count=count))

    def truncate(self, glob: str, count: int | None = None) -> Fault:
        """Send the full Content-Length but only half the body, then close."""
        return self._add(Fault(glob, "truncate", count=count))

    def garbage(self, glob: str, count: int | None = None) -> Fault:
        """Answer 200 text/html with random bytes that contain no markup."""
        return self._add(Fault(glob, "garbage", count=count))

    def corrupt(self, glob: str, count: int | None = None) -> Fault:
        """Answer with a body of the right length but wrong bytes (for wheels)."""
        return self._add(Fault(glob, "corrupt", count=count))

    def no_ranges(self, glob: str, count: int | None = None) -> Fault:
        """Ignore ``Range`` headers: answer 200 with the whole file (as some servers do)."""
        return self._add(Fault(glob, "norange", count=count))

    def set_etag(self, glob: str, etag: str | None = None) -> None:
        """Send an ETag (default: a hash of the body) and honour If-None-Match with 304."""
        with self._lock:
            self._etags[glob] = etag

    def clear(self) -> None:
        """Drop every fault and ETag rule; wake requests that are hanging or delayed."""
        with self._lock:
            self._faults.clear()
            self._etags.clear()
            self._release.set()
            self._release = threading.Event()

    def take(self, path: str) -> tuple[float, Fault | None, threading.Event]:
        """Consume the faults matching ``path``: total delay, the response fault, a wake event."""
        delay, chosen = 0.0, None
        with self._lock:
            for fault in self._faults:
                if not fnmatch.fnmatchcase(path, fault.glob):
                    continue
                if fault.count is not None and fault.hits >= fault.count:
                    continue
                if fault.kind == "delay":
                    delay += fault.seconds
                elif chosen is None:
                    chosen = fault
                else:
                    continue
                fault.hits += 1
            return delay, chosen, self._release

    def etag_for(self, path: str, body: bytes) -> str | None:
        with self._lock:
            for glob, etag in self._etags.items():
                if fnmatch.fnmatchcase(path, glob):
                    return f'"{etag or hashlib.sha256(body).hexdigest()[:16]}"'
        return None
