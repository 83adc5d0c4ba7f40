"""NVIDIA GPU names -> compute capability, for sources that give names only.

The driver's files (``/proc/driver/nvidia/gpus/*/information``) name each GPU
but do not say its compute capability; this table does, so detection needs no
process on most machines. The table lives in ``pipguard/data/gpus.json`` and is
read on first use only.

Matching works on lowercase alphanumeric tokens: a table key matches a name
when its tokens appear in the name's tokens in order (``"rtx 4000 ada"`` matches
``"NVIDIA RTX 4000 SFF Ada Generation"``). The key with the most tokens wins,
so ``"rtx 6000 ada"`` (8.9) beats ``"rtx 6000"`` (Quadro, 7.5). When two equally
long keys disagree the name is ambiguous and the answer is ``None``.
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache

_TOKEN = re.compile(r"[a-z0-9]+")
_CC = re.compile(r"\d{1,2}\.\d")


def tokens(name: str) -> tuple[str, ...]:
    """The lowercase alphanumeric tokens of a GPU name."""
    return tuple(_TOKEN.findall(name.lower()))


def _is_subsequence(key: tuple[str, ...], words: tuple[str, ...]) -> bool:
    it = iter(words)
    return all(k in it for k in key)


def parse_table(data: object) -> tuple[tuple[tuple[str, ...], str], ...]:
    """Check and flatten the JSON table into ``(key tokens, capability)`` pairs."""
    if not isinstance(data, dict) or not isinstance(data.get("families"), list):
        raise ValueError("gpus.json: expected an object with a 'families' list")
    pairs: list[tuple[tuple[str, ...], str]] = []
    for family in data["families"]:
        cc = family.get("cc") if isinstance(family, dict) else None
        names = family.get("names") if isinstance(family, dict) else None
        if not isinstance(cc, str) or not _CC.fullmatch(cc) or not isinstance(names, list):
            raise ValueError(f"gpus.json: malformed family {family!r}")
        for key in names:
            if not isinstance(key, str) or not tokens(key):
                raise ValueError(f"gpus.json: malformed name {key!r}")
            pairs.append((tokens(key), cc))
    return tuple(pairs)


@lru_cache(maxsize=1)
def _table() -> tuple[tuple[tuple[str, ...], str], ...]:
    path = os.path.join(os.path.dirname(__file__), "data", "gpus.json")
    with open(path, encoding="utf-8") as fh:
        return parse_table(json.load(fh))


def lookup(name: str, table: tuple[tuple[tuple[str, ...], str], ...]) -> str | None:
    """The compute capability ``table`` gives ``name``, ``None`` if unknown or ambiguous."""
    words = tokens(name)
    best_len = 0
    best: set[str] = set()
    for key, cc in table:
        if len(key) < best_len or not _is_subsequence(key, words):
            continue
        if len(key) > best_len:
            best_len, best = len(key), set()
        best.add(cc)
    return best.pop() if len(best) == 1 else None


def compute_capability_for(name: str) -> str | None:
    """The compute capability (``"9.0"``) of an NVIDIA GPU named ``name``, if known."""
    return lookup(name, _table())
