"""``pipguard explain``: turn failure text into findings (cause and fix).

Input is whatever a user pastes: pip or uv output, a Python traceback, a warning
printed by torch, ``collect_env`` output, a Docker build log. Each rule keys on
the *decisive signal* of one failure class (the sentence pip, uv, torch or numpy
prints for it, not a memorised example), parses what that sentence names
(requirements, versions, capabilities, library paths) with :mod:`packaging`, and
asks the knowledge tables (:mod:`pipguard.knowledge`; every query degrades to
"unknown") to sharpen the diagnosis. Text no rule recognises gives ``()``.
"""

from __future__ import annotations

import functools
import importlib
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from pipguard.findings import SEVERITIES, Finding
from pipguard.hardware import Hardware

COMPANIONS = ("torchvision", "torchaudio", "torchtext", "xformers", "torchao", "torchcodec")
FAMILY = frozenset(("torch", "triton", "pytorch-triton", *COMPANIONS))
_CUDA_LIB = (r"cudnn\w*|cublas\w*|cusparse\w*|cufft\w*|curand|cusolver\w*|nvjitlink|nvrtc\w*|"
             r"nccl|cudart|cupti|nvtoolsext|cufile|nvshmem")
# torch's own shared libraries (torch/lib/*, torch/_C*).
_OWN_LIB = r"(?:libtorch\w*|libc10\w*|libshm|c10\w*|torch_\w+|_C[\w.-]*|fbgemm|asmjit|shm)"
# A C++ symbol of torch's namespaces (c10::, at::, torch::): code built for another torch.
_TORCH_SYMBOL = r"_ZN\w*?(?:3c10|2at|5torch)"
# typing_extensions release that added a name (its changelog): the ones torch & co import.
_TYPING_EXT_SINCE = {
    "ParamSpec": "3.10", "TypeAlias": "3.10", "Self": "4.0", "Required": "4.0",
    "NotRequired": "4.0", "LiteralString": "4.1", "TypeVarTuple": "4.1", "Unpack": "4.1",
    "dataclass_transform": "4.1", "override": "4.4", "deprecated": "4.5",
    "TypeAliasType": "4.6", "Buffer": "4.6", "ReadOnly": "4.9", "TypeIs": "4.10",
    "NoDefault": "4.12", "CapsuleType": "4.12",
}
# When the tables can't answer: the variant that keeps sm_50..sm_70 (pytorch_facts.md §5).
_LEGACY_VARIANT = "cu126"
_PURGE = "pip uninstall -y torch torchvision torchaudio torchtriton && pip cache purge"


@dataclass(frozen=True)
class Context:
    """Optional facts that sharpen the diagnosis."""

    hardware: Hardware | None = None
    installed: Mapping[str, str] = field(default_factory=dict)  # canonical name -> version
    python_version: str | None = None  # "3.11"
    platform: str | None = None  # "linux", "win32", "darwin"
    machine: str | None = None  # "x86_64", "arm64", ...


@dataclass(frozen=True)
class _Doc:
    """The cleaned text plus the context, with the look-ups rules share."""

    text: str
    ctx: Context

    def find(self, pattern: str, flags: int = re.I) -> re.Match[str] | None:
        return re.search(pattern, self.text, flags)

    def near(self, key: str, pattern: str, after: int = 0) -> re.Match[str] | None:
        """The first of :meth:`near_all`."""
        return next(self.near_all(key, pattern, after), None)

    def near_all(self, key: str, pattern: str, after: int = 0) -> Iterator[re.Match[str]]:
        """``pattern`` searched only around each ``key`` hit (its line, ``after`` lines more).

        For patterns that begin with an open-ended capture (``(\\S+) was not found``):
        searched over the whole text they cost quadratic time on long lines.
        """
        compiled, size = re.compile(pattern, re.I | re.S), len(self.text)
        for hit in itertools.islice(re.finditer(key, self.text, re.I), 20):
            start = max(self.text.rfind("\n", 0, hit.start()) + 1, hit.start() - 300)
            end = hit.end()
            for _ in range(after + 1):
                end = self.text.find("\n", end + 1) if 0 <= end < size else size
            if m := compiled.search(self.text, start, min(end if end >= 0 else size,
                                                          hit.end() + 2000)):
                yield m

    def line(self, m: re.Match[str]) -> str:
        """The whole line(s) a match lies on: the evidence."""
        start, end = self.text.rfind("\n", 0, m.start()) + 1, self.text.find("\n", m.end())
        out = self.text[start : end if end >= 0 else len(self.text)].strip()
        return out if len(out) <= 400 else out[:397] + "..."

    def installed(self, name: str) -> str | None:
        """The version of ``name`` from the context, else as the text names it."""
        if got := self.ctx.installed.get(canonicalize_name(name)):
            return got
        label = "PyTorch version: " if name == "torch" else "(?!)"  # collect_env's line
        m = self.find(rf"(?:(?<![\w-]){re.escape(name)}(?:==| |-)|{label})(\d+\.\d+[\w.]*"
                      r"(?:\+\w[\w.]*)?)")
        return m.group(1).rstrip(".") if m else None

    def platform(self) -> str | None:
        """``win32``/``darwin``/``linux``: the text's own evidence first, then the context."""
        for name, sign in (("win32", r"[A-Z]:\\|\\site-packages|win_amd64|WinError"),
                           ("darwin", r"/Users/|macosx_"),
                           ("linux", r"/usr/|/home/|/opt/|manylinux|linux_x86")):
            if self.find(sign, 0):
                return name
        return self.ctx.platform or (self.ctx.hardware.os if self.ctx.hardware else None)

    def machine(self) -> str | None:
        return self.ctx.machine or (self.ctx.hardware.machine if self.ctx.hardware else None)

    def python(self) -> str | None:
        """``"3.11"``: from paths, tags or a banner in the text, else from the context."""
        if m := self.find(r"python3\.(\d+)[/\\]|Python3(\d\d)[/\\]|\bcp3(\d+)\b|Python 3\.(\d+)"):
            return f"3.{next(g for g in m.groups() if g)}"
        pv = self.ctx.python_version
        return ".".join(pv.split(".")[:2]) if pv else None


def _cmd(*parts: str) -> str:
    """A shell command line; arguments with shell metacharacters are double-quoted."""
    return " ".join(f'"{p}"' if re.search(r"[<>|&;*?$ !]", p) else p for p in parts if p)


