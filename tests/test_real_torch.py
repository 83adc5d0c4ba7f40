"""The real torch CPU wheel this machine's pip can reach, installed by ``pipguard install``.

Discovery uses the machine's normal pip configuration (``pip config list``) only to find the
find-links folders that may hold ``torch-2.13.0+cpu-*.whl`` and the extra indexes torch's own
dependencies come from; the install itself runs pip with no configuration. The wheel is served
as the ``cpu`` variant of a small ``file://`` torch index built here (a PEP 503 page with its
sha256, plus its METADATA as a PEP 658 file). One install of ~700 MB: slow.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest
from packaging.utils import parse_wheel_filename

from tests.helpers import REPO, clean_env

pytestmark = [pytest.mark.slow, pytest.mark.integration]

WHEEL_GLOB = "torch-2.13.0+cpu-*.whl"


def _pip_config() -> dict[str, list[str]]:
    """``pip config list`` with the machine's configuration: key -> its values (split)."""
    done = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True,
                          text=True, timeout=60, check=False)
    out: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        m = re.fullmatch(r"[^.]+\.([\w-]+)='(.*)'", line.strip())
        if m:
            out.setdefault(m[1], []).extend(m[2].split())
    return out


def _interpreter_for(wheel: Path) -> str | None:
    """An interpreter on this machine whose tags include the wheel's Python tag."""
    tags = parse_wheel_filename(wheel.name)[3]
    for tag in tags:
        m = re.fullmatch(r"cp(\d)(\d+)", tag.interpreter)
        if not m:
            continue
        wanted = f"{m[1]}.{m[2]}"
        if f"{sys.version_info[0]}.{sys.version_info[1]}" == wanted:
            return sys.executable
        found = shutil.which(f"python{wanted}")
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def real_wheel() -> tuple[Path, list[str]]:
    config = _pip_config()
    dirs = [Path(unquote(urlsplit(d).path)) if d.startswith("file:") else Path(d)
            for d in config.get("find-links", [])]
    wheels = sorted(w for d in dirs if d.is_dir() for w in d.glob(WHEEL_GLOB))
    if not wheels:
        pytest.skip(f"no {WHEEL_GLOB} in this machine's find-links ({dirs})")
    indexes = [u for u in config.get("extra-index-url", []) + config.get("index-url", [])
               if u.startswith("file:")]
    if not indexes:
        pytest.skip("no local (file://) index for torch's dependencies in pip's configuration")
    return wheels[-1], indexes


def _torch_index(wheel: Path, root: Path) -> str:
    """A one-file torch index: <root>/cpu/torch/index.html -> the wheel, with hashes."""
    cpu = root / "cpu"
    (cpu / "torch").mkdir(parents=True)
    (cpu / wheel.name).symlink_to(wheel)
    with zipfile.ZipFile(wheel) as zf:
        member = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = zf.read(member)
    (cpu / (wheel.name + ".metadata")).write_bytes(metadata)
    digest = hashlib.sha256()
    with wheel.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    meta_hash = hashlib.sha256(metadata).hexdigest()
    href = f"../{quote(wheel.name)}#sha256={digest.hexdigest()}"
    (cpu / "torch" / "index.html").write_text(
        "<!DOCTYPE html>\n<html><body>\n"
        f'<a href="{href}" data-requires-python="&gt;=3.10" '
        f'data-dist-info-metadata="sha256={meta_hash}" data-core-metadata="sha256={meta_hash}">'
        f"{wheel.name}</a><br/>\n</body></html>\n")
    return root.as_uri()


def test_real_torch_cpu_wheel_installs_imports_and_verifies(
        real_wheel: tuple[Path, list[str]], tmp_path: Path) -> None:
    wheel, indexes = real_wheel
    python = _interpreter_for(wheel)
    if python is None:
        pytest.skip(f"no interpreter here matches {wheel.name}")
    torch_index = _torch_index(wheel, tmp_path / "torch-index")
    venv = tmp_path / "venv"
    env = clean_env({"PIPGUARD_CACHE_DIR": str(tmp_path / "pg-cache"),
                     "PIPGUARD_SYSROOT": str(tmp_path),  # no GPU visible
                     "PIP_NO_CACHE_DIR": "1"})  # don't copy ~190 MB into a cache
    env.pop("PYTHONPATH", None)
    subprocess.run([python, "-m", "venv", str(venv)], check=True, env=env, timeout=300)
    target = str(venv / "bin" / "python")
    extra = [a for u in indexes[1:] for a in ("--extra-index-url", u)]
    done = subprocess.run(
        [sys.executable, "-m", "pipguard", "--python", target, "install", "torch==2.13.0",
         "--torch-backend", "cpu", "--torch-index-url", torch_index,
         "--index-url", indexes[0], *extra],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=1200, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "pipguard: verified torch 2.13.0+cpu" in done.stderr

    imported = subprocess.run([target, "-c", "import torch; print(torch.__version__)"],
                              capture_output=True, text=True, env=env, timeout=300, check=False)
    assert imported.returncode == 0, imported.stderr[-3000:]
    assert imported.stdout.strip() == "2.13.0+cpu"

    verified = subprocess.run([sys.executable, "-m", "pipguard", "--python", target, "verify"],
                              capture_output=True, text=True, env=env, cwd=REPO, timeout=600,
                              check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "torch 2.13.0+cpu: ok" in verified.stdout
