"""``pipguard verify [NAME…|--all]``: installed files against their RECORD."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from pipguard.interpreter import choose_python, start_inspect_interpreter
from pipguard.options import Settings, settings
from pipguard.pipargs import CommandLine

if TYPE_CHECKING:
    from pipguard.installed import InstalledDist
    from pipguard.results import Verified


def run_verify(cl: CommandLine, environ: Mapping[str, str]) -> tuple[int, Verified]:
    """Verify the named distributions, all of them, or the torch family (the default)."""
    s = settings(cl, environ)
    names = {canonicalize_name(n) for n in cl.positionals()}
    probe = start_inspect_interpreter(choose_python(s.python, (s.virtual_env, s.conda_prefix)))
    # Loaded while the target interpreter starts (on another core): a repeat check of a
    # torch install takes about as long as these imports. (_result imports them by name.)
    import pipguard.fingerprints
    import pipguard.install_record
    import pipguard.results  # noqa: F401
    from pipguard.errors import UsageError
    from pipguard.installed import inspect, inspect_named
    from pipguard.interpreter import pip_command

    interp = probe()
    if names:
        # Only the named distributions' metadata, found on the target's sys.path: no
        # whole `pip inspect`, and no start of the target beyond its probe.
        chosen = [d for d in inspect_named(interp.path, sorted(names)) if d.name in names]
        unknown = names - {d.name for d in chosen}
        if unknown:
            raise UsageError(f"not installed: {', '.join(sorted(unknown))}",
                             hint="pipguard list shows what is installed")
        return _result(chosen, (), interp.prefix, named=True, s=s)
    from pipguard.orphans import find_orphans
    from pipguard.session import load_tables  # the tables: only for the family and orphans

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
    from pipguard.fingerprints import verify_remembering
    from pipguard.install_record import read as read_record
    from pipguard.install_record import swapped
    from pipguard.results import Verified

    # A copy that is not the file pipguard installed there (a look-alike, same version).
    record = read_record(prefix)
    swaps = tuple(f"{d.name} {d.version}: {why}" for d in chosen
                  if (why := swapped(record, d.name, d.version, d.direct_url)) is not None)
    checked = verify_remembering(chosen, s.cache_dir, full=s.verify_full)
    result = Verified(checked, tuple(orphans), named, swaps)
    return (0 if result.ok else 1), result
