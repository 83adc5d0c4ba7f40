"""Benchmark pipguard.simple.parse_html on a realistic 10,000-link torch page.

Usage: python scripts/bench_index_parse.py [--links N] [--repeat N]

Baselines, measured in the same run on the same page:
  * html.parser.HTMLParser fed the page and doing nothing (the floor any
    html.parser-based reader pays before it even looks at a link);
  * parse_wheel_filename alone over the page's file names (the packaging
    work every parser must do; parse_html's own overhead is the rest);
  * parse_html_stdlib, pipguard's html.parser-based reference parser
    (same output as parse_html; the tests hold them equal).
The name cache of parse_html is cleared before each timed run so repeated
runs do not flatter it.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
from packaging.utils import parse_wheel_filename

from pipguard import simple

_PLATFORMS = (
    "manylinux_2_28_x86_64",
    "manylinux_2_28_aarch64",
    "win_amd64",
    "macosx_11_0_arm64",
)
_PYTHONS = ("cp39-cp39", "cp310-cp310", "cp311-cp311", "cp312-cp312", "cp313-cp313", "cp313-cp313t")
_LOCALS = ("cu118", "cu121", "cu124", "cu126", "cu128", "cpu", "rocm6.2", "xpu")


def make_page(links: int) -> str:
    """A page shaped like download.pytorch.org/whl/torch/ with ``links`` anchors."""
    rows = []
    i = 0
    while len(rows) < links:
        minor, patch = divmod(i // (len(_PLATFORMS) * len(_PYTHONS) * len(_LOCALS)), 3)
        local = _LOCALS[i % len(_LOCALS)]
        py = _PYTHONS[(i // len(_LOCALS)) % len(_PYTHONS)]
        plat = _PLATFORMS[(i // (len(_LOCALS) * len(_PYTHONS))) % len(_PLATFORMS)]
        name = f"torch-2.{minor}.{patch}%2B{local}-{py}-{plat}.whl"
        sha = hashlib.sha256(name.encode()).hexdigest()
        meta = hashlib.sha256(local.encode()).hexdigest()
        # A third of the links point at the R2 CDN, a tenth lack the hash (nightly-like).
        base = "https://download-r2.pytorch.org" if i % 3 == 0 else ""
        frag = "" if i % 10 == 0 else f"#sha256={sha}"
        rows.append(
            f'    <a href="{base}/whl/{local}/{name}{frag}" data-dist-info-metadata="sha256={meta}"'
            f' data-core-metadata="sha256={meta}" data-upload-time="2025-04-23T16:00:00Z">'
            f"{name.replace('%2B', '+')}</a><br/>"
        )
        i += 1
    body = "\n".join(rows)
    return (
        "<!DOCTYPE html>\n<html>\n  <body>\n    <h1>Links for torch</h1>\n"
        f"{body}\n  </body>\n</html>\n<!--TIMESTAMP 1745424000-->"
    )


def median_time(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        simple._parse_filename.cache_clear()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Run the benchmark and print the results."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--links", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    page = make_page(args.links)
    url = "https://download.pytorch.org/whl/torch/"

    def feed_only() -> None:
        parser = HTMLParser()
        parser.feed(page)
        parser.close()

    files = simple.parse_html(page, url)
    assert len(files) == args.links, len(files)
    assert files == simple.parse_html_stdlib(page, url)

    names = [f.filename for f in files]
    fast = median_time(lambda: simple.parse_html(page, url), args.repeat)
    names_only = median_time(lambda: [parse_wheel_filename(n) for n in names], args.repeat)
    floor = median_time(feed_only, args.repeat)
    ref = median_time(lambda: simple.parse_html_stdlib(page, url), args.repeat)
    print(f"page: {args.links} links, {len(page) / 1e6:.1f} MB; median of {args.repeat} runs")
    print(f"parse_html          {fast * 1e3:8.1f} ms  {args.links / fast:10,.0f} links/s")
    print(f"HTMLParser.feed     {floor * 1e3:8.1f} ms  (no-op baseline)")
    print(f"parse_html_stdlib   {ref * 1e3:8.1f} ms  (html.parser reference)")
    print(f"parse_wheel_filename{names_only * 1e3:8.1f} ms  (names only)")
    print(f"parse_html / HTMLParser.feed = {fast / floor:.2f}x")
    print(f"parse_html / parse_html_stdlib = {fast / ref:.2f}x")


if __name__ == "__main__":
    main()
