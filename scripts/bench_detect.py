"""Benchmark ``pipguard detect --json`` against ``pip --version``, end to end.

Both run as fresh processes of the same interpreter, interleaved, in the same
environment (``PIP_CONFIG_FILE`` set to the null device, no inherited ``PIP_*``
variables, bytecode caching on), ``--repeat`` times each after one warm-up run
of each. Prints the
medians and the ratio detect/pip, and exits 1 when the ratio is 1 or more:
detection must cost less than starting pip.

    python scripts/bench_detect.py [--python PATH] [--repeat 15] [--sysroot DIR]

``--sysroot`` sets ``PIPGUARD_SYSROOT`` (for example a recording under
``tests/fixtures/hardware/``); by default the real machine is probed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipguard import runner  # noqa: E402


def bench_env(sysroot: str | None) -> dict[str, str]:
    """The one environment both commands run in.

    Changes this process's own environment too: the runner starts children
    with ``os.environ`` plus the given variables, so removing a variable has to
    happen here.
    """
    for key in list(os.environ):
        # pip's installed modules have .pyc files; the checkout's must get them
        # too (the warm-up run writes them), or the comparison measures compiling.
        if key.startswith(("PIP_", "PIPGUARD_")) or key == "PYTHONDONTWRITEBYTECODE":
            del os.environ[key]
    env = {"PIP_CONFIG_FILE": os.devnull}
    # Find this checkout's pipguard even when it is not installed.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    if sysroot:
        env["PIPGUARD_SYSROOT"] = sysroot
    return env


def timed(argv: Sequence[str], env: Mapping[str, str]) -> float:
    """Seconds one run of ``argv`` takes; exits the script if it fails."""
    start = time.perf_counter()
    done = runner.run(argv, capture=True, timeout=120, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[:500]}")
    return elapsed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter to run both with")
    parser.add_argument("--repeat", type=int, default=15, help="runs of each command")
    parser.add_argument("--sysroot", help="PIPGUARD_SYSROOT for the detect runs")
    args = parser.parse_args(argv)

    env = bench_env(args.sysroot)
    detect_cmd = [args.python, "-m", "pipguard", "detect", "--json"]
    pip_cmd = [args.python, "-m", "pip", "--version"]
    timed(detect_cmd, env), timed(pip_cmd, env)  # warm the page cache and .pyc files
    detect_s: list[float] = []
    pip_s: list[float] = []
    for _ in range(max(1, args.repeat)):
        detect_s.append(timed(detect_cmd, env))
        pip_s.append(timed(pip_cmd, env))

    d, p = statistics.median(detect_s), statistics.median(pip_s)
    ratio = d / p
    print(f"pipguard detect --json  median {d * 1000:7.1f} ms  (n={len(detect_s)})")
    print(f"pip --version           median {p * 1000:7.1f} ms  (n={len(pip_s)})")
    print(f"ratio detect/pip        {ratio:.2f}  ({'OK' if ratio < 1 else 'TOO SLOW'})")
    return 0 if ratio < 1 else 1


if __name__ == "__main__":
    sys.exit(main())
