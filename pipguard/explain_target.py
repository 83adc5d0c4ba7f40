"""``explain`` rules for a build made for another interpreter or machine.

A free-threaded Python (3.13t) given the regular build, or the other way round; a loader
refusing a build for another architecture, Python or glibc; pip falling back to PyPI's torch
placeholder, or building a package from source because no wheel fits, and failing; a wheel
file refused outright. All are "no matching distribution" in the finding vocabulary: the
wheel for this interpreter and platform is the fix. A project whose Python range is wider
than a dependency's (uv locks for all of it) is the one conflict here, as Poetry's is. The
framework (:mod:`pipguard.explain`) orders them with :mod:`pipguard.explain_nomatch`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from pipguard.explain_doc import Doc, Rule, _cmd, _importer, _pin, _req, _spec, distribution_here
from pipguard.explain_phrases import UV_PYTHON_DERIVATION, last_built
from pipguard.findings import Finding


def free_threaded(doc: Doc) -> Iterator[Finding]:
    """A free-threaded Python (3.13t) given a build for the regular one, or the other way round."""
    ft = doc.find(r"GIL\)? has been enabled to load module '(\w+)|\bcp31\dt\b|python3\.?1\dt\b|"
                  r"free-threading compatible ABI|Py_GIL_DISABLED", re.I)  # (not prose about it)
    fail = doc.find(r"GIL\)? has been enabled|No module named '\w+\._C'|DLL load failed|cannot "
                    r"open shared object|undefined symbol|not a supported wheel|has no wheels with "
                    r"a (?:matching|free-threading)|No matching distribution|satisfies the "
                    r"requirement|has not been built for")
    if not (ft and fail):
        return
    name = ft.group(1) or "torch"
    yield Finding("no-matching-distribution", "error",
                  f"this is a free-threaded Python (3.13t, no GIL), which needs {name}'s cp313t "
                  "wheels; the build here (or the only one the index offers) is for the regular "
                  "Python: install the free-threaded build (torch publishes cp313t wheels from "
                  "2.6 on its own index) or use the regular python3.13", doc.line(fail),
                  _cmd("pipguard", "install", "--force-reinstall", "torch>=2.6"))


def conda_python_downgrade(doc: Doc) -> Iterator[Finding]:
    """conda's plan downgrading Python to install a torch-family package: the channel has no
    build of it for the Python in the environment, so the solver went to one that has."""
    m = doc.find(r"packages will be DOWNGRADED:(?:\n[^\n]*){0,40}?\n[ \t]*python:?[ \t]+(\d+\.\d+)"
                 r"[\w.-]*[^\n]*?-->[ \t]*(\d+\.\d+)")
    if not m or m.group(1) == m.group(2):
        return
    family = doc.facts.family()
    names = [n for n in re.findall(r"(?m)^[ \t]*([A-Za-z][\w.-]*?)(?:-cpu)?:?[ \t]+\d", doc.text)
             if canonicalize_name(n) in family or n == "pytorch"]  # (conda's name for torch)
    if not names:
        return
    yield Finding("no-matching-distribution", "warning",
                  f"the channel has no {names[0]} build for Python {m.group(1)}, so conda would "
                  f"downgrade Python to {m.group(2)} to install one: take a {names[0]} release "
                  f"built for Python {m.group(1)} (a newer one, or pip's wheels), or answer no",
                  doc.line(m), _cmd("pipguard", "plan", "torch" if names[0] == "pytorch" else
                                    names[0]))


def built_for_another_target(doc: Doc) -> Iterator[Finding]:
    """An installed build the loader refuses as made for another machine or Python: a 32-bit
    or 64-bit mismatch (Windows' "not a valid Win32 application", ELF's class), another CPU
    architecture (macOS' x86_64 vs arm64), another Python's DLL, a newer glibc than this
    system's. The wheel for this interpreter and platform is the fix."""
    m = doc.find(r"%1 is not a valid Win32 application|wrong ELF class: \w+|incompatible "
                 r"architecture \(have '([^']+)', need '([^']+)'|mach-o, but wrong architecture|"
                 r"Module use of python\d+\.dll conflicts with this version of Python|version "
                 r"`GLIBC_(\d+\.\d+)' not found \(required by \S*(?:site|dist)-packages|"
                 r"(?P<musl>Error relocating \S*(?:site|dist)-packages[/\\]\S+: \w+: symbol not "
                 r"found)")  # (musl's loader, on Alpine, reading a glibc wheel)
    if not m:
        return
    if m["musl"]:
        where = re.search(r"(?:site|dist)-packages[/\\]+([A-Za-z]\w*)", m[0])
        named = (distribution_here(doc, where[1]) if where else None) or "a package"
        yield Finding("no-matching-distribution", "error", f"musl's loader (Alpine) refuses "
                      f"{named}'s glibc (manylinux) build, and torch publishes no musl build: "
                      "run in a glibc-based image (Debian or Ubuntu slim) rather than "
                      "reinstalling", doc.line(m), "pipguard doctor")
        return
    why = (f"a {m.group(1)} build on a machine that needs {m.group(2)} (an x86_64 Python under "
           "Rosetta installs x86_64 wheels)" if m.group(1) else
           f"a build for glibc {m.group(3)} or newer on an older system (a wheel for another "
           "manylinux tag, copied from another machine or forced with --platform)"
           if m.group(3) else "a build for another architecture or Python (a 32-bit Python "
           "with 64-bit files, or files from another Python's install)")
    owner = doc.find(r"required by \S*?(?:site|dist)-packages[/\\]+([A-Za-z]\w*)|(?:site|dist)-"
                     r"packages[/\\]+([A-Za-z]\w*)[^\n]*\n?[^\n]*" + re.escape(m.group(0)))
    pkg = next((g for g in owner.groups() if g), None) if owner else _importer(doc, m)
    name = distribution_here(doc, pkg) if pkg else "torch"
    yield Finding("no-matching-distribution", "error", f"the loader refuses {why}: install the "
                  "wheel for this interpreter and platform (a native 64-bit Python; on an Apple "
                  "silicon Mac an arm64 one)", doc.line(m),
                  _cmd("pipguard", "install", "--force-reinstall", name) if name
                  else "pipguard doctor")


def placeholder(doc: Doc) -> Iterator[Finding]:
    """pip (or uv) taking a placeholder from PyPI where no real wheel fits: torch 0.1.2 (an
    sdist from 2017 whose setup.py only raises "PyTorch does not currently provide packages
    for PyPI") or a family project's empty 0.0.0 (torch-tensorrt on Windows). It is what pip
    falls back to when no real wheel fits this Python and platform (32-bit, musl, a Python or
    OS no release supports)."""
    torch = doc.find(r"PyTorch does not currently provide packages for PyPI|"
                     r"\btorch-0\.1\.2(?:\.post\d)?\.tar\.gz|"  # (and uv building it)
                     r"(?:build|prepare|install)\w*[^\n]{0,60}?`torch==0\.1\.2(?:\.post\d)?`")
    empty = None if torch else next(
        (m for m in re.finditer(r"\b([A-Za-z][\w.-]{0,100}?)-0\.0\.0(?:\.tar\.gz \(\d+ "
                                r"(?:bytes|kB)\)|\s*$)", doc.text, re.M)
         if canonicalize_name(m.group(1)) in doc.facts.family()), None)
    if m := torch or empty:
        what = f"{canonicalize_name(empty.group(1))} 0.0.0, an empty" if empty else \
            "torch 0.1.2, the"
        yield Finding("no-matching-distribution", "error", f"pip took {what} placeholder on "
                      "PyPI, because no real wheel fits this Python and platform (32-bit, "
                      "musl/Alpine, or a Python or OS no release supports): use a 64-bit "
                      "CPython and a platform a release supports", doc.line(m),
                      _cmd("pipguard", "install", str(canonicalize_name(empty.group(1)))
                           if empty else "torch"))


def built_from_source(doc: Doc) -> Iterator[Finding]:
    """pip building a package from source and failing, with nothing more decisive in the
    text: no wheel of it fits this Python, platform or torch (the usual case for the CUDA
    extensions: flash-attn, xformers, apex, mamba-ssm), so pip took the sdist. A warning, so
    any other finding (the build's own cause) goes first."""
    m = doc.find(r"Failed building wheel for ([\w.-]+)|Could not build wheels for ([\w.-]+)|"
                 r"Building wheel for ([\w.-]+) \S+ did not run successfully|Command \S*\"?python "
                 r"setup\.py egg_info\"? failed with error code \d+ in \S*?([\w-]+)[/\\]?$|Command "
                 r"errored out with exit status \d+: \S*python\S* setup\.py egg_info|Command "
                 r"errored out with exit status \d+:\s*command:[\s\S]{0,300}?pip-(?:install|"
                 r"build)-\w+[/\\]+([\w.-]+)[/\\]+setup\.py|"
                 # pip's progress lines and summaries, old and new
                 r"^[ \t]*(?:Running setup\.py (?:install|bdist_wheel) for|Building wheel for) "
                 r"([\w.-]+)(?: \([\w.]+\))?(?: \.\.\. error|: finished with status 'error')|"
                 r"^[ \t]*(?:ERROR: )?Failed to build ([\w.-]+)[ \t]*$|Failed to build installable "
                 r"wheels for some pyproject\.toml based projects(?: \(([\w., -]+)\)|\s*╰─>\s*"
                 r"([\w.-]+))?|"
                 r"Failed to build '([\w.-]+)' when|legacy-install-failure\s*(?:×[^\n]*\s*╰─>\s*"
                 r"([\w.-]+))?|Complete output from command \S*python"
                 r"\S* -u -c [^\n]*?[/\\]pip-(?:build|install)-\w+[/\\]+([\w.-]+)[/\\]+setup\.py|"
                 # Poetry's
                 r"error originates from the build backend[^\n]*?with ([\w.-]+) \(|PEP517 build of "
                 r"a dependency failed|Cannot install build-system\.requires for ([\w.-]+)|"
                 r"ChefInstallError|"
                 # a frame of torch's own setup.py, which pip runs only when no wheel fits
                 r"File \"[^\"\n]*pip-(?:install|build)-\w+[/\\]+(torch)[/\\]+setup\.py\"",
                 re.I | re.M)
    if not m:
        return
    name = next((g.split(",")[0].strip() for g in m.groups() if g), None)
    if name and re.compile(rf"Successfully installed [^\n]*\b{re.escape(name)}-|Running setup\.py "
                           rf"install for {re.escape(name)} \.\.\. done", re.I).search(doc.text,
                                                                                    m.end()):
        return  # pip fell back to setup.py install, and that worked
    yield Finding("no-matching-distribution", "warning",
                  f"no wheel of {name or 'the package'} fits this Python, platform or torch, so "
                  "pip built it from source, and the build failed (it needs what the wheel would "
                  "have brought: a compiler, the CUDA toolkit of torch's CUDA, ninja): install a "
                  "release that publishes a wheel for this combination", doc.line(m),
                  _cmd("pipguard", "install", "--only-binary", ":all:", name or "torch"))


def build_refuses_python(doc: Doc) -> Iterator[Finding]:
    """A package's own setup refusing this Python while pip builds it from source ("Cannot
    install on Python version 3.11.8; only versions >=3.7,<3.11 are supported": numba's and
    llvmlite's): the release pinned has no wheel for this Python, and no source support."""
    if not (m := doc.find(r"Cannot install on Python version (\d[\w.]*); only versions ([^\s;]+)"
                          r" are supported")):
        return
    name = last_built(doc.text, m.start())
    yield Finding("no-matching-distribution", "error",
                  f"{name or 'a package pip built from source'} supports Python {m[2]} in the "
                  f"release asked for, not {m[1]}: it has no wheel for this Python and its setup "
                  "refuses it; install a newer release of it (one built for this Python), or use "
                  "a Python in that range", doc.line(m),
                  _cmd("pipguard", "install", "--upgrade", name) if name else "pipguard plan")


# uv's derivation for a project: it locks for the whole requires-python range, and a
# dependency supports only part of it (read as Poetry's "python property" case is: a conflict)
_PROJECT_RANGE = (r"requested\s+Python\s+version\s+\((?P<py>[<>=!~][^)]{0,40})"
                  + UV_PYTHON_DERIVATION)


def project_python_range(doc: Doc) -> Iterator[Finding]:
    if not (m := doc.find(_PROJECT_RANGE)) or not (dep := _req(m["dep"])) or not (
            spec := _spec(m["need"])):
        return
    yield Finding("resolver-conflict", "error",
                  f"{dep} needs Python {m['need']}, but the project's requires-python "
                  f"({m['py']}) takes in Pythons outside that, and uv locks for all of them: "
                  "narrow requires-python to fit, or limit the dependency to the Pythons it "
                  "supports", doc.line(m), _cmd("uv", "add", f"{dep}; " + " and ".join(
                      f"python_full_version {s.operator} '{s.version}'" for s in spec)))


def unsupported_wheel(doc: Doc) -> Iterator[Finding]:
    """pip (or uv) refusing a wheel file named outright (a path or URL): its tags are not this
    interpreter's or platform's."""
    if not (m := doc.near(r"is not a supported wheel|(?:URL|path) dependency is incompatible",
                          r"(?P<whl>\S+\.whl) is not a supported wheel|A (?:URL|path) dependency "
                          r"is incompatible with the current platform: (?P<url>\S+\.whl)")):
        return
    wheel = m["whl"] or m["url"]
    try:
        name, version, _, tags = parse_wheel_filename(wheel.split("/")[-1])
    except InvalidWheelFilename:
        name, version, tags = canonicalize_name("torch"), None, frozenset()
    built = sorted({f"{t.interpreter}-{t.platform}" for t in tags})
    py, pv = doc.python(), doc.ctx.python_version  # (the wheel's own tag is no interpreter's)
    if py and {f"cp3{py[2:]}"} == {t.interpreter for t in tags} and not doc.find(
            rf"python3\.{py[2:]}\b|Python 3\.{py[2:]}\b"):
        py = ".".join(pv.split(".")[:2]) if pv else None
    yield Finding("no-matching-distribution", "error",
                  f"{wheel} is built for {', '.join(built) or 'another target'}, which this "
                  f"interpreter{f' (Python {py})' if py else ''} cannot use: take the file for "
                  "this Python and platform", doc.line(m),
                  _cmd("pipguard", "install", _pin(name, version.public if version else None)))


RULES: tuple[Rule, ...] = (free_threaded, conda_python_downgrade, built_for_another_target,
                          placeholder, unsupported_wheel, project_python_range,
                          build_refuses_python)
