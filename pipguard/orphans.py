"""Files of the torch family that no installed distribution owns.

pip writes a distribution's files before its metadata, so an install killed in
between leaves package folders that neither pip nor a RECORD check can see.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

# Each family import package, and the distributions that may own it.
IMPORT_NAMES = {
    "torch": ("torch",),
    "torchvision": ("torchvision",),
    "torchaudio": ("torchaudio",),
    # torchtriton (the Dec 2022 look-alike) installed a `triton` package too
    "triton": ("triton", "pytorch-triton", "pytorch-triton-rocm", "pytorch-triton-xpu",
               "torchtriton"),
    "xformers": ("xformers",),
    "torchao": ("torchao",),
    "torchtext": ("torchtext",),
    "torchdata": ("torchdata",),
}


def find_orphans(locations: Sequence[str], installed: Mapping[str, object]) -> tuple[str, ...]:
    """Family package folders in ``locations`` that belong to no installed distribution."""
    out = []
    for loc in sorted(set(locations)):
        for folder, owners in IMPORT_NAMES.items():
            path = os.path.join(loc, folder)
            if os.path.isdir(path) and not any(o in installed for o in owners):
                out.append(path)
    return tuple(out)
