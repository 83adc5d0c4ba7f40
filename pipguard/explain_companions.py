"""``explain`` rules for a companion that does not fit the installed torch (companion-mismatch).

torchvision, torchaudio, xformers, flash-attn and every compiled extension are built
against one torch release and variant; with another torch their compiled code fails to
load (an operator that "does not exist", a torch symbol undefined, a loader's own
check), and packages that need a newer torch say so and switch themselves off. A failing
load is read with :mod:`pipguard.explain_runtime`'s helpers; the framework
(:mod:`pipguard.explain`) runs these rules between that module's two groups.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from packaging.version import Version

from pipguard.explain_doc import (
    Doc,
    Rule,
    _cmd,
    _importer,
    _label,
    _pin,
    _public,
    _reinstall_alone,
    _reinstall_torch,
    _v,
    cuda_false,
    torch_lib_failure,
    undefined_symbol,
)
from pipguard.explain_phrases import (
    TORCH_LIB_PATH,
    TORCH_SYMBOL,
    distribution,
    ext_module,
    extension_load,
)
from pipguard.findings import Finding

# The companion a sentence belongs to where the sentence does not name it: (?P<group>) -> name.
_NAMED = {"xformers": "xformers", "xformers_head": "xformers", "xformers_tail": "xformers",
          "torchao": "torchao", "dgl": "dgl", "tv_image": "torchvision"}


def _companion_mismatch(doc: Doc) -> Iterator[Finding]:
    companions = doc.facts.companion_names()  # in paths and op names as written: fbgemm_gpu
    names = "|".join(re.escape(c).replace(r"\-", "[-_]") for c in companions)
    # Each alternative captures the package (or names it): an extension built for another
    # torch, CUDA or variant, as torch, the companion itself or the loader says it.
    m = doc.find("|".join((
        rf"(?:operator )?\b({names})::\w+ does not exist", rf"No such operator ({names})::",
        rf"no fallback function is registered for schema ({names})(?:_ns)?::",
        r"(?P<tv_image>)No such operator image::",  # (torchvision's image extension's ops)
        rf"Could not run '({names})::\w+' with arguments from the 'CUDA' backend",
        r"Couldn't load custom C\+\+ ops",
        r"PyTorch and ([\w-]+) were compiled with different CUDA",
        rf"incompatible torch version \S+ for ({names}) version",
        rf"'_OpNamespace' '({names})' object has no attribute",
        rf"[/\\]({names})[/\\]\S{{0,300}}?\.(?:so|pyd|dll)[^\n]{{0,300}}?(?:Could not load|cannot "
        r"open)",  # (bounded: a path repeating a companion's folder was read from each one)
        r"Could not load this library: \S*?(?:site|dist)-packages[/\\]+"
        r"([A-Za-z][a-z]*(?:_[a-z]+)*?)[/\\_]",
        r"(DeepSpeed) ops were compiled and installed with a different",
        r"(?:binary not found|No compatible \w+ binary found|Library not found|Required library "
        r"version not found)(?: at)?:? \S*?(bitsandbytes)",
        r"DLL load failed while importing (?!_C\b)([A-Za-z]\w*?(?:_\d+)?(?:_cuda|_C|_ext)): The "
        r"specified procedure could not be found",
        # (Windows' own dialog for the same: a symbol of torch's the companion's binary wants)
        rf"The procedure entry point \S{{1,300}} could not be located in the dynamic link "
        rf"library [^\n]{{0,300}}?(?:site|dist)-packages[/\\]+({names})[/\\]",
        r"(xFormers) was built for",
        # a package's own check of the torch it was built with (k2's: "k2 was built using
        # PyTorch 1.11.0 / But you are using PyTorch 1.10.0"; apex's)
        r"\b(?!(?:torch|pytorch|it|this|that|which|wheel|package|module|extension|library|binary)"
        r"\b)([A-Za-z][\w-]{0,60}) was (?:built|compiled) (?:using|with|against|for) (?:PyTorch|"
        r"torch)[ =]*v?(?P<built>\d[\w.+]*)(?![\w.+])[^\n]{0,80}\n?[^\n]{0,40}?\byou (?:are "
        r"using|are running|have)(?: (?:PyTorch|torch))? v?(?!(?P=built)(?![\w.+]))\d",
        r"\b(torchvision)[\w.+/\\-]{0,60} was compiled with a different",  # (bounded: a run)
        # (xFormers' "was built for" block's own line: PyTorch 2.1.2+cu121 with CUDA 1201 (you
        # have 2.0.1+cu118); its tail, pasted alone, names neither xFormers nor the versions)
        r"(?m:^)[ \t]*PyTorch \S+ with CUDA \d+ \(you have \S+\)(?P<xformers>)",
        r"(?P<xformers_tail>)Memory-efficient attention, SwiGLU, sparse and more won't be "
        r"available", r"(?P<xformers_head>)xFormers can't load C\+\+/CUDA extensions",
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
        # Windows: a procedure missing from a companion's own DLL (its import of torch's)
        rf"WinError 127\][^\n]{{0,300}}?Error loading\s*\"[^\"\n]{{0,300}}?(?:site|dist)-packages"
        rf"[/\\]+({names})[/\\]",
        # ... or from its _C, where its own frame is the last before the error
        rf"(?:site|dist)-packages[/\\]+({names})[/\\][^\n]*\n(?:(?![^\n]*[/\\]torch[/\\])[^\n]*\n)"
        r"{0,3}?[^\n]*DLL load failed while importing _C: The specified procedure could not be "
        r"found",
    ))) or extension_load(doc.text, companions) or _refuses_gpu(doc, names)
    if old := doc.find(r"libtorch_cuda_(?:cu|cpp)\.(?:so|dll)[^\n]*(?:cannot open|No such file|"
                       r"not found)"):  # torch 1.10-1.13's split libraries, gone in 2.x
        user = _importer(doc, old)
        yield Finding("companion-mismatch", "error",
                      f"{user or 'a compiled extension'} was built against torch 1.x (1.10–1.13 "
                      "split libtorch_cuda into libtorch_cuda_cu/_cpp; 2.x ships one "
                      "libtorch_cuda): rebuild it for the installed torch, or install the torch "
                      "release it was built for", doc.line(old),
                      _reinstall_alone(doc, user) if user
                      else _cmd("pipguard", "install", "torch<2"))
        return
    und, lib = undefined_symbol(doc), torch_lib_failure(doc)
    # The library's package under site-packages (horovod/torch/mpi_lib.so is horovod's), else
    # the companion's folder it sits in (torchvision/_C.so); torch's own libraries by their path.
    path = und["lib"] or "" if und else ""
    folder = re.search(rf"(?:^|[/\\])({names})[/\\](?:[\w.-]+[/\\])?[^/\\]+$", path)
    owner = ext_module(path) or ((folder.group(1), False) if folder else None)
    own = owner[0] == "torch" if owner else bool(re.search(TORCH_LIB_PATH, path))
    if und and re.search(TORCH_SYMBOL, und["sym"]) and not own:
        user = _importer(doc, und)
        if not (owner or user):  # no package named: the symbol alone, or a path outside one
            yield Finding("companion-mismatch", "error", "a compiled extension was built "
                          "against another torch release (the torch symbol it needs, "
                          f"{und['sym']}, is not in the installed torch): install the build of "
                          "that extension made for this torch; pipguard doctor names the "
                          "packages that do not match it", doc.line(und), "pipguard doctor")
            return
        m, (mod, ext) = m or und, owner or (user or "", False)
    elif not m and lib and (user := _importer(doc, lib)):
        m, mod, ext = lib, user, False
    elif m and (named := next((g for g in _NAMED if m.groupdict().get(g) is not None), None)):
        mod, ext = _NAMED[named], False
    elif m:
        mod = next((g for g in m.groups() if g), "torchvision")
        mod = "flash_attn" if mod.lower() in ("flash attention", "flash-attention") else mod
        ext = "DLL load failed" in m.group(0)  # (an extension module's own name)
    else:
        return
    pkg = distribution(mod, extension=ext) or mod  # (the import name where none installs it)
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
                  _reinstall_alone(doc, mod, extension=ext))


# A compiled package's ops refusing the GPU: PyG's extensions (their frame above says which),
# detectron2's and mmcv's own words.
_GPU_REFUSED = (r"\bNot compiled with (?:CUDA|GPU) support|\b(Detectron2|MMCV)\b[^\n]{0,40}? "
                r"(?:is )?not compiled with GPU support")


def _refuses_gpu(doc: Doc, names: str) -> re.Match[str] | None:
    """A companion's CPU build under a CUDA torch, its own ops refusing the GPU: the package
    named, else the last package frame in the 8 lines above (a Jupyter frame's context lines
    too). Not where torch itself refuses it or finds no GPU (a CPU torch: explain_cpubuild's)."""
    m = doc.find(_GPU_REFUSED)
    if m is None or cuda_false(doc) or doc.find(r"not compiled with CUDA enabled"):
        return None
    if m[1]:
        return m
    start = m.start()
    for _ in range(8):
        start = max(doc.text.rfind("\n", 0, start), 0)
    frame = re.compile(rf"(?:site|dist)-packages[/\\]+(torch_(?:scatter|sparse|cluster|"
                       rf"spline_conv)|pyg_lib|{names})[/\\]", re.I)
    return next(reversed(list(frame.finditer(doc.text, start, m.start()))), None)


def _inductor_triton(doc: Doc) -> Iterator[Finding]:
    """torch.compile's inductor finding no Triton it can use: none installed, or one older
    than the Triton this torch was built with. torch's Linux wheels require theirs (a
    reinstall brings it back); Triton publishes no Windows wheels, so there it is the
    community triton-windows build, or eager mode."""
    if not (m := doc.find(r"Cannot find a working triton installation")):
        return
    windows = doc.platform() == "win32"
    yield Finding("companion-mismatch", "error",
                  "torch.compile needs the Triton release this torch was built with, and finds "
                  "none, or an older one: " + (
                      "Triton publishes no Windows wheels; install triton-windows of the release "
                      "made for this torch, or run without torch.compile" if windows else
                      "torch's wheel requires the Triton it was built with; reinstall torch to "
                      "get it back (and remove a Triton installed on its own)"), doc.line(m),
                  _cmd("pipguard", "install", "--upgrade", "triton-windows") if windows
                  else _reinstall_torch(doc))


def _bitsandbytes_binary(doc: Doc) -> Iterator[Finding]:
    """bitsandbytes' banner: its wheel has no binary for the CUDA version it was asked to load
    (torch's, or the one ``BNB_CUDA_VERSION`` forces)."""
    if not (m := doc.find(r"CUDA VERSION MISMATCH|Available pre-compiled versions:")):
        return
    asked = doc.find(r"Requested CUDA version:\s+(\d[\d.]*)\s+Detected PyTorch CUDA version:\s+"
                     r"(\d[\d.]*)")
    if asked and asked[1] != asked[2]:
        yield Finding("companion-mismatch", "error",
                      f"BNB_CUDA_VERSION makes bitsandbytes load its binary for CUDA {asked[1]}, "
                      f"not torch's CUDA {asked[2]}, and it has none for {asked[1]}: unset it",
                      doc.line(asked), "unset BNB_CUDA_VERSION")
        return
    yield Finding("companion-mismatch", "error",
                  "this bitsandbytes has no binary for the installed torch's CUDA" + (
                      f" ({asked[2]})" if asked else "") + ": upgrade bitsandbytes, or install "
                  "torch for a CUDA version its banner lists", doc.line(m),
                  _cmd("pipguard", "install", "--upgrade", "bitsandbytes"))


# A library's own check of the torch it runs with, in its own words, on one line that names
# torch: the least release it needs ("requires torch>=2.4.0", "at least 2.0", "please upgrade
# to >= 2.3.0") and the one it found ("found 1.13.1", "got 1.13.1+cu117", "Your torch version
# is 2.1.0", "you have 2.5.1", "torch==1.12.1").
_TORCH_LINE = re.compile(r"^[^\n]*\b(?:py)?torch\b[^\n]*$", re.I | re.M)
# (the bound torch's: written on torch, or said of it, not a bound another name carries)
# (only the words of such a sentence between torch and its bound: "torch 1.13.1 requires numpy
# at least 1.21.6" is numpy's bound; "PyTorch version 2.2.0 is not supported, please upgrade
# to >= 2.3.0" is torch's)
_NEED = re.compile(r"(?:\b(?:py)?torch(?:[ \t]+(?:version|is|must|should|be|needs?|requires?|"
                   r"required|to|upgraded?|updated?|please|of))*[ \t,:]*(?:>=|≥|\bat least|"
                   r"\bminimum(?: version)?(?: is)?)|\b(?:py)?torch version v?\d[\w.+]* is not "
                   r"supported[,;.]? please (?:upgrade|update) to(?: >=)?)[ \t]*(?:(?:py)?torch[ "
                   r"\t]*)?v?(\d+\.\d+(?:\.\d+)?)(?![\w.])", re.I)
_FOUND = re.compile(r"\b(?:found|got|you have|is installed:?|installed version:?|your (?:py)?torch "
                    r"version is|(?:py)?torch(?: version)?(?= *==| *: *\d| +\d))[ \t:=]*(?:(?:py)?"
                    r"torch[ \t:=]*)?v?(\d+\.\d+(?:\.\d+)?(?:\+\w+(?:\.\w+)*)?)", re.I)
# An installer's solver on the pins asked for, not a library's check: the resolver rules' line.
_SOLVER = (r"\bdepends on\b|we can conclude|version solving|\bconflict|has requirement|, but "
           r"you(?:'ll)? have|\byou require\b|\bthe user requested\b")


def _needs_newer_torch(doc: Doc) -> Iterator[Finding]:
    """A library that checks the torch it runs with and refuses an older one (transformers
    switches its PyTorch side off; its ``torch.load`` guard since CVE-2025-32434; others in
    their own words: :data:`_NEED` and :data:`_FOUND` on one line that names torch)."""
    m = doc.find(r"Disabling PyTorch because PyTorch >= ?(?P<need>\d[\w.]*) is required but "
                 r"found (?P<have>\d[\w.+]*)|require users to upgrade torch to at least "
                 r"v?(?P<load>\d+(?:\.\d+)*)")
    if not m:
        for line in _TORCH_LINE.finditer(doc.text):
            if re.search(_SOLVER, line[0], re.I):
                continue  # an installer's solver on pins asked for: its rules' (a conflict)
            bound, seen = _NEED.search(line[0]), _FOUND.search(line[0])
            if bound and seen and (ran := _v(_public(seen[1]))) and ran < Version(bound[1]):
                lib = re.search(r"\b([A-Za-z][\w-]{1,40})(?: version \S+| \d[\w.]*)? requires?\b",
                                line[0])
                who = lib[1] if lib and lib[1].lower() not in ("torch", "pytorch", "it",
                                                                "this") else None
                yield Finding("companion-mismatch", "error",
                              f"{who or 'the code that checks it'} needs torch {bound[1]} or "
                              f"newer (found {seen[1]}): upgrade torch, with the companions "
                              "installed beside it, from one index, or install the older "
                              f"release of {who or 'that code'} made for this torch",
                              line[0].strip()[:300], _cmd("pipguard", "install", "--upgrade",
                                                          f"torch>={bound[1]}",
                                                          *doc.companions_shown()))
                return
        return
    need, have = m["need"] or m["load"], m["have"]
    yield Finding("companion-mismatch", "error",
                  f"transformers needs torch {need} or newer" + (f" (found {have})" if have else "")
                  + ": upgrade torch, with the companions installed beside it, from one index; "
                  "where no newer torch exists for this machine (Intel macOS stops at 2.2), "
                  "pin an older transformers instead" + (" or load safetensors weights (the "
                  "torch.load guard does not apply to them)" if m["load"] else ""), doc.line(m),
                  _cmd("pipguard", "install", "--upgrade", f"torch>={need}",
                       *doc.companions_shown()))


# What stands where a launcher names the package it has no build of, and is no package.
_NOT_A_NAME = (r"pre-?built|pre-?compiled|official|compatible|matching|suitable|ready-?made|binar"
               r"(?:y|ies)|wheels?|builds?|versions?|packages?|releases?|support|new(?:er)?|"
               r"old(?:er)?|current|such|(?:cuda|gpu|cpu|rocm)(?:-\w+)?|x86[-_]64|aarch64|arm64|"
               r"windows|linux|mac(?:os)?|python\d*")


def _built_for_another_torch(doc: Doc) -> Iterator[Finding]:
    """A library built for one torch release that refuses the installed one in its own
    words (Intel's extension: "needs to work with PyTorch 2.2.*, but PyTorch 2.1.0 is
    found", from Python or C++, or retold by transformers as a warning), or a launcher
    finding no build of one for this torch ("There is currently no flash_attn built for
    PyTorch 2.9.0"): the library's build for this torch, or the torch its builds are for."""
    m = doc.find(r"(?P<lib>[A-Z][\w®*. -]{2,60}?) needs to work with PyTorch(?:/libtorch)?\s+"
                 r"(?P<need>\d+\.\d+)(?:\.\*)?, but PyTorch(?:/libtorch)?\s+(?P<have>\d[\w.+]*) is "
                 rf"found|(?:[Tt]here is|[Tt]here's) (?:currently )?no (?!(?i:{_NOT_A_NAME})\b)"
                 r"(?P<none>[A-Za-z][\w-]{1,40}) (?:wheel |build )?built for PyTorch "
                 r"(?P<this>\d+\.\d+)")
    if not m:
        return
    severity = "warning" if re.search(r"Warning\b", doc.line(m), re.I) else "error"
    if m["lib"] and re.search(r"Intel|IPEX", m["lib"]):
        have, label = _v(_public(m["have"])), _label(m["have"]) or ""
        leftover = label.startswith(("cu", "rocm"))  # beside another GPU's torch
        ended = doc.facts.retirement("intel-extension-for-pytorch")
        if have is not None and ended and Version(f"{have.major}.{have.minor}") > ended.last:
            last, instead = ended.last, ended.instead  # no release of it for this torch exists
            yield Finding("companion-mismatch", severity, "Intel's extension for PyTorch is "
                          f"built for torch {m['need']} and refuses torch {m['have']}; its last "
                          f"release is for torch {last}, and {instead} replaces it: "
                          "uninstall it and drop its import, or go back to torch "
                          f"{last} with its {last} release", doc.line(m),
                          "pip uninstall -y intel-extension-for-pytorch")
            return
        yield Finding("companion-mismatch", severity, "Intel's extension for PyTorch is built "
                      f"for torch {m['need']} and refuses torch {m['have']}: install its "
                      "release for this torch (its versions follow torch's), or the torch it "
                      "was built for" + (f"; beside a {label} torch it may be a leftover, to "
                                         "uninstall if nothing imports it" if leftover else ""),
                      doc.line(m), _cmd("pipguard", "install", "intel-extension-for-pytorch=="
                                        f"{have.major}.{have.minor}.*") if have
                      else "pipguard doctor")
        return
    if m["lib"]:
        lib = m["lib"].strip()
        yield Finding("companion-mismatch", severity,
                      f"{lib} is built for torch {m['need']} and refuses torch {m['have']}: "
                      f"install torch {m['need']} (with its companions, from one index), or the "
                      f"release of {lib} made for this torch", doc.line(m),
                      _cmd("pipguard", "install", f"torch=={m['need']}.*",
                           *doc.companions_shown()))
        return
    yield Finding("companion-mismatch", severity,
                  f"no build of {m['none']} exists for torch {m['this']}: install the older "
                  "torch its builds are for (with its companions, from one index), or build "
                  f"{m['none']} for this torch", doc.line(m),
                  _cmd("pipguard", "install", f"torch<{m['this']}", *doc.companions_shown()))


RULES: tuple[Rule, ...] = (_bitsandbytes_binary, _companion_mismatch, _needs_newer_torch,
                           _built_for_another_torch, _inductor_triton)
