"""Benchmark ``pipguard verify`` against a one-thread hashlib loop and ``sha256sum``.

All three read the same files, those a RECORD lists with a sha256, in the same run:

* ``verify_dist`` (in-process, default workers, and ``--workers 1``): every file hashed;
* ``verify_remembering`` (in-process): after the warm-up run, files whose stat fingerprint
  is unchanged since it matched are not read (what ``pipguard verify`` does by default);
* ``pipguard --python PY verify NAME`` end to end (interpreter start, reading the
  named distribution's metadata, RECORD, hashing) when ``--python`` is given, with
  ``--full`` (every file hashed) and without (fingerprints remembered by the warm-up);
* a one-thread loop: ``open`` + ``hashlib.sha256`` in 1 MiB reads, per file;
* ``sha256sum`` in argv batches of 200 files, one process at a time.

Each is run once to warm the page cache, then ``--repeat`` rounds (default 5) run
each once in turn; the median is printed, with MB/s and the ratio to the hashlib loop.

    python scripts/bench_verify.py --site SITE_PACKAGES --name torch [--python PY]
    python scripts/bench_verify.py [--mb 300 --files 2000]   # a synthetic dist

The synthetic distribution mixes sizes like a torch install: many small .py
files, some megabyte-size modules, a few large shared libraries.
"""

from __future__ import annotations

import argparse
import base64
import csv
import glob
import hashlib
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipguard import runner
from pipguard.fingerprints import verify_remembering
from pipguard.installed import InstalledDist
from pipguard.record import read_record
from pipguard.verify import default_workers, verify_dist

MB = 1_000_000
_BATCH = 200  # files per sha256sum argv: far below any ARG_MAX


