"""``explain`` rules for torch's Python-level dependencies at import time.

NumPy's ABI (a compiled module built for another NumPy major) and torch's pure-Python
dependencies (typing_extensions, sympy, ...) missing, too old or broken: the
``typing-extensions`` category covers them all. Run after
:mod:`pipguard.explain_runtime`'s rules; the framework (:mod:`pipguard.explain`) orders
and merges their findings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipguard.explain_doc import Doc, Rule, _cmd, _public, _v, frame_paths
from pipguard.explain_phrases import NUMPY_ABSENT, ext_module
from pipguard.findings import Finding

# typing_extensions release that added a name (its changelog): the ones torch & co import.
_TYPING_EXT_SINCE = {
    "ParamSpec": "3.10", "TypeAlias": "3.10", "Self": "4.0", "Required": "4.0",
    "NotRequired": "4.0", "LiteralString": "4.1", "TypeVarTuple": "4.1", "Unpack": "4.1",
    "dataclass_transform": "4.1", "override": "4.4", "deprecated": "4.5",
    "TypeAliasType": "4.6", "Buffer": "4.6", "ReadOnly": "4.9", "TypeIs": "4.10",
    "NoDefault": "4.12", "CapsuleType": "4.12",
}


def _numpy_abi(doc: Doc) -> Iterator[Finding]:
    down = doc.find(r"compiled using NumPy 1\.x cannot be run in\s+NumPy|_ARRAY_API not found|"
                    # the rest of NumPy 2's message, its first lines cut off
                    r"modules must be compiled with NumPy 2\.0|downgrade to 'numpy<2' or try to "
                    r"upgrade the affected module|"
                    # (but not NumPy absent: torch runs without it, and says so)
                    r"Failed to initialize NumPy(?!: No module named 'numpy')|Could not infer "
                    r"dtype of numpy|numpy\.core\."
                    r"multiarray failed to import|ABI version 0x1\w+ but this version of numpy "
                    r"is 0x2|Numpy is not available|"
                    # (torch.from_numpy on a NumPy 2 array, torch built for NumPy 1)
                    r"expected np\.ndarray \(got numpy\.ndarray\)")
    up = doc.find(r"No module named 'numpy\._core'|numpy\._core\.multiarray failed to import|"
                  r"compiled against (?:NumPy C-API|API|ABI) version 0x([0-9a-fA-F]+)[^\n]*? "
                  r"(?:but this version of numpy is|running NumPy has C-API version) "
                  r"0x([0-9a-fA-F]+)|"
                  r"dtype size changed[^\n]*?Expected (\d+) from C header, got (\d+)")
    if up and ((up.group(1) and int(up.group(1), 16) < int(up.group(2), 16))
               or (up.group(3) and int(up.group(3)) < int(up.group(4)))):
        down, up = down or up, None  # built for an older numpy than the one running
    absent = doc.find(NUMPY_ABSENT)
    if absent and down and not up and re.match(r"Numpy is not available|Failed to initialize",
                                                 down.group(0), re.I):
        yield Finding("numpy-abi", "error", "NumPy is not installed: torch runs without it, but "
                      "what hands it NumPy arrays fails", doc.line(down),
                      _cmd("pipguard", "install", "numpy"))
        return
    if up and not down:  # numpy._core, C-API >= 0x12, ABI 0x2000000, 96-byte dtype: NumPy 2
        api = int(up.group(1), 16) if up.group(1) else None
        two = (api is None and up.group(3) in (None, "96")) or (api or 0) >= 0x2000000 or (
            0x12 <= (api or 0) < 0x100)
        yield Finding("numpy-abi", "error", "a compiled module was built for a newer NumPy"
                      + (" (2.x)" if two else "") + " than the one installed", doc.line(up),
                      _cmd("pipguard", "install", "numpy>=2") if two else
                      _cmd("pipguard", "install", "--upgrade", "numpy"))
        return
    if not down and (gone := doc.find(r"`?(np\.\w+)`? was removed in the NumPy 2\.0 release")):
        # NumPy 2's own words for a Python name it removed: code written for NumPy 1
        # (the code asking: the last frame's, a package where it is one, not numpy's own)
        frames = [f for f in frame_paths(doc.text[: gone.start()])
                  if not re.search(r"(?:site|dist)-packages[/\\]+numpy[/\\]", f)]
        owner = ext_module(frames[-1]) if frames else None
        who = owner[0] if owner else "the code using it"
        yield Finding("numpy-abi", "error", f"{who} uses {gone[1]}, which NumPy 2.0 removed: it "
                      f"was written for NumPy 1.x; pin numpy<2, or upgrade {who} to a release "
                      "made for NumPy 2", doc.line(gone), _cmd("pipguard", "install", "numpy<2"))
        return
    if not down:
        if m := doc.find(r"(?:numpy\.)?(?:dtype|ufunc|ndarray) size changed, may indicate binary "
                         r"incompatibility"):  # no sizes printed: the direction is unknown
            yield Finding("numpy-abi", "error", "a compiled module was built against another "
                          "NumPy than the one installed (another install swapped numpy under "
                          "it): reinstall the numpy it was built with, or rebuild the module",
                          doc.line(m), _cmd("pipguard", "install", "--force-reinstall", "numpy"))
        return
    after = re.search(r"(?:site|dist)-packages[/\\](?!numpy)(\w+)[/\\]", doc.text[down.start():])
    who = after.group(1) if after else "torch"
    torch = doc.installed("torch") if who == "torch" else None
    numpy = doc.find(r"cannot be run in\s+NumPy (\d[\w.]*?)\.? ")
    release = _v(_public(torch)) if torch else None
    ok = doc.facts.numpy2_compatible(release, doc.platform() or "linux") if release else None
    yield Finding("numpy-abi", "error", f"{who} was compiled against NumPy 1.x and cannot run "
                  f"with NumPy {numpy.group(1) if numpy else '2'} (its numpy bridge fails: "
                  "_ARRAY_API not found, Could not infer dtype)" + (f"; torch {torch} predates "
                  "NumPy 2 support" if ok is False else "") + f": pin numpy<2, or upgrade {who} "
                  "to a release built for NumPy 2", doc.line(down),
                  _cmd("pipguard", "install", "numpy<2"))


def _typing_extensions(doc: Doc) -> Iterator[Finding]:
    m = doc.find(r"cannot import name '(\w+)' from 'typing_extensions'(?: \(([^)]+)\))?|module "
                 r"'typing_extensions' has no attribute '(\w+)'|(?:^|\n)[^\n]*typing_extensions\.py"
                 r"\"?, line \d+(?:[^\n]*\n)+?\s*(?P<error>\w+Error: [^\n]*)|(?P<error2>attribute "
                 r"'__default__' of 'typing\.ParamSpec' objects is not writable)")
    if not m:
        return
    name, path = m.group(1) or m.group(3), m.group(2) or ""
    if error := m["error"] or m["error2"]:  # raised in typing_extensions: too old for Python
        yield Finding("typing-extensions", "error",
                      "typing_extensions itself fails (" + error[:120] + "): the installed "
                      "release predates this Python or the torch that imports it; upgrade it",
                      doc.line(m), _cmd("pipguard", "install", "--upgrade", "typing_extensions"))
        return
    since = _TYPING_EXT_SINCE.get(name)
    distro = re.search(r"dist-packages|[/\\]usr[/\\]lib[/\\]python3", path)
    yield Finding("typing-extensions", "error",
                  f"the typing_extensions Python finds{f' ({path})' if path else ''} is too old "
                  f"to have {name}" + (f" (added in {since})" if since else "") + (
                  "; it is the distro's copy in dist-packages, which pip accepted as satisfying "
                  "torch's requirement: upgrade it in your environment, or better use a venv"
                  if distro else ""), doc.line(m), _cmd("pipguard", "install", "--upgrade",
                  f"typing_extensions>={since}" if since else "typing_extensions"))


# torch's pure-Python requirements, which a source build, --no-deps or another tool's
# environment may leave out or break.
_TORCH_PY_DEPS = r"sympy|networkx|filelock|fsspec|jinja2|mpmath|typing_extensions"


def _python_dependency(doc: Doc) -> Iterator[Finding]:
    deps = _TORCH_PY_DEPS
    m = doc.find(rf"name '({deps})' is not defined|No ({deps}) found|module '({deps})"
                 rf"(?:\.[\w.]+)?' has no attribute '\w+'|cannot import name '\w+' from "
                 rf"'({deps})(?:\.[\w.]+)?'|"
                 rf"No module named '({deps})'")
    if not m or (m.group(5) and not doc.find(r"[/\\]torch[/\\]|import torch")):
        return
    name = next(g for g in m.groups() if g)
    missing = bool(m.group(1) or m.group(2) or m.group(5))
    yield Finding("typing-extensions", "error",
                  f"torch needs the Python package {name}, and the copy Python finds is "
                  + ("missing (a source build, --no-deps install or a nightly that did not "
                     "declare it)" if missing else "broken or of a release torch does not "
                     "support") + ": install a release torch supports", doc.line(m),
                  _cmd("pipguard", "install", *([] if missing else ["--force-reinstall"]),
                       "--upgrade", name))


RULES: tuple[Rule, ...] = (_numpy_abi, _typing_extensions, _python_dependency)
