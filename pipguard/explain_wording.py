"""A fix worded for the tool that printed the failure: pip (pipguard), uv or Poetry.

The rules word every fix as pipguard and pip commands. A text uv or Poetry printed
(:func:`pipguard.explain_phrases.installer_of`) gets the same fix in that tool's own
terms: ``pipguard install X`` becomes ``uv pip install X`` or ``poetry add X``, ``pip cache
remove X`` becomes ``uv cache clean X``, pip's options their equivalents (``--no-cache-dir``
is uv's ``--no-cache``); an option the tool lacks is dropped or becomes its variable.
Commands that are not an installer's (``export``, ``rm``, ``pipguard detect``) stay.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

from pipguard.explain_doc import _cmd

# pip/pipguard option -> uv's (None: uv has no such option; it is dropped).
_UV_OPTIONS: dict[str, str | None] = {
    "--force-reinstall": "--reinstall", "--ignore-installed": "--reinstall",
    "--no-cache-dir": "--no-cache", "--pre": "--prerelease=allow", "--gpu-arch": None,
}  # fmt: skip
# pip/pipguard options uv takes as they are, with their value.
_UV_KEEPS = ("--torch-backend", "--only-binary")
# Options Poetry's `add` has no counterpart for (it manages the lock file, not files).
_POETRY_DROPS = frozenset({"--force-reinstall", "--ignore-installed", "--no-deps", "--upgrade",
                           "-U", "--gpu-arch"})
_TAKES_VALUE = frozenset({"--python", "--torch-backend", "--gpu-arch", "--retries", "--timeout",
                          "--index-url", "--extra-index-url", "-i", "-f", "--find-links",
                          "--only-binary"})


def word_for(installer: str, fix: str) -> str:
    """``fix`` (pipguard/pip commands joined by ``&&``) in ``installer``'s terms."""
    if installer not in ("uv", "poetry"):
        return fix
    return " && ".join(_one(installer, part.strip()) for part in fix.split(" && "))


def _one(installer: str, command: str) -> str:
    try:
        words = shlex.split(command)
    except ValueError:
        return command
    if words[:3] in (["pip", "cache", "remove"], ["pip", "cache", "purge"]):
        return ("uv cache clean " + " ".join(words[3:])).strip() if installer == "uv" \
            else "poetry cache clear --all pypi"
    if words[:2] == ["pip", "uninstall"]:
        names = [w for w in words[2:] if not w.startswith("-")]
        return _cmd("uv", "pip", "uninstall", *names) if installer == "uv" \
            else _cmd("poetry", "remove", *names)
    if words[:3] == ["pip", "index", "versions"] or words[:2] == ["pipguard", "plan"]:
        names = [w for w in words[2:] if not w.startswith("-")][-1:] or ["torch"]
        return _install(installer, ["--dry-run", *names])
    if words and words[0] in ("pipguard", "pip") and "install" in words[1:4]:
        at = words.index("install")
        return _install(installer, words[1:at] + words[at + 1:])
    return command


def _options(args: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """pip's ``args`` split into options (``{"--timeout": "120"}``) and the rest, in order."""
    opts: dict[str, str] = {}
    rest: list[str] = []
    it = iter(args)
    for a in it:
        name, eq, value = a.partition("=")
        if name in _TAKES_VALUE:
            opts[name] = value if eq else next(it, "")
        else:
            rest.append(a)
    return opts, rest


def _python(value: str) -> str:
    """``python3.12`` -> ``3.12`` (uv and Poetry take a version); a path stays."""
    m = re.fullmatch(r"python(3(?:\.\d+)?)", value)
    return m.group(1) if m else value


def _install(installer: str, args: Sequence[str]) -> str:
    opts, rest = _options(args)
    env = [f"UV_HTTP_TIMEOUT={opts['--timeout']}" if installer == "uv" else
           f"POETRY_REQUESTS_TIMEOUT={opts['--timeout']}"] if "--timeout" in opts else []
    index = [(k, v) for k, v in opts.items() if k in ("--index-url", "-i", "--extra-index-url",
                                                      "-f", "--find-links")]
    if installer == "uv":
        flags = [u for a in rest if (u := _UV_OPTIONS.get(a, a))]
        extra = [*(["--python", _python(opts["--python"])] if "--python" in opts else []),
                 *(x for k in _UV_KEEPS if k in opts for x in (k, opts[k])),
                 *(x for kv in index for x in kv)]
        return " ".join([*env, _cmd("uv", "pip", "install", *extra, *flags)])
    pre = [f"poetry env use {_python(opts['--python'])}"] if "--python" in opts else []
    backend = opts.get("--torch-backend") or next(
        (m.group(1) for _, v in index if (m := re.search(r"pytorch\.org/whl/(\w[\w.]*)", v))),
        None)
    source: list[str] = []
    if backend:
        pre.append(f"poetry source add --priority=explicit pytorch-{backend} "
                   f"https://download.pytorch.org/whl/{backend}")
        source = ["--source", f"pytorch-{backend}"]
    words = [a for a in rest if a not in _POETRY_DROPS]
    flags = ["--allow-prereleases" if a == "--pre" else a for a in words
             if a.startswith("-") and a != "--no-cache-dir"]
    reqs = [a for a in words if not a.startswith("-")]
    cache = ["--no-cache"] if "--no-cache-dir" in rest else []
    dry = "--dry-run" in flags
    if not reqs:
        return " && ".join([*pre, " ".join([*env, "poetry", *cache, "install"])])
    add = _cmd("poetry", *cache, "add", *[f for f in flags if f != "--dry-run"],
               *(["--dry-run"] if dry else []), *source, *reqs)
    return " && ".join([*pre, " ".join([*env, add])])
