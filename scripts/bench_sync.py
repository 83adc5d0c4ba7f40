#!/usr/bin/env python3
"""``pipguard sync`` of a lock against ``pipguard install`` of the same requirements.

Both install torch + torchvision for an H100 on driver 580.159.04 (``+cu130``) into a fresh
virtual environment from the same local imitation index (built and served here):

* install: ``pipguard install torch torchvision --cuda-driver … --gpu-arch 9.0`` (plan, ask
  pip, pin, pip install, verify);
* sync: ``pipguard sync LOCKS --cuda-driver … --gpu-arch 9.0`` of the locks that
  ``pipguard lock --for … --for cpu torch torchvision`` wrote once beforehand (choose the
  lock, ``pip install --no-deps --require-hashes``, verify).

Each run gets a fresh venv (a copy of one template), a fresh pip cache and a fresh page
cache; runs alternate; the median of ``--runs`` (at least 3) is reported, and the ratio.

Usage: ``python scripts/bench_sync.py [--runs 5]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from scripts.make_index import build_index  # noqa: E402
from scripts.serve_index import IndexServer  # noqa: E402

GPU = ("--cuda-driver", "580.159.04", "--gpu-arch", "9.0")


def _env(run: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "PIPGUARD_", "VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH"))}
    (run / "root").mkdir(parents=True, exist_ok=True)
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1",
               PIP_CACHE_DIR=str(run / "pip-cache"), PIPGUARD_CACHE_DIR=str(run / "pg-cache"),
               PIPGUARD_SYSROOT=str(run / "root"))
    return env


def _timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(argv)}\n{done.stdout}\n{done.stderr}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    runs = max(3, args.runs)
    with tempfile.TemporaryDirectory(prefix="pipguard-bench-") as tmpname:
        tmp = Path(tmpname)
        build_index(tmp / "index")
        template = tmp / "template"
        subprocess.run([sys.executable, "-m", "venv", str(template)], check=True)
        with IndexServer(tmp / "index") as server:
            index = ("--torch-index-url", server.torch_url, "--index-url", server.pypi_url)
            locks = tmp / "locks"
            _timed([sys.executable, "-m", "pipguard", "--python", str(template), "lock",
                    "--for", "driver=580.159.04,arch=9.0", "--for", "cpu", "torch",
                    "torchvision", "-o", str(locks), *index], _env(tmp / "lock"))
            times: dict[str, list[float]] = {"install": [], "sync": []}
            for i in range(runs):
                for kind in times:
                    run = tmp / f"run-{i}-{kind}"
                    venv = run / "venv"
                    shutil.copytree(template, venv, symlinks=True)
                    cmd = [sys.executable, "-m", "pipguard", "--python", str(venv), *(
                        ["install", "torch", "torchvision", *index] if kind == "install"
                        else ["sync", str(locks)]), *GPU]
                    times[kind].append(_timed(cmd, _env(run)))
        base = statistics.median(times["install"])
        print(f"{'command':<10}{'median s':>10}{'ratio':>8}   runs")
        for kind, values in times.items():
            med = statistics.median(values)
            print(f"{kind:<10}{med:>10.2f}{med / base:>7.2f}x   "
                  + " ".join(f"{v:.2f}" for v in values))
    return 0


if __name__ == "__main__":
    sys.exit(main())
