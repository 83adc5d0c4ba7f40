"""What pipguard knows about the machine it installs for: data only.

Detection (:mod:`pipguard.detect`) fills a :class:`Hardware`; target overrides
(:class:`Overrides`, from ``--cuda-driver``/``--gpu-arch``/``--torch-backend`` or
their ``PIPGUARD_*`` variables) replace detected facts for Docker/CI builds and
tests. The planner reads only this, never the machine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from packaging.version import InvalidVersion, Version

from pipguard.errors import UsageError

ACCELERATORS = ("nvidia", "amd", "intel", "apple", "none")


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

    def driver(self) -> Version | None:
        """The NVIDIA driver as a comparable version, or ``None``."""
        if not self.driver_version:
            return None
        try:
            return Version(self.driver_version)
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


_BACKEND_RE = re.compile(r"(cpu|xpu|cu\d{2,3}|rocm\d+\.\d+(\.\d+)?)")


def parse_gpu_arch(item: str) -> str:
    """Normalise one ``--gpu-arch`` item: ``sm_86``/``8.6``/``86`` -> ``"8.6"``; ``gfx1100``."""
    s = item.strip().lower()
    if re.fullmatch(r"gfx[0-9a-f]{3,4}", s):
        return s
    m = re.fullmatch(r"(?:sm_?|compute_)?(\d{1,2})(\d)[af]?", s)
    if m:
        return f"{int(m.group(1))}.{m.group(2)}"
    m = re.fullmatch(r"(\d{1,2})\.(\d)", s)
    if m:
        return f"{int(m.group(1))}.{m.group(2)}"
    raise UsageError(
        f"malformed GPU architecture {item!r}",
        hint="use sm_86, 8.6 or gfx1100 (comma-separated for several GPUs)",
    )


def parse_overrides(
    cuda_driver: str | None,
    gpu_arch: str | None,
    torch_backend: str | None,
    environ: Mapping[str, str],
) -> Overrides:
    """Combine command-line overrides with ``PIPGUARD_*`` variables (flags win)."""
    origin: dict[str, str] = {}

    def pick(flag_value: str | None, var: str, flag: str) -> str | None:
        if flag_value is not None:
            origin[var] = flag
            return flag_value
        value = environ.get(var)
        if value:
            origin[var] = var
            return value
        return None

    driver = pick(cuda_driver, "PIPGUARD_CUDA_DRIVER", "--cuda-driver")
    arch = pick(gpu_arch, "PIPGUARD_GPU_ARCH", "--gpu-arch")
    backend = pick(torch_backend, "PIPGUARD_TORCH_BACKEND", "--torch-backend")
    if driver is not None:
        driver = driver.strip()
        if not re.fullmatch(r"\d{2,4}(\.\d{1,3}){0,2}", driver):
            raise UsageError(
                f"malformed CUDA driver version {driver!r}",
                hint="give the NVIDIA driver version, e.g. --cuda-driver 570.86.10",
            )
    archs: tuple[str, ...] = ()
    if arch is not None:
        items = [a for a in arch.split(",") if a.strip()]
        if not items:
            raise UsageError("empty --gpu-arch", hint="e.g. --gpu-arch sm_86,sm_120")
        archs = tuple(parse_gpu_arch(a) for a in items)
    if backend is not None:
        backend = backend.strip().lower()
        if backend == "auto":
            backend = None
        elif not _BACKEND_RE.fullmatch(backend):
            raise UsageError(
                f"unknown torch backend {backend!r}",
                hint="use auto, cpu, xpu, cuNNN (cu126) or rocmX.Y (rocm6.4)",
            )
    return Overrides(driver, archs, backend, origin)


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


def target_hardware(own: Mapping[str, str], environ: Mapping[str, str]) -> Hardware:
    """The machine's hardware (:mod:`pipguard.detect`) with the overrides in ``own``
    (pipguard's options, by name) or ``environ`` applied."""
    from pipguard.detect import detect  # detect imports this module

    ov = parse_overrides(own.get("--cuda-driver"), own.get("--gpu-arch"),
                         own.get("--torch-backend"), environ)
    return apply_overrides(detect(environ), ov)
