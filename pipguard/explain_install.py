"""``explain`` rules for failures while installing: finding, resolving, downloading.

No matching distribution, resolver conflicts, download integrity, dependency
confusion. The framework (:mod:`pipguard.explain`) orders and merges their findings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from packaging.requirements import Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import Version

from pipguard.explain_common import (
    COMPANIONS,
    FAMILY,
    Rule,
    _ask,
    _cmd,
    _companion_for,
    _Doc,
    _kb_platform,
    _pin,
    _public,
    _req,
    _v,
)
from pipguard.findings import Finding

_PURGE = "pip uninstall -y torch torchvision torchaudio torchtriton && pip cache purge"


def _py_release(which: str, python: str) -> Version | None:
    return _v(_ask(f"{which}_release_for_python", "cp3" + python.split(".")[1]))


def _supported_pythons() -> list[str]:
    """Python versions the newest torch release publishes wheels for."""
    newest = _v(_ask("newest_release"))
    return [p for p in (f"3.{n}" for n in range(7, 20))
            if newest and _py_release("last", p) == newest]


def _dependency_confusion(doc: _Doc) -> Iterator[Finding]:
    if m := doc.find(r"\btorchtriton\b|triton[/\\]runtime[/\\]triton\b|^You are affected\b", re.M):
        yield Finding("dependency-confusion", "error",
                      "torchtriton is the name abused in the Dec 2022 dependency-confusion attack "
                      "(a malicious PyPI copy won over the nightly index via --extra-index-url "
                      "and sent SSH keys and files away on `import triton`): remove it, purge "
                      "the cache, rotate this machine's secrets", doc.line(m), _PURGE)
    m = doc.find(r"extra[-_]index[-_]url[= ]+\S*download(?:-r2)?\.pytorch\.org[^\s'\"]*"
                 r"|Looking in indexes: (?=[^\n]*,)[^\n]*pytorch\.org"  # PyPI as well
                 r"|Looking in links: [^\n]*pytorch\.org"  # -f: merged with PyPI too
                 r"|index-strategy[= ]+unsafe-best-match")  # uv's pip-like merging
    if m and "pytorch.org" in doc.text:
        names = [r.name for w in doc.line(m).split() if (r := _req(w)) and r.name in FAMILY]
        yield Finding("dependency-confusion", "warning",
                      "PyPI is merged with the PyTorch index (--extra-index-url, -f, uv's "
                      "unsafe-best-match): the best version of a name wins from either, so a PyPI "
                      "upload of an index-only name wins (the torchtriton attack) and the CUDA "
                      "variant may silently come from PyPI; use --index-url or pipguard's routing",
                      doc.line(m), _cmd("pipguard", "install", *dict.fromkeys(names or ["torch"])))
    for m in re.finditer(r"https?://(?P<host>[^/\s]+)/\S*?/(?P<file>(?:torch|pytorch_triton)\w*-"
                         r"[^/\s]*\+[^/\s]*\.whl)", doc.text):
        if not m["host"].endswith("pytorch.org"):
            yield Finding("dependency-confusion", "warning",
                          f"{m['file']} is a PyTorch-index build served by {m['host']}: make sure "
                          "that mirror is one you trust", doc.line(m),
                          _cmd("pipguard", "verify", m["file"].split("-")[0]))


def _download_integrity(doc: _Doc) -> Iterator[Finding]:
    hashes = doc.find(r"DO NOT MATCH THE HASHES|Hash mismatch for|Expected sha256")
    broken = doc.find(r"IncompleteRead|Connection broken|ContentTooShort|Read timed out|"
                      r"error decoding response body|request or response body error|"
                      r"BadZipFile|File is not a zip file|Bad magic number|\.whl'? is invalid")
    if not hashes and not (broken and doc.find(r"\.whl\b|Collecting |Downloading |pip")):
        return  # (a timeout elsewhere, e.g. a model download, is not an install problem)
    error_at = min(m.start() for m in (hashes, broken) if m)
    bars = re.findall(r"(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?) ([kMG]B)\b", doc.text[:error_at])
    cut = bars[-1] if bars and float(bars[-1][0]) < float(bars[-1][1]) else None  # stopped short
    src = doc.find(r"([\w.-]+==\S+) from (https?://\S+?\.whl)|Hash mismatch for `([^`]+)`")
    last = re.findall(r"Downloading (?:\S*/)?([A-Za-z]\w*)-(\d[^-\s]*)-\S*\.whl", doc.text)
    req = (_req((src.group(1) or src.group(3)) if src else "")
           or _req("==".join(last[-1]) if last else "torch") or Requirement("torch"))
    got = doc.find(r"Expected(?: sha256)?:?\s+(?:sha256:)?([0-9a-f]{64})\s+\S*?\s*"
                   r"(?:Got|Computed):?\s+(?:sha256:)?([0-9a-f]{64})", re.I | re.S)
    evidence = "\n".join(x for x in (
        doc.line(hashes) if hashes else "", src.group(2) or "" if src else "",
        f"expected sha256 {got[1]}, got {got[2]}" if got else "",
        doc.line(broken) if broken else "") if x)
    refetch = f"pip cache remove {req.name} && {_cmd('pipguard', 'install', str(req))}"
    if cut or (broken and not re.search(r"zip|magic|invalid", broken.group(0), re.I)):
        yield Finding("download-integrity", "error", f"the download of {req.name} was cut off"
                      + (f" at {cut[0]}/{cut[1]} {cut[2]}" if cut else "") + ": pip hashed a "
                      "partial file, so the 'got' hash changes with every attempt; a flaky "
                      "connection or proxy, not tampering: retry on a stable network", evidence,
                      _cmd("pipguard", "install", "--retries", "10", "--timeout", "120", str(req)))
    elif hashes:
        yield Finding("download-integrity", "error",
                      f"the completed download of {req.name} does not match the sha256 published "
                      "for it: either that hash is stale (the version or variant changed) or a "
                      "mirror/proxy altered the file; don't install it until the hash is checked "
                      "against the index", evidence, refetch)
    else:
        yield Finding("download-integrity", "error",
                      f"the {req.name} wheel is not a valid zip: a truncated or corrupt file, "
                      "often left in pip's cache by an interrupted download", evidence, refetch)


@dataclass(frozen=True)
class _Miss:
    """What a no-match failure says: the requirement, the versions offered, the tag missed."""

    req: Requirement
    versions: list[Version] | None  # None: the tool did not list them
    tag: str | None  # uv: the interpreter or platform tag no wheel matched
    py: str | None  # "3.12"
    bound: bool = False  # versions is only uv's "only X<=V is available", not a listing

    @property
    def name(self) -> str:
        return canonicalize_name(self.req.name)

    @property
    def pins(self) -> list[Version]:
        return [v for s in self.req.specifier if s.operator in ("==", "===")
                and (v := _v(s.version))]

    @property
    def want(self) -> Version | None:
        """The lowest version the requirement asks for (its pin or lower bound)."""
        lows = [v for s in self.req.specifier if s.operator in ("==", "===", ">=", ">", "~=")
                and (v := _v(s.version.removesuffix(".*")))]
        return max(lows) if lows else None


Why = tuple[str, str] | None  # (message, fix), or None: this case does not apply


def _miss_name(doc: _Doc, x: _Miss) -> Why:
    if x.name == "pytorch":
        return "the PyPI project 'pytorch' is a placeholder; PyTorch is 'torch'", _cmd(
            "pipguard", "install", "torch", *map(str, x.req.specifier))
    if x.name in ("triton", "pytorch-triton") and doc.platform() == "win32" and not x.versions:
        return (f"{x.name} publishes Linux wheels only; torch on Windows does not need it",
                "pipguard install torch")
    return None


def _miss_python(doc: _Doc, x: _Miss) -> Why:
    """pip said outright that the matching release needs another Python."""
    fits = [(pv, rp.strip()) for v, rp in re.findall(r"(\d[\w.+]*) Requires-Python ([^;\n]+)",
            doc.text) if (pv := _v(v)) and x.req.specifier.contains(pv, prereleases=True)]
    other, py = doc.find(r"requires a different Python: (\S+) not in '([^']+)'"), x.py
    hit = (str(max(fits)[0]), max(fits)[1]) if fits else None
    if not hit and other:
        hit, py = (str(x.want or ""), other.group(2)), other.group(1)
    if not hit:
        return None
    low = re.search(r">=?\s*3\.(\d+)", hit[1])
    return (f"{x.name} {hit[0]}".strip() + f" requires Python {hit[1]}"
            + (f"; this is Python {py}" if py else ""),
            _cmd("pipguard", "--python", f"python3.{low.group(1)}", "install", str(x.req))
            if low else _cmd("pipguard", "plan", x.name))


def _miss_label(doc: _Doc, x: _Miss) -> Why:
    """``torch==1.8.0+cu102``: a local label that was never published, or not on this index."""
    local, vs = next((p for p in x.pins if p.local), None), x.versions
    if local is None or x.tag or x.bound or (vs and not any(v.public == local.public for v in vs)
                                  and any(v.local for v in vs)):
        return None  # (a release missing altogether is a Python/platform matter: see below)
    plain = f"{x.name}=={local.public}"
    if vs is None:
        return (f"no {x.name} {local} on the indexes searched: that label was never published "
                f"for {local.public}, or download.pytorch.org/whl/{local.local} was not "
                "searched, or it has no wheel for this Python/platform",
                _cmd("pipguard", "install", plain))
    if not any(v.local for v in vs):
        return (f"{x.name} {local}: this index has no +local builds (PyPI strips them); the "
                f"{local.local} build lives on download.pytorch.org/whl/{local.local}",
                _cmd("pipguard", "install", "--torch-backend", str(local.local), plain))
    exist = sorted({f"+{v.local}" for v in vs if v.public == local.public and v.local}) + [
        f"{v} (untagged)" for v in vs if v == Version(local.public)]
    return (f"{x.name} {local} does not exist: no build of {local.public} was ever published "
            f"with the +{local.local} label (builds of {local.public} that do exist: "
            f"{', '.join(exist) or 'none on this index'})", _cmd("pipguard", "install", plain))


def _miss_index(doc: _Doc, x: _Miss) -> Why:
    """The PyTorch index searched has no such variant, or none for that release."""
    m = doc.find(r"download(?:-r2)?\.pytorch\.org/whl/(?:nightly/|test/)?(cu\d+|rocm[\d.]*\d|"
                 r"cpu|xpu)\b")
    known = _ask("known_variants")
    if not m or not known or x.name != "torch":
        return None
    if (variant := m.group(1)) not in known:
        return (f"there is no {variant} variant on download.pytorch.org, so that index is empty; "
                f"the variants are {', '.join(v for v in known if v[:2] == variant[:2])}",
                _cmd("pipguard", "install", str(x.req)))
    has = _ask("variants_for", Version(x.want.public), _kb_platform(doc)) if x.want else None
    if has and variant not in has:
        return (f"torch {x.want} was not built for {variant} (it comes as {', '.join(has)})",
                _cmd("pipguard", "install", str(x.req)))
    return None


def _miss_tag(doc: _Doc, x: _Miss) -> Why:
    """uv: the release exists, but no wheel matches this interpreter's tags."""
    if not x.tag:
        return None
    if "macosx" in x.tag and "x86_64" in x.tag:
        last = _v(_ask("last_release_for_platform", "macos_x86_64"))
        return (f"{x.name} {x.want or ''} has no Intel-macOS wheel: PyTorch's macOS x86_64 builds "
                f"ended with torch {last or '2.2'}",
                _cmd("pipguard", "install", f"{x.name}<={last or '2.2.2'}", "numpy<2"))
    first = _py_release("first", x.py) if x.py and x.tag.startswith("cp") else None
    if first and x.pins and x.pins[0] < first:
        return (f"{x.name} {x.pins[0]} has no wheels for Python {x.py}: the first release that "
                f"has is {first}", _cmd("pipguard", "install", f"{x.name}>={first}"))
    offered = doc.find(r"(?:Python ABI tags|following platforms): ([^\n]+)")
    return (f"{x.name} {x.want or ''} has no wheel for {x.tag}"
            + (f" (Python {x.py})" if x.py and x.tag.startswith("cp") else "")
            + (f"; it has wheels for {offered.group(1).replace('`', '')}" if offered else ""),
            _cmd("pipguard", "plan", x.name))


