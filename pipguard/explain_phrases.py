"""What the phrases several ``explain`` rule modules read mean: one definition each.

The names of CUDA's and torch's own libraries, a torch C++ symbol, which installer printed a
text (pip, uv or Poetry), an install going on or going on to succeed, Windows' page file,
CUDA's own False, uv's Python derivation, an index out of reach (a refused certificate, a
proxy, no network), NumPy absent, pip crashing, a package's compiled module that Windows
could not load; the package a build from source is for, and the distribution that installs
an import name (or a compiled extension's file). Pure text,
no document: the document view (:mod:`pipguard.explain_doc`) and the rule modules read
these.
"""

from __future__ import annotations

import re

from packaging.utils import canonicalize_name

# The CUDA libraries torch and its extensions load (libX.so.N, X64_N.dll), by their names'
# stems: the nvidia-* wheels' and the toolkit's.
CUDA_LIB = (r"cudnn\w*|cublas\w*|cusparse\w*|cufft\w*|curand|cusolver\w*|nvjitlink|nvrtc\w*|"
            r"nccl|cudart|cupti|nvtoolsext|cufile|nvshmem|cudss|cutensor\w*|nvjpeg|npp\w*|"
            r"nvinfer\w*|nvonnxparser|nvparsers")  # (the last three: TensorRT's)

# torch's own shared libraries (torch/lib/*, torch/_C*).
OWN_LIB = r"(?:libtorch\w*|libc10\w*|libshm|c10\w*|torch_\w+|_C[\w.-]*|fbgemm|asmjit|shm)"
# A path to one of them: under a torch folder, in a prefix's lib/ (conda's /opt/conda/lib/
# libtorch_cpu.so), or by its own name elsewhere (not a user's build/libtorch_ext.so).
TORCH_LIB_PATH = (rf"[/\\]torch[/\\]+(?:lib[/\\]+\w|{OWN_LIB}\.)|[/\\]lib[/\\]+lib(?:torch|c10|"
                  r"caffe2)(?:_\w+)?\.(?:so|dylib)|(?:^|[/\\])lib(?:torch(?:_(?:cpu|cuda(?:_cu|"
                  r"_cpp|_linalg)?|hip|xpu|python|global_deps|nvshmem))?|c10(?:_(?:cuda|hip|xpu))?|"
                  r"caffe2_nvrtc|shm)\.(?:so|dylib)")  # (a prefix's lib/; by name elsewhere)
# Names every torch has had (since 0.4, 2018: dtype, float16, float32, int64, device, no_grad):
# missing, the module imported is not the installed torch. As written: a user's
# `torch.size(x)` is a typo, not another module.
TORCH_CORE = (r"(?-i:cuda|[Tt]ensor|nn|__version__|version|device|dtype|Size|float32|float16|"
              r"int64|zeros|ones|randn|rand|cat|stack|save|load|manual_seed|no_grad|from_numpy|_C|"
              r"utils|optim|autograd|backends|jit|onnx|multiprocessing|distributions|"
              r"serialization)")
# A C++ symbol of torch's namespaces (c10::, at::, torch::; caffe2::, whose TypeMeta torch 1.x
# exported from its own libraries): code built for another torch.
# (mangled: a function's _ZN..., a class's typeinfo or vtable _ZTIN/_ZTVN/_ZTSN..., a thunk's
# _ZThn16_N... or _ZTv0_n24_N...; the namespace where a nested name starts, so cv2's
# 12attributeMap and std::vector's ...E2at are not at::; c10d's too; torch's Python bindings,
# THPVariable_Wrap; or demangled)
TORCH_SYMBOL = (r"_Z(?:T[ISV]|Th?n?\d+_|Tv\d+_n\d+_)?N(?:\w{0,300}?N)?[KVr]{0,3}(?:3c10|2at|5torch|"
                r"4c10d|6caffe2)|"
                r"_Z\d+THP[A-Z]\w|^torch_\w+|^(?:c10|at|torch)::")

