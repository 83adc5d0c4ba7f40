"""``pipguard verify [NAME…|--all]``: installed files against their RECORD."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from packaging.utils import canonicalize_name

from pipguard.errors import UsageError
from pipguard.fingerprints import verify_remembering
from pipguard.install_record import read as read_record
from pipguard.install_record import swapped
from pipguard.installed import InstalledDist, inspect, start_inspect_named
from pipguard.interpreter import choose_python, inspect_interpreter, pip_command
from pipguard.options import Settings, settings
from pipguard.orphans import find_orphans
from pipguard.pipargs import CommandLine
from pipguard.results import Verified
from pipguard.session import load_tables


def run_verify(cl: CommandLine, environ: Mapping[str, str]) -> tuple[int, Verified]:
    """Verify the named distributions, all of them, or the torch family (the default)."""
    s = settings(cl, environ)
    names = {canonicalize_name(n) for n in cl.positionals()}
    python = choose_python(s.python, (s.virtual_env, s.conda_prefix))
    # Only the named distributions' metadata (no whole `pip inspect`), read while the
    # target interpreter is probed: two starts of it, side by side.
    named = start_inspect_named(python, sorted(names)) if names else None
    interp = inspect_interpreter(python)
    if named is not None:
        chosen = [d for d in named() if d.name in names]
        unknown = names - {d.name for d in chosen}
        if unknown:
            raise UsageError(f"not installed: {', '.join(sorted(unknown))}",
                             hint="pipguard list shows what is installed")
        return _result(chosen, (), interp.prefix, named=True, s=s)
    dists = inspect(interp.python, pip_command(interp))
    kn = load_tables(s)  # once: a user's tables file is read and parsed each time
    if s.all:
        chosen = list(dists)
    else:
        family = kn.family()
        chosen = [d for d in dists if d.name in family]
    # Files of the family that no distribution owns (an install killed before
    # pip wrote the metadata) have no RECORD to check, but are broken all the same.
    orphans = find_orphans([d.location for d in dists], {d.name: d for d in dists},
                           kn.import_owners())
    return _result(chosen, orphans, interp.prefix, named=s.all, s=s)


def _result(chosen: Sequence[InstalledDist], orphans: Sequence[str], prefix: str, *,
            named: bool, s: Settings) -> tuple[int, Verified]:
    # A copy that is not the file pipguard installed there (a look-alike, same version).
    record = read_record(prefix)
    swaps = tuple(f"{d.name} {d.version}: {why}" for d in chosen
                  if (why := swapped(record, d.name, d.version, d.direct_url)) is not None)
    checked = verify_remembering(chosen, s.cache_dir, full=s.verify_full)
    result = Verified(checked, tuple(orphans), named, swaps)
    return (0 if result.ok else 1), result
