"""What is installed in the target interpreter, read from pip's machine output.

pipguard never imports the target's packages and never reads ``site-packages``
by hand to list them: it asks the target's own pip (``<python> -m pip inspect``,
pip >= 22.2), which sees exactly what that interpreter sees, with the user's
own pip configuration.

``--local`` is deliberately *not* passed: in a virtual environment created
with ``--system-site-packages`` a torch installed globally is still what
``import torch`` loads, so it belongs in the picture (the same holds for the
user site). Each :class:`InstalledDist` carries its ``location`` so a caller
can tell a global install from one in the venv.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.utils import canonicalize_name

from pipguard import runner
from pipguard.errors import TargetError

# pip renders the report with rich; FORCE_COLOR in the user's environment
# makes rich add colour codes even into a pipe. A JSON document never holds a
# raw ESC (it must be escaped as \u001b), so removing them is lossless.
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_TIMEOUT_S = 300.0
_UPGRADE_HINT = "pipguard needs pip >= 22.2 in the target; run '{python} -m pip install -U pip'"


@dataclass(frozen=True)
class InstalledDist:
    """One installed distribution, as the target's pip reports it."""

    name: str  # canonical name
    version: str  # as installed, e.g. "2.11.0+cu128"
    location: str  # the directory that holds the metadata dir (site-packages)
    dist_info: str | None  # the .dist-info dir; None for .egg-info and other legacy forms
    installer: str | None
    requested: bool
    direct_url: Mapping[str, Any] | None  # PEP 610 direct_url.json content
    requires_dist: tuple[str, ...]
    requires_python: str | None


def parse_inspect(report: Mapping[str, Any]) -> tuple[InstalledDist, ...]:
    """Turn a ``pip inspect`` report (format version "1") into distributions.

    Order is pip's order. Raises :class:`TargetError` for a report this code
    does not understand.
    """
    version = str(report.get("version", ""))
    if version.split(".")[0] != "1":
        raise TargetError(
            f"unsupported 'pip inspect' report version {version!r} (pipguard reads version 1)",
            hint="upgrade pipguard, or report this together with the target's 'pip --version'",
        )
    installed = report.get("installed")
    if not isinstance(installed, list):
        raise TargetError("'pip inspect' report has no list of installed distributions")
    # A .dist-info without METADATA (an install killed midway) has no name even for pip:
    # it is skipped here, and its package folders show up as orphans (verify, doctor).
    return tuple(_parse_entry(e) for e in installed if _named(e))


def _named(entry: Mapping[str, Any]) -> bool:
    meta = entry.get("metadata") or {}
    return isinstance(meta.get("name"), str) and isinstance(meta.get("version"), str)


def _parse_entry(entry: Mapping[str, Any]) -> InstalledDist:
    meta: Mapping[str, Any] = entry.get("metadata") or {}
    name, version = meta.get("name"), meta.get("version")
    if not isinstance(name, str) or not isinstance(version, str):
        raise TargetError(f"'pip inspect' reported a distribution without name/version: {meta!r}")
    location, dist_info = _locations(entry.get("metadata_location"))
    direct_url = entry.get("direct_url")
    requires_python = meta.get("requires_python")
    return InstalledDist(
        name=canonicalize_name(name),
        version=version,
        location=location,
        dist_info=dist_info,
        installer=entry.get("installer") or None,
        # pip omits "requested" for legacy (non dist-info) installs: unknown -> False.
        requested=bool(entry.get("requested", False)),
        direct_url=direct_url if isinstance(direct_url, Mapping) else None,
        requires_dist=tuple(str(r) for r in meta.get("requires_dist") or ()),
        requires_python=requires_python if isinstance(requires_python, str) else None,
    )


def _locations(metadata_location: object) -> tuple[str, str | None]:
    """Return (location, dist_info) for pip's ``metadata_location``.

    pip inspect does not report the site-packages directory itself; for a
    ``.dist-info`` (and an ``.egg-info`` inside site-packages) it is the parent.
    RECORD paths are relative to that parent, which is what verify needs.
    """
    if not isinstance(metadata_location, str) or not metadata_location:
        return "", None
    path = metadata_location.rstrip("/\\") or metadata_location
    parent = os.path.dirname(path)
    if path.endswith(".dist-info"):
        return parent, path
    if os.path.basename(path) == "EGG-INFO":  # a zipped/unpacked .egg: site-packages/x.egg/EGG-INFO
        return os.path.dirname(parent), None
    return parent, None


