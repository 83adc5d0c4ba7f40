"""What the ``explain`` rules share: the document view, parsing helpers, knowledge queries.

:mod:`pipguard.explain` (the framework) and the rule modules
(:mod:`pipguard.explain_install`, :mod:`pipguard.explain_runtime`) import from here;
this module imports neither of them at import time, so there is no import cycle.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pipguard.findings import Finding

if TYPE_CHECKING:
    from pipguard.explain import Context

COMPANIONS = ("torchvision", "torchaudio", "torchtext", "xformers", "torchao", "torchcodec")
FAMILY = frozenset(("torch", "triton", "pytorch-triton", *COMPANIONS))


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


def _ask(method: str, *args: object) -> Any:
    """A knowledge query via :func:`pipguard.explain._ask` (``None`` when it can't answer).

    Imported at call time: the knowledge wrapper lives in the framework module, which
    imports the rule modules (and tests swap its ``_knowledge``).
    """
    from pipguard.explain import _ask as ask

    return ask(method, *args)


def _companion_for(torch_version: str, name: str) -> str | None:
    """The companion release (torchvision ...) made for ``torch_version``."""
    got = _ask("companions", _v(_public(torch_version)))
    got = got.get(canonicalize_name(name)) if isinstance(got, Mapping) else None
    return str(got) if got else None


def _kb_platform(doc: _Doc) -> Any:
    return _ask("platform_of", doc.platform() or "linux", doc.machine() or "x86_64")


Rule = Callable[[_Doc], Iterable[Finding]]
