"""pip's configuration answer, remembered while the files pip reads for it are unchanged.

``pip config list`` is a whole pip start (0.4-0.6 s, most of pipguard's cost on an install
of anything). Its answer is a function of the configuration files pip reads, the ``PIP_*``
variables and the variables that tell pip where those files are (``HOME``, ``XDG_*``,
``APPDATA`` ...), for one target interpreter and pip version. So pipguard asks pip twice
the first time, side by side: ``config list`` (the answer) and ``config debug`` (every file
pip considered, existing or not), and keeps the answer with each file's stat fingerprint.
Later, the same inputs and the same fingerprints give the same answer without a pip start.

Nothing here reads a configuration file: pip names the files and gives the answer; this
only notices whether any of them changed (appeared, vanished, or was written: size,
mtime and ctime in ns, inode, device, as :mod:`pipguard.filecheck` trusts an unchanged
file). A file changed in the 2 s before it was looked at is not trusted (the same tick may
hold another write). An answer holding a credential (a URL with a user or token, from a
file or a ``PIP_*`` variable; any ``@``, so a schemeless ``user:pw@proxy`` too) is never
stored: pipguard keeps no secret in its cache. The store is a cache: anything unreadable
means "ask pip".
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pipguard import runner
from pipguard.cache import entry_path, read_entry, write_entry
from pipguard.redact import redact_text

_FORMAT = 1
_SETTLE_NS = 2_000_000_000
# One line of `pip config debug` per file pip considers: "  /etc/pip.conf, exists: True".
_FILE = re.compile(r"^ {2}(\S.*), exists: (True|False)$", re.M)
_Print = tuple[int, int, int, int, int] | None


def start_config_list(pip: Sequence[str], isolated: Sequence[str], key: Mapping[str, object],
                      cache_root: Path | None) -> Callable[[], runner.Completed]:
    """Start getting ``pip config list``'s result (remembered, or from pip); the returned
    function waits for it. ``key``: what else the answer depends on (the target, pip's
    version, the variables pip reads); ``cache_root`` None: never remembered."""
    where = (entry_path(cache_root, "pipconfig", json.dumps(key, sort_keys=True))
             if cache_root is not None else None)
    if where is not None and (stdout := _remembered(where)) is not None:
        done = runner.Completed(tuple(pip), 0, stdout, "")
        return lambda: done
    started = time.time_ns()
    listed = runner.start([*pip, *isolated, "config", "list"], timeout=120)
    debug = runner.start([*pip, *isolated, "config", "debug"], timeout=120) \
        if where is not None else None

    def answer() -> runner.Completed:
        done = listed.result()
        if where is not None and debug is not None and done.returncode == 0:
            files = debug.result()
            if files.returncode == 0:
                _remember(where, done.stdout, _FILE.findall(files.stdout), started)
        return done

    return answer


def _fingerprint(path: str) -> _Print:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev


def _remember(where: Path, stdout: str, files: Sequence[tuple[str, str]],
              started: int) -> None:
    if not files or redact_text(stdout) != stdout or "@" in stdout:
        return  # debug output not understood here, or a secret in the answer (a URL's
        # credentials, a proxy's user:password@ without a scheme): ask pip each time
    prints = [(path, _fingerprint(path)) for path, _ in files]
    for (_, exists), (_, fp) in zip(files, prints, strict=True):
        if (exists == "True") != (fp is not None):
            return  # changed while pip looked: not a stable answer
        if fp is not None and started - fp[2] <= _SETTLE_NS:
            return  # written just now: the same tick may hold another write
    with contextlib.suppress(OSError):
        write_entry(where, {"format": _FORMAT},
                    json.dumps({"files": prints, "stdout": stdout}).encode("utf-8"))


def _remembered(where: Path) -> str | None:
    entry = read_entry(where)  # self-checking: a torn or damaged entry reads as None
    if entry is None or entry[0].get("format") != _FORMAT:
        return None
    try:
        stored = json.loads(entry[1])
        files, stdout = stored["files"], stored["stdout"]
        unchanged = bool(files) and all(
            isinstance(path, str) and _fingerprint(path) == (tuple(fp) if fp is not None
                                                             else None)
            for path, fp in files)
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    return stdout if unchanged and isinstance(stdout, str) else None
