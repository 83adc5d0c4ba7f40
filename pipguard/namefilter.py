"""Cheap tests of a file name, made before the name is parsed: may this file matter?

A page of the PyTorch index lists every release for every Python and platform (tens of
thousands of links); the target can use only the files with one of its tags. Parsing a
wheel's file name (a :class:`~packaging.version.Version` and a tag set each) is the cost of
reading such a page, so these filters look only at the tag part of the name and drop the
rest first. They never drop a file the full parse would keep for the target: a name that is
not a wheel, or has too few parts, is kept so that the parse decides (property-tested in
``tests/test_simple.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

from packaging.tags import Tag

from pipguard.simple import Keep

__all__ = ["platform_filter", "tag_filter"]


def platform_filter(platforms: Iterable[str]) -> Keep:
    """A cheap test of a file name: may it be a wheel for one of ``platforms``?

    It reads only the platform part of the name (``...-manylinux_2_28_x86_64.whl``,
    dot-separated sets too); a name that is not a wheel is kept, so that the
    full parse decides. ``any`` is always accepted.
    """
    wanted = frozenset(p.lower() for p in platforms) | {"any"}
    seen: dict[str, bool] = {}  # a page names a few platform parts thousands of times

    def keep(filename: str) -> bool:
        if not filename.endswith(".whl"):
            return True
        tail = filename[filename.rfind("-") + 1 : -4]
        answer = seen.get(tail)
        if answer is None:
            answer = seen[tail] = any(p in wanted for p in tail.lower().split("."))
        return answer

    return keep


def tag_filter(tags: Iterable[Tag]) -> Keep:
    """A cheap test of a file name: may it be a wheel with one of ``tags``?

    Like :func:`platform_filter`, but on the whole ``python-abi-platform`` part of the name
    (dot-separated sets expanded), so wheels for other Pythons on this platform are dropped
    too: a target takes only files with one of its tags. A name that is not a wheel, or has
    too few parts, is kept, so that the full parse decides.
    """
    wanted = frozenset(str(t) for t in tags)
    seen: dict[str, bool] = {}  # a page names a few tag parts thousands of times

    def keep(filename: str) -> bool:
        if not filename.endswith(".whl"):
            return True
        parts = filename[:-4].rsplit("-", 3)
        if len(parts) < 4:
            return True
        triple = "-".join(parts[1:]).lower()
        answer = seen.get(triple)
        if answer is None:
            py, abi, plat = parts[1:]
            answer = seen[triple] = any(
                f"{i}-{a}-{p}" in wanted for i in py.lower().split(".")
                for a in abi.lower().split(".") for p in plat.lower().split("."))
        return answer

    return keep
