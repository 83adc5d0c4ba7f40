"""What pipguard knows about the machine it installs for: data only.

Detection (:mod:`pipguard.detect`) fills a :class:`Hardware`; target overrides
(:class:`Overrides`, from ``--cuda-driver``/``--gpu-arch``/``--torch-backend`` or
their ``PIPGUARD_*`` variables, read by :mod:`pipguard.options`) replace detected
facts for Docker/CI builds and tests. The planner reads only this, never the machine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from packaging.version import InvalidVersion, Version

ACCELERATORS = ("nvidia", "amd", "intel", "apple", "none")
# Why a GPU that was seen cannot be used (UnusableGpu.reason).
NO_DRIVER = "no-driver"  # on the PCI bus, but its vendor's driver is not loaded
NOT_EXPOSED = "not-exposed"  # driver loaded on the host, no device nodes in this container
_FIXES = {
    ("nvidia", NO_DRIVER): "install the NVIDIA driver (and reboot), then plan again",
    ("amd", NO_DRIVER): "install ROCm's amdgpu kernel driver (amdgpu-install --usecase=rocm; "
                        "rocm.docs.amd.com), then plan again",
    ("nvidia", NOT_EXPOSED): "start the container with `--gpus all` (the NVIDIA Container "
                             "Toolkit on the host)",
    ("amd", NOT_EXPOSED): "start the container with `--device /dev/kfd --device /dev/dri`",
}


class DriverVersion(Version):
    """A :class:`Version` that prints as NVIDIA writes it (``570.124.06``, not ``570.124.6``)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._text = text.strip()

    def __str__(self) -> str:
        return self._text


@dataclass(frozen=True)
class Gpu:
    """One accelerator device.

    ``compute_capability`` is ``"9.0"`` style for NVIDIA, ``"gfx1100"`` style
    for AMD, ``None`` where unknown (Intel, Apple, or a name we can't map).
    """

    vendor: str
    name: str
    compute_capability: str | None = None
    bus_id: str | None = None

    def nvidia_cc(self) -> tuple[int, int] | None:
        """The NVIDIA compute capability as ``(major, minor)``, or ``None``."""
        if self.vendor != "nvidia" or not self.compute_capability:
            return None
        m = re.fullmatch(r"(\d+)\.(\d+)", self.compute_capability)
        return (int(m.group(1)), int(m.group(2))) if m else None


@dataclass(frozen=True)
class UnusableGpu:
    """A GPU that was seen but that this process cannot use, and why.

    ``reason`` is :data:`NO_DRIVER` (the GPU is on the PCI bus; it is not in
    ``Hardware.gpus``, which plans ignore) or :data:`NOT_EXPOSED` (the driver is
    loaded on the host but this container has no device nodes; the GPU stays in
    ``Hardware.gpus``: plans target it, since the container can be started with it).
    """

    gpu: Gpu
    reason: str
    detail: str  # "no driver loaded", "bound to nouveau, not the NVIDIA driver", ...
    pci_id: str | None = None  # "10de:2330"

    @property
    def fix(self) -> str:
        """What to install or how to start the container so the GPU can be used."""
        return _FIXES.get((self.gpu.vendor, self.reason), "check the GPU's driver")

    def describe(self) -> str:
        """``"NVIDIA GPU [10de:2330] at 0000:01:00.0: no driver loaded"``."""
        where = f" at {self.gpu.bus_id}" if self.gpu.bus_id else ""
        return f"{self.gpu.name}{where}: {self.detail}"

    def plan_warning(self, planned_for_it: bool) -> str:
        """What a plan says: the GPU, why it is unusable, what the plan did, the fix."""
        did = ("the plan targets it anyway" if planned_for_it
               else "planned without it (the cpu build unless another GPU fits)")
        return f"{self.describe()}; {did}; {self.fix}"

    def as_dict(self) -> dict[str, object]:
        return {"name": self.gpu.name, "vendor": self.gpu.vendor, "bus_id": self.gpu.bus_id,
                "compute_capability": self.gpu.compute_capability, "pci_id": self.pci_id,
                "reason": self.reason, "detail": self.detail, "fix": self.fix}


