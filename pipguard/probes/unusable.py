"""GPUs that are there but that this process cannot use: no driver, or not in the container.

Two shapes look like "no GPU" (or like a working GPU) to the vendor probes:

* **No driver.** An NVIDIA (``0x10de``) or AMD (``0x1002``) display controller is on
  the PCI bus (:mod:`pipguard.probes.pci`), but its vendor's probe found nothing and its
  driver is not loaded: NVIDIA without ``/sys/module/nvidia`` and
  ``/proc/driver/nvidia``; AMD without ``/sys/module/amdgpu`` and the KFD topology. The
  device's ``driver`` symlink decides first when there is one: bound to its vendor's
  driver (``nvidia``, ``amdgpu``) is not this case, bound to another (``nouveau``,
  ``vfio-pci``, ``radeon``) is, and says so.
* **Not exposed to the container.** The vendor probe found the driver (its files are
  the host's, visible in a container), but the device nodes are missing: NVIDIA needs
  ``/dev/nvidiactl`` and a ``/dev/nvidiaN``, AMD ``/dev/kfd`` and ``/dev/dri``.

Device nodes are judged only when the root has a ``/dev`` directory (a recording
without one says nothing about them) and not under WSL (``/dev/dxg``: WSL reaches the
GPU without the Linux nodes). On a host (no ``/.dockerenv`` or ``/run/.containerenv``)
with ``nvidia-modprobe`` installed, missing NVIDIA nodes are not judged either: that
setuid helper creates them on the first CUDA call when no daemon has.
"""

from __future__ import annotations

import re

from pipguard.hardware import NO_DRIVER, NOT_EXPOSED, Gpu, Source, UnusableGpu
from pipguard.probes import VENDORS, ProbeEnv, ProbeError, VendorResult, display_devices

_NAMES = {"nvidia": "NVIDIA", "amd": "AMD"}
_OWN_DRIVER = {"nvidia": "nvidia", "amd": "amdgpu"}
# Loaded-driver markers when a device has no driver symlink (recordings, odd sysfs).
_LOADED = {"nvidia": ("/sys/module/nvidia", "/proc/driver/nvidia"),
           "amd": ("/sys/module/amdgpu", "/sys/class/kfd/kfd/topology/nodes")}
_NVIDIA_NODE = re.compile(r"nvidia\d+")
_MODPROBE = ("/usr/bin/nvidia-modprobe", "/usr/sbin/nvidia-modprobe")
_CONTAINER = ("/.dockerenv", "/run/.containerenv")


def find(env: ProbeEnv, results: tuple[VendorResult, ...]
         ) -> tuple[tuple[UnusableGpu, ...], tuple[Source, ...]]:
    """The GPUs of ``results``' vendors (or of the PCI bus) this process cannot use."""
    if env.system != "linux":
        return (), ()
    found = {r.vendor: r for r in results if r.found}
    unusable: list[UnusableGpu] = []
    for vendor in ("nvidia", "amd"):
        if vendor in found:
            unusable.extend(not_exposed(env, found[vendor]))
        else:
            unusable.extend(without_driver(env, vendor))
    sources = tuple(Source("unusable-gpu", True, u.describe()) for u in unusable)
    return tuple(unusable), sources


def without_driver(env: ProbeEnv, vendor: str) -> list[UnusableGpu]:
    """``vendor``'s GPUs on the PCI bus whose driver is not loaded."""
    devices = [d for d in display_devices(env)[0] if VENDORS.get(d.vendor) == vendor]
    if not devices:
        return []
    loaded = any(env.exists(p) for p in _LOADED[vendor])
    out: list[UnusableGpu] = []
    for d in devices:
        detail = no_driver_detail(vendor, d.driver, loaded)
        if detail is not None:
            gpu = Gpu(vendor, f"{_NAMES[vendor]} GPU [{d.pci_id}]", None, d.address)
            out.append(UnusableGpu(gpu, NO_DRIVER, detail, d.pci_id))
    return out


def no_driver_detail(vendor: str, bound: str | None, loaded: bool) -> str | None:
    """Why a device of ``vendor`` bound to ``bound`` has no usable driver (None: it has)."""
    own = _OWN_DRIVER[vendor]
    if bound == own:
        return None
    if bound is not None:
        what = "passed through to a virtual machine" if bound.startswith("vfio") else "in use"
        return f"bound to {bound} ({what}), not the {own} driver: no {own} driver loaded for it"
    return None if loaded else "no driver loaded"


def not_exposed(env: ProbeEnv, result: VendorResult) -> list[UnusableGpu]:
    """``result``'s GPUs when the driver is loaded but this container has no device nodes."""
    try:
        nodes = env.listdir("/dev")
    except ProbeError:
        return []
    if nodes is None or "dxg" in nodes:
        return []
    if result.vendor == "nvidia":
        missing = [n for n, ok in (("/dev/nvidiactl", "nvidiactl" in nodes),
                                   ("/dev/nvidia0", any(_NVIDIA_NODE.fullmatch(n) for n in nodes)))
                   if not ok]
        driver = f"driver {result.driver_version}" if result.driver_version else "the driver"
        if missing and any(env.exists(p) for p in _MODPROBE) and not any(
                env.exists(p) for p in _CONTAINER):
            return []  # a host: nvidia-modprobe makes the nodes on first use
    else:
        missing = [f"/dev/{n}" for n in ("kfd", "dri") if n not in nodes]
        driver = "amdgpu"
    if not missing:
        return []
    detail = (f"{driver} is loaded on the host, but this container has no "
              f"{' or '.join(missing)}")
    gpus = result.gpus or (Gpu(result.vendor, f"{_NAMES[result.vendor]} GPU"),)
    return [UnusableGpu(g, NOT_EXPOSED, detail) for g in gpus]
