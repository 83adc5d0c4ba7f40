"""Project pages as the index client keeps them: parsed once, stored parsed.

A page body (HTML or JSON) is parsed into its links (:data:`pipguard.simple.Link`)
once, when it arrives; the links are stored as compact JSON next to the body in
the cache (``parsed/`` beside ``pages/``), tagged with the body's sha256. A later
run with the same body (a fresh page, a ``304 Not Modified``, a stale copy) reads
the links back instead of scanning the HTML again; only the file names that pass
the platform filter are then parsed into :class:`~pipguard.simple.IndexFile`.
A parsed entry that is missing, damaged or of another body is simply redone.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pipguard import cache
from pipguard.simple import (
    JSON_TYPE,
    IndexFile,
    Keep,
    Link,
    PageError,
    files_from_links,
    html_links,
    json_links,
)

_FORMAT = 2  # of the stored links (2: with other_hash); another value is ignored, rewritten


def parse(body: bytes, content_type: str, url: str, keep: Keep | None = None
          ) -> tuple[Link, ...]:
    """The links of a page body by its content type (with ``keep``: those it accepts, and
    those without a file name); :class:`PageError` when unusable."""
    mime, _, params = content_type.partition(";")
    if mime.strip().lower() == JSON_TYPE:
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:  # RecursionError: nested 100,000 deep
            raise PageError(f"invalid JSON: {exc}") from None
        every = json_links(data, url)
        return every if keep is None else tuple(x for x in every if not x[0] or keep(x[0]))
    links, problem = html_links(body.decode(_charset(params), errors="replace"), url, keep)
    if problem:
        raise PageError(problem)
    return links


def files(links: Sequence[Sequence[Any]], keep: Keep | None) -> tuple[IndexFile, ...]:
    """The wheels among ``links`` that ``keep`` accepts."""
    return files_from_links(links, keep)[0]


def kept(root: Path, key: str, body: bytes, source: str,
         find: Callable[[], Sequence[Sequence[Any]]]) -> Sequence[Sequence[Any]]:
    """The links of ``body`` a target keeps, stored under ``key`` (the page's URL and the
    target) for the same body: a target reads ~1/24 of a page of the PyTorch index, so a
    later plan loads only those. Else ``find()``, then stored."""
    found = stored(root, key, body, source)
    if found is not None:
        return found
    links = find()
    with contextlib.suppress(OSError):  # a cache that cannot be written costs only speed
        store(root, key, body, source, links)
    return links


def store(root: Path, url: str, body: bytes, source: str,
          links: Sequence[Sequence[Any]]) -> None:
    """Keep the parsed links of ``body`` (the page at ``url``); raises OSError.

    ``source`` names how the body was read: its content type and the URL its links
    are relative to (a different one would give different links).
    """
    header = {"format": _FORMAT, "page_sha256": hashlib.sha256(body).hexdigest(),
              "source": source}
    data = json.dumps(links, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    cache.write_entry(cache.entry_path(root, "parsed", url), header, data)


def stored(root: Path, url: str, body: bytes, source: str) -> list[list[Any]] | None:
    """The links stored for this very ``body`` of ``url`` read as ``source``; else None."""
    entry = cache.read_entry(cache.entry_path(root, "parsed", url))
    if entry is None or entry[0].get("format") != _FORMAT or entry[0].get("source") != source:
        return None
    if entry[0].get("page_sha256") != hashlib.sha256(body).hexdigest():
        return None
    try:
        links = json.loads(entry[1])
    except ValueError:
        return None
    # The entry checked its own sha256; this only guards against another writer's shape.
    if not isinstance(links, list) or not all(type(x) is list and len(x) == 9 for x in links):
        return None
    if links and not _is_link(links[0]):
        return None
    return links


def _is_link(x: list[Any]) -> bool:
    return (isinstance(x[0], str) and isinstance(x[1], str) and isinstance(x[4], bool)
            and all(v is None or isinstance(v, str) for v in (x[2], x[3], *x[5:])))


def _charset(params: str) -> str:
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            name = value.strip().strip("\"'")
            with contextlib.suppress(LookupError):
                return codecs.lookup(name).name
    return "utf-8"
