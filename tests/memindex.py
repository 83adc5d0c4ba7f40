"""An in-memory torch index for pure planner tests: the imitation index's pages, no server.

The pages that ``scripts/make_index.py`` writes are parsed once (with pipguard's own page
parser) into :class:`~pipguard.simple.IndexFile` objects keyed by (variant, project); each
file's METADATA is read from the ``.metadata`` file beside it. It satisfies the planner's
``IndexSource`` protocol, and counts what the planner asked for.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pipguard.simple import IndexFile, scan_html

BASE = "https://download.pytorch.org/whl"


class MemoryIndex:
    """A torch index held in memory (one channel)."""

    def __init__(self, torch_dir: Path, channel: str = "stable") -> None:
        self.root = torch_dir
        self.prefix = "" if channel == "stable" else f"{channel}/"
        self.pages: dict[tuple[str, str], tuple[IndexFile, ...]] = {}
        self.asked: Counter[tuple[str, str]] = Counter()
        self.metadata_reads = 0

    def variant_url(self, variant: str) -> str:
        return f"{BASE}/{self.prefix}{variant}/"

    def files(self, variant: str, project: str) -> tuple[IndexFile, ...] | None:
        key = (variant, project)
        self.asked[key] += 1
        if key not in self.pages:
            page = self.root / f"{self.prefix}{variant}" / project / "index.html"
            if not page.exists():
                return None
            url = f"{self.variant_url(variant)}{project}/"
            scan = scan_html(page.read_text(encoding="utf-8"), url)
            assert scan.problem is None, scan.problem
            self.pages[key] = scan.files
        return self.pages[key]

    def metadata(self, file: IndexFile) -> str:
        self.metadata_reads += 1
        # Both hosts (the index's own and the R2-like one) serve the tree under /whl/.
        rel = unquote(urlsplit(file.url).path).removeprefix("/whl/")
        return (self.root / (rel + ".metadata")).read_text(encoding="utf-8")
