"""The ``uv pip install`` command line for a guarded install: pip's command, translated.

With ``--installer uv`` the plan, the guard's audit (pip's own ``--dry-run --report``), the
pins and the guard's constraints are exactly pip's; only the last step, the install, is
``uv pip install --python <target>`` instead of ``<target> -m pip install``. Each of pip's
options the command uses is translated to uv's (:data:`_AS`) or dropped where it means
nothing to uv (:data:`_NO_EFFECT`); any other option is refused with a usage error naming
it (:func:`check`): pipguard does not guess what uv would make of it.

The pins are direct references with the index's ``#sha256=``, as for pip: uv checks the
downloaded (or cached) file against that fragment and installs nothing on a mismatch
(``tests/test_uv.py`` proves it with a wrong hash).

Pure: :mod:`pipguard.runner` runs what this returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pipguard.errors import UsageError
from pipguard.pipargs import CommandLine, Option
from pipguard.pipoptions import KNOWN

# pip's option -> uv's tokens (a value option's value follows). uv takes most of pip's names;
# these are its canonical spellings, as `uv pip install --help` lists them (uv 0.13).
_AS: Mapping[str, tuple[str, ...]] = {
    "-r": ("-r",), "--requirement": ("-r",),
    "-c": ("-c",), "--constraint": ("-c",),
    "-e": ("-e",), "--editable": ("-e",),
    "-i": ("--index-url",), "--index-url": ("--index-url",),
    "--extra-index-url": ("--extra-index-url",),
    "-f": ("--find-links",), "--find-links": ("--find-links",),
    "--no-index": ("--no-index",),
    "-U": ("--upgrade",), "--upgrade": ("--upgrade",),
    "--force-reinstall": ("--reinstall",),
    "--no-deps": ("--no-deps",), "--no-dependencies": ("--no-deps",),
    "--pre": ("--prerelease", "allow"),
    "-t": ("--target",), "--target": ("--target",), "--prefix": ("--prefix",),
    "--no-binary": ("--no-binary",), "--only-binary": ("--only-binary",),
    "--require-hashes": ("--require-hashes",),
    "--no-build-isolation": ("--no-build-isolation",),
    "-C": ("-C",), "--config-settings": ("-C",),
    "--break-system-packages": ("--break-system-packages",),
    "--compile": ("--compile-bytecode",),
    "--cache-dir": ("--cache-dir",), "--no-cache-dir": ("--no-cache",),
    "--trusted-host": ("--allow-insecure-host",),
    "--no-color": ("--color", "never"),
    "-q": ("-q",), "--quiet": ("-q",), "-v": ("-v",), "--verbose": ("-v",),
}  # fmt: skip
# pip's options that change nothing uv does (uv compiles nothing unless asked, checks no
# version of itself, asks no questions, warns about no script location).
_NO_EFFECT = frozenset({
    "--no-compile", "--disable-pip-version-check", "--no-input", "--no-warn-script-location",
    "--no-warn-conflicts", "--progress-bar", "--root-user-action", "--no-clean",
    "--dry-run",  # pipguard's own: --dry-run prints the command and runs nothing
})  # fmt: skip


def _full_name(name: str) -> str:
    """pip's option as pip reads it: an unambiguous prefix (``--requirem``) is the option."""
    if name in KNOWN or not name.startswith("--"):
        return name
    longer = [o for o in KNOWN if o.startswith(name)]
    return longer[0] if len(longer) == 1 else name


def _options(cl: CommandLine) -> list[Option]:
    return [*cl.pip_globals, *(o for o in cl.rest if isinstance(o, Option))]


def check(cl: CommandLine) -> None:
    """Refuse (usage error, exit 2) every option uv cannot be given with the same meaning."""
    for opt in _options(cl):
        name = _full_name(opt.name)
        if name == "--python" or name in _NO_EFFECT:
            continue
        if name not in KNOWN and name.startswith("--"):
            raise UsageError(f"--installer uv: {name} is not one of pip's options in full",
                             hint="write pip's options in full for uv (e.g. --requirement)")
        if name not in _AS:
            raise UsageError(f"--installer uv: uv pip install has no equivalent of pip's {name}",
                             hint=f"drop {name}, or install with --installer pip")
        written = opt.tokens[0]
        if not written.startswith("--") and opt.value is None and len(written) > 2 \
                and written[1:] != written[1] * (len(written) - 1):
            raise UsageError(f"--installer uv: write the options of {written} one by one",
                             hint=f"e.g. {' '.join('-' + c for c in written[1:])}")


def _translated(opt: Option) -> list[str]:
    name = _full_name(opt.name)
    if name in _NO_EFFECT or name == "--python":
        return []
    uv = list(_AS[name])
    if opt.value is not None:
        return [*uv, opt.value]
    written = opt.tokens[0]
    if not written.startswith("--") and len(written) > 2:  # -qq, -vvv
        return uv * (len(written) - 1)
    return uv


def install_argv(cl: CommandLine, uv: str, python: str, pins: Sequence[str],
                 constraints: str | None = None) -> list[str]:
    """``uv pip install --python <target>`` with the pins first, then the guard's
    constraints, then the user's command translated (:func:`check` it first).

    ``--index-strategy unsafe-best-match`` is pip's way with several indexes (every index's
    versions compete), so what uv takes for the rest of the command is what pip's audited
    resolution took; the torch family is pinned to its files either way.
    """
    argv = [uv, "pip", "install", "--python", python, "--index-strategy", "unsafe-best-match",
            *pins]
    if constraints:
        argv += ["-c", constraints]
    for opt in cl.pip_globals:
        argv += _translated(opt)
    for item in cl.rest:
        argv += [item] if isinstance(item, str) else _translated(item)
    return argv
