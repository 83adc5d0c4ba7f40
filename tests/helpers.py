"""Shared helpers for tests: a clean pip environment and running pipguard."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# Variables that change which CA bundle, proxy or credentials pip (and pipguard) use.
NETWORK_VARS = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR",
                "NETRC", "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY",
                "https_proxy", "http_proxy", "all_proxy", "no_proxy")


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment tests run pip in: no PIP_* variables, no site configuration, no CA
    bundle, proxy or netrc variables."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "PIPGUARD_", "VIRTUAL_ENV", "CONDA_PREFIX"))
           and k not in NETWORK_VARS}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    env["PYTHONPATH"] = str(REPO)
    env.update(extra or {})
    return env


def isolate_process(monkeypatch: Any, tmp_path: Path) -> None:
    """For in-process CLI calls: no inherited pip/pipguard settings, a private page cache,
    and detection pointed at an empty root (no GPU) unless a test says otherwise."""
    for k in list(os.environ):
        if k.startswith(("PIP_", "PIPGUARD_")) or k in ("VIRTUAL_ENV", "CONDA_PREFIX") \
                or k in NETWORK_VARS:
            monkeypatch.delenv(k)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIPGUARD_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "root").mkdir(exist_ok=True)
    monkeypatch.setenv("PIPGUARD_SYSROOT", str(tmp_path / "root"))


def run(argv: Sequence[str], env: Mapping[str, str] | None = None, timeout: float = 600,
        cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, env=dict(env or clean_env()),
                          timeout=timeout, cwd=cwd, input=stdin, check=False)


def pipguard(*args: str, python: str = sys.executable, env: Mapping[str, str] | None = None,
             timeout: float = 600, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run([python, "-m", "pipguard", *args], env=env, timeout=timeout, stdin=stdin)


def write_installed(site: Path, entry: Mapping[str, Any]) -> Path:
    """Write a ``.dist-info`` under ``site`` for one ``pip inspect``-shaped entry
    (``metadata.name``/``version``, ``installer``, ``direct_url``): what an installer
    leaves, for the in-process metadata reads (:func:`pipguard.installed.inspect_named`)."""
    import json

    meta = entry["metadata"]
    dist_info = site / f"{meta['name'].replace('-', '_')}-{meta['version']}.dist-info"
    dist_info.mkdir(parents=True, exist_ok=True)
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n",
        encoding="utf-8")
    if entry.get("installer"):
        (dist_info / "INSTALLER").write_text(f"{entry['installer']}\n", encoding="utf-8")
    if entry.get("direct_url"):
        (dist_info / "direct_url.json").write_text(json.dumps(entry["direct_url"]),
                                                   encoding="utf-8")
    return dist_info
