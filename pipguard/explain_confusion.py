"""``explain`` rules for dependency confusion: a package from the wrong project or index.

A requirement naming a placeholder (`pytorch` on PyPI), a same-named project on PyPI imported
in place of the one meant (apex, whisper, clip), the torchtriton attack, an index serving
another project's upload under a name, PyPI merged with the PyTorch index, and uv taking a
common package from the PyTorch index. The framework (:mod:`pipguard.explain`) reads these
first: the wrong project explains whatever failed after it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from packaging.utils import canonicalize_name

from pipguard.explain_doc import Doc, Rule, _cmd, _req
from pipguard.findings import Finding

_PURGE = "pip uninstall -y torch torchvision torchaudio torchtriton && pip cache purge"

# Projects a torch user means whose name on PyPI is another project's, by what the other one
# does when imported in their place: (signal, PyPI name, the project meant, what to install).
_LOOKALIKES = (
    # PyPI's apex is a Pyramid add-on; NVIDIA's apex is built from its repository
    (r"cannot import name 'UnencryptedCookieSessionFactoryConfig' from 'pyramid\.session'|"
     r"apex[/\\]__init__\.py\S*, line \d+, in <module>\s+from pyramid\.",
     "apex", "NVIDIA's apex", "git+https://github.com/NVIDIA/apex.git"),
    # PyPI's whisper is Graphite's database; OpenAI's is openai-whisper
    (r"module 'whisper' has no attribute '(?:load_model|transcribe|load_audio|"
     r"DecodingOptions)'", "whisper", "OpenAI's whisper", "openai-whisper"),
    # PyPI's clip is a command-line tool; OpenAI's CLIP is installed from its repository
    (r"module 'clip' has no attribute '(?:load|tokenize|available_models)'", "clip",
     "OpenAI's CLIP", "git+https://github.com/openai/CLIP.git"),
)


# A file on the PyTorch index refused (403, 404), said before or after its URL: the
# package's name from the file's name.
_WHL_THERE = (r"download(?:-r2)?\.pytorch\.org/whl/(?:[\w.-]+/){0,3}([A-Za-z][\w.]*?)-\d[^\s/)]*"
              r"\.whl")
_REFUSED = (r"HTTP error (?:403|404)\b|HTTP status client error \((?:403|404)|\b(?:403|404)[ \t]"
            r"(?:Client Error|Forbidden|Not Found)\b")
_REFUSED_THERE = (rf"(?:{_REFUSED})[^\n]{{0,200}}?{_WHL_THERE}|{_WHL_THERE}[^\n]{{0,120}}?"
                  rf"(?:{_REFUSED})")


def _conda_package(doc: Doc) -> bool:
    """torchtriton in conda's words only: the pytorch channel's own triton package, in an
    environment file, a plan, a ``conda list`` row or a solver's message, with no sign of pip
    (or uv) in the text. The attack was a PyPI upload that pip installed; its own traces (the
    official check's "You are affected", the malicious binary's path) are read regardless."""
    conda = doc.find(r"\b(?:conda|mamba)\b(?![=<>])|::torchtriton\b|Solving environment|current "
                     r"channels|packages in environment at|^channels:|The following packages are "
                     r"incompatible|Could not solve for environment specs|Encountered problems "
                     r"while solving|^[ \t]*- torchtriton=|^[ \t]*(?:\+[ \t]*)?torchtriton[ \t]+\d"
                     r"[\w.+]*[ \t]+(?!pypi)\S+[ \t]+\S+|\b(?:linux|osx|win)-(?:64|aarch64|arm64|"
                     r"ppc64le)\b", re.I | re.M)
    # pip's own actions and rows (a conda list's pypi_0 row is pip's), not pip as a package
    pip = doc.find(r"\bpip3? (?:install|download|check|show|freeze|list)\b|\bpip's\b|\.whl\b|"
                   r"Collecting (?!package metadata)|Successfully installed|Requirement already "
                   r"satisfied|--(?:extra-)?index-url|\bpypi_0\b|^[ \t]*- pip:|\buv (?:pip|add|"
                   r"sync)\b|^Name: torchtriton|^torchtriton(?:==|[ \t]+\d\S*[ \t]+(?:requires|has "
                   r"requirement))", re.I | re.M)
    return bool(conda) and not pip


def _spelt_otherwise(doc: Doc, m: re.Match[str], asked: str, got: str) -> Finding:
    """One project spelt two ways ('typing-extensions', 'typing_extensions'), which a pip
    that compares names as written discards; it may then take another file of it."""
    went_on = re.search(r"Successfully installed[^\n]*?(?<![\w-])" + "[-_.]".join(
        map(re.escape, re.split(r"[-_.]+", asked))) + r"-\d", doc.text[m.end():], re.I)
    return Finding("no-matching-distribution", "warning" if went_on else "error",
                   f"pip discarded the file of {asked} because its metadata spells the name "
                   f"{got!r}: it is the same project, but this pip compares names as written "
                   "(newer pips normalise them, as the index does): upgrade pip"
                   + ("" if went_on else ", then install again"), doc.line(m),
                   "python -m pip install --upgrade pip")


def dependency_confusion(doc: Doc) -> Iterator[Finding]:
    if m := doc.find(r"`([\w.-]+)` is often confused for `([\w.-]+)`"):  # uv's hint
        yield Finding("dependency-confusion", "error",
                      f"{m.group(1)} on PyPI is a placeholder, not the project meant: the "
                      f"requirement names the wrong project; write {m.group(2)} instead",
                      doc.line(m), _cmd("pipguard", "install", m.group(2)))
    if m := doc.find(r"has inconsistent name: expected '([\w.-]+)', but metadata has '([\w.-]+)'|"
                     r"Requested ([\w.-]+) from \S+ has different name in metadata: '([\w.-]+)'|"
                     r"dependency name for ([\w.-]+) does not match the actual package's name: "
                     r"([\w.-]+)"):  # pip (old and new), Poetry: the file is another project's
        asked, got = [g for g in m.groups() if g][:2]
        if canonicalize_name(asked) != canonicalize_name(got):
            yield Finding("dependency-confusion", "error",
                          f"the file served as {asked} is the project {got}: the index (a "
                          "mirror, an extra index) serves another project's upload under this "
                          f"name; take {asked} from the index that publishes it", doc.line(m),
                          _cmd("pipguard", "install", "--force-reinstall", asked))
        elif not m.group(5):  # (Poetry's wording for one project: no other's upload either)
            yield _spelt_otherwise(doc, m, asked, got)
    if m := doc.find(r"You tried to install \"pytorch\"|package named for PyTorch is \"torch\"|"
                     r"(?:satisfies the requirement|distribution found for) pytorch(?![\w.-])|"
                     r"You should install pytorch from http"):
        yield Finding("dependency-confusion", "error",
                      "`pytorch` on PyPI is a placeholder that only raises this error (conda "
                      "calls the package pytorch; pip and PyPI call it torch): a requirement "
                      "names the wrong project; write `torch` instead", doc.line(m),
                      _cmd("pipguard", "install", "torch"))
    for signal, wrong, meant, right in _LOOKALIKES:
        if m := doc.find(signal):
            yield Finding("dependency-confusion", "error",
                          f"the `{wrong}` installed is an unrelated project of that name on PyPI, "
                          f"not {meant}: remove it and install {meant}", doc.line(m),
                          f"pip uninstall -y {wrong} && " + _cmd("pipguard", "install", right))
            break
    trace = doc.find(r"triton[/\\]runtime[/\\]triton\b|^You are affected\b", re.M)
    bare = doc.find(r"\btorchtriton\b")
    if m := trace or (bare if bare and not _conda_package(doc) else None):
        yield Finding("dependency-confusion", "error",
                      "torchtriton is the name abused in the Dec 2022 dependency-confusion attack "
                      "(a malicious PyPI copy won over the nightly index via --extra-index-url "
                      "and sent SSH keys and files away on `import triton`): remove it, purge "
                      "the cache, rotate this machine's secrets", doc.line(m), _PURGE)
    if (m := doc.find(r"`([\w.-]+)` was found on (\S*pytorch\.org\S*?),?\s+but\s+not\s+at\s+the\s+"
                      r"requested|Distribution `([\w.-]+)==\S+\s@\sregistry\+(\S*pytorch\.org"
                      r"[^`]*)`")) and canonicalize_name(name := m[1] or m[3]) not in \
            doc.facts.family():
        # uv takes each package from the first index that has it: the PyTorch index's own,
        # older or partial, copies of common packages then stand in for PyPI's.
        backend = re.search(r"/whl/(?:nightly/)?(\w+)", m[2] or m[4])
        yield Finding("dependency-confusion", "error",
                      f"{name} was taken from the PyTorch index ({m[2] or m[4]}), which serves its "
                      f"own older or partial copy of {name} that stands in for PyPI's (uv stops at "
                      "the first index that has a package): send only the torch family to that "
                      "index (uv's --torch-backend; in a project an index marked explicit = true "
                      "with [tool.uv.sources] for torch)", doc.line(m),
                      _cmd("pipguard", "install", *(("--torch-backend", backend[1]) if backend
                                                    else ()), "torch"))
    elif (m := doc.find(r"there is no version of ([\w.-]+)==(\d[\w.!*]*)(?![\w.+])")) and \
            doc.facts.index_mirrored(name := canonicalize_name(m[1])) and \
            name not in doc.facts.family() and doc.find(r"download(?:-r2)?\.pytorch\.org/whl|"
                                                        r"torch-backend"):
        # uv before its hint named the index: no version at all of an exact pin of a package
        # that the PyTorch index also serves (its own copies, often older), with that index in
        # sight, is that index standing in for PyPI (without it: a release that does not exist)
        yield Finding("dependency-confusion", "error",
                      f"uv found no {name} {m[2]} on any index: the PyTorch index serves its own, "
                      f"often older, copies of {name}, and uv takes a package from the first index "
                      "that has it, so where that index is configured PyPI's releases are never "
                      "seen: send only the torch family to that index (uv's --torch-backend; in a "
                      "project an index marked explicit = true with [tool.uv.sources] for torch)",
                      doc.line(m), _cmd("pipguard", "install", "torch"))
    elif (m := doc.find(_REFUSED_THERE)) and (name := canonicalize_name(
            m[1] or m[2])) not in doc.facts.family() and not name.startswith("nvidia-"):
        # a common package's file taken from the PyTorch index, which refuses it (its copies of
        # other projects' files are partial: 403 for those it does not serve)
        yield Finding("dependency-confusion", "error",
                      f"{name} was fetched from the PyTorch index, which lists it but refuses "
                      "its file (the index keeps partial copies of common packages for torch's "
                      "own dependencies): take it from PyPI, and send only the torch family to "
                      "the PyTorch index", doc.line(m), _cmd("pipguard", "install", "torch"))
    m = doc.find(r"extra[-_]index[-_]url[= ]+\S*download(?:-r2)?\.pytorch\.org[^\s'\"]*"
                 r"|Looking in indexes: (?=[^\n]*,)[^\n]*pytorch\.org"  # PyPI as well
                 r"|Looking in links: [^\n]*pytorch\.org"  # -f: merged with PyPI too
                 r"|(?<!\S)(?:-f|--find-links)[= ]+\S*pytorch\.org\S*"
                 r"|index-strategy[= ]+unsafe-best-match")  # uv's pip-like merging
    if m and "pytorch.org" in doc.text:
        family = doc.facts.family()
        names = [r.name for w in doc.line(m).split()
                 if (r := _req(w)) and canonicalize_name(r.name) in family]
        yield Finding("dependency-confusion", "warning",
                      "PyPI is merged with the PyTorch index (--extra-index-url, -f, uv's "
                      "unsafe-best-match): the best version of a name wins from either, so a PyPI "
                      "upload of an index-only name wins (the torchtriton attack) and the CUDA "
                      "variant may silently come from PyPI; use --index-url or pipguard's routing",
                      doc.line(m), _cmd("pipguard", "install", *dict.fromkeys(names or ["torch"])))
    if (m := doc.find(r"register\w*[^\n.]{0,80}?\bon PyPI|names? (?:that )?(?:exists?|are) only "
                      r"on the (?:PyTorch|nightly)|(?:compromised|malicious)[^\n]{0,120}?"
                      r"(?:nightly|dependency)|nightly[^\n]{0,120}?(?:compromised|malicious)")) \
            and doc.find(r"pytorch|nightly"):
        yield Finding("dependency-confusion", "warning",
                      "a name that only the PyTorch index serves is free on PyPI: whoever "
                      "registers it there wins every install that merges PyPI with that index "
                      "(the torchtriton attack); install from one index per package",
                      doc.line(m), _cmd("pipguard", "install", "torch"))
    for m in re.finditer(r"https?://(?P<host>[^/\s]+)/\S*?/(?P<file>(?:torch|pytorch_triton)\w*-"
                         r"[^/\s]*\+[^/\s]*\.whl)", doc.text):
        if not m["host"].endswith("pytorch.org"):
            yield Finding("dependency-confusion", "warning",
                          f"{m['file']} is a PyTorch-index build served by {m['host']}: make sure "
                          "that mirror is one you trust", doc.line(m),
                          _cmd("pipguard", "verify", m["file"].split("-")[0]))


RULES: tuple[Rule, ...] = (dependency_confusion,)