def _v(text: object) -> Version | None:
    if text is None or isinstance(text, Version):
        return text
    try:
        return Version(str(text).strip())
    except InvalidVersion:
        return None


def _req(text: str) -> Requirement | None:
    """A requirement as pip/uv print it, tolerating quotes and trailing junk."""
    text = text.split(" (from", 1)[0].strip().strip("'\"`").rstrip(".,;:)")
    for candidate in dict.fromkeys((text, text.split(" ")[0])):
        try:
            return Requirement(candidate.replace("===", "=="))
        except InvalidRequirement:
            continue
    return None


def _public(version: str) -> str:
    return version.split("+", 1)[0]


def _label(version: str | None) -> str | None:
    return version.split("+", 1)[1] if version and "+" in version else None


def _pin(name: str, version: str | None) -> str:
    return f"{name}=={version}" if version else name


def _cuda_of(label: str | None) -> str | None:
    """``cu128`` -> ``"12.8"``."""
    digits = label[2:] if label and re.fullmatch(r"cu\d{2,3}", label) else None
    return f"{digits[:-1]}.{digits[-1]}" if digits else None


# -- the knowledge tables (each query answers None when they can't) -------------------


@functools.cache
def _knowledge() -> Any:
    try:
        return importlib.import_module("pipguard.knowledge").default_knowledge()
    except (ImportError, AttributeError, OSError, ValueError):
        return None


def _ask(method: str, *args: object) -> Any:
    kb = _knowledge()
    try:
        return None if kb is None else getattr(kb, method)(*args)
    except (AttributeError, TypeError, ValueError, LookupError):
        return None


def _companion_for(torch_version: str, name: str) -> str | None:
    """The companion release (torchvision ...) made for ``torch_version``."""
    got = _ask("companions", _v(_public(torch_version)))
    got = got.get(canonicalize_name(name)) if isinstance(got, Mapping) else None
    return str(got) if got else None


def _py_release(which: str, python: str) -> Version | None:
    return _v(_ask(f"{which}_release_for_python", "cp3" + python.split(".")[1]))


def _supported_pythons() -> list[str]:
    """Python versions the newest torch release publishes wheels for."""
    newest = _v(_ask("newest_release"))
    return [p for p in (f"3.{n}" for n in range(7, 20))
            if newest and _py_release("last", p) == newest]


def _kb_platform(doc: _Doc) -> Any:
    return _ask("platform_of", doc.platform() or "linux", doc.machine() or "x86_64")


def _reinstall_torch(doc: _Doc, *extra: str, exact: bool = False, upto: str | None = None) -> str:
    """``pipguard install --force-reinstall torch==V [companions]``: re-plans the variant."""
    torch = doc.installed("torch")
    version = torch if exact else (_public(torch) if torch else None)
    have, limit = _v(version or ""), _v(upto or "")
    spec = f"torch<={upto}" if limit and not (have and have <= limit) else None
    return _cmd("pipguard", "install", "--force-reinstall", *extra, spec or _pin("torch", version),
                *(c for c in COMPANIONS if c in doc.ctx.installed))


# -- the rules: each keys on the signal of one failure class ----------------------------


def _dependency_confusion(doc: _Doc) -> Iterator[Finding]:
    if m := doc.find(r"\btorchtriton\b|triton[/\\]runtime[/\\]triton\b|^You are affected\b", re.M):
        yield Finding("dependency-confusion", "error",
                      "torchtriton is the name abused in the Dec 2022 dependency-confusion attack "
                      "(a malicious PyPI copy won over the nightly index via --extra-index-url "
                      "and sent SSH keys and files away on `import triton`): remove it, purge "
                      "the cache, rotate this machine's secrets", doc.line(m), _PURGE)
    m = doc.find(r"extra[-_]index[-_]url[= ]+\S*download(?:-r2)?\.pytorch\.org[^\s'\"]*"
                 r"|Looking in indexes: (?=[^\n]*,)[^\n]*pytorch\.org"  # PyPI as well
                 r"|Looking in links: [^\n]*pytorch\.org"  # -f: merged with PyPI too
                 r"|index-strategy[= ]+unsafe-best-match")  # uv's pip-like merging
    if m and "pytorch.org" in doc.text:
        names = [r.name for w in doc.line(m).split() if (r := _req(w)) and r.name in FAMILY]
        yield Finding("dependency-confusion", "warning",
                      "PyPI is merged with the PyTorch index (--extra-index-url, -f, uv's "
                      "unsafe-best-match): the best version of a name wins from either, so a PyPI "
                      "upload of an index-only name wins (the torchtriton attack) and the CUDA "
                      "variant may silently come from PyPI; use --index-url or pipguard's routing",
                      doc.line(m), _cmd("pipguard", "install", *dict.fromkeys(names or ["torch"])))
    for m in re.finditer(r"https?://(?P<host>[^/\s]+)/\S*?/(?P<file>(?:torch|pytorch_triton)\w*-"
                         r"[^/\s]*\+[^/\s]*\.whl)", doc.text):
        if not m["host"].endswith("pytorch.org"):
            yield Finding("dependency-confusion", "warning",
                          f"{m['file']} is a PyTorch-index build served by {m['host']}: make sure "
                          "that mirror is one you trust", doc.line(m),
                          _cmd("pipguard", "verify", m["file"].split("-")[0]))


