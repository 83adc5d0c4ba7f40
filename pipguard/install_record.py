"""What pipguard installed from where, recorded in the target environment.

``doctor`` trusts the torch index an install used (a company mirror, say) without the
user naming it again: ``install`` records the index of every plan it carried out in
``<prefix>/pipguard-installs.json``. A record that cannot be read or written only costs
that trust (doctor then asks for ``--torch-index-url``), never the install.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

FILE = "pipguard-installs.json"


def record_index(prefix: str, index_url: str) -> None:
    """Remember that the environment at ``prefix`` got torch-family files from ``index_url``."""
    if not index_url:
        return
    index_url = _without_credentials(index_url)
    path = Path(prefix) / FILE
    known = list(recorded_indexes(prefix))
    if index_url in known:
        return
    tmp = path.with_suffix(".tmp")
    with contextlib.suppress(OSError):
        tmp.write_text(json.dumps({"torch_indexes": [*known, index_url]}, indent=1) + "\n",
                       encoding="utf-8")
        os.replace(tmp, path)


def recorded_indexes(prefix: str) -> tuple[str, ...]:
    """The torch indexes earlier installs into ``prefix`` used (empty when unknown)."""
    try:
        data = json.loads((Path(prefix) / FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ()
    urls = data.get("torch_indexes") if isinstance(data, dict) else None
    return tuple(u for u in urls if isinstance(u, str)) if isinstance(urls, list) else ()


def _without_credentials(url: str) -> str:
    """Never store a secret: ``https://user:token@host/whl?token=…`` -> ``https://host/whl``."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
