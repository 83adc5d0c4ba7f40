"""Third-party projects published once per CUDA major: ``cupy-cuda11x``, ``cupy-cuda12x``.

Which distribution is which project's build for which major, and which releases each build
has. The rows come from the knowledge tables (``cuda_builds``, parsed by
:mod:`pipguard.knowledge_tables`); ``doctor`` asks them through
:meth:`pipguard.knowledge.Knowledge.cuda_build_of`. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name
from packaging.version import Version


@dataclass(frozen=True)
class CudaBuilds:
    """One project's builds: their distribution names, each with the major it is for."""

    project: str
    pattern: re.Pattern[str]  # a canonical distribution name; group "major"
    build: str  # the name of its build for a major: "cupy-cuda{major}x"
    majors: tuple[int, ...]  # the majors it has a build for
    same_releases: bool = False  # each release is published for every major (cupy 13.3.0)...
    since: Mapping[int, Version] = field(default_factory=dict)  # ... from this one (13: 13.6.0)
    before: Mapping[int, Version] = field(default_factory=dict)  # ... until this one (11: 14)

    def build_for(self, major: int) -> str | None:
        return self.build.format(major=major) if major in self.majors else None

    def has_release(self, major: int, version: Version) -> bool:
        """Whether the build for ``major`` has this release (same releases, in its range)."""
        return self.same_releases and major in self.majors and not version.is_prerelease and (
            major not in self.since or version >= self.since[major]) and (
            major not in self.before or version < self.before[major])


def build_of(rows: Sequence[CudaBuilds], dist_name: str) -> tuple[CudaBuilds, int] | None:
    """The project a distribution is one CUDA major's build of, and that major:
    ``cupy-cuda11x`` -> (cupy's builds, 11); ``None`` for anything else."""
    name = str(canonicalize_name(dist_name))
    for builds in rows:
        if (m := builds.pattern.fullmatch(name)) and (m.group("major") or "").isdigit():
            return builds, int(m.group("major"))
    return None
