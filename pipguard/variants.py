"""Variant names: the one parser of ``cu130``, ``rocm6.4``, ``cpu``, ``xpu`` and GPU arch labels.

A *variant* is one sub-index of the torch index and the local label of its wheels
(``2.11.0+cu130``). Every module that reads a variant name, a ``--torch-backend`` value or a
``sm_90``/``compute_90`` architecture string asks this module, so they cannot disagree.
"""

from __future__ import annotations

import re

from packaging.version import Version

KINDS = ("cuda", "rocm", "cpu", "xpu", "other")
_CUDA = re.compile(r"cu(\d{2,4})")
_ROCM = re.compile(r"rocm(\d+(?:\.\d+)+)")
CC = tuple[int, int]


def variant_kind(variant: str) -> str:
    """``"cuda"``, ``"rocm"``, ``"cpu"``, ``"xpu"`` or ``"other"`` for a variant name."""
    if _CUDA.fullmatch(variant):
        return "cuda"
    if _ROCM.fullmatch(variant):
        return "rocm"
    return variant if variant in ("cpu", "xpu") else "other"


def is_variant(label: str) -> bool:
    """Whether a local version label names a build variant (``cu128``, ``rocm6.2.4``, ``cpu``)."""
    return variant_kind(label) != "other"


def cuda_of(variant: str) -> Version | None:
    """The CUDA version a ``cuNNN`` name spells (cu128 -> 12.8, cu130 -> 13.0); else ``None``."""
    m = _CUDA.fullmatch(variant)
    if m is None:
        return None
    digits = m.group(1)
    return Version(f"{int(digits[:-1])}.{digits[-1]}")


def rocm_of(variant: str) -> Version | None:
    """The ROCm version of a ``rocmX.Y`` name; else ``None``."""
    m = _ROCM.fullmatch(variant)
    return Version(m.group(1)) if m else None


def sort_key(variant: str) -> tuple[int, Version, str]:
    """CUDA (oldest first), then ROCm, then cpu, xpu, others."""
    kind = variant_kind(variant)
    if kind == "cuda":
        return (0, cuda_of(variant) or Version("0"), variant)
    if kind == "rocm":
        return (1, rocm_of(variant) or Version("0"), variant)
    return ({"cpu": 2, "xpu": 3}.get(kind, 4), Version("0"), variant)


def parse_backend(value: str) -> str | None:
    """A ``--torch-backend`` value: a variant name, or ``None`` for ``auto``.

    Raises ``ValueError`` for anything else; the caller words the usage error.
    """
    v = value.strip().lower()
    if v == "auto":
        return None
    if variant_kind(v) == "other":
        raise ValueError(v)
    return v


def label_of(version: Version) -> str | None:
    """The variant a version's local label names (``2.11.0+cu130`` -> ``cu130``), or ``None``."""
    local = version.local
    return local if local is not None and is_variant(local) else None


def parse_arch(item: str) -> tuple[str, CC] | None:
    """One entry of ``torch.cuda.get_arch_list()``: ``("sm", (9, 0))`` or ``("compute", …)``.

    ``sm_90a``/``sm_100f`` (family-specific cubins) count as their base arch.
    """
    m = re.fullmatch(r"(sm|compute)_(\d{1,3})(\d)[af]?", item.strip().lower())
    if m is None:
        return None
    return (m.group(1), (int(m.group(2)), int(m.group(3))))


def cc_of(text: str) -> CC | None:
    """A compute capability as a message writes it (``"120"``, ``"sm_86"``, ``"3.7"``,
    ``"7, 5"``, ``"7 0"``) as ``(major, minor)``: its last digit is the minor; ``None``
    without a digit."""
    digits = re.sub(r"\D", "", text)
    return (int(digits[:-1] or 0), int(digits[-1])) if digits else None


def parse_gfx(item: str) -> tuple[int, int, int] | None:
    """An AMD target (``gfx1031``, ``gfx90a:xnack-``) as ``(major, minor, stepping)``.

    The last two characters are hex digits (minor, stepping), the rest the decimal major:
    gfx1031 -> (10, 3, 1), gfx90a -> (9, 0, 10), gfx942 -> (9, 4, 2).
    """
    m = re.fullmatch(r"gfx(\d{1,2})([0-9a-f])([0-9a-f])", item.strip().lower().split(":")[0])
    if m is None:
        return None
    return int(m.group(1)), int(m.group(2), 16), int(m.group(3), 16)
