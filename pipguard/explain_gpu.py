"""``explain`` rules for a torch build against the GPU and driver it runs on.

The NVIDIA driver too old for the build's CUDA (or absent: a CUDA build with no GPU or no
driver visible), the GPU's architecture missing from the build; a CPU-only build on a
machine with a GPU is :mod:`pipguard.explain_cpubuild`'s. Run before
:mod:`pipguard.explain_runtime`'s rules (a missing ``libcuda`` is the driver, not a CUDA
library); the framework (:mod:`pipguard.explain`) orders and merges their findings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipguard.explain_doc import (
    Doc,
    Rule,
    _cmd,
    _cuda_of,
    _label,
    _public,
    _reinstall_torch,
    _v,
    cuda_false,
)
from pipguard.explain_phrases import DRIVER_SHOWN
from pipguard.findings import Finding
from pipguard.variants import cc_of

# When the tables can't answer: the variant that keeps sm_50..sm_70 (pytorch_facts.md §5).
_LEGACY_VARIANT = "cu126"


def _collect_env_driver(doc: Doc, os_name: str) -> tuple[re.Match[str], str | None] | None:
    """A CUDA build, CUDA unavailable, and a driver under that CUDA's floor: as ``collect_env``
    says them, or as nvidia-smi's header ("Driver Version: 470.82.01") beside the installed
    torch's +cuXYZ and ``torch.cuda.is_available()`` shown False."""
    build = doc.find(r"CUDA used to build PyTorch: (\d+)\.\d+[\s\S]*Is CUDA available: False")
    drv = doc.find(DRIVER_SHOWN)
    major = build.group(1) if build else (
        (_cuda_of(_label(doc.installed("torch"))) or "").split(".")[0] if cuda_false(doc) else "")
    driver = _v(drv.group(1) or drv.group(2)) if drv else None
    floor = doc.facts.compat_floor(int(major), os_name) if major and driver else None
    if not (drv and driver and floor and driver < floor):
        return None
    have = doc.facts.driver_cuda_api(driver, os_name)
    return drv, str(have) if have else None