def _download_integrity(doc: _Doc) -> Iterator[Finding]:
    hashes = doc.find(r"DO NOT MATCH THE HASHES|Hash mismatch for|Expected sha256")
    broken = doc.find(r"IncompleteRead|Connection broken|ContentTooShort|Read timed out|"
                      r"error decoding response body|request or response body error|"
                      r"BadZipFile|File is not a zip file|Bad magic number|\.whl'? is invalid")
    if not hashes and not (broken and doc.find(r"\.whl\b|Collecting |Downloading |pip")):
        return  # (a timeout elsewhere, e.g. a model download, is not an install problem)
    error_at = min(m.start() for m in (hashes, broken) if m)
    bars = re.findall(r"(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?) ([kMG]B)\b", doc.text[:error_at])
    cut = bars[-1] if bars and float(bars[-1][0]) < float(bars[-1][1]) else None  # stopped short
    src = doc.find(r"([\w.-]+==\S+) from (https?://\S+?\.whl)|Hash mismatch for `([^`]+)`")
    last = re.findall(r"Downloading (?:\S*/)?([A-Za-z]\w*)-(\d[^-\s]*)-\S*\.whl", doc.text)
    req = (_req((src.group(1) or src.group(3)) if src else "")
           or _req("==".join(last[-1]) if last else "torch") or Requirement("torch"))
    got = doc.find(r"Expected(?: sha256)?:?\s+(?:sha256:)?([0-9a-f]{64})\s+\S*?\s*"
                   r"(?:Got|Computed):?\s+(?:sha256:)?([0-9a-f]{64})", re.I | re.S)
    evidence = "\n".join(x for x in (
        doc.line(hashes) if hashes else "", src.group(2) or "" if src else "",
        f"expected sha256 {got[1]}, got {got[2]}" if got else "",
        doc.line(broken) if broken else "") if x)
    refetch = f"pip cache remove {req.name} && {_cmd('pipguard', 'install', str(req))}"
    if cut or (broken and not re.search(r"zip|magic|invalid", broken.group(0), re.I)):
        yield Finding("download-integrity", "error", f"the download of {req.name} was cut off"
                      + (f" at {cut[0]}/{cut[1]} {cut[2]}" if cut else "") + ": pip hashed a "
                      "partial file, so the 'got' hash changes with every attempt; a flaky "
                      "connection or proxy, not tampering: retry on a stable network", evidence,
                      _cmd("pipguard", "install", "--retries", "10", "--timeout", "120", str(req)))
    elif hashes:
        yield Finding("download-integrity", "error",
                      f"the completed download of {req.name} does not match the sha256 published "
                      "for it: either that hash is stale (the version or variant changed) or a "
                      "mirror/proxy altered the file; don't install it until the hash is checked "
                      "against the index", evidence, refetch)
    else:
        yield Finding("download-integrity", "error",
                      f"the {req.name} wheel is not a valid zip: a truncated or corrupt file, "
                      "often left in pip's cache by an interrupted download", evidence, refetch)


@dataclass(frozen=True)
class _Miss:
    """What a no-match failure says: the requirement, the versions offered, the tag missed."""

    req: Requirement
    versions: list[Version] | None  # None: the tool did not list them
    tag: str | None  # uv: the interpreter or platform tag no wheel matched
    py: str | None  # "3.12"
    bound: bool = False  # versions is only uv's "only X<=V is available", not a listing

    @property
    def name(self) -> str:
        return canonicalize_name(self.req.name)

    @property
    def pins(self) -> list[Version]:
        return [v for s in self.req.specifier if s.operator in ("==", "===")
                and (v := _v(s.version))]

    @property
    def want(self) -> Version | None:
        """The lowest version the requirement asks for (its pin or lower bound)."""
        lows = [v for s in self.req.specifier if s.operator in ("==", "===", ">=", ">", "~=")
                and (v := _v(s.version.removesuffix(".*")))]
        return max(lows) if lows else None


Why = tuple[str, str] | None  # (message, fix), or None: this case does not apply


def _miss_name(doc: _Doc, x: _Miss) -> Why:
    if x.name == "pytorch":
        return "the PyPI project 'pytorch' is a placeholder; PyTorch is 'torch'", _cmd(
            "pipguard", "install", "torch", *map(str, x.req.specifier))
    if x.name in ("triton", "pytorch-triton") and doc.platform() == "win32" and not x.versions:
        return (f"{x.name} publishes Linux wheels only; torch on Windows does not need it",
                "pipguard install torch")
    return None


def _miss_python(doc: _Doc, x: _Miss) -> Why:
    """pip said outright that the matching release needs another Python."""
    fits = [(pv, rp.strip()) for v, rp in re.findall(r"(\d[\w.+]*) Requires-Python ([^;\n]+)",
            doc.text) if (pv := _v(v)) and x.req.specifier.contains(pv, prereleases=True)]
    other, py = doc.find(r"requires a different Python: (\S+) not in '([^']+)'"), x.py
    hit = (str(max(fits)[0]), max(fits)[1]) if fits else None
    if not hit and other:
        hit, py = (str(x.want or ""), other.group(2)), other.group(1)
    if not hit:
        return None
    low = re.search(r">=?\s*3\.(\d+)", hit[1])
    return (f"{x.name} {hit[0]}".strip() + f" requires Python {hit[1]}"
            + (f"; this is Python {py}" if py else ""),
            _cmd("pipguard", "--python", f"python3.{low.group(1)}", "install", str(x.req))
            if low else _cmd("pipguard", "plan", x.name))


def _miss_label(doc: _Doc, x: _Miss) -> Why:
    """``torch==1.8.0+cu102``: a local label that was never published, or not on this index."""
    local, vs = next((p for p in x.pins if p.local), None), x.versions
    if local is None or x.tag or x.bound or (vs and not any(v.public == local.public for v in vs)
                                  and any(v.local for v in vs)):
        return None  # (a release missing altogether is a Python/platform matter: see below)
    plain = f"{x.name}=={local.public}"
    if vs is None:
        return (f"no {x.name} {local} on the indexes searched: that label was never published "
                f"for {local.public}, or download.pytorch.org/whl/{local.local} was not "
                "searched, or it has no wheel for this Python/platform",
                _cmd("pipguard", "install", plain))
    if not any(v.local for v in vs):
        return (f"{x.name} {local}: this index has no +local builds (PyPI strips them); the "
                f"{local.local} build lives on download.pytorch.org/whl/{local.local}",
                _cmd("pipguard", "install", "--torch-backend", str(local.local), plain))
    exist = sorted({f"+{v.local}" for v in vs if v.public == local.public and v.local}) + [
        f"{v} (untagged)" for v in vs if v == Version(local.public)]
    return (f"{x.name} {local} does not exist: no build of {local.public} was ever published "
            f"with the +{local.local} label (builds of {local.public} that do exist: "
            f"{', '.join(exist) or 'none on this index'})", _cmd("pipguard", "install", plain))


