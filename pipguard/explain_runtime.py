"""``explain`` rules for torch's compiled code failing to load or link.

CUDA libraries missing or shadowed, a companion built for another torch, torch's own
files damaged (the build against the machine is :mod:`pipguard.explain_gpu`; NumPy's ABI
and torch's Python dependencies are :mod:`pipguard.explain_pydeps`). The framework
(:mod:`pipguard.explain`) orders and merges them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from packaging.utils import canonicalize_name

from pipguard.explain_doc import (
    PAGE_FILE,
    Doc,
    Rule,
    _cmd,
    _importer,
    _label,
    _pin,
    _public,
    _reinstall_torch,
)
from pipguard.findings import Finding

_CUDA_LIB = (r"cudnn\w*|cublas\w*|cusparse\w*|cufft\w*|curand|cusolver\w*|nvjitlink|nvrtc\w*|"
             r"nccl|cudart|cupti|nvtoolsext|cufile|nvshmem|cudss|cutensor\w*|nvjpeg|npp\w*")
# torch's own shared libraries (torch/lib/*, torch/_C*).
_OWN_LIB = r"(?:libtorch\w*|libc10\w*|libshm|c10\w*|torch_\w+|_C[\w.-]*|fbgemm|asmjit|shm)"
# A C++ symbol of torch's namespaces (c10::, at::, torch::): code built for another torch.
_TORCH_SYMBOL = r"_ZN\w*?(?:3c10|2at|5torch)|^torch_\w+|^(?:c10|at|torch)::"  # (or demangled)


def _undefined_symbol(doc: Doc) -> re.Match[str] | None:
    """``lib: undefined symbol: sym`` (Linux) or ``dlopen(lib) ... Symbol not found: _sym``
    (macOS, whose C symbols carry one more leading underscore); ``lib`` may be empty (a
    paste of the last line only), and the colon too where a symbol's name follows (a user's
    retelling: ``undefined symbol ncclCommRegister``)."""
    return doc.near("undefined symbol", r"(?:(?P<lib>[^\s'\"]+?\.(?:so|pyd|dylib)[\d.]*):\s*)?"
                    r"undefined symbol(?::\s*|\s+(?=_Z\w|[a-z]\w*[A-Z_]))(?P<sym>\S+)", after=1,
                    before=1) or doc.near(
        "Symbol not found:? ", r"(?:dlopen\()?(?P<lib>[^\s,'\"()]+?\.(?:so|dylib)|)[^\n]*?Symbol "
        r"not found:? _?(?P<sym>\S+)")


def _torch_lib_failure(doc: Doc) -> re.Match[str] | None:
    """One of torch's own libraries failing to load (missing, or from another build)."""
    return doc.find(rf"(?:[/\\]torch[/\\]+(?:lib[/\\]+)?|(?<![/\\\w])){_OWN_LIB}\.(?:so|dll|dylib|"
                    rf"pyd)[\w.]*[^\n]*?(?:cannot open|No such file)|Incompatible library "
                    rf"version: {_OWN_LIB}\.dylib requires|WinError 12[67][^\n]*?[/\\]"
                    rf"torch[/\\]+lib[/\\]+{_OWN_LIB}\.dll|DLL load failed while importing _C\b"
                    rf"|WinError 127[^\n]*?[/\\]torch[/\\]+lib[/\\]+\w+\.dll")


