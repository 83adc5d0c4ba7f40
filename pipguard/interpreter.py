"""Finding the target interpreter and asking it about itself; how pip is run for it.

The rule (also in the README):

1. ``--python PATH`` names it (a ``python`` executable or a virtual environment);
2. otherwise an *active* virtual environment (``VIRTUAL_ENV``) or conda
   environment (``CONDA_PREFIX``) that is not pipguard's own, so that a
   pipguard installed with pipx serves whatever environment is active;
3. otherwise the interpreter pipguard itself runs in.

pip always runs as ``<target python> -m pip``; if the target has no pip (a
``uv venv``, say), pipguard's own pip is used with ``--python <target>``.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path

from packaging import tags as ptags

from pipguard import runner
from pipguard.errors import TargetError
from pipguard.installed import version_on
from pipguard.target import Interpreter, tags_for

# Runs inside the target interpreter: standard library only, prints one JSON object.
_PROBE = r"""
import json, os, platform, site, sys, sysconfig
try:
    glibc = os.confstr("CS_GNU_LIBC_VERSION")
except (AttributeError, ValueError, OSError):
    glibc = None
user = None  # -I leaves the user site out; pip's run (no -I) has it, outside a plain venv
base = getattr(sys, "base_prefix", sys.prefix)
if sys.prefix == base or any(p.startswith(base) and p.endswith("-packages") for p in sys.path):
    try:
        user = site.getusersitepackages()
    except Exception:
        user = None
    user = user if user and os.path.isdir(user) else None
print(json.dumps({
    "executable": sys.executable,
    "version": list(sys.version_info[:3]),
    "implementation": sys.implementation.name,
    "platform": sys.platform,
    "machine": platform.machine(),
    "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "glibc": glibc,
    "prefix": sys.prefix,
    "path": sys.path,
    "user_site": user,
    "base_prefix": getattr(sys, "base_prefix", sys.prefix),
    "pointer_bits": 64 if sys.maxsize > 2**32 else 32,
}))
"""


def _python_in(path: Path) -> Path:
    """Accept a venv folder as well as an interpreter path."""
    if path.is_dir():
        for cand in (path / "bin" / "python", path / "Scripts" / "python.exe"):
            if cand.exists():
                return cand
        raise TargetError(
            f"no Python interpreter in {path}", hint="--python takes an interpreter or a venv"
        )
    return path


def choose_python(explicit: str | None, active: tuple[str | None, ...] = ()) -> str:
    """Apply the target rule (module docstring) and return the interpreter path.

    ``active`` holds the active environments, in order (``VIRTUAL_ENV``, ``CONDA_PREFIX``).
    """
    if explicit:
        p = Path(explicit).expanduser()
        if not p.exists():
            raise TargetError(
                f"target interpreter {explicit} does not exist",
                hint="--python takes the path of a python executable or a virtual environment",
            )
        return str(_python_in(p))
    own_prefix = Path(sys.prefix).resolve()
    for value in active:
        if value and Path(value).resolve() != own_prefix and Path(value).is_dir():
            try:
                return str(_python_in(Path(value)))
            except TargetError:
                continue
    return sys.executable


def _venv_root(python: str) -> Path | None:
    root = Path(os.path.abspath(python)).parent.parent
    return root.resolve() if (root / "pyvenv.cfg").exists() else None


def _same_interpreter(python: str) -> bool:
    """Whether ``python`` is the interpreter we run in (a venv's symlink is not)."""
    if os.path.abspath(python) == os.path.abspath(sys.executable):
        return True
    try:
        same_binary = Path(python).resolve() == Path(sys.executable).resolve()
    except OSError:
        return False
    return same_binary and _venv_root(python) == _venv_root(sys.executable)


def inspect_interpreter(python: str) -> Interpreter:
    """Ask the target interpreter about itself (in-process when it is ours)."""
    return start_inspect_interpreter(python)()


def start_inspect_interpreter(python: str) -> Callable[[], Interpreter]:
    """:func:`inspect_interpreter`, started now; the returned function waits for the answer.

    The caller imports what it needs while the target starts (on another core).
    """
    if _same_interpreter(python):
        facts: dict[str, object] = {
            "executable": sys.executable,
            "version": list(sys.version_info[:3]),
            "implementation": sys.implementation.name,
            "platform": sys.platform,
            "machine": platform.machine(),
            "free_threaded": bool(
                __import__("sysconfig").get_config_var("Py_GIL_DISABLED")
            ),
            "pip": _own_pip_version(),
            "prefix": sys.prefix,
            "path": sys.path,
        }
        own = _interpreter(python, facts, tuple(ptags.sys_tags()))
        return lambda: own
    pending = runner.start([python, "-I", "-c", _PROBE], timeout=30)
    # Loaded while the target starts: the answer reads the target's pip version with it.
    import importlib.metadata  # noqa: F401
    return lambda: _probed(python, pending.result())


def _probed(python: str, done: runner.Completed) -> Interpreter:
    if done.returncode != 0:
        raise TargetError(
            f"could not run the target interpreter {python}",
            hint=(done.stderr.strip().splitlines() or ["check --python"])[-1],
        )
    try:
        facts = json.loads(done.stdout)
    except ValueError as exc:
        raise TargetError(f"target interpreter {python} gave no facts") from exc
    if not isinstance(facts, dict) or not isinstance(facts.get("version"), list):
        raise TargetError(f"target interpreter {python} gave no facts")
    v = facts["version"]
    tags = tags_for((int(v[0]), int(v[1])), bool(facts["free_threaded"]), None)
    facts["pip"] = version_on(_path(facts), "pip")
    return _interpreter(python, facts, tags)


def _interpreter(python: str, facts: dict[str, object],
                 tags: tuple[ptags.Tag, ...]) -> Interpreter:
    ver = facts["version"]
    assert isinstance(ver, list)
    return Interpreter(
        python=python,
        version=(int(ver[0]), int(ver[1]), int(ver[2])),
        implementation=str(facts["implementation"]),
        os=str(facts["platform"]),
        machine=str(facts["machine"]),
        free_threaded=bool(facts["free_threaded"]),
        pip_version=None if facts.get("pip") is None else str(facts["pip"]),
        prefix=str(facts["prefix"]),
        tags=tags,
        path=_path(facts),
        user_site=user if isinstance(user := facts.get("user_site"), str) else None,
    )


def _path(facts: dict[str, object]) -> tuple[str, ...]:
    path = facts.get("path")
    return tuple(str(p) for p in path) if isinstance(path, list) else ()


def _own_pip_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("pip")
    except Exception:
        return None


def running_pip_version(interp: Interpreter) -> str | None:
    """The version of the pip that :func:`pip_command` runs: the target's, else pipguard's."""
    return interp.pip_version if interp.pip_version is not None else _own_pip_version()


def pip_command(interp: Interpreter) -> list[str]:
    """The argv prefix that runs pip for the target."""
    if interp.pip_version is not None:
        return [interp.python, "-m", "pip"]
    if _own_pip_version() is None:
        raise TargetError(
            f"no pip in {interp.python} nor beside pipguard",
            hint=f"{interp.python} -m ensurepip",
        )
    return [sys.executable, "-m", "pip", "--python", interp.python]
