"""Client for PyTorch-style wheel indexes: HTTP, cache, retries, metadata.

Pages live at ``<base>/<variant>/<project>/`` (stable), ``<base>/test/...`` and
``<base>/nightly/...``. Every page read is cached (body, ETag, Last-Modified, its parsed
links: :mod:`pipguard.pages`). A cached page younger than ``fresh_for`` seconds is used
without a request (``PIPGUARD_FRESH_FOR``, 10 minutes; ``--refresh`` asks again); an older
one is revalidated. When the index cannot be reached after bounded retries, the cached copy
is used and a note says how old it is. Garbage pages count as failures, never as "no
wheels". With ``tags``, a file without one of them is dropped by its name, unparsed
(:func:`pipguard.namefilter.tag_filter`).

One request (urllib3, pip's network settings) is :mod:`pipguard.fetch`; reads are bounded
(:mod:`pipguard.reader`: 90 s for all of one client's reads at pip's default timeout), so a
trickling or endless index ends in the cached copy or :class:`IndexUnavailable` (exit 3).
URLs are shown and used as cache keys only redacted (:mod:`pipguard.redact`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.tags import Tag
from packaging.utils import canonicalize_name

from pipguard import cache, console, pages
from pipguard.errors import IndexUnavailable, UsageError
from pipguard.fetch import request
from pipguard.namefilter import tag_filter
from pipguard.reader import Reader, Unreachable
from pipguard.redact import keep_auth, redact_url, split_credentials
from pipguard.simple import IndexFile, Keep, PageError
from pipguard.transport import Transport
from pipguard.wire import NetworkSettings, Transient

__all__ = [
    "ACCEPT",
    "CHANNELS",
    "IndexClient",
    "Page",
]

CHANNELS = ("stable", "test", "nightly")
ACCEPT = (
    "application/vnd.pypi.simple.v1+json;q=1.0, "
    "application/vnd.pypi.simple.v1+html;q=0.9, text/html;q=0.8"
)
MISSING_TTL = 600.0  # seconds a 403/404 answer is trusted without asking again
MISSING = (403, 404, 410)  # download.pytorch.org answers 403 for a missing key
HINT = (
    "check the network, point --torch-index-url (or PIPGUARD_TORCH_INDEX_URL) at a reachable "
    "mirror, or set PIPGUARD_OFFLINE=1 to plan from the cache only"
)


@dataclass(frozen=True)
class Page:
    """One project page of one variant, as read from the index or the cache."""

    url: str
    files: tuple[IndexFile, ...]
    fetched_at: float  # epoch seconds when the content was fetched from the server
    from_cache: bool  # served from cache because the index was unreachable (stale)
    missing: bool  # 403/404: this variant has no such project (files empty)


class IndexClient:
    """Reads project pages and wheel metadata from a PyTorch-style index."""

    def __init__(
        self,
        base_url: str,
        channel: str = "stable",
        *,
        cache_dir: Path | None = None,
        timeout: float | None = None,
        retries: int | None = None,
        backoff: float = 0.5,
        offline: bool = False,
        max_workers: int = 8,
        network: NetworkSettings | None = None,
        fresh_for: float = 0.0,
        refresh: bool = False,
        tags: Iterable[Tag] | None = None,
    ) -> None:
        """Set up a client; nothing is fetched until asked.

        ``timeout`` and ``retries`` default to ``network``'s (pip's settings);
        ``fresh_for``: seconds a cached page is used without asking the index (0:
        always revalidate); ``refresh``: ask again for every page, even one the
        cache remembers as missing; ``tags``: only files with one of these tags are listed.
        """
        import threading

        if channel not in CHANNELS:
            raise UsageError(f"unknown torch channel {channel!r}", hint=f"use one of {CHANNELS}")
        if not base_url.lower().startswith(("https://", "http://", "file:")):
            raise UsageError("the torch index URL must be http(s):// or file://, "
                             f"not {redact_url(base_url)!r}")
        self.base_url = base_url.rstrip("/")
        self.channel = channel
        self.cache_root = cache_dir if cache_dir is not None else cache.cache_dir()
        net = network or NetworkSettings()
        self.network = net
        self.offline = offline
        self.max_workers = max(1, max_workers)
        self.fresh_for = 0.0 if refresh else max(0.0, fresh_for)
        self.refresh = refresh
        self.tags = None if tags is None else frozenset(tags)
        self._keep = None if self.tags is None else tag_filter(self.tags)
        # The links a target keeps are stored apart too (a plan reads ~1/24 of a page).
        self._kept_key = None if self.tags is None else "tags=" + hashlib.sha256(
            " ".join(sorted(map(str, self.tags))).encode()).hexdigest()[:32]
        self.notes: list[str] = []
        self.fetched = 0  # replies from the index in this run, and their bytes
        self.fetched_bytes = 0
        self._lock = threading.Lock()
        self.reader = Reader(request, Transport(net),
                             timeout=net.timeout if timeout is None else timeout,
                             retries=net.retries if retries is None else retries,
                             backoff=backoff, hint=HINT, note=self._note)

    # --- URLs ---------------------------------------------------------------------------

    def variant_url(self, variant: str) -> str:
        """``base/variant/``, ``base/test/variant/`` or ``base/nightly/variant/``.

        An empty variant names the channel root (e.g. ``/whl/torch/`` pages).
        """
        prefix = "" if self.channel == "stable" else f"/{self.channel}"
        tail = f"/{variant.strip('/')}" if variant.strip("/") else ""
        return f"{self.base_url}{prefix}{tail}/"

    def project_url(self, variant: str, project: str) -> str:
        """The project page of ``project`` (canonical name) under ``variant``."""
        return f"{self.variant_url(variant)}{canonicalize_name(project)}/"

    # --- pages --------------------------------------------------------------------------

    def page(self, variant: str, project: str) -> Page:
        """The project page, fresh when possible, else from the cache (with a note).

        Raises :class:`IndexUnavailable` when neither the index nor the cache has it.
        """
        url = self.project_url(variant, project)
        path = cache.entry_path(self.cache_root, "pages", redact_url(url))
        cached = cache.read_entry(path)
        if self.offline:
            return self._stale(url, cached, "offline")
        headers = {"Accept": ACCEPT}
        if cached and cached[0].get("status") in MISSING:
            fetched_at = cache.fetched_at(cached[0])
            if 0 <= time.time() - fetched_at < MISSING_TTL and not self.refresh:
                return Page(url, (), fetched_at, False, True)
        elif cached:
            fetched_at = cache.fetched_at(cached[0])
            if 0 <= time.time() - fetched_at < self.fresh_for:
                with contextlib.suppress(PageError):  # else: ask the index for a sound copy
                    return Page(url, self._cached_files(url, *cached), fetched_at, False, False)
            if cached[0].get("etag"):
                headers["If-None-Match"] = str(cached[0]["etag"])
            if cached[0].get("last_modified"):
                headers["If-Modified-Since"] = str(cached[0]["last_modified"])

        def attempt() -> Page:
            reply = self.reader.request(url, headers)
            self.count(url, len(reply.body))
            now = time.time()
            if reply.status in MISSING:
                self.store(path, {"url": redact_url(url), "status": reply.status,
                                   "fetched_at": now}, b"")
                return Page(url, (), now, False, True)
            conditional = "If-None-Match" in headers or "If-Modified-Since" in headers
            if reply.status == 304 and cached and conditional:
                header, body = cached
                try:
                    files = self._cached_files(url, header, body)
                except PageError:  # the cached copy is unusable: ask for the whole page
                    headers.pop("If-None-Match", None)
                    headers.pop("If-Modified-Since", None)
                    raise Transient("304 for an unusable cached copy") from None
                self.store(path, {**header, "fetched_at": now}, body)
                return Page(url, files, now, False, False)
            if reply.status != 200:
                raise Unreachable(f"HTTP {reply.status}")
            try:
                files = self._page_files(url, reply.body, reply.content_type, reply.url)
            except PageError as exc:
                raise Transient(f"unusable page: {exc}") from None
            header = {
                "url": redact_url(url),
                "final_url": split_credentials(reply.url)[0],  # credentials: never on disk
                "status": 200,
                "fetched_at": now,
                "content_type": reply.content_type,
                "etag": reply.etag,
                "last_modified": reply.last_modified,
            }
            self.store(path, header, reply.body)
            return Page(url, files, now, False, False)

        try:
            return self.reader.attempts(attempt)
        except Unreachable as exc:
            return self._stale(url, cached, f"index unreachable: {exc}", exc.hint)

    def pages(self, wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Page]:
        """Several ``(variant, project)`` pages, fetched in parallel threads."""
        keys = list(dict.fromkeys(wanted))
        if len(keys) <= 1 or self.max_workers == 1:
            return {key: self.page(*key) for key in keys}
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=min(self.max_workers, len(keys)))
        try:
            futures = {key: pool.submit(self.page, *key) for key in keys}
            return {key: future.result() for key, future in futures.items()}
        except BaseException:
            # Ctrl-C (or a failed page): do not wait for the other reads to time out.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        finally:
            pool.shutdown(wait=False)

    def everywhere(self) -> IndexClient:
        """The same client (same cache and settings) listing files for every platform."""
        return IndexClient(self.base_url, self.channel, cache_dir=self.cache_root,
                           timeout=self.reader.timeout, retries=self.reader.retries,
                           backoff=self.reader.backoff, offline=self.offline,
                           max_workers=self.max_workers, network=self.network,
                           fresh_for=self.fresh_for, refresh=self.refresh)

    def _cached_files(self, url: str, header: Mapping[str, Any], body: bytes
                      ) -> tuple[IndexFile, ...]:
        """The files of a cached page body: from its stored links, else parsed (and stored)."""
        return self._page_files(url, body, str(header.get("content_type", "")),
                                _final(header, url))

    def _page_files(self, url: str, body: bytes, content_type: str, final_url: str
                    ) -> tuple[IndexFile, ...]:
        """The page's files for this target: the links it keeps are stored apart per
        target (:func:`pipguard.pages.kept`), found from the page's stored links when there
        are some, else by a scan that skips the others' attributes."""
        keep = self._keep
        if keep is None or self._kept_key is None:
            return self._files(url, self._links(url, body, content_type, final_url), keep)
        source = f"{content_type}\n{split_credentials(final_url)[0]}"

        def find() -> Sequence[Sequence[Any]]:
            every = pages.stored(self.cache_root, redact_url(url), body, source)
            if every is None:
                return pages.parse(body, content_type, split_credentials(final_url)[0], keep)
            return [link for link in every if not link[0] or keep(link[0])]

        kept = pages.kept(self.cache_root, f"{redact_url(url)}\n{self._kept_key}", body,
                          source, find)
        return self._files(url, kept, None)

    def _files(self, url: str, links: Sequence[Sequence[Any]], keep: Keep | None
               ) -> tuple[IndexFile, ...]:
        """The page's files among ``links``; links to the page's own host keep its
        credentials (as pip does), so that pip, given a pinned file URL, can download it."""
        files = pages.files(links, keep)
        if split_credentials(url)[1] is None:
            return files
        return tuple(dataclasses.replace(f, url=keep_auth(url, f.url)) for f in files)

    def _links(self, url: str, body: bytes, content_type: str, final_url: str
               ) -> Sequence[Sequence[Any]]:
        """The links of a page body: stored ones for the same body, else parsed and stored."""
        # Keyed and stored without credentials: no secret in the cache.
        url, final_url = redact_url(url), split_credentials(final_url)[0]
        source = f"{content_type}\n{final_url}"
        links = pages.stored(self.cache_root, url, body, source)
        if links is not None:
            return links
        parsed = pages.parse(body, content_type, final_url)
        try:
            pages.store(self.cache_root, url, body, source, parsed)
        except OSError as exc:
            self._note(f"could not write the cache at {self.cache_root}: {exc.strerror or exc}")
        return parsed

    def _stale(self, url: str, cached: tuple[dict[str, Any], bytes] | None, reason: str,
               hint: str | None = None) -> Page:
        """The cached copy of ``url`` after the index failed us (or offline)."""
        shown = redact_url(url)
        if cached is not None:
            header, body = cached
            fetched_at = cache.fetched_at(header)
            age = cache.format_age(time.time() - fetched_at)
            if header.get("status") in MISSING:
                self._note(f"{reason}; no such page per the cache, {age} old ({shown})")
                return Page(url, (), fetched_at, True, True)
            with contextlib.suppress(PageError):
                files = self._cached_files(url, header, body)
                self._note(f"{reason}; planned from cache {age} old ({shown})")
                return Page(url, files, fetched_at, True, False)
        if reason == "offline":
            raise IndexUnavailable(
                f"offline (PIPGUARD_OFFLINE or --offline) and {shown} is not cached",
                hint="run once with network access to fill the cache, or unset PIPGUARD_OFFLINE",
            )
        raise IndexUnavailable(f"{reason}; nothing cached for {shown}", hint=hint or HINT)

    # --- plumbing -----------------------------------------------------------------------

    def store(self, path: Path, header: Mapping[str, Any], body: bytes) -> None:
        """Write a cache entry; a cache that cannot be written only costs speed."""
        try:
            cache.write_entry(path, header, body)
        except OSError as exc:
            self._note(f"could not write the cache at {self.cache_root}: {exc.strerror or exc}")

    def count(self, url: str, size: int) -> None:
        """Tell the person waiting what planning fetched (one line on a terminal; -v: each)."""
        with self._lock:  # held while saying it, so that the counts never run backwards
            self.fetched += 1
            self.fetched_bytes += size
            n = self.fetched
            console.detail(f"fetched {url} ({size} bytes)")
            console.progress(f"planning: {n} file{'s' if n != 1 else ''} fetched from the "
                             f"torch index ({self.fetched_bytes / 1024:.0f} kB)")

    def _note(self, text: str) -> None:
        with self._lock:
            if text not in self.notes:
                self.notes.append(text)


def _final(header: Mapping[str, Any], url: str) -> str:
    """The URL a cached page was served from (links are relative to it), with the
    credentials of ``url`` when on its host (they are never stored)."""
    final = header.get("final_url")
    return keep_auth(url, final) if isinstance(final, str) and final else url