def _miss_everything(doc: _Doc, x: _Miss) -> Why:
    """``from versions: none``: no file at all fits this interpreter."""
    if x.versions:
        return None
    first = _py_release("first", x.py) if x.py else None
    if x.py and x.pins and first and x.pins[0] < first:
        return (f"{x.name} {x.pins[0]} has no wheels for Python {x.py}: the first release that "
                f"has is {first}", _cmd("pipguard", "install", f"{x.name}>={first}"))
    supported = _supported_pythons() if x.name in FAMILY else []
    if x.py and supported and x.py not in supported:
        last = _py_release("last", x.py)
        return (f"{x.name} publishes no wheels for Python {x.py}"
                + (f": the last release for it is {last}" if last else "") + "; current "
                f"releases support Python {supported[0]}–{supported[-1]}",
                _cmd("pipguard", "--python", f"python{supported[-1]}", "install", str(x.req)))
    if (doc.machine() or "").lower() in ("x86", "i386", "i686", "win32", "armv7l"):
        return (f"{x.name} has no wheels for a 32-bit {doc.machine()} Python: use a 64-bit Python",
                _cmd("pipguard", "plan", x.name))
    return (f"no {x.name} distribution fits this interpreter/platform"
            + (f" (Python {x.py})" if x.py else "") + " at all: usually a Python version it has "
            "no wheels for, a 32-bit Python, an unsupported platform (Intel macOS after torch "
            "2.2), a misspelt name or a missing index", _cmd("pipguard", "plan", x.name)
            if x.name in FAMILY else f"pip index versions {x.name}")


