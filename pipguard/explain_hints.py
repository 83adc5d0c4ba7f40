"""``explain``'s last resort: a probable cause from what a failure names, when no rule fires.

The rules (:mod:`pipguard.explain`) key on the sentence a tool prints for one kind of
failure. A text in a wording none of them knows (another launcher's message, a library's own
check, a paraphrase) gets nothing from them; it may still name its cause: a CUDA library next
to "not found", an ``sm_XX`` next to "not supported", a companion next to "undefined symbol".
These hints read such pairs on the line where the failure ends (the last line that reports
one, not a log's INFO or WARNING line, with nothing succeeding after it: banners, tips and
warnings above it are not the failure), and say so: an ``info`` finding ("probably ..."),
ranked below any rule's.

Where no pair is named on that line, or no line reports a failure in the words these know (a
torch warning, a ``False``, a library's own sentence) and nothing in the text succeeded,
the lean of the text's words may be said instead: the word model (:mod:`pipguard.wordmodel`,
fitted on the training records only) names a category when it finds it at least ``LEAN``
likely (``LEAN_QUIET`` where no line fails) and it is one with a cause here (not ``UNRELATED``,
a healthy output or a failure with another cause; not a package's index, whose evidence words
do not give; memory or disk only in an install). It is said as a guess, to be checked;
``install`` never acts on a probable cause (:mod:`pipguard.pipfailure`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from pipguard.explain_doc import Doc, Rule, evidence
from pipguard.explain_phrases import CUDA_LIB, INSTALLING, NUMPY_ABSENT, SUCCEEDED
from pipguard.findings import Finding
from pipguard.wordmodel import WordModel, features

# A line that reports a failure (a traceback's last line, an error line, a failed step) ...
# ("not found", "not available" alone are not: a run says them and goes on)
_FAILED = re.compile(r"\b\w*(?:Error|Exception)\b|\b(?:error|failed|failure|fatal|aborting)\b|"
                     r"\bKilled\b|\[(?:Errno|WinError) \d+\]", re.I)  # (an OSError's own words)
# ... unless it is a log's information or a warning (glog's I/W prefixes, level=info).
_NOTICE = re.compile(r"^[ \t]*(?:\[?(?:INFO|WARN(?:ING)?|DEBUG|NOTICE)\]?\b|[IW]\d{4} )|\blevel="
                     r"(?:info|warn\w*|debug)\b|\bwarn(?:ing)?s?\b|\b\w+Warning\b|\bINFO\b", re.I)

_W = r"[^\n]{0,160}?"  # the two names of a pair: on one line
# ... named as a library: a file (libX, X64_N.dll) or the library's own capitalised name, not a
# folder or an image tag that contains the letters
_LIB = (rf"\blib(?:{CUDA_LIB})\b|\b(?:{CUDA_LIB})(?:64_\w+)?\.(?:so|dll|dylib)\b|(?-i:\b(?:cuDNN|"
        rf"cuBLAS\w*|cuSPARSE|cuFFT|cuRAND|cuSOLVER|NCCL|NVRTC|cuDSS|cuTENSOR)\b)")
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
     rf"(?:{_LIB})\S*{_W}(?:{_LOAD})|(?:{_LOAD}){_W}(?:{_LIB})",
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
    ("companion-mismatch", rf"\b(?:{_COMPANIONS})\b{_W}(?:{_BREAKS})",
     "a package built against torch (a companion or an extension) does not match the installed "
     "torch release or variant", "pipguard doctor"),
    ("cpu-build-on-gpu",
     r"\d\+cpu\b|\bCPU[- ]only (?:build|version|torch|pytorch|wheel)|\bcpuonly\b",
     "a CPU-only torch is installed where a GPU build was meant",
     "pipguard install --force-reinstall torch"),
    ("gpu-build-without-gpu",
     r"\bno (?:\w+ )?(?:NVIDIA |CUDA |usable )?GPUs?\b(?! (?:required|needed))|\bGPU (?:is )?not "
     r"(?:found|detected|available)|no CUDA[- ](?:capable )?devices?",
     "a GPU build found no usable GPU (none, no driver, or a container without --gpus)",
     "pipguard detect"),
    ("download-integrity",
     r"\b(?:wheel|\.whl|tarball|\.tar\.gz)\b[^\n]{0,120}?\b(?:corrupt\w*|truncated|incomplete|"
     r"checksum|hash|CRC|damaged)\b|\b(?:corrupt\w*|truncated|damaged)\b[^\n]{0,80}?\b(?:wheel|"
     r"\.whl|tarball|\.tar\.gz)\b",
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
# Per category: the probable cause and its fix, for a pair above or the words' lean. Memory
# or disk running out is guessed only where the text is an install (``INSTALLING``): a
# training run out of GPU memory leans the same way, and is no install's fault. Which index
# served a package is never guessed: the words alone do not give it, and a guess of an attack
# would alarm for nothing.
CAUSES: dict[str, tuple[str, str]] = {
    **{category: (cause, fix) for category, _, cause, fix in _HINTS},
    "resource-exhausted": ("memory or disk ran out while the installer downloaded, cached or "
                           "unpacked a large wheel",
                           "pipguard install --no-cache-dir torch")}
_ONLY_WHERE = {"resource-exhausted": INSTALLING}
# ... and no GPU-build category where the text shows CUDA working.
_WORKS = (r"cuda\.is_available\(\)[)\"'`]*[ \t]*(?:(?:[:=]|->|is|returns?)[ \t]*)?(?:\n[ \t]*)?"
          r"True\b|Is CUDA available: True|\+cu\d+[ \t]+True\b")  # (print(version, available))
_NOT_WHERE = {"cpu-build-on-gpu": _WORKS, "gpu-build-without-gpu": _WORKS,
              "numpy-abi": NUMPY_ABSENT}
# A package listing (pip list or freeze, conda list, a plan's table): no failure of its own.
# (Each part starts with what the one before cannot hold, so a row splits one way only.)
_LISTING_ROW = re.compile(
    r"[ \t]*(?:(?:[-*+][ \t]*)?[A-Za-z][\w.-]*(?:\[[\w,-]+\])?(?:[ \t]+|==?)v?\d[\w.+!*-]*"
    r"(?:(?:[ \t]+|=)[^\s=]+){0,4}|[-=─━|+](?:[-=─━|+]|[ \t]+[-=─━|+])*|#.*|(?:Package|Name)[ \t]+"
    r"Version.*)[ \t]*")
# How likely the model must find a category before it is said: where a line fails, and where
# none does and nothing succeeded (a healthy output is most often such a text, so the model
# must be surer). Chosen by 5-fold cross-validation on the training data only (`python
# scripts/fit_explain_words.py --cross-validate`): the most right guesses with no more false
# findings on the healthy outputs, nor on the unrelated failures, than the failing line alone
# gave.
LEAN = 0.5
LEAN_QUIET = 0.8
# What the whole text must also show for a hint to hold: a CPU build is only the wrong build
# where a GPU is in sight.
_CONTEXT = {"cpu-build-on-gpu": r"\b(?:cuda|gpu|nvidia)\b"}


def _last(text: str, reports: Callable[[str], bool]) -> str | None:
    """The last line ``reports`` holds for, when nothing succeeded after it."""
    lines = text.splitlines()
    last = next((i for i in range(len(lines) - 1, -1, -1) if reports(lines[i])), None)
    if last is None or SUCCEEDED.search("\n".join(lines[last + 1:])):
        return None
    return lines[last]


def _fails(line: str) -> bool:
    """A line that reports a failure, not a notice."""
    return bool(_FAILED.search(line)) and not _NOTICE.search(line)


def probable_cause(doc: Doc) -> Iterator[Finding]:
    """The first hint whose pair the failing line shows, else the words' lean (see the
    module's docstring)."""
    line = _last(doc.text, _fails)
    if line is not None and (hint := _hint(doc, line)) is not None:
        yield hint
        return
    words = doc.ctx.words
    if words is not None and (found := _guess(words, doc.text, line)) is not None:
        cause, fix = CAUSES[found]
        yield Finding(found, "info", f"probably: {cause}; a guess from the words of the text "
                      "(a model fitted on real failure texts), not a tool's own sentence for "
                      "it: check it", line.strip() if line is not None else
                      _telling(words, doc.text, found), fix)