def _miss_index(doc: _Doc, x: _Miss) -> Why:
    """The PyTorch index searched has no such variant, or none for that release."""
    m = doc.find(r"download(?:-r2)?\.pytorch\.org/whl/(?:nightly/|test/)?(cu\d+|rocm[\d.]*\d|"
                 r"cpu|xpu)\b")
    known = _ask("known_variants")
    if not m or not known or x.name != "torch":
        return None
    if (variant := m.group(1)) not in known:
        return (f"there is no {variant} variant on download.pytorch.org, so that index is empty; "
                f"the variants are {', '.join(v for v in known if v[:2] == variant[:2])}",
                _cmd("pipguard", "install", str(x.req)))
    has = _ask("variants_for", Version(x.want.public), _kb_platform(doc)) if x.want else None
    if has and variant not in has:
        return (f"torch {x.want} was not built for {variant} (it comes as {', '.join(has)})",
                _cmd("pipguard", "install", str(x.req)))
    return None


def _miss_tag(doc: _Doc, x: _Miss) -> Why:
    """uv: the release exists, but no wheel matches this interpreter's tags."""
    if not x.tag:
        return None
    if "macosx" in x.tag and "x86_64" in x.tag:
        last = _v(_ask("last_release_for_platform", "macos_x86_64"))
        return (f"{x.name} {x.want or ''} has no Intel-macOS wheel: PyTorch's macOS x86_64 builds "
                f"ended with torch {last or '2.2'}",
                _cmd("pipguard", "install", f"{x.name}<={last or '2.2.2'}", "numpy<2"))
    first = _py_release("first", x.py) if x.py and x.tag.startswith("cp") else None
    if first and x.pins and x.pins[0] < first:
        return (f"{x.name} {x.pins[0]} has no wheels for Python {x.py}: the first release that "
                f"has is {first}", _cmd("pipguard", "install", f"{x.name}>={first}"))
    offered = doc.find(r"(?:Python ABI tags|following platforms): ([^\n]+)")
    return (f"{x.name} {x.want or ''} has no wheel for {x.tag}"
            + (f" (Python {x.py})" if x.py and x.tag.startswith("cp") else "")
            + (f"; it has wheels for {offered.group(1).replace('`', '')}" if offered else ""),
            _cmd("pipguard", "plan", x.name))


def _miss_everything(doc: _Doc, x: _Miss) -> Why:
    """``from versions: none``: no file at all fits this interpreter."""
    if x.versions:
        return None
    first = _py_release("first", x.py) if x.py else None
    if x.py and x.pins and first and x.pins[0] < first:
        return (f"{x.name} {x.pins[0]} has no wheels for Python {x.py}: the first release that "
                f"has is {first}", _cmd("pipguard", "install", f"{x.name}>={first}"))
    supported = _supported_pythons() if x.name in FAMILY else []
    if x.py and supported and x.py not in supported:
        last = _py_release("last", x.py)
        return (f"{x.name} publishes no wheels for Python {x.py}"
                + (f": the last release for it is {last}" if last else "") + "; current "
                f"releases support Python {supported[0]}–{supported[-1]}",
                _cmd("pipguard", "--python", f"python{supported[-1]}", "install", str(x.req)))
    if (doc.machine() or "").lower() in ("x86", "i386", "i686", "win32", "armv7l"):
        return (f"{x.name} has no wheels for a 32-bit {doc.machine()} Python: use a 64-bit Python",
                _cmd("pipguard", "plan", x.name))
    return (f"no {x.name} distribution fits this interpreter/platform"
            + (f" (Python {x.py})" if x.py else "") + " at all: usually a Python version it has "
            "no wheels for, a 32-bit Python, an unsupported platform (Intel macOS after torch "
            "2.2), a misspelt name or a missing index", _cmd("pipguard", "plan", x.name)
            if x.name in FAMILY else f"pip index versions {x.name}")


def _miss_listed(doc: _Doc, x: _Miss) -> Why:
    """The index listed versions, none of which fits: reason from where the list ends."""
    vs, want, name, py, pin = x.versions or [], x.want, x.name, x.py, next(iter(x.pins), None)
    vmin, vmax = Version(min(vs).public), Version(max(vs).public)
    on_py = f" for Python {py}" if py else ""
    as_torch = vmax if name == "torch" else _v(_ask("torch_for_companion", name, vmax))
    if want is not None and want > vmax:
        mac_last = _v(_ask("last_release_for_platform", "macos_x86_64"))
        if as_torch and as_torch == mac_last:  # the signature of an Intel Mac
            sure = doc.platform() in (None, "darwin") and doc.machine() in (None, "x86_64")
            numpy = ["numpy<2"] if _ask("numpy2_compatible", as_torch, "darwin") is False else []
            return (("" if sure else f"this list stops at {vmax}, the last release with Intel "
                     "macOS wheels; if this is an Intel Mac: ") + f"{name} {want} has no "
                    f"Intel-Mac (macOS x86_64) wheels, as PyTorch's Intel macOS builds ended with "
                    f"torch {mac_last}; stay on {name} {vmax}" + (" with numpy<2" if numpy else "")
                    + ", use conda-forge, or Apple-Silicon/Linux",
                    _cmd("pipguard", "install", f"{name}=={vmax}", *numpy))
        olds = [p for p in ([py] if py else [f"3.{n}" for n in range(6, 12)])
                if as_torch and _py_release("last", p) == as_torch]
        return ((f"{name} {want} needs a newer Python: {vmax} is the last release with wheels "
                 f"for Python {olds[0]}") if olds else (f"the newest {name} here{on_py} is "
                f"{vmax}: {want} is not published for this platform/Python, or not on this index "
                "(yet)"), _cmd("pipguard", "install", f"{name}=={vmax}"))
    if pin and pin < vmin:
        first = _py_release("first", py) if py else None
        tag = f"cp3{py.split('.')[1]}" if py else ""
        tags = _ask("python_tags", pin, _kb_platform(doc)) if py and name == "torch" else None
        why = (f"Python {py} is too new for it: the first {name} with Python {py} wheels is "
               f"{first}" if first and first == vmin else f"{name} {pin.public} has no {tag} "
               "wheels on this platform" if tags and tag not in tags else
               f"the oldest {name} here is {vmin}")
        return (f"{name} {pin} is not available{on_py}: {why}",
                _cmd("pipguard", "install", f"{name}>={vmin}"))
    if pin:
        lower = [v for v in vs if v < pin and not v.local]
        near = max([v for v in lower if v.release[:2] == pin.release[:2]] or lower or vs)
        return (f"{name} {pin} was never released (nearest available: {near})",
                _cmd("pipguard", "install", f"{name}=={near.public}"))
    return (f"no {name} release matches {x.req.specifier or 'the request'}{on_py} (available: "
            f"{vmin} … {vmax})", _cmd("pipguard", "install", name))


