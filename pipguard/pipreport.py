"""pip's installation report (``--report``, format version 1): what pip would install.

pipguard reads pip's machine output, never its text, to learn which torch-family
packages a command pulls in and where each would come from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from pipguard.plan import Plan
from pipguard.resolution import Request
from pipguard.target import applicable


def parse_report(text: str) -> dict[str, Any]:
    """The report as a mapping; ``{}`` when it is not a JSON object."""
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class Leak:
    """A torch-family item pip would install that is not a planned file."""

    name: str
    version: str
    url: str  # where pip would take it from ("" when the report does not say)
    why: str

    def __str__(self) -> str:
        return f"{self.name} {self.version} from {self.url or 'an unknown place'} ({self.why})"


def family_needs(report: Mapping[str, Any], family: frozenset[str]) -> list[Request]:
    """What the resolution asks of the family: the family packages it names as requested,
    and the family requirements of every *other* package it would install.

    Requirements that family packages found on the user's indexes place on each other
    (PyPI's torch pinning a triton) are left out: edges inside the family are the planner's.
    """
    env = {k: str(v) for k, v in (report.get("environment") or {}).items()}
    out: list[Request] = []
    for item in report.get("install", []) or []:
        meta = item.get("metadata") or {}
        name = canonicalize_name(str(meta.get("name", "")))
        origin = f"{name} {meta.get('version', '')}".strip()
        if name in family:
            if item.get("requested"):
                chosen = sorted(item.get("requested_extras") or ())
                wanted = name + (f"[{','.join(chosen)}]" if chosen else "")
                out.append(Request(Requirement(wanted), origin + " (requested)"))
            continue
        extras = tuple(item.get("requested_extras") or ())
        for req in applicable(meta.get("requires_dist") or (), env, extras):
            if canonicalize_name(req.name) in family:
                out.append(Request(req, origin))
    return out


def family_items(report: Mapping[str, Any], family: frozenset[str]) -> list[dict[str, Any]]:
    """Report items that are torch-family packages."""
    return [i for i in report.get("install", []) or [] if _name(i) in family]


def _name(item: Mapping[str, Any]) -> str:
    """A report item's canonical name."""
    return canonicalize_name(str((item.get("metadata") or {}).get("name", "")))


def _sha256(item: Mapping[str, Any]) -> str | None:
    info = (item.get("download_info") or {}).get("archive_info") or {}
    hashes = info.get("hashes") or {}
    if isinstance(hashes, Mapping) and hashes.get("sha256"):
        return str(hashes["sha256"]).lower()
    algo, _, value = str(info.get("hash") or "").partition("=")  # the older single field
    return value.lower() if algo == "sha256" and value else None


def audit(report: Mapping[str, Any], plan: Plan | None, family: frozenset[str]) -> list[Leak]:
    """Every family item pip would install that is not the planned file with the planned hash."""
    planned = {p.name: p for p in plan.packages} if plan is not None else {}
    leaks = []
    for item in family_items(report, family):
        meta = item.get("metadata") or {}
        name = canonicalize_name(str(meta.get("name", "")))
        version = str(meta.get("version", ""))
        url = str((item.get("download_info") or {}).get("url", ""))
        p = planned.get(name)
        if p is None:
            leaks.append(Leak(name, version, url, "not planned"))
        elif url.split("#")[0] != p.url:
            leaks.append(Leak(name, version, url, f"planned {p.url}"))
        elif p.sha256 and (_sha256(item) or p.sha256) != p.sha256:
            leaks.append(Leak(name, version, url, f"sha256 {_sha256(item)}, planned {p.sha256}"))
    return leaks


def installed_names(report: Mapping[str, Any]) -> frozenset[str]:
    """The names pip's report says it installed (canonical)."""
    return frozenset(_name(item) for item in report.get("install", []) or []
                     if isinstance(item, dict))
