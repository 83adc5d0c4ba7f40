"""Files of the torch family that no installed distribution owns.

pip writes a distribution's files before its metadata, so an install killed in
between leaves package folders that neither pip nor a RECORD check can see.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence


def find_orphans(locations: Sequence[str], installed: Mapping[str, object],
                 owners: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """Family package folders in ``locations`` that belong to no installed distribution.

    ``owners`` maps each family import package to the distributions that may install it
    (the family table's import names, :meth:`pipguard.knowledge.Knowledge.import_owners`).
    """
    out = []
    for loc in sorted(set(locations)):
        for folder, dists in owners.items():
            path = os.path.join(loc, folder)
            if os.path.isdir(path) and not any(o in installed for o in dists):
                out.append(path)
    return tuple(out)