_MISS_CASES = (_miss_name, _miss_python, _miss_label, _miss_index, _miss_tag, _miss_everything,
               _miss_listed)


def _unsupported_wheel(doc: _Doc, m: re.Match[str]) -> Finding:
    try:
        name, version, _, tags = parse_wheel_filename(m.group(1).split("/")[-1])
    except InvalidWheelFilename:
        name, version, tags = canonicalize_name("torch"), None, frozenset()
    built = sorted({f"{t.interpreter}-{t.platform}" for t in tags})
    py = doc.python()
    return Finding("no-matching-distribution", "error",
                   f"{m.group(1)} is built for {', '.join(built) or 'another target'}, which this "
                   f"interpreter{f' (Python {py})' if py else ''} cannot use: take the file for "
                   "this Python and platform", doc.line(m),
                   _cmd("pipguard", "install", _pin(name, version.public if version else None)))


def _no_matching_distribution(doc: _Doc) -> Iterator[Finding]:
    tag, versions, bound = None, None, False
    if m := doc.near("is not a supported wheel", r"(\S+\.whl) is not a supported wheel"):
        yield _unsupported_wheel(doc, m)
        return
    if m := doc.find(r"satisfies the requirement ([^\n]+?) \(from versions: ?([^)]*)\)"):
        req = _req(m.group(1))
        versions = [v for t in re.split(r"[,\s]+", m.group(2)) if t != "none" and (v := _v(t))
                    and not (req and req.name == "torch" and v.release[:2] == (0, 1))]
    elif m := doc.near("there is no version of|was not found in the|has no wheels with|can't be "
                       "installed", r"there is no version of (\S+)|(\S+) was not found in the "
                       r"(?:package registry|provided package locations)|(\S+) has no wheels "
                       r"with a matching [\w ]*?tag(?: \(e\.g\., `([^`]+)`\))?|Distribution "
                       r"`(\S+) @ [^`]*` can't be installed"):
        req, tag = _req(next(g for g in m.groups() if g)), m.group(4)
        if m.group(5):  # uv's hint names the interpreter's tag
            hint = doc.find(r"You're using \w+ [\d.]+ \(`([^`]+)`\)|following platforms")
            tag = (hint.group(1) or "this platform") if hint else "this interpreter"
    elif m := doc.find(r"only ([A-Za-z][\w.-]*)(\S*?) is available"):  # uv: the newest there
        need = doc.find(rf"(?:you require|depends on) ({re.escape(m.group(1))}[<>=!~][^\s,]+)")
        req, bound = _req(need.group(1) if need else m.group(1)), True
        versions = [v for s in (_req(m.group(1) + m.group(2)) or Requirement("x")).specifier
                    if (v := _v(s.version))]
    elif m := doc.find(r"Unable to find installation candidates for ([\w.-]+) \(([^)\s]+)\)"):
        req = _req(f"{m.group(1)}=={m.group(2)}")  # poetry
    elif m := doc.find(r"No matching distribution found for ([^\n]+)|You tried to install "
                       r"\"(pytorch)\"|Package '([\w.-]+)' requires a different Python"):
        req, versions = _req(m.group(1) or m.group(2) or m.group(3)), [] if m.group(1) else None
    else:
        return
    py = f"3.{tag[3:].rstrip('t')}" if tag and re.fullmatch(r"cp3\d+t?", tag) else doc.python()
    miss = _Miss(req, versions, tag, py, bound) if req else None
    message, fix = next((why for case in _MISS_CASES if miss and (why := case(doc, miss))),
                        ("the resolver found no distribution for the request", "pipguard plan"))
    yield Finding("no-matching-distribution", "error", message, doc.line(m), fix)


