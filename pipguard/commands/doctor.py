"""``pipguard doctor``: gather the facts of the target environment, judge, return findings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipguard.deep_probe import TIMEOUT_S, probe_torch
from pipguard.detect import detect_overridden
from pipguard.doctor_environment import Environment
from pipguard.doctor_fit import GPU_ONLY, deep_fit, fit, unusable_gpus
from pipguard.doctor_folders import folders
from pipguard.doctor_packages import packages
from pipguard.explain import explain
from pipguard.explain_doc import Context
from pipguard.findings import SEVERITIES, Finding
from pipguard.fingerprints import verify_remembering
from pipguard.hardware import Hardware
from pipguard.install_record import read as read_record
from pipguard.installed import inspect
from pipguard.interpreter import pip_command
from pipguard.knowledge import Knowledge
from pipguard.knowledge_tables import load_word_model
from pipguard.options import DEFAULT_INDEX_URL, settings
from pipguard.orphans import find_orphans
from pipguard.pipargs import CommandLine
from pipguard.record import installed_size
from pipguard.results import Diagnosed
from pipguard.session import find_target, load_tables
from pipguard.target import marker_environment


def run_doctor(cl: CommandLine, environ: Mapping[str, str]) -> tuple[int, Diagnosed]:
    """Findings for the target environment; exit 1 when any is an error."""
    s = settings(cl, environ)
    interp, kn = find_target(s), load_tables(s)
    hw = detect_overridden(s.sysroot, s.path, s.overrides)
    dists = {d.name: d for d in inspect(interp.python, pip_command(interp))}
    # nvidia-* wheels too: a truncated libcudnn is a classic broken install.
    verified = verify_remembering([d for n, d in dists.items()
                                   if n in kn.family() or n.startswith("nvidia-")],
                                  s.cache_dir, full=s.verify_full)
    custom = s.torch_index_url if s.torch_index_url != DEFAULT_INDEX_URL else None
    record = read_record(interp.prefix)
    trusted = ((custom,) if custom else ()) + record.indexes
    env = Environment(dists, verified, hw, interp.os, interp.machine,
                      marker_environment(interp), trusted,
                      find_orphans([d.location for d in dists.values()], dists,
                                   kn.import_owners()),
                      {n: installed_size(d.dist_info) for n, d in dists.items()
                       if n == "torch" or n.startswith(GPU_ONLY)}, record)
    findings = check(env, kn)
    facts = None
    if s.deep and "torch" in dists:
        found, facts = deep_with_facts(interp.python, hw, kn, dists["torch"].version)
        # What the import says about the GPU rests on the build itself: it replaces what
        # the metadata and the tables said of the same thing.
        confirmed = {f.category for f in found} & {"cpu-build-on-gpu", "gpu-arch-unsupported"}
        findings = [f for f in findings if f.category not in confirmed] + found
        findings.sort(key=lambda f: SEVERITIES.index(f.severity))
    torch = dists.get("torch")
    result = Diagnosed(tuple(findings), "no problems found ("
                       + (f"torch {torch.version}" if torch else "no torch installed") + ")",
                       facts)
    return (1 if result.failed else 0), result


def check(e: Environment, kn: Knowledge) -> list[Finding]:
    """Every finding for the environment, errors first: the packages, who owns their
    folders, their fit, the GPUs this process cannot reach."""
    found = [*packages(e, kn), *folders(e, kn), *fit(e, kn), *unusable_gpus(e, kn)]
    return sorted(found, key=lambda f: SEVERITIES.index(f.severity))


def deep(python: str, hw: Hardware, kn: Knowledge, installed: str) -> list[Finding]:
    """Import torch in the target (with a timeout) and judge what it says."""
    return deep_with_facts(python, hw, kn, installed)[0]


def deep_with_facts(python: str, hw: Hardware, kn: Knowledge, installed: str
                    ) -> tuple[list[Finding], dict[str, Any] | None]:
    """:func:`deep`, and the facts the import reported (``None`` when it did not finish)."""
    probe = probe_torch(python)
    if probe.timed_out:
        return [Finding("corrupt-install", "warning",
                        f"import torch did not finish in {TIMEOUT_S:.0f} s",
                        "timed out", "pipguard verify torch")], None
    if probe.failure is not None:
        found = list(explain(probe.failure, Context(kn, hardware=hw, words=load_word_model())))
        if any(f.severity != "info" for f in found):
            return found, None
        # No rule read it: the import failing is the finding (an error, so doctor exits 1);
        # a probable cause, if any, follows it.
        return [Finding("corrupt-install", "error", "import torch failed",
                        (probe.failure.strip().splitlines() or ["?"])[-1],
                        "pipguard verify torch"), *found], None
    return deep_fit(probe.facts, hw, kn, installed), probe.facts

