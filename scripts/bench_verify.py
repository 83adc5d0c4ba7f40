"""Benchmark ``pipguard.verify.verify_dist`` against ``sha256sum`` on the same files.

Builds a synthetic installed distribution in a temp dir (default: 2,000 files,
~300 MB, sizes mixed like a torch install: many small .py files, some
megabyte-size modules, a few large shared libraries), warms the page cache by
running each contender once, then times each and prints throughputs (MB/s)
and the ratio.

    python scripts/bench_verify.py [--mb 300] [--files 2000] [--workers N] [--repeat 3]

``sha256sum`` runs in argv batches (no shell, no xargs), one process at a time:
the everyday single-threaded baseline.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipguard import runner
from pipguard.installed import InstalledDist
from pipguard.verify import verify_dist

MB = 1_000_000
_BATCH = 200  # files per sha256sum argv: far below any ARG_MAX


def file_sizes(count: int, total: int, seed: int = 0) -> list[int]:
    """``count`` sizes summing to about ``total``, mixed like a torch install.

    89% small files share 10% of the bytes, 10% medium files share 40%, and
    1% large "shared libraries" hold the other half.
    """
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
    site = root / "site-packages"
    dist_info = site / "bench-1.0.dist-info"
    dist_info.mkdir(parents=True)
    block = os.urandom(8 * 1024 * 1024)  # reused slices: building stays fast
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
    rows.append(["bench-1.0.dist-info/RECORD", "", ""])
    with open(dist_info / "RECORD", "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return InstalledDist("bench", "1.0", str(site), str(dist_info), None, True, None, (), None)


def run_pipguard(dist: InstalledDist, workers: int | None) -> float:
    start = time.perf_counter()
    result = verify_dist(dist, workers=workers)
    elapsed = time.perf_counter() - start
    if not result.ok:
        raise SystemExit(f"verify_dist reported problems: {result.problems[:3]}")
    return elapsed


def run_sha256sum(paths: list[str]) -> float:
    start = time.perf_counter()
    for i in range(0, len(paths), _BATCH):
        done = runner.run(["sha256sum", "--", *paths[i : i + _BATCH]], capture=True)
        if done.returncode != 0:
            raise SystemExit(f"sha256sum failed: {done.stderr.strip()}")
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=300, help="total size in MB (default 300)")
    parser.add_argument("--files", type=int, default=2000, help="number of files (default 2000)")
    parser.add_argument("--workers", type=int, default=None, help="verify threads (default: auto)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; best is kept")
    parser.add_argument("--dir", help="build under this directory instead of the temp dir")
    args = parser.parse_args(argv)
    if shutil.which("sha256sum") is None:
        print("sha256sum not found; install coreutils", file=sys.stderr)
        return 2

    root = Path(tempfile.mkdtemp(prefix="pipguard-bench-", dir=args.dir))
    try:
        sizes = file_sizes(args.files, args.mb * MB)
        t0 = time.perf_counter()
        dist = build(root, sizes)
        total = sum(sizes)
        print(
            f"built {len(sizes)} files, {total / MB:.0f} MB in {time.perf_counter() - t0:.1f} s "
            f"(cpus: {os.cpu_count()}, workers: {args.workers or 'auto'})"
        )
        paths = [
            os.path.join(dist.location, f"bench/sub{i % 40}/f{i}.bin") for i in range(len(sizes))
        ]
        run_pipguard(dist, args.workers)  # warm the page cache, both ways
        run_sha256sum(paths)
        ours = min(run_pipguard(dist, args.workers) for _ in range(args.repeat))
        theirs = min(run_sha256sum(paths) for _ in range(args.repeat))
        print(f"pipguard verify_dist: {ours:7.3f} s  {total / MB / ours:8.0f} MB/s")
        print(f"sha256sum (batched): {theirs:7.3f} s  {total / MB / theirs:8.0f} MB/s")
        print(f"ratio (sha256sum time / verify time): {theirs / ours:.2f}x")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
