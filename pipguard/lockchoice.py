"""Which lock of a fleet fits this machine, and why the others do not (``pipguard sync``).

Pure. The policy is the planner's: a lock's torch build must be one the planner would
consider for this hardware (:func:`pipguard.planner.candidate_variants`) and run on it
(:func:`pipguard.compatibility.judge`); among those that do, the planner's ranking
(:func:`pipguard.planner.rank`: newest torch, full driver support, newest CUDA) chooses.
``--torch-backend`` takes the lock of that variant as asked, with a warning when the
hardware cannot run it. A lock made for another Python or platform never fits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from pipguard.compatibility import Verdict, judge
from pipguard.errors import NoMatchingBuild
from pipguard.hardware import Hardware
from pipguard.knowledge import Knowledge
from pipguard.planner import candidate_variants, rank
from pipguard.pylock import Lock, applies
from pipguard.target import Interpreter, marker_environment
from pipguard.variants import label_of, variant_kind

PREFERRED = "is preferred (newer torch, full driver support, newer CUDA)"


@dataclass(frozen=True)
class LockChoice:
    """The chosen lock, its build's verdict, and why each other lock was not taken."""

    name: str
    lock: Lock
    variant: str | None
    torch: Version | None
    verdict: Verdict | None
    rejected: tuple[tuple[str, str], ...]  # (lock name, reason)
    warnings: tuple[str, ...] = ()


def lock_torch(lock: Lock) -> Version | None:
    """The locked torch's version (with its label), or None when the lock has no torch."""
    p = lock.package("torch")
    try:
        return Version(p.version) if p is not None and p.version else None
    except InvalidVersion:
        return None


def lock_variant(lock: Lock) -> str | None:
    """The torch variant of a lock: as pipguard recorded it, else the torch label."""
    if lock.info.variant:
        return lock.info.variant
    torch = lock_torch(lock)
    return label_of(torch) if torch is not None else None


def _environment_misfit(lock: Lock, interp: Interpreter) -> str | None:
    env = marker_environment(interp)
    if lock.environments and not any(applies(m, env) for m in lock.environments):
        return (f"made for {' or '.join(lock.environments)}; this target is Python "
                f"{interp.version_str} on {interp.os} {interp.machine}")
    if lock.requires_python:
        full = ".".join(str(v) for v in interp.version)
        try:
            if not SpecifierSet(lock.requires_python).contains(full, prereleases=True):
                return f"requires Python {lock.requires_python}; this target is Python {full}"
        except InvalidSpecifier:
            return f"has an unreadable requires-python {lock.requires_python!r}"
    return None


def _judge(lock: Lock, hw: Hardware, interp: Interpreter, kn: Knowledge
           ) -> tuple[str | None, Verdict | None, str | None]:
    """(variant, verdict, reason it does not fit) for one lock."""
    misfit = _environment_misfit(lock, interp)
    if misfit:
        return None, None, misfit
    variant, torch = lock_variant(lock), lock_torch(lock)
    if variant is None or torch is None:
        return variant, None, None  # nothing hardware-specific in it
    forced = hw.torch_backend
    if forced:
        if variant != forced:
            return variant, None, f"is a {variant} build; --torch-backend asks for {forced}"
    else:
        kinds = {variant_kind(v) for v in candidate_variants(hw, interp, kn, None)}
        if variant_kind(variant) not in kinds:
            return variant, None, (f"is a {variant} build; this machine "
                                   f"({hw.accelerator}) takes {'/'.join(sorted(kinds))} builds")
    verdict = judge(hw, interp.os, interp.machine, kn, variant, Version(torch.public))
    if not verdict.ok and not forced:
        return variant, verdict, verdict.reason
    return variant, verdict, None


def choose_lock(locks: Sequence[tuple[str, Lock]], hw: Hardware, interp: Interpreter,
                kn: Knowledge) -> LockChoice:
    """The best lock for ``hw`` by the planner's policy; NoMatchingBuild names each misfit."""
    rejected: list[tuple[str, str]] = []
    fits: list[tuple[str, Lock, str | None, Verdict | None]] = []
    for name, lock in sorted(locks, key=lambda nl: nl[0]):
        variant, verdict, reason = _judge(lock, hw, interp, kn)
        if reason is not None:
            rejected.append((name, reason))
        else:
            fits.append((name, lock, variant, verdict))
    if not fits:
        raise NoMatchingBuild(
            "no lock fits this machine: " + "; ".join(f"{n}: {r}" for n, r in rejected),
            hint="lock a class for this machine (pipguard lock --for ...), or name the "
                 "hardware with --cuda-driver/--gpu-arch/--torch-backend")

    def key(fit: tuple[str, Lock, str | None, Verdict | None]
            ) -> tuple[Version, bool, Version]:
        torch = lock_torch(fit[1])
        return rank(Version(torch.public) if torch else None, fit[3], fit[2] or "", kn)

    best = max(key(f) for f in fits)
    name, lock, variant, verdict = next(f for f in fits if key(f) == best)  # first by name
    for other in fits:
        if other[0] != name:
            torch = lock_torch(other[1])
            what = f"torch {torch}" if torch else "no torch"
            rejected.append((other[0], f"gives {what}; {name} {PREFERRED}"))
    warnings: list[str] = []
    if verdict is not None and verdict.warning:
        warnings.append(verdict.warning)
    if verdict is not None and not verdict.ok:
        warnings.append(verdict.reason)
    return LockChoice(name, lock, variant, lock_torch(lock), verdict,
                      tuple(sorted(rejected)), tuple(warnings))
