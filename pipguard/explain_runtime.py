"""``explain`` rules for failures at import time and run time of an installed torch.

Driver too old, GPU architecture unsupported, CPU build on a GPU machine, CUDA libraries,
companion mismatch, corrupt install (NumPy ABI and torch's Python dependencies are in
:mod:`pipguard.explain_pydeps`). The framework (:mod:`pipguard.explain`) orders and merges them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from packaging.utils import canonicalize_name

from pipguard.explain_doc import Doc, Rule, _cmd, _cuda_of, _label, _pin, _public, _v
from pipguard.findings import Finding

_CUDA_LIB = (r"cudnn\w*|cublas\w*|cusparse\w*|cufft\w*|curand|cusolver\w*|nvjitlink|nvrtc\w*|"
             r"nccl|cudart|cupti|nvtoolsext|cufile|nvshmem")
# torch's own shared libraries (torch/lib/*, torch/_C*).
_OWN_LIB = r"(?:libtorch\w*|libc10\w*|libshm|c10\w*|torch_\w+|_C[\w.-]*|fbgemm|asmjit|shm)"
# A C++ symbol of torch's namespaces (c10::, at::, torch::): code built for another torch.
_TORCH_SYMBOL = r"_ZN\w*?(?:3c10|2at|5torch)|^torch_\w+"
# When the tables can't answer: the variant that keeps sm_50..sm_70 (pytorch_facts.md §5).
_LEGACY_VARIANT = "cu126"


def _reinstall_torch(doc: Doc, *extra: str, exact: bool = False, upto: str | None = None) -> str:
    """``pipguard install --force-reinstall torch==V [companions]``: re-plans the variant."""
    torch = doc.installed("torch")
    version = torch if exact else (_public(torch) if torch else None)
    have, limit = _v(version or ""), _v(upto or "")
    spec = f"torch<={upto}" if limit and not (have and have <= limit) else None
    return _cmd("pipguard", "install", "--force-reinstall", *extra, spec or _pin("torch", version),
                *(c for c in doc.facts.companion_names() if c in doc.ctx.installed))


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
    m = doc.find(r"driver on your system is too old \(found version (?P<code>\d+)\)|CUDA driver "
                 r"version is insufficient for CUDA runtime|cudaErrorInsufficientDriver|NVIDIA "
                 r"driver[^\n]{0,40}? too old(?! \(found)|forward compatibility was attempted on "
                 r"non supported HW|unsupported display driver / cuda driver combination|"
                 r"(?P<none>Found no NVIDIA driver|libcuda\.so\.1: cannot open)")
    hw, torch = doc.ctx.hardware, doc.installed("torch")
    os_name = "win32" if doc.platform() == "win32" else "linux"
    env = None if m else _collect_env_driver(doc, os_name)
    if not (m := m or (env[0] if env else None)):
        return
    if m.groupdict().get("none"):
        if hw is not None and hw.accelerator != "nvidia":
            yield Finding("gpu-build-without-gpu", "warning", "this machine has no NVIDIA GPU, so "
                          "a CUDA build of torch cannot use one: install the CPU build",
                          doc.line(m), _reinstall_torch(doc, "--torch-backend", "cpu"))
        elif hw is None and "Found no NVIDIA driver" in m.group(0):  # said of GPU-less
            yield Finding("gpu-build-without-gpu", "error", "CUDA code ran, but no NVIDIA driver "
                          "answers: on a machine without an NVIDIA GPU run on the CPU (device "
                          "'cpu'; the CPU build is the right one and much smaller); with an "
                          "NVIDIA GPU, install its driver (in a container: --gpus all); "
                          "pipguard detects which and installs the build that fits",
                          doc.line(m), _reinstall_torch(doc))
        else:
            yield Finding("driver-too-old", "error", "no NVIDIA driver is visible to this process "
                          "(none installed, or a container started without --gpus all)",
                          doc.line(m), "pipguard detect")
        return
    code = int(m["code"]) if m.groupdict().get("code") else None
    have = (f"{code // 1000}.{code % 1000 // 10}" if code else env[1] if env
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


def _cc(text: str) -> tuple[int, int]:
    """``"120"``, ``"sm_86"``, ``"3.7"`` -> ``(12, 0)``, ``(8, 6)``, ``(3, 7)``."""
    digits = re.sub(r"\D", "", text)
    return int(digits[:-1] or 0), int(digits[-1])


def _gpu_arch_unsupported(doc: Doc) -> Iterator[Finding]:
    new = doc.near("with CUDA capability sm_", r"([^\n]{0,200}?) with CUDA capability sm_(\d+)"
                   r"\w* is not compatible with the current PyTorch installation(?:.*?supports "
                   r"CUDA capabilities ((?:(?:sm|compute)_\d+\w* ?)+))?", after=2)
    old = doc.find(r"Found GPU\d+ ([^\n]+?) which is of cuda capability (\d+\.\d+)")
    any_ = doc.find(r"no kernel image is available|cudaErrorNoKernelImageForDevice|invalid device "
                    r"function|hipErrorNoBinaryForGpu|which requires CUDA_VERSION >= (\d+)|for GPU "
                    r"arch ?: (gfx\w+)|current PyTorch install(?:ation)? supports CUDA "
                    r"capabilities")
    if not (m := new or old or any_):
        return
    hw, cc, gpu = doc.ctx.hardware, None, "this GPU"
    have = [_cc(s) for s in (new.group(3) or "").split() if "sm_" in s] if new else []
    if hit := new or old:
        gpu, cc = re.sub(r"^.*Warning:\s*", "", hit.group(1)).strip() or gpu, _cc(hit.group(2))
    elif hw and (ccs := [(g.name, c) for g in hw.gpus if (c := g.nvidia_cc())]):
        gpu, cc = ccs[0]
    if cc is None:
        cuda, gfx = (any_.group(1), any_.group(2)) if any_ else (None, None)
        yield Finding("gpu-arch-unsupported", "error", "the installed build (or a compiled "
                      "extension) has no kernels for this GPU's architecture" + (
                      f"; the GPU needs a build for CUDA >= {int(cuda) // 1000}."
                      f"{int(cuda) % 1000 // 10}" if cuda else f"; the ROCm build has no {gfx} "
                      "kernels (HSA_OVERRIDE_GFX_VERSION can map a consumer GPU to a supported "
                      "target)" if gfx else ""), doc.line(m), _reinstall_torch(doc))
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


def _cpu_build_on_gpu(doc: Doc) -> Iterator[Finding]:
    torch, plat, hw = doc.installed("torch"), doc.platform(), doc.ctx.hardware
    env_gpu = doc.find(r"GPU models and configuration: GPU 0: ([^\n]+)|Nvidia driver version: \d")
    false = doc.find(r"is_available\(\)[^\n]*\n?[^\n]*\bFalse\b")
    got = doc.find(r"Successfully installed [^\n]*?\btorch-(\d[^\s]*)|Downloading \S*?torch-(\d["
                   r"^-\s]*\+cpu)-")  # what an install just put in place
    torch = torch or (next(g for g in got.groups() if g) if got else None)
    cpu = bool(torch) and (_label(torch) == "cpu" or (not _label(torch) and plat == "win32"))
    gpu_seen = doc.find(r"nvidia-smi|CUDA Version: \d|GeForce|\bRTX ?\d|Quadro|Tesla|cuda:0|"
                        r"device=.cuda|\.cuda\(\)|is_available\(\)")
    built = doc.find(r"built for:?\s*PyTorch \S+\+cu\d+[^\n]*\(you have (\S+\+cpu)\)") or (
        got if cpu and got and gpu_seen else None)
    if built and built is not got:  # a CUDA extension next to a CPU torch
        torch = torch or built.group(1)
    cuda_lib = doc.find(  # torch's CUDA library absent: a CPU torch under CUDA code
        r"libtorch_cuda\.(?:so|dylib)\S*: cannot open shared object|"
        r"[/\\]torch[/\\]+lib[/\\]+torch_cuda\.dll[^\n]*(?:not find|WinError 126)")
    if cuda_lib and (_importer(doc, cuda_lib) or cpu or doc.find(r"\d\+cpu\b")):
        built = built or cuda_lib
    m = built or doc.find(r"not compiled with CUDA enabled|torch\.version\.cuda\)?[\s:=>-]*"
                          r"None") or (
        false if cpu or doc.find(r"\d\+cpu\b") else None) or (
        doc.find(r"CUDA used to build PyTorch: None(?=[\s\S]*Is CUDA available: False)")
        if env_gpu else None)  # collect_env: a CPU build on a machine that shows a GPU
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


def _undefined_symbol(doc: Doc) -> re.Match[str] | None:
    """``lib: undefined symbol: sym`` (Linux) or ``dlopen(lib) ... Symbol not found: _sym``
    (macOS, whose C symbols carry one more leading underscore; ``lib`` may be empty)."""
    return doc.near("undefined symbol: ", r"(?P<lib>[^\s'\"]+?\.(?:so|pyd|dylib)[\d.]*): "
                    r"undefined symbol: (?P<sym>\S+)") or doc.near(
        "Symbol not found: ", r"(?:dlopen\()?(?P<lib>[^\s,'\"()]+?\.(?:so|dylib)|)[^\n]*?Symbol "
        r"not found: _?(?P<sym>\S+)")


def _importer(doc: Doc, m: re.Match[str]) -> str | None:
    """The package whose code was loading when ``m`` failed (its last frame, torch's
    ``_ops.py`` skipped: it loads a companion's library; with no frames, the ``import`` line
    that ran); ``None`` when it is torch itself."""
    before = doc.text[: m.start()]
    frames = re.findall(r"(?:site|dist)-packages[/\\]+([A-Za-z]\w*)([/\\]+_ops\.py)?", before)
    stated = re.findall(r"^\s*(?:from|import) ([A-Za-z]\w*)", before, re.M)
    last = next((p for p, ops in reversed(frames) if not ops), None) if frames else (
        stated[-1] if stated else None)
    return None if last in (None, "torch") else last


def _torch_lib_failure(doc: Doc) -> re.Match[str] | None:
    """One of torch's own libraries failing to load (missing, or from another build)."""
    return doc.find(rf"(?:[/\\]torch[/\\]+(?:lib[/\\]+)?|(?<![/\\\w])){_OWN_LIB}\.(?:so|dll|dylib|"
                    rf"pyd)[\w.]*[^\n]*?(?:cannot open|No such file)|WinError 12[67][^\n]*?[/\\]"
                    rf"torch[/\\]+lib[/\\]+{_OWN_LIB}\.dll|DLL load failed while importing _C\b"
                    rf"|WinError 127[^\n]*?[/\\]torch[/\\]+lib[/\\]+\w+\.dll")


