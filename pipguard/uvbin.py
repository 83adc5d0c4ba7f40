"""Finding uv, for ``pipguard install --installer uv|auto``.

The ``uv`` extra (``pip install 'pipguard-torch[uv]'``: the ``uv`` package ships the binary
and says where with ``uv.find_uv_bin()``) comes first, then ``uv`` on the ``PATH`` pipguard
was given (:attr:`pipguard.options.Settings.path`).
"""

from __future__ import annotations

import shutil

from pipguard.errors import UsageError


def find_uv(path: str) -> str | None:
    """The uv executable: the extra's, else the first on ``path``; None when there is none."""
    try:
        import uv  # the optional extra
    except ImportError:
        pass
    else:
        try:
            return str(uv.find_uv_bin())
        except (OSError, AttributeError):
            pass
    return shutil.which("uv", path=path) if path else None


def choose(installer: str, path: str) -> str | None:
    """The uv executable that installs, or None for pip (``installer``: pip, uv or auto).

    ``uv`` named but not found is a usage error; ``auto`` falls back to pip.
    """
    if installer == "pip":
        return None
    found = find_uv(path)
    if found is None and installer == "uv":
        raise UsageError("--installer uv: uv was not found (neither the uv extra nor uv on PATH)",
                         hint="pip install 'pipguard-torch[uv]', or put uv on PATH, or use "
                              "--installer pip")
    return found
