"""``explain`` rules for a torch build against the machine it runs on.

The NVIDIA driver too old for the build's CUDA (or absent: a CUDA build with no GPU or no
driver visible), the GPU's architecture missing from the build, a CPU-only build on a
machine with a GPU. Run before :mod:`pipguard.explain_runtime`'s rules (a missing
``libcuda`` is the driver, not a CUDA library); the framework (:mod:`pipguard.explain`)
orders and merges their findings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipguard.explain_doc import (
    Doc,
    Rule,
    _cmd,
    _cuda_of,
    _importer,
    _label,
    _public,
    _reinstall_torch,
    _v,
    cuda_false,
)
from pipguard.findings import Finding
from pipguard.variants import cc_of

# When the tables can't answer: the variant that keeps sm_50..sm_70 (pytorch_facts.md §5).
_LEGACY_VARIANT = "cu126"


def _collect_env_driver(doc: Doc, os_name: str) -> tuple[re.Match[str], str | None] | None:
    """``collect_env`` output: a CUDA build, CUDA unavailable, a driver under its floor."""
    build = doc.find(r"CUDA used to build PyTorch: (\d+)\.\d+[\s\S]*Is CUDA available: False")
    drv = doc.find(r"Nvidia driver version: (\d[\d.]*)")
    driver = _v(drv.group(1)) if drv else None
    floor = doc.facts.compat_floor(int(build.group(1)), os_name) if build and driver else None
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
                 r"No CUDA runtime is found, using CUDA_HOME|nvidia-smi: (?:command )?not found|"
                 r"No (?:CUDA|HIP) GPUs are available|CUDA driver initialization failed|"
                 r"no (?:ROCm|CUDA)-capable device is detected|system not yet initialized|"
                 r"__cuda,? [^\n]*which is missing on the system|nothing provides __cuda\b|"
                 r"Can't initialize NVML|cuda driver can't be loaded|'nvidia-smi' is not recogni"
                 r"zed|"
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


# A framework's device banner (Ultralytics, YOLOv5) naming a CPU-only torch on the CPU.
_CPU_BANNER = r"\btorch[- ](\d[\w.]*\+cpu)[ \t]+CPU\b"


def _cpu_build_on_gpu(doc: Doc) -> Iterator[Finding]:
    torch, plat, hw = doc.installed("torch"), doc.platform(), doc.ctx.hardware
    env_gpu = doc.find(r"GPU models and configuration: GPU 0: ([^\n]+)|Nvidia driver version: \d")
    false = cuda_false(doc)
    got = doc.find(r"Successfully installed [^\n]*?\btorch-(\d[^\s]*)|Downloading \S*?torch-(\d["
                   r"^-\s]*\+cpu)-")  # what an install just put in place
    torch = torch or (next(g for g in got.groups() if g) if got else None)
    cpu = bool(torch) and (_label(torch) == "cpu" or (not _label(torch) and plat == "win32"))
    gpu_seen = doc.find(r"nvidia-smi|CUDA Version: \d|GeForce|\bRTX ?\d|Quadro|Tesla|cuda:0|"
                        r"device=.cuda|\.cuda\(\)|is_available\(\)")
    # An unsuffixed pin next to the CUDA wheels of a find-links page (the old
    # torch_stable.html instructions): pip took PyPI's wheel, which is the CPU build there.
    links = doc.find(r"(?<!\S)(?:-f|--find-links)[= ]\S*pytorch\.org|Looking in links: \S*pytorch")
    built = doc.find(r"(?:built for:?\s*|^[ \t]*)PyTorch \S+\+cu\d+[^\n]*\(you have (\S+\+cpu)\)",
                     re.I | re.M) or (
        got if cpu and got and (gpu_seen or (links and not _label(torch))) else None)
    if built and built is not got:  # a CUDA extension next to a CPU torch
        torch = torch or built.group(1)
    cuda_lib = doc.find(  # torch's CUDA library absent: a CPU torch under CUDA code
        r"libtorch_cuda\.(?:so|dylib)\S*?:? cannot open shared object|"
        r"[/\\]torch[/\\]+lib[/\\]+torch_cuda\.dll[^\n]*(?:not find|WinError 126)")
    if cuda_lib and (_importer(doc, cuda_lib) or cpu or doc.find(r"\d\+cpu\b")):
        built = built or cuda_lib
    nvidia = doc.find(r"nvidia-smi|(?-i:NVIDIA (?:GeForce|RTX|driver))|\bRTX ?\d|Quadro|Tesla|"
                      r"\b[AHB]100\b")  # (collect_env's "Nvidia driver version: No CUDA" is not)
    stated = doc.find(r"\d\+cpu\b") if _label(torch) == "cpu" and nvidia else None
    if resync := _uv_run_resync(doc):
        sync = doc.find(r"\buv sync\b[^\n]*?--extra[= ](\S+)")
        extra = f" --extra {sync.group(1)}" if sync else ""
        yield Finding("cpu-build-on-gpu", "error", "`uv run` synced the project again to its "
                      f"default extras and replaced the CUDA torch that `uv sync{extra}` "
                      "installed with the default (CPU) one: run with the same extra, or with "
                      "--no-sync",
                      doc.line(resync), _cmd("uv", "run", *(("--extra", sync.group(1)) if sync
                                                   else ("--no-sync",)), "python"))
        return
    # torch.version.cuda shown None, or under its label on the next line (ROCm's is None too)
    labelled = None if doc.find(r"\+rocm|\bHIP version:? \d|torch\.version\.hip[}\"')\]]*(?:[^\n]"
                                r"{0,40}|[ \t]*\n[^\n]{0,60})\d") else doc.find(
        r"\btorch\.version\.cuda\)?[\s:=>-]*None\b|\btorch\.version\.cuda[}\"')\]]*[ \t]*\n"
        r"[^\n:]{0,60}:[ \t]*None\b")
    m = built or labelled or doc.find(
        r"not compiled with (?:CUDA|XPU|MPS) enabled|compiled without CUDA support|not linked "
        r"with support for (?:cuda|mps|xpu) devices|CPU version installed and (?:CUDA|ROCm) is "
        r"(?:available|selected)|ROCm GPU, but your current PyTorch build has no usable HIP|"
        r"vLLM is built with CPU|Invalid CUDA '?device=|"
        r"Attempting to deserialize object on a CUDA device but torch\.cuda\.is_available\(\) "
        r"is False") or stated or (
        false if cpu or doc.find(r"\d\+cpu\b") else None) or (
        doc.find(r"CUDA used to build PyTorch: (?:None|Could not collect)(?=[\s\S]*Is CUDA "
                 r"available: False)")
        if env_gpu else None)  # collect_env: a CPU build on a machine that shows a GPU (its
    # torch.version.cuda is None: "None" where no GPU field was found, else "Could not collect")
    if not m:
        return
    what = (f"torch {torch} is a CPU-only build" if torch else "this torch is a CPU-only build") + (
        " (PyPI's Windows wheel is the CPU build)" if cpu and not _label(torch) else "")
    if plat == "darwin" or (hw is not None and hw.accelerator in ("none", "apple")):
        yield Finding("cpu-build-on-gpu", "warning", f"{what}, and this machine has no CUDA GPU: "
                      "use device='cpu' (or 'mps' on Apple silicon; map_location='cpu' for "
                      "torch.load)", doc.line(m), "pipguard detect")
        return
    gpu = hw.gpus[0].name if hw and hw.gpus else env_gpu.group(1) if env_gpu else None
    yield Finding("cpu-build-on-gpu", "error", what + (f" on a machine with {gpu}" if gpu else "")
                  + ": reinstall the variant that matches the GPU and driver", doc.line(m),
                  _reinstall_torch(doc))


def _conda_cpu_variant(doc: Doc) -> Iterator[Finding]:
    """conda's solver settling on pytorch's CPU variant: a ``*_cpu_0`` build of pytorch, the
    ``pytorch-mutex`` that selects it, or the ``cpuonly`` package that pins it; before 2020,
    the defaults channel's ``_pytorch_select`` (no ``cpuonly`` there). Not a plan's line that
    replaces it (``-->``), nor where the user asked for the CPU."""
    own = r"^[ \t]*(?:\S+::)?{0}[- \t]+(?:\S+::{0}-)?"  # conda list; a plan's channel::name-version
    m = doc.find(own.format("pytorch") + r"\d[\d.]*[- \t]+py\d\.?\d+_cpu_\d|"
                 + own.format("pytorch-mutex") + r"[\d.]+[- \t]+cpu\b|" + own.format("cpuonly")
                 + r"\d", re.I | re.M)
    old = doc.find(own.format("_pytorch_select") + r"[\d.]+[- \t]+cpu_\d", re.I | re.M)
    asked = doc.find(r"\b(?:conda|mamba|micromamba) (?:install|create)\b[^\n]*\bcpuonly\b|"
                     r"updated specs:(?:\s*- \S+)*?\s*- cpuonly\b")  # the user chose the CPU
    if asked or doc.platform() == "darwin" or doc.find(r"not compiled with CUDA"):
        return
    # (warnings: a listing is weaker evidence than an error, which goes first)
    if m and "-->" not in doc.line(m):
        yield Finding("cpu-build-on-gpu", "warning", "conda chose pytorch's CPU variant: the "
                      "cpuonly package (installed once, or pulled in by another package) pins "
                      "pytorch-mutex to cpu; remove it and install the CUDA variant (the pytorch "
                      "channel stops at torch 2.5: later ones come from pip, or conda-forge's "
                      "pytorch-gpu)",
                      doc.line(m), "conda remove cpuonly && conda install pytorch pytorch-cuda "
                      "-c pytorch -c nvidia")
    elif old and "-->" not in doc.line(old) and not doc.find(
            r"\bpytorch[- \t]+\d[\d.]*[- \t]+py\S*cuda"):  # (a row of a reflowed paste too)
        yield Finding("cpu-build-on-gpu", "warning", "conda installed pytorch's CPU build "
                      "(_pytorch_select cpu_0 selects it: the defaults channel's selector, "
                      "before pytorch-mutex); install the CUDA build with the cudatoolkit the "
                      "driver supports", doc.line(old),
                      "conda install pytorch cudatoolkit -c pytorch")


# torch.xpu.is_available() shown False, not in code nor beside CUDA's True (a CUDA box's dump)
_XPU_FALSE = (r"\bxpu\.is_available\(\)[)\"'`]*[ \t]*(?:\n[ \t]*)?(?:(?:>>>|Out\[\d+\]:|->|[:=]"
              r"|is|returns?)[ \t]*){0,2}(?:\n[ \t]*)?False\b")
_XPU_CODE = r"^[ \t>.]*(?:if|elif|while|assert)\b|==|\bis False[ \t]*:|\bnot torch\.xpu"
_CUDA_TRUE = r"cuda\.is_available\(\)[)\"'`]*[ \t]*(?:[:=]|->|is|returns?)?[ \t]*\n?[ \t]*True\b"
# A program's own "no GPU".
_NO_GPU = (r"\bno (?:CUDA )?GPUs? (?:is )?(?:being used|found|detected|available)|\bGPU (?:is )?"
           r"not (?:found|detected|available)|\bCUDA (?:is )?(?:not available|unavailable)\b")


def _cuda_unavailable(doc: Doc) -> Iterator[Finding]:
    """``torch.cuda.is_available()`` shown False, where no rule read why (a CPU build's
    version, a driver's or a container's own messages; :data:`LAST_RESORT`): on a machine with
    an NVIDIA GPU the torch installed is most often a CPU-only build, the default of PyPI's
    Windows wheels and of the aarch64 wheels a Jetson gets from PyPI or download.pytorch.org
    (9 of the 10 training records that show it were that). On Windows, where PyPI's wheel is
    the CPU build, a program's own "no GPU" says the same (19 of the 21 Windows training
    records of the two categories are a CPU build)."""
    m = cuda_false(doc) or (doc.find(_NO_GPU) if doc.platform() == "win32" else None)
    if m and re.search(r"\bSKIPP?(?:ED)?\b|\bskipp(?:ed|ing)\b", doc.line(m)):
        m = None  # (a test suite skipping its GPU tests: the run's choice, not its failure)
    banner = None if m else doc.find(_CPU_BANNER)
    hw = doc.ctx.hardware
    if not (m or banner) and (xpu := doc.find(_XPU_FALSE)) and (
            hw is None or hw.accelerator == "intel") and not (
            re.search(_XPU_CODE, doc.line(xpu)) or doc.find(_CUDA_TRUE)):
        yield Finding("cpu-build-on-gpu", "warning", "torch finds no Intel GPU (torch.xpu."
                      "is_available() is False): most often the torch installed has no XPU "
                      "support (a CPU build: PyPI's Linux wheel is CUDA's, Intel's builds come "
                      "from PyTorch's xpu index), else Intel's GPU driver is missing; "
                      "`pipguard doctor` on that machine tells them apart", doc.line(xpu),
                      "pipguard doctor")
        return
    if not (m or banner) or doc.platform() == "darwin" or (hw is not None and
                                                            hw.accelerator != "nvidia"):
        return
    if banner:
        yield Finding("cpu-build-on-gpu", "warning", f"the program runs on the CPU with a "
                      f"CPU-only torch ({banner.group(1)}): on a machine with an NVIDIA GPU, "
                      "install torch's CUDA build for it (pipguard picks the variant for the "
                      "GPU and driver)", doc.line(banner),
                      "pipguard install --force-reinstall torch")
    elif m:
        yield Finding("cpu-build-on-gpu", "warning", "torch finds no CUDA GPU (torch.cuda."
                      "is_available() is False): on a machine with an NVIDIA GPU, most often "
                      "the torch installed is a CPU-only build (torch.version.cuda is None; "
                      "pip's Windows wheels and the aarch64 wheels a Jetson gets from PyPI "
                      "are); a missing NVIDIA driver or a container without the GPU are the "
                      "other causes, which `pipguard doctor` on that machine tells apart",
                      doc.line(m), "pipguard doctor")


def _uv_run_resync(doc: Doc) -> re.Match[str] | None:
    """``uv run`` syncing the project again, to its default extras, after a ``uv sync
    --extra <cuda>`` installed a CUDA torch: it uninstalls that torch for the default one."""
    cuda = doc.find(r"^[ \t]*\+ torch==\S+\+cu\d+", re.M)
    run = doc.find(r"\buv run\b[^\n]*\n(?:[^\n]*\n){0,3}?\s*Uninstalled \d+ packages?")
    return run if cuda and run and cuda.start() < run.start() else None


RULES: tuple[Rule, ...] = (_driver_too_old, _gpu_arch_unsupported, _cpu_build_on_gpu,
                          _conda_cpu_variant)
# Read only where no rule has a finding (the framework's last resort, before the hints).
LAST_RESORT: tuple[Rule, ...] = (_cuda_unavailable,)
