#!/usr/bin/env python3
"""Overhead of ``pipguard install`` (with pip, and with ``--installer uv``) over plain pip.

Two cases, each against a baseline measured in the same run:

* ``imitation`` (default): torch + torchvision for an RTX 5090 on driver 570.86.10 (``+cu128``)
  from the local imitation index (built and served here), each run in a fresh venv (a copy of
  one template) with fresh pip/uv caches; baseline ``pip install torch==X+cu128
  torchvision==Y+cu128 --index-url <torch>/cu128 --extra-index-url <pypi>`` (the pins pipguard
  plans, by hand). Contenders: pipguard with a cold and a warm page cache, pipguard
  ``--installer uv`` (warm page cache), and plain ``uv pip install`` of the same pins.
* ``real`` (``--real``): the real torch 2.13.0 CPU wheel this machine's **site pip
  configuration** reaches without a download (``pip config list``: find-links holds the wheel,
  file:// indexes hold its dependencies); baseline ``pip install torch==2.13.0`` with that
  configuration, warm caches (one warm-up run of each contender first). pipguard gets the same
  wheel as the ``cpu`` variant of a one-file ``file://`` torch index built here; uv, which
  does not read pip's configuration, gets the same find-links and indexes on its command line.
  ``--breakdown`` also times the parts of a guarded install on their own.
* ``other`` (``--other``): no torch at all, ``pip install requests rich click attrs tqdm six``
  (and their dependencies, 12 wheels) through the site configuration's file:// index, warm
  caches, against ``pipguard install`` of the same names: what pipguard costs a user who
  aliased ``pip`` to it for everything else.

Runs alternate; the median of ``--runs`` is reported, and the ratio to the baseline's median.

Usage: ``python scripts/bench_install.py [--runs 5] [--real [--breakdown] | --other] [--uv PATH]``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from pipguard.uvbin import find_uv  # noqa: E402
from scripts.make_index import build_index  # noqa: E402
from scripts.serve_index import IndexServer  # noqa: E402

GPU = ("--cuda-driver", "570.86.10", "--gpu-arch", "sm_120")
PG = [sys.executable, "-m", "pipguard"]


def _env(tmp: Path, tag: str, *, site_config: bool = False) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "PIPGUARD_", "UV_", "VIRTUAL_ENV", "CONDA_PREFIX",
                                "PYTHONPATH"))}
    (tmp / "root").mkdir(exist_ok=True)
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1",
               PIP_CACHE_DIR=str(tmp / f"pip-cache-{tag}"), UV_CACHE_DIR=str(tmp / f"uv-{tag}"),
               PIPGUARD_SYSROOT=str(tmp / "root"))
    if not site_config:
        env["PIP_CONFIG_FILE"] = os.devnull
    return env


def _timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(argv)}\n{done.stdout}\n{done.stderr}")
    return elapsed


def _report(times: dict[str, list[float]], baseline: str) -> None:
    """Medians and their ratio, and the median of each round's own ratio ("paired"): the
    rounds alternate the contenders, so a slow minute of a shared machine slows both sides
    of a round and cancels in its ratio, where it moves the medians apart."""
    base = statistics.median(times[baseline])
    print(f"{'command':<34}{'median s':>10}{'ratio':>8}{'paired':>8}   runs")
    for kind, values in times.items():
        if values:
            med = statistics.median(values)
            paired = statistics.median(v / b for v, b in zip(values, times[baseline],
                                                              strict=False))
            print(f"{kind:<34}{med:>10.2f}{med / base:>7.2f}x{paired:>7.2f}x   "
                  + " ".join(f"{v:.2f}" for v in values))


def _loop(runs: int, kinds: list[str], tmp: Path, template: Path,
          command: Callable[[str, str, Path, dict[str, str]], list[str]],
          env_of: Callable[[Path, str], dict[str, str]], warmup: bool = False
          ) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {k: [] for k in kinds}
    for i in range(-1 if warmup else 0, runs):
        for kind in kinds:
            slug = re.sub(r"[^a-z0-9]+", "-", kind)
            run = tmp / f"run-{i}-{slug}"
            run.mkdir()
            # A fresh environment each run, at the same path: a user's venv does not move
            # between installs (and what pipguard remembers about it is keyed on its path).
            venv = tmp / f"venv-{slug}"
            shutil.rmtree(venv, ignore_errors=True)
            shutil.copytree(template, venv, symlinks=True)
            elapsed = _timed(command(kind, str(venv / "bin" / "python"), run, env_of(run, kind)),
                             env_of(run, kind))
            if i >= 0:
                times[kind].append(elapsed)
            shutil.rmtree(run, ignore_errors=True)
    return times


def imitation(runs: int, uv: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="pipguard-bench-") as tmpname:
        tmp = Path(tmpname)
        build_index(tmp / "index")
        template = tmp / "template"
        subprocess.run([sys.executable, "-m", "venv", str(template)], check=True)
        with IndexServer(tmp / "index") as server:
            base_env = _env(tmp, "plan")
            base_env["PIPGUARD_CACHE_DIR"] = str(tmp / "pg-plan")
            plan = subprocess.run(
                [*PG, "--python", str(template / "bin" / "python"), "plan", "torch",
                 "torchvision", *GPU, "--torch-index-url", server.torch_url, "--json"],
                env=base_env, cwd=REPO, capture_output=True, text=True, check=True)
            pins = [f"{p['name']}=={p['version']}" for p in json.loads(plan.stdout)["packages"]
                    if p["name"] in ("torch", "torchvision")]
            print(f"imitation index: pins {' '.join(pins)}")
            kinds = ["pip (baseline)", "pipguard cold", "pipguard warm"]
            kinds += ["pipguard --installer uv (warm)", "uv pip install"] if uv else []
            indexes = ["--index-url", f"{server.torch_url}/cu128",
                       "--extra-index-url", server.pypi_url]

            def command(kind: str, python: str, run: Path, env: dict[str, str]) -> list[str]:
                if kind.startswith("pip "):
                    return [python, "-m", "pip", "install", *pins, *indexes]
                if kind.startswith("uv "):
                    assert uv is not None
                    return [uv, "pip", "install", "--python", python, *pins, *indexes,
                            "--index-strategy", "unsafe-best-match"]
                return [*PG, "--python", python, "install", "torch", "torchvision", *GPU,
                        "--torch-index-url", server.torch_url, "--index-url", server.pypi_url,
                        *(["--installer", "uv"] if "uv" in kind else [])]

            def env_of(run: Path, kind: str) -> dict[str, str]:
                env = _env(run, "x")
                env["PIPGUARD_CACHE_DIR"] = str(run / "pg-cache" if "cold" in kind
                                                else tmp / "pg-warm")
                if uv:
                    env["PATH"] = f"{Path(uv).parent}:{env.get('PATH', '')}"
                return env

            times = _loop(runs, kinds, tmp, template, command, env_of)
        _report(times, "pip (baseline)")


# -- the real torch wheel, through the site's pip configuration -------------------------------


def _site_config() -> tuple[Path, list[str], list[str]]:
    """The torch 2.13.0 wheel in the site's find-links, the find-links and the file:// indexes."""
    done = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True,
                          text=True, check=True, env={k: v for k, v in os.environ.items()
                                                      if k != "PIP_CONFIG_FILE"})
    config: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        m = re.fullmatch(r"[^.]+\.([\w-]+)='(.*)'", line.strip())
        if m:
            config.setdefault(m[1], []).extend(v for v in m[2].split()
                                               if v not in config.get(m[1], []))
    links = config.get("find-links", [])
    dirs = [Path(unquote(urlsplit(d).path)) if d.startswith("file:") else Path(d) for d in links]
    wheels = sorted(w for d in dirs if d.is_dir() for w in d.glob("torch-2.13.0+cpu-*.whl"))
    if not wheels:
        sys.exit(f"no torch-2.13.0+cpu wheel in the site's find-links {links}")
    indexes = [u for u in config.get("index-url", []) + config.get("extra-index-url", [])
               if u.startswith("file:")]
    return wheels[-1], links, indexes


