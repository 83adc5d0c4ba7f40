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

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from pipguard.doctor_environment import Environment, pin_arg, shared_folders
from pipguard.findings import Finding
from pipguard.knowledge import Knowledge


def folders(e: Environment, kn: Knowledge) -> list[Finding]:
    """Every package-folder finding for the environment."""
    return [*_orphaned(e, kn), *_shared(e, kn)]


def _required(e: Environment) -> dict[str, Requirement]:
    """torch's own requirements that apply here, by canonical name."""
    torch = e.dists.get("torch")
    return {canonicalize_name(r.name): r for r in e.requires(torch)} if torch else {}


def _orphaned(e: Environment, kn: Knowledge) -> list[Finding]:
    """Folders no installed distribution owns; the fix installs the owner torch requires
    (pytorch-triton-rocm for a ROCm torch's triton), else the folder's name."""
    owners, wanted = kn.import_owners(), _required(e)
    out = []
    for path in e.orphans:
        folder = os.path.basename(path)
        owner = next((o for o in owners.get(folder, ()) if o in wanted), None)
        out.append(Finding("corrupt-install", "error",
                           f"{folder} files in {os.path.dirname(path)} belong to no installed "
                           "distribution (an install stopped before pip wrote its metadata)",
                           path, f'pipguard install "{pin_arg(wanted[owner])}"' if owner
                           else f"pipguard install {folder}"))
    return out


def _shared(e: Environment, kn: Knowledge) -> list[Finding]:
    """Distributions of the family that write one package folder in one place: the one torch
    requires is kept and installed again, at the release torch asks for, over the files the
    others share; where torch requires none, the first is (the message says so)."""
    wanted = _required(e)
    out = []
    for folder, here in shared_folders(e, kn).items():
        required = next((o for o in here if o in wanted), None)
        keep = required or here[0]
        listed = ", ".join(f"{o} {e.dists[o].version}" for o in here)
        pin = pin_arg(wanted[keep]) if required else f"{keep}=={e.dists[keep].version}"
        out.append(Finding(
            "corrupt-install", "warning",
            f"{listed} {'both' if len(here) == 2 else 'all'} install the `{folder}` package "
            "folder: removing or upgrading one removes files the other needs; " + (
                f"torch requires {keep}: keep it" if required else
                ("torch requires none of them" if "torch" in e.dists else "nothing here "
                 "requires one of them") + f": the fix keeps {keep}, keep the one your code "
                "uses instead"), listed,
            f"pip uninstall -y {' '.join(o for o in here if o != keep)} && pipguard install "
            f'--force-reinstall --no-deps "{pin}"'))
    return out