def _driver_too_old(doc: Doc) -> Iterator[Finding]:
    m = doc.find(r"driver on your system is too old \(found version (?P<code>\d+)\)|"
                 r"(?:CUDA )?driver version is insufficient for (?:CUDA )?runtime|"
                 r"cudaErrorInsufficientDriver|NVIDIA driver[^\n]{0,40}? too old(?! \(found)|"
                 r"forward compatibility was attempted on non supported HW|"
                 r"unsupported display driver / cuda driver combination|"
                 r"PTX was compiled with an unsupported toolchain|"
                 r"has been compiled with your version\s+of the CUDA driver|"  # (torch's, its tail)
                 r"unsatisfied condition: (?:cuda|driver) ?>=|"
                 r"(?P<ngc>built for NVIDIA Driver Release (?P<release>\d+(?:\.\d+)*) or later, "
                 r"but\s+version \S+ was detected and compatibility mode is UNAVAILABLE(?![\s\S]*?"
                 r"(?:driver version is insufficient|cudaErrorInsufficientDriver|too old \(found "
                 r"version|Error 80[34]\b)))|"  # (yielding to a CUDA failure printed after it)
                 r"(?P<none>Found no NVIDIA driver|libcuda\.so\.1: cannot open|"
                 # torch.utils.cpp_extension building with no GPU in sight (a docker build)
                 r"No CUDA runtime is found, using CUDA_HOME|"
                 r"No (?:CUDA|HIP) GPUs are available|CUDA driver initialization failed|"
                 r"no (?:ROCm|CUDA)-capable device is detected|system not yet initialized|"
                 r"__cuda,? [^\n]*which is missing on the system|nothing provides __cuda\b|"
                 r"Can't initialize NVML|cuda driver can't be loaded|"
                 r"CUDA unknown error - this may be due to an incorrectly set up environment|"
                 r"Failed to open libcuda\.so\.1|incompatible with your system:(?s:.{0,2000}?)"
                 r"__cuda\b(?s:.{0,400}?)Your installed version is: not available|"
                 r"libcuda\.so cannot found!\s*Please make sure GPU is set up|couldn't communicate "
                 r"with the NVIDIA driver|"
                 r"Driver/library version mismatch|Driver Not Loaded|NVML Shared Library Not Found|"
                 # launchers' and frameworks' own checks (A1111, Forge, SD.Next, kohya, Unsloth,
                 # vLLM, InvokeAI, transformers, diffusers)
                 r"Torch is not able to use GPU|Your device does not support the current version "
                 r"of Torch/CUDA|Torch reports (?:CUDA|GPU) not available|No ROCm agent was found|"
                 r"cannot find any torch accelerator|only works on NVIDIA, AMD and Intel GPUs|"
                 r"CUDA platform is not available because no GPU is found|No platform detected, "
                 r"vLLM is running on UnspecifiedPlatform|no CUDA devices are available|"
                 r"is not available on CPU\. Please make sure torch can access a CUDA device|"
                 r"No GPU found\. A GPU is needed|"
                 r"torch\.cuda\.is_available\(\) should be True but is False|"
                 r"(?P<box>nvml error: driver not loaded|(?P<wsl>WSL environment detected but no "
                 r"adapters were found)|"
                 r"initialization error: load library failed: libnvidia-ml|"
                 r"could not select device driver \S* with "
                 r"capabilities: \[\[gpu\]\]|unknown or invalid runtime name: nvidia|"
                 r"unresolvable CDI devices nvidia\.com/gpu))|"
                 r"incompatible with your system:(?s:.{0,2000}?)__cuda\[version='>=|"
                 r"constraint __cuda >=[\d.]+ conflicting with __cuda-(?P<conda>\d+\.\d+)")
    hw, torch = doc.ctx.hardware, doc.installed("torch")
    os_name = "win32" if doc.platform() == "win32" else "linux"
    env = None if m else _collect_env_driver(doc, os_name)
    if not (m := m or (env[0] if env else None)):
        return
    if m.groupdict().get("wsl"):
        yield Finding("gpu-build-without-gpu", "error", "the NVIDIA container runtime found no "
                      "GPU adapter in WSL: WSL 1 has none; under WSL 2 the Windows NVIDIA driver "
                      "or WSL itself is too old (update both: the driver, `wsl --update`), or "
                      "Windows does not pass this GPU through", doc.line(m), "pipguard detect")
        return
    if m.groupdict().get("ngc"):
        # (a warning: NGC images print it at every start, and some of their programs run
        # anyway; a failure's own error goes first)
        yield Finding("driver-too-old", "warning", "this container was built for NVIDIA driver "
                      f"{m['release']} or later and found an older one, with no forward "
                      "compatibility to bridge them: where its CUDA programs fail, update the "
                      "host's driver, or use a container release built for the driver it has",
                      doc.line(m), "pipguard detect")
        return
    if m.groupdict().get("box"):  # Docker could not hand the container a GPU
        yield Finding("gpu-build-without-gpu", "error", "Docker could not give this container a "
                      "GPU: the NVIDIA Container Toolkit is not installed or not configured as a "
                      "runtime (nvidia-ctk runtime configure), or the host has no driver loaded; "
                      "fix the host, then start the container with --gpus all", doc.line(m),
                      "pipguard detect")
        return
    if m.groupdict().get("none"):  # no driver at all (libcuda absent): not an old one
        if hw is not None and hw.accelerator != "nvidia":
            yield Finding("gpu-build-without-gpu", "warning", "this machine has no NVIDIA GPU, so "
                          "a CUDA build of torch cannot use one: install the CPU build",
                          doc.line(m), _reinstall_torch(doc, "--torch-backend", "cpu"))
        elif hw is not None:
            yield Finding("gpu-build-without-gpu", "error", "this machine has an NVIDIA GPU, but "
                          "no driver is visible to this process (none loaded, or a container "
                          "started without --gpus all / the NVIDIA runtime)", doc.line(m),
                          "pipguard detect")
        else:
            yield Finding("gpu-build-without-gpu", "error", "GPU code ran, but no GPU answers "
                          "this process (no driver, libcuda absent, a container started without "
                          "--gpus all, or CUDA_VISIBLE_DEVICES hiding every device): on a machine "
                          "without a GPU run on the CPU (device 'cpu'; the CPU build is the right "
                          "one and much smaller); with one, install its driver, and start a "
                          "container with --gpus all (the NVIDIA container runtime); pipguard "
                          "detects which and installs the build that fits",
                          doc.line(m), _reinstall_torch(doc))
        return
    code = int(m["code"]) if m.groupdict().get("code") else None
    have = (f"{code // 1000}.{code % 1000 // 10}" if code else m["conda"] if m.groupdict().get(
        "conda") else env[1] if env
            else hw.cuda_driver_api if hw else None)
    need = _cuda_of(_label(torch))
    floor = doc.facts.compat_floor(int(need.split(".")[0]), os_name) if need else None
    text = (f"the NVIDIA driver only supports CUDA up to {have}" + (
            f" (found version {code} = CUDA {have})" if code else "") if have
            else "the NVIDIA driver is older than the CUDA runtime of this torch build")
    if need:
        text += f"; torch {torch} is a CUDA {need} build" + (
            f" that needs driver >= {floor}" if floor else "")
    if have:
        major = have.split(".")[0]
        release = _v(_public(torch)) if torch else None
        runs = [v for v in (doc.facts.variants_for(release, doc.kb_platform()) if release else ())
                if (_cuda_of(v) or "").split(".")[0] == major]
        text += (f"; install a build for CUDA {major}.x (" + (f"{', '.join(runs)} for torch "
                 f"{_public(torch)}" if torch and runs else f"a cu{major}x variant") + ": CUDA "
                 "minor-version compatibility lets this driver run them; pipguard picks one "
                 "from the driver) or update the driver")
    yield Finding("driver-too-old", "error", text, doc.line(m), _reinstall_torch(doc))


