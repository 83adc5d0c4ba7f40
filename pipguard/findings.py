"""The finding vocabulary shared by ``doctor``, ``explain`` and ``install``."""

from __future__ import annotations

from dataclasses import dataclass

CATEGORIES = (
    "no-matching-distribution",
    "download-integrity",
    "corrupt-install",
    "companion-mismatch",
    "numpy-abi",
    "typing-extensions",
    "driver-too-old",
    "gpu-arch-unsupported",
    "cpu-build-on-gpu",
    "cuda-libraries",
    "dependency-confusion",
    "resolver-conflict",
    "resource-exhausted",
    "gpu-build-without-gpu",
)
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One diagnosed problem: its cause, the evidence, and the fix."""

    category: str
    severity: str
    message: str
    evidence: str
    fix: str

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown finding category {self.category!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    def as_dict(self) -> dict[str, str]:
        return {
            "category": self.category,
            "severity": self.severity,
            "message": self.message,
            "evidence": self.evidence,
            "fix": self.fix,
        }
