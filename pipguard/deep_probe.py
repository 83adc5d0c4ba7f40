"""``doctor --deep``'s probe: import torch in the target interpreter and ask it.

Runs in a subprocess with a timeout; what it prints is judged by
:func:`pipguard.doctor_fit.deep_fit`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pipguard import runner

# Run in the target: never from the current directory (a ./torch folder would shadow it),
# and every attribute optional (stub and partial builds must report, not crash).
SCRIPT = """\
import json, os, sys
sys.path[:] = [p for p in sys.path if p not in ('', os.getcwd())]
import torch
cuda = getattr(torch, 'cuda', None)
ok = bool(cuda and cuda.is_available())
print(json.dumps({'version': str(getattr(torch, '__version__', '')),
                  'has_cuda_module': cuda is not None, 'cuda': ok,
                  'arch': list(cuda.get_arch_list()) if ok else []}))
"""
TIMEOUT_S = 120.0


@dataclass(frozen=True)
class DeepProbe:
    """What importing torch gave: facts, or the failure's output, or a timeout."""

    facts: dict[str, Any] = field(default_factory=dict)
    failure: str | None = None  # the output of a failed import
    timed_out: bool = False


def probe_torch(python: str) -> DeepProbe:
    """Import torch in ``python`` and collect what it says about itself."""
    done = runner.run([python, "-c", SCRIPT], timeout=TIMEOUT_S)
    if done.timed_out:
        return DeepProbe(timed_out=True)
    if done.returncode != 0:
        return DeepProbe(failure=done.stdout + done.stderr)
    try:
        facts = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return DeepProbe()
    return DeepProbe(facts=facts if isinstance(facts, dict) else {})