def _cuda_libraries(doc: Doc) -> Iterator[Finding]:
    if (bnb := doc.find(r"bitsandbytes was compiled without GPU support")) and not (
            doc.platform() == "darwin" or doc.find(r"\bmps\b")):  # (there: its normal banner)
        # its loader found no CUDA runtime it could open and fell back to its CPU library
        yield Finding("cuda-libraries", "error", "bitsandbytes found no CUDA runtime library it "
                      "could load (it looks for libcudart on the library path, or for a build "
                      "of its own for torch's CUDA), so it loaded its CPU library: install the "
                      "bitsandbytes release for this torch's CUDA (0.43 and later use torch's "
                      "own runtime), or put the CUDA runtime's lib dir on LD_LIBRARY_PATH",
                      doc.line(bnb), _cmd("pipguard", "install", "--upgrade", "bitsandbytes"))
        return
    lib = rf"(?:lib(?:{_CUDA_LIB})[\w.-]*\.so[\d.]*|(?:{_CUDA_LIB})\w*64_\w+\.dll|zlibwapi\.dll)"
    m = doc.find(rf"{lib}:? cannot open shared object|Cannot load symbol cudnn\w+|"
                 rf"(?:Could not load (?:dynamic )?library|Could not locate|"
                 rf"Unable to load any of|Error loading)[^\n]{{0,300}}?{lib}|cuDNN version "
                 rf"(?:incompatibility|mismatch)[^\n]*")
    m = m or doc.find(rf"lib(?:{_CUDA_LIB})\S* not found in the system path|Missing dependency: "
                      rf"{lib}|CUDA Setup failed despite GPU being available|main CUDA runtime "
                      rf"library was not detected|cuDNN/MIOpen library not found|"
                      rf"libcuda\.so cannot found!\s*Possible files|PTX JIT compiler library not "
                      rf"found|CUDA driver is a stub library|CUDA is not linked properly|Could not "
                      rf"find any NVRTC library|couldn't find libcudart|cuDNN library not found|"
                      rf"Error in dlopen for library lib(?:{_CUDA_LIB})|error in LoadLibrary for "
                      rf"(?:{_CUDA_LIB})\w*\.dll|NVRTC_ERROR_BUILTIN_OPERATION_FAILURE|Cannot find "
                      rf"ptxas|failed to open (?:lib)?nvrtc-builtins[\w.-]*|"  # (NVRTC's own)
                      rf"CUDA_PATH is set but CUDA wasn'?t able to be loaded")  # (onnxruntime's)
    if m and ("dso_loader" in doc.line(m) or doc.find(r"Ignore above cudart dlerror")):
        m = None  # TensorFlow's notice that it runs without a GPU, in a torch user's log
    # Windows: torch's DLLs failing "or one of its dependencies": the VC++ runtime (c10.dll,
    # the first one loaded, needs it), CUDA DLLs or libomp.
    win = doc.find(r"WinError 1114[^\n]*|(?:WinError 126\][^\n]*?|(?m:^))Error loading\s*\""
                   r"[^\"\n]*[/\\]torch[/\\]+lib[/\\]+\w+\.dll\"?[^\n]*|Error loading\s*\"[^\"\n]*"
                   r"\.dll\"? or one of its dependencies|DLL load failed: [^\n]*|"
                   r"DLL load failed while importing _C: The specified module could not be "
                   r"found|Could not find module '[^'\n]*[/\\]torch[/\\]+lib[/\\]+\w+\.dll'|"
                   rf"Error loading\s*\"?(?:[^\"\n]*[/\\])?{_OWN_LIB}\.dll")  # torch's by name
    if not win and not doc.find(rf"WinError 127|{PAGE_FILE}"):  # torch's notice, printed first
        win = doc.find(r"Microsoft Visual C\+\+ Redistributable is not installed")
    # (127: a procedure missing, so mixed DLLs)
    if win and not re.search(rf"WinError 127|{PAGE_FILE}", doc.line(win)):
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
                         + (und["lib"] or ""), re.I) and not re.search(_TORCH_SYMBOL, und["sym"]):
        m = und
    if not m or doc.find(PAGE_FILE):
        return
    shadow = doc.find(r"/usr/local/cuda[^\s:'\"]*|/usr/lib/x86_64-linux-gnu/lib(?:cu|nv)\w*|"
                      r"LD_LIBRARY_PATH")
    sub = re.search(r"nvjitlink|cudnn|cublas|cusparse|nccl|cufft|curand|cusolver|nvrtc|cupti",
                    m.group("sym") if m is und else m.group(0), re.I)
    lib_dir = (sub.group(0).lower() if sub else "nvjitlink").replace("nvrtc", "cuda_nvrtc")
    if m is und or shadow or m.group(0).startswith("cuDNN version"):
        yield Finding("cuda-libraries", "error",
                      "a CUDA library from outside the torch wheel (a system CUDA or cuDNN on "
                      "LD_LIBRARY_PATH or the linker path) shadows the newer copy the nvidia-* "
                      f"wheels ship (nvidia/{lib_dir}), so symbols torch needs are missing: put "
                      "the wheel's lib dir first, or drop the system CUDA dir from LD_LIBRARY_PATH",
                      doc.line(m) + (f"\n{shadow.group(0)}" if shadow and shadow.group(0) not in
                                     doc.line(m) else ""),
                      "export LD_LIBRARY_PATH=\"$(python -c \"import site; print(site."
                      f"getsitepackages()[0] + '/nvidia/{lib_dir}/lib')\"):$LD_LIBRARY_PATH\"")
    elif doc.find(r"onnxruntime(?:_providers_cuda|_pybind_state|::)"):
        yield Finding("cuda-libraries", "error",
                      "onnxruntime-gpu could not load the CUDA and cuDNN it was built for (each "
                      "release needs one CUDA major and one cuDNN major on the library path; "
                      "1.19 and later: CUDA 12, cuDNN 9): install the onnxruntime-gpu built for "
                      "torch's CUDA, and import torch first so the CUDA libraries its wheels "
                      "bring are loaded", doc.line(m),
                      _cmd("pipguard", "install", "--upgrade", "onnxruntime-gpu"))
    elif user := _importer(doc, m):
        yield Finding("cuda-libraries", "error",
                      f"{user} was built for a CUDA runtime that is not installed here (not the "
                      "one torch's wheel brings): install its build for this torch's CUDA",
                      doc.line(m), _cmd("pipguard", "install", "--force-reinstall", "--no-deps",
                                        str(canonicalize_name(user))))
    elif "nvrtc-builtins" in m.group(0) and doc.find(r"\blibtorch\b") and not doc.find(
            r"(?:site|dist)-packages"):
        yield Finding("cuda-libraries", "error",
                      "NVRTC (which compiles torch's fused kernels at run time) cannot find its "
                      "builtins library: libtorch's download ships it under a hashed name "
                      "(libnvrtc-builtins-<hash>.so), which NVRTC does not look for; link it "
                      "to the name NVRTC asks for in libtorch/lib, or put a CUDA toolkit's "
                      "lib dir of that version on the library path", doc.line(m),
                      "export LD_LIBRARY_PATH=/usr/local/cuda/lib64:$LD_LIBRARY_PATH")
    else:
        yield Finding("cuda-libraries", "error",
                      "a CUDA library torch loads is missing: the nvidia-* packages the torch "
                      "wheel pins are absent or incomplete (installed with --no-deps, removed), "
                      "or, on Windows, a DLL they need (VC++ runtime, zlibwapi) is missing",
                      doc.line(m), _reinstall_torch(doc, exact=True))


