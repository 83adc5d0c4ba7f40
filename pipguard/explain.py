"""``pipguard explain``: turn failure text into findings (cause and fix).

Input is whatever a user pastes: pip or uv output, a Python traceback, a warning
printed by torch, ``collect_env`` output, a Docker build log. Each rule keys on
the *decisive signal* of one failure class (the sentence pip, uv, torch or numpy
prints for it, not a memorised example), parses what that sentence names
(requirements, versions, capabilities, library paths) with :mod:`packaging`, and
asks the knowledge tables (:mod:`pipguard.knowledge`; every query degrades to
"unknown") to sharpen the diagnosis. Text no rule recognises gives ``()``.

This module is the framework (context, cleaning, rule order, merging); the rules
live in :mod:`pipguard.explain_install` and :mod:`pipguard.explain_runtime`, their
shared helpers in :mod:`pipguard.explain_common`.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipguard import explain_install, explain_runtime
from pipguard.explain_common import COMPANIONS, FAMILY, Rule, _Doc
from pipguard.findings import SEVERITIES, Finding
from pipguard.hardware import Hardware

__all__ = ["COMPANIONS", "FAMILY", "RULES", "Context", "Rule", "clean", "explain"]


@dataclass(frozen=True)
class Context:
    """Optional facts that sharpen the diagnosis."""

    hardware: Hardware | None = None
    installed: Mapping[str, str] = field(default_factory=dict)  # canonical name -> version
    python_version: str | None = None  # "3.11"
    platform: str | None = None  # "linux", "win32", "darwin"
    machine: str | None = None  # "x86_64", "arm64", ...


# -- the knowledge tables (each query answers None when they can't) -------------------


@functools.cache
def _knowledge() -> Any:
    try:
        return importlib.import_module("pipguard.knowledge_tables").default_knowledge()
    except (ImportError, AttributeError, OSError, ValueError):
        return None


def _ask(method: str, *args: object) -> Any:
    """``knowledge.<method>(*args)``, or ``None`` when the tables are missing or can't answer."""
    kb = _knowledge()
    try:
        return None if kb is None else getattr(kb, method)(*args)
    except (AttributeError, TypeError, ValueError, LookupError):
        return None


# The order is how decisive a signal is when several appear: causes before their symptoms
# (the install rules all come first).
RULES: tuple[Rule, ...] = (*explain_install.RULES, *explain_runtime.RULES)

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