@dataclass(frozen=True)
class Source:
    """How one fact was found, or why a probe did not answer."""

    probe: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, object]:
        return {"probe": self.probe, "ok": self.ok, "detail": self.detail}


@dataclass(frozen=True)
class Hardware:
    """The accelerators of the target machine, detected or overridden."""

    accelerator: str = "none"
    driver_version: str | None = None
    gpus: tuple[Gpu, ...] = ()
    # Highest CUDA version the driver supports ("13.0"), when a source says so.
    cuda_driver_api: str | None = None
    rocm_version: str | None = None
    sources: tuple[Source, ...] = ()
    # Names of the facts that came from overrides, not from the machine.
    overridden: tuple[str, ...] = ()
    # A forced torch backend (``cu126``, ``cpu``, ``rocm6.4``...) or None for auto.
    torch_backend: str | None = None
    # Detection platform facts: "linux", "win32", "darwin", and machine (x86_64...)
    os: str = "linux"
    machine: str = "x86_64"
    # GPUs seen but unusable by this process (no driver; not exposed to the container).
    unusable: tuple[UnusableGpu, ...] = ()

    def driver(self) -> Version | None:
        """The NVIDIA driver as a comparable version, or ``None``."""
        if not self.driver_version:
            return None
        try:
            return DriverVersion(self.driver_version)
        except InvalidVersion:
            return None

    def as_dict(self) -> dict[str, object]:
        """The stable JSON contract of ``pipguard detect --json``."""
        return {
            "accelerator": self.accelerator,
            "driver_version": self.driver_version,
            "gpus": [
                {
                    "name": g.name,
                    "compute_capability": g.compute_capability,
                    "vendor": g.vendor,
                    "bus_id": g.bus_id,
                }
                for g in self.gpus
            ],
            "cuda_driver_api": self.cuda_driver_api,
            "rocm_version": self.rocm_version,
            "os": self.os,
            "machine": self.machine,
            "torch_backend": self.torch_backend,
            "overrides": list(self.overridden),
            "sources": [s.as_dict() for s in self.sources],
            "unusable_gpus": [u.as_dict() for u in self.unusable],
        }


@dataclass(frozen=True)
class Overrides:
    """Target facts named on the command line or in the environment."""

    cuda_driver: str | None = None
    gpu_arch: tuple[str, ...] = ()
    torch_backend: str | None = None
    origin: Mapping[str, str] = field(default_factory=dict)

    def any(self) -> bool:
        return bool(self.cuda_driver or self.gpu_arch or self.torch_backend)


def apply_overrides(hw: Hardware, ov: Overrides) -> Hardware:
    """Replace detected facts by the overrides; record which were overridden."""
    if not ov.any():
        return hw
    overridden = list(hw.overridden)
    accelerator, driver, gpus = hw.accelerator, hw.driver_version, hw.gpus
    cuda_api = hw.cuda_driver_api
    if ov.gpu_arch:
        gpus = tuple(
            Gpu("amd", f"AMD {a}", a)
            if a.startswith("gfx")
            else Gpu("nvidia", f"NVIDIA sm_{a.replace('.', '')}", a)
            for a in ov.gpu_arch
        )
        vendors = {g.vendor for g in gpus}
        accelerator = "amd" if vendors == {"amd"} else "nvidia"
        overridden.append("gpus")
    if ov.cuda_driver:
        driver = ov.cuda_driver
        cuda_api = None  # derived from tables instead of the machine
        if accelerator not in ("nvidia",):
            accelerator = "nvidia"
            if not ov.gpu_arch:
                gpus = ()
        overridden.append("driver_version")
    if ov.torch_backend:
        overridden.append("torch_backend")
    return replace(
        hw,
        accelerator=accelerator,
        driver_version=driver,
        gpus=gpus,
        cuda_driver_api=cuda_api,
        overridden=tuple(overridden),
        torch_backend=ov.torch_backend or hw.torch_backend,
    )
