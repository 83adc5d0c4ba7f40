"""Apple silicon: macOS on arm64 has the MPS backend; nothing to read or run."""

from __future__ import annotations

from pipguard.hardware import Gpu, Source
from pipguard.probes import ProbeEnv, VendorResult


def probe(env: ProbeEnv) -> VendorResult:
    """One ``Apple MPS`` GPU on macOS arm64 (platform facts come from ``env``)."""
    if env.system != "darwin" or env.machine != "arm64":
        return VendorResult("apple")
    return VendorResult(
        "apple",
        (Gpu("apple", "Apple MPS"),),
        sources=(Source("apple", True, "macOS on arm64: Apple silicon GPU (MPS)"),),
    )
