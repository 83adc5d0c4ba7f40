"""``pipguard doctor``: what is wrong with the torch environment, and the fix.

Reads the target environment (``pip inspect``), RECORD files and the knowledge
tables against the detected (or overridden) hardware; it does not import torch
unless ``--deep`` asks for it (in a subprocess with a timeout). The checks are
pure functions of an :class:`Environment` so tests feed recorded states.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pipguard.environment import InstalledDist
from pipguard.findings import Finding
from pipguard.hardware import Hardware
from pipguard.knowledge import Knowledge, covers, platform_of
from pipguard.pipargs import CommandLine
from pipguard.verify import DistVerification

COMPANIONS = ("torchvision", "torchaudio", "torchtext", "torchdata", "torchao", "torchcodec",
              "xformers", "torchrec", "fbgemm-gpu")


@dataclass(frozen=True)
class Environment:
    """The facts doctor judges: installed dists, their verification, the target."""

    dists: Mapping[str, InstalledDist]
    verified: Sequence[DistVerification]
    hw: Hardware
    os: str = "linux"
    machine: str = "x86_64"
    marker_env: Mapping[str, str] | None = None
    torch_index_host: str = "download.pytorch.org"


def _version(d: InstalledDist | None) -> Version | None:
    if d is None:
        return None
    try:
        return Version(d.version)
    except InvalidVersion:
        return None


def _requires(d: InstalledDist, env: Mapping[str, str] | None) -> list[Requirement]:
    out = []
    for line in d.requires_dist:
        try:
            r = Requirement(line)
        except InvalidRequirement:
            continue
        if r.marker is not None and env is not None and not r.marker.evaluate(
                {**env, "extra": ""}):
            continue
        if r.marker is not None and env is None and "extra" in str(r.marker):
            continue
        out.append(r)
    return out


def check(e: Environment, kn: Knowledge) -> list[Finding]:
    """Every finding for the environment, errors first."""
    out: list[Finding] = []
    for fn in (_integrity, _companions, _cpu_on_gpu, _gpu_arch, _driver, _numpy,
               _typing_extensions, _cuda_libs, _confusion, _conflicts):
        out.extend(fn(e, kn))
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(out, key=lambda f: order[f.severity])


def _integrity(e: Environment, kn: Knowledge) -> list[Finding]:
    out = []
    for v in e.verified:
        if v.ok:
            continue
        paths = ", ".join(f"{p.problem} {p.path}" for p in v.problems[:5])
        if v.record_missing:
            paths = "RECORD missing"
        out.append(Finding("corrupt-install", "error",
                           f"{v.name} {v.version} has files that differ from its RECORD",
                           paths + (f" (+{len(v.problems) - 5} more)" if len(v.problems) > 5
                                    else ""),
                           f"pipguard install --force-reinstall --no-deps {v.name}=={v.version}"))
    return out


def _companions(e: Environment, kn: Knowledge) -> list[Finding]:
    torch = e.dists.get("torch")
    tv = _version(torch)
    if torch is None or tv is None:
        return []
    out = []
    for name in COMPANIONS:
        d = e.dists.get(name)
        dv = _version(d)
        if d is None or dv is None:
            continue
        fix = f"pipguard install torch=={tv.public} {name}"
        for r in _requires(d, e.marker_env):
            if canonicalize_name(r.name) == "torch" and not r.specifier.contains(
                    tv, prereleases=True):
                out.append(Finding("companion-mismatch", "error",
                                   f"{name} {d.version} requires {r}, but torch {torch.version} "
                                   "is installed", f"{name} Requires-Dist: {r}", fix))
        expected = kn.companions(Version(tv.public)).get(name)
        if expected and Version(dv.public) != Version(expected) and not any(
                f.category == "companion-mismatch" for f in out):
            out.append(Finding("companion-mismatch", "warning",
                               f"{name} {d.version} is not the release made for torch "
                               f"{tv.public} ({name} {expected})",
                               f"torch {torch.version}, {name} {d.version}", fix))
        if tv.local != dv.local and not (dv.local is None and tv.local is None):
            out.append(Finding("companion-mismatch", "error",
                               f"torch is the {tv.local or 'PyPI'} build but {name} is the "
                               f"{dv.local or 'PyPI'} build: their compiled operators do not "
                               "load together (e.g. 'torchvision::nms does not exist')",
                               f"torch {torch.version}, {name} {d.version}", fix))
    return out


def _gpus(e: Environment) -> list[tuple[int, int]]:
    return [cc for g in e.hw.gpus if (cc := g.nvidia_cc()) is not None]


def _cpu_on_gpu(e: Environment, kn: Knowledge) -> list[Finding]:
    tv = _version(e.dists.get("torch"))
    if tv is None or tv.local != "cpu" or e.hw.accelerator in ("none", "apple"):
        return []
    return [Finding("cpu-build-on-gpu", "warning",
                    f"torch {tv} is the CPU build, but this machine has a "
                    f"{e.hw.accelerator.upper()} GPU it cannot use",
                    ", ".join(g.name for g in e.hw.gpus) or e.hw.accelerator,
                    "pipguard install --force-reinstall torch")]


def _cuda_variant(tv: Version) -> str | None:
    return tv.local if tv.local and tv.local.startswith("cu") else None


def _gpu_arch(e: Environment, kn: Knowledge) -> list[Finding]:
    tv = _version(e.dists.get("torch"))
    variant = _cuda_variant(tv) if tv else None
    if tv is None or variant is None:
        return []
    arch = kn.arch_list(Version(tv.public), variant, platform_of(e.os, e.machine))
    if arch is None:
        return []
    out = []
    for g in e.hw.gpus:
        cc = g.nvidia_cc()
        if cc is None or covers(arch, cc):
            continue
        have = " ".join(f"sm_{a}{b}" for a, b in arch.cubins)
        out.append(Finding("gpu-arch-unsupported", "error",
                           f"torch {tv} has no kernels for {g.name} (sm_{cc[0]}{cc[1]}, "
                           f"{kn.gpu_family_name(cc)})", f"compiled for: {have}",
                           "pipguard install --force-reinstall torch"))
    return out


def _driver(e: Environment, kn: Knowledge) -> list[Finding]:
    tv = _version(e.dists.get("torch"))
    variant = _cuda_variant(tv) if tv else None
    driver = e.hw.driver()
    if tv is None or variant is None or driver is None:
        return []
    os_name = "win32" if e.os == "win32" else "linux"
    cuda = kn.cuda_version(variant, Version(tv.public))
    floor = kn.compat_floor(cuda.major, os_name) if cuda else None
    if cuda is None or floor is None or driver >= floor:
        return []
    return [Finding("driver-too-old", "error",
                    f"torch {tv} needs NVIDIA driver >= {floor} (CUDA {cuda}); this machine has "
                    f"{driver}", f"driver {driver}, torch {tv}",
                    "pipguard install --force-reinstall torch  (or upgrade the driver)")]


def _numpy(e: Environment, kn: Knowledge) -> list[Finding]:
    tv, nv = _version(e.dists.get("torch")), _version(e.dists.get("numpy"))
    if tv is None or nv is None or nv.major < 2:
        return []
    if kn.numpy2_compatible(Version(tv.public), e.os):
        return []
    return [Finding("numpy-abi", "error",
                    f"torch {tv} was built against NumPy 1.x and breaks with numpy {nv}",
                    f"torch {tv}, numpy {nv}", 'pipguard install "numpy<2"')]


def _typing_extensions(e: Environment, kn: Knowledge) -> list[Finding]:
    torch, te = e.dists.get("torch"), e.dists.get("typing-extensions")
    tv, tev = _version(torch), _version(te)
    if torch is None or tv is None:
        return []
    spec = [r for r in _requires(torch, e.marker_env)
            if canonicalize_name(r.name) == "typing-extensions"]
    if tev is None:
        if spec:
            return [Finding("typing-extensions", "error",
                            "typing-extensions is missing; torch imports it",
                            f"torch requires {spec[0]}", "pipguard install typing-extensions")]
        return []
    needed = kn.min_typing_extensions(Version(tv.public))
    bad = [r for r in spec if not r.specifier.contains(tev, prereleases=True)]
    if bad or (needed is not None and tev < needed):
        want = str(bad[0].specifier) if bad else f">={needed}"
        return [Finding("typing-extensions", "error",
                        f"typing-extensions {tev} is too old for torch {tv} (needs {want})",
                        f"typing-extensions {tev} at {te.location if te else '?'}",
                        f'pipguard install -U "typing-extensions{want}"')]
    return []


def _cuda_libs(e: Environment, kn: Knowledge) -> list[Finding]:
    torch = e.dists.get("torch")
    tv = _version(torch)
    variant = _cuda_variant(tv) if tv else None
    if torch is None or tv is None:
        return []
    out = []
    for r in _requires(torch, e.marker_env):
        name = canonicalize_name(r.name)
        if not name.startswith("nvidia-"):
            continue
        d = e.dists.get(name)
        if d is None:
            out.append(Finding("cuda-libraries", "error",
                               f"{name} is missing; torch {tv} loads its CUDA libraries from it",
                               f"torch requires {r}", f'pipguard install "{r}"'))
        elif not r.specifier.contains(d.version, prereleases=True):
            out.append(Finding("cuda-libraries", "warning",
                               f"{name} {d.version} is not the version torch {tv} was built with "
                               f"({r.specifier})", f"torch requires {r}",
                               f'pipguard install "{r}"'))
    if variant:
        cuda = kn.cuda_version(variant, Version(tv.public))
        for lib, d in e.dists.items():
            major = kn.cuda_major_of_nvidia_lib(lib) if lib.startswith("nvidia-") else None
            if cuda and major and major != cuda.major and not any(
                    canonicalize_name(r.name) == lib for r in _requires(torch, e.marker_env)):
                out.append(Finding("cuda-libraries", "warning",
                                   f"{lib} {d.version} is a CUDA {major} library beside a "
                                   f"CUDA {cuda.major} torch ({tv})", f"{lib} {d.version}",
                                   f"pip uninstall {lib}  (if nothing else needs it)"))
    return out


def _confusion(e: Environment, kn: Knowledge) -> list[Finding]:
    out = []
    if "torchtriton" in e.dists:
        out.append(Finding("dependency-confusion", "error",
                           "torchtriton is installed: the name of the Dec 2022 malicious PyPI "
                           "package (PyTorch's real dependency is pytorch-triton)",
                           f"torchtriton {e.dists['torchtriton'].version} at "
                           f"{e.dists['torchtriton'].location}",
                           "pip uninstall -y torchtriton torch torchvision torchaudio && "
                           "pip cache purge && pipguard install torch"))
    fam = kn.family() | kn.index_only()
    for name, d in e.dists.items():
        if name not in fam or name == "torchtriton":
            continue
        url = str((d.direct_url or {}).get("url", ""))
        host = url.split("/")[2] if url.count("/") >= 2 else ""
        if url.startswith(("http://", "https://")) and e.torch_index_host not in host:
            out.append(Finding("dependency-confusion", "warning",
                               f"{name} {d.version} was installed from {host}, not the torch index",
                               url, f"pipguard install --force-reinstall {name}"))
        v = _version(d)
        if name == "torch" and v is not None and not kn.is_known_release(v) and \
                v.major > 3:
            out.append(Finding("dependency-confusion", "error",
                               f"torch {v} is not a PyTorch release: a look-alike from another "
                               "index", f"torch {v} at {d.location}",
                               "pipguard install --force-reinstall torch"))
        if name in kn.index_only() and v is not None and v.local is None and not url:
            out.append(Finding("dependency-confusion", "warning",
                               f"{name} {v} may not come from the PyTorch index (no build label)",
                               f"{name} {v}", f"pipguard install --force-reinstall {name}"))
    return out


def _conflicts(e: Environment, kn: Knowledge) -> list[Finding]:
    """Broken requirements that involve the torch family (what `pip check` would say)."""
    fam = kn.family() | kn.index_only()
    out = []
    seen_companion = {(n, "torch") for n in COMPANIONS}
    for name, d in e.dists.items():
        for r in _requires(d, e.marker_env):
            dep: str = canonicalize_name(r.name)
            if dep not in fam and name not in fam:
                continue
            if (name, dep) in seen_companion:
                continue  # reported as companion-mismatch
            have = e.dists.get(dep)
            if have is None:
                if dep in fam:
                    out.append(Finding("resolver-conflict", "error",
                                       f"{name} {d.version} requires {r}, which is not installed",
                                       f"{name} Requires-Dist: {r}", f'pipguard install "{r}"'))
                continue
            if not r.specifier.contains(have.version, prereleases=True):
                out.append(Finding("resolver-conflict", "error",
                                   f"{name} {d.version} requires {r}, but {dep} {have.version} "
                                   "is installed", f"{name} Requires-Dist: {r}",
                                   f'pipguard install "{name}" "{r}"'))
    return out


def run_doctor(cl: CommandLine) -> int:
    """``pipguard doctor``: gather the facts, check, render."""
    import json

    from pipguard.environment import inspect
    from pipguard.planner import marker_environment
    from pipguard.verify import verify_many
    from pipguard.workflow import hardware, interpreter, knowledge

    interp = interpreter(cl, os.environ)
    kn = knowledge(cl, os.environ)
    hw = hardware(cl, os.environ)
    dists = {d.name: d for d in inspect(interp.python)}
    fam = kn.family() | kn.index_only()
    verified = verify_many([d for n, d in dists.items() if n in fam])
    env = Environment(dists, verified, hw, interp.os, interp.machine,
                      marker_environment(interp))
    findings = check(env, kn)
    if "--deep" in cl.own_flags:
        findings.extend(_deep(interp.python, hw, kn))
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


_DEEP = ("import json, torch\n"
         "ok = torch.cuda.is_available()\n"
         "print(json.dumps({'version': torch.__version__, 'cuda': ok,\n"
         " 'arch': torch.cuda.get_arch_list() if ok else []}))\n")


def _deep(python: str, hw: Hardware, kn: Knowledge) -> list[Finding]:
    """Import torch in a subprocess (with a timeout) and judge what it says."""
    import json

    from pipguard import runner

    done = runner.run([python, "-c", _DEEP], timeout=120)
    if done.returncode != 0:
        from pipguard.explain import explain

        found = list(explain(done.stdout + done.stderr))
        return found or [Finding("corrupt-install", "error", "import torch failed",
                                 (done.stderr.strip().splitlines() or ["?"])[-1],
                                 "pipguard verify torch")]
    try:
        facts = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return []
    if hw.accelerator == "nvidia" and hw.gpus and not facts.get("cuda"):
        return [Finding("cpu-build-on-gpu", "warning",
                        f"torch {facts.get('version')} imports but cannot use the GPU",
                        "torch.cuda.is_available() is False",
                        "pipguard install --force-reinstall torch")]
    return []
