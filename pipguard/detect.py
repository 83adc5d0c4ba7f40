"""Detect the accelerators of this machine: ``detect(environ) -> Hardware``.

Which probes run, and in what order (see each probe module for its own sources):

1. **NVIDIA** (:mod:`pipguard.probes.nvidia`), Linux and Windows. Fast sources
   first, and no process is started once one has answered fully:
   NVML through ctypes (real machine only) -> ``/sys/module/nvidia/version`` ->
   ``/proc/driver/nvidia/version`` -> ``/proc/driver/nvidia/gpus/*/information``
   with compute capabilities from the GPU name table (``pipguard/data/gpus.json``)
   -> ``nvidia-smi --query-gpu`` on ``PATH`` or in ``/usr/lib/wsl/lib`` (WSL),
   whose ``compute_cap`` wins.
2. **AMD** (:mod:`pipguard.probes.amd`), Linux: the KFD topology in sysfs, then
   ``rocminfo`` / ``rocm_agent_enumerator`` (only if KFD has no answer and no
   NVIDIA GPU was found); ROCm version from ``/opt/rocm/.info/version``.
3. **Intel** (:mod:`pipguard.probes.intel`), Linux: XPU-capable PCI device ids.
4. **Apple** (:mod:`pipguard.probes.apple`): macOS on arm64 -> ``Apple MPS``.
5. Otherwise the accelerator is ``"none"``.

When several vendors are present the first in this order is the accelerator and
only its GPUs are reported; the others are named in ``sources``.

Then GPUs that are there but unusable (:mod:`pipguard.probes.unusable`): an NVIDIA or
AMD GPU on the PCI bus without its driver (not an accelerator: plans take ``cpu``), or
a driver loaded on the host whose device nodes this container lacks (the GPUs stay:
plans target them). Both land in ``Hardware.unusable`` with the reason.

Every file is read under ``root`` (``PIPGUARD_SYSROOT``, default ``/``) and tools are
found on the given ``path`` (``PATH``), so tests replay recorded machines; with a moved
root the in-process NVML probe is skipped, since it would see this machine.
Detection never raises: a probe that cannot use what it found adds a
``Source(ok=False)`` saying why, and every probe that answered adds one with
``ok=True`` saying what it found.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from pipguard.hardware import Hardware, Overrides, Source, UnusableGpu, apply_overrides
from pipguard.probes import ProbeEnv, VendorResult

DEFAULT_TIMEOUT = 5.0
ORDER = ("nvidia", "amd", "intel", "apple")


@dataclass(frozen=True)
class PlatformFacts:
    """The platform detection runs on: ``sys.platform`` and the machine (``x86_64``)."""

    system: str
    machine: str

    @classmethod
    def current(cls) -> PlatformFacts:
        """This interpreter's platform; the machine as ``platform.machine()`` says."""
        if hasattr(os, "uname"):
            machine = os.uname().machine  # what platform.machine() returns, without its import
        else:
            import platform

            machine = platform.machine()
        return cls(sys.platform, normalize_machine(machine))


def normalize_machine(machine: str) -> str:
    """Windows says ``AMD64``/``ARM64``; use the ``x86_64``/``arm64`` spelling."""
    value = machine.strip().lower()
    return {"amd64": "x86_64", "x64": "x86_64"}.get(value, value)


def _probes(system: str) -> tuple[tuple[str, Callable[[ProbeEnv, bool], VendorResult]], ...]:
    """The vendor probes that apply to ``system``, in :data:`ORDER`."""
    from pipguard.probes import amd, apple, intel, nvidia

    table: dict[str, Callable[[ProbeEnv, bool], VendorResult]] = {
        "nvidia": lambda env, first: nvidia.probe(env),
        "amd": lambda env, first: amd.probe(env, allow_tools=first),
        "intel": lambda env, first: intel.probe(env),
        "apple": lambda env, first: apple.probe(env),
    }
    if system == "darwin":
        names: tuple[str, ...] = ("apple",)
    elif system == "win32":
        names = ("nvidia",)
    elif system.startswith("linux"):
        names = ("nvidia", "amd", "intel")
    else:
        names = ()
    return tuple((name, table[name]) for name in names)


def _guarded(
    vendor: str, fn: Callable[[ProbeEnv, bool], VendorResult], env: ProbeEnv, first: bool
) -> VendorResult:
    """Run one vendor probe; whatever goes wrong becomes a failed Source."""
    try:
        return fn(env, first)
    except Exception as exc:  # detection must never raise
        return VendorResult(vendor, sources=(Source(vendor, False, f"probe failed: {exc!r}"),))


def _unusable(env: ProbeEnv, results: tuple[VendorResult, ...]
              ) -> tuple[tuple[UnusableGpu, ...], tuple[Source, ...]]:
    """The GPUs seen but unusable; whatever goes wrong becomes a failed Source."""
    from pipguard.probes import unusable

    try:
        return unusable.find(env, results)
    except Exception as exc:  # detection must never raise
        return (), (Source("unusable-gpu", False, f"check failed: {exc!r}"),)


def combine(results: tuple[VendorResult, ...], facts: PlatformFacts,
            unusable: tuple[UnusableGpu, ...] = (), notes: tuple[Source, ...] = ()
            ) -> Hardware:
    """One :class:`Hardware` from the vendor results: the first vendor found wins."""
    sources = [s for r in results for s in r.sources]
    found = [r for r in results if r.found]
    if not found:
        sources.extend(notes)
        sources.append(Source("detect", True, "no usable NVIDIA, AMD, Intel XPU or Apple GPU "
                              "found" if unusable else
                              "no NVIDIA, AMD, Intel XPU or Apple GPU found"))
        return Hardware(sources=tuple(sources), os=facts.system, machine=facts.machine,
                        unusable=unusable)
    chosen = found[0]
    for other in found[1:]:
        sources.append(
            Source("detect", True, f"{other.vendor} GPU(s) also present, not used: "
                   f"{chosen.vendor} comes first")
        )
    sources.extend(notes)
    return Hardware(
        accelerator=chosen.vendor,
        driver_version=chosen.driver_version,
        gpus=chosen.gpus,
        cuda_driver_api=chosen.cuda_driver_api,
        rocm_version=chosen.rocm_version,
        sources=tuple(sources),
        os=facts.system,
        machine=facts.machine,
        unusable=unusable,
    )


def detect(
    root: str = "/",
    path: str = "",
    *,
    facts: PlatformFacts | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Hardware:
    """Detect this machine's accelerators. Never raises.

    Files are read under ``root``, tools found on ``path`` (a ``PATH`` string);
    ``facts`` is the platform (default: this interpreter's); ``timeout``
    bounds each tool run (``nvidia-smi``, ``rocminfo``) in seconds.
    """
    if facts is None:
        facts = PlatformFacts.current()
    env = ProbeEnv(
        root=root or "/",
        path=path,
        system=facts.system,
        machine=facts.machine,
        timeout=timeout,
    )
    results: list[VendorResult] = []
    for vendor, fn in _probes(facts.system):
        # Slow fallbacks (rocminfo...) run only while no earlier vendor answered.
        first = not any(r.found for r in results)
        results.append(_guarded(vendor, fn, env, first))
    unusable, notes = _unusable(env, tuple(results))
    return combine(tuple(results), facts, unusable, notes)


def detect_overridden(root: str, path: str, overrides: Overrides) -> Hardware:
    """This machine's accelerators with the target overrides applied (what plans use)."""
    return apply_overrides(detect(root, path), overrides)
