"""The reference page parser, on :mod:`html.parser`: slower than :mod:`pipguard.simple`'s
fast path, and the same answer (the tests and ``scripts/bench_index_parse.py`` compare)."""

from __future__ import annotations

from pipguard.simple import IndexFile, _join, _links_from_anchors, files_from_links


def parse_html_stdlib(text: str, page_url: str) -> tuple[IndexFile, ...]:
    """Reference parser built on :mod:`html.parser`; slower, same result."""
    from html.parser import HTMLParser

    found: list[dict[str, str | None]] = []
    base: list[str] = []

    class _Links(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "a":
                d: dict[str, str | None] = {}
                for k, v in attrs:
                    d.setdefault(k, v)
                found.append(d)
            elif tag == "base" and not base:
                href = dict(attrs).get("href")
                if href:
                    base.append(href)

        handle_startendtag = handle_starttag

    parser = _Links()
    parser.feed(text)
    parser.close()
    page = _join(page_url, base[0]) if base else page_url
    return files_from_links(_links_from_anchors(found, page))[0]
