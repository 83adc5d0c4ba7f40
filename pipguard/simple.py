"""Parse PEP 503 / 691 "simple" index pages into wheel records (pure, no I/O).

PyTorch's index serves static PEP 503 HTML pages, thousands of anchors each::

    <a href="/whl/cu128/torch-2.7.0%2Bcu128-cp310-...whl#sha256=..."
       data-dist-info-metadata="sha256=..." data-core-metadata="sha256=...">
       torch-2.7.0+cu128-cp310-...whl</a><br/>

hrefs may be relative, root-absolute or absolute to another host (the R2 CDN), the ``+`` of
a local version is ``%2B`` in the href, and the ``#sha256=`` fragment is absent on nightlies.
:func:`scan_html` reads start tags with one regular expression (``html.parser``, the tests'
reference in ``tests/reference_parser.py``, is several times slower on such pages).
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.tags import Tag
from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

__all__ = [
    "JSON_TYPE",
    "IndexFile",
    "Link",
    "PageError",
    "Scan",
    "files_from_links",
    "html_links",
    "json_links",
    "parse_html",
    "parse_json",
    "scan_html",
]

JSON_TYPE = "application/vnd.pypi.simple.v1+json"

# One link of a page before its file name is parsed, JSON-able (the page cache keeps
# these): filename, url, sha256, metadata_sha256, has_metadata, requires_python,
# yanked, upload_time, other_hash. An empty filename marks a link that is no file (url:
# its href).
Link = tuple[str, str, str | None, str | None, bool, str | None, str | None, str | None,
             str | None]
# A test of a file name before it is parsed (see :mod:`pipguard.namefilter`).
Keep = Callable[[str], bool]


class PageError(ValueError):
    """A page is not a usable simple-index page (garbage, truncated, bad JSON)."""


@dataclass(frozen=True)
class IndexFile:
    """One wheel listed on a simple-index page."""

    filename: str
    url: str
    name: NormalizedName
    version: Version
    tags: frozenset[Tag]
    sha256: str | None
    metadata_sha256: str | None
    has_metadata: bool
    requires_python: str | None
    yanked: str | None
    upload_time: str | None
    # "<algo>=<hex>" when the index publishes a hash other than sha256 (md5, sha1, sha512…)
    # and no sha256: pip checks a link's fragment hash, so it is passed through.
    other_hash: str | None = None

    @property
    def local(self) -> str | None:
        """The local version label, e.g. ``cu128`` for ``2.7.0+cu128``."""
        return self.version.local


@dataclass(frozen=True)
class Scan:
    """What :func:`scan_html` found on a page."""

    files: tuple[IndexFile, ...]
    skipped: tuple[str, ...]  # hrefs that are not (parsable) wheels: sdists, bad names
    anchors: int
    problem: str | None  # why the page looks garbage or truncated; None when sound
    links: tuple[Link, ...] = ()  # every link, before ``keep`` and name parsing


# A comment, a script/style block (whose contents are not markup), or an <a> start tag, where
# a quote opens a value only after "=" (elsewhere a name's character, as in html.parser): a
# quoted '>' does not end the tag; each "=" has one reading, so nothing backtracks.
_TAG_RE = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|<(?:script|style)\b.*?(?:</(?:script|style)\s*>|\Z)"
    r"|<a(?=[\s/>])((?:[^>=]|=\s*(?:\"[^\"]*\"|'[^']*')|=(?!\s*[\"']))*)>",
    re.IGNORECASE | re.DOTALL,
)
_ATTR_RE = re.compile(r"""([^\s"'>/=]+)(\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]*)))?""")
_BASE_RE = re.compile(
    r"<base\s[^>]*?href\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]*))", re.IGNORECASE
)
_HTML_MARK_RE = re.compile(r"<(?:!doctype\s+html|html|head|body|h1|title|meta)\b", re.IGNORECASE)
_HTML_OPEN_RE = re.compile(r"<html\b", re.IGNORECASE)
_HTML_CLOSE_RE = re.compile(r"</html\s*>", re.IGNORECASE)
_PARTIAL_TAG_RE = re.compile(r"<[^>]*\Z")


def scan_html(text: str, page_url: str, keep: Keep | None = None) -> Scan:
    """Parse a PEP 503 HTML page (fast path) and judge whether it looks sound.

    ``page_url`` is the URL the page was served from (after redirects); links are resolved
    against it, or its ``<base href>``. ``keep`` (:mod:`pipguard.namefilter`) drops wheels
    by file name before the name is parsed: the files kept are those found without it."""
    links, anchors, problem = _scan_links(text, page_url)
    files, skipped = files_from_links(links, keep)
    return Scan(files, skipped, anchors, problem, links)


def html_links(text: str, page_url: str, keep: Keep | None = None
               ) -> tuple[tuple[Link, ...], str | None]:
    """The links of a PEP 503 HTML page, no file name parsed, and its problem (or None);
    with ``keep``, those of a full scan that it accepts (or without a file name): an
    anchor it rejects is dropped before its attributes are read (:func:`_quick_name`)."""
    links, _, problem = _scan_links(text, page_url, keep)
    return links, problem


def _scan_links(text: str, page_url: str, keep: Keep | None = None
                ) -> tuple[tuple[Link, ...], int, str | None]:
    anchors: list[dict[str, str | None]] = []
    count = 0
    head_end = len(text)
    for m in _TAG_RE.finditer(text):
        raw = m.group(1)
        if raw is not None:
            if not count:
                head_end = m.start()
            count += 1
            if keep is None or keep(_quick_name(raw)):
                anchors.append(_attrs(raw))
    base = _base_href(text[:head_end], page_url)  # <base> belongs in <head>
    links = _links_from_anchors(anchors, base)
    if keep is not None:  # the anchors _quick_name could not name, now named
        links = tuple(x for x in links if not x[0] or keep(x[0]))
    return links, count, _html_problem(text, count)


# An anchor as PyTorch's index (and PyPI) writes it: href="…" first, with no entity in it.
_FIRST_HREF = re.compile(r'\s+href="(?:[^"&?#]*/)?([^"&/?#]*)[^"&]*"')


def _quick_name(raw: str) -> str:
    """The file name of an anchor whose first attribute is a plain ``href="…"``: what the
    full scan finds (nothing comes first or is unescaped; a ``<base>`` changes the folder,
    not the name); "" for any other anchor: not a wheel's name, so a filter keeps it."""
    m = _FIRST_HREF.match(raw)
    if m is None:
        return ""
    name = m.group(1)
    if "%" in name and name.count("%") != name.count("%2B"):
        return ""
    return name.replace("%2B", "+")


def _attrs(raw: str) -> dict[str, str | None]:
    """Attributes of one start tag, unescaped like html.parser does them."""
    attrs: dict[str, str | None] = {}
    for key, eq, dq, sq, bare in _ATTR_RE.findall(raw):
        key = key.lower()
        if key in attrs:  # a repeated attribute: keep the first, as browsers do
            continue
        if not eq:  # a bare attribute, e.g. <a data-yanked href=...>
            attrs[key] = None
            continue
        value = dq or sq or bare
        attrs[key] = html.unescape(value) if "&" in value else value
    return attrs


def parse_html(text: str, page_url: str) -> tuple[IndexFile, ...]:
    """The wheels listed on a PEP 503 HTML page (see :func:`scan_html`)."""
    return scan_html(text, page_url).files


def parse_json(data: Mapping[str, Any], page_url: str, keep: Keep | None = None
               ) -> tuple[IndexFile, ...]:
    """The wheels listed in a PEP 691 JSON project page.

    Raises :class:`PageError` when ``data`` is not a project page at all;
    single malformed entries are skipped. ``keep`` as for :func:`scan_html`.
    """
    return files_from_links(json_links(data, page_url), keep)[0]


def json_links(data: Mapping[str, Any], page_url: str) -> tuple[Link, ...]:
    """The links of a PEP 691 JSON project page (see :func:`parse_json`)."""
    entries = data.get("files") if isinstance(data, Mapping) else None
    if not isinstance(entries, list):
        raise PageError("JSON page has no 'files' list")
    links: list[Link] = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        filename, href = entry.get("filename"), entry.get("url")
        if not isinstance(filename, str) or not isinstance(href, str) or not filename:
            continue
        hashes = entry.get("hashes")
        sha = hashes.get("sha256") if isinstance(hashes, Mapping) else None
        meta = entry.get("core-metadata", entry.get("dist-info-metadata", False))
        meta_sha = meta.get("sha256") if isinstance(meta, Mapping) else None
        rp, up = entry.get("requires-python"), entry.get("upload-time")
        links.append((
            filename,
            _join(page_url, href).partition("#")[0],
            sha.lower() if isinstance(sha, str) and sha else None,
            meta_sha.lower() if isinstance(meta_sha, str) else None,
            meta is True or isinstance(meta, Mapping),  # {}: no hashes
            rp if isinstance(rp, str) and rp else None,
            _json_yanked(entry.get("yanked", False)),
            up if isinstance(up, str) else None,
            _json_other_hash(hashes) if not sha else None,
        ))
    return tuple(links)


def _json_other_hash(hashes: object) -> str | None:
    """``<algo>=<hex>`` of the strongest non-sha256 hash a JSON page publishes."""
    if not isinstance(hashes, Mapping):
        return None
    for algo in OTHER_HASHES:
        value = hashes.get(algo)
        if isinstance(value, str) and value:
            return f"{algo}={value.lower()}"
    return None


def _json_yanked(value: object) -> str | None:
    if value is True:
        return ""
    if isinstance(value, str):
        return value
    return None


def _links_from_anchors(anchors: Iterable[Mapping[str, str | None]], page_url: str
                        ) -> tuple[Link, ...]:
    from urllib.parse import unquote

    join = _joiner(page_url)
    links: list[Link] = []
    for attrs in anchors:
        href = attrs.get("href")
        if not href:
            continue
        href, _, fragment = href.strip().partition("#")
        url = join(href)
        filename = url.partition("?")[0].rpartition("/")[2]
        if "%" in filename:
            # '%2B' (the '+' of a local version) is the only escape PyTorch uses.
            if filename.count("%") == filename.count("%2B"):
                filename = filename.replace("%2B", "+")
            else:
                filename = unquote(filename)
        if not filename:
            links.append(("", href, None, None, False, None, None, None, None))
            continue
        meta = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata", "false"))
        links.append((
            filename,
            url,
            _hash_value(fragment, "&") if fragment else None,  # sha256
            _hash_value(meta, None) if meta else None,  # metadata_sha256
            # Per PEP 658 the value is "true" or "<algo>=<hex>"; a bare
            # attribute (None) also says the metadata file exists.
            meta is None or meta.strip().lower() != "false",  # has_metadata
            attrs.get("data-requires-python") or None,
            attrs.get("data-yanked") or ("" if "data-yanked" in attrs else None),
            attrs.get("data-upload-time") or None,
            _other_hash(fragment) if fragment and "sha256=" not in fragment else None,
        ))
    return tuple(links)


def files_from_links(links: Iterable[Sequence[Any]], keep: Keep | None = None
                     ) -> tuple[tuple[IndexFile, ...], tuple[str, ...]]:
    """The wheels among ``links`` (the files ``keep`` accepts), and the names skipped.

    ``links`` may come back from JSON (lists instead of tuples).
    """
    files: list[IndexFile] = []
    skipped: list[str] = []
    for link in links:
        filename = link[0]
        if keep is not None and filename and not keep(filename):
            continue
        parsed = _parse_filename(filename) if filename else None
        if parsed is None:
            skipped.append(filename or link[1])
            continue
        files.append(IndexFile(filename, link[1], *parsed, *link[2:9]))
    return tuple(files), tuple(skipped)


@functools.lru_cache(maxsize=32768)
def _parse_filename(filename: str) -> tuple[NormalizedName, Version, frozenset[Tag]] | None:
    """Name, version and tags of a wheel file name; None for anything else.

    Cached because the same file appears on several pages (``/whl/torch/`` and
    ``/whl/cu128/torch/``) and pages are re-read on every run.
    """
    if not filename.endswith(".whl"):
        return None
    try:
        name, version, _build, tags = parse_wheel_filename(filename)
    except (InvalidWheelFilename, InvalidVersion):
        return None
    return name, version, tags


# The hashes pip checks in a link's fragment besides sha256, strongest first.
OTHER_HASHES = ("sha512", "sha384", "sha224", "sha1", "md5")


def _other_hash(fragment: str) -> str | None:
    """``<algo>=<hex>`` of the strongest non-sha256 hash in a URL fragment pip would check."""
    found = dict(part.strip().lower().partition("=")[::2] for part in fragment.split("&"))
    for algo in OTHER_HASHES:
        if found.get(algo):
            return f"{algo}={found[algo]}"
    return None


def _hash_value(text: str, sep: str | None) -> str | None:
    """The sha256 hex from ``sha256=<hex>`` (other algorithms are ignored)."""
    if text.startswith("sha256=") and (sep is None or sep not in text):
        return text[7:].strip().lower() or None
    for part in text.split(sep) if sep else (text,):
        algo, eq, value = part.strip().partition("=")
        if eq and algo.lower() == "sha256" and value:
            return value.lower()
    return None


def _joiner(page_url: str) -> Callable[[str], str]:
    """A fast ``urljoin(page_url, href)`` for the common shapes of href."""
    from urllib.parse import urljoin, urlsplit

    parts = urlsplit(page_url)
    origin = f"{parts.scheme}://{parts.netloc}"

    def join(href: str) -> str:
        if "/." not in href and not href.startswith("."):
            if href.startswith(("https://", "http://")):
                return href
            if href.startswith("/") and not href.startswith("//"):
                return origin + href
        return urljoin(page_url, href)

    return join


def _join(page_url: str, href: str) -> str:
    from urllib.parse import urljoin

    return urljoin(page_url, href.strip())


def _base_href(text: str, page_url: str) -> str:
    m = _BASE_RE.search(text)
    if m is None:
        return page_url
    href = html.unescape(next(g for g in m.groups() if g is not None))
    return _join(page_url, href) if href else page_url


def _html_problem(text: str, anchors: int) -> str | None:
    """Why a page looks garbage or cut short, or None when it looks sound.

    An HTML page with no wheel links is simply empty; what is rejected is a
    body that is not HTML at all (an error page from a proxy, binary junk) or
    one whose transfer was cut mid-way (so planning would miss newer files).
    """
    if anchors == 0 and text.strip() and _HTML_MARK_RE.search(text) is None:
        return "the page is not HTML"
    if "\x00" in text:
        return "the page contains binary data"
    if _PARTIAL_TAG_RE.search(text[-4096:]):
        return "the page ends inside a tag (truncated)"
    if _HTML_OPEN_RE.search(text, 0, 4096) and _HTML_CLOSE_RE.search(text[-65536:]) is None:
        return "the page has no closing </html> (truncated)"
    return None
