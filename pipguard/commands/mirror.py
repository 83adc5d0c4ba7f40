"""``pipguard mirror LOCKS… --to DIR``: exactly the files the locks need, servable as indexes.

Layout (any static web server can serve ``DIR``)::

    DIR/whl/<variant>/<project>/index.html   the torch index (``--torch-index-url URL/whl``)
    DIR/whl/<variant>/<wheel>[.metadata]     its wheels, with PEP 658 metadata beside
    DIR/simple/index.html, <project>/index.html   a PEP 503 index of everything else
    DIR/packages/<file>[.metadata]           its files, flat (``pypi-server run DIR/packages``)

Pages link each file with ``#sha256=`` and ``data-core-metadata="sha256=…"``. Every file
is downloaded through :mod:`pipguard.artifacts` and checked against the lock's sha256.
The pages list the files of the locks given to this run.
"""

from __future__ import annotations

import hashlib
import html
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

from pipguard import console
from pipguard.artifacts import download, wheel_metadata
from pipguard.errors import IntegrityError, UsageError
from pipguard.interpreter import pip_command
from pipguard.lockfiles import read_locks, write_text
from pipguard.options import settings
from pipguard.pipargs import CommandLine
from pipguard.pipconfig import network_settings
from pipguard.pylock import Lock, LockedFile
from pipguard.session import find_target
from pipguard.transport import Transport
from pipguard.wire import NetworkSettings

_FLAT = "packages"  # where the files of the PEP 503 index are kept


def run_mirror(cl: CommandLine, environ: Mapping[str, str]) -> tuple[int, None]:
    """Download, check and lay out every file of the locks; write the index pages."""
    # The locks hold every URL and hash; how to reach them is pip's network configuration.
    transport = Transport(_network(cl, environ))
    to = cl.options("--to")
    if not to:
        raise UsageError("mirror needs --to DIR", hint="e.g. pipguard mirror locks/ --to mirror/")
    root = Path(to[-1])
    # page folder -> project -> file name -> (file, metadata sha256 or None)
    pages: dict[str, dict[str, dict[str, tuple[LockedFile, str | None]]]] = defaultdict(
        lambda: defaultdict(dict))
    fetched = kept = 0
    for name, _, lock in read_locks([a for a in cl.positionals() if a != "--"]):
        for project, folder, f in _placements(lock):
            known = pages[folder][project].get(f.name)
            if known is not None:
                if known[0].sha256 != f.sha256:
                    raise IntegrityError(f"two locks name {f.name} with different hashes "
                                         f"({known[0].sha256} and {f.sha256}; {name})")
                continue
            dest = root / folder / f.name
            if download(f.url, dest, f.sha256, transport):
                fetched += 1
            else:
                kept += 1
            meta_sha = None
            if f.name.endswith(".whl"):
                meta = wheel_metadata(dest)
                dest.with_name(dest.name + ".metadata").write_bytes(meta)
                meta_sha = hashlib.sha256(meta).hexdigest()
            pages[folder][project][f.name] = (f, meta_sha)
    for folder, projects in sorted(pages.items()):
        page_dir, prefix = _page_dir(folder)
        for project, files in sorted(projects.items()):
            write_text(root / page_dir / project / "index.html",
                       project_page(project, prefix, files))
        if page_dir == "simple":
            write_text(root / "simple" / "index.html", root_page(sorted(projects)))
    count = sum(len(f) for p in pages.values() for f in p.values())
    console.say(f"mirrored {count} files into {root} ({fetched} downloaded, {kept} already "
                "there), every one checked against its locked sha256")
    console.say(f"serve {root} and use --torch-index-url <url>/whl --index-url <url>/simple")
    return 0, None


def _placements(lock: Lock) -> list[tuple[str, str, LockedFile]]:
    """(project, folder, file) of every file of a lock: torch-index files by variant."""
    out: list[tuple[str, str, LockedFile]] = []
    for p in lock.packages:
        family = bool(lock.info.variant and lock.info.torch_index and p.index
                      and p.index.rstrip("/") == lock.info.torch_index.rstrip("/"))
        folder = f"whl/{lock.info.variant}" if family else _FLAT
        out.extend((p.name, folder, f) for f in [*p.wheels, *([p.sdist] if p.sdist else [])])
    return out


def _page_dir(folder: str) -> tuple[str, str]:
    """Where the pages of the files kept in ``folder`` go, and their href prefix."""
    return ("simple", f"../../{_FLAT}/") if folder == _FLAT else (folder, "../")


def project_page(project: str, prefix: str,
                 files: Mapping[str, tuple[LockedFile, str | None]]) -> str:
    """A PEP 503 project page: each file with its sha256 and PEP 658 metadata hash."""
    lines = []
    for fname, (f, meta_sha) in sorted(files.items()):
        href = html.escape(f"{prefix}{quote(fname)}#sha256={f.sha256}")
        meta = f' data-core-metadata="sha256={meta_sha}"' if meta_sha else ""
        lines.append(f'    <a href="{href}"{meta}>{html.escape(fname)}</a><br/>')
    return _page(f"Links for {project}", lines)


def root_page(projects: list[str]) -> str:
    return _page("Simple index", [f'    <a href="{quote(p)}/">{html.escape(p)}</a><br/>'
                                  for p in projects])


def _page(title: str, lines: list[str]) -> str:
    return ("<!DOCTYPE html>\n<html>\n  <head><title>" + html.escape(title) + "</title></head>\n"
            "  <body>\n    <h1>" + html.escape(title) + "</h1>\n" + "\n".join(lines)
            + "\n  </body>\n</html>\n")


def _network(cl: CommandLine, environ: Mapping[str, str]) -> NetworkSettings:
    """pip's network settings (CA, proxy, credentials…) for the mirror's downloads."""
    s = settings(cl, environ)
    interp = find_target(s)
    return network_settings(cl, pip_command(interp), env=s.network_env,
                            inert=s.pip_config_inert, pip_version=interp.pip_version,
                            python=interp.version)