def _miss_listed(doc: _Doc, x: _Miss) -> Why:
    """The index listed versions, none of which fits: reason from where the list ends."""
    vs, want, name, py, pin = x.versions or [], x.want, x.name, x.py, next(iter(x.pins), None)
    vmin, vmax = Version(min(vs).public), Version(max(vs).public)
    on_py = f" for Python {py}" if py else ""
    as_torch = vmax if name == "torch" else _v(_ask("torch_for_companion", name, vmax))
    if want is not None and want > vmax:
        mac_last = _v(_ask("last_release_for_platform", "macos_x86_64"))
        if as_torch and as_torch == mac_last:  # the signature of an Intel Mac
            sure = doc.platform() in (None, "darwin") and doc.machine() in (None, "x86_64")
            numpy = ["numpy<2"] if _ask("numpy2_compatible", as_torch, "darwin") is False else []
            return (("" if sure else f"this list stops at {vmax}, the last release with Intel "
                     "macOS wheels; if this is an Intel Mac: ") + f"{name} {want} has no "
                    f"Intel-Mac (macOS x86_64) wheels, as PyTorch's Intel macOS builds ended with "
                    f"torch {mac_last}; stay on {name} {vmax}" + (" with numpy<2" if numpy else "")
                    + ", use conda-forge, or Apple-Silicon/Linux",
                    _cmd("pipguard", "install", f"{name}=={vmax}", *numpy))
        olds = [p for p in ([py] if py else [f"3.{n}" for n in range(6, 12)])
                if as_torch and _py_release("last", p) == as_torch]
        return ((f"{name} {want} needs a newer Python: {vmax} is the last release with wheels "
                 f"for Python {olds[0]}") if olds else (f"the newest {name} here{on_py} is "
                f"{vmax}: {want} is not published for this platform/Python, or not on this index "
                "(yet)"), _cmd("pipguard", "install", f"{name}=={vmax}"))
    if pin and pin < vmin:
        first = _py_release("first", py) if py else None
        tag = f"cp3{py.split('.')[1]}" if py else ""
        tags = _ask("python_tags", pin, _kb_platform(doc)) if py and name == "torch" else None
        why = (f"Python {py} is too new for it: the first {name} with Python {py} wheels is "
               f"{first}" if first and first == vmin else f"{name} {pin.public} has no {tag} "
               "wheels on this platform" if tags and tag not in tags else
               f"the oldest {name} here is {vmin}")
        return (f"{name} {pin} is not available{on_py}: {why}",
                _cmd("pipguard", "install", f"{name}>={vmin}"))
    if pin:
        lower = [v for v in vs if v < pin and not v.local]
        near = max([v for v in lower if v.release[:2] == pin.release[:2]] or lower or vs)
        return (f"{name} {pin} was never released (nearest available: {near})",
                _cmd("pipguard", "install", f"{name}=={near.public}"))
    return (f"no {name} release matches {x.req.specifier or 'the request'}{on_py} (available: "
            f"{vmin} … {vmax})", _cmd("pipguard", "install", name))


