"""``pipguard sync LOCKS…``: install the lock that fits this machine, exactly, then verify.

1. Read the locks (files, or folders of ``pylock.*.toml``) and choose the one that fits
   the hardware (detected, or ``--cuda-driver``/``--gpu-arch``/``--torch-backend``) by the
   planner's policy (:mod:`pipguard.lockchoice`); say why, and why not the others.
2. Install its files with nothing resolved again: a requirements file of
   ``name @ url --hash=sha256:…`` lines, ``pip install --no-deps --require-hashes
   --no-index``. A distribution already installed from exactly the locked file is kept.
3. Verify: every locked distribution is installed at its locked version, and its files
   match its RECORD.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from pipguard import console, render, runner
from pipguard.errors import CheckFailed, UsageError
from pipguard.fingerprints import verify_remembering
from pipguard.installed import InstalledDist, inspect_named
from pipguard.lockchoice import LockChoice, choose_lock
from pipguard.lockfiles import read_locks
from pipguard.pylock import LockedFile, LockedPackage, applies, best_wheel
from pipguard.session import Session
from pipguard.target import marker_environment
from pipguard.verify import verify_many


def run_sync(s: Session) -> tuple[int, None]:
    """Choose, install and verify; NoMatchingBuild (exit 1) when no lock fits."""
    cl = s.cl
    found = read_locks([a for a in cl.positionals() if a != "--"])
    paths = {name: path for name, path, _ in found}
    choice = choose_lock([(name, lock) for name, _, lock in found], s.hw, s.interp, s.kn)
    for line in why(choice):
        console.say(line)
    env = marker_environment(s.interp)
    wanted = [p for p in choice.lock.packages if applies(p.marker, env)]
    files = {p.name: _file_for(p, s) for p in wanted if p.directory is None}
    installed = {d.name: d for d in inspect_named(s.interp.path, sorted(files))}
    force = cl.has("--force-reinstall")
    todo = {n: f for n, f in files.items()
            if force or not _same_file(installed.get(n), _package(wanted, n), f)}
    lines = [f"{n} @ {f.url} --hash=sha256:{f.sha256}" for n, f in sorted(todo.items())]
    dirs = [p for p in wanted if p.directory is not None]
    if cl.has("--dry-run"):
        for line in lines:
            print(line)
        return 0, None
    with tempfile.TemporaryDirectory(prefix="pipguard-") as tmp:
        if lines:
            req = Path(tmp) / "locked.txt"
            req.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
            argv = [*s.pip, *cl.global_tokens(), "install", "--no-deps", "--require-hashes",
                    "--no-index", "--force-reinstall", "-r", str(req)]
            console.say(f"installing {len(lines)} of {len(files)} locked files "
                        f"({len(files) - len(lines)} already installed from them)")
            done = runner.run(argv, capture=False)
            if done.returncode != 0:
                return done.returncode, None
        else:
            console.say(f"all {len(files)} locked files are already installed")
        for p in dirs:
            base = paths[choice.name].parent
            path = str((base / (p.directory or ".")).resolve())
            argv = [*s.pip, *cl.global_tokens(), "install", "--no-deps",
                    *(["-e", path] if p.editable else [path])]
            console.say(f"installing the local project {p.name} from {path} (--no-deps)")
            done = runner.run(argv, capture=False)
            if done.returncode != 0:
                return done.returncode, None
    _verify(s, wanted)
    return 0, None


def why(choice: LockChoice) -> list[str]:
    """What sync says about its choice: the lock, its build, and each lock not taken."""
    build = f"torch {choice.torch}" if choice.torch else "no torch-family build"
    lines = [f"chose {choice.name}: {build}"
             + (f" ({choice.variant})" if choice.variant else "")
             + (" runs on this machine" if choice.verdict is not None else "")]
    lines += [f"warning: {w}" for w in choice.warnings]
    lines += [f"  not {name}: {reason}" for name, reason in choice.rejected]
    return lines


def _package(packages: list[LockedPackage], name: str) -> LockedPackage:
    return next(p for p in packages if p.name == name)


def _file_for(p: LockedPackage, s: Session) -> LockedFile:
    wheel = best_wheel(p, s.interp.tags)
    if wheel is not None:
        return wheel
    if p.sdist is not None:
        return p.sdist
    raise UsageError(f"no file of {p.name} {p.version} in the lock fits this target "
                     f"({s.interp.python_tag}, {s.interp.os} {s.interp.machine})")


def _same_file(d: InstalledDist | None, p: LockedPackage, f: LockedFile) -> bool:
    """Installed at the locked version from exactly the locked file (per direct_url.json)."""
    if d is None or d.version != p.version or d.installer is None or not d.direct_url:
        return False
    archive = d.direct_url.get("archive_info") or {}
    sha = (archive.get("hashes") or {}).get("sha256") or str(
        archive.get("hash") or "").partition("=")[2]
    return str(sha).lower() == f.sha256


def _verify(s: Session, wanted: list[LockedPackage]) -> None:
    names = sorted(p.name for p in wanted)
    dists = [d for d in inspect_named(s.interp.path, names) if d.name in names]
    by_name = {d.name: d for d in dists}
    problems = [f"{p.name}: not installed" for p in wanted if p.name not in by_name]
    problems += [f"{p.name}: {by_name[p.name].version} installed, {p.version} locked"
                 for p in wanted if p.name in by_name and p.version
                 and by_name[p.name].version != p.version]
    checked = (verify_remembering(dists, s.settings.cache_dir, full=True)
               if s.settings.verify_full else verify_many(dists, hash_files=False))
    for r in checked:
        problems += [f"{r.name}: {prob.problem} {prob.path}" for prob in r.problems[:5]]
        if r.record_missing:
            problems.append(f"{r.name}: RECORD missing")
    for line in problems:
        console.say(line)
    if problems:
        raise CheckFailed("the environment does not match the lock after the sync",
                          hint="pipguard sync --force-reinstall LOCKS reinstalls every file")
    console.say(f"verified {len(dists)} distributions against the lock and their RECORD: "
                + render.how_verified(checked))

