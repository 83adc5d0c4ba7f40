"""What the ``explain`` rules share: the context, the document view, parsing helpers.

The bottom of the explain modules: every rule module imports it, :mod:`pipguard.explain`
(the framework) imports them, and it none of them. Callers import :class:`Context` from here.

The knowledge tables come in through :class:`Context` as :class:`ExplainFacts`: exactly the
queries the rules ask, typed as :class:`pipguard.knowledge.Knowledge` answers them, so mypy
fails where a Context is built when a query is renamed or re-typed (and checks the tests' fakes).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pipguard.explain_phrases import (
    ANSWERED,
    CUDA_FALSE,
    OWN_LIB,
    VARIANTS,
    distribution,
    installer_of,
    one_liner_false,
)
from pipguard.findings import Finding
from pipguard.hardware import Hardware
from pipguard.lifecycle import ModuleChange, Retired
from pipguard.platforms import platform_of
from pipguard.variants import CC, cuda_of
from pipguard.wordmodel import WordModel


class ExplainFacts(Protocol):
    """The knowledge-table queries the explain rules ask (signatures as in ``Knowledge``)."""

    def newest_release(self) -> Version: ...
    def known_variants(self) -> tuple[str, ...]: ...
    def variants_for(self, torch_version: Version,
                     platform: str | None = None) -> tuple[str, ...]: ...  # fmt: skip
    def last_release_for_platform(self, platform: str) -> Version | None: ...
    def python_tags(self, v: Version, platform: str | None = None) -> tuple[str, ...] | None: ...
    def first_release_for_python(self, tag: str) -> Version | None: ...
    def last_release_for_python(self, tag: str) -> Version | None: ...
    def companions(self, torch_version: Version) -> dict[str, str]: ...
    def torch_for_companion(self, name: str, version: Version) -> Version | None: ...
    def numpy2_compatible(self, torch_version: Version, os: str) -> bool: ...
    def compat_floor(self, cuda_major: int, os: str) -> Version | None: ...
    def driver_cuda_api(self, driver: Version, os: str) -> Version | None: ...
    def first_release_with_cc(self, cc: CC, platform: str) -> tuple[Version, str] | None: ...
    def last_release_with_cc(self, cc: CC, platform: str) -> tuple[Version, str] | None: ...
    def gpu_family_name(self, cc: CC) -> str: ...
    def family(self) -> frozenset[str]: ...
    def index_mirrored(self, name: str) -> bool: ...
    def companion_names(self) -> tuple[str, ...]: ...
    def retirement(self, dist_name: str) -> Retired | None: ...
    def module_change(self, module: str) -> ModuleChange | None: ...
    def cpp_api_change(self, name: str) -> ModuleChange | None: ...


@dataclass(frozen=True)
class Context:
    """The knowledge tables, plus optional facts that sharpen the diagnosis."""

    facts: ExplainFacts
    hardware: Hardware | None = None
    installed: Mapping[str, str] = field(default_factory=dict)  # canonical name -> version
    python_version: str | None = None  # "3.11"
    platform: str | None = None  # "linux", "win32", "darwin"
    machine: str | None = None  # "x86_64", "arm64", ...
    # "pipguard": fixes as pipguard/pip commands; "auto": in the words of the tool that
    # printed the text (`uv pip install`, `poetry add`; see pipguard.explain_wording).
    wording: str = "pipguard"
    # The lean of a text's words, for a failure no rule reads (pipguard.explain_hints);
    # None: such a text gets only what its failing line names.
    words: WordModel | None = None


@dataclass(frozen=True)
class Doc:
    """The cleaned text plus the context, with the look-ups rules share."""

    text: str
    ctx: Context

    @property
    def facts(self) -> ExplainFacts:
        return self.ctx.facts

    def find(self, pattern: str, flags: int = re.I) -> re.Match[str] | None:
        return re.search(pattern, self.text, flags)

    def near(self, key: str, pattern: str, after: int = 0,
             before: int = 0) -> re.Match[str] | None:  # fmt: skip
        """The first of :meth:`near_all`."""
        return next(self.near_all(key, pattern, after, before), None)

    def near_all(self, key: str, pattern: str, after: int = 0,
                 before: int = 0) -> Iterator[re.Match[str]]:  # fmt: skip
        """``pattern`` searched only around each ``key`` hit (its line, ``after`` lines more,
        ``before`` lines earlier, at most 300 characters before it per line): for patterns
        that begin with an open-ended capture (``(\\S+) was not found``), which searched over
        the whole text cost quadratic time on long lines."""
        compiled, size = re.compile(pattern, re.I | re.S), len(self.text)
        for hit in itertools.islice(re.finditer(key, self.text, re.I), 20):
            start = hit.start()
            for _ in range(before + 1):
                start = self.text.rfind("\n", 0, max(start - 1, 0)) + 1
            start = max(start, hit.start() - 300 * (before + 1))
            end = hit.end()
            for _ in range(after + 1):
                end = self.text.find("\n", end + 1) if 0 <= end < size else size
            if m := compiled.search(self.text, start, min(end if end >= 0 else size,
                                                          hit.end() + 2000)):
                yield m

    def line(self, m: re.Match[str]) -> str:
        """The whole line(s) a match lies on: the evidence."""
        start, end = self.text.rfind("\n", 0, m.start()) + 1, self.text.find("\n", m.end())
        return evidence(self.text[start : end if end >= 0 else len(self.text)])

    def stopped_short(self, end: int) -> str | None:
        """The last download progress before ``end`` when short of complete ("42.6/607.0 MB",
        pip 20-21's "| 2140.7 MB 6.4 MB/s" against the file's size, an older bar's "7%")."""
        before = self.text[:end]
        bars = re.findall(r"(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?) ([kMG]B)\b", before)
        if bars and float(bars[-1][0]) < float(bars[-1][1]):
            return f"{bars[-1][0]}/{bars[-1][1]} {bars[-1][2]}"
        size = list(re.finditer(r"Downloading\s+\S+\s+\(([\d.]+) ([kMG]B)\)", before))[-1:]
        after = before[size[0].end():] if size else ""
        got = re.findall(r"\| ([\d.]+) ([kMG]B) [\d.]+ [kMG]B/s", after)
        if got and got[-1][1] == size[0][2] and float(got[-1][0]) < float(size[0][1]):
            return f"{got[-1][0]}/{size[0][1]} {got[-1][1]}"
        percent = re.findall(r"(?<![\d.])(\d{1,3})% \|", before)
        if not bars and percent and int(percent[-1]) < 100:
            return f"{percent[-1]}%"
        return None

    def installed(self, name: str, *, mentioned: bool = True) -> str | None:
        """The version of ``name`` from the context, else pip show's (Name:/Version:), else
        (``mentioned``) as the text names it anywhere (collect_env's label for torch, the
        answer printed to ``torch.__version__``)."""
        if got := self.ctx.installed.get(canonicalize_name(name)):
            return got
        forms = [rf"(?<![\w-]){re.escape(name)}(?:[ \t]*\r?\nVersion: {'|==| |-' * mentioned})",
                 # (collect_env's label; a REPL's or a one-liner's answer to torch.__version__,
                 # also as the first of a print's values; a label written before it)
                 rf"PyTorch(?: version)?: `?|\btorch\.__version__(?:{ANSWERED}|[ \t]*[:=]?[ \t]+)|"
                 r"\bprint\([ \t]*torch\.__version__[ \t]*,[^\n]*\n[ \t]*"
                 if name == "torch" and mentioned else "(?!)"]
        m = self.find(rf"(?:{'|'.join(forms)})(\d+\.\d+[\w.]*(?:\+\w[\w.]*)?)")
        return m.group(1).rstrip(".") if m else None

    def platform(self) -> str | None:
        """``win32``/``darwin``/``linux``: the text's own evidence first, then the context."""
        for name, sign in (("win32", r"[A-Z]:\\|\\site-packages|win_amd64|WinError|\bwin-64\b"),
                           ("darwin", r"/Users/|macosx_|\bosx-(?:64|arm64)\b"),
                           ("linux", r"/usr/|/home/|/opt/|manylinux|linux_x86")):
            if self.find(sign, 0):
                return name
        return self.ctx.platform or (self.ctx.hardware.os if self.ctx.hardware else None)

    def installer(self) -> str:
        """``uv``, ``poetry`` or ``pip``: the tool that printed the text (:func:`installer_of`)."""
        return installer_of(self.text)

    def requested(self) -> list[str]:
        """The requirements of the install command line in the text (pip, uv or Poetry)."""
        m = self.find(r"(?:\bpip3?|\buv pip|\buv|\bpoetry) (?:install|add) ([^\n]+)")
        return requested_in(m.group(1)) if m else []

    def machine(self) -> str | None:
        return self.ctx.machine or (self.ctx.hardware.machine if self.ctx.hardware else None)

    def python(self) -> str | None:
        """``"3.11"``: from paths, tags or a banner in the text (or Windows' launcher run as a
        command: ``py -3.11``), else from the context."""
        if m := self.find(r"python3\.(\d+)(?:[/\\]|(?= -m\b))|Python3(\d\d)[/\\]|\bcp3(\d+)\b|"
                          r"Python 3\.(\d+)|(?:^|(?<=\n)|[>$&|;]) ?py(?:\.exe)? -3\.(\d+)\b"):
            return f"3.{next(g for g in m.groups() if g)}"
        pv = self.ctx.python_version
        return ".".join(pv.split(".")[:2]) if pv else None

    def kb_platform(self) -> str:
        """The tables' platform name (``linux_x86_64``...) for the text's OS and machine."""
        return platform_of(self.platform() or "linux", self.machine() or "x86_64")

    def newest_release(self) -> Version | None:
        """The newest torch release the tables list; ``None`` when they list none."""
        try:
            return self.facts.newest_release()
        except LookupError:  # empty release table
            return None

    def companion_for(self, torch_version: str, name: str) -> str | None:
        """The companion release (torchvision ...) made for ``torch_version``."""
        v = _v(_public(torch_version))
        return self.facts.companions(v).get(canonicalize_name(name)) if v else None

    def companions_shown(self) -> list[str]:
        """The companions installed or named in the text: a torch moved must take them along."""
        return [c for c in self.facts.companion_names() if c != "torch" and (
            c in self.ctx.installed or re.search(rf"(?<![\w.-]){c}(?![\w-])", self.text))]



def evidence(line: str) -> str:
    """A line as a finding shows it: stripped, cut to 400 characters."""
    line = line.strip()
    return line if len(line) <= 400 else line[:397] + "..."


def uv_conflict(doc: Doc) -> bool:
    """uv's derivation ending in requirements that cannot hold together ("... are
    incompatible", "your requirements are unsatisfiable"), where what it says is available
    ("only X<=V is available") is what every requirement of X takes: a conflict; "only X is
    available" is then a step, not a missing release."""
    if not doc.find(r"we can conclude that\s{1,20}[^\n]{0,200}?\s{1,20}(?:are incompatible|"
                    r"requirements are unsatisfiable)"):
        return False
    for name, spec in re.findall(r"only ([A-Za-z][\w.-]{0,100}?)([<>=!~]=?\S{0,60})? is "
                                 r"available", doc.text):
        top = _v(spec.lstrip("<>=!~")) if spec else None  # the newest there is
        if top is None:
            return False  # (no version said: nothing to weigh the requirements against)
        for need in re.findall(rf"(?:depends on|you require) ({re.escape(name)}[<>=!~][^\s,]*"
                               rf"(?:,[<>=!~][^\s,]*)*)", doc.text):
            req = _req(need)
            if req and not req.specifier.contains(top, prereleases=True):
                return False  # a requirement needs a release past what there is: missing
    return True


def requested_in(arguments: str) -> list[str]:
    """The requirements an install command's arguments name: not options, nor the value that
    follows an option (but for the few that take none), nor paths."""
    words = arguments.split()
    flags = ("-U", "--upgrade", "--pre")  # options that take no value
    return [str(r) for prev, w in zip(["", *words], words, strict=False)
            if not w.startswith("-") and "/" not in w and (r := _req(w))
            and not (prev.startswith("-") and "=" not in prev and prev not in flags)]


def _cmd(*parts: str) -> str:
    """A shell command line; arguments with shell metacharacters are double-quoted."""
    return " ".join(f'"{p}"' if re.search(r"[<>|&;*?$ !]", p) else p for p in parts if p)


def _v(text: object) -> Version | None:
    if text is None or isinstance(text, Version):
        return text
    try:
        return Version(str(text).strip())
    except (InvalidVersion, ValueError):  # (a number past Python's digit limit, too)
        return None


def _req(text: str) -> Requirement | None:
    """A requirement as pip/uv print it, tolerating quotes and trailing junk."""
    raw = text.split(" (from", 1)[0].strip()  # (whole first: a marker's quotes are its own)
    bare = raw.strip("'\"`").rstrip(".,;:)")
    for candidate in dict.fromkeys((raw, bare, bare.split(" ")[0].rstrip(".,;:)"))):
        try:
            return Requirement(candidate.replace("===", "=="))
        except InvalidRequirement:
            continue
    return None


def _spec(text: str) -> SpecifierSet | None:
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None


def _public(version: str) -> str:
    return version.split("+", 1)[0]


def _label(version: str | None) -> str | None:
    return version.split("+", 1)[1] if version and "+" in version else None


def _pin(name: str, version: str | None) -> str:
    return f"{name}=={version}" if version else name


def _cuda_of(label: str | None) -> str | None:
    """``cu128`` -> ``"12.8"`` (the one variant parser: :mod:`pipguard.variants`)."""
    cuda = cuda_of(label) if label else None
    return str(cuda) if cuda is not None else None


def _reinstall_torch(doc: Doc, *extra: str, exact: bool = False, upto: str | None = None) -> str:
    """``pipguard install --force-reinstall torch==V [companions]``: re-plans the variant."""
    torch = doc.installed("torch")
    version = torch if exact else (_public(torch) if torch else None)
    have, limit = _v(version or ""), _v(upto or "")
    spec = f"torch<={upto}" if limit and not (have and have <= limit) else None
    return _cmd("pipguard", "install", "--force-reinstall", *extra, spec or _pin("torch", version),
                *(c for c in doc.facts.companion_names() if c in doc.ctx.installed))


def _frames(doc: Doc, m: re.Match[str]) -> list[tuple[str, str]]:
    """The packages the last traceback before ``m`` ran through (with ``_ops.py`` if that)."""
    tb = doc.text[doc.text.rfind("Traceback (most", 0, m.start()) + 1 : m.start()].split("\n")
    return [f for x in tb if "Warning" not in x  # (the last traceback's; a warning's path: no)
            for f in re.findall(r"(?:site|dist)-packages[/\\]+([A-Za-z]\w*)([/\\]+_ops\.py)?", x)]


# A traceback's frame line: CPython's (File "path", line N) or IPython's (File path:N).
_FRAME = re.compile(r'^[ \t]*File (?:"([^"\n]+)"|(\S+?):\d+)', re.M)


def frame_paths(text: str) -> list[str]:
    """The file of each traceback frame in ``text``, CPython's or IPython's, in order."""
    return [quoted or bare for quoted, bare in _FRAME.findall(text)]


def _importer(doc: Doc, m: re.Match[str]) -> str | None:
    """The package whose code was loading when ``m`` failed (its last frame, torch's
    ``_ops.py`` skipped: it loads a companion's library; with no frames, the ``import`` line
    that ran), by its import name; ``None`` when it is torch itself."""
    before, frames = doc.text[: m.start()], _frames(doc, m)
    stated = re.findall(r"^[ \t]*(?:(?:>>>|\.\.\.)[ \t]+)?(?:from|import) ([A-Za-z]\w*)", before,
                        re.M)  # (a REPL's prompt before it)
    last = next((p for p, ops in reversed(frames) if not ops), None) if frames else (
        stated[-1] if stated else None)
    return None if last in (None, "torch") else last


def _reinstall_alone(doc: Doc, module: str, *, extension: bool = False) -> str:
    """``pipguard install --force-reinstall --no-deps`` :func:`distribution_here`, else
    ``pipguard doctor`` (which names the packages that do not match)."""
    dist = distribution_here(doc, module, extension=extension)
    return _cmd("pipguard", "install", "--force-reinstall", "--no-deps", dist) if dist \
        else "pipguard doctor"


def distribution_here(doc: Doc, module: str, *, extension: bool = False) -> str | None:
    """The distribution of import name ``module`` (an extension's own: ``extension``): PyPI's
    one, else of a project's builds (onnxruntime's, cupy's) the one the text shows installed."""
    return distribution(module, extension=extension) or next(
        (d for d in VARIANTS.get(module, ()) if doc.installed(d)), None)


Rule = Callable[[Doc], Iterable[Finding]]


def undefined_symbol(doc: Doc) -> re.Match[str] | None:
    """``lib: undefined symbol: sym`` (Linux) or ``dlopen(lib) ... Symbol not found: _sym``
    (macOS, whose C symbols carry one more leading underscore); ``lib`` may be empty (a
    paste of the last line only), and the colon too where a symbol's name follows (a user's
    retelling: ``undefined symbol ncclCommRegister``)."""
    return doc.near("undefined symbol", r"(?:(?P<lib>[^\s'\"]+?\.(?:so|pyd|dylib)[\d.]*):\s*)?"
                    r"undefined symbol(?::\s*|\s+(?=_Z\w|[a-z]\w*[A-Z_]))(?P<sym>\S+)", after=1,
                    before=1) or doc.near(
        "Symbol not found:? ", r"(?:dlopen\()?(?P<lib>[^\s,'\"()]+?\.(?:so|dylib)|)[^\n]*?Symbol "
        r"not found:? _?(?P<sym>\S+)")


def cuda_false(doc: Doc) -> re.Match[str] | None:
    """``torch.cuda.is_available()`` shown False (:data:`CUDA_FALSE`), not in code (``if …
    is_available()``, ``… else``) nor a test's skip; or a one-liner's first answer False; or a
    label's ("CUDA available: False", collect_env's "Is CUDA available: False") beside a CUDA
    build (beside a CPU build, on a machine with no GPU, the label is a healthy dump's)."""
    return next((m for m in CUDA_FALSE.finditer(doc.text) if not re.search(
        r"\bif (?:not )?(?:torch\.)?cuda\.is_available\(\)|is_available\(\)\)? else\b|\bskip\w*",
        doc.line(m), re.I) and doc.line(m).count("is_available()") < 2), None) or (
        one_liner_false(doc.text)) or (  # (several devices' answers: which is CUDA's, by place)
        doc.find(r"^[ \t]*(?:Is )?CUDA available:[ \t]*False\b", re.I | re.M)
        if doc.find(r"\d\+cu\d|CUDA used to build PyTorch: \d") else None)


def torch_lib_failure(doc: Doc) -> re.Match[str] | None:
    """One of torch's own libraries failing to load (missing, or from another build)."""
    return doc.find(rf"(?:[/\\]torch[/\\]+(?:lib[/\\]+)?|(?<![/\\\w])){OWN_LIB}\.(?:so|dll|dylib|"
                    rf"pyd)[\w.]*[^\n]*?(?:cannot open|No such file)|Incompatible library "
                    rf"version: {OWN_LIB}\.dylib requires|WinError 12[67][^\n]*?[/\\]"
                    rf"torch[/\\]+lib[/\\]+{OWN_LIB}\.dll|DLL load failed while importing _C\b"
                    rf"|WinError 127[^\n]*?[/\\]torch[/\\]+lib[/\\]+\w+\.dll")
