"""A hostile index page or a damaged cache entry never crashes pipguard (issue 10, item 8):
bad IPv6 hosts in hrefs, JSON nested 100,000 deep, a cache entry with a bad timestamp.
Each gives a plan or exit 3 with a one-line message, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipguard import cache
from pipguard.errors import IndexUnavailable
from pipguard.simple import scan_html
from tests.test_index import TORCH, WHEEL, Reply, Server, client, page_html

JSON = {"Content-Type": "application/vnd.pypi.simple.v1+json"}


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.stop()


@pytest.mark.parametrize("href", ["http://[::1/whl/x.whl", "http://[zz::1]/x.whl",
                                  "https://[fe80::1%25eth0/a.whl", "http://[::1]:99999/x.whl"])
def test_bad_ipv6_hosts_in_hrefs_are_skipped(href: str) -> None:
    page = page_html(WHEEL).decode().replace(
        "</body>", f'<a href="{href}">torch-2.7.0+cu128-cp312-cp312-linux_x86_64.whl</a>\n</body>')
    scan = scan_html(page, "https://download.pytorch.org/whl/cu128/torch/")
    assert [f.filename for f in scan.files] == [WHEEL.replace("%2B", "+")]


def test_json_nested_100000_deep_is_a_garbage_page(server: Server, tmp_path: Path) -> None:
    deep = b'{"meta": {"api-version": "1.0"}, "files": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    server.route(TORCH, Reply(200, deep, JSON))
    with pytest.raises(IndexUnavailable, match="unusable page"):
        client(server.base, tmp_path, retries=0).page("cu128", "torch")


def test_a_cache_entry_with_a_bad_timestamp_is_read_as_old(server: Server,
                                                            tmp_path: Path) -> None:
    c = client(server.base, tmp_path, retries=0)
    url = c.project_url("cu128", "torch")
    header = {"url": url, "final_url": url, "status": 200, "fetched_at": "yesterday",
              "content_type": "text/html", "etag": None, "last_modified": None}
    cache.write_entry(cache.entry_path(tmp_path / "cache", "pages", url), header,
                      page_html(WHEEL))
    server.route(TORCH, Reply(500))  # the index fails: the cached copy is what is left
    page = c.page("cu128", "torch")
    assert page.from_cache and len(page.files) == 1
    bads: list[object] = ["yesterday", None, [], {"x": 1}, float("nan"), -5]
    for bad in bads:
        header["fetched_at"] = bad
        cache.write_entry(cache.entry_path(tmp_path / "cache", "pages", url), header,
                          page_html(WHEEL))
        c.page("cu128", "torch")  # no exception
    missing = {**header, "status": 404, "fetched_at": "soon"}
    cache.write_entry(cache.entry_path(tmp_path / "cache", "pages", url), missing, b"")
    json.dumps(c.page("cu128", "torch").url)
