"""The ``explain`` rule for an installer that ran out of memory or disk (resource-exhausted).

torch's wheels are large (0.7–4 GB with CUDA), and pip handles each one whole: it
holds the download in memory to write it to its HTTP cache (old pips serialise the
whole body with msgpack, which fails outright past 4 GiB), then unpacks it in the temp
dir. So a small machine or a Docker build's memory limit sees ``MemoryError``, a bare
``Killed`` after ``Downloading torch`` or exit 137 (the kernel's OOM killer); a small
disk or tmpfs ``No space left on device``. Without the cache pip streams the file to
disk: the first fix for memory, and half the space for disk. The framework
(:mod:`pipguard.explain`) puts this rule first: the symptoms after it (a cut-off file,
a failed build) follow from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipguard.explain_doc import Doc, Rule, _cmd, _req
from pipguard.explain_phrases import INSTALLING, PAGE_FILE, PIP_CRASH, SUCCEEDED, last_built
from pipguard.findings import Finding

# The disk (or tmpfs, or quota) is full: pip, uv (os error 28) and Windows wording.
DISK_FULL = (r"No space left on device|\[Errno 28\]|\bENOSPC\b|os error 28|not enough space on "
             r"the disk|WinError 112|Disk quota exceeded|\[Errno 122\]|errno: 28\b|(?-i:IO "
             r"error: Not enough space in)")  # (the last two: conda's)
_MEMORY = (r"\bMemoryError\b|CondaMemoryError|process ran out of memory|Memoryview is too "
           r"large|Out of memory: Kill(?:ed)? process|memory allocation of \d+ bytes failed|"
           r"Cannot allocate memory|std::bad_alloc|"
           r"(?:non-zero code|exit code|exit status|exited with)[: ]+137\b|^[ \t]*Killed[ \t]*$|"
           r"signal: 9\b|(?:died due to|killed by|terminated by) signal 9\b|\bSIGKILL\b|"
           r"OverflowError: (?:string|bytes)[^\n]*(?:longer|larger)|"
           r"bytes object is too large|cannot serialize a bytes object larger|bytes is too large|"
           r"(?:eta \S+|(?<![\d.])[\d.]+ ?[kMG]B/s|\.whl[^\n]{0,300}?)\s*Killed[ \t]*$")
# pip's (or Poetry's) HTTP cache, cachecontrol over msgpack, failing: a traceback through it.
_CACHE = (r"[/\\](?:cachecontrol|msgpack)[/\\]\w+\.py|Memoryview is too large|bytes is too large|"
          r"[/\\]pip[/\\]_internal[/\\]cli[/\\]progress_bars\.py[^\n]*\n(?:[^\n]*\n){0,12}?\w*"
          r"MemoryError")
# pip crashed (an unexpected exception, not an error it reports) right after a big download.
_BIG = 500  # MB: the size where holding the whole wheel in memory starts to fail
# conda's own words (its package cache is where a full disk shows first)
_CONDA = r"[/\\]pkgs[/\\]|Conda\w{0,30}Error"
# Docker writing an image's layer (a build's result, a pull), not an installer's files.
_DOCKER_LAYER = (r"failed to register layer|Error processing tar file|failed to (?:copy|extract|"
                 r"export|commit)[^\n]{0,60}?\b(?:layer|snapshot)|/var/lib/docker/")
# A compiler (or the build backend driving it) at work: a build from source, whose parallel
# compile jobs take gigabytes each, not the installer's download or cache.
_COMPILER = (r"Killed signal terminated program|\bcc1plus\b|(?<![\w-])nvcc(?![\w-])|ninja: build "
             r"stopped|error: command '[^'\n]{0,200}?(?:g\+\+|gcc|c\+\+|cl\.exe|nvcc)(?:\.exe)?' "
             r"failed")


def _what(doc: Doc) -> tuple[str, str]:
    """The requirement being downloaded (as the user asked for it) and the wheel's size."""
    wheels = re.findall(r"(?:Downloading|Installing) (?:\S*/)?([A-Za-z][\w.]*?)-(\d[^-\s]*)-\S*"
                        r"\.whl[^\n(]*(?:\(([\d.]+ ?[kMG]B)\))?|Installing ([A-Za-z][\w.-]*) "
                        r"\((\d[^)\s]*)\)", doc.text)
    name, size = ((wheels[-1][0] or wheels[-1][3]), wheels[-1][2]) if wheels else ("torch", "")
    asked = [r for m in re.finditer(r"Collecting (\S+)", doc.text) if (r := _req(m.group(1)))]
    same = [r for r in asked if r.name.replace("-", "_").lower() == name.lower()]
    req = str(same[-1]) if same else name.replace("_", "-")
    return req, f" ({size.replace(' ', '')})" if size else ""


