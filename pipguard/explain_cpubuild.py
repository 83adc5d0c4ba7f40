"""``explain`` rules for a CPU-only torch where a GPU build was meant (cpu-build-on-gpu).

A ``+cpu`` build next to a GPU (PyPI's Windows wheels, the aarch64 wheels a Jetson gets, a
find-links page's unsuffixed pin, conda's CPU variant), a CUDA extension beside a CPU torch,
and, as the framework's last resort (:data:`LAST_RESORT`), ``torch.cuda.is_available()``
False where no rule read why. The driver and the GPU's architecture are
:mod:`pipguard.explain_gpu`'s; the framework (:mod:`pipguard.explain`) runs these after those.
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
    _reinstall_torch,
    _v,
    cuda_false,
)
from pipguard.explain_phrases import ANSWERED, DRIVER_SHOWN
from pipguard.findings import Finding

# A framework's device banner naming a CPU-only torch on the CPU (Ultralytics', YOLOv5's;
# ComfyUI's startup lines, its device a few lines on).
_CPU_BANNER = r"\btorch[- ](\d[\w.]*\+cpu)[ \t]+CPU\b"
_COMFY_BANNER = r"\bpytorch version: (\d[\w.]*\+cpu)\b"  # (its device named a few lines on)


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
    m = doc.find(own.format("pytorch") + r"\d[\d.]*[- \t]+(?:py\d\.?\d+_cpu_\d|cpu_(?:generic|mkl)_"
                 r"py\d)|" + own.format("pytorch-mutex") + r"[\d.]+[- \t]+cpu\b|"
                 + own.format("cpuonly") + r"\d", re.I | re.M)
    # a plan replacing a CUDA pytorch with a CPU one (conda-forge's cpu_generic/cpu_mkl builds)
    swap = next((line for line in re.finditer(r"^[^\n]*-->[^\n]*$", doc.text, re.M) if re.search(
        r"\bpytorch-\d[\w.]*-[^\s>]{0,80}cuda", line[0].split("-->")[0]) and re.search(
        r"\bpytorch-\d[\w.]*-[^\s>]{0,20}cpu", line[0].split("-->", 1)[1])), None)
    old = doc.find(own.format("_pytorch_select") + r"[\d.]+[- \t]+cpu_\d", re.I | re.M)
    asked = doc.find(r"\b(?:conda|mamba|micromamba) (?:install|create)\b[^\n]*\b(?:cpuonly|"
                     r"pytorch-cpu)\b|updated specs:(?:\s*- \S+)*?\s*- (?:cpuonly|pytorch-cpu)\b"
                     )  # the user chose the CPU
    if asked or doc.platform() == "darwin" or doc.find(r"not compiled with CUDA"):
        return
    # (warnings: a listing is weaker evidence than an error, which goes first)
    if swap:
        yield Finding("cpu-build-on-gpu", "warning", "conda's plan replaces the CUDA build of "
                      "pytorch with a CPU one (a channel of higher priority, conda-forge, has no "
                      "CUDA build that fits the rest of the plan): keep the CUDA build, pinned to "
                      "its channel and build", doc.line(swap),
                      "conda install pytorch=*=*cuda* -c pytorch -c nvidia")
    elif m and "-->" not in doc.line(m) and re.search(r"cpu_(?:generic|mkl)_py", m[0]):
        yield Finding("cpu-build-on-gpu", "warning", "conda installed conda-forge's CPU build of "
                      "pytorch (its cpu_generic or cpu_mkl build): install its CUDA build, "
                      "pytorch-gpu, where the machine has an NVIDIA GPU", doc.line(m),
                      "conda install -c conda-forge pytorch-gpu")
    elif m and "-->" not in doc.line(m):
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
           r"not (?:found|detected|available)|\bCUDA (?:is )?(?:not available|unavailable)\b|"
           r"FP16 is not supported on CPU; using FP32 instead")  # (whisper, on the CPU it chose)


def _cuda_unavailable(doc: Doc) -> Iterator[Finding]:
    """``torch.cuda.is_available()`` shown False, where no rule read why (a CPU build's
    version, a driver's or a container's own messages; :data:`LAST_RESORT`): on a machine with
    an NVIDIA GPU the torch installed is most often a CPU-only build, the default of PyPI's
    Windows wheels and of the aarch64 wheels a Jetson gets from PyPI or download.pytorch.org
    (9 of the 10 training records that show it were that). On Windows, where PyPI's wheel is
    the CPU build, a program's own "no GPU" says the same (19 of the 21 Windows training
    records of the two categories are a CPU build)."""
    asked_cpu = doc.find(r"--device[= ]cpu\b|\bdevice ?= ?[\"']cpu[\"']|(?<![\w-])--cpu\b")
    m = cuda_false(doc) or (doc.find(_NO_GPU) if doc.platform() == "win32" and not asked_cpu
                            else None)  # (not a run asking for it)
    if m and re.search(r"\bSKIPP?(?:ED)?\b|\bskipp(?:ed|ing)\b", doc.line(m)):
        m = None  # (a test suite skipping its GPU tests: the run's choice, not its failure)
    banner = None if m or asked_cpu else doc.find(_CPU_BANNER) or _comfy_banner(doc)
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
    built = _cuda_build_shown(doc) if m else None
    # the driver: the hardware's, else as collect_env or nvidia-smi's header shows it
    shown = doc.find(DRIVER_SHOWN)
    driver = _v(hw.driver_version) if hw and hw.driver_version else (
        _v(shown[1] or shown[2]) if shown else None)
    # (the driver's floor for that CUDA, as the tables give it: the one answer explain_gpu asks)
    floor = doc.facts.compat_floor(int(built.split(".")[0]), "win32" if doc.platform() == "win32"
                                   else "linux") if built and driver else None
    if banner:
        yield Finding("cpu-build-on-gpu", "warning", f"the program runs on the CPU with a "
                      f"CPU-only torch ({banner[1]}): on a machine with an NVIDIA "
                      "GPU, install torch's CUDA build for it (pipguard picks the variant for the "
                      "GPU and driver)", doc.line(banner),
                      "pipguard install --force-reinstall torch")
    elif m and floor and driver and driver < floor:
        yield Finding("driver-too-old", "warning", f"this torch is a CUDA {built} build, which "
                      f"needs NVIDIA driver {floor} or newer, and the driver here is {driver}: "
                      "update the driver, or install the build for the CUDA it supports",
                      doc.line(m), "pipguard install --force-reinstall torch")
    elif m and (built or doc.find(_NO_DRIVER_SEEN, re.M) or _container_without_gpu(doc, m)) \
            and _label(doc.installed("torch") or "") != "cpu":
        yield Finding("gpu-build-without-gpu", "warning", (
            f"this torch is a CUDA {built} build, yet it" if built else "torch") + " finds no "
                      "CUDA GPU (torch.cuda.is_available() is False) " + (
                          f"though driver {driver} is installed: the process does not see it (a "
                          "container without --gpus all, CUDA_VISIBLE_DEVICES hiding every "
                      "device, a driver that failed to load)" if driver else "and no driver "
                      "answers this process (none installed or loaded, a container without "
                      "--gpus all, CUDA_VISIBLE_DEVICES hiding every device)") + "; `pipguard "
                      "doctor` on that machine tells which", doc.line(m), "pipguard doctor")
    elif m:
        yield Finding("cpu-build-on-gpu", "warning", "torch finds no CUDA GPU (torch.cuda."
                      "is_available() is False): on a machine with an NVIDIA GPU, most often "
                      "the torch installed is a CPU-only build (torch.version.cuda is None; "
                      "pip's Windows wheels and the aarch64 wheels a Jetson gets from PyPI "
                      "are); a missing NVIDIA driver or a container without the GPU are the "
                      "other causes, which `pipguard doctor` on that machine tells apart",
                      doc.line(m), "pipguard doctor")


# nvidia-smi absent (no driver installed: Linux's and Windows' shells), seeing no GPU, a
# container's banner finding no driver, or a container run without a GPU: beside CUDA's own
# False, a GPU build with no GPU.
# (Alone they prove nothing: WSL keeps nvidia-smi off the PATH, NGC prints its banner at every
# start.)
_NO_DRIVER_SEEN = (r"nvidia-smi: (?:command )?not found|'nvidia-smi' is not recognized|^No "
                   r"devices were found[ \t]*$|The NVIDIA Driver was not detected\.|"
                   # every device hidden from the process
                   r"\bCUDA_VISIBLE_DEVICES(?:['\"]\])?[ \t]*[=:][ \t]*(?:['\"]?(?:-1|NoDevFiles)"
                   r"\b|''|\"\")|echo \$\{?CUDA_VISIBLE_DEVICES\}?[ \t]*\n[ \t]*-1\b")


def _comfy_banner(doc: Doc) -> re.Match[str] | None:
    """ComfyUI's startup lines: a CPU-only torch's version, then its device, cpu."""
    m = doc.find(_COMFY_BANNER)
    return m if m and re.search(r"\bDevice: cpu\b", doc.text[m.end(): m.end() + 600]) else None


def _container_without_gpu(doc: Doc, false: re.Match[str]) -> bool:
    """The last container run before CUDA's False (its continued lines joined) asked for no
    GPU: no --gpus, nvidia runtime, CDI device or NVIDIA_VISIBLE_DEVICES, not nvidia-docker."""
    runs = list(re.finditer(r"\b(?:nvidia-)?(?:docker|podman) run\b(?:[^\n]*\\\n)*[^\n]*",
                            doc.text[: false.start()]))
    return bool(runs) and not re.search(r"nvidia-docker|--gpus|--runtime[= ]?nvidia|nvidia\.com/"
                                        r"gpu|--device[= ]\S*nvidia|NVIDIA_VISIBLE_DEVICES",
                                        runs[-1][0])


def _cuda_build_shown(doc: Doc) -> str | None:
    """The CUDA version of the installed torch where the text shows it is a CUDA build:
    ``torch.version.cuda`` answered with one (or collect_env's "CUDA used to build PyTorch"),
    or the installed torch's +cuXYZ."""
    said = doc.find(rf"\bversion\.cuda{ANSWERED}(\d+\.\d+)|CUDA used to build PyTorch: (\d+\.\d+)")
    return (said[1] or said[2]) if said else _cuda_of(_label(doc.installed("torch")))


def _uv_run_resync(doc: Doc) -> re.Match[str] | None:
    """``uv run`` syncing the project again, to its default extras, after a ``uv sync
    --extra <cuda>`` installed a CUDA torch: it uninstalls that torch for the default one."""
    cuda = doc.find(r"^[ \t]*\+ torch==\S+\+cu\d+", re.M)
    run = doc.find(r"\buv run\b[^\n]*\n(?:[^\n]*\n){0,3}?\s*Uninstalled \d+ packages?")
    return run if cuda and run and cuda.start() < run.start() else None


RULES: tuple[Rule, ...] = (_cpu_build_on_gpu, _conda_cpu_variant)
# Read only where no rule has a finding (the framework's last resort, before the hints).
LAST_RESORT: tuple[Rule, ...] = (_cuda_unavailable,)
