"""``explain``'s last resort: a probable cause from what a failure names, when no rule fires.

The rules (:mod:`pipguard.explain`) key on the sentence a tool prints for one kind of
failure. A text in a wording none of them knows (another launcher's message, a library's own
check, a paraphrase) gets nothing from them; it may still name its cause: a CUDA library next
to "not found", an ``sm_XX`` next to "not supported", a companion next to "undefined symbol".
These hints read such pairs, only in a text that reports a failure and did not go on to
succeed, and say so: an ``info`` finding ("probably ..."), ranked below any rule's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipguard.explain_doc import Doc, Rule
from pipguard.findings import Finding

# A text that reports a failure (a traceback, an error line, a failed step).
_FAILED = re.compile(r"\w*(?:Error|Exception)\b|\b(?:error|failed|failure|fatal|abort\w*)\b|"
                     r"\bKilled\b|\bnot (?:found|available|supported|compatible)\b|\bcannot\b|"
                     r"\bcan't\b", re.I)
# ... and one that went on to succeed after it (a warning the tool went past).
_SUCCEEDED = re.compile(r"Successfully installed|^Installed \d+ packages?|Executing transaction: "
                        r"done|^[ \t]*\+ \S+==", re.M)

_W = r"[^\n]{0,160}?"  # the two names of a pair: on one line
_CUDA = (r"cudart|cublas\w*|cudnn\w*|nvrtc\w*|nccl|cusparse\w*|cufft\w*|curand|cusolver\w*|"
         r"nvjitlink|cupti|cudss|cutensor\w*")
_LOAD = (r"not found|cannot (?:open|find|load)|can't (?:open|find|load)|No such file|could not "
         r"(?:be )?(?:find|found|load|loaded|locate)|failed to (?:load|open|find)|missing|"
         r"undefined symbol|mismatch|incompatib\w*")
_COMPANIONS = (r"torchvision|torchaudio|torchtext|torchao|xformers|flash[_-]?attn|torch[_-]"
               r"(?:scatter|sparse|cluster|spline[_-]conv|geometric)|pytorch3d|mmcv|detectron2|"
               r"apex|deepspeed|vllm|causal[_-]conv1d|mamba[_-]ssm|selective_scan|natten|"
               r"torch_tensorrt|fbgemm_gpu")
_BREAKS = (r"undefined symbol|Symbol not found|DLL load failed|cannot import name|incompatible|"
           r"not compatible|mismatch|built (?:for|against)|compiled (?:for|against|with)|requires "
           r"torch|version conflict|is not supported with")

# (category, signal, probable cause, fix): the first whose signal the text shows.
_HINTS: tuple[tuple[str, str, str, str], ...] = (
    ("cuda-libraries",
     rf"\b(?:lib)?(?:{_CUDA})\b\S*{_W}(?:{_LOAD})|(?:{_LOAD}){_W}\b(?:lib)?(?:{_CUDA})\b",
     "a CUDA library torch or an extension loads is missing or is not the one it was built "
     "with (the nvidia-* wheels absent, or a system CUDA first on the library path)",
     "pipguard install --force-reinstall torch"),
    ("gpu-arch-unsupported",
     r"\bsm_\d{2,3}a?\b[^\n]{0,160}?(?:not (?:supported|compatible)|unsupported|invalid|unknown|"
     r"not defined)|(?:not (?:supported|compatible)|unsupported|no kernel)[^\n]{0,160}?(?:\bsm_\d"
     r"{2,3}|compute capability|\bcapability \d)",
     "the installed build has no kernels for this GPU's architecture (compute capability)",
     "pipguard plan"),
    ("driver-too-old",
     r"\bdriver\b[^\n]{0,80}?(?:too old|outdated|insufficient|older than|not support\w*|needs? "
     r"(?:to be )?updat\w*)|(?:update|upgrade)[^\n]{0,40}?\b(?:NVIDIA|GPU|graphics|display) "
     r"drivers?\b",
     "the NVIDIA driver is older than the CUDA build needs: update it, or install a build for "
     "an older CUDA", "pipguard detect"),
    ("numpy-abi",
     r"\bnumpy\b[^\n]{0,160}?(?:compiled|\bABI\b|binary incompatib|dtype size changed|_ARRAY_API"
     r"|C-API|API version|multiarray)|(?:compiled|\bABI\b|binary incompatib)[^\n]{0,80}?\bnumpy\b",
     "a compiled package was built for another NumPy major (1.x against 2.x)",
     'pipguard install "numpy<2"'),
    ("typing-extensions", r"\btyping_extensions\b",
     "the typing_extensions torch imports is missing or too old",
     "pipguard install --upgrade typing_extensions"),
    ("companion-mismatch", rf"\b(?:{_COMPANIONS})\w*{_W}(?:{_BREAKS})",
     "a package built against torch (a companion or an extension) does not match the installed "
     "torch release or variant", "pipguard doctor"),
    ("cpu-build-on-gpu",
     r"(?=[\s\S]*\b(?:cuda|gpu|nvidia)\b)(?:\d\+cpu\b|\bCPU[- ]only (?:build|version|torch|"
     r"pytorch|wheel)|\bcpuonly\b)",
     "a CPU-only torch is installed where a GPU build was meant",
     "pipguard install --force-reinstall torch"),
    ("gpu-build-without-gpu",
     r"\bno (?:\w+ )?(?:NVIDIA |CUDA |usable )?GPUs?\b(?! (?:required|needed))|\bGPU (?:is )?not "
     r"(?:found|detected|available)|no CUDA[- ](?:capable )?devices?",
     "a GPU build found no usable GPU (none, no driver, or a container without --gpus)",
     "pipguard detect"),
    ("download-integrity",
     r"\b(?:download\w*|wheel|\.whl|archive|tarball)\b[^\n]{0,120}?\b(?:corrupt\w*|truncated|"
     r"incomplete|checksum|hash|CRC|damaged)\b|\b(?:corrupt\w*|truncated|damaged)\b[^\n]{0,80}?"
     r"\b(?:download\w*|wheel|\.whl|archive|tarball)\b",
     "a download was cut off or damaged", "pip cache purge && pipguard install torch"),
    ("no-matching-distribution",
     r"\bno (?:compatible |matching |prebuilt )?(?:wheels?|distributions?|builds?|binar(?:y|ies)"
     r")\b[^\n]{0,60}?\b(?:for|available|found)\b|not available (?:for|on) (?:this|your) "
     r"(?:platform|python|architecture|system)|unsupported (?:platform|python version|"
     r"architecture)|requires? Python\s*[<>=]",
     "no build of it exists for this Python, platform or variant", "pipguard plan"),
    ("resolver-conflict",
     r"\b(?:dependency|version|requirement)s? conflicts?\b|\bconflicting (?:dependencies|"
     r"requirements|versions)\b",
     "the requested versions cannot all be installed together", "pipguard plan"),
    ("corrupt-install",
     r"(?:site|dist)-packages[/\\]+torch\b[^\n]{0,200}?(?:No such file|missing|corrupt\w*)|"
     r"partially (?:installed|uninstalled)|broken (?:install(?:ation)?|environment)",
     "torch's installed files are damaged or incomplete", "pipguard verify torch"),
)


def _said(doc: Doc, pattern: re.Pattern[str]) -> re.Match[str] | None:
    """The first match of ``pattern`` outside a warning's line (a warning the tool went past,
    "libcudart.so not found ... searching in backup paths", is not the failure)."""
    return next((m for m in pattern.finditer(doc.text)
                 if not re.search(r"warn", doc.line(m), re.I)), None)


def probable_cause(doc: Doc) -> Iterator[Finding]:
    """The first hint whose signal a failing text shows (see the module's docstring)."""
    failed = _said(doc, _FAILED)
    if not failed or _SUCCEEDED.search(doc.text, failed.end()):
        return
    for category, signal, cause, fix in _HINTS:
        if m := _said(doc, re.compile(signal, re.I)):
            yield Finding(category, "info", f"probably: {cause} (no tool's own sentence for "
                          "it is in the text; this is read from what it names)", doc.line(m),
                          fix)
            return


RULES: tuple[Rule, ...] = (probable_cause,)
