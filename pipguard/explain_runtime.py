"""``explain`` rules for torch's compiled code failing to load or link.

CUDA libraries missing or shadowed, torch's own files damaged (a companion built for
another torch is :mod:`pipguard.explain_companions`, which reads a failing load with this
module's helpers; the build against the machine is :mod:`pipguard.explain_gpu`; NumPy's ABI
and torch's Python dependencies are :mod:`pipguard.explain_pydeps`). The framework
(:mod:`pipguard.explain`) orders and merges them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipguard.explain_doc import (
    Doc,
    Rule,
    _cmd,
    _frames,
    _importer,
    _pin,
    _reinstall_alone,
    _reinstall_torch,
    _v,
    torch_lib_failure,
    undefined_symbol,
)
from pipguard.explain_phrases import (
    CUDA_LIB,
    OWN_LIB,
    PAGE_FILE,
    TORCH_CORE,
    TORCH_LIB_PATH,
    TORCH_SYMBOL,
    distribution,
    ext_module,
    extension_load,
)
from pipguard.findings import Finding

# A CUDA outside the nvidia-* wheels, first on the library path.
_SYSTEM_CUDA = (r"/usr/local/cuda[^\s:'\"]*|/usr/lib/x86_64-linux-gnu/lib(?:cu|nv)\w*|"
                r"LD_LIBRARY_PATH")


# The nvidia-* wheels' folders whose names are not their library's.
_WHEEL_FOLDER = {"nvrtc": "cuda_nvrtc", "cudart": "cuda_runtime"}


def _wheel_dir(named: str) -> str:
    """The nvidia-* wheel's folder for the CUDA library ``named`` names (nvidia/<dir>/lib)."""
    sub = re.search(r"nvjitlink|cudnn|cublas|cusparse|nccl|cufft|curand|cusolver|nvrtc|cupti|"
                    r"cudart", named, re.I)
    lib = sub.group(0).lower() if sub else "nvjitlink"
    return _WHEEL_FOLDER.get(lib, lib)


def _wheel_libs_first(lib_dir: str) -> str:
    """The command that puts the nvidia-* wheel's copy of a CUDA library first."""
    return ("export LD_LIBRARY_PATH=\"$(python -c \"import site; print(site.getsitepackages()[0] "
            f"+ '/nvidia/{lib_dir}/lib')\"):$LD_LIBRARY_PATH\"")


