"""Family resolution: the torch family inside one variant index (resolvelib over index metadata).

Companions must come from the same variant as torch and satisfy each other's
``Requires-Dist`` (torchvision 0.26.0 pins ``torch==2.11.0``). Only torch-family
dependencies are followed; everything else is left to pip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from packaging.metadata import parse_email
from packaging.requirements import Requirement
from packaging.tags import Tag
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from pipguard.simple import IndexFile
from pipguard.target import applicable
from pipguard.variants import is_variant


class IndexSource(Protocol):
    """What the planner needs from an index: project pages and metadata."""

    def files(self, variant: str, project: str) -> tuple[IndexFile, ...] | None:
        """Files of ``project`` in ``variant``; ``None`` when the variant lacks it."""

    def metadata(self, file: IndexFile) -> str:
        """The METADATA text of ``file`` (PEP 658 or from the wheel)."""


@dataclass(frozen=True)
class Candidate:
    """One wheel of a family package considered for the install."""

    name: NormalizedName
    version: Version
    file: IndexFile
    extras: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Request:
    """A requirement on a family package and where it came from."""

    requirement: Requirement
    origin: str  # "command line", "-r req.txt", "myproj 1.0", "torchvision 0.26.0"


class ResolutionFailed(Exception):
    """No consistent set of family wheels exists in this variant."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def tag_rank(file: IndexFile, tag_order: Mapping[Tag, int]) -> int | None:
    """Position of the file's best tag among the target's tags (lower is better)."""
    ranks = [tag_order[t] for t in file.tags if t in tag_order]
    return min(ranks) if ranks else None


def requirements_of(
    metadata_text: str, environment: Mapping[str, str], family: frozenset[str],
    extras: frozenset[str] = frozenset(),
) -> list[Requirement]:
    """Family requirements in a METADATA text whose markers hold for the target."""
    raw, _ = parse_email(metadata_text)
    return [r for r in applicable(raw.get("requires_dist", []) or [], environment, extras)
            if canonicalize_name(r.name) in family]


class FamilyProvider:
    """resolvelib provider over one variant index."""

    def __init__(
        self,
        source: IndexSource,
        variant: str,
        *,
        tag_order: Mapping[Tag, int],
        environment: Mapping[str, str],
        family: frozenset[str],
        prereleases: bool,
        accept: Callable[[Candidate], bool] = lambda c: True,
    ) -> None:
        self.source = source
        self.variant = variant
        self.tag_order = tag_order
        self.environment = environment
        self.family = family
        self.prereleases = prereleases
        self.accept = accept
        self.missing: set[str] = set()

    # -- resolvelib protocol ------------------------------------------------
    def identify(self, requirement_or_candidate: Request | Candidate) -> str:
        if isinstance(requirement_or_candidate, Candidate):
            return requirement_or_candidate.name
        return canonicalize_name(requirement_or_candidate.requirement.name)

    def get_preference(self, identifier: str, resolutions: Any, candidates: Any,
                       information: Any, backtrack_causes: Any) -> Any:
        # torch first: its version decides what the companions may be.
        return (identifier != "torch", identifier)

    def narrow_requirement_selection(self, identifiers: Iterable[str], *a: Any, **k: Any) -> Any:
        return identifiers

    def find_matches(self, identifier: str, requirements: Mapping[str, Iterator[Request]],
                     incompatibilities: Mapping[str, Iterator[Candidate]]) -> list[Candidate]:
        reqs = [r.requirement for r in requirements[identifier]]
        bad = {c.file.url for c in incompatibilities[identifier]}
        extras = frozenset(e for r in reqs for e in r.extras)
        return [
            c for c in self.candidates(identifier, extras)
            if c.file.url not in bad
            and all(r.specifier.contains(c.version, prereleases=True) for r in reqs)
            and (self.prereleases or not c.version.is_prerelease
                 or any(r.specifier.prereleases for r in reqs))
        ]

    def is_satisfied_by(self, requirement: Request, candidate: Candidate) -> bool:
        return requirement.requirement.specifier.contains(candidate.version, prereleases=True)

    def get_dependencies(self, candidate: Candidate) -> list[Request]:
        text = self.source.metadata(candidate.file)
        origin = f"{candidate.name} {candidate.version}"
        return [
            Request(r, origin)
            for r in requirements_of(text, self.environment, self.family, candidate.extras)
        ]

    # -- helpers ------------------------------------------------------------
    def candidates(self, project: str, extras: frozenset[str] = frozenset()) -> list[Candidate]:
        """Wheels of ``project`` in this variant that fit the target, best first."""
        files = self.source.files(self.variant, project)
        if files is None:
            self.missing.add(project)
            return []
        usable = [f for f in files if f.yanked is None and tag_rank(f, self.tag_order) is not None]
        labelled = [f for f in usable if f.version.local == self.variant]
        # Packages the index mirrors without a variant label (triton, some
        # aarch64 torchvision, nightly pytorch-triton's "+git…") are taken as
        # they are; a build labelled for this variant always wins.
        pool = labelled if labelled else [
            f for f in usable if f.version.local is None or not is_variant(f.version.local)
        ]
        best: dict[Version, Candidate] = {}
        for f in sorted(pool, key=lambda f: tag_rank(f, self.tag_order) or 0):
            cand = Candidate(canonicalize_name(project), f.version, f, extras)
            if f.version not in best and self.accept(cand):
                best[f.version] = cand
        return sorted(best.values(), key=lambda c: c.version, reverse=True)


def resolve(provider: FamilyProvider, requests: Sequence[Request]) -> dict[str, Candidate]:
    """Resolve ``requests`` in the provider's variant or raise :class:`ResolutionFailed`."""
    from resolvelib import BaseReporter, Resolver
    from resolvelib.resolvers import ResolutionImpossible, ResolutionTooDeep

    resolver: Any = Resolver(provider, BaseReporter())  # type: ignore[arg-type]
    try:
        result = resolver.resolve(list(requests), max_rounds=500)
    except ResolutionImpossible as exc:
        raise ResolutionFailed(_describe(list(exc.causes), provider)) from None
    except ResolutionTooDeep:
        raise ResolutionFailed("the family's requirements could not be resolved") from None
    return dict(result.mapping)


def _describe(causes: Sequence[Any], provider: FamilyProvider) -> str:
    parts: list[str] = []
    for cause in causes:
        req = cause.requirement.requirement
        name = canonicalize_name(req.name)
        parent = cause.parent
        who = f"{parent.name} {parent.version}" if parent is not None else cause.requirement.origin
        if name in provider.missing:
            parts.append(f"{name} is not on the {provider.variant} index")
        else:
            parts.append(f"{who} requires {req}")
    return "; ".join(dict.fromkeys(parts)) or "no consistent set of wheels"
