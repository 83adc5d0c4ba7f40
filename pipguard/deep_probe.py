"""``doctor --deep``'s probe: import torch in the target interpreter and ask it.

Runs in a subprocess with a timeout; what it prints is judged by
:func:`pipguard.doctor_fit.deep_fit`. The facts (every key optional; older callers
and recordings may lack the newer ones):

``version``
    ``torch.__version__``.
``cuda``, ``cuda_error``
    ``torch.cuda.is_available()``; when False, why (CUDA's warning and the error of a
    tiny operation on ``cuda``, e.g. ``Found no NVIDIA driver on your system``).
``arch``
    the compiled architectures (``torch._C._cuda_getArchFlags()``, what
    ``torch.cuda.get_arch_list()`` returns when a GPU is there): ``sm_90``, ``gfx1030``.
``cuda_version``, ``hip``, ``cudnn``
    ``torch.version.cuda``, ``torch.version.hip``, ``torch.backends.cudnn.version()``.
``xpu``, ``mps``
    ``torch.xpu.is_available()``, ``torch.backends.mps.is_available()`` (None: absent).
``ops``
    ``{device: {"ok", "error"}}``: ``(torch.ones(2, device=d) * 2).sum().item() == 4`` on
    ``cpu`` and each usable device (``cuda`` also when unavailable, for the reason).
``libraries``
    the paths of the CUDA/ROCm libraries loaded (``/proc/self/maps``, Linux).
``gcn_arch``
    ROCm: the target each device runs as (``gcnArchName``: ``gfx1030`` on a gfx1031 run
    with ``HSA_OVERRIDE_GFX_VERSION=10.3.0``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pipguard import runner

# Run in the target: never from the current directory (a ./torch folder would shadow it),
# and every attribute optional (stub and partial builds must report, not crash). Written
# for old interpreters too (no f-strings, no walrus). The last line printed is the JSON.
SCRIPT = r"""
import json, os, sys, warnings
sys.path[:] = [p for p in sys.path if p not in ('', os.getcwd())]
import torch

def why(exc):
    return ('%s: %s' % (type(exc).__name__, exc)).strip()[:600]

def tiny_op(device):
    try:
        ok = (torch.ones(2, device=device) * 2).sum().item() == 4
        return {'ok': bool(ok), 'error': None if ok else 'wrong result: (ones(2) * 2).sum() != 4'}
    except Exception as exc:
        return {'ok': False, 'error': why(exc)}

def attempt(fn, default=None):
    try:
        return fn()
    except Exception:
        return default

version = getattr(torch, 'version', None)
cuda = getattr(torch, 'cuda', None)
out = {'version': str(getattr(torch, '__version__', '')), 'has_cuda_module': cuda is not None,
       'cuda_version': getattr(version, 'cuda', None), 'hip': getattr(version, 'hip', None)}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    try:
        out['cuda'] = bool(cuda is not None and cuda.is_available())
        cuda_error = None
    except Exception as exc:
        out['cuda'], cuda_error = False, why(exc)
messages = [str(w.message).strip() for w in caught if 'cuda' in str(w.message).lower()]
# The compiled arch list (sm_XY / gfxNNN), also when no GPU is usable.
flags = attempt(lambda: torch._C._cuda_getArchFlags())
out['arch'] = flags.split() if isinstance(flags, str) else []
# ROCm: the target each device runs as (an HSA_OVERRIDE_GFX_VERSION shows here).
out['gcn_arch'] = attempt(lambda: [str(cuda.get_device_properties(i).gcnArchName)
                                   for i in range(cuda.device_count())], []) \
    if out['hip'] and out['cuda'] else []
xpu = getattr(torch, 'xpu', None)
out['xpu'] = attempt(lambda: bool(xpu.is_available())) if xpu is not None else None
mps = getattr(getattr(torch, 'backends', None), 'mps', None)
out['mps'] = attempt(lambda: bool(mps.is_available())) if mps is not None else None
ops = {'cpu': tiny_op('cpu')}
if cuda is not None and (out['cuda'] or out['cuda_version'] or out['hip']):
    ops['cuda'] = tiny_op('cuda')  # when unavailable, its error says why
for name in ('xpu', 'mps'):
    if out[name]:
        ops[name] = tiny_op(name)
out['ops'] = ops
if not out['cuda']:
    texts = messages + [t for t in (cuda_error, ops.get('cuda', {}).get('error')) if t]
    out['cuda_error'] = '; '.join(dict.fromkeys(texts)) or None
out['cudnn'] = attempt(lambda: torch.backends.cudnn.version())
names = ('libcudart', 'libcudnn', 'libcublas', 'libcuda.so', 'libnvrtc', 'libnccl',
         'libamdhip64', 'librocblas', 'libMIOpen')
libs = set()
try:
    with open('/proc/self/maps') as fh:
        for line in fh:
            parts = line.split(None, 5)
            path = parts[5].strip() if len(parts) == 6 else ''
            if os.path.basename(path).startswith(names):
                libs.add(path)
except OSError:
    pass
out['libraries'] = sorted(libs)
sys.stdout.flush()
print(json.dumps(out))
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