def _megabytes(size: str) -> float:
    number, unit = float(re.sub(r"[^\d.]", "", size) or 0), size.strip()[-2:].upper()
    return number * {"KB": 1 / 1000, "MB": 1, "GB": 1000}.get(unit, 0)


def _crash_after_download(doc: Doc) -> re.Match[str] | None:
    """pip's own traceback right after it downloaded a wheel of hundreds of MB."""
    crash = doc.find(PIP_CRASH, re.M)
    if not crash or doc.find(r"IncompleteRead|Connection (?:broken|reset|aborted)|timed out|"
                             r"ProtocolError|SSLError|ConnectionError|HTTPError|in _error_catcher"):
        return None  # the network, not memory
    if doc.stopped_short(crash.start()):
        return None  # the download stopped short: cut off, not cached
    raised = re.findall(r"^(?:[\w.]+\.)?(\w*(?:Error|Exception|BadZipFile)|error)(?=:|$)",
                        doc.text[crash.end():], re.M)
    if raised and "MemoryError" not in raised:
        return None  # the traceback ends in another error (a bad zip, say): not memory
    # (a wrapped paste's URL and size on rows of their own; one run of blanks each, so a long
    # one is not tried at every split)
    sizes = re.findall(r"Downloading(?:[ \t]*\n)?[ \t]*(?=\S)[^\n]*?\.whl[^\n(]*(?:\n[ \t]*)?\("
                       r"([\d.]+ ?[kMG]B)\)", doc.text[: crash.start()])
    return crash if sizes and _megabytes(sizes[-1]) >= _BIG else None