def _cuda_libraries(doc: Doc) -> Iterator[Finding]:
    # its loader found no CUDA runtime it could open (and fell back to its CPU library; its
    # older loader says so while searching)
    # ("... not found in any environmental path" alone: its search going on to succeed)
    if (bnb := doc.find(r"bitsandbytes was compiled without GPU support|No libcudart\.so found"
                        )) and not (doc.platform() == "darwin" or doc.find(r"\bmps\b")):
        yield Finding("cuda-libraries", "error", "bitsandbytes found no CUDA runtime library it "
                      "could load (it looks for libcudart on the library path, or for a build "
                      "of its own for torch's CUDA): install the "
                      "bitsandbytes release for this torch's CUDA (0.43 and later use torch's "
                      "own runtime), or put the CUDA runtime's lib dir on LD_LIBRARY_PATH",
                      doc.line(bnb), _cmd("pipguard", "install", "--upgrade", "bitsandbytes"))
        return
    lib = rf"(?:lib(?:{CUDA_LIB})[\w.-]*\.so[\d.]*|(?:{CUDA_LIB})\w*64_\w+\.dll|zlibwapi\.dll)"
    m = doc.find(rf"{lib}:? cannot open shared object|Cannot load symbol cudnn\w+|"
                 rf"(?:Could not load (?:dynamic )?library|Could not locate|"
                 rf"Unable to load any of|Error loading)[^\n]{{0,300}}?{lib}|Library {lib} is "
                 rf"not found or cannot be loaded|cuDNN version "
                 rf"(?:incompatibility|mismatch)[^\n]*")
    m = m or doc.find(rf"lib(?:{CUDA_LIB})\S* not found in the system path|Missing dependency: "
                      rf"{lib}|CUDA Setup failed despite GPU being available|main CUDA runtime "
                      rf"library was not detected|cuDNN/MIOpen library not found|"
                      rf"libcuda\.so cannot found!\s*Possible files|PTX JIT compiler library not "
                      rf"found|CUDA driver is a stub library|CUDA is not linked properly|Could not "
                      rf"find any NVRTC library|couldn't find libcudart|cuDNN library not found|"
                      rf"Error in dlopen for library lib(?:{CUDA_LIB})|error in LoadLibrary for "
                      rf"(?:{CUDA_LIB})\w*\.dll|NVRTC_ERROR_BUILTIN_OPERATION_FAILURE|Cannot find "
                      rf"ptxas|failed to open (?:lib)?nvrtc-builtins[\w.-]*|"  # (NVRTC's own)
                      rf"CUDA_PATH is set but CUDA wasn'?t able to be loaded")  # (onnxruntime's)
    if m and ("dso_loader" in doc.line(m) or doc.find(r"Ignore above cudart dlerror")):
        m = None  # TensorFlow's notice that it runs without a GPU, in a torch user's log
    if m and "shared object" in m[0] and extension_load(doc.text, doc.facts.companion_names()):
        m = None  # (a companion's own module wants another CUDA: explain_companions)
    # Windows: torch's DLLs failing "or one of its dependencies": the VC++ runtime (c10.dll,
    # the first one loaded, needs it), CUDA DLLs or libomp.
    win = doc.find(r"WinError 1114[^\n]*|(?:WinError 126\][^\n]*?|(?m:^))Error loading\s*\""
                   r"[^\"\n]*[/\\]torch[/\\]+lib[/\\]+\w+\.dll\"?[^\n]*|Error loading\s*\"[^\"\n]*"
                   r"\.dll\"? or one of its dependencies|DLL load failed: [^\n]*|"
                   r"DLL load failed while importing _C: The specified module could not be "
                   r"found|Could not find module '[^'\n]*[/\\]torch[/\\]+lib[/\\]+\w+\.dll'|"
                   rf"Error loading\s*\"?(?:[^\"\n]*[/\\])?{OWN_LIB}\.dll")  # torch's by name
    if not win and not doc.find(rf"WinError 127|{PAGE_FILE}"):  # torch's notice, printed first
        win = doc.find(r"Microsoft Visual C\+\+ Redistributable is not installed")
    # (127: a procedure missing, so mixed DLLs)
    if win and not re.search(rf"WinError 127|{PAGE_FILE}", doc.line(win)) and not (
            "DLL load failed" in win[0] and extension_load(doc.text, ())):  # (a package's binary)
        yield Finding("cuda-libraries", "error",
                      "a DLL that torch's own libraries depend on is missing or fails to "
                      "initialise: the Microsoft Visual C++ Redistributable (and, for fbgemm.dll "
                      "in torch 2.4.0, libomp140.x86_64.dll), or the CUDA DLLs of a GPU build; "
                      "install the current VC++ Redistributable, then reinstall torch",
                      doc.line(win), "winget install Microsoft.VCRedist.2015+.x64 && "
                      + _reinstall_torch(doc))
        return
    und = undefined_symbol(doc)
    # (the symbol a CUDA library's, the library one of the nvidia-* wheels', or the loader
    # naming the CUDA library that should have had it: ", version libcudart.so.11.0")
    wanted = und and doc.find(rf"undefined symbol:? {re.escape(und['sym'])},? version (lib(?:"
                              rf"{CUDA_LIB})\w*)")
    if und and (wanted or re.search(rf"^(?:__)?(?:{CUDA_LIB})|[/\\]nvidia[/\\]", und["sym"] + " "
                                    + (und["lib"] or ""), re.I)) \
            and not re.search(TORCH_SYMBOL, und["sym"]):
        m = und
    if not m or doc.find(PAGE_FILE):
        return
    shadow = doc.find(_SYSTEM_CUDA)
    lib_dir = _wheel_dir((wanted[1] if wanted else m.group("sym")) if m is und else m.group(0))
    if m is und or shadow or m.group(0).startswith("cuDNN version"):
        yield Finding("cuda-libraries", "error",
                      "a CUDA library from outside the torch wheel (a system CUDA or cuDNN on "
                      "LD_LIBRARY_PATH or the linker path) shadows the newer copy the nvidia-* "
                      f"wheels ship (nvidia/{lib_dir}), so symbols torch needs are missing: put "
                      "the wheel's lib dir first, or drop the system CUDA dir from LD_LIBRARY_PATH",
                      doc.line(m) + (f"\n{shadow.group(0)}" if shadow and shadow.group(0) not in
                                     doc.line(m) else ""),
                      _wheel_libs_first(lib_dir))
    elif doc.find(r"onnxruntime(?:_providers_cuda|_pybind_state|::)"):
        yield Finding("cuda-libraries", "error",
                      "onnxruntime-gpu could not load the CUDA and cuDNN it was built for (each "
                      "release needs one CUDA major and one cuDNN major on the library path; "
                      "1.19 and later: CUDA 12, cuDNN 9): install the onnxruntime-gpu built for "
                      "torch's CUDA, and import torch first so the CUDA libraries its wheels "
                      "bring are loaded", doc.line(m),
                      _cmd("pipguard", "install", "--upgrade", "onnxruntime-gpu"))
    elif "not found or cannot be loaded" in m.group(0):  # (CTranslate2's own words)
        twelve = re.search(r"_12\b|\.so\.12\b|64_12\.dll", m.group(0))
        yield Finding("cuda-libraries", "error",
                      "CTranslate2 (the engine of faster-whisper and whisperX) could not load a "
                      "CUDA library it was built for" + (": its 4.x wheels need CUDA 12's cuBLAS "
                      "and cuDNN 9 on the library path (the nvidia-* wheels, or the toolkit); "
                      "or install a 3.x release, built for CUDA 11" if twelve else
                      ": put the CUDA release it was built for on the library path, or install "
                      "its build for the CUDA here"), doc.line(m),
                      _cmd("pipguard", "install", "ctranslate2<4") if twelve
                      else _cmd("pipguard", "install", "--upgrade", "ctranslate2"))
    elif user := _importer(doc, m):
        yield Finding("cuda-libraries", "error",
                      f"{user} was built for a CUDA runtime that is not installed here (not the "
                      "one torch's wheel brings): install its build for this torch's CUDA",
                      doc.line(m), _reinstall_alone(doc, user))
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