def _resolver_conflict(doc: _Doc) -> Iterator[Finding]:
    hard = doc.find(r"ResolutionImpossible|conflicting dependencies|The conflict is caused by|"
                    r"No solution found when resolving")
    broken = list(doc.near_all("which is incompatible", r"([\w.-]+) (\S+) (?:requires|has "
                  r"requirement) ([^,\n]+), but you(?: have|'ll have) ([\w.-]+) (\S+) which is "
                  r"incompatible"))
    if broken and not hard:  # pip installed anyway: the environment is now inconsistent
        pkgs = {m.group(1): m for m in broken if canonicalize_name(m.group(4)) == "torch"
                and canonicalize_name(m.group(1)) in COMPANIONS}
        if not pkgs:
            pkg, ver, need, hname, hver = broken[0].groups()
            yield Finding("resolver-conflict", "warning", f"{pkg} {ver} requires {need}, but "
                          f"{hname} {hver} is installed", doc.line(broken[0]),
                          _cmd("pipguard", "install", need.strip()))
            return
        hver = _public(next(iter(pkgs.values())).group(5))
        pairs = {pkg: _companion_for(hver, pkg) for pkg in pkgs}
        yield Finding("resolver-conflict", "error",
                      "; ".join(f"{p} {m.group(2)} requires {m.group(3)}" for p, m in pkgs.items())
                      + f", but torch {hver} is installed: the pair is broken (expect 'operator "
                      "... does not exist' or undefined symbols)" + "".join(
                          f"; torch {hver} pairs with {p} {v}" for p, v in pairs.items() if v),
                      "\n".join(doc.line(m) for m in pkgs.values()),
                      _cmd("pipguard", "install", f"torch=={hver}",
                           *(_pin(p, v) for p, v in pairs.items())))
        return
    if not hard:
        return
    user = {canonicalize_name(r.name): r for m in re.finditer(
        r"(?:The user requested (?:\(constraint\) )?|you require |your project depends on )"
        r"([^\s,]+)", doc.text) if (r := _req(m.group(1)))}
    deps = [(m, r) for m in re.finditer(
        r"(?<![\w.-])(?P<pkg>[A-Za-z][\w.-]*?)(?: (?P<ver>\d\S*)|(?P<spec>[<>=!~]\S*?))? depends "
        r"on (?P<req>[^\s,]+)", doc.text) if m["pkg"] not in ("project", "you")
        and (r := _req(m["req"]))]

    def pin_of(r: Requirement) -> str | None:
        return next((s.version for s in r.specifier if s.operator in ("==", "===")), None)

    for m, need in deps:  # a dependency's requirement against what the user asked for
        if not (mine := user.get(canonicalize_name(need.name))):
            continue
        pin, their = pin_of(mine), pin_of(need)
        if not ((pin and not need.specifier.contains(pin, prereleases=True))
                or (their and not mine.specifier.contains(their, prereleases=True))):
            continue
        pkg = m["pkg"]
        ver = m["ver"] or (m["spec"] or "").removeprefix("==")
        if canonicalize_name(need.name) == "torch" and canonicalize_name(pkg) in COMPANIONS:
            partner = _companion_for(pin, pkg) if pin else None
            yield Finding("resolver-conflict", "error",
                          f"{pkg} {ver} pins {need} but {mine} was requested: each {pkg} "
                          "release is built for exactly one torch release"
                          + (f"; torch {pin} pairs with {pkg} {partner}" if partner else "")
                          + f" (or keep {pkg} {ver} with {need})", doc.line(m),
                          _cmd("pipguard", "install", str(mine), _pin(pkg, partner)))
        else:
            yield Finding("resolver-conflict", "error",
                          f"{pkg} {ver} requires {need} but {mine} was requested", doc.line(m),
                          _cmd("pipguard", "install", str(mine), canonicalize_name(pkg)))
        return
    if doc.find(r"only \S+ is available|there is no version of"):
        return  # nothing conflicts: a release is missing (no-matching-distribution says why)
    clauses = [f"{m['pkg']}{' ' + m['ver'] if m['ver'] else m['spec'] or ''} needs {r}"
               for m, r in deps]
    names: list[str] = [*user, *(canonicalize_name(m["pkg"]) for m, _ in deps)]
    yield Finding("resolver-conflict", "error", "the requested pins cannot all hold"
                  + (": " + "; ".join(clauses[:6]) if clauses else ""), doc.line(hard),
                  _cmd("pipguard", "install", *dict.fromkeys(names or ["torch"])))


def _collect_env_driver(doc: _Doc, os_name: str) -> tuple[re.Match[str], str | None] | None:
    """``collect_env`` output: a CUDA build, CUDA unavailable, a driver under its floor."""
    build = doc.find(r"CUDA used to build PyTorch: (\d+)\.\d+[\s\S]*Is CUDA available: False")
    drv = doc.find(r"Nvidia driver version: (\d[\d.]*)")
    floor = _ask("compat_floor", int(build.group(1)), os_name) if build and drv else None
    if not (drv and floor and (_v(drv.group(1)) or floor) < floor):
        return None
    have = _ask("driver_cuda_api", _v(drv.group(1)), os_name)
    return drv, str(have) if have else None


def _driver_too_old(doc: _Doc) -> Iterator[Finding]:
    m = doc.find(r"driver on your system is too old \(found version (?P<code>\d+)\)|CUDA driver "
                 r"version is insufficient for CUDA runtime|cudaErrorInsufficientDriver|"
                 r"(?P<none>Found no NVIDIA driver|libcuda\.so\.1: cannot open)")
    hw, torch = doc.ctx.hardware, doc.installed("torch")
    os_name = "win32" if doc.platform() == "win32" else "linux"
    env = None if m else _collect_env_driver(doc, os_name)
    if not (m := m or (env[0] if env else None)):
        return
    if m.groupdict().get("none"):
        if hw is not None and hw.accelerator != "nvidia":
            yield Finding("driver-too-old", "warning", "this machine has no NVIDIA GPU, so a CUDA "
                          "build of torch cannot use one: install the CPU build", doc.line(m),
                          _reinstall_torch(doc, "--torch-backend", "cpu"))
        else:
            yield Finding("driver-too-old", "error", "no NVIDIA driver is visible to this process "
                          "(none installed, or a container started without --gpus all)",
                          doc.line(m), "pipguard detect")
        return
    code = int(m["code"]) if m.groupdict().get("code") else None
    have = (f"{code // 1000}.{code % 1000 // 10}" if code else env[1] if env
            else hw.cuda_driver_api if hw else None)
    need = _cuda_of(_label(torch))
    floor = _ask("compat_floor", int(need.split(".")[0]), os_name) if need else None
    text = (f"the NVIDIA driver only supports CUDA up to {have}" + (
            f" (found version {code} = CUDA {have})" if code else "") if have
            else "the NVIDIA driver is older than the CUDA runtime of this torch build")
    if need:
        text += f"; torch {torch} is a CUDA {need} build" + (
            f" that needs driver >= {floor}" if floor else "")
    if have:
        major = have.split(".")[0]
        runs = [v for v in (_ask("variants_for", _v(_public(torch)), _kb_platform(doc)) or ()
                            if torch else ()) if (_cuda_of(v) or "").split(".")[0] == major]
        text += (f"; install a build for CUDA {major}.x (" + (f"{', '.join(runs)} for torch "
                 f"{_public(torch)}" if torch and runs else f"a cu{major}x variant") + ": CUDA "
                 "minor-version compatibility lets this driver run them; pipguard picks one "
                 "from the driver) or update the driver")
    yield Finding("driver-too-old", "error", text, doc.line(m), _reinstall_torch(doc))


def _cc(text: str) -> tuple[int, int]:
    """``"120"``, ``"sm_86"``, ``"3.7"`` -> ``(12, 0)``, ``(8, 6)``, ``(3, 7)``."""
    digits = re.sub(r"\D", "", text)
    return int(digits[:-1] or 0), int(digits[-1])