# A package's compiled module failing to load, where the traceback's last import names it
# (``from torchvision import _C``; Python before 3.8 does not name the module in Windows'
# message, and a companion's module is also called _C): Windows' "DLL load failed", or the
# CUDA runtime library of another release missing on Linux. Groups 1 or 2: the package's
# import name.
_EXTENSION_LOAD = re.compile(
    r"^[ \t]*(?:-+>[ \t]*\d+[ \t]+)?(?:from[ \t]+([A-Za-z]\w*)(?:\.\w+)*(?:[ \t]+import[ \t]+"
    r"(?:\w+[ \t]*,[ \t]*)*_C\b|\._C\b)|import[ \t]+([A-Za-z]\w*)(?:\.\w+)*\._C\b)[^\n]*"
    r"(?:\n(?![ \t]*(?:-+>[ \t]*\d+[ \t]+)?(?:from|import)[ \t])[^\n]*){0,8}?\n[^\n]*"
    rf"(?:(?P<dll>DLL load failed\b)|lib(?:{CUDA_LIB})\.so[\d.]*: cannot open shared object)",
    re.M)

# The NVIDIA driver's version as collect_env ("Nvidia driver version: 535.104.05") or
# nvidia-smi's header ("Driver Version: 470.82.01") shows it: group 1 or 2.
DRIVER_SHOWN = r"Nvidia driver version: (\d[\d.]*)|Driver Version: (\d[\d.]*)"

# Windows out of commit memory (RAM plus the page file) while loading DLLs: memory, not a
# missing library, whatever DLL the message names (1455: the page file; 8: memory itself).
PAGE_FILE = (r"WinError 1455|paging file is too small|WinError 8\]|Not enough memory resources "
             r"are available to process this command")

# An install going on to succeed after what looked like a failure: pip's, uv's, conda's last
# words (a warning the tool went past is not its failure).
SUCCEEDED = re.compile(r"Successfully installed|^[ \t]*\+ \S+==|^Installed \d+ packages?|"
                       r"Executing transaction: done", re.M)

# The text is an install: a download, an installer's frames or command line or cache, conda's
# package cache or errors.
INSTALLING = (r"Downloading |Collecting |[/\\]pip[/\\](?:_internal|_vendor|\w+\.py)|"
              r"\bpip3? install|\buv (?:pip|add|sync)|\bpoetry (?:add|install)|Installing |Could "
              r"not install packages|\.whl\b|Unpacking |(?m-i:^[ \t]*(?:[×x]|error:)[ \t]+Failed "
              r"to (?:download|install|extract))|distribution cache|NoSpaceLeftError|"
              r"[/\\]pkgs[/\\]|Conda\w{0,30}Error|This error originates from a subprocess, and is "
              r"likely not a problem with pip|"
              # (an installer writing its cache: pip's HTTP and wheel caches, Poetry's
              # artifacts, uv writing into its own; not a program run from uv's archive)
              r"[/\\]pip[/\\](?:http(?:-v2)?|wheels)[/\\]|[/\\]pypoetry[/\\](?:[Cc]ache|artifacts)[/\\]|"
              r"failed to (?:write|persist|extract|create|copy)[^\n]{0,40}?[/\\]uv[/\\]")

# An installer refusing the certificate an index presents (pip's Python, uv's rustls): most
# often a company proxy or mirror that re-signs TLS with its own CA.
UNTRUSTED_TLS = (r"CERTIFICATE_VERIFY_FAILED|certificate verify failed|SSLCertVerificationError|"
                 r"problem confirming the ssl certificate|invalid peer certificate|UnknownIssuer|"
                 r"SSL certificate problem|SSL peer certificate or SSH remote key was not OK")

# ... a proxy refusing the way through, and no network at all (pip's urllib3 and the OS).
PROXY_REFUSED = r"ProxyError|Tunnel connection failed|Proxy Authentication Required"
OFFLINE = (r"NewConnectionError|Failed to establish a new connection|name resolution|"
           r"getaddrinfo failed|Name or service not known|ConnectTimeoutError|Connection refused|"
           r"Network is unreachable")

# torch.cuda.is_available() said to be False (on its line, or wrapped onto the next), or its
# value printed on the next line (a REPL's, a print's; a one-liner's several prints:
# explain_doc.cuda_false reads them line by line).
CUDA_FALSE = re.compile(
    r"\bcuda\.is_available\(\)[)\"'`]*[ \t]*(?:\n[ \t]*)?(?:(?::|->|→|==?|#|always|still|returns?|"
    r"returned|returning|is|was|gives|gave|as|shows?|prints?|outputs?)[ \t]*){0,2}"
    r"(?:\n[ \t]*)?[`'\"]?False\b|\bcuda\.is_available\(\)[)\"'`; \t]*\n[ \t]*(?:(?:>>>|\.\.\.|"
    r"Out\[\d+\]:)[ \t]*)?(?:[^\s:=]+[ \t]+){0,2}False[ \t]*$|"
    # (frameworks saying the same: Lightning's banner, EasyOCR's notice)
    r"^GPU available: False\b|Using CPU\. Note: This module is much faster with a GPU",
    re.I | re.M)

