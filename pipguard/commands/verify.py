"""``pipguard verify [NAME…|--all]``: installed files against their RECORD."""

from __future__ import annotations

from collections.abc import Mapping

from packaging.utils import canonicalize_name

from pipguard.errors import UsageError
from pipguard.install_record import read as read_record
from pipguard.install_record import swapped
from pipguard.installed import inspect
from pipguard.interpreter import pip_command
from pipguard.options import settings
from pipguard.orphans import find_orphans
from pipguard.pipargs import CommandLine
from pipguard.results import Verified
from pipguard.session import find_target, load_tables
from pipguard.verify import verify_many


def run_verify(cl: CommandLine, environ: Mapping[str, str]) -> tuple[int, Verified]:
    """Verify the named distributions, all of them, or the torch family (the default)."""
    s = settings(cl, environ)
    interp = find_target(s)
    dists = inspect(interp.python, pip_command(interp))
    names = {canonicalize_name(n) for n in cl.positionals()}
    if names:
        unknown = names - {d.name for d in dists}
        if unknown:
            raise UsageError(f"not installed: {', '.join(sorted(unknown))}",
                             hint="pipguard list shows what is installed")
        chosen = [d for d in dists if d.name in names]
    elif s.all:
        chosen = list(dists)
    else:
        family = load_tables(s).family()
        chosen = [d for d in dists if d.name in family]
    # Files of the family that no distribution owns (an install killed before
    # pip wrote the metadata) have no RECORD to check, but are broken all the same.
    orphans = () if names else find_orphans([d.location for d in dists],
                                            {d.name: d for d in dists},
                                            load_tables(s).import_owners())
    record = read_record(interp.prefix)
    swaps = tuple(f"{d.name} {d.version}: {why}" for d in chosen
                  if (why := swapped(record, d.name, d.version, d.direct_url)) is not None)
    result = Verified(verify_many(chosen), orphans, bool(names) or s.all, swaps)
    return (0 if result.ok else 1), result
