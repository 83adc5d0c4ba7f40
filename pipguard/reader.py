"""Bounded reads for the index client: one attempt's deadline, retries, a time budget.

One attempt (:func:`pipguard.fetch.request`, handed in) ends within ``ATTEMPT_TIMEOUTS × timeout``
(30 s at pip's default 15 s), headers and body. All reads of one :class:`Reader`,
retries included, end within ``BUDGET_TIMEOUTS × timeout`` from its first request
(90 s by default): once that is spent no attempt starts, so an index that trickles
or never ends costs at most that, however many pages a plan reads in parallel.
A whole-wheel download (only when a server ignores ranges) has its own bound,
:data:`WHEEL_SECONDS`. Transient failures are retried with exponential backoff;
refusals (a bad certificate, a downgrade redirect, an oversized page) are not.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import IO, Protocol, TypeVar

from pipguard.errors import IndexUnavailable
from pipguard.redact import redact_url
from pipguard.wire import PAGE_LIMIT, Refused, Reply, Sender, Transient

__all__ = ["ATTEMPT_TIMEOUTS", "BUDGET_TIMEOUTS", "WHEEL_SECONDS", "Reader", "Unreachable"]

ATTEMPT_TIMEOUTS = 2  # one attempt (headers and body) ends within this many timeouts
BUDGET_TIMEOUTS = 6  # all reads of one client, retries included, within this many
WHEEL_SECONDS = 600.0  # a whole-wheel download (only when ranges fail) ends within this
_T = TypeVar("_T")


class Request(Protocol):
    """:func:`pipguard.fetch.request`."""

    def __call__(self, url: str, headers: Mapping[str, str], timeout: float, *,
                 transport: Sender, sink: IO[bytes] | None = None,
                 deadline: float | None = None, limit: int = PAGE_LIMIT) -> Reply: ...


class Unreachable(Exception):
    """Retries are spent, or the server refused in a way retrying will not fix."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class Reader:
    """Bounded, retried GETs through one transport; counts the bytes it received."""

    def __init__(self, request: Request, transport: Sender, *, timeout: float, retries: int,
                 backoff: float, hint: str, note: Callable[[str], None]) -> None:
        self._send = request
        self.transport = transport
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.hint = hint
        self.note = note
        self.received = 0  # body bytes read from the network, all requests together
        self._until: float | None = None  # the end of the time budget
        self._lock = threading.Lock()

    def request(self, url: str, headers: Mapping[str, str], *, sink: IO[bytes] | None = None,
                limit: int = PAGE_LIMIT, whole: bool = False) -> Reply:
        """One bounded attempt (a sink is emptied first)."""
        now = time.monotonic()
        if whole:
            end = now + max(WHEEL_SECONDS, ATTEMPT_TIMEOUTS * self.timeout)
        else:
            with self._lock:
                if self._until is None:
                    self._until = now + BUDGET_TIMEOUTS * self.timeout
                end = min(now + ATTEMPT_TIMEOUTS * self.timeout, self._until)
        if sink is not None:
            sink.seek(0)
            sink.truncate()
        try:
            reply = self._send(url, headers, self.timeout, sink=sink, transport=self.transport,
                               deadline=end, limit=limit)
        except (Transient, Refused) as exc:
            with self._lock:
                self.received += exc.received
            raise
        with self._lock:
            self.received += reply.received
        for note in reply.notes:
            self.note(note)
        return reply

    def get(self, url: str, headers: Mapping[str, str], *, sink: IO[bytes] | None = None,
            limit: int = PAGE_LIMIT, whole: bool = False) -> Reply:
        """A GET with retries; raises :class:`IndexUnavailable` when spent (and, for a
        whole download, for anything but 200)."""
        try:
            reply = self.attempts(lambda: self.request(url, headers, sink=sink, limit=limit,
                                                       whole=whole), whole=whole)
        except Unreachable as exc:
            raise IndexUnavailable(f"cannot read {redact_url(url)}: {exc}",
                                   hint=exc.hint or self.hint) from None
        if whole and reply.status != 200:
            raise IndexUnavailable(f"cannot download {redact_url(url)}: HTTP {reply.status}",
                                   hint=self.hint)
        return reply

    def attempts(self, attempt: Callable[[], _T], *, whole: bool = False) -> _T:
        """Run ``attempt``, retrying :class:`Transient` failures with exponential backoff
        while the time budget lasts; :class:`Refused` is not retried."""
        reason = "no attempt made"
        tries = 0
        for n in range(self.retries + 1):
            if n:
                pause = self.backoff * 2 ** (n - 1)
                if not whole and self._until is not None and \
                        time.monotonic() + pause >= self._until:
                    reason += (f"; out of time ({BUDGET_TIMEOUTS} × the {self.timeout:g} s "
                               "timeout: pip's --timeout)")
                    break
                time.sleep(pause)
            tries += 1
            try:
                return attempt()
            except Transient as exc:
                reason = str(exc)
            except Refused as exc:
                raise Unreachable(str(exc), exc.hint) from None
        raise Unreachable(f"{reason} ({'1 try' if tries == 1 else f'{tries} tries'})")