def _cuda_toolkit(doc: Doc) -> Iterator[Finding]:
    """Building a CUDA extension (DeepSpeed ops, apex, flash-attn from source) with no CUDA
    toolkit, or one whose version is not torch's CUDA: nvcc must match the build."""
    m = doc.find(r"Installed CUDA version (\S+) does not match the version torch was compiled "
                 r"with (\S+)(?![^\n]*accepting this combination)|CUDA_HOME (?:does not exist|"
                 r"environment variable is not set)|"
                 r"nvcc was not found|Cuda extensions are being compiled with a version of Cuda "
                 r"that does not match[^\n]*?compiled with "
                 r"Cuda (\d+\.\d+)|(?:The detected )?CUDA version \((\S+)\) mismatches the version "
                 r"that was used to compile\s*PyTorch \((\S+)\)|CUDA was not found on the system, "
                 r"please set the CUDA_HOME")
    if not m or re.compile(r"Successfully (?:built|installed)").search(doc.text, m.end()):
        return  # (a warning the build went past)
    want = (m.group(2) or m.group(3) or m.group(5) or "").rstrip(".,")
    yield Finding("cuda-libraries", "error",
                  "building this CUDA extension needs the CUDA toolkit (nvcc) of torch's own "
                  "CUDA" + (f" {want}" if want else "") + ": install that toolkit and point "
                  "CUDA_HOME at it, or install a prebuilt wheel of the extension", doc.line(m),
                  f"export CUDA_HOME=/usr/local/cuda-{want}" if want else
                  "export CUDA_HOME=/usr/local/cuda")


def _triton_libcuda(doc: Doc) -> Iterator[Finding]:
    """Triton (torch.compile's kernels, mamba's, flash-attn's) links each kernel it builds
    against the driver's libcuda; the linker finding none by its plain name is the driver
    library off the linker's path (WSL keeps it in /usr/lib/wsl/lib), not a missing toolkit."""
    if m := doc.find(r"(?:/usr/bin/)?ld(?:\.\w+)?: cannot find -lcuda\b"):
        yield Finding("cuda-libraries", "error",
                      "Triton could not link the kernel it compiled against the driver's libcuda: "
                      "the linker finds no libcuda.so by that name (only libcuda.so.1, or it is "
                      "in /usr/lib/wsl/lib on WSL); point Triton at the folder that holds it",
                      doc.line(m), "export TRITON_LIBCUDA_PATH=/usr/lib/x86_64-linux-gnu")


def _ext_package(path: str) -> str:
    """``.../site-packages/flash_attn_2_cuda.cpython-310-...so`` -> ``flash-attn``."""
    m = re.search(r"(?:site|dist)-packages[/\\]+([A-Za-z]\w*)", path)
    return str(canonicalize_name(re.sub(r"(?:_\d+)?_(?:cuda|C|ext)$", "", m.group(1))
                                 if m else "torchvision"))


