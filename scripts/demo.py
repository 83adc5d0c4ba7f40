#!/usr/bin/env python3
"""pipguard's main job, end to end, on a machine that cannot reach download.pytorch.org.

Builds the imitation PyTorch index, serves it on 127.0.0.1, makes a fresh virtual
environment and runs ``pipguard install torch torchvision`` in it for a named GPU
(RTX 5090, sm_120, driver 580.95.05), then ``pipguard verify``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts.make_index import build_index
from scripts.serve_index import IndexServer


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="pipguard-demo-") as tmp:
        root = Path(tmp)
        build_index(root / "index")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
        env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1",
                   PIPGUARD_CACHE_DIR=str(root / "cache"))
        subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True)
        target = str(root / "venv" / "bin" / "python")
        with IndexServer(root / "index") as server:
            argv = [sys.executable, "-m", "pipguard", "--python", target, "install",
                    "torch", "torchvision", "--cuda-driver", "580.95.05", "--gpu-arch", "sm_120",
                    "--torch-index-url", server.torch_url, "--index-url", server.pypi_url]
            print("$ pipguard install torch torchvision --cuda-driver 580.95.05 --gpu-arch sm_120",
                  flush=True)
            rc = subprocess.run(argv, env=env, check=False).returncode
            if rc != 0:
                return rc
            print("$ pipguard verify", flush=True)
            return subprocess.run([sys.executable, "-m", "pipguard", "--python", target,
                                   "verify"], env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