def file_sizes(count: int, total: int, seed: int = 0) -> list[int]:
    """``count`` sizes summing to about ``total``, mixed like a torch install."""
    rng = random.Random(seed)
    large = max(1, count // 100)
    medium = max(1, count // 10)
    small = max(0, count - large - medium)
    sizes: list[int] = []
    for n, share in ((small, 0.10), (medium, 0.40), (large, 0.50)):
        weights = [rng.lognormvariate(0.0, 1.0) for _ in range(n)]
        scale = total * share / (sum(weights) or 1.0)
        sizes += [max(1, int(w * scale)) for w in weights]
    rng.shuffle(sizes)
    return sizes


def build(root: Path, sizes: list[int]) -> InstalledDist:
    """Write the files and a RECORD for them; return the distribution."""
    site = root / "lib" / "python3" / "site-packages"
    dist_info = site / "bench-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "INSTALLER").write_text("pip\n")
    block = os.urandom(8 * 1024 * 1024)
    rows = []
    for i, size in enumerate(sizes):
        rel = f"bench/sub{i % 40}/f{i}.bin"
        path = site / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with open(path, "wb") as f:
            left, offset = size, (i * 4099) % len(block)
            while left:
                piece = block[offset : offset + left]
                f.write(piece)
                digest.update(piece)
                left -= len(piece)
                offset = 0
        encoded = base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()
        rows.append([rel, f"sha256={encoded}", str(size)])
    rows.append(["bench-1.0.dist-info/INSTALLER", "", ""])
    rows.append(["bench-1.0.dist-info/RECORD", "", ""])
    with open(dist_info / "RECORD", "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return InstalledDist("bench", "1.0", str(site), str(dist_info), None, True, None, (), None)


def existing(site: str, name: str) -> InstalledDist:
    found = glob.glob(os.path.join(site, f"{name}-*.dist-info"))
    if not found:
        raise SystemExit(f"no {name}-*.dist-info in {site}")
    return InstalledDist(name, "?", site, found[0], None, True, None, (), None)


def hashed_paths(dist: InstalledDist) -> list[str]:
    entries = read_record(dist.dist_info).entries or ()
    return [os.path.normpath(os.path.join(dist.location, e.path)) for e in entries
            if e.hash and e.hash.startswith("sha256=")]


def hashlib_loop(paths: list[str]) -> None:
    for p in paths:
        h = hashlib.sha256()
        with open(p, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        h.digest()


def sha256sum(paths: list[str]) -> None:
    for i in range(0, len(paths), _BATCH):
        done = runner.run(["sha256sum", "--", *paths[i : i + _BATCH]], capture=True)
        if done.returncode != 0:
            raise SystemExit(f"sha256sum failed: {done.stderr.strip()}")


def verify(dist: InstalledDist, workers: int | None) -> Callable[[], None]:
    def call() -> None:
        result = verify_dist(dist, workers=workers)
        if not result.ok:
            raise SystemExit(f"verify reported problems: {result.problems[:3]}")
    return call


def remembering(dist: InstalledDist, cache: Path) -> Callable[[], None]:
    def call() -> None:
        (result,) = verify_remembering([dist], cache)
        if not result.ok:
            raise SystemExit(f"verify reported problems: {result.problems[:3]}")
    return call


def cli(python: str, name: str, cache: Path, *extra: str) -> Callable[[], None]:
    argv = [sys.executable, "-m", "pipguard", "--python", python, "verify", name, *extra]
    # PYTHONDONTWRITEBYTECODE empty: a user's installed pipguard has its bytecode (pip
    # compiles it at install); without it each start compiles pipguard's modules again
    # (~50 ms), which is not what a user waits for. The warm-up run writes it.
    env = {"PYTHONPATH": str(Path(__file__).resolve().parents[1]),
           "PIPGUARD_CACHE_DIR": str(cache), "PYTHONDONTWRITEBYTECODE": ""}

    def call() -> None:
        done = runner.run(argv, capture=True, env=env)
        if done.returncode != 0:
            raise SystemExit(f"pipguard verify failed: {done.stdout[-500:]}{done.stderr[-500:]}")
    return call


def medians(fns: list[Callable[[], None]], repeat: int) -> list[float]:
    """Each function's median time over ``repeat`` rounds, every round running each once
    in turn: on a shared machine, a slow minute then slows every row alike, not one."""
    for fn in fns:
        fn()  # warm the page cache (and the fingerprints, and the bytecode)
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, row in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            row.append(time.perf_counter() - start)
    return [statistics.median(row) for row in times]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", help="a site-packages folder holding NAME")
    parser.add_argument("--name", default="torch", help="the distribution in --site")
    parser.add_argument("--python", help="the interpreter of --site: also time the CLI")
    parser.add_argument("--mb", type=int, default=300, help="synthetic: total MB (300)")
    parser.add_argument("--files", type=int, default=2000, help="synthetic: files (2000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs; the median is kept")
    args = parser.parse_args(argv)
    if shutil.which("sha256sum") is None:
        print("sha256sum not found; install coreutils", file=sys.stderr)
        return 2
    root = None
    scratch = Path(tempfile.mkdtemp(prefix="pipguard-bench-cache-"))
    try:
        if args.site:
            dist = existing(args.site, args.name)
        else:
            root = Path(tempfile.mkdtemp(prefix="pipguard-bench-"))
            dist = build(root, file_sizes(args.files, args.mb * MB))
            time.sleep(2.1)  # files changed in the last 2 s are never remembered (SETTLE_NS)
        paths = hashed_paths(dist)
        total = sum(os.path.getsize(p) for p in paths)
        print(f"{dist.name}: {len(paths)} files, {total / MB:.0f} MB; cpus {os.cpu_count()}, "
              f"usable {default_workers()} -> workers {default_workers()}; "
              f"median of {args.repeat}")
        rows: list[tuple[str, Callable[[], None]]] = [
            ("hashlib loop, 1 thread (baseline)", lambda: hashlib_loop(paths)),
            ("sha256sum, batches of 200", lambda: sha256sum(paths)),
            ("verify_dist, 1 worker", verify(dist, 1)),
            (f"verify_dist, default ({default_workers()} workers)", verify(dist, None)),
            ("verify_remembering, repeat (fingerprints)",
             remembering(dist, scratch / "in-process")),
        ]
        if args.python:
            rows.append((f"pipguard verify {args.name} --full (CLI, end to end)",
                         cli(args.python, args.name, scratch / "cli", "--full")))
            rows.append((f"pipguard verify {args.name} (CLI, repeat: fingerprints)",
                         cli(args.python, args.name, scratch / "cli")))
        results = medians([fn for _, fn in rows], args.repeat)
        for (label, _), t in zip(rows, results, strict=True):
            print(f"{label:50s} {t:7.3f} s {total / MB / t:7.0f} MB/s  {t / results[0]:5.2f}x")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
