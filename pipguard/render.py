"""Rendering: every result and finding as text or ``--json``, in one place."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from pipguard.findings import Finding
from pipguard.hardware import Hardware
from pipguard.plan import Plan
from pipguard.redact import redact_text
from pipguard.results import (
    Detected,
    DryRun,
    PlanFailed,
    Planned,
    Result,
    Verified,
)
from pipguard.verify import DistVerification

NOTHING_PLANNED = "no torch-family package involved; pip decides alone"


def render(result: Result, *, as_json: bool) -> str:
    """The text (or JSON document) a command prints on stdout for ``result``; every URL
    in it redacted (:mod:`pipguard.redact`: no credentials ever reach the output)."""
    if as_json:
        return redact_text(json.dumps(_data(result), indent=2, sort_keys=False) + "\n")
    lines = list(_text(result))
    return redact_text("".join(line + "\n" for line in lines))


def _data(result: Result) -> dict[str, Any]:
    if isinstance(result, Detected):
        return result.hardware.as_dict()
    if isinstance(result, Planned):
        if result.plan is None:
            return {"variant": None, "backend": None, "packages": [], "notes": [NOTHING_PLANNED]}
        return {**result.plan.as_dict(), "hardware": result.hardware.as_dict(),
                "python": result.python_tag}
    if isinstance(result, PlanFailed):
        return {"variant": None, "backend": None, "packages": [], "notes": [],
                "error": result.message, "hint": result.hint}
    if isinstance(result, DryRun):
        return {"plan": result.plan.as_dict() if result.plan else None,
                "pins": list(result.pins), "command": result.command}
    if isinstance(result, Verified):
        return {"ok": result.ok, "orphans": list(result.orphans),
                "swapped": list(result.swapped), "distributions": [
            {"name": r.name, "version": r.version, "files_checked": r.files_checked,
             "files_hashed": r.files_hashed, "files_unchanged": r.files_unchanged,
             "record_missing": r.record_missing, "record_damage": r.record_damage,
             "problems": [{"path": p.path, "problem": p.problem, "expected": p.expected,
                           "actual": p.actual} for p in r.problems]} for r in result.results]}
    data: dict[str, Any] = {"findings": [f.as_dict() for f in result.findings]}
    if result.deep is not None:
        data["deep"] = dict(result.deep)
    return data


def _text(result: Result) -> Iterable[str]:
    if isinstance(result, Detected):
        yield from detect_lines(result.hardware)
    elif isinstance(result, Planned):
        if result.plan is None:
            yield NOTHING_PLANNED
        else:
            yield from plan_lines(result.plan, result.hardware)
    elif isinstance(result, PlanFailed):
        yield f"error: {result.message}"
    elif isinstance(result, DryRun):
        if result.plan is None:
            yield "no torch-family package involved; pip would run as is"
        else:
            yield summary_line(result.plan, result.hardware)
            yield from (f"warning: {w}" for w in result.plan.warnings)
            yield from (f"  {line}" for line in result.pins)
        yield result.command
    elif isinstance(result, Verified):
        yield from verify_lines(result)
    else:
        yield from findings_lines(result.findings) if result.findings else (result.when_none,)
        if result.deep is not None:
            yield from deep_lines(result.deep)


def detect_lines(hw: Hardware) -> Iterable[str]:
    yield f"accelerator: {hw.accelerator}"
    if hw.driver_version:
        yield f"driver: {hw.driver_version}" + (
            f" (CUDA {hw.cuda_driver_api})" if hw.cuda_driver_api else "")
    if hw.rocm_version:
        yield f"ROCm: {hw.rocm_version}"
    for i, g in enumerate(hw.gpus):
        yield f"gpu {i}: {g.name}  compute capability {g.compute_capability or 'unknown'}"
    for u in hw.unusable:
        yield f"unusable gpu: {u.describe()}"
        yield f"  fix: {u.fix}"
    if hw.torch_backend:
        yield f"torch backend: {hw.torch_backend} (forced)"
    if hw.overridden:
        yield "overrides: " + ", ".join(hw.overridden) + " (from the command line or PIPGUARD_*)"
    for s in hw.sources:
        yield f"  {'ok ' if s.ok else 'no '} {s.probe}: {s.detail}"


def plan_lines(p: Plan, hw: Hardware) -> Iterable[str]:
    yield summary_line(p, hw)
    yield f"variant: {p.variant}"
    for pkg in p.packages:
        yield f"  {pkg.name}=={pkg.version}  sha256={pkg.sha256 or 'unpublished'}"
        yield f"    {pkg.url}"
    yield from (f"warning: {w}" for w in p.warnings)
    yield from (f"note: {n}" for n in p.notes)
    if p.rejected:
        yield "rejected:"
        for r in p.rejected:
            yield f"  {r.variant}{' ' + r.version if r.version else ''}: {r.reason}"


def how_verified(results: Iterable[DistVerification]) -> str:
    """What a check did: sizes only, files hashed, files found unchanged since a match."""
    results = tuple(results)
    sized = sum(r.files_checked for r in results if r.sizes_only)
    hashed = sum(r.files_hashed for r in results)
    unchanged = sum(r.files_unchanged for r in results)
    parts = [f"{sized:,} files present at their RECORD sizes; pip checked each archive's "
             "hash (--verify full hashes every file)"] if sized else []
    if hashed or not sized:
        parts.append(f"{hashed:,} hashed against RECORD")
    if unchanged:
        parts.append(f"{unchanged:,} unchanged since an earlier check matched their hash "
                     "(--full hashes them too)")
    return ", ".join(parts)


def verify_lines(v: Verified) -> Iterable[str]:
    import os

    for path in v.orphans:
        name = os.path.basename(path)
        yield (f"{name} (files without metadata in {path}): FAILED; "
               f"`pipguard install {name}` repairs it")
    for r in v.results:
        yield (f"{r.name} {r.version}: {'ok' if r.ok else 'FAILED'} ({r.files_checked} files: "
               f"{how_verified((r,))})")
        if r.record_damage:
            yield f"  RECORD damaged ({r.record_damage}): cannot verify"
        elif r.record_missing:
            yield "  RECORD missing: cannot verify"
        for p in r.problems:
            yield f"  {p.problem}: {p.path}"
    for line in v.swapped:
        yield f"{line}: FAILED (not the file pipguard installed)"
    if not v.results and not v.orphans:
        yield "nothing to verify" if v.named else "no torch-family distribution installed"


def findings_lines(findings: Iterable[Finding]) -> Iterable[str]:
    for f in findings:
        yield f"[{f.severity}] {f.category}: {f.message}"
        if f.evidence:
            yield f"  evidence: {f.evidence}"
        if f.fix:
            yield f"  fix: {f.fix}"


def deep_lines(facts: Mapping[str, Any]) -> Iterable[str]:
    """What ``doctor --deep``'s import of torch reported, in a few lines."""
    def said(value: object) -> str:
        return "yes" if value else "no" if value is not None else "absent"

    builds = ", ".join(f"{name} {facts[key]}" for name, key in (
        ("CUDA", "cuda_version"), ("HIP", "hip"), ("cuDNN", "cudnn")) if facts.get(key))
    yield (f"torch {facts.get('version') or '?'} imported" + (f" ({builds})" if builds else "")
           + f": cuda available {said(facts.get('cuda'))}, xpu {said(facts.get('xpu'))}, "
           f"mps {said(facts.get('mps'))}")
    if facts.get("arch"):
        yield "  compiled for: " + " ".join(map(str, facts["arch"]))
    ops = facts.get("ops")
    if isinstance(ops, Mapping) and ops:
        yield "  tiny op: " + ", ".join(
            f"{d} {'ok' if isinstance(r, Mapping) and r.get('ok') else 'FAILED'}"
            for d, r in ops.items())
    for path in facts.get("libraries") or ():
        yield f"  loaded: {path}"