def _torch_index(wheel: Path, root: Path) -> str:
    """A one-file torch index: <root>/cpu/torch/index.html -> the wheel, with its hashes."""
    cpu = root / "cpu"
    (cpu / "torch").mkdir(parents=True)
    (cpu / wheel.name).symlink_to(wheel)
    with zipfile.ZipFile(wheel) as zf:
        metadata = zf.read(next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA")))
    (cpu / (wheel.name + ".metadata")).write_bytes(metadata)
    digest = hashlib.sha256()
    with wheel.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    meta = hashlib.sha256(metadata).hexdigest()
    (cpu / "torch" / "index.html").write_text(
        f'<a href="../{quote(wheel.name)}#sha256={digest.hexdigest()}" data-requires-python='
        f'"&gt;=3.10" data-core-metadata="sha256={meta}">{wheel.name}</a>\n')
    return root.as_uri()


def real(runs: int, uv: str | None, breakdown: bool) -> None:
    wheel, links, indexes = _site_config()
    with tempfile.TemporaryDirectory(prefix="pipguard-bench-real-") as tmpname:
        tmp = Path(tmpname)
        torch_index = _torch_index(wheel, tmp / "torch-index")
        template = tmp / "template"
        subprocess.run([sys.executable, "-m", "venv", str(template)], check=True)
        uv_args = [*(a for u in links for a in ("--find-links", u)),
                   *(a for u in indexes for a in ("--extra-index-url", u))]
        print(f"real torch: {wheel.name} ({wheel.stat().st_size >> 20} MiB) through the site "
              f"pip configuration; uv gets {' '.join(uv_args)}")
        kinds = ["pip install torch==2.13.0 (baseline)", "pipguard install"]
        kinds += ["pipguard install --installer uv", "uv pip install"] if uv else []
        guarded = ["torch==2.13.0", "--torch-backend", "cpu", "--torch-index-url", torch_index]

        def command(kind: str, python: str, run: Path, env: dict[str, str]) -> list[str]:
            if kind.startswith("pip "):
                return [python, "-m", "pip", "install", "torch==2.13.0"]
            if kind.startswith("uv "):
                assert uv is not None
                return [uv, "pip", "install", "--python", python, "torch==2.13.0", *uv_args,
                        "--index-strategy", "unsafe-best-match"]
            if "uv" in kind:
                return [*PG, "--python", python, "install", *guarded, "--installer", "uv",
                        *uv_args]
            return [*PG, "--python", python, "install", *guarded]

        def env_of(run: Path, kind: str) -> dict[str, str]:
            env = _env(tmp, "warm", site_config=True)  # caches shared: warm after the warm-up
            env["PIPGUARD_CACHE_DIR"] = str(tmp / "pg-warm")
            if uv:
                env["PATH"] = f"{Path(uv).parent}:{env.get('PATH', '')}"
            return env

        times = _loop(runs, kinds, tmp, template, command, env_of, warmup=True)
        if breakdown:
            times.update(_breakdown(runs, tmp, template, wheel, torch_index, env_of(tmp, "")))
        _report(times, "pip install torch==2.13.0 (baseline)")


def _breakdown(runs: int, tmp: Path, template: Path, wheel: Path, torch_index: str,
               env: dict[str, str]) -> dict[str, list[float]]:
    """The parts of a guarded install, each on its own (same warm caches)."""
    venv = tmp / "bd-venv"
    shutil.copytree(template, venv, symlinks=True)
    python = str(venv / "bin" / "python")
    page = (Path(unquote(urlsplit(torch_index).path)) / "cpu" / "torch" / "index.html").read_text()
    found = re.search(r'href="\.\./([^"]+)"', page)
    assert found is not None
    pin = f"torch @ {torch_index}/cpu/{found[1]}"
    parts: dict[str, list[float]] = {"  part: python -c pass (target)": [],
                                     "  part: pipguard --version": [],
                                     "  part: pipguard plan": [],
                                     "  part: pip --dry-run of the pin (audit)": []}
    for _ in range(runs):
        parts["  part: python -c pass (target)"].append(_timed([python, "-c", "pass"], env))
        parts["  part: pipguard --version"].append(_timed([*PG, "--version"], env))
        parts["  part: pipguard plan"].append(_timed(
            [*PG, "--python", python, "plan", "torch==2.13.0", "--torch-backend", "cpu",
             "--torch-index-url", torch_index], env))
        parts["  part: pip --dry-run of the pin (audit)"].append(_timed(
            [python, "-m", "pip", "install", pin, "--dry-run", "--quiet", "--report",
             str(tmp / "r.json")], env))
    # verify: on an installed torch
    _timed([python, "-m", "pip", "install", "torch==2.13.0"], env)
    parts["  part: pipguard verify torch"] = [
        _timed([*PG, "--python", python, "verify", "torch"], env) for _ in range(runs)]
    return parts


OTHER = ["requests", "rich", "click", "attrs", "tqdm", "six"]


def other(runs: int) -> None:
    """A non-family install: pipguard's fixed cost over plain pip (one pip resolution each)."""
    with tempfile.TemporaryDirectory(prefix="pipguard-bench-other-") as tmpname:
        tmp = Path(tmpname)
        template = tmp / "template"
        subprocess.run([sys.executable, "-m", "venv", str(template)], check=True)
        print(f"no torch: {' '.join(OTHER)} through the site pip configuration")
        kinds = ["pip install (baseline)", "pipguard install"]

        def command(kind: str, python: str, run: Path, env: dict[str, str]) -> list[str]:
            if kind.startswith("pip "):
                return [python, "-m", "pip", "install", *OTHER]
            return [*PG, "--python", python, "install", *OTHER]

        def env_of(run: Path, kind: str) -> dict[str, str]:
            env = _env(tmp, "warm", site_config=True)  # caches shared: warm after the warm-up
            env["PIPGUARD_CACHE_DIR"] = str(tmp / "pg-warm")
            return env

        times = _loop(runs, kinds, tmp, template, command, env_of, warmup=True)
        _report(times, "pip install (baseline)")
        base, mine = (statistics.median(times[k]) for k in kinds)
        print(f"pipguard - pip: {mine - base:+.2f} s (median)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--real", action="store_true", help="the real torch wheel (site config)")
    ap.add_argument("--breakdown", action="store_true", help="with --real: time the parts")
    ap.add_argument("--other", action="store_true", help="a non-family install (site config)")
    ap.add_argument("--uv", help="the uv binary (default: the uv extra, else PATH)")
    args = ap.parse_args(argv)
    uv = args.uv or find_uv(os.environ.get("PATH", ""))
    print(f"uv: {uv or 'not found (uv rows skipped)'}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.other:
        other(args.runs)
    elif args.real:
        real(args.runs, uv, args.breakdown)
    else:
        imitation(args.runs, uv)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
