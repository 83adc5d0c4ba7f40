"""Benchmark planning from a 100,000-link torch page: pipguard plan against uv, and parsers.

Usage: python scripts/bench_index_parse.py [--links N] [--repeat N] [--uv PATH]

A page shaped like download.pytorch.org/whl/cpu/torch/ (``--links`` anchors, all
``+cpu``, 6 Pythons x 4 platforms per release) is written under a temp dir with
the PEP 658 ``.metadata`` files of its newest release and served over HTTP by
``scripts/serve_index.py`` in a separate process. In the same run, medians of
``--repeat`` runs:

* ``pipguard plan torch --torch-backend cpu`` (a subprocess): cold (empty cache),
  warm (a second plan within the freshness window: no request, no HTML scan),
  and ``--refresh`` (the page is downloaded again, its stored links reused);
* ``uv pip compile --no-deps`` of ``torch`` against the same page (``--uv``, or
  ``uv`` on PATH): cold (empty cache dir) and warm (its cache kept);
* in-process parsers over the page: ``scan_html`` (all platforms, and only this
  machine's), ``parse_html_stdlib`` (html.parser), and a no-op ``HTMLParser.feed``.

Ratios are against uv's cold resolution when uv is found, else against
``parse_html_stdlib``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from packaging import tags as ptags

from pipguard import namefilter, simple
from tests.reference_parser import parse_html_stdlib

REPO = Path(__file__).resolve().parents[1]

_PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_28_aarch64", "win_amd64",
              "macosx_11_0_arm64")
_PYTHONS = ("cp39-cp39", "cp310-cp310", "cp311-cp311", "cp312-cp312", "cp313-cp313",
            "cp313-cp313t")
PER_RELEASE = len(_PLATFORMS) * len(_PYTHONS)


def metadata(version: str) -> bytes:
    return (f"Metadata-Version: 2.1\nName: torch\nVersion: {version}\n"
            "Requires-Python: >=3.9\n").encode()


def make_page(links: int) -> tuple[str, dict[str, bytes]]:
    """The page, and the ``.metadata`` files of its newest release (by file name)."""
    rows, newest = [], {}
    releases = -(-links // PER_RELEASE)
    for i in range(links):
        r = i // PER_RELEASE
        version = f"2.{r // 10}.{r % 10}+cpu"
        py = _PYTHONS[i % len(_PYTHONS)]
        plat = _PLATFORMS[(i // len(_PYTHONS)) % len(_PLATFORMS)]
        name = f"torch-{version.replace('+', '%2B')}-{py}-{plat}.whl"
        meta = metadata(version)
        meta_sha = hashlib.sha256(meta).hexdigest()
        sha = hashlib.sha256(name.encode()).hexdigest()
        if r == releases - 1:
            newest[name.replace("%2B", "+") + ".metadata"] = meta
        rows.append(f'    <a href="/whl/cpu/{name}#sha256={sha}" data-dist-info-metadata='
                    f'"sha256={meta_sha}" data-core-metadata="sha256={meta_sha}" '
                    f'data-requires-python="&gt;=3.9">{name.replace("%2B", "+")}</a><br/>')
    body = "\n".join(rows)
    page = ("<!DOCTYPE html>\n<html>\n  <body>\n    <h1>Links for torch</h1>\n"
            f"{body}\n  </body>\n</html>\n<!--TIMESTAMP 1745424000-->")
    return page, newest


def median(fn: Callable[[], object], repeat: int, before: Callable[[], object] | None = None
           ) -> float:
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        simple._parse_filename.cache_clear()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(argv: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed ({done.returncode}):\n{done.stdout[-800:]}"
                         f"{done.stderr[-800:]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--links", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--uv", default=shutil.which("uv"), help="the uv binary (default: PATH)")
    args = ap.parse_args()
    page, newest = make_page(args.links)
    tmp = Path(tempfile.mkdtemp(prefix="pipguard-bench-index-"))
    server = None
    try:
        folder = tmp / "index" / "torch" / "cpu"
        (folder / "torch").mkdir(parents=True)
        (folder / "torch" / "index.html").write_text(page, encoding="utf-8")
        for name, data in newest.items():
            (folder / name).write_bytes(data)
        server = subprocess.Popen([sys.executable, str(REPO / "scripts" / "serve_index.py"),
                                   str(tmp / "index"), "--port", "0"],
                                  stdout=subprocess.PIPE, text=True)
        assert server.stdout is not None
        url = re.search(r"http://[\d.]+:\d+", server.stdout.readline()).group(0)  # type: ignore[union-attr]
        print(f"page: {args.links} links, {len(page) / 1e6:.1f} MB, served at {url}; "
              f"median of {args.repeat}; cpus {os.cpu_count()}")
        rows: list[tuple[str, float]] = []
        cache = tmp / "pgcache"
        # A user's machine: no site pip configuration (this one's caps torch's version).
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("PIP_")},
               "PIP_CONFIG_FILE": os.devnull, "PIPGUARD_CACHE_DIR": str(cache),
               "PYTHONPATH": str(REPO), "PIPGUARD_SYSROOT": str(tmp / "noroot")}
        plan = [sys.executable, "-m", "pipguard", "plan", "torch", "--torch-backend", "cpu",
                "--torch-index-url", f"{url}/whl", "--json"]
        rows.append(("pipguard plan, cold cache", median(
            lambda: run(plan, env), args.repeat, lambda: shutil.rmtree(cache, True))))
        run(plan, env)
        rows.append(("pipguard plan, warm (fresh: 0 requests)",
                     median(lambda: run(plan, env), args.repeat)))
        rows.append(("pipguard plan --refresh (download, stored links)",
                     median(lambda: run([*plan, "--refresh"], env), args.repeat)))
        if args.uv:
            uvcache = tmp / "uvcache"
            uv = [args.uv, "pip", "compile", "-", "--no-deps", "--no-header", "--quiet",
                  "--index-url", f"{url}/whl/cpu", "--python-version", "3.11",
                  "--python-platform", "x86_64-manylinux_2_28", "--cache-dir", str(uvcache)]

            def uv_run() -> None:
                done = subprocess.run(uv, input="torch\n", capture_output=True, text=True,
                                      check=False)
                if done.returncode != 0 or "torch==" not in done.stdout:
                    raise SystemExit(f"uv failed: {done.stdout[-400:]}{done.stderr[-800:]}")

            rows.append(("uv pip compile, cold cache", median(
                uv_run, args.repeat, lambda: shutil.rmtree(uvcache, True))))
            uv_run()
            rows.append(("uv pip compile, warm cache", median(uv_run, args.repeat)))
        page_url = f"{url}/whl/cpu/torch/"
        here = namefilter.platform_filter({t.platform for t in ptags.sys_tags()})

        def feed_only() -> None:
            parser = HTMLParser()
            parser.feed(page)
            parser.close()

        rows.append(("scan_html, every platform (in-process)",
                     median(lambda: simple.scan_html(page, page_url), args.repeat)))
        rows.append(("scan_html, this platform only (in-process)",
                     median(lambda: simple.scan_html(page, page_url, here), args.repeat)))
        mine = namefilter.tag_filter(ptags.sys_tags())
        rows.append(("html_links, this interpreter's tags (in-process)",
                     median(lambda: simple.html_links(page, page_url, mine), args.repeat)))
        rows.append(("parse_html_stdlib: html.parser (in-process)",
                     median(lambda: parse_html_stdlib(page, page_url), args.repeat)))
        rows.append(("HTMLParser.feed, no-op (in-process)", median(feed_only, args.repeat)))
        base_label = ("uv pip compile, cold cache" if args.uv
                      else "parse_html_stdlib: html.parser (in-process)")
        base = dict(rows)[base_label]
        print(f"baseline: {base_label}" + ("" if args.uv else " (uv not found)"))
        for label, t in rows:
            print(f"{label:50s} {t * 1e3:9.1f} ms  {t / base:6.2f}x")
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
