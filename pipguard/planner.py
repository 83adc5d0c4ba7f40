"""The selection policy: which torch build fits the target, and why.

Pure over its parameters: the hardware (detected or overridden), the target
interpreter, the knowledge tables and an :class:`~pipguard.resolution.IndexSource`.
The policy, as the README states it:

* walk torch versions newest first among those the requirements allow;
* a variant is a candidate only if the index has a wheel for the target's tags;
* a build qualifies only if it runs on the hardware (:mod:`pipguard.compatibility`);
* among qualifying variants prefer the newest torch, then those the driver fully
  supports, then the newest CUDA; under minor-version compatibility with a warning;
* ROCm needs the GPU's gfx arch in the variant's list, Intel takes ``xpu``,
  no accelerator ``cpu``; ``--torch-backend`` (or a ``+cu126`` label) forces a variant;
* companions are resolved jointly with torch inside the chosen variant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import canonicalize_name
from packaging.version import Version

from pipguard.compatibility import Verdict, judge
from pipguard.errors import IndexUnavailable, NoMatchingBuild
from pipguard.hardware import Hardware
from pipguard.knowledge import Knowledge
from pipguard.nofit import not_a_torch_index, nothing_fits, spec_for
from pipguard.plan import Plan, PlannedPackage, Rejection
from pipguard.resolution import (
    Candidate,
    FamilyProvider,
    IndexSource,
    Request,
    ResolutionFailed,
    resolve,
    tag_rank,
)
from pipguard.target import Interpreter, marker_environment
from pipguard.variants import cuda_of, is_variant, rocm_of

_NO_TORCH = "the index has no torch for this variant"


def candidate_variants(hw: Hardware, interp: Interpreter, kn: Knowledge,
                       forced: str | None) -> tuple[str, ...]:
    """Variants worth looking at for this hardware, before looking at the index."""
    if forced:
        return (forced,)
    if interp.os == "darwin":
        return ("cpu",)
    known = kn.known_variants()
    if hw.accelerator == "nvidia":
        cuda = [v for v in known if v.startswith("cu")]
        return tuple(sorted(cuda, key=lambda v: kn.cuda_version(v, None) or Version("0"),
                            reverse=True))
    if hw.accelerator == "amd" and interp.os == "linux":
        return tuple(sorted((v for v in known if v.startswith("rocm")),
                            key=lambda v: rocm_of(v) or Version("0"), reverse=True))
    if hw.accelerator == "intel":
        return ("xpu",)
    return ("cpu",)


@dataclass
class _Outcome:
    """One variant that resolved: its files, its torch, the verdicts met on the way."""

    variant: str
    result: dict[str, Candidate]
    torch: Version | None
    verdicts: dict[Version, Verdict]

    @property
    def verdict(self) -> Verdict | None:
        return self.verdicts.get(self.torch) if self.torch is not None else None


@dataclass(frozen=True)
class _Search:
    """What every variant is judged with, fixed for one plan."""

    requests: tuple[Request, ...]
    hw: Hardware
    interp: Interpreter
    kn: Knowledge
    source: IndexSource
    forced: str | None
    prereleases: bool
    tag_order: Mapping[Tag, int]
    torch_spec: SpecifierSet

    def verdict(self, variant: str, torch: Version) -> Verdict:
        return judge(self.hw, self.interp.os, self.interp.machine, self.kn, variant, torch)


def plan(
    requests: Sequence[Request],
    *,
    hw: Hardware,
    interp: Interpreter,
    kn: Knowledge,
    source: IndexSource,
    variant_url: Callable[[str], str] = lambda variant: "",
    prereleases: bool = False,
) -> Plan:
    """Choose the variant and the exact family files for ``requests``.

    Raises :class:`~pipguard.errors.NoMatchingBuild` naming the nearest thing
    that would work when nothing fits.
    """
    forced = hw.torch_backend or _forced_by_label(requests)
    search = _Search(tuple(requests), hw, interp, kn, source, forced, prereleases,
                     {t: i for i, t in enumerate(interp.tags)}, spec_for("torch", requests))
    variants = candidate_variants(hw, interp, kn, forced)
    rejected: list[Rejection] = []
    outcomes: list[_Outcome] = []
    best: Version | None = None
    for variant in variants:
        got = _try_variant(search, variant, best)
        if isinstance(got, Rejection):
            rejected.append(got)
            continue
        rejected.extend(Rejection(variant, vd.reason, str(v)) for v, vd in got.verdicts.items()
                        if not vd.ok and (got.torch is None or v > got.torch))
        outcomes.append(got)
        if got.torch is not None and (best is None or got.torch > best):
            best = got.torch
    if not outcomes:
        if not forced and rejected and all(r.reason == _NO_TORCH for r in rejected):
            raise IndexUnavailable(*not_a_torch_index(variant_url("<variant>"), variants))
        raise NoMatchingBuild(*nothing_fits(requests, hw, interp, kn, source, variants,
                                            rejected, search.tag_order))
    chosen = max(outcomes, key=lambda o: _rank(o, kn))
    hardware_reasons = list(rejected)  # why variants could not run, before the ranking's
    rejected.extend(Rejection(o.variant, _why_not(o, chosen, kn),
                              str(o.torch) if o.torch else None)
                    for o in outcomes if o is not chosen)
    notes, warnings = _remarks(search, variants, chosen, hardware_reasons)
    packages = []
    for name, cand in sorted(chosen.result.items()):
        if cand.file.sha256 is None:
            notes.append(f"{cand.file.filename}: the index publishes no sha256; "
                         + (f"pip checks the published {cand.file.other_hash.split('=')[0]}"
                            if cand.file.other_hash else "pip will record the hash it sees"))
        packages.append(PlannedPackage(name, str(cand.version), cand.file.url,
                                       cand.file.sha256, cand.file.filename,
                                       cand.file.other_hash))
    return Plan(chosen.variant, tuple(packages), tuple(dict.fromkeys(notes)),
                tuple(warnings), tuple(rejected), variant_url(chosen.variant).rstrip("/"))


def _try_variant(s: _Search, variant: str, best: Version | None) -> _Outcome | Rejection:
    """Resolve the family inside one variant, or say why it is out."""
    verdicts: dict[Version, Verdict] = {}

    def accept(c: Candidate) -> bool:
        if c.name != "torch":
            return True
        base = Version(c.version.public)
        if base not in verdicts:
            verdicts[base] = s.verdict(variant, base)
        # A forced variant is taken as asked; the verdict becomes a warning.
        return verdicts[base].ok or s.forced is not None

    torch_files = s.source.files(variant, "torch")
    available = sorted({Version(f.version.public) for f in torch_files or ()
                        if tag_rank(f, s.tag_order) is not None
                        and s.torch_spec.contains(f.version, prereleases=True)}, reverse=True)
    if torch_files is None:
        return Rejection(variant, _NO_TORCH)
    if not available and _wants_torch(s.requests):
        return Rejection(variant, f"no torch wheel for {s.interp.python_tag} on this platform"
                         + (f" matching {s.torch_spec}" if str(s.torch_spec) else ""))
    if best is not None and available and available[0] < best:
        return Rejection(variant, f"newest torch here is {available[0]}; {best} was found "
                                  "elsewhere")
    provider = FamilyProvider(s.source, variant, tag_order=s.tag_order,
                              environment=marker_environment(s.interp), family=s.kn.family(),
                              prereleases=s.prereleases, accept=accept)
    try:
        result = resolve(provider, s.requests)
    except ResolutionFailed as exc:
        bad = sorted((v, vd.reason) for v, vd in verdicts.items() if not vd.ok)
        if bad and not any(vd.ok for vd in verdicts.values()):
            return Rejection(variant, bad[-1][1], str(bad[-1][0]))
        return Rejection(variant, exc.reason, str(available[0]) if available else None)
    torch_c = result.get("torch")
    return _Outcome(variant, result, Version(torch_c.version.public) if torch_c else None,
                    verdicts)


def _rank(o: _Outcome, kn: Knowledge) -> tuple[Version, bool, Version]:
    return rank(o.torch, o.verdict, o.variant, kn)


def rank(torch: Version | None, verdict: Verdict | None, variant: str, kn: Knowledge
         ) -> tuple[Version, bool, Version]:
    """How a qualifying build ranks: newest torch, full driver support, newest CUDA.

    The higher the better; ``sync`` ranks locks with it as the plan ranks variants.
    """
    return (torch or Version("0"), verdict.full_support if verdict else True,
            kn.cuda_version(variant, torch) or cuda_of(variant) or Version("0"))


def _why_not(o: _Outcome, chosen: _Outcome, kn: Knowledge) -> str:
    """The true reason a variant that resolved lost to the chosen one (the ranking's order)."""
    if (o.torch or Version("0")) < (chosen.torch or Version("0")):
        return f"its newest fitting torch is {o.torch}; {chosen.variant} has {chosen.torch}"
    mine, theirs = o.verdict, chosen.verdict
    if theirs is not None and mine is not None and theirs.full_support and not mine.full_support:
        return (f"this driver runs it only under CUDA minor-version compatibility; "
                f"{chosen.variant} is fully supported")
    cuda, best = _rank(o, kn)[2], _rank(chosen, kn)[2]
    if cuda < best:
        return f"CUDA {cuda} is older than {chosen.variant}'s CUDA {best}"
    return f"{chosen.variant} ranks first (same torch, driver support and CUDA)"


def _remarks(s: _Search, variants: Sequence[str], chosen: _Outcome,
             rejected: Sequence[Rejection]) -> tuple[list[str], list[str]]:
    """The notes and warnings of the chosen build."""
    notes: list[str] = []
    warnings: list[str] = []
    vd = chosen.verdict
    if vd is not None:
        notes.extend(vd.notes)
        if vd.warning:
            warnings.append(vd.warning)
    newest = _newest_anywhere(s, variants)
    why = "; ".join(sorted({r.reason for r in rejected if r.version == str(newest)}))
    # Only when the hardware ruled the newer release out: a companion pin that
    # needs an older torch is the user's choice, not news.
    if chosen.torch is not None and newest is not None and newest > chosen.torch and why:
        warnings.append(f"torch {newest} exists but was not chosen: {why}; "
                        f"planned the newest that fits, {chosen.torch}")
    if s.forced and vd is not None and not vd.ok:
        warnings.append(vd.reason)
    if not s.hw.overridden:  # named target hardware: this machine's GPUs are not the point
        warnings.extend(u.plan_warning(u.gpu in s.hw.gpus) for u in s.hw.unusable)
    if chosen.torch is not None and not s.kn.is_known_release(chosen.torch):
        notes.append(f"torch {chosen.torch} is newer than pipguard's tables "
                     f"(facts of {s.kn.facts_date()}); planned from the index "
                     "with the newest known rows")
    return notes, warnings


def _wants_torch(requests: Sequence[Request]) -> bool:
    return any(canonicalize_name(r.requirement.name) == "torch" for r in requests)


def _forced_by_label(requests: Sequence[Request]) -> str | None:
    """A requirement like ``torch==2.5.1+cu124`` names its variant."""
    for r in requests:
        for spec in r.requirement.specifier:
            if spec.operator in ("==", "===") and "*" not in spec.version:
                label = spec.version.partition("+")[2]
                if label and is_variant(label):
                    return label
    return None


def _newest_anywhere(s: _Search, variants: Sequence[str]) -> Version | None:
    found = [Version(f.version.public) for v in variants for f in s.source.files(v, "torch") or ()
             if s.torch_spec.contains(f.version, prereleases=True)
             and any(t in s.tag_order for t in f.tags)]
    return max(found) if found else None


def family_requests(reqs: Sequence[tuple[Requirement, str]], family: frozenset[str]
                    ) -> list[Request]:
    """Keep the requirements on family packages (URL requirements stay with pip)."""
    return [Request(r, origin) for r, origin in reqs
            if canonicalize_name(r.name) in family and not r.url]
