"""pip's installation report (``--report``, format version 1): what pip would install.

pipguard reads pip's machine output, never its text, to learn which torch-family
packages a command pulls in and where each would come from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
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


def transitive_requests(report: Mapping[str, Any], family: frozenset[str]) -> list[Request]:
    """Family requirements of the packages pip would install (from its report)."""
    env = {k: str(v) for k, v in (report.get("environment") or {}).items()}
    out: list[Request] = []
    for item in report.get("install", []) or []:
        meta = item.get("metadata") or {}
        name = canonicalize_name(str(meta.get("name", "")))
        origin = f"{name} {meta.get('version', '')}".strip()
        extras = tuple(item.get("requested_extras") or ())
        if name in family and item.get("requested"):
            # A family package pip found on the user's indexes: plan it ourselves.
            out.append(Request(Requirement(name), origin + " (requested)"))
        for req in applicable(meta.get("requires_dist") or (), env, extras):
            if canonicalize_name(req.name) in family:
                out.append(Request(req, origin))
    return out


def family_items(report: Mapping[str, Any], family: frozenset[str]) -> list[dict[str, Any]]:
    """Report items that are torch-family packages."""
    return [i for i in report.get("install", []) or []
            if canonicalize_name(str((i.get("metadata") or {}).get("name", ""))) in family]


def audit_routing(report: Mapping[str, Any], plan: Plan, family: frozenset[str]) -> list[str]:
    """Family packages in pip's report that did not come from the planned files."""
    planned = {p.name: p for p in plan.packages}
    problems = []
    for item in family_items(report, family):
        meta = item.get("metadata") or {}
        name = canonicalize_name(str(meta.get("name", "")))
        url = str((item.get("download_info") or {}).get("url", ""))
        p = planned.get(name)
        if p is None or url.split("#")[0] != p.url:
            problems.append(f"{name} {meta.get('version')} from {url or 'an unknown place'}")
    return problems