def _cuda_libraries(doc: Doc) -> Iterator[Finding]:
    lib = rf"(?:lib(?:{_CUDA_LIB})[\w.-]*\.so[\d.]*|(?:{_CUDA_LIB})\w*64_\w+\.dll|zlibwapi\.dll)"
    m = doc.find(rf"{lib}: cannot open shared object|(?:Could not load (?:dynamic )?library|Could "
                 rf"not locate|"
                 rf"Unable to load any of|Error loading)[^\n]*?{lib}|cuDNN version "
                 rf"incompatibility[^\n]*")
    m = m or doc.find(rf"lib(?:{_CUDA_LIB})\S* not found in the system path")
    # Windows: torch's DLLs failing "or one of its dependencies": the VC++ runtime (c10.dll,
    # the first one loaded, needs it), CUDA DLLs or libomp.
    if win := doc.find(r"WinError 1114[^\n]*|WinError 126\][^\n]*?Error loading \"[^\"]*[/\\]"
                       r"torch[/\\]+lib[/\\]+\w+\.dll\"[^\n]*|DLL load failed: [^\n]*|"
                       r"Could not find module '[^'\n]*[/\\]torch[/\\]+lib[/\\]+\w+"
                       r"\.dll' \(or one of its dependencies\)"):
        yield Finding("cuda-libraries", "error",
                      "a DLL that torch's own libraries depend on is missing or fails to "
                      "initialise: the Microsoft Visual C++ Redistributable (and, for fbgemm.dll "
                      "in torch 2.4.0, libomp140.x86_64.dll), or the CUDA DLLs of a GPU build; "
                      "install the current VC++ Redistributable, then reinstall torch",
                      doc.line(win), "winget install Microsoft.VCRedist.2015+.x64 && "
                      + _reinstall_torch(doc))
        return
    und = _undefined_symbol(doc)
    if und and re.search(rf"^(?:__)?(?:{_CUDA_LIB})|[/\\]nvidia[/\\]", und["sym"] + " "
                         + und["lib"], re.I) and not re.search(_TORCH_SYMBOL, und["sym"]):
        m = und
    if not m or doc.find(r"WinError 1455|paging file is too small"):  # memory, not a library
        return
    shadow = doc.find(r"/usr/local/cuda[^\s:'\"]*|/usr/lib/x86_64-linux-gnu/lib(?:cu|nv)\w*|"
                      r"LD_LIBRARY_PATH")
    sub = re.search(r"nvjitlink|cudnn|cublas|cusparse|nccl|cufft|curand|cusolver|nvrtc|cupti",
                    m.group("sym") if m is und else m.group(0), re.I)
    lib_dir = (sub.group(0).lower() if sub else "nvjitlink").replace("nvrtc", "cuda_nvrtc")
    if m is und or shadow or "incompatibility" in m.group(0):
        yield Finding("cuda-libraries", "error",
                      "a CUDA library from outside the torch wheel (a system CUDA or cuDNN on "
                      "LD_LIBRARY_PATH or the linker path) shadows the newer copy the nvidia-* "
                      f"wheels ship (nvidia/{lib_dir}), so symbols torch needs are missing: put "
                      "the wheel's lib dir first, or drop the system CUDA dir from LD_LIBRARY_PATH",
                      doc.line(m) + (f"\n{shadow.group(0)}" if shadow and shadow.group(0) not in
                                     doc.line(m) else ""),
                      "export LD_LIBRARY_PATH=\"$(python -c \"import site; print(site."
                      f"getsitepackages()[0] + '/nvidia/{lib_dir}/lib')\"):$LD_LIBRARY_PATH\"")
    elif user := _importer(doc, m):
        yield Finding("cuda-libraries", "error",
                      f"{user} was built for a CUDA runtime that is not installed here (not the "
                      "one torch's wheel brings): install its build for this torch's CUDA",
                      doc.line(m), _cmd("pipguard", "install", "--force-reinstall", "--no-deps",
                                        str(canonicalize_name(user))))
    else:
        yield Finding("cuda-libraries", "error",
                      "a CUDA library torch loads is missing: the nvidia-* packages the torch "
                      "wheel pins are absent or incomplete (installed with --no-deps, removed), "
                      "or, on Windows, a DLL they need (VC++ runtime, zlibwapi) is missing",
                      doc.line(m), _reinstall_torch(doc, exact=True))