# What a REPL or a one-liner prints for the expression before it, up to the value: the
# expression's close (its print's parenthesis, the quote ending ``python -c``), then on the next
# line IPython's ``Out[n]:`` and a string's quote (``torch.__version__`` -> ``'2.3.0+cu121'``).
ANSWERED = r"\)?[)\"'`;]*[ \t]*\n[ \t]*(?:Out\[\d+\]:[ \t]*)?['\"]?"

# ``python -c "...; print(torch.cuda.is_available())"``: the command line ends at its quote.
ONE_LINER = re.compile(r"\bcuda\.is_available\(\)\)[^\n\"']{0,200}[\"'][ \t]*$", re.M)
# What may print before its answer: another print's one word (2.4.0+cpu, None), a warning
# torch gave on the way and its source line, indented.
ON_THE_WAY = re.compile(r"[ \t]*(?:\S{1,40}[ \t]*)?|[^\n]*Warning\b[^\n]*|[ \t]{2,}\S[^\n]*", re.I)


def one_liner_false(text: str) -> re.Match[str] | None:
    """CUDA's answer printed by a one-liner, where it is False: of the True/False lines after
    the command (its other prints' words, torch's warnings between them), the one in the
    place of ``cuda.is_available()`` among the command's ``is_available()`` prints (another
    device's may come first). Read line by line: no pattern spans the lines."""
    for m in ONE_LINER.finditer(text):
        command = text[text.rfind("\n", 0, m.start()) + 1:m.end()]
        devices = re.findall(r"\b(\w+)\.is_available\(\)", command)
        place, pos, answers = devices.index("cuda"), m.end() + 1, 0
        for _ in range(8 + place):
            end = text.find("\n", pos)
            line = text[pos:] if end < 0 else text[pos:end]
            if answer := re.fullmatch(r"[ \t]*(True|False)[ \t]*", line):
                if answers == place:
                    return (re.compile(r"[ \t]*False").match(text, pos)
                            if answer.group(1) == "False" else None)
                answers += 1
            elif not ON_THE_WAY.fullmatch(line):
                break
            if end < 0:
                break
            pos = end + 1
    return None


# uv's derivation when a Python (this one, --python-version's, or a project's requires-python
# range: the caller's part before it) is outside what a dependency supports: "... does not
# satisfy Python>=3.9 and torch==2.6.0 depends on Python>=3.9" (terminals wrap it anywhere).
UV_PYTHON_DERIVATION = (
    r"\)\s+does\s+not\s+satisfy\s+Python\s?(?P<need>[<>=!~][^\s,]{1,40}(?:,[<>=!~][^\s,]{1,40})*)"
    r"\s+and\s+(?:all\s+versions\s+of\s+)?(?P<dep>[A-Za-z][\w.-]{0,80}(?:\[[\w,-]{1,80}\])?"
    r"(?:[<>=!~]+[^\s,<>=!~][^\s,]{0,40}(?:,[<>=!~]+[^\s,<>=!~][^\s,]{0,40})*)?)\s+depends?\s+on"
    r"\s+Python")

# NumPy not installed at all (torch runs without it): not a mismatch of its ABI.
NUMPY_ABSENT = r"No module named '?numpy'?(?![\w.])"

# pip crashing (an exception it did not expect, not an error it reports): its traceback
# follows "Exception:", on the next line or, in a reflowed paste, the same one.
PIP_CRASH = r"(?<![\w.])Exception:\s*Traceback"
# A package being built from source: pip's progress line or summary, uv's summary. (A local
# project, ``LOCAL_SOURCE``, is built the same way and is no index's to upgrade.)
_BUILDING = re.compile(r"(?:Failed building|Building) wheel for ([A-Za-z][\w.-]*)|Failed to build "
                       r"`([A-Za-z][\w.-]*?)(?:==|`| @)")
LOCAL_SOURCE = (r"^[ \t]*(?:Processing|Obtaining) (?:file:|\.{0,2}/|~|[A-Za-z]:\\)|Building "
                r"editable for|Running setup\.py develop for")


def last_built(text: str, end: int | None = None) -> str:
    """The last package the text names as built from source (before ``end``), else ""."""
    names = _BUILDING.findall(text, 0, len(text) if end is None else end)
    return next((a or b for a, b in reversed(names)), "")