_MISS_CASES = (_miss_name, _miss_python, _miss_label, _miss_index, _miss_tag, _miss_everything,
               _miss_listed)


def _unsupported_wheel(doc: _Doc, m: re.Match[str]) -> Finding:
    try:
        name, version, _, tags = parse_wheel_filename(m.group(1).split("/")[-1])
    except InvalidWheelFilename:
        name, version, tags = canonicalize_name("torch"), None, frozenset()
    built = sorted({f"{t.interpreter}-{t.platform}" for t in tags})
    py = doc.python()
    return Finding("no-matching-distribution", "error",
                   f"{m.group(1)} is built for {', '.join(built) or 'another target'}, which this "
                   f"interpreter{f' (Python {py})' if py else ''} cannot use: take the file for "
                   "this Python and platform", doc.line(m),
                   _cmd("pipguard", "install", _pin(name, version.public if version else None)))


def _no_matching_distribution(doc: _Doc) -> Iterator[Finding]:
    tag, versions, bound = None, None, False
    if m := doc.near("is not a supported wheel", r"(\S+\.whl) is not a supported wheel"):
        yield _unsupported_wheel(doc, m)
        return
    if m := doc.find(r"satisfies the requirement ([^\n]+?) \(from versions: ?([^)]*)\)"):
        req = _req(m.group(1))
        versions = [v for t in re.split(r"[,\s]+", m.group(2)) if t != "none" and (v := _v(t))
                    and not (req and req.name == "torch" and v.release[:2] == (0, 1))]
    elif m := doc.near("there is no version of|was not found in the|has no wheels with|can't be "
                       "installed", r"there is no version of (\S+)|(\S+) was not found in the "
                       r"(?:package registry|provided package locations)|(\S+) has no wheels "
                       r"with a matching [\w ]*?tag(?: \(e\.g\., `([^`]+)`\))?|Distribution "
                       r"`(\S+) @ [^`]*` can't be installed"):
        req, tag = _req(next(g for g in m.groups() if g)), m.group(4)
        if m.group(5):  # uv's hint names the interpreter's tag
            hint = doc.find(r"You're using \w+ [\d.]+ \(`([^`]+)`\)|following platforms")
            tag = (hint.group(1) or "this platform") if hint else "this interpreter"
    elif m := doc.find(r"only ([A-Za-z][\w.-]*)(\S*?) is available"):  # uv: the newest there
        need = doc.find(rf"(?:you require|depends on) ({re.escape(m.group(1))}[<>=!~][^\s,]+)")
        req, bound = _req(need.group(1) if need else m.group(1)), True
        versions = [v for s in (_req(m.group(1) + m.group(2)) or Requirement("x")).specifier
                    if (v := _v(s.version))]
    elif m := doc.find(r"Unable to find installation candidates for ([\w.-]+) \(([^)\s]+)\)"):
        req = _req(f"{m.group(1)}=={m.group(2)}")  # poetry
    elif m := doc.find(r"No matching distribution found for ([^\n]+)|You tried to install "
                       r"\"(pytorch)\"|Package '([\w.-]+)' requires a different Python"):
        req, versions = _req(m.group(1) or m.group(2) or m.group(3)), [] if m.group(1) else None
    else:
        return
    py = f"3.{tag[3:].rstrip('t')}" if tag and re.fullmatch(r"cp3\d+t?", tag) else doc.python()
    miss = _Miss(req, versions, tag, py, bound) if req else None
    message, fix = next((why for case in _MISS_CASES if miss and (why := case(doc, miss))),
                        ("the resolver found no distribution for the request", "pipguard plan"))
    yield Finding("no-matching-distribution", "error", message, doc.line(m), fix)


