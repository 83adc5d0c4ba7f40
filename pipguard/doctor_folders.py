"""``doctor`` checks of who owns the torch family's package folders: none, or more than one.

A folder no installed distribution owns is what an install stopped before pip wrote the
metadata leaves behind. A folder two installed distributions write (``triton``: triton and
pytorch-triton-xpu, or triton-xpu beside it) breaks when either is removed or upgraded:
pip removes the files of the one it removes, which are the other's too ("module 'triton'
has no attribute 'language'"). Pure functions of an
:class:`~pipguard.doctor_environment.Environment` and the tables.
"""

from __future__ import annotations

import os

from packaging.utils import canonicalize_name

from pipguard.doctor_environment import Environment
from pipguard.findings import Finding
from pipguard.knowledge import Knowledge


def folders(e: Environment, kn: Knowledge) -> list[Finding]:
    """Every package-folder finding for the environment."""
    return [*_orphaned(e), *_shared(e, kn)]


def _orphaned(e: Environment) -> list[Finding]:
    return [Finding("corrupt-install", "error",
                    f"{os.path.basename(path)} files in {os.path.dirname(path)} belong to no "
                    "installed distribution (an install stopped before pip wrote its metadata)",
                    path, f"pipguard install {os.path.basename(path)}")
            for path in e.orphans]


def _shared(e: Environment, kn: Knowledge) -> list[Finding]:
    """Two or more installed distributions of the family that install one import package:
    the one torch requires is kept and installed again over the files the others share."""
    torch = e.dists.get("torch")
    wanted = {canonicalize_name(r.name) for r in e.requires(torch)} if torch else set()
    out = []
    for folder, owners in sorted(kn.import_owners().items()):
        here = [o for o in owners if o in e.dists]
        if len(here) < 2:
            continue
        required = next((o for o in here if o in wanted), None)
        keep = required or here[0]
        listed = ", ".join(f"{o} {e.dists[o].version}" for o in here)
        out.append(Finding("corrupt-install", "warning",
                           f"{listed} all install the `{folder}` package folder: removing or "
                           "upgrading one removes files the others need; " + (
                               f"torch requires {keep}, keep it" if required else "torch "
                               "requires none of them: keep the one your code uses"), listed,
                           f"pip uninstall -y {' '.join(o for o in here if o != keep)} && "
                           "pipguard install --force-reinstall --no-deps "
                           f"{keep}=={e.dists[keep].version}"))
    return out