# Import names a distribution of another name installs, and (None) those no single
# distribution on PyPI installs: NVIDIA apex and flash-attention's csrc extensions are built
# from source (PyPI's `apex` is another project); paddle and faiss come as a CPU and a GPU
# build, cupy per CUDA release, cv2 in four variants; detectron2 and tiny-cuda-nn from git.
# A fix that installed the import name would fetch another project, or the wrong build.
_DISTRIBUTIONS: dict[str, str | None] = {
    "awq": "autoawq", "awq_ext": "autoawq-kernels", "auto_gptq": "auto-gptq",
    "autogptq_cuda_64": "auto-gptq", "autogptq_cuda_256": "auto-gptq",
    "exllama_kernels": "auto-gptq", "exllamav2_kernels": "auto-gptq",
    "selective_scan": "mamba-ssm", "llama_cpp": "llama-cpp-python", "PIL": "pillow",
    "sklearn": "scikit-learn", "skimage": "scikit-image", "yaml": "pyyaml",
    "MinkowskiEngine": "minkowskiengine",
    **dict.fromkeys(("apex", "amp_C", "fused_layer_norm_cuda", "rotary_emb", "dropout_layer_norm",
                     "fused_dense_lib", "xentropy_cuda_lib", "paddle", "faiss", "cupy",
                     "cupy_backends", "cv2", "detectron2", "tinycudann", "onnxruntime")),
}


# ... and, of those, the ones whose distributions are builds of one project: which one is
# installed says which to reinstall (GPU builds first: a CUDA failure is theirs).
VARIANTS: dict[str, tuple[str, ...]] = {
    "paddle": ("paddlepaddle-gpu", "paddlepaddle"),
    "faiss": ("faiss-gpu-cu12", "faiss-gpu-cu11", "faiss-gpu", "faiss-cpu"),
    "cupy": ("cupy-cuda13x", "cupy-cuda12x", "cupy-cuda11x", "cupy"),
    "cv2": ("opencv-contrib-python-headless", "opencv-contrib-python", "opencv-python-headless",
            "opencv-python"),
    # (a CPU reinstall beside onnxruntime-gpu would overwrite its files with the CPU build's)
    "onnxruntime": ("onnxruntime-gpu", "onnxruntime-directml", "onnxruntime-openvino",
                    "onnxruntime"),
}
VARIANTS["cupy_backends"] = VARIANTS["cupy"]


def extension_load(text: str, companions: tuple[str, ...]) -> re.Match[str] | None:
    """The first compiled module of a package other than torch that failed to load once
    torch's own libraries had (:data:`_EXTENSION_LOAD`): built for another torch, not a
    runtime library of torch's missing. On Linux only a companion's (``companions``: built
    per torch release and CUDA variant, it uses torch's CUDA runtime), since another
    extension may bring or expect a CUDA runtime of its own."""
    ours = {canonicalize_name(c) for c in companions}
    return next((m for m in _EXTENSION_LOAD.finditer(text)
                 if (name := canonicalize_name(m[1] or m[2])) != "torch"
                 and (m["dll"] or name in ours)), None)


def distribution(module: str, *, extension: bool = False) -> str | None:
    """The distribution (canonical name) that installs import name ``module``; ``None`` where
    no single distribution on PyPI does (:data:`_DISTRIBUTIONS`). For a compiled extension's
    own module (``extension``: a file, ``flash_attn_2_cuda``) a ``_cuda``/``_C``/``_ext``
    suffix is dropped where the whole name is not known (a package's folder keeps its name:
    ``emd_cuda`` is not PyPI's ``emd``)."""
    keys = (module, re.sub(r"(?:_\d+)?_(?:cuda|C|ext)(?:_\d+)?$", "", module)) if extension \
        else (module,)
    for key in keys:
        if key in _DISTRIBUTIONS:
            name = _DISTRIBUTIONS[key]
            return str(canonicalize_name(name)) if name else None
    return str(canonicalize_name(keys[-1]))


def ext_module(path: str) -> tuple[str, bool] | None:
    """The import name a compiled extension under site-packages belongs to, by its folder or
    its own file, and whether it is the file: ``.../site-packages/flash_attn_2_cuda.cpython-
    310-...so`` -> ``("flash_attn_2_cuda", True)``, ``.../site-packages/lmdeploy/lib/_turbo
    mind...so`` -> ``("lmdeploy", False)``; ``None`` outside site-packages."""
    m = re.search(r"(?:site|dist)-packages[/\\]+([A-Za-z]\w*)(\.)?", path)
    return (m.group(1), m.group(2) is not None) if m else None


