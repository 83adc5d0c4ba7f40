"""``pipguard detect``: the accelerators found, and how (only detection is imported)."""

from __future__ import annotations

from collections.abc import Mapping

from pipguard.detect import detect_overridden
from pipguard.options import settings
from pipguard.pipargs import CommandLine
from pipguard.results import Detected


def run_detect(cl: CommandLine, environ: Mapping[str, str]) -> tuple[int, Detected]:
    s = settings(cl, environ)
    return 0, Detected(detect_overridden(s.sysroot, s.path, s.overrides))
