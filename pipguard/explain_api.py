"""``explain`` rules for code written for another release of torch's API (companion-mismatch).

A library or extension that reaches for a name this torch does not have: an attribute or an
import a newer torch added or an older one had (``module 'torch' has no attribute
'compiler'``), a keyword argument a newer torch added, a module the tables know a release
added or removed (``modules``: torchvision.transforms.functional_tensor, gone in 0.17), a C++
name torch removed from its API (``cpp_api``: AT_CHECK, THC). Its compiled binaries failing
to load are :mod:`pipguard.explain_companions`'; the framework runs these rules after those.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from packaging.utils import canonicalize_name
from packaging.version import Version

from pipguard.explain_doc import Doc, Rule, _cmd, _frames, _importer, _public, _v, frame_paths
from pipguard.explain_phrases import (
    LOCAL_SOURCE,
    TORCH_CORE,
    distribution,
    ext_module,
    last_built,
)
from pipguard.findings import Finding
from pipguard.lifecycle import ModuleChange


def _newer_torch_api(doc: Doc) -> Iterator[Finding]:
    """A library reaching for a part of torch that this (older) torch lacks, in its own code:
    ``module 'torch' has no attribute 'compiler'``, ``cannot import name 'guard_or_true' from
    'torch.fx.experimental.symbolic_shapes'``, ``No module named 'torch.distributed._tensor'``
    (a module the tables know is :func:`_module_of_another_release`'s). A name every torch has
    missing is another torch module imported instead: explain_runtime's."""
    m = doc.find(r"module 'torch(?P<sub>(?:\.\w+){0,4})' has no attribute '(?P<attr>\w+)'|"
                 r"cannot import name '(?P<name>\w+)' from 'torch(?P<src>(?:\.\w+){0,4})'"
                 r"(?! \(unknown location\))|"  # (torch as a namespace package: a broken install)
                 r"No module named 'torch(?P<mod>(?:\.\w+){1,5})'(?!; '[\w.]+' is not a package)")
    if m:
        sub, attr = ((m["sub"], m["attr"]) if m["attr"] else (m["src"], m["name"]) if m["name"]
                     else m["mod"].rsplit(".", 1))
    elif (m := doc.find(r"'Tensor' object has no attribute '(\w+)'")) and (added := (
            change := doc.facts.module_change(f"torch.Tensor.{m[1]}")) and change.added) and not (
            (have := _v(_public(doc.installed("torch") or ""))) and have >= added) and not \
            doc.find(r"\btensorflow\b|\bkeras\b"):
        sub, attr = ".Tensor", m[1]  # (a method the tables know a release added, not TF's)
    elif (m := doc.find(r"cannot import name '?(\w+)'?[ \t]*$", re.M)) and (imports := re.findall(
            rf"from torch((?:\.\w+){{0,4}}) import [^\n]*\b{m[1]}\b", doc.text[: m.start()])):
        sub, attr = imports[-1], m[1]  # (Python before 3.8 does not say where from)
    else:
        return
    # The code asking: a package's, else a file of the user's (a repository's own, a vendored
    # copy) where the traceback's last frame is outside torch, the standard library and
    # site-packages, asking by an import (an attribute may be the code's own typo) or for a
    # name the tables know; torch's own frame asking is a damaged torch, a bare line no code.
    frame = re.findall(r'^[ \t]*File "([^"\n]+)"', doc.text[: m.start()], re.M)
    user = _importer(doc, m)
    # (a frozen module, torch, a package, the standard library: .../lib/python3.10/..., Lib\)
    not_users = (r"^<|[/\\]torch[/\\]|(?:site|dist)-packages|importlib|[/\\](?:lib[/\\]python"
                 r"\d[\d.]*|python\d+[/\\]lib)[/\\](?!site-packages)")
    asks = user or (frame and not re.search(not_users, frame[-1], re.I)
                    and (not m.groupdict().get("attr") or sub == ".Tensor"))
    if (not sub and re.fullmatch(TORCH_CORE, attr)) or not asks \
            or ("._C" in f"{sub}." and (attr.startswith("_cuda") or not user)) \
            or (m.groupdict().get("mod") and doc.facts.module_change(f"torch{m['mod']}")) \
            or doc.find(r"partially initialized module 'torch"):
        return  # (torch._C without its CUDA functions: a CPU build; a circular import)
    dist = distribution(user) if user else None
    pkg = dist or user or "this code"
    # Removed: torch._six and symeig. An attribute asked of torch is most often a newer
    # torch's; a name imported from a module, either way (SAVE_STATE_WARNING went, guard_or_true
    # came): said as a mismatch, without a direction.
    gone = attr in ("_six", "symeig") or sub.startswith("._six")
    newer = (bool(m.groupdict().get("attr")) or sub == ".Tensor") and not gone
    yield Finding("companion-mismatch", "error",
                  f"{pkg} uses torch{sub}.{attr}, which this torch does not have: " + (
                      f"torch removed it, so {pkg} is older than this torch; upgrade {pkg}" + (
                          "" if user else ", or install the older torch it was written for")
                      if gone else f"{pkg} needs a newer torch; upgrade torch (with its "
                      "companions, from one index)" + (
                          f", or install the older {pkg} release made for this torch" if user
                          else "") if newer else f"{pkg} and torch are from different "
                      "releases (torch added or removed it since); install the release of "
                      f"{pkg} made for this torch, or the torch {pkg} asks for"), doc.line(m),
                  _cmd("pipguard", "install", "--upgrade", pkg) if gone and dist else
                  _cmd("pipguard", "install", "--upgrade", "torch") if newer else
                  "pipguard doctor")


def _newer_torch_call(doc: Doc) -> Iterator[Finding]:
    """A package's code calling a torch function with a keyword argument a newer torch added,
    where the source line the traceback shows makes that call (``torch.load(f,
    weights_only=True)``: ``load() got an unexpected keyword argument 'weights_only'``, before
    1.13). Only where the traceback's last frame is that package's (a user's own call, or a
    user's callback run by a framework, may have its own typo)."""
    m = doc.find(r"\b(\w+)\(\) got an unexpected keyword argument '(\w+)'")
    if m is None:
        return
    # the source line shown above the error: IPython's marked one (---> 109), else the last
    # line that is not Python 3.11's ^^^^ and ~~~~ markers
    begins = doc.text.rfind("\n", 0, m.start()) + 1  # (the error's line)
    above = doc.text[max(begins - 4000, 0): max(begins - 1, 0)].split("\n")[-8:]
    marked = [line for line in above if re.match(r"[ \t]*-+>[ \t]*\d+", line)]
    shown = marked[-1] if marked else next(
        (line for line in reversed(above[-3:]) if line.strip(" \t^~")), "")
    # (the keyword inside that call's brackets: one level of brackets within them)
    call = rf"\btorch(?:\.\w+){{0,4}}\.{m[1]}\((?:[^()\n]|\([^()\n]*\))*?\b{m[2]}[ \t]*="
    frames = frame_paths(doc.text[: m.start()])
    owner = ext_module(frames[-1]) if frames else None
    if not (re.search(call, shown[:2000]) and owner and owner[0] != "torch"):
        return
    pkg = distribution(owner[0]) or owner[0]
    yield Finding("companion-mismatch", "error",
                  f"{pkg} calls torch's {m[1]}() with {m[2]}=, which this torch does not take: "
                  f"{pkg} needs a newer torch; upgrade torch (with its companions, from one "
                  f"index), or install the older {pkg} release made for this torch", doc.line(m),
                  _cmd("pipguard", "install", "--upgrade", "torch"))


def _module_of_another_release(doc: Doc) -> Iterator[Finding]:
    """A module that a release of torch or a companion added or removed, missing at import
    (the tables' ``modules``): the code importing it was written for another release of it
    (basicsr imports torchvision.transforms.functional_tensor, gone in torchvision 0.17).
    Not where a file of the user's named like the package hides it ("'torch' is not a
    package"), where the package's own code imports it (a damaged install), nor where the
    release installed has it (another environment, or a damaged one)."""
    imported: list[str] | None = None  # the modules the text's import lines name, read once
    # (torch's own stub in place of a module it removed, raising on import: its frame is last)
    for m in re.finditer(r"No module named '(?P<mod>[A-Za-z_]\w*(?:\.\w+)+)'(?P<shadow>; '[\w.]+' "
                         r"is not a package)?|(?P<stub>torch\.utils\.ffi) is deprecated\. Please "
                         r"use cpp extensions", doc.text):
        if m["shadow"]:
            continue
        if imported is None:
            imported = re.findall(r"(?:from|import)[ \t]+([A-Za-z_]\w*(?:\.\w+)+)", doc.text)
        change = _deepest_known(doc, m["mod"] or m["stub"], imported)
        if change is None:
            continue
        top, pkg = change.module.split(".", 1)[0], change.package
        frames = [p for p, _ in _frames(doc, m)]
        have = _v(_public(doc.installed(pkg, mentioned=False) or ""))  # (not uv's "- x==1")
        if (frames and frames[-1] == top and not m["stub"]) or (have is not None and (
                (change.added is not None and have >= change.added)
                or (change.removed is not None and have < change.removed))):
            return
        user = _importer(doc, m)
        code = (f"{distribution(user) or user}, which imports it," if user and user != top
                else "the code importing it")
        # torch and its companions move together to an older set; a package torch requires
        # at one release (triton) does not move alone: the code importing it must.
        importer = distribution(user) if user and user != top else None
        alone = importer and pkg != "torch" and pkg not in doc.facts.companion_names()
        if change.removed is not None:
            yield Finding("companion-mismatch", "error",
                          f"{change.module} is gone from {pkg} since {change.removed}" + (
                              f" (its functions are in {change.instead})" if change.instead
                              else "") + f": {code} was written for an older {pkg}; " + (
                              f"upgrade {importer} to a release that no longer imports it (the "
                              f"{pkg} here is the one torch requires)" if alone else
                              f"install {pkg} older than {change.removed}" + (
                                  "" if pkg == "torch" else " (with the torch made for it)")
                              + ", or a release of that code which no longer imports it"),
                          doc.line(m), _cmd("pipguard", "install", "--upgrade", str(importer))
                          if alone else _cmd("pipguard", "install", f"{pkg}<{change.removed}"))
        elif change.added is not None:
            yield Finding("companion-mismatch", "error",
                          f"{change.module} came with {pkg} {change.added}: {code} needs {pkg} "
                          f"{change.added} or newer; upgrade {pkg} (" + (
                              "with its companions, from one index" if pkg == "torch" else
                              "with the torch made for it") + "), or install the older release "
                          f"of that code made for this {pkg}", doc.line(m),
                          _cmd("pipguard", "install", "--upgrade", f"{pkg}>={change.added}",
                               *(c for c in doc.companions_shown() if c != pkg)))
        return


def _deepest_known(doc: Doc, missing: str, imported: list[str]) -> ModuleChange | None:
    """The row of the deepest module an import line (``imported``) names under ``missing``
    (``from torch.nn.attention.flex_attention import ...`` failing at torch.nn.attention asks
    for 2.5, not 2.3), else ``missing``'s own."""
    under = {n for n in imported if n.startswith(f"{missing}.")}
    known = [c for n in sorted(under, key=len, reverse=True)
             if (c := doc.facts.module_change(n)) is not None]
    return known[0] if known else doc.facts.module_change(missing)


# A compiler that does not know a name (gcc's, nvcc's, MSVC's, clang's words) or cannot find a
# header: read against the names torch removed from its C++ API (the ``cpp_api`` table).
_UNKNOWN_NAME = re.compile(r"(?:fatal error|error C1083)[^\n]{0,40}?\b(\w+/\w+\.c?u?h)\b|"
                           r"[‘'\"`](\w+)[’'\"`] (?:was not|has not been) declared|"
                           r"[‘'\"`](\w+)[’'\"`] does not name a type|"
                           r"identifier \"(\w+)\" is undefined|'(\w+)': (?:identifier not found|"
                           r"undeclared identifier)|use of undeclared identifier '(\w+)'")


def _removed_cpp_api(doc: Doc) -> Iterator[Finding]:
    """An extension's source built against a torch that removed a name of the C++ API it uses
    (``AT_CHECK``, gone in 1.5; THC's headers and names, gone by 1.11): the extension was
    written for an older torch, like a companion built for another release."""
    names = ((m, next(g for g in m.groups() if g)) for m in _UNKNOWN_NAME.finditer(doc.text))
    removed = [(m, name, gone.removed, gone.instead) for m, name in names
               if (gone := doc.facts.cpp_api_change(name)) and gone.removed is not None
               and gone.package == "torch"]  # (torch's own names, the release that removed it)
    have = _v(doc.installed("torch") or "") if removed else None  # (read once per text)
    for m, name, release, instead in removed:
        if have is not None and Version(have.base_version) < release:
            continue  # torch here still has it
        pkg = last_built(doc.text, m.start()) or None
        index = pkg is not None and canonicalize_name(pkg) != "torch" and not doc.find(
            LOCAL_SOURCE, re.M)  # (a local project is no index's to upgrade)
        yield Finding("companion-mismatch", "error",
                      f"{pkg or 'the extension being built'} uses {name}, which torch "
                      f"{release} removed from its C++ API: its source is written for an "
                      "older torch; install a release of it written for this torch, or change "
                      f"its source to use {instead}", doc.line(m),
                      _cmd("pipguard", "install", "--upgrade", str(pkg)) if index
                      else "pipguard doctor")
        return


RULES: tuple[Rule, ...] = (_newer_torch_api, _newer_torch_call, _module_of_another_release,
                          _removed_cpp_api)
