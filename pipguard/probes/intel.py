"""Intel: only the GPUs PyTorch's XPU builds support, found by PCI id in sysfs.

Every Intel machine has an Intel display device; only some can run ``+xpu``
wheels. PyTorch's XPU documentation lists Arc A-series and B-series, Data Center
GPU Max and Flex, and Core Ultra processors with Arc graphics (Meteor Lake,
Arrow Lake, Lunar Lake). So this probe reads ``/sys/bus/pci/devices/*/vendor``
(0x8086), ``class`` (0x03xxxx, display controller) and ``device``
(:func:`pipguard.probes.display_devices`), and keeps
only the device ids in :data:`XPU_DEVICE_IDS`. Anything else (older iGPUs,
Panther Lake and newer until PyTorch lists them) is ignored on purpose.
"""

from __future__ import annotations

from dataclasses import replace

from pipguard.hardware import Gpu, Source
from pipguard.probes import INTEL_VENDOR, PCI_DEVICES, ProbeEnv, VendorResult, display_devices

_ARC_A = "Intel Arc A-series (Alchemist)"
_FLEX = "Intel Data Center GPU Flex (Arctic Sound-M)"
_MAX = "Intel Data Center GPU Max (Ponte Vecchio)"
_ARC_B = "Intel Arc B-series (Battlemage)"
_MTL = "Intel Core Ultra Arc graphics (Meteor Lake)"
_ARL = "Intel Core Ultra Arc graphics (Arrow Lake)"
_LNL = "Intel Core Ultra Arc graphics (Lunar Lake)"

# Device ids from the Linux kernel's include/drm/intel/pciids.h (formerly
# i915_pciids.h / xe_pciids.h): INTEL_DG2_IDS, INTEL_ATS_M_IDS, INTEL_PVC_IDS,
# INTEL_BMG_IDS, INTEL_MTL_IDS, INTEL_ARL_IDS, INTEL_LNL_IDS (kernel 6.12-6.17).
XPU_DEVICE_IDS: dict[int, str] = {
    **dict.fromkeys(
        (0x5690, 0x5691, 0x5692, 0x5693, 0x5694, 0x5695, 0x5696, 0x5697,
         0x56A0, 0x56A1, 0x56A2, 0x56A3, 0x56A4, 0x56A5, 0x56A6,
         0x56B0, 0x56B1, 0x56B2, 0x56B3, 0x56BA, 0x56BB, 0x56BC, 0x56BD,
         0x56BE, 0x56BF),
        _ARC_A,
    ),
    **dict.fromkeys((0x56C0, 0x56C1, 0x56C2), _FLEX),
    **dict.fromkeys(
        (0x0B69, 0x0B6E, 0x0BD4, 0x0BD5, 0x0BD6, 0x0BD7, 0x0BD8, 0x0BD9, 0x0BDA,
         0x0BDB, 0x0BE0, 0x0BE1, 0x0BE5),
        _MAX,
    ),
    **dict.fromkeys(
        (0xE202, 0xE209, 0xE20B, 0xE20C, 0xE20D, 0xE210, 0xE211, 0xE212, 0xE215,
         0xE216, 0xE220, 0xE221, 0xE222),
        _ARC_B,
    ),
    **dict.fromkeys((0x7D40, 0x7D45, 0x7D55, 0x7D60, 0x7DD5), _MTL),
    **dict.fromkeys((0x7D41, 0x7D51, 0x7D67, 0x7DD1, 0xB640), _ARL),
    **dict.fromkeys((0x6420, 0x64A0, 0x64B0), _LNL),
}


def xpu_family(vendor: int, pci_class: int, device: int) -> str | None:
    """The XPU family of a PCI function, ``None`` unless PyTorch's XPU build supports it."""
    if vendor != INTEL_VENDOR or pci_class >> 16 != 0x03:
        return None
    return XPU_DEVICE_IDS.get(device)


def probe(env: ProbeEnv) -> VendorResult:
    """Detect XPU-capable Intel GPUs among the PCI display controllers."""
    if env.system != "linux":
        return VendorResult("intel")
    devices, scan_sources = display_devices(env)
    sources = [replace(s, probe="intel-pci") for s in scan_sources]
    gpus = [Gpu("intel", f"{family} [{d.pci_id}]", None, d.address) for d in devices
            if (family := xpu_family(d.vendor, d.pci_class, d.device))]
    if gpus:
        names = ", ".join(g.name for g in gpus)
        sources.append(Source("intel-pci", True, f"XPU-capable GPU(s): {names} from "
                              f"{PCI_DEVICES}"))
    return VendorResult("intel", tuple(gpus), sources=tuple(sources))
