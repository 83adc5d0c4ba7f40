"""A fresh cache asks nothing: pages younger than the freshness window are used without a
request, parsed pages are kept parsed, and other platforms' files are dropped by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import parse_wheel_filename

from pipguard import pages
from pipguard.cli import main
from pipguard.errors import UsageError
from pipguard.index import IndexClient
from pipguard.options import FRESH_FOR_S, settings
from pipguard.pipargs import parse
from tests.helpers import isolate_process
from tests.test_index import TORCH, WHEEL, Reply, Server, page_html

OTHER = "torch-2.7.0%2Bcu128-cp312-cp312-win_amd64.whl"


@pytest.fixture
def server() -> Any:
    srv = Server()
    yield srv
    srv.stop()


def fresh_client(server: Server, tmp_path: Path, **kw: Any) -> IndexClient:
    return IndexClient(server.base, cache_dir=tmp_path / "cache", retries=0, timeout=2.0, **kw)


def test_a_fresh_page_is_used_without_a_request(server: Server, tmp_path: Path) -> None:
    server.route(TORCH, Reply(200, page_html(WHEEL), {"ETag": '"v1"'}))
    first = fresh_client(server, tmp_path, fresh_for=600).page("cu128", "torch")
    again = fresh_client(server, tmp_path, fresh_for=600).page("cu128", "torch")
    assert server.hits(TORCH) == 1
    assert again.files == first.files and not again.from_cache
    assert again.fetched_at == first.fetched_at  # the age is the cached copy's own


def test_refresh_and_a_zero_window_revalidate(server: Server, tmp_path: Path) -> None:
    server.route(TORCH, Reply(200, page_html(WHEEL), {"ETag": '"v1"'}))
    fresh_client(server, tmp_path, fresh_for=600).page("cu128", "torch")
    fresh_client(server, tmp_path, fresh_for=600, refresh=True).page("cu128", "torch")
    fresh_client(server, tmp_path, fresh_for=0).page("cu128", "torch")
    assert server.hits(TORCH) == 3


def test_refresh_asks_again_for_a_page_remembered_missing(server: Server, tmp_path: Path) -> None:
    server.route(TORCH, Reply(404, b"no"))
    assert fresh_client(server, tmp_path).page("cu128", "torch").missing
    fresh_client(server, tmp_path).page("cu128", "torch")  # trusted for MISSING_TTL
    assert server.hits(TORCH) == 1
    fresh_client(server, tmp_path, refresh=True).page("cu128", "torch")
    assert server.hits(TORCH) == 2


def test_a_cached_page_is_not_parsed_again(server: Server, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    server.route(TORCH, Reply(200, page_html(WHEEL), {"ETag": '"v1"'}))
    first = fresh_client(server, tmp_path).page("cu128", "torch")

    def no_parsing(*args: object) -> object:
        raise AssertionError("the page was parsed again")

    monkeypatch.setattr(pages, "parse", no_parsing)
    assert fresh_client(server, tmp_path, fresh_for=600).page("cu128", "torch") == first
    server.route(TORCH, Reply(304, b""))  # a revalidated page reuses the stored links too
    assert fresh_client(server, tmp_path).page("cu128", "torch").files == first.files
    server.route(TORCH, Reply(200, page_html(WHEEL)))  # and so does the same body again
    assert fresh_client(server, tmp_path).page("cu128", "torch").files == first.files


def test_stored_links_of_another_body_are_not_used(server: Server, tmp_path: Path) -> None:
    server.route(TORCH, Reply(200, page_html(WHEEL), {"Content-Type": "text/html"}))
    c = fresh_client(server, tmp_path)
    url = c.page("cu128", "torch").url
    source = f"text/html\n{url}"
    assert pages.stored(tmp_path / "cache", url, page_html(WHEEL), source) is not None
    assert pages.stored(tmp_path / "cache", url, page_html(OTHER), source) is None
    assert pages.stored(tmp_path / "cache", url, page_html(WHEEL), "text/html\nx") is None


def test_other_platforms_are_dropped_and_everywhere_lists_them(server: Server,
                                                                tmp_path: Path) -> None:
    server.route(TORCH, Reply(200, page_html(WHEEL, OTHER)))
    (linux_tag,) = parse_wheel_filename(WHEEL.replace("%2B", "+"))[3]
    linux = fresh_client(server, tmp_path, tags={linux_tag}, fresh_for=60)
    assert [f.filename for f in linux.page("cu128", "torch").files] == [
        WHEEL.replace("%2B", "+")]
    assert len(linux.everywhere().page("cu128", "torch").files) == 2
    assert server.hits(TORCH) == 1  # the second client read the same fresh cache


def test_fresh_for_setting() -> None:
    assert settings(parse(["plan"]), {}).fresh_for == FRESH_FOR_S == 600
    assert settings(parse(["plan"]), {"PIPGUARD_FRESH_FOR": "0"}).fresh_for == 0
    assert settings(parse(["plan"]), {"PIPGUARD_FRESH_FOR": "2.5"}).fresh_for == 2.5
    assert settings(parse(["plan", "--refresh"]), {}).refresh is True
    for bad in ("-1", "soon", "nan", "inf"):
        with pytest.raises(UsageError):
            settings(parse(["plan"]), {"PIPGUARD_FRESH_FOR": bad})


# --- through `pipguard plan`, on the imitation index ------------------------------------


def test_a_second_plan_within_the_window_asks_nothing(index_server: Any, capsys: Any,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    isolate_process(monkeypatch, tmp_path)
    argv = ["plan", "torch", "torchvision", "--torch-index-url", index_server.torch_url,
            "--gpu-arch", "8.6", "--cuda-driver", "570.86.10", "--json"]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert index_server.requests  # the cold plan read the index
    index_server.clear_requests()
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["packages"] == first["packages"]
    assert index_server.requests == []
    assert main([*argv, "--refresh"]) == 0
    assert json.loads(capsys.readouterr().out)["packages"] == first["packages"]
    assert index_server.requests  # --refresh asked again