def _cuda_release_mixed(doc: Doc) -> Iterator[Finding]:
    """glibc's "symbol S, version libX.so.N not defined in file libX.so.N with link time
    reference": a library linked against one release of a CUDA library (CUDA's, cuDNN's)
    found another release's copy of it (the same soname) loaded first."""
    m = doc.near("with link time reference", rf"(?P<lib>[^\s:'\"()\[\]]+\.so[\d.]*)/?\)?: symbol "
                 rf"(?P<sym>\w+),? version lib(?:{CUDA_LIB})[\w.]*?\.so[\d.]* not defined in "
                 rf"file (?P<file>lib(?:{CUDA_LIB})[\w.]*?\.so[\d.]*) with link time reference")
    if not m:
        return
    name = re.split(r"[/\\]", m["lib"])[-1]
    # (the loading package: its folder or file on the failing line, a Markdown link's text too)
    owner, ext = ext_module(doc.text[doc.text.rfind("\n", 0, m.start()) + 1:m.start("sym")]) \
        or (None, False)
    user = None if owner in (None, "torch", "nvidia") or re.match(rf"lib(?:{CUDA_LIB})", name) \
        else owner
    shadow = doc.find(_SYSTEM_CUDA)
    yield Finding("cuda-libraries", "error",
                  f"{name} needs {m['sym']} from {m['file']}, and the {m['file']} loaded lacks "
                  "it: a copy from another release of that library (a system CUDA on the "
                  "library path, a conda cudatoolkit, another package's copy) is found first; "
                  "load one release's copies" + (f", or install the "
                                                 f"{distribution(user, extension=ext) or user} "
                                                 "build for the one loaded here"
                                                 if user and not shadow else ""),
                  doc.line(m), _wheel_libs_first(_wheel_dir(m["file"])) if shadow
                  else _reinstall_alone(doc, user, extension=ext) if user
                  else _reinstall_torch(doc, exact=True))


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
    here = _toolkit_variant(doc, (m.group(1) or m.group(4) or "").rstrip(".,"))
    yield Finding("cuda-libraries", "error",
                  "building this CUDA extension needs the CUDA toolkit (nvcc) of torch's own "
                  "CUDA" + (f" {want}" if want else "") + ": install that toolkit and point "
                  "CUDA_HOME at it" + (f", or install the torch built for this toolkit's CUDA "
                                       f"({here})" if here else "") + ", or install a prebuilt "
                  "wheel of the extension", doc.line(m),
                  _reinstall_torch(doc, "--torch-backend", here) if here else
                  f"export CUDA_HOME=/usr/local/cuda-{want}" if want else
                  "export CUDA_HOME=/usr/local/cuda")


