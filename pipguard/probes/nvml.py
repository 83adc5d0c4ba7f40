"""NVML through ctypes: the NVIDIA driver's own answer, in-process (~0.1 ms).

The only source of the CUDA driver API version. :mod:`pipguard.probes.nvidia` decides
when to load it (the real machine only: a moved ``PIPGUARD_SYSROOT`` skips it) and falls
back to files and ``nvidia-smi`` when it cannot answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pipguard.hardware import Gpu


class NvmlError(Exception):
    """NVML is there but would not answer (not initialised, a call failed)."""


# The driver's own files: their presence says the kernel module is loaded.
SYS_VERSION = "/sys/module/nvidia/version"
PROC_VERSION = "/proc/driver/nvidia/version"
WSL_LIB = "/usr/lib/wsl/lib"
DRIVER_VERSION = re.compile(r"\d{2,4}\.\d{1,3}(?:\.\d{1,3})?")


def cuda_version(value: int) -> str | None:
    """NVML's/CUDA's integer CUDA version (``13000``) -> ``"13.0"``."""
    if value <= 0:
        return None
    return f"{value // 1000}.{(value % 1000) // 10}"


@dataclass(frozen=True)
class NvmlInfo:
    """What NVML answered; ``whole`` is False when some call failed."""

    driver_version: str | None
    cuda_driver_api: str | None
    gpus: tuple[Gpu, ...]
    whole: bool


def _ok(lib: Any, fname: str, *args: Any) -> bool:
    """Call one NVML function; any failure (missing symbol, error code) is False."""
    try:
        fn = getattr(lib, fname)
        return bool(fn(*args) == 0)
    except Exception:  # a foreign library must never crash detect
        return False


def query_nvml(lib: Any) -> NvmlInfo:
    """Ask an opened NVML library for driver, CUDA API version and GPUs.

    ``lib`` is a ``ctypes.CDLL`` (tests pass an imitation). Every call is
    guarded; a GPU whose handle cannot be had makes the answer not ``whole``.
    """
    import ctypes

    if not _ok(lib, "nvmlInit_v2"):
        raise NvmlError("nvmlInit_v2 failed (driver not loaded or no permission)")
    try:
        whole = True
        buf = ctypes.create_string_buffer(96)
        driver = None
        if _ok(lib, "nvmlSystemGetDriverVersion", buf, ctypes.c_uint(96)):
            text = buf.value.decode("ascii", "replace").strip()
            driver = text if DRIVER_VERSION.fullmatch(text) else None
        api = ctypes.c_int(0)
        cuda_api = None
        if _ok(lib, "nvmlSystemGetCudaDriverVersion_v2", ctypes.byref(api)):
            cuda_api = cuda_version(api.value)
        count = ctypes.c_uint(0)
        if not _ok(lib, "nvmlDeviceGetCount_v2", ctypes.byref(count)):
            raise NvmlError("nvmlDeviceGetCount_v2 failed")
        gpus: list[Gpu] = []
        for index in range(count.value):
            gpu = _nvml_gpu(lib, index)
            if gpu is None:
                whole = False
            else:
                gpus.append(gpu)
        return NvmlInfo(driver, cuda_api, tuple(gpus), whole)
    finally:
        _ok(lib, "nvmlShutdown")


class _PciInfo:
    """Lazily built ctypes struct for nvmlPciInfo_t (v3 layout; v1 is a prefix)."""

    cls: Any = None

    @classmethod
    def make(cls) -> Any:
        import ctypes

        if cls.cls is None:

            class PciInfo(ctypes.Structure):
                _fields_ = [
                    ("busIdLegacy", ctypes.c_char * 16),
                    ("domain", ctypes.c_uint),
                    ("bus", ctypes.c_uint),
                    ("device", ctypes.c_uint),
                    ("pciDeviceId", ctypes.c_uint),
                    ("pciSubSystemId", ctypes.c_uint),
                    ("busId", ctypes.c_char * 32),
                ]

            cls.cls = PciInfo
        return cls.cls()


def _nvml_gpu(lib: Any, index: int) -> Gpu | None:
    import ctypes

    handle = ctypes.c_void_p()
    if not _ok(lib, "nvmlDeviceGetHandleByIndex_v2", ctypes.c_uint(index), ctypes.byref(handle)):
        return None
    name_buf = ctypes.create_string_buffer(96)
    if not _ok(lib, "nvmlDeviceGetName", handle, name_buf, ctypes.c_uint(96)):
        return None
    name = name_buf.value.decode("utf-8", "replace").strip()
    major, minor = ctypes.c_int(0), ctypes.c_int(0)
    cc = None
    if _ok(lib, "nvmlDeviceGetCudaComputeCapability", handle, ctypes.byref(major),
           ctypes.byref(minor)) and major.value > 0:
        cc = f"{major.value}.{minor.value}"
    pci = _PciInfo.make()
    bus = None
    if _ok(lib, "nvmlDeviceGetPciInfo_v3", handle, ctypes.byref(pci)) or _ok(
        lib, "nvmlDeviceGetPciInfo", handle, ctypes.byref(pci)
    ):
        # domain/bus/device sit at the same offsets in every struct version.
        bus = f"{pci.domain:04x}:{pci.bus:02x}:{pci.device:02x}.0"
    return Gpu("nvidia", name or f"NVIDIA GPU {index}", cc, bus)