def _resolver_conflict(doc: _Doc) -> Iterator[Finding]:
    hard = doc.find(r"ResolutionImpossible|conflicting dependencies|The conflict is caused by|"
                    r"No solution found when resolving")
    broken = list(doc.near_all("which is incompatible", r"([\w.-]+) (\S+) (?:requires|has "
                  r"requirement) ([^,\n]+), but you(?: have|'ll have) ([\w.-]+) (\S+) which is "
                  r"incompatible"))
    if broken and not hard:  # pip installed anyway: the environment is now inconsistent
        pkgs = {m.group(1): m for m in broken if canonicalize_name(m.group(4)) == "torch"
                and canonicalize_name(m.group(1)) in COMPANIONS}
        if not pkgs:
            pkg, ver, need, hname, hver = broken[0].groups()
            yield Finding("resolver-conflict", "warning", f"{pkg} {ver} requires {need}, but "
                          f"{hname} {hver} is installed", doc.line(broken[0]),
                          _cmd("pipguard", "install", need.strip()))
            return
        hver = _public(next(iter(pkgs.values())).group(5))
        pairs = {pkg: _companion_for(hver, pkg) for pkg in pkgs}
        yield Finding("resolver-conflict", "error",
                      "; ".join(f"{p} {m.group(2)} requires {m.group(3)}" for p, m in pkgs.items())
                      + f", but torch {hver} is installed: the pair is broken (expect 'operator "
                      "... does not exist' or undefined symbols)" + "".join(
                          f"; torch {hver} pairs with {p} {v}" for p, v in pairs.items() if v),
                      "\n".join(doc.line(m) for m in pkgs.values()),
                      _cmd("pipguard", "install", f"torch=={hver}",
                           *(_pin(p, v) for p, v in pairs.items())))
        return
    if not hard:
        return
    user = {canonicalize_name(r.name): r for m in re.finditer(
        r"(?:The user requested (?:\(constraint\) )?|you require |your project depends on )"
        r"([^\s,]+)", doc.text) if (r := _req(m.group(1)))}
    deps = [(m, r) for m in re.finditer(
        r"(?<![\w.-])(?P<pkg>[A-Za-z][\w.-]*?)(?: (?P<ver>\d\S*)|(?P<spec>[<>=!~]\S*?))? depends "
        r"on (?P<req>[^\s,]+)", doc.text) if m["pkg"] not in ("project", "you")
        and (r := _req(m["req"]))]

    def pin_of(r: Requirement) -> str | None:
        return next((s.version for s in r.specifier if s.operator in ("==", "===")), None)

    for m, need in deps:  # a dependency's requirement against what the user asked for
        if not (mine := user.get(canonicalize_name(need.name))):
            continue
        pin, their = pin_of(mine), pin_of(need)
        if not ((pin and not need.specifier.contains(pin, prereleases=True))
                or (their and not mine.specifier.contains(their, prereleases=True))):
            continue
        pkg = m["pkg"]
        ver = m["ver"] or (m["spec"] or "").removeprefix("==")
        if canonicalize_name(need.name) == "torch" and canonicalize_name(pkg) in COMPANIONS:
            partner = _companion_for(pin, pkg) if pin else None
            yield Finding("resolver-conflict", "error",
                          f"{pkg} {ver} pins {need} but {mine} was requested: each {pkg} "
                          "release is built for exactly one torch release"
                          + (f"; torch {pin} pairs with {pkg} {partner}" if partner else "")
                          + f" (or keep {pkg} {ver} with {need})", doc.line(m),
                          _cmd("pipguard", "install", str(mine), _pin(pkg, partner)))
        else:
            yield Finding("resolver-conflict", "error",
                          f"{pkg} {ver} requires {need} but {mine} was requested", doc.line(m),
                          _cmd("pipguard", "install", str(mine), canonicalize_name(pkg)))
        return
    if doc.find(r"only \S+ is available|there is no version of"):
        return  # nothing conflicts: a release is missing (no-matching-distribution says why)
    clauses = [f"{m['pkg']}{' ' + m['ver'] if m['ver'] else m['spec'] or ''} needs {r}"
               for m, r in deps]
    names: list[str] = [*user, *(canonicalize_name(m["pkg"]) for m, _ in deps)]
    yield Finding("resolver-conflict", "error", "the requested pins cannot all hold"
                  + (": " + "; ".join(clauses[:6]) if clauses else ""), doc.line(hard),
                  _cmd("pipguard", "install", *dict.fromkeys(names or ["torch"])))


# In the framework's order (see pipguard.explain.RULES): causes before their symptoms.
RULES: tuple[Rule, ...] = (
    _dependency_confusion, _download_integrity, _no_matching_distribution, _resolver_conflict,
)