def _toolkit_variant(doc: Doc, local: str) -> str | None:
    """The variant of the toolkit found here ("12.1": cu121) where the installed torch's
    release is published in it for this platform: then torch can come to the toolkit. Not
    where the text does not say which torch (any release would do: a downgrade, or none for
    this Python), nor for a pre-release or a source build ("2.1.0a0+32f93b1": no index has it)."""
    v, torch = _v(local), _v(doc.installed("torch") or "")  # (the release _reinstall_torch pins)
    if v is None or len(v.release) < 2 or torch is None or torch.is_prerelease or (
            torch.local and not re.fullmatch(r"cu\d+|cpu|rocm[\d.]+", torch.local)):
        return None
    variant = f"cu{v.release[0]}{v.release[1]}"
    return variant if variant in doc.facts.variants_for(torch, doc.kb_platform()) else None


def _triton_libcuda(doc: Doc) -> Iterator[Finding]:
    """An extension's link step finding no CUDA library by its plain name (the toolkit's,
    ``-lcurand``). Triton (torch.compile's kernels, mamba's, flash-attn's) links each kernel it
    builds against the driver's libcuda; the linker finding none by its plain name is the driver
    library off the linker's path (WSL keeps it in /usr/lib/wsl/lib), not a missing toolkit.
    bitsandbytes' loader opens it by that plain name too (``libcuda.so``, not ``.so.1``)."""
    if m := doc.find(rf"\bld(?:\.\w+)?: cannot find -l((?:{CUDA_LIB})\b[\w.+-]*)"):
        yield Finding("cuda-libraries", "error",
                      f"linking an extension, the linker finds no lib{m[1]}.so: the CUDA "
                      "toolkit's development libraries are missing or off the linker's path (the "
                      "nvidia-* wheels ship only versioned copies, which the linker does not "
                      "take); install the toolkit of torch's CUDA, or put its lib64 on "
                      "LIBRARY_PATH", doc.line(m),
                      'export LIBRARY_PATH="$CUDA_HOME/lib64:$LIBRARY_PATH"')
    elif m := doc.find(r"(?:/usr/bin/)?ld(?:\.\w+)?: cannot find -lcuda\b"):
        yield Finding("cuda-libraries", "error",
                      "Triton could not link the kernel it compiled against the driver's libcuda: "
                      "the linker finds no libcuda.so by that name (only libcuda.so.1, or it is "
                      "in /usr/lib/wsl/lib on WSL); point Triton at the folder that holds it",
                      doc.line(m), "export TRITON_LIBCUDA_PATH=/usr/lib/x86_64-linux-gnu")
    elif (m := doc.find(r"\blibcuda\.so(?!\.\d): cannot open shared object|\blibcuda\.so not "
                        r"found! Do you have a CUDA driver installed")) and (
            doc.ctx.hardware is None or doc.ctx.hardware.accelerator == "nvidia"):
        wsl = doc.find(r"\bWSL|microsoft-standard|/mnt/[a-z]/|/usr/lib/wsl")
        yield Finding("cuda-libraries", "error",
                      "the driver's libcuda is opened by its plain name (libcuda.so), which only "
                      "its development link provides: " + (
                          "WSL keeps it in /usr/lib/wsl/lib; put that folder on the library path"
                          if wsl else "install the driver's development files (or link "
                          "libcuda.so to the driver's libcuda.so.1 in its folder)"),
                      doc.line(m), 'export LD_LIBRARY_PATH="/usr/lib/wsl/lib:$LD_LIBRARY_PATH"'
                      if wsl else "pipguard doctor")


