"""Platform names of the knowledge tables: ``linux_x86_64``, ``windows``, ``macos_arm64``…

One spelling for every module that keys a table row or a message by platform.
"""

from __future__ import annotations


def platform_of(os: str, machine: str) -> str:
    """``linux_x86_64``, ``linux_aarch64``, ``windows``, ``macos_arm64`` or ``macos_x86_64``.

    ``os`` is ``sys.platform`` (``linux``/``win32``/``darwin``) or ``platform.system()``
    style. Others give ``"<os>_<machine>"`` (``windows_arm64``), which no table lists.
    """
    o, mach = os.lower(), machine.lower()
    mach = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64"}.get(mach, mach)
    if o.startswith("win"):
        return "windows" if mach == "x86_64" else "windows_" + mach.replace("aarch64", "arm64")
    if o in ("darwin", "macos"):
        return "macos_" + mach.replace("aarch64", "arm64")
    return f"{o}_{mach}"