def _resource_exhausted(doc: Doc) -> Iterator[Finding]:
    if page := doc.find(PAGE_FILE):
        yield Finding("resource-exhausted", "error",
                      "Windows ran out of commit memory (RAM plus the page file) while loading "
                      "torch's DLLs: the CUDA ones reserve gigabytes in every process that loads "
                      "them, and each DataLoader worker is one more; let Windows size the page "
                      "file (or enlarge it), or start fewer worker processes", doc.line(page),
                      'wmic computersystem where name="%computername%" set '
                      "AutomaticManagedPagefile=True")
        return
    disk = doc.find(DISK_FULL)
    # The shell's "Killed", also where a log or a translation runs it into other words.
    memory = (doc.find(_MEMORY, re.I | re.M) or doc.find(_CACHE) or _crash_after_download(doc)
              or doc.find(r"(?<![A-Za-z])Killed(?![A-Za-z])", 0))
    if not (disk or memory) or doc.find(r"CUDA out of memory|OutOfMemoryError|DataLoader worker"):
        return
    # the disk, where it ran out before memory did (else memory is the failure)
    full = disk if disk and not (memory and memory.start() < disk.start()) else None
    if full is not None and (layer := doc.find(_DOCKER_LAYER)):
        yield Finding("resource-exhausted", "error",
                      "Docker's disk filled up while it wrote an image layer (torch's CUDA "
                      "wheels make layers of several GB, and each build keeps its cache): "
                      "remove unused images and build cache, or give Docker's disk more space",
                      doc.line(layer), "docker builder prune --all && docker image prune --all")
        return
    built = _compiling(doc, full or memory)  # (a compiler at work there: a build's, not ours)
    if built is None and not (doc.find(INSTALLING) or (disk and doc.find(r"\binstall", re.I))):
        return  # a program of the user's ran out: not the install
    tool = doc.installer()
    if built is not None:
        yield _build_ran_out(doc, built, full, memory)
        return
    req, size = _what(doc)
    if full is not None:
        yield Finding("resource-exhausted", "error",
                      f"the disk filled up while {tool} downloaded or unpacked {req}{size}: the "
                      "wheel, its unpacked copy in the temp dir and the installer's cache each "
                      "take that much space (a small container disk or a tmpfs /tmp fills "
                      "first); free space, clear the cache and install without it, or point "
                      "TMPDIR at a larger disk", doc.line(full),
                      "conda clean --all --yes" if doc.find(_CONDA) else
                      f"pip cache purge && {_cmd('pipguard', 'install', '--no-cache-dir', req)}")
        return
    assert memory is not None
    cache, crash = doc.find(_CACHE), re.match(PIP_CRASH, memory.group(0))
    why = (f"{tool}'s HTTP cache cannot serialise {req}{size}, a wheel this large (its msgpack "
           "layer holds the whole body in memory); upgrade pip or install without the cache"
           if cache and not re.search(r"Killed|137", memory.group(0)) else
           f"{tool} crashed right after downloading {req}{size}: with a wheel this large that is "
           "memory running out while it caches the whole file (the traceback ends in "
           "MemoryError); install without the cache, or give the machine more memory or swap"
           if crash else
           f"{tool} ran out of memory while downloading or caching {req}{size}: it holds the "
           "whole wheel in memory to write it to its cache, and the kernel's OOM killer stops "
           "it ('Killed', exit 137 in a Docker build); install without the cache, or give the "
           "machine (or Docker) more memory or swap")
    yield Finding("resource-exhausted", "error", why, doc.line(memory),
                  _cmd("pipguard", "install", "--no-cache-dir", req))


def _compiling(doc: Doc, failure: re.Match[str] | None) -> str | None:
    """What was being built from source when a compiler was at work around ``failure`` (since
    the last install that succeeded, a few KB either side: "" where nothing is named), else
    None."""
    if failure is None:
        return None
    done = [s.end() for s in SUCCEEDED.finditer(doc.text, 0, failure.start())]
    start = max(failure.start() - 4000, done[-1] if done else 0)
    if not re.search(_COMPILER, doc.text[start : failure.end() + 2000]):
        return None
    return last_built(doc.text)


def _build_ran_out(doc: Doc, built: str, disk: re.Match[str] | None,
                   memory: re.Match[str] | None) -> Finding:
    """Memory or the disk running out while a package was compiled from source."""
    what = built or "a package"
    again = f" && {_cmd('pipguard', 'install', built)}" if built else ""
    windows = doc.platform() == "win32"
    if disk is not None:
        return Finding("resource-exhausted", "error",
                       f"the disk filled up while {what} was built from source (its build "
                       "tree and objects in the temp dir): free space, or point the temp dir "
                       "at a larger disk", doc.line(disk),
                       ("set TMP=D:\\tmp && set TEMP=D:\\tmp" if windows else
                        "export TMPDIR=$HOME/tmp && mkdir -p $TMPDIR") + again)
    assert memory is not None
    return Finding("resource-exhausted", "error",
                   f"memory ran out while {what} was compiled from source: each parallel "
                   "compile job can take several GB, and the kernel stops the compiler "
                   "('Killed'); build with fewer jobs (MAX_JOBS, which torch's extension builder "
                   "reads), give the machine more memory or swap, or install a prebuilt wheel "
                   "where one exists for this torch", doc.line(memory),
                   ("set MAX_JOBS=2" if windows else "export MAX_JOBS=2") + again)


RULES: tuple[Rule, ...] = (_resource_exhausted,)