def _hint(doc: Doc, line: str) -> Finding | None:
    """The first hint whose pair ``line`` shows (and whose context the text shows)."""
    for category, signal, cause, fix in _HINTS:
        context = _CONTEXT.get(category)
        if re.search(signal, line, re.I) and (context is None or doc.find(context)):
            return Finding(category, "info", f"probably: {cause}; read from what the failing "
                           "line names, not from a tool's own sentence for it", line.strip(),
                           fix)
    return None


def _telling(words: WordModel, text: str, category: str) -> str:
    """The line whose words lean most to ``category``: the evidence shown for a guess made
    where no line reports a failure."""
    k = words.categories.index(category)

    def pull(line: str) -> float:
        return sum(words.weights[f][k] for f in features(line) if f in words.weights)

    return evidence(max((line.strip() for line in text.splitlines() if line.strip()), key=pull,
                        default=""))


def _quiet(text: str) -> bool:
    """No line reports a failure (:func:`_fails`: in words ``_FAILED`` knows, not a notice),
    nothing succeeded, and it is not a bare package listing: a text whose failure is a
    warning, a ``False`` or a library's own sentence, or a healthy one."""
    lines = [line for line in text.splitlines() if line.strip()]
    return not (SUCCEEDED.search(text) or any(map(_fails, lines))
                or all(_LISTING_ROW.fullmatch(line) for line in lines))


def guess(words: WordModel, text: str) -> str | None:
    """The category the words of ``text`` lean to, where it may be said: a known cause,
    ``LEAN`` likely after a failing line, ``LEAN_QUIET`` where no line fails."""
    return _guess(words, text, _last(text, _fails))


def _guess(words: WordModel, text: str, failing: str | None) -> str | None:
    """:func:`guess`, given the text's failing line (``None``: none) already found."""
    if failing is not None:
        likely = LEAN
    elif _quiet(text):
        likely = LEAN_QUIET
    else:
        return None
    category, p = words.probabilities(text)[0]
    where, unless = _ONLY_WHERE.get(category), _NOT_WHERE.get(category)
    return category if (category in CAUSES and p >= likely and (
        where is None or re.search(where, text, re.I)) and (
        unless is None or not re.search(unless, text, re.I))) else None


RULES: tuple[Rule, ...] = (probable_cause,)