def _leftover_of(stem: str, doc: Doc) -> str:
    """The family package a half-renamed ``~orch`` folder belongs to (pip drops the first
    letter): ``torch``; else the name as written."""
    return next((f for f in sorted(doc.facts.family()) if f[1:] == stem), stem)


def _corrupt_install(doc: Doc) -> Iterator[Finding]:
    if shadow := doc.find(rf"partially initialized module 'torch' has no attribute|cannot import "
                          rf"name '_C' from partially initialized module 'torch'(?![^\n]*(?:site|"
                          rf"dist)-packages)|module 'torch' "
                          rf"has no attribute '{TORCH_CORE}'|name '_C' is not defined|loaded the "
                          rf"`torch/_C` folder of the PyTorch repository|No module named "
                          rf"'torch\.\w+'; 'torch' is not a package"):
        yield Finding("corrupt-install", "error",
                      "the 'torch' Python imported is not the installed package: a torch.py or "
                      "torch/ folder in the working directory (or the PyTorch source tree) comes "
                      "first on sys.path, or a half-removed install left an empty torch folder; "
                      "see which file it is, rename it or run from elsewhere, then pipguard "
                      "verify torch", doc.line(shadow),
                      'python -c "import torch; print(torch.__file__)"')
        return
    und, lib = undefined_symbol(doc), torch_lib_failure(doc)
    m = doc.find(r"No such file or directory: '[^']*site-packages[/\\]+(?:torch[/\\]|[\w.]+-[\d.]"
                 r"[^'/\\]*\.dist-info)|" rf"No module named 'torch\.{TORCH_CORE}'(?!; )|"
                 r"no RECORD file|from 'torch' \(unknown location\)|"
                 r"(?-i:RECORD)[^\n]*(?:mismatch|missing)|(?-i:RECORD)`? file not found|missing `"
                 r"(?:RECORD|top_level\.txt)` file|distutils installed project|Cannot process "
                 r"installed package|None METADATA metadata found|is broken or incomplete \(unable "
                 r"to read|has multiple installed distributions|CorruptedEnvironmentError|"
                 r"(?<![\"'])libcudart functions unavailable|"  # (raised, not a listed source line)
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
    # torch's own Python code asking its compiled torch._C for a name it lacks: the two are
    # from different releases (a build without a backend lacks that backend's names: a CPU
    # build's _cuda*, explain_cpubuild's; Windows' and macOS' _nccl*)
    own = doc.find(r"module 'torch\._C(?:\.\w+)*' has no attribute '(?!_(?:cuda|cudnn|xpu|mps|"
                   r"mtia|nccl|hip|rocm|distributed|c10d|nvtx|mkldnn))\w+'")
    if not m and own and (frames := _frames(doc, own)) and frames[-1][0] == "torch":
        m = own
    if not m and und and re.search(TORCH_LIB_PATH, und["lib"] or "") \
            and not re.search(rf"^(?:__)?(?:{CUDA_LIB})", und["sym"], re.I):
        m = und
    if not m:
        return
    if m not in (und, lib, own) and m.group(1):
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
# (the companions' rules, pipguard.explain_companions, come between the two)
LIBRARIES: tuple[Rule, ...] = (_cuda_toolkit, _cuda_release_mixed, _cuda_libraries,
                               _triton_libcuda)
DAMAGE: tuple[Rule, ...] = (_corrupt_install,)
