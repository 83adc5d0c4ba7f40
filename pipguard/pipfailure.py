"""A failed pip run: is one more try worth it, and which file?

Two failures are: a corrupt download (a hash mismatch, a bad zip, a bad CRC, a
truncated file), retried once per file without pip's cache; and pip running out of
memory (or being killed) while downloading or caching a multi-GB wheel, retried once
without pip's cache, which makes pip stream the file to disk. pip has no
machine-readable failure report, so this reads the diagnosis :mod:`pipguard.explain`
made of its text; it only decides whether one more try is worth it, never what gets
installed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipguard.errors import IntegrityError
from pipguard.explain_resources import DISK_FULL
from pipguard.findings import Finding
from pipguard.plan import Plan


@dataclass(frozen=True)
class Corrupt:
    """One download pip rejected: which file, and the hashes pip printed."""

    key: str  # identifies the file across attempts: its expected hash, else its name
    name: str | None  # the planned package it belongs to, if any
    expected: str | None
    actual: str | None
    evidence: str


_HASHES = re.compile(r"Expected\s+sha256\s+([0-9a-f]{64})\s+Got\s+([0-9a-f]{64})", re.I)
_WHEEL = re.compile(r"([A-Za-z0-9_.+%-]+\.whl)")


def _acted_on(findings: Sequence[Finding], category: str) -> list[Finding]:
    """The findings of ``category`` a retry may rest on: a rule's, not a probable cause (an
    ``info`` finding, a hint or the word model's guess, is said and never acted on)."""
    return [f for f in findings if f.category == category and f.severity != "info"]


def corrupt_download(output: str, findings: Sequence[Finding], plan: Plan) -> Corrupt | None:
    """Whether pip failed on a corrupt or mismatching download, and which file.

    pip has no machine-readable failure report, so this reads its text; it only
    decides whether one more try is worth it, never what gets installed. A
    file is known by the hash pip expected (its published sha256), so each
    file gets its own retry however pip words the rest.
    """
    findings = _acted_on(findings, "download-integrity")
    match = _HASHES.search(output)
    if not findings and match is None:
        return None
    evidence = findings[0].evidence if findings else match.group(0) if match else ""
    by_hash = {p.sha256: p for p in plan.packages if p.sha256}
    if match is not None:
        expected, actual = match.group(1).lower(), match.group(2).lower()
        p = by_hash.get(expected)
        return Corrupt(expected, p.name if p else None, expected, actual, evidence)
    # A broken archive (bad zip, truncated): name the wheel pip was handling.
    wheels = _WHEEL.findall(evidence) or _WHEEL.findall(output)
    names = [w.replace("%2B", "+") for w in wheels]
    for p in plan.packages:
        if p.filename in names:
            return Corrupt(p.filename, p.name, p.sha256, None, evidence)
    return Corrupt(names[-1] if names else "", None, None, None, evidence)


@dataclass(frozen=True)
class Exhausted:
    """pip ran out of memory (or was killed) while downloading or caching a file."""

    what: str  # the wheel it was handling, else "a download"
    evidence: str


def out_of_memory(output: str, findings: Sequence[Finding]) -> Exhausted | None:
    """Whether pip ran out of memory while downloading or caching, and on which file.

    From the ``resource-exhausted`` finding (a full disk is not this: without the cache
    pip needs less space, but the disk stays full, so that is the user's to fix).
    """
    found = next((f for f in _acted_on(findings, "resource-exhausted")
                  if not re.search(DISK_FULL, f.evidence, re.I)), None)
    if found is None:
        return None
    wheels = _WHEEL.findall(found.evidence) or _WHEEL.findall(output)
    return Exhausted(wheels[-1].replace("%2B", "+") if wheels else "a download", found.evidence)


def integrity_error(plan: Plan, bad: Corrupt) -> IntegrityError:
    """The error for a file that failed its check on the retry too."""
    p = plan.package(bad.name) if bad.name else None
    where = f"{p.name} ({p.filename}) from {plan.index_url}" if p else (
        bad.key if bad.key and not bad.expected else "a download")
    hashes = (f"expected sha256 {bad.expected}, got {bad.actual}" if bad.actual
              else f"expected sha256 {bad.expected}, got an unreadable archive"
              if bad.expected else "the archive is unreadable")
    return IntegrityError(
        f"{where} failed its integrity check twice: {hashes}",
        hint="the index or a proxy serves a file that differs from its published hash; "
             "nothing was installed",
    )