def _gpu_arch_unsupported(doc: _Doc) -> Iterator[Finding]:
    new = doc.near("with CUDA capability sm_", r"([^\n]{0,200}?) with CUDA capability sm_(\d+)"
                   r"\w* is not compatible with the current PyTorch installation(?:.*?supports "
                   r"CUDA capabilities ((?:(?:sm|compute)_\d+\w* ?)+))?", after=2)
    old = doc.find(r"Found GPU\d+ ([^\n]+?) which is of cuda capability (\d+\.\d+)")
    any_ = doc.find(r"no kernel image is available|cudaErrorNoKernelImageForDevice|invalid device "
                    r"function|hipErrorNoBinaryForGpu|which requires CUDA_VERSION >= (\d+)|for GPU "
                    r"arch ?: (gfx\w+)")
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
    arch, platform = f"sm_{cc[0]}{cc[1]}", _kb_platform(doc) or "linux_x86_64"
    family = _ask("gpu_family_name", cc)
    gpu += f" ({arch}{', ' + family if family else ''})"
    target = [] if hw else ["--gpu-arch", arch]  # explained elsewhere: say which GPU to plan for
    if old or (have and cc < min(have)) or (not have and cc < (7, 5)):
        last = _ask("last_release_with_cc", cc, platform)
        variant = str(last[1]) if last else ("cu118" if cc < (5, 0) else _LEGACY_VARIANT)
        gone = last and variant not in (_ask("variants_for", _ask("newest_release")) or (variant,))
        yield Finding("gpu-arch-unsupported", "error",
                      f"{gpu} is older than this build supports: newer CUDA variants dropped it; "
                      f"{variant} is the variant that still has kernels for it"
                      + (f" (up to torch {last[0]})" if gone else ""), doc.line(m),
                      _reinstall_torch(doc, "--torch-backend", variant, *target,
                                       upto=str(last[0]) if gone else None))
        return
    first = _ask("first_release_with_cc", cc, platform)
    yield Finding("gpu-arch-unsupported", "error",
                  f"{gpu} is newer than the kernels in this torch build"
                  + (f" (they stop at sm_{max(have)[0]}{max(have)[1]})" if have else "")
                  + "; it needs a build for a newer CUDA"
                  + (f": torch {first[0]} (+{first[1]}) is the first with {arch}" if first else ""),
                  doc.line(m), _cmd("pipguard", "install", "--force-reinstall", *target,
                                    f"torch>={first[0]}" if first else "torch",
                                    *(c for c in COMPANIONS if c in doc.ctx.installed)))


def _cpu_build_on_gpu(doc: _Doc) -> Iterator[Finding]:
    torch, plat, hw = doc.installed("torch"), doc.platform(), doc.ctx.hardware
    cpu = bool(torch) and (_label(torch) == "cpu" or (not _label(torch) and plat == "win32"))
    env_gpu = doc.find(r"GPU models and configuration: GPU 0: ([^\n]+)|Nvidia driver version: \d")
    false = doc.find(r"is_available\(\)[^\n]*\n?[^\n]*\bFalse\b")
    m = doc.find(r"not compiled with CUDA enabled") or (
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


def _undefined_symbol(doc: _Doc) -> re.Match[str] | None:
    return doc.near("undefined symbol: ", r"(?P<lib>[^\s'\"]+?\.(?:so|pyd|dylib)[\d.]*): "
                    r"undefined symbol: (?P<sym>\S+)")


def _importer(doc: _Doc, m: re.Match[str]) -> str | None:
    """The package whose code was loading when ``m`` failed; ``None`` when it is torch itself.

    torch's ``_ops.py`` frames are skipped: ``load_library`` loads a companion's library.
    """
    frames = re.findall(r"(?:site|dist)-packages[/\\]+([A-Za-z]\w*)([/\\]+_ops\.py)?",
                        doc.text[: m.start()])
    last = next((pkg for pkg, ops in reversed(frames) if not ops), "torch")
    return None if last == "torch" else last


def _torch_lib_failure(doc: _Doc) -> re.Match[str] | None:
    """One of torch's own libraries failing to load (missing, or from another build)."""
    return doc.find(rf"(?:[/\\]torch[/\\]+(?:lib[/\\]+)?|(?<![/\\\w])){_OWN_LIB}\.(?:so|dll|dylib|"
                    rf"pyd)[\w.]*[^\n]*?(?:cannot open|No such file)|WinError 12[67][^\n]*?[/\\]"
                    rf"torch[/\\]+lib[/\\]+{_OWN_LIB}\.dll|DLL load failed while importing _C\b")


def _cuda_libraries(doc: _Doc) -> Iterator[Finding]:
    lib = rf"(?:lib(?:{_CUDA_LIB})[\w.]*\.so[\d.]*|(?:{_CUDA_LIB})\w*64_\w+\.dll|zlibwapi\.dll)"
    m = doc.find(rf"{lib}: cannot open shared object|(?:Could not load library|Could not locate|"
                 rf"Unable to load any of|Error loading)[^\n]*?{lib}|cuDNN version "
                 rf"incompatibility[^\n]*")
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


def _companion_mismatch(doc: _Doc) -> Iterator[Finding]:
    names = "|".join(COMPANIONS)
    m = doc.find(rf"operator ({names})::\w+ does not exist|Couldn't load custom C\+\+ ops|"
                 rf"PyTorch and ({names}) were compiled with different CUDA|[/\\]({names})[/\\]"
                 rf"\S*\.(?:so|pyd|dll)[^\n]*?(?:Could not load|cannot open)|Could not load this "
                 rf"library: \S*?({names})|(xFormers) was built for|(torchvision)\S* was compiled "
                 rf"with a different")
    und, lib = _undefined_symbol(doc), _torch_lib_failure(doc)
    if und and re.search(_TORCH_SYMBOL, und["sym"]) and not re.search(r"[/\\]torch[/\\]",
                                                                       und["lib"]):
        m, pkg = m or und, _ext_package(und["lib"])
    elif not m and lib and (user := _importer(doc, lib)):
        m, pkg = lib, str(canonicalize_name(user))
    elif m:
        pkg = next((g for g in m.groups() if g), "torchvision").lower()
    else:
        return
    torch, mine = doc.installed("torch"), doc.installed(pkg)
    cuda = doc.find(r"PyTorch has CUDA [Vv]ersion[= ]?(\d[\d.]*?)\.? (?:and|whereas) \w+ has CUDA "
                    r"[Vv]ersion[= ]?(\d[\d.]*\d)")
    partner = _companion_for(torch, pkg) if torch else None
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
                       _public(torch)), _pin(pkg, partner)) if pkg in COMPANIONS else
                  _cmd("pipguard", "install", "--force-reinstall", "--no-deps", pkg))