def diagnosis_lines(findings: Iterable[Finding]) -> Iterable[str]:
    """Findings as ``install`` says them after pip's own output."""
    for f in findings:
        yield f"diagnosis [{f.category}]: {f.message}"
        if f.fix:
            yield f"  fix: {f.fix}"


def _arch_label(vendor: str, cc: str | None) -> str:
    if cc is None:
        return "?"
    return "sm_" + cc.replace(".", "") if vendor == "nvidia" else cc


def _gpu_label(name: str, arch: str) -> str:
    # A GPU named by --gpu-arch is called after its architecture already ("NVIDIA sm_120").
    return name if name.endswith(arch) else f"{name} ({arch})"


def summary_line(plan: Plan, hw: Hardware) -> str:
    """One line: what will be installed, for which hardware, from where."""
    torch = plan.package("torch")
    what = f"torch {torch.version}" if torch else ", ".join(
        f"{p.name} {p.version}" for p in plan.packages) or "nothing from the torch index"
    gpus = ", ".join(_gpu_label(g.name, _arch_label(g.vendor, g.compute_capability))
                     for g in hw.gpus) or ("no GPU" if hw.accelerator == "none"
                                           else hw.accelerator)
    driver = f", driver {hw.driver_version}" if hw.driver_version else ""
    return f"{what} for {gpus}{driver} — from {plan.index_url}"