def inspect(python: str, pip: Sequence[str] | None = None) -> tuple[InstalledDist, ...]:
    """Everything the target interpreter ``python`` sees as installed.

    Runs ``<python> -m pip inspect`` (without ``--local``; see the module
    docstring) with the user's pip configuration; ``pip`` replaces the
    ``<python> -m pip`` prefix for a target without pip of its own
    (:func:`pipguard.target.pip_command`). Raises :class:`TargetError`
    when the interpreter or its pip cannot produce a report.
    """
    argv = (*(pip or (python, "-m", "pip")), "inspect")
    # PYTHONIOENCODING: pip writes the report (which holds free-text metadata) to
    # a pipe; without it a non-UTF-8 console encoding can make pip itself fail.
    done = runner.run(argv, capture=True, timeout=_TIMEOUT_S, env={"PYTHONIOENCODING": "utf-8"})
    if done.returncode != 0:
        raise _failure(python, done.returncode, done.stderr, done.timed_out)
    try:
        report = json.loads(_ANSI.sub("", done.stdout))
    except ValueError as exc:
        raise TargetError(
            f"'{python} -m pip inspect' did not print a JSON report ({exc})",
            hint=_UPGRADE_HINT.format(python=python),
        ) from None
    if not isinstance(report, Mapping):
        raise TargetError(f"'{python} -m pip inspect' printed JSON that is not a report")
    return parse_inspect(report)


def inspect_named(path: Sequence[str], names: Sequence[str]) -> tuple[InstalledDist, ...]:
    """The installed distributions of ``names`` only (a fast, partial :func:`inspect`).

    ``path`` is the target's ``sys.path`` as its probe reported it
    (:attr:`pipguard.target.Interpreter.path`). The metadata is found on it by
    ``importlib.metadata``'s path finder, the way ``import`` and the target's own
    ``importlib.metadata`` find it: the first match of each name, in ``sys.path`` order.
    It runs here, not in the target: the files are the same, and a second start of
    the target interpreter (50-100 ms, most of it importing ``importlib.metadata``)
    is not. Order and duplicates of ``names`` do not matter.
    """
    from importlib import metadata  # only here: 30-50 ms of imports most commands never need

    out: list[InstalledDist] = []
    search = list(path)
    for name in dict.fromkeys(names):
        found = next(iter(metadata.distributions(name=name, path=search)), None)
        if found is not None and (dist := _describe(found)) is not None:
            out.append(dist)
    return tuple(out)


def version_on(path: Sequence[str], name: str) -> str | None:
    """The version of ``name`` installed on ``path`` (a ``sys.path``), or None."""
    found = inspect_named(path, [name])
    return found[0].version if found else None


def _describe(d: Any) -> InstalledDist | None:
    """One ``importlib.metadata`` distribution as an :class:`InstalledDist`."""
    try:
        name, version = d.metadata["Name"], d.version
    except (OSError, KeyError, ValueError):
        return None
    if not isinstance(name, str) or not isinstance(version, str):
        return None  # a .dist-info without METADATA: no name, as for pip (see parse_inspect)
    where = getattr(d, "_path", None)
    direct = _read(d, "direct_url.json")
    try:
        direct_url = json.loads(direct) if direct else None
    except ValueError:
        direct_url = None
    location, dist_info = _locations(str(where) if where is not None else None)
    requires_python = d.metadata["Requires-Python"]
    return InstalledDist(
        name=canonicalize_name(name),
        version=version,
        location=location,
        dist_info=dist_info,
        installer=(_read(d, "INSTALLER") or "").strip() or None,
        requested=_read(d, "REQUESTED") is not None,
        direct_url=direct_url if isinstance(direct_url, Mapping) else None,
        requires_dist=tuple(d.requires or ()),
        requires_python=requires_python if isinstance(requires_python, str) else None,
    )


def _read(d: Any, filename: str) -> str | None:
    try:
        text = d.read_text(filename)
    except (OSError, UnicodeDecodeError):
        return None
    return text if isinstance(text, str) else None


def _failure(python: str, code: int, stderr: str, timed_out: bool) -> TargetError:
    """Explain why ``pip inspect`` failed, with the fix most likely to help."""
    detail = _last_lines(stderr)
    if timed_out:
        return TargetError(f"'{python} -m pip inspect' did not finish in {_TIMEOUT_S:.0f} s")
    if code == 127:
        return TargetError(
            f"cannot run the target interpreter {python!r}: {detail}",
            hint="pass the path of an existing Python with --python",
        )
    if "No module named pip" in stderr:
        return TargetError(
            f"the target interpreter {python!r} has no pip",
            hint=f"run '{python} -m ensurepip --upgrade'",
        )
    if "unknown command" in stderr:
        return TargetError(
            f"the pip of {python!r} has no 'inspect' command (it is older than 22.2)",
            hint=_UPGRADE_HINT.format(python=python),
        )
    return TargetError(
        f"'{python} -m pip inspect' failed with exit code {code}: {detail}",
        hint=_UPGRADE_HINT.format(python=python),
    )


def _last_lines(text: str, count: int = 3) -> str:
    lines: Sequence[str] = [line for line in text.strip().splitlines() if line.strip()]
    return " / ".join(lines[-count:]) or "no output"