def _gpu_arch_unsupported(doc: Doc) -> Iterator[Finding]:
    new = doc.near("with CUDA capability sm_", r"([^\n]{0,200}?) with CUDA capability sm_(\d+)"
                   r"\w* is not compatible with the current PyTorch installation(?:.*?supports "
                   r"CUDA capabilities ((?:(?:sm|compute)_\d+\w* ?)+))?", after=2)
    old = doc.find(r"Found GPU\d+ ([^\n]+?) which is of cuda capability (\d+\.\d+)")
    # torch 2.8+: printed for a GPU outside the build's list, older or newer
    listed = doc.find(r"Found GPU\d+ ([^\n]+?) which is of compute capability \(CC\) (\d+\.\d+)")
    any_ = doc.find(r"no kernel image is available|no kernel image available for (?:execution|"
                    r"sm_\d)|cudaErrorNoKernelImageForDevice|invalid device function|"
                    r"hipErrorNoBinaryForGpu|which requires CUDA_VERSION >= (\d+)|for GPU arch ?: "
                    r"(gfx\w+)|current PyTorch install(?:ation)? supports CUDA capabilities|is not "
                    r"compatible with devices with SM < \d|_STATUS_ARCH_MISMATCH|too old to be "
                    r"supported by the triton GPU compiler|device kernel image is invalid|"
                    r"HSA_STATUS_ERROR_INVALID_ISA|does not work in RTX 50X, Blackwell|requires "
                    r"compute capability >= \d|Unknown CUDA arch \([^)]*\) or GPU not supported|"
                    r"nvrtc: error: invalid value for --gpu-architecture|NVRTC_ERROR_INVALID_OPTION"
                    r"|Value 'sm_\d+a?' is not defined for option 'gpu-name'|"
                    r"is for sm_?\d+(?:-sm_?\d+)?, but was built for sm_?\d+|"  # (xFormers')
                    # torch's own warnings, their last lines pasted alone
                    r"If you want to use the [^\n]{1,80} GPU with PyTorch, please check the "
                    r"instructions at|PyTorch no longer supports this GPU because it is too old|"
                    r"minimum cuda capability supported by this library is \d|does not include "
                    r"kernels for this GPU|No published PyTorch CUDA builds for release "
                    r"\S{1,40} support this GPU")
    if not (m := new or old or listed or any_):
        return
    hw, cc, gpu = doc.ctx.hardware, None, "this GPU"
    have = [c for s in (new.group(3) or "").split() if "sm_" in s and (c := cc_of(s))] \
        if new else []
    if hit := new or old or listed:
        gpu, cc = re.sub(r"^.*Warning:\s*", "", hit.group(1)).strip() or gpu, cc_of(hit.group(2))
    elif hw and (ccs := [(g.name, c) for g in hw.gpus if (c := g.nvidia_cc())]):
        gpu, cc = ccs[0]
    if cc is None:
        cuda, gfx = (any_.group(1), any_.group(2)) if any_ else (None, None)
        yield Finding("gpu-arch-unsupported", "error", "the installed build (or a compiled "
                      "extension) has no kernels for this GPU's architecture" + (
                      f"; the GPU needs a build for CUDA >= {int(cuda) // 1000}."
                      f"{int(cuda) % 1000 // 10}" if cuda else f"; the ROCm build has no {gfx} "
                      "kernels (HSA_OVERRIDE_GFX_VERSION can map a consumer GPU to a supported "
                      "target)" if gfx else ""), doc.line(m), _cmd(
                          "pipguard", "install", "--force-reinstall", "xformers") if "but was "
                      "built for sm" in m.group(0) else _reinstall_torch(doc))
        return
    arch, platform = f"sm_{cc[0]}{cc[1]}", doc.kb_platform()
    family = doc.facts.gpu_family_name(cc)  # (sm_XY when the tables have no name for it)
    gpu += f" ({arch}{', ' + family if family != arch else ''})"
    target = [] if hw else ["--gpu-arch", arch]  # explained elsewhere: say which GPU to plan for
    if old or (have and cc < min(have)) or (not have and cc < (7, 5)):
        last, newest = doc.facts.last_release_with_cc(cc, platform), doc.newest_release()
        variant = str(last[1]) if last else ("cu118" if cc < (5, 0) else _LEGACY_VARIANT)
        gone = last and newest and variant not in (doc.facts.variants_for(newest) or (variant,))
        upto = str(last[0]) if last and gone else None  # newest releases lack that variant
        yield Finding("gpu-arch-unsupported", "error",
                      f"{gpu} is older than this build supports: newer CUDA variants dropped it; "
                      f"{variant} is the variant that still has kernels for it"
                      + (f" (up to torch {upto})" if upto else ""), doc.line(m),
                      _reinstall_torch(doc, "--torch-backend", variant, *target, upto=upto))
        return
    first = doc.facts.first_release_with_cc(cc, platform)
    yield Finding("gpu-arch-unsupported", "error",
                  f"{gpu} is newer than the kernels in this torch build"
                  + (f" (they stop at sm_{max(have)[0]}{max(have)[1]})" if have else "")
                  + "; it needs a build for a newer CUDA"
                  + (f": torch {first[0]} (+{first[1]}) is the first with {arch}" if first else ""),
                  doc.line(m), _cmd("pipguard", "install", "--force-reinstall", *target,
                                    f"torch>={first[0]}" if first else "torch",
                                    *(c for c in doc.facts.companion_names()
                                      if c in doc.ctx.installed)))


RULES: tuple[Rule, ...] = (_driver_too_old, _gpu_arch_unsupported)