def _corrupt_install(doc: _Doc) -> Iterator[Finding]:
    und, lib = _undefined_symbol(doc), _torch_lib_failure(doc)
    m = doc.find(r"No such file or directory: '[^']*site-packages[/\\]+(?:torch[/\\]|[\w.]+-[\d.]"
                 r"[^'/\\]*\.dist-info)|No module named 'torch\._C'|no RECORD file|"
                 r"(?-i:RECORD)[^\n]*(?:mismatch|missing)|distutils installed project|"
                 r"Ignoring invalid distribution ~?-?(\w+)")
    if not m and lib and not _importer(doc, lib):
        m = lib
    if not m and und and re.search(rf"[/\\]torch[/\\]+(?:lib[/\\]+)?{_OWN_LIB}\.", und["lib"]) \
            and not re.search(rf"^(?:__)?(?:{_CUDA_LIB})", und["sym"], re.I):
        m = und
    if not m:
        return
    if m not in (und, lib) and m.group(1):
        where = doc.find(r"invalid distribution ~?-?\w+ \(([^)]+)\)")
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


def _numpy_abi(doc: _Doc) -> Iterator[Finding]:
    down = doc.find(r"compiled using NumPy 1\.x cannot be run in\s+NumPy|_ARRAY_API not found|"
                    r"Failed to initialize NumPy|Could not infer dtype of numpy|numpy\.core\."
                    r"multiarray failed to import|ABI version 0x1\w+ but this version of numpy "
                    r"is 0x2")
    up = doc.find(r"No module named 'numpy\._core'|compiled against (?:API|ABI) version 0x(\w+) "
                  r"but this version of numpy is 0x(\w+)|dtype size changed[^\n]*?Expected "
                  r"(\d+) from C header, got (\d+)")
    if up and ((up.group(1) and int(up.group(1), 16) < int(up.group(2), 16))
               or (up.group(3) and int(up.group(3)) < int(up.group(4)))):
        down, up = down or up, None  # built for an older numpy than the one running
    if up and not down:  # numpy._core, C-API >= 0x12, ABI 0x2000000, 96-byte dtype: NumPy 2
        api = int(up.group(1), 16) if up.group(1) else None
        two = (api is None and up.group(3) in (None, "96")) or (api or 0) >= 0x2000000 or (
            0x12 <= (api or 0) < 0x100)
        yield Finding("numpy-abi", "error", "a compiled module was built for a newer NumPy"
                      + (" (2.x)" if two else "") + " than the one installed", doc.line(up),
                      _cmd("pipguard", "install", "numpy>=2") if two else
                      _cmd("pipguard", "install", "--upgrade", "numpy"))
        return
    if not down:
        return
    after = re.search(r"(?:site|dist)-packages[/\\](?!numpy)(\w+)[/\\]", doc.text[down.start():])
    who = after.group(1) if after else "torch"
    torch = doc.installed("torch") if who == "torch" else None
    numpy = doc.find(r"cannot be run in\s+NumPy (\d[\w.]*?)\.? ")
    ok = _ask("numpy2_compatible", _v(_public(torch)), doc.platform() or "linux") if torch else None
    yield Finding("numpy-abi", "error", f"{who} was compiled against NumPy 1.x and cannot run "
                  f"with NumPy {numpy.group(1) if numpy else '2'} (its numpy bridge fails: "
                  "_ARRAY_API not found, Could not infer dtype)" + (f"; torch {torch} predates "
                  "NumPy 2 support" if ok is False else "") + f": pin numpy<2, or upgrade {who} "
                  "to a release built for NumPy 2", doc.line(down),
                  _cmd("pipguard", "install", "numpy<2"))


def _typing_extensions(doc: _Doc) -> Iterator[Finding]:
    m = doc.find(r"cannot import name '(\w+)' from 'typing_extensions'(?: \(([^)]+)\))?|module "
                 r"'typing_extensions' has no attribute '(\w+)'")
    if not m:
        return
    name, path = m.group(1) or m.group(3), m.group(2) or ""
    since = _TYPING_EXT_SINCE.get(name)
    distro = re.search(r"dist-packages|[/\\]usr[/\\]lib[/\\]python3", path)
    yield Finding("typing-extensions", "error",
                  f"the typing_extensions Python finds{f' ({path})' if path else ''} is too old "
                  f"to have {name}" + (f" (added in {since})" if since else "") + (
                  "; it is the distro's copy in dist-packages, which pip accepted as satisfying "
                  "torch's requirement: upgrade it in your environment, or better use a venv"
                  if distro else ""), doc.line(m), _cmd("pipguard", "install", "--upgrade",
                  f"typing_extensions>={since}" if since else "typing_extensions"))


Rule = Callable[[_Doc], Iterable[Finding]]
# The order is how decisive a signal is when several appear: causes before their symptoms.
RULES: tuple[Rule, ...] = (
    _dependency_confusion, _download_integrity, _no_matching_distribution, _resolver_conflict,
    _driver_too_old, _gpu_arch_unsupported, _cpu_build_on_gpu, _cuda_libraries,
    _companion_mismatch, _corrupt_install, _numpy_abi, _typing_extensions,
)

_ANSI = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
# Docker BuildKit ("#10 98.65 "), GitHub Actions and bracketed log timestamps.
_PREFIX = re.compile(r"^(?:#\d+ \d+(?:\.\d+)? |\d{4}-\d\d-\d\dT[\d:.]+Z "
                     r"|\[\d{4}-\d\d-\d\d[^\]]*\] )", re.M)


def clean(text: str) -> str:
    """Strip ANSI colour, CR/CRLF, BuildKit and CI prefixes; decode ``%2B`` in wheel URLs."""
    text = _ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return _PREFIX.sub("", text).replace("%2B", "+").replace("%2b", "+")


def explain(text: str, context: Context | None = None) -> tuple[Finding, ...]:
    """Diagnose failure ``text``: findings, most decisive first, deduplicated."""
    doc = _Doc(clean(text), context or Context())
    found = [(SEVERITIES.index(f.severity), rank, f)
             for rank, rule in enumerate(RULES) for f in rule(doc)]
    out: dict[tuple[str, str], Finding] = {}
    for _, _, f in sorted(found, key=lambda t: (t[0], t[1])):
        out.setdefault((f.category, f.message), f)
    return tuple(out.values())