def _ext_package(path: str) -> str:
    """``.../site-packages/flash_attn_2_cuda.cpython-310-...so`` -> ``flash-attn``."""
    m = re.search(r"(?:site|dist)-packages[/\\]+([A-Za-z]\w*)", path)
    return str(canonicalize_name(re.sub(r"(?:_\d+)?_(?:cuda|C|ext)$", "", m.group(1))
                                 if m else "torchvision"))


def _companion_mismatch(doc: Doc) -> Iterator[Finding]:
    companions = doc.facts.companion_names()  # in paths and op names as written: fbgemm_gpu
    names = "|".join(re.escape(c).replace(r"\-", "[-_]") for c in companions)
    m = doc.find(rf"operator ({names})::\w+ does not exist|No such operator ({names})::|"
                 rf"Couldn't load custom C\+\+ ops|"
                 rf"PyTorch and ({names}) were compiled with different CUDA|[/\\]({names})[/\\]"
                 rf"\S*\.(?:so|pyd|dll)[^\n]*?(?:Could not load|cannot open)|Could not load this "
                 rf"library: \S*?({names})|(xFormers) was built for|(torchvision)\S* was compiled "
                 rf"with a different|partially initialized module '({names})' has no attribute "
                 rf"'extension'|[/\\]({names})[/\\]_meta_registrations\.py(?=[\s\S]{{0,600}}?"
                 rf"[/\\]torch[/\\]_?library)")
    if old := doc.find(r"libtorch_cuda_(?:cu|cpp)\.(?:so|dll)[^\n]*(?:cannot open|No such file|"
                       r"not found)"):  # torch 1.10-1.13's split libraries, gone in 2.x
        user = _importer(doc, old)
        yield Finding("companion-mismatch", "error",
                      f"{user or 'a compiled extension'} was built against torch 1.x (1.10–1.13 "
                      "split libtorch_cuda into libtorch_cuda_cu/_cpp; 2.x ships one "
                      "libtorch_cuda): rebuild it for the installed torch, or install the torch "
                      "release it was built for", doc.line(old),
                      _cmd("pipguard", "install", "--force-reinstall", "--no-deps", user) if user
                      else _cmd("pipguard", "install", "torch<2"))
        return
    und, lib = _undefined_symbol(doc), _torch_lib_failure(doc)
    if und and re.search(_TORCH_SYMBOL, und["sym"]) and not re.search(r"[/\\]torch[/\\]",
                                                                       und["lib"]):
        m, pkg = m or und, _ext_package(und["lib"])
    elif not m and lib and (user := _importer(doc, lib)):
        m, pkg = lib, str(canonicalize_name(user))
    elif m:
        pkg = str(canonicalize_name(next((g for g in m.groups() if g), "torchvision")))
    else:
        return
    torch, mine = doc.installed("torch"), doc.installed(pkg)
    cuda = doc.find(r"PyTorch has CUDA [Vv]ersion[= ]?(\d[\d.]*?)\.? (?:and|whereas) \w+ has CUDA "
                    r"[Vv]ersion[= ]?(\d[\d.]*\d)")
    partner = doc.companion_for(torch, pkg) if torch else None
    why = (f" (torch {torch}, {pkg} {mine})" if torch and mine else "") + (
        f" (CUDA {cuda.group(1)} vs {cuda.group(2)})" if cuda else "") + (
        f" (variants differ: {_label(torch) or 'PyPI'} vs {_label(mine) or 'PyPI'})"
        if torch and mine and _label(torch) != _label(mine) else "")
    yield Finding("companion-mismatch", "error",
                  f"{pkg}'s compiled code was built against a different torch release or variant "
                  f"(CPU/CUDA) than the installed torch{why}, so it fails to load; install the "
                  "pair from the same index" + (f" (torch {_public(torch)} pairs with {pkg} "
                  f"{partner})" if partner and torch else ""), doc.line(m),
                  _cmd("pipguard", "install", "--force-reinstall", _pin("torch", torch and
                       _public(torch)), _pin(pkg, partner)) if pkg in companions else
                  _cmd("pipguard", "install", "--force-reinstall", "--no-deps", pkg))