# The companion a sentence belongs to where the sentence does not name it: (?P<group>) -> name.
_NAMED = {"xformers": "xformers", "xformers_tail": "xformers", "torchao": "torchao",
          "dgl": "dgl"}


def _companion_mismatch(doc: Doc) -> Iterator[Finding]:
    companions = doc.facts.companion_names()  # in paths and op names as written: fbgemm_gpu
    names = "|".join(re.escape(c).replace(r"\-", "[-_]") for c in companions)
    # Each alternative captures the package (or names it): an extension built for another
    # torch, CUDA or variant, as torch, the companion itself or the loader says it.
    m = doc.find("|".join((
        rf"operator ({names})::\w+ does not exist", rf"No such operator ({names})::",
        rf"Could not run '({names})::\w+' with arguments from the 'CUDA' backend",
        r"Couldn't load custom C\+\+ ops",
        r"PyTorch and ([\w-]+) were compiled with different CUDA",
        rf"incompatible torch version \S+ for ({names}) version",
        rf"'_OpNamespace' '({names})' object has no attribute",
        rf"[/\\]({names})[/\\]\S*\.(?:so|pyd|dll)[^\n]*?(?:Could not load|cannot open)",
        r"Could not load this library: \S*?(?:site|dist)-packages[/\\]+"
        r"([A-Za-z][a-z]*(?:_[a-z]+)*?)[/\\_]",
        r"(DeepSpeed) ops were compiled and installed with a different",
        r"(?:binary not found|No compatible \w+ binary found|Library not found|Required library "
        r"version not found)(?: at)?:? \S*?(bitsandbytes)",
        r"CUDA VERSION MISMATCH(?s:.{0,800}?)(bitsandbytes)",
        r"DLL load failed while importing (?!_C\b)([A-Za-z]\w*?)(?:_\d+)?(?:_cuda|_C|_ext): The "
        r"specified procedure could not be found",
        r"(xFormers) was built for", r"(torchvision)\S* was compiled with a different",
        # (xFormers' "was built for" block's own line: PyTorch 2.1.2+cu121 with CUDA 1201 (you
        # have 2.0.1+cu118); its tail, pasted alone, names neither xFormers nor the versions)
        r"(?m:^)[ \t]*PyTorch \S+ with CUDA \d+ \(you have \S+\)(?P<xformers>)",
        r"(?P<xformers_tail>)Memory-efficient attention, SwiGLU, sparse and more won't be "
        r"available",
        # (torchao's newer wording names neither itself nor a version of its own)
        r"(?P<torchao>)Skipping import of cpp extensions due to incompatible torch version\. "
        r"Please upgrade to torch",
        r"Please install the (TorchAudio) version that matches your PyTorch version",
        # (DGL loads an adapter and GraphBolt built per torch release; none for this one)
        r"(?P<dgl>)(?:lib(?:tensoradapter|graphbolt)_pytorch_[\w+-]{0,20}(?:\.\d+){0,4}\.(?:so|"
        r"dylib|dll)\b:?[ \t]*(?:cannot open|No such file|not found)|Cannot find DGL C\+\+ \w+ "
        r"library\b)",
        r"your PyTorch and (torchvision) versions are incompatible",
        r"(xFormers) wasn't build with CUDA support",  # (sic: xformers' own wording)
        r"Failed to import lib(natten)\b",  # (NATTEN's wheels are built per torch and CUDA)
        r"cannot import name '\w+' from '(triton)[\w.]*'",  # inductor needs its own triton
        # an extension's compiled ops absent: a build without them (mmcv-lite) or for another torch
        r"No module named '(mmcv|detectron2|pytorch3d|torch_scatter|torch_sparse)\._(?:ext|C)'",
        r"Failed to load image Python extension",  # (torchvision's)
        # what launchers and frameworks check and say (Unsloth, A1111, Ultralytics)
        r"requires (torchvision)>=\S+, but found torchvision==",
        r"You have torch = \S+ but (xformers) = ", r"(Flash Attention) 2 installation seems to be "
        r"broken", r"You are running (xformers) \S+\s+The program is tested to work with",
        r"(torchvision)==\S+ is incompatible with torch==",
        rf"partially initialized module '({names})' has no attribute 'extension'",
        rf"[/\\]({names})[/\\]_meta_registrations\.py(?=[\s\S]{{0,600}}?[/\\]torch[/\\]_?library)",
    )))
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
                                                                       (und["lib"] or "")):
        user = _importer(doc, und)
        if not (und["lib"] or user):  # the symbol alone: no library or frame names the package
            yield Finding("companion-mismatch", "error", "a compiled extension was built "
                          "against another torch release (the torch symbol it needs, "
                          f"{und['sym']}, is not in the installed torch): install the build of "
                          "that extension made for this torch; pipguard doctor names the "
                          "packages that do not match it", doc.line(und), "pipguard doctor")
            return
        m, pkg = m or und, (_ext_package(und["lib"]) if und["lib"]
                            else str(canonicalize_name(user or "")))
    elif not m and lib and (user := _importer(doc, lib)):
        m, pkg = lib, str(canonicalize_name(user))
    elif m and (named := next((g for g in _NAMED if m.group(g) is not None), None)):
        pkg = _NAMED[named]
    elif m:
        pkg = str(canonicalize_name(next((g for g in m.groups() if g), "torchvision")))
        pkg = "flash-attn" if pkg == "flash-attention" else pkg
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


