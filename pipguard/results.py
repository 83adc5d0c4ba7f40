"""What each command found, as data; :mod:`pipguard.render` turns it into text or JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipguard.findings import Finding
from pipguard.hardware import Hardware
from pipguard.plan import Plan
from pipguard.verify import DistVerification


@dataclass(frozen=True)
class Detected:
    """``pipguard detect``."""

    hardware: Hardware


@dataclass(frozen=True)
class Planned:
    """``pipguard plan``: the plan, or ``None`` when no family package is involved."""

    plan: Plan | None
    hardware: Hardware
    python_tag: str


@dataclass(frozen=True)
class PlanFailed:
    """``pipguard plan --json`` when nothing fits or the index is out of reach."""

    message: str
    hint: str | None


@dataclass(frozen=True)
class DryRun:
    """``install --dry-run``: the plan and the exact pip command; nothing ran."""

    plan: Plan | None
    hardware: Hardware
    pins: tuple[str, ...]
    command: str


@dataclass(frozen=True)
class Verified:
    """``pipguard verify``."""

    results: tuple[DistVerification, ...]
    orphans: tuple[str, ...]
    named: bool  # names or --all were given (else: the torch family)
    # "name version: why": copies that are not the file pipguard installed (a look-alike).
    swapped: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results) and not self.orphans and not self.swapped


@dataclass(frozen=True)
class Diagnosed:
    """``pipguard doctor`` and ``pipguard explain``: findings, errors first."""

    findings: tuple[Finding, ...]
    when_none: str  # what to say when there is no finding
    deep: Mapping[str, Any] | None = None  # what ``doctor --deep``'s import of torch reported

    @property
    def failed(self) -> bool:
        return any(f.severity == "error" for f in self.findings)


Result = Detected | Planned | PlanFailed | DryRun | Verified | Diagnosed