# What only uv prints (its command lines, its `×`/`╰─▶` error tree, its variables and cache)
# and what only Poetry prints (its commands, its solver's and installer's sentences).
_UV = re.compile(r"\buv (?:pip|add|sync|lock|run|tool|venv)\b|(?<!\w)[×x] No solution found when|"
                 r"(?<!\w)[×x] Failed to (?:download|build(?! installable wheels)|fetch|"
                 r"prepare)|╰─▶|^error: Failed to "
                 r"(?:download|fetch|prepare|extract|unzip|resolve|install|determine "
                 r"installation plan)|\(os error \d+\)|A (?:URL|path) dependency is incompatible "
                 r"with the current platform|^[ \t]*`-> |\bUV_[A-Z_]{3,}|"
                 r"[/\\]uv[/\\](?:cache|python)\b|\.cache[/\\]uv\b|\buv\.lock\b|"
                 r"Caused by: Failed to (?:fetch|download|extract|unzip|read)|^Resolved \d+ "
                 r"packages? in \d|@ registry\+http|^hint: You're (?:on|using) |"
                 r"Requirements contain conflicting indexes for package|only has wheels for the "
                 r"following platforms|has no wheels (?:are available )?with a matching|"
                 r"^You're (?:on|using) \w+ (?:[\d.]+ )?\(`|"
                 r"^[ \t]*(?:[╰├]─▶[ \t]*)?(?:And because|Because) [^\n]*we can conclude that|"
                 r"^hint: (?:You require|Wheels are available for)|"
                 r"was found on \S+,?\s+but\s+not\s+at\s+the\s+requested|"
                 r"Failed to uninstall package at|is broken or incomplete \(unable to read|has "
                 r"multiple installed distributions|Attempted to re-extract|The package `[^`]+` "
                 r"requires `|Cannot uninstall package; `RECORD`|^error: Distribution `", re.M)
_POETRY = re.compile(r"\bpoetry (?:add|install|lock|update|run|sync|show|source|env)\b|version "
                     r"solving failed|Installing dependencies from lock file|Updating dependencies"
                     r"|Package operations: \d+ install|Unable to find installation candidates|"
                     r"pypoetry|SolverProblemError|\bpoetry\.lock\b|^So, because |(?:depends "
                     r"on|requires) [\w.-]+ \([<>=!~^\d]|were skipped as your project's "
                     r"environment|No valid distribution links found|Could not find a matching "
                     r"version of package|current project's (?:supported )?Python (?:range|"
                     r"requirement)|IncompatibleConstraintsError|Installing \S+ \(\S+\): Failed|"
                     r"not found in known hashes|Invalid hash for|known checksums in your lock "
                     r"file|Retrieved digest for link|All attempts to connect to|"
                     r"^[ \t]*Package \S+ \(\S+\) not found\.|"
                     r"cannot be installed in the current environment \{|No usable hash type|"
                     r"checksum does not match expected value|were skipped (?:due to your "
                     r"installer\.|as the current project environment)|has published wheels "
                     r"available from your configured source|PEP517 build of a dependency|"
                     r"likely not a problem with poetry|Cannot install build-system\.requires|"
                     r"set the `python` property|Check your dependencies Python requirement|"
                     r"does not match the actual package's name",
                     re.I | re.M)


# pixi's conda solver, which prints its failures in uv's frames (miette's "×" and "╰─▶")
# (not `pixi run`, `pixi shell`: what runs there, uv too, prints its own)
_PIXI = re.compile(r"\bpixi (?:add|install|lock|update|upgrade|init|global)\b|\bpixi\.(?:toml|"
                   r"lock)\b|failed to solve the (?:conda|pypi) requirements|Cannot solve the "
                   r"request because of:", re.I)


def installer_of(text: str) -> str:
    """``uv``, ``poetry`` or ``pip``: which tool printed ``text`` (the first clear sign wins;
    ``pip`` when neither uv nor Poetry left one, or when pixi did: its fix is no uv command)."""
    signs = [(m.start(), name) for name, rx in (("uv", _UV), ("poetry", _POETRY), ("pip", _PIXI))
             if (m := rx.search(text))]
    return min(signs)[1] if signs else "pip"