def _corrupt_install(doc: Doc) -> Iterator[Finding]:
    und, lib = _undefined_symbol(doc), _torch_lib_failure(doc)
    m = doc.find(r"No such file or directory: '[^']*site-packages[/\\]+(?:torch[/\\]|[\w.]+-[\d.]"
                 r"[^'/\\]*\.dist-info)|No module named 'torch\._C'|no RECORD file|from 'torch' "
                 r"\(unknown location\)|"
                 r"(?-i:RECORD)[^\n]*(?:mismatch|missing)|distutils installed project|"
                 r"Ignoring invalid distribution ~?-?(\w+)|WinError 5\][^\n]*\n?[^\n]*?site-"
                 r"packages[/\\]+(?:~|torch[/\\])")
    if not m and lib and not _importer(doc, lib):
        m = lib
    if not m and und and re.search(rf"[/\\]torch[/\\]+(?:lib[/\\]+\w|{_OWN_LIB}\.)", und["lib"]) \
            and not re.search(rf"^(?:__)?(?:{_CUDA_LIB})", und["sym"], re.I):
        m = und
    if not m:
        return
    if m not in (und, lib) and m.group(1):
        leftovers = re.finditer(r"invalid distribution ~?-?(\w+)", doc.text)
        family = doc.facts.family()  # pip prints ~orch (torch's leftover) as -orch
        m = next((x for x in leftovers if any(f[1:] == x.group(1) for f in family)), m)
        where = doc.find(rf"invalid distribution ~?-?{m.group(1)} \(([^)]+)\)")
        site = where.group(1) if where else "<site-packages>"
        yield Finding("corrupt-install", "warning",
                      f"an interrupted install or uninstall left a half-renamed '~{m.group(1)}' "
                      "directory in site-packages; pip ignores it, but the package next to it may "
                      "be broken: delete it, then pipguard verify", doc.line(m),
                      f'rmdir /s /q "{site}\\~{m.group(1)}"' if "\\" in site
                      else f"rm -rf '{site}'/~{m.group(1)}*")
        return
    dist = doc.find(r"Cannot uninstall '?([\w.-]+)'?(?: (\d[\w.+]*))?|site-packages[/\\]+([\w.]+)-"
                    r"(\d[^'/\\-]*)\.dist-info")
    name, version = ((dist.group(1) or dist.group(3)), (dist.group(2) or dist.group(4))) if dist \
        else ("torch", doc.installed("torch"))
    if "WinError 5]" in m.group(0):
        yield Finding("corrupt-install", "error",
                      f"a file of {name} was in use (a running Python holds its DLLs; Windows "
                      "cannot replace them), so pip stopped halfway through uninstalling it: "
                      "close every Python process, delete any ~-prefixed folder it left in "
                      "site-packages, and reinstall", doc.line(m),
                      _cmd("pipguard", "install", "--force-reinstall", _pin(name, version)))
        return
    if re.search(r"RECORD file|distutils", m.group(0)):  # pip can't uninstall what it can't list
        yield Finding("corrupt-install", "error",
                      f"{name} has no usable install record (RECORD), so pip cannot uninstall or "
                      "upgrade it: install over it without uninstalling", doc.line(m),
                      _cmd("pipguard", "install", "--ignore-installed", _pin(name, version)))
        return
    yield Finding("corrupt-install", "error",
                  f"{name}'s own files are missing or from different versions (an interrupted or "
                  "overlapping install, two copies on sys.path, antivirus or disk trouble; on "
                  "Windows also a missing VC++ runtime): reinstall it over itself, then run "
                  f"pipguard verify {name}", doc.line(m),
                  _cmd("pipguard", "install", "--force-reinstall", _pin(name, version))
                  if dist else _reinstall_torch(doc, exact=True))


# In the framework's order (see pipguard.explain.RULES): causes before their symptoms.
RULES: tuple[Rule, ...] = (
    _driver_too_old, _gpu_arch_unsupported, _cpu_build_on_gpu, _cuda_libraries,
    _companion_mismatch, _corrupt_install,
)
