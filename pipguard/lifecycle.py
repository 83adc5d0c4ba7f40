"""What a release of torch or a companion started or ended.

A library released in step with torch that stopped (Intel's extension, after 2.8:
:class:`Retired`), and a module that a release added or removed (``torch.fx`` came with torch
1.8, ``torchvision.transforms.functional_tensor`` went with torchvision 0.17:
:class:`ModuleChange`). Code written for one release meets the other as a pin to a release
that does not exist, or as "No module named ...", which names no version at all. The rows come
from the knowledge tables (``retired`` and ``modules``, parsed by
:mod:`pipguard.knowledge_tables`); ``explain`` and ``doctor`` ask them through
:class:`pipguard.knowledge.Knowledge`. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from packaging.version import Version


@dataclass(frozen=True)
class Retired:
    """A library released in step with torch that stopped."""

    last: Version  # the last torch minor it has a release for
    instead: str  # what replaces it, in words
    same_minor: bool = False  # its releases are numbered as torch's (IPEX 2.8.10: torch 2.8)
    # Where a build's releases are (a local label: the index); PyPI has the others.
    indexes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ModuleChange:
    """One module (or a name of torch's C++ extension API: the ``cpp_api`` table), the
    distribution that ships it, and the release that added or removed it."""

    module: str  # "torchvision.transforms.functional_tensor"
    package: str  # the distribution: "torchvision"
    added: Version | None = None  # the first release with it
    removed: Version | None = None  # the first release without it
    instead: str = ""  # where its functions are now, if anywhere
