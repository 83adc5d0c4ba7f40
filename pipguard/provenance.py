"""Where an installed distribution came from: is it the planned file, or a look-alike?

pip records a direct reference's URL and hash in ``direct_url.json`` (PEP 610). pipguard
installs every family package as a direct reference to its planned file, so a copy whose
record is missing or names another URL or hash is not the planned file, whatever its
version says (a look-alike from an extra index installs at exactly the planned version).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from pipguard.installed import InstalledDist
from pipguard.plan import PlannedPackage


def recorded_sha256(direct_url: Mapping[str, Any] | None) -> str | None:
    """The sha256 PEP 610's ``archive_info`` recorded, else the URL's ``#sha256=`` (uv
    keeps the requirement's fragment in the URL of a ``file:`` wheel), if any."""
    info = (direct_url or {}).get("archive_info") or {}
    hashes = info.get("hashes") or {}
    if isinstance(hashes, Mapping) and hashes.get("sha256"):
        return str(hashes["sha256"]).lower()
    algo, _, value = str(info.get("hash") or "").partition("=")
    if algo == "sha256" and value:
        return value.lower()
    fragment = str((direct_url or {}).get("url", "")).partition("#")[2]
    algo, _, value = fragment.partition("=")
    return value.lower() if algo == "sha256" and value else None


def same_url(recorded: str, planned: str) -> bool:
    """The same file's URL: fragments aside, and percent-escapes read (uv records a ``file:``
    wheel's URL with ``+`` where the index wrote ``%2B``)."""
    return unquote(recorded.split("#")[0]) == unquote(planned.split("#")[0])


def is_planned_copy(dist: InstalledDist, planned: PlannedPackage) -> bool:
    """Whether ``dist`` is the planned file: same version, URL and (when recorded) sha256."""
    if dist.version != planned.version or dist.direct_url is None:
        return False
    if not same_url(str(dist.direct_url.get("url", "")), planned.url):
        return False
    got = recorded_sha256(dist.direct_url)
    return planned.sha256 is None or got is None or got == planned.sha256