def _leftover_of(stem: str, doc: Doc) -> str:
    """The family package a half-renamed ``~orch`` folder belongs to (pip drops the first
    letter): ``torch``; else the name as written."""
    return next((f for f in sorted(doc.facts.family()) if f[1:] == stem), stem)


# Names every torch has had: missing, the module imported is not the installed torch.
_CORE = r"(?:cuda|Tensor|tensor|nn|__version__|device|float32|zeros|ones|no_grad|from_numpy|_C)"


def _corrupt_install(doc: Doc) -> Iterator[Finding]:
    if shadow := doc.find(rf"partially initialized module 'torch' has no attribute|module 'torch' "
                          rf"has no attribute '{_CORE}'|name '_C' is not defined|loaded the "
                          rf"`torch/_C` folder of the PyTorch repository"):
        yield Finding("corrupt-install", "error",
                      "the 'torch' Python imported is not the installed package: a torch.py or "
                      "torch/ folder in the working directory (or the PyTorch source tree) comes "
                      "first on sys.path, or a half-removed install left an empty torch folder; "
                      "see which file it is, rename it or run from elsewhere, then pipguard "
                      "verify torch", doc.line(shadow),
                      'python -c "import torch; print(torch.__file__)"')
        return
    und, lib = _undefined_symbol(doc), _torch_lib_failure(doc)
    m = doc.find(r"No such file or directory: '[^']*site-packages[/\\]+(?:torch[/\\]|[\w.]+-[\d.]"
                 r"[^'/\\]*\.dist-info)|No module named 'torch\._C'|no RECORD file|from 'torch' "
                 r"\(unknown location\)|"
                 r"(?-i:RECORD)[^\n]*(?:mismatch|missing)|(?-i:RECORD)`? file not found|missing `"
                 r"(?:RECORD|top_level\.txt)` file|distutils installed project|Cannot process "
                 r"installed package|None METADATA metadata found|is broken or incomplete \(unable "
                 r"to read|has multiple installed distributions|CorruptedEnvironmentError|"
                 r"(?:ClobberError|path collision for)(?![\s\S]*Executing transaction: done)|"
                 r"site-packages[/\\]\S+\.so[\d.]*: (?:invalid ELF header|file too short)|"
                 r"Ignoring invalid distribution ~?-?(\w+)|WinError 5\][^\n]*\n?[^\n]*?site-"
                 r"packages[/\\]+(?:~|torch[/\\])|"
                 # pip's uninstaller and metadata reader meeting damaged records (old and new)
                 r"Egg-link \S+ \(to [^)\n]*\) does not match installed location|Failed to "
                 r"restore \S*(?:site|dist)-packages|Cannot remove entries from nonexistent file "
                 r"\S*\.pth")
    if not m and lib and not _importer(doc, lib):
        m = lib
    if not m and und and re.search(rf"[/\\]torch[/\\]+(?:lib[/\\]+\w|{_OWN_LIB}\.)",
                                   und["lib"] or "") \
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
                      (f'rmdir /s /q "{site}\\~{m.group(1)}"' if "\\" in site
                       else f"rm -rf '{site}'/~{m.group(1)}*")
                      + f" && pipguard verify {_leftover_of(m.group(1), doc)}")
        return
    dist = doc.find(r"Cannot uninstall (?!package\b)'?([\w.-]+)'?(?: (\d[\w.+]*))?|"
                    r"site-packages[/\\]+([\w.]+)-(\d[^'/\\-]*)\.dist-info")
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
    if re.search(r"RECORD`? file|top_level|distutils", m.group(0)):  # (nothing to uninstall by)
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
RULES: tuple[Rule, ...] = (_cuda_toolkit, _cuda_libraries, _triton_libcuda, _companion_mismatch,
                          _corrupt_install)
