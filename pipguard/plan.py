"""The plan: the decision ``plan`` shows and ``install`` carries out (data only).

The chosen variant, every family file with its sha256, notes, warnings, and each
variant that was not chosen with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.utils import canonicalize_name


@dataclass(frozen=True)
class PlannedPackage:
    """One file the install will take from the torch index."""

    name: str
    version: str  # with its local label: "2.11.0+cu128"
    url: str
    sha256: str | None
    filename: str
    # "<algo>=<hex>" when the index publishes only another hash (md5, sha1…): pip checks it.
    other_hash: str | None = None

    @property
    def fragment(self) -> str:
        """The hash fragment of the pin, ``#sha256=…`` (or the published one), else ``""``."""
        if self.sha256:
            return f"#sha256={self.sha256}"
        return f"#{self.other_hash}" if self.other_hash else ""

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "version": self.version, "url": self.url,
                "sha256": self.sha256, "other_hash": self.other_hash,
                "filename": self.filename}


@dataclass(frozen=True)
class Rejection:
    """A variant (for a torch version) that was not chosen, and why."""

    variant: str
    reason: str
    version: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"variant": self.variant, "version": self.version, "reason": self.reason}


@dataclass(frozen=True)
class Plan:
    """The decision: variant, files, notes and what was rejected."""

    variant: str
    packages: tuple[PlannedPackage, ...]
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    rejected: tuple[Rejection, ...] = ()
    index_url: str = ""

    def package(self, name: str) -> PlannedPackage | None:
        for p in self.packages:
            if p.name == canonicalize_name(name):
                return p
        return None

    def as_dict(self) -> dict[str, object]:
        return {
            "variant": self.variant,
            "backend": self.variant,  # the name before 0.2, kept for scripts
            "index_url": self.index_url,
            "packages": [p.as_dict() for p in self.packages],
            "notes": list(self.notes) + [f"warning: {w}" for w in self.warnings],
            "warnings": list(self.warnings),
            "rejected": [r.as_dict() for r in self.rejected],
        }
