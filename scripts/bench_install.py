#!/usr/bin/env python3
"""Overhead of ``pipguard install`` over the equivalent plain ``pip install``.

Both install torch + torchvision for an RTX 5090 on driver 570.86.10 (``+cu128``) into a fresh
virtual environment from the same local imitation index (built and served here):

* baseline: ``pip install torch==X+cu128 torchvision==Y+cu128 --index-url <torch>/cu128
  --extra-index-url <pypi>`` (the pins pipguard plans, written by hand);
* pipguard: ``pipguard install torch torchvision --cuda-driver 570.86.10 --gpu-arch sm_120``
  (plan, pin, pip, verify), with a cold page cache ("cold") and a warm one ("warm").

Each run gets a fresh venv (a copy of one template) and a fresh pip cache; runs alternate;
the median of ``--runs`` is reported, and the ratio to the baseline's median.

Usage: ``python scripts/bench_install.py [--runs 5]``
"""

from __future__ import annotations

import argparse
import json
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

GPU = ("--cuda-driver", "570.86.10", "--gpu-arch", "sm_120")


def _env(tmp: Path, tag: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "PIPGUARD_", "VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH"))}
    (tmp / "root").mkdir(exist_ok=True)
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1",
               PIP_CACHE_DIR=str(tmp / f"pip-cache-{tag}"), PIPGUARD_SYSROOT=str(tmp / "root"))
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
    with tempfile.TemporaryDirectory(prefix="pipguard-bench-") as tmpname:
        tmp = Path(tmpname)
        build_index(tmp / "index")
        template = tmp / "template"
        subprocess.run([sys.executable, "-m", "venv", str(template)], check=True)
        with IndexServer(tmp / "index") as server:
            base_env = _env(tmp, "plan")
            base_env["PIPGUARD_CACHE_DIR"] = str(tmp / "pg-plan")
            plan = subprocess.run(
                [sys.executable, "-m", "pipguard", "--python", str(template / "bin" / "python"),
                 "plan", "torch", "torchvision", *GPU, "--torch-index-url", server.torch_url,
                 "--json"], env=base_env, cwd=REPO, capture_output=True, text=True, check=True)
            pins = {p["name"]: p["version"] for p in json.loads(plan.stdout)["packages"]}
            print(f"pins: torch=={pins['torch']} torchvision=={pins['torchvision']} "
                  f"(pip version: {subprocess.run([str(template / 'bin' / 'python'), '-m', 'pip', '--version'], capture_output=True, text=True, check=True).stdout.split()[1]})")  # noqa: E501
            warm_cache = tmp / "pg-warm"
            times: dict[str, list[float]] = {"pip": [], "pipguard cold": [], "pipguard warm": []}
            for i in range(args.runs):
                for kind in times:
                    run = tmp / f"run-{i}-{kind.replace(' ', '-')}"
                    run.mkdir()
                    venv = run / "venv"
                    shutil.copytree(template, venv, symlinks=True)
                    python = str(venv / "bin" / "python")
                    env = _env(run, kind.replace(" ", "-"))
                    if kind == "pip":
                        cmd = [python, "-m", "pip", "install", f"torch=={pins['torch']}",
                               f"torchvision=={pins['torchvision']}",
                               "--index-url", f"{server.torch_url}/cu128",
                               "--extra-index-url", server.pypi_url]
                    else:
                        env["PIPGUARD_CACHE_DIR"] = str(
                            warm_cache if kind.endswith("warm") else run / "pg-cache")
                        cmd = [sys.executable, "-m", "pipguard", "--python", python, "install",
                               "torch", "torchvision", *GPU, "--torch-index-url",
                               server.torch_url, "--index-url", server.pypi_url]
                    times[kind].append(_timed(cmd, env))
        base = statistics.median(times["pip"])
        print(f"{'command':<16}{'median s':>10}{'ratio':>8}   runs")
        for kind, values in times.items():
            med = statistics.median(values)
            print(f"{kind:<16}{med:>10.2f}{med / base:>7.2f}x   "
                  + " ".join(f"{v:.2f}" for v in values))
    return 0


if __name__ == "__main__":
    sys.exit(main())
