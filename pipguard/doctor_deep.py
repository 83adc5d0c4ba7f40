"""The edges of ``pipguard doctor``: gathering the facts, ``--deep``, and the report.

:mod:`pipguard.doctor` holds the pure checks (and re-exports the names here). ``--deep``
imports torch in the target interpreter, in a subprocess with a timeout, and judges what
it says: the version that really loads, whether CUDA works, the compiled arch list.

``pipguard.doctor`` imports this module at its top, so its names are imported here inside
the functions that need them (a top-level import back would be a cycle).
"""

from __future__ import annotations

import os
import sys

from pipguard.findings import Finding
from pipguard.hardware import Hardware
from pipguard.knowledge import Knowledge
from pipguard.pipargs import CommandLine


def run_doctor(cl: CommandLine) -> int:
    """``pipguard doctor``: gather the facts, check, render; 1 when any finding is an error."""
    import json

    from pipguard.doctor import Environment, check
    from pipguard.environment import inspect
    from pipguard.orphans import find_orphans
    from pipguard.planner import marker_environment
    from pipguard.target import pip_command
    from pipguard.verify import verify_many
    from pipguard.workflow import hardware, interpreter, knowledge

    interp = interpreter(cl, os.environ)
    kn = knowledge(cl, os.environ)
    hw = hardware(cl, os.environ)
    dists = {d.name: d for d in inspect(interp.python, pip_command(interp))}
    fam = kn.family()
    # nvidia-* wheels too: a truncated libcudnn is a classic broken install.
    verified = verify_many([d for n, d in dists.items()
                            if n in fam or n.startswith("nvidia-")])
    index = cl.own.get("--torch-index-url") or os.environ.get("PIPGUARD_TORCH_INDEX_URL")
    env = Environment(dists, verified, hw, interp.os, interp.machine,
                      marker_environment(interp), (index,) if index else (),
                      find_orphans([d.location for d in dists.values()], dists))
    findings = check(env, kn)
    if "--deep" in cl.own_flags and "torch" in dists:
        # What the import confirms about the GPU was said already from the metadata.
        said = {f.category for f in findings} & {"cpu-build-on-gpu", "gpu-arch-unsupported"}
        findings.extend(f for f in _deep(interp.python, hw, kn, dists["torch"].version)
                        if f.category not in said)
    if "--json" in cl.own_flags:
        sys.stdout.write(json.dumps({"findings": [f.as_dict() for f in findings]}, indent=2)
                         + "\n")
    else:
        if not findings:
            t = dists.get("torch")
            print(f"no problems found ({'torch ' + t.version if t else 'no torch installed'})")
        for f in findings:
            print(f"[{f.severity}] {f.category}: {f.message}")
            print(f"  evidence: {f.evidence}")
            print(f"  fix: {f.fix}")
    return 1 if any(f.severity == "error" for f in findings) else 0


# Run in the target: never from the current directory (a ./torch folder would shadow it),
# and every attribute optional (stub and partial builds must report, not crash).
_DEEP = """\
import json, os, sys
sys.path[:] = [p for p in sys.path if p not in ('', os.getcwd())]
import torch
cuda = getattr(torch, 'cuda', None)
ok = bool(cuda and cuda.is_available())
print(json.dumps({'version': str(getattr(torch, '__version__', '')),
                  'has_cuda_module': cuda is not None, 'cuda': ok,
                  'arch': list(cuda.get_arch_list()) if ok else []}))
"""
DEEP_TIMEOUT_S = 120.0


def _deep(python: str, hw: Hardware, kn: Knowledge, installed: str) -> list[Finding]:
    """Import torch in a subprocess (with a timeout) and judge what it says."""
    import json

    from pipguard import runner
    from pipguard.doctor import _REINSTALL

    done = runner.run([python, "-c", _DEEP], timeout=DEEP_TIMEOUT_S)
    if done.timed_out:
        return [Finding("corrupt-install", "warning",
                        f"import torch did not finish in {DEEP_TIMEOUT_S:.0f} s",
                        "timed out", "pipguard verify torch")]
    if done.returncode != 0:
        from pipguard.explain import explain
        from pipguard.explain_doc import Context

        found = list(explain(done.stdout + done.stderr, Context(facts=kn, hardware=hw)))
        return found or [Finding("corrupt-install", "error", "import torch failed",
                                 (done.stderr.strip().splitlines() or ["?"])[-1],
                                 "pipguard verify torch")]
    try:
        facts = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return []
    out = []
    if facts.get("version") and not _same_build(str(facts["version"]), installed):
        out.append(Finding("corrupt-install", "error",
                           f"import torch loads {facts['version']}, but torch {installed} is "
                           "installed (another copy shadows it, or files are mixed)",
                           f"torch.__version__ == {facts['version']!r}",
                           f"pipguard install --force-reinstall torch=={installed}"))
    if hw.accelerator == "nvidia" and hw.gpus and not facts.get("cuda"):
        out.append(Finding("cpu-build-on-gpu", "warning",
                           f"torch {facts.get('version')} imports but cannot use the GPU",
                           "torch.cuda.is_available() is False", _REINSTALL))
    arch = [a for a in facts.get("arch", []) if isinstance(a, str)]
    for g in hw.gpus if arch else ():
        cc = g.nvidia_cc()
        if cc is None:
            continue
        native = any(a[3:].isdigit() and int(a[3:-1]) == cc[0] and int(a[-1]) <= cc[1]
                     for a in arch if a.startswith("sm_"))
        ptx = any(a[8:].isdigit() and (int(a[8:-1]), int(a[-1])) <= cc
                  for a in arch if a.startswith("compute_"))
        if not native and not ptx:
            out.append(Finding("gpu-arch-unsupported", "error",
                               f"torch has no kernels for {g.name} (sm_{cc[0]}{cc[1]}, "
                               f"{kn.gpu_family_name(cc)})",
                               f"torch.cuda.get_arch_list() == {arch}", _REINSTALL))
    return out


def _same_build(loaded: str, installed: str) -> bool:
    """Whether ``torch.__version__`` names the installed distribution.

    PyPI's torch says ``2.11.0+cu130`` at run time but ``2.11.0`` in its
    metadata (the label is stripped for PyPI), so a label only on the loaded
    side still matches; two different labels, or versions, do not.
    """
    from packaging.version import InvalidVersion, Version

    try:
        a, b = Version(loaded), Version(installed)
    except InvalidVersion:
        return loaded == installed
    return a.public == b.public and (b.local is None or a.local == b.local)
