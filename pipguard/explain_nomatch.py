"""The ``explain`` rule for "no matching distribution": why no file fits the request.

pip's ``from versions: ...``, uv's "there is no version of" and "has no wheels with a
matching tag", Poetry's "Unable to find installation candidates", conda's and mamba's
"nothing provides": each case below reads what the tool listed (versions, tags, Python) and
asks the tables why none fits. A build the interpreter or machine refuses is
:mod:`pipguard.explain_target` (a wheel file refused outright, too); the framework
(:mod:`pipguard.explain`) orders them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from pipguard.explain_doc import Doc, _cmd, _req, _spec, _v, uv_conflict
from pipguard.explain_phrases import OFFLINE, PROXY_REFUSED, UNTRUSTED_TLS, UV_PYTHON_DERIVATION
from pipguard.findings import Finding


def _py_release(doc: Doc, which: str, python: str) -> Version | None:
    """The ``first`` or ``last`` release with wheels for ``python`` (``"3.11"``)."""
    tag, facts = "cp3" + python.split(".")[1], doc.facts
    return (facts.first_release_for_python if which == "first"
            else facts.last_release_for_python)(tag)


def _supported_pythons(doc: Doc) -> list[str]:
    """Python versions the newest torch release publishes wheels for."""
    newest = doc.newest_release()
    return [p for p in (f"3.{n}" for n in range(7, 20))
            if newest and _py_release(doc, "last", p) == newest]

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


def _miss_unreachable(doc: Doc, x: _Miss) -> Why:
    """No versions at all, after pip failed to reach the index (a certificate it does not
    trust, a proxy, no network): the index was never read, and the empty list that follows
    pip's retries and skips is the network's doing, not the release's."""
    if x.versions or doc.installer() != "pip" or (doc.find(r"Looking in indexes: [^\n,]*,") and not
            doc.find(rf"(?:Could not fetch URL|Retrying)[^\n]*?/simple/{re.escape(x.name)}/")):
        return None  # (another index may have answered, unless the one refused was its page)
    if doc.find(UNTRUSTED_TLS):
        return ("pip never read the index: it does not trust the certificate the index (or a "
                "company proxy that re-signs TLS) presents, so it saw no versions at all; point "
                "pip at the CA that signs it (global.cert in pip's configuration, or PIP_CERT), "
                "then run the install again", "pip config set global.cert /path/to/ca-bundle.pem")
    if doc.find(PROXY_REFUSED):
        return ("pip never read the index: it could not get through the proxy (a 407 wants "
                "credentials), so it saw no versions at all; set the proxy pip uses (global.proxy, "
                "or HTTPS_PROXY), then run the install again",
                "pip config set global.proxy http://PROXY:PORT")
    if doc.find(OFFLINE):
        return ("pip never read the index: it could not connect (no network, a name that does "
                "not resolve, a firewall), so it saw no versions at all; check the index URL and "
                "the network, or use a reachable mirror (global.index-url)",
                _cmd("pipguard", "install", "--retries", "10", "--timeout", "120", x.name))
    return None


def _miss_name(doc: Doc, x: _Miss) -> Why:
    if x.name == "pytorch":
        return "the PyPI project 'pytorch' is a placeholder; PyTorch is 'torch'", _cmd(
            "pipguard", "install", f"torch{x.req.specifier}")
    if x.name in ("triton", "pytorch-triton") and doc.platform() == "win32" and not x.versions:
        return (f"{x.name} publishes Linux wheels only; torch on Windows does not need it",
                "pipguard install torch")
    return None


# uv: this interpreter (or --python-version's) outside a package's range (explain_target: a range)
_UV_PYTHON = (r"(?:current|requested(?=\s+Python\s+version\s+\(\d))\s+Python\s+version\s+\("
              r"(?P<py>[^)]{1,40})" + UV_PYTHON_DERIVATION)


def _miss_python(doc: Doc, x: _Miss) -> Why:
    """pip (or uv's derivation) said outright that the matching release needs another Python."""
    fits = [(pv, rp.strip()) for v, rp in re.findall(r"(?<![\w.+])(\d[\w.+]{0,60}) Requires-"
            r"Python ([^;\n]+)", doc.text) if (pv := _v(v)) and x.req.specifier.contains(pv, True)]
    other, uv, py = doc.find(r"requires a different Python: (\S+) not in '([^']+)'"), \
        doc.find(_UV_PYTHON), x.py
    hit = (str(max(fits)[0]), max(fits)[1]) if fits else None
    if not hit and (said := other or uv):
        hit, py = (str(x.want or ""), said[2] if other else said["need"]), said[1]
    if not hit:
        return None
    dep, spec = _req(uv["dep"]) if uv else None, _spec(hit[1])
    via = f" (through {dep})" if dep and canonicalize_name(dep.name) != x.name else ""
    ok = [n for n in range(6, 20) if spec and spec.contains(f"3.{n}")]
    now = v.minor if (v := _v(py)) else None  # (the nearest Python in range; else the lowest)
    pick = min(ok, key=lambda n: abs(n - now)) if ok and now else ok[0] if ok else None
    return (f"{x.name} {hit[0]}".strip() + f"{via} requires Python {hit[1]}"
            + (f"; this is Python {py}" if py else ""),
            _cmd(*(("uv", "tool", "install", "--python", f"3.{pick}") if doc.find(r"\buv tool "
                   r"install\b") else ("pipguard", "--python", f"python3.{pick}", "install")),
                 str(x.req)) if pick else _cmd("pipguard", "plan", x.name))


def _miss_label(doc: Doc, x: _Miss) -> Why:
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


def _miss_index(doc: Doc, x: _Miss) -> Why:
    """The PyTorch index searched has no such variant, or none for that release."""
    m = doc.find(r"download(?:-r2)?\.pytorch\.org/whl/(?:nightly/|test/)?(cu\d+|rocm[\d.]*\d|"
                 r"cpu|xpu)\b")
    known = doc.facts.known_variants()
    if not m or not known or x.name != "torch":
        return None
    if (variant := m.group(1)) not in known:
        return (f"there is no {variant} variant on download.pytorch.org, so that index is empty; "
                f"the variants are {', '.join(v for v in known if v[:2] == variant[:2])}",
                _cmd("pipguard", "install", str(x.req)))
    has = doc.facts.variants_for(Version(x.want.public), doc.kb_platform()) if x.want else None
    if has and variant not in has:
        return (f"torch {x.want} was not built for {variant} (it comes as {', '.join(has)})",
                _cmd("pipguard", "install", str(x.req)))
    return None


def _miss_tag(doc: Doc, x: _Miss) -> Why:
    """uv: the release exists, but no wheel matches this interpreter's tags."""
    if not x.tag:
        return None
    if "macosx" in x.tag and "x86_64" in x.tag:
        last = doc.facts.last_release_for_platform("macos_x86_64")
        return (f"{x.name} {x.want or ''} has no Intel-macOS wheel: PyTorch's macOS x86_64 builds "
                f"ended with torch {last or '2.2'}",
                _cmd("pipguard", "install", f"{x.name}<={last or '2.2.2'}", "numpy<2"))
    # (the release tables are torch's: another package's first release for a Python is not)
    first = _py_release(doc, "first", x.py) if x.py and x.tag.startswith("cp") and \
        x.name == "torch" else None
    if first and x.pins and x.pins[0] < first:
        return (f"{x.name} {x.pins[0]} has no wheels for Python {x.py}: the first release that "
                f"has is {first}", _cmd("pipguard", "install", f"{x.name}>={first}"))
    offered = doc.find(r"(?:Python ABI tags|following platforms): ([^\n]+)")
    return (f"{x.name} {x.want or ''} has no wheel for {x.tag}"
            + (f" (Python {x.py})" if x.py and x.tag.startswith("cp") else "")
            + (f"; it has wheels for {offered.group(1).replace('`', '')}" if offered else ""),
            _cmd("pipguard", "plan", x.name))


def _miss_everything(doc: Doc, x: _Miss) -> Why:
    """``from versions: none``: no file at all fits this interpreter."""
    if x.versions:
        return None
    first = _py_release(doc, "first", x.py) if x.py and x.name == "torch" else None
    family = doc.facts.family()
    if x.py and x.pins and first and x.pins[0] < first:
        return (f"{x.name} {x.pins[0]} has no wheels for Python {x.py}: the first release that "
                f"has is {first}", _cmd("pipguard", "install", f"{x.name}>={first}"))
    supported = _supported_pythons(doc) if x.name in family else []
    if x.py and supported and x.py not in supported:
        last = _py_release(doc, "last", x.py)
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
            if x.name in family else f"pip index versions {x.name}")


def _miss_listed(doc: Doc, x: _Miss) -> Why:
    """The index listed versions, none of which fits: reason from where the list ends."""
    vs, want, name, py, pin = x.versions or [], x.want, x.name, x.py, next(iter(x.pins), None)
    vmin, vmax = Version(min(vs).public), Version(max(vs).public)
    on_py = f" for Python {py}" if py else ""
    facts = doc.facts
    as_torch = vmax if name == "torch" else facts.torch_for_companion(name, vmax)
    if want is not None and want > vmax:
        mac_last = facts.last_release_for_platform("macos_x86_64")
        if as_torch and as_torch == mac_last:  # the signature of an Intel Mac
            sure = doc.platform() in (None, "darwin") and doc.machine() in (None, "x86_64")
            numpy = [] if facts.numpy2_compatible(as_torch, "darwin") else ["numpy<2"]
            return (("" if sure else f"this list stops at {vmax}, the last release with Intel "
                     "macOS wheels; if this is an Intel Mac: ") + f"{name} {want} has no "
                    f"Intel-Mac (macOS x86_64) wheels, as PyTorch's Intel macOS builds ended with "
                    f"torch {mac_last}; stay on {name} {vmax}" + (" with numpy<2" if numpy else "")
                    + ", use conda-forge, or Apple-Silicon/Linux",
                    _cmd("pipguard", "install", f"{name}=={vmax}", *numpy))
        olds = [p for p in ([py] if py else [f"3.{n}" for n in range(6, 12)])
                if as_torch and _py_release(doc, "last", p) == as_torch]
        return ((f"{name} {want} needs a newer Python: {vmax} is the last release with wheels "
                 f"for Python {olds[0]}") if olds else (f"the newest {name} here{on_py} is "
                f"{vmax}: {want} is not published for this platform/Python, or not on this index "
                "(yet)"), _cmd("pipguard", "install", f"{name}=={vmax}"))
    if pin and pin < vmin:
        first = _py_release(doc, "first", py) if py and name == "torch" else None
        tag = f"cp3{py.split('.')[1]}" if py else ""
        tags = facts.python_tags(pin, doc.kb_platform()) if py and name == "torch" else None
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


def _miss_dependency(doc: Doc, x: _Miss) -> Why:
    """A dependency torch pins, asked of a PyTorch index that does not (or no longer) serve it:
    the PyTorch index made the only one, or pip naming the family member that asked for it
    (``No matching distribution found for jinja2 (from torch)``) where PyPI was not searched
    and nothing failed to download (a network error, ``--no-index``: another cause)."""
    family = doc.facts.family()
    name = re.escape(x.req.name)  # pip's "(from torch)"; uv's and Poetry's "torch depends on"
    asker = doc.find(rf"(?:No matching distribution found for|satisfies the requirement) {name}"
                     rf"(?![\w.-])[^\n]{{0,300}}?\(from ([\w.-]+)|there is no version of {name}"
                     rf"(?![\w.-])[^\n]{{0,120}}?\s+and\s+([\w.-]+)(?:[=<>!~][^\s,]*)?\s+depends"
                     rf"\s+on\s+{name}(?![\w.-])|Because ([\w.-]+) \([^)\n]{{1,80}}\) depends on "
                     rf"{name} \([^)\n]{{1,80}}\),? which doesn't match any versions")
    asker_name = next((g for g in asker.groups() if g), "") if asker else ""
    by_family = asker is not None and canonicalize_name(asker_name) in family and not \
        doc.find(r"pypi\.org/simple|extra[-_]index[-_]url|Could not fetch URL|Retrying \(Retry|"
                 r"--no-index|(?:Connection|Proxy|SSL)Error|CERTIFICATE_VERIFY_FAILED")
    only = doc.find(r"(?:--index-url|-i)[= ]+\S*pytorch\.org|Looking in indexes: (?![^\n]*,)"
                    r"[^\n]*pytorch\.org")
    # (versions listed: only an exact pin the index has not got, and not one older than all it
    # lists where the Python is known: that is the Python's doing, _miss_listed's case)
    missing = x.versions and by_family and x.pins and not any(p in x.versions for p in x.pins) \
        and not (x.py and min(x.pins) < min(x.versions))
    if x.name in family or (x.versions and not missing) or not (only or by_family):
        return None
    asked = [str(r) for w in doc.requested()
             if (r := _req(w)) and canonicalize_name(r.name) in family]
    what = f"{x.name} {x.pins[0]}" if x.versions else x.name
    return (f"{what} is a dependency of the torch family that "
            + ("this PyTorch index does not (or no longer) serve, and --index-url made it the "
               "only index" if only else "the index searched does not serve"
               + (f" ({asker_name} asked for it; a PyTorch index or a mirror used alone)"
                  if asker else ""))
            + ": take the family from the torch index and everything else from PyPI",
            _cmd("pipguard", "install", *(asked or [asker_name or "torch"])))


_MISS_CASES = (_miss_unreachable, _miss_name, _miss_python, _miss_label, _miss_index,
               _miss_dependency, _miss_tag, _miss_everything, _miss_listed)


def no_matching_distribution(doc: Doc) -> Iterator[Finding]:
    tag, versions, bound = None, None, False
    if doc.near("is not a supported wheel", r"(\S+\.whl) is not a supported wheel"):
        return  # (explain_target.unsupported_wheel's)
    if m := doc.find(r"satisfies the requirement ([^\n]+?) \(from versions: ?([^)]*)\)"):
        req = _req(m.group(1))
        versions = [v for t in re.split(r"[,\s]+", m.group(2)) if t != "none" and (v := _v(t))
                    and not (req and req.name == "torch" and v.release[:2] == (0, 1))]
    elif m := doc.near("there (?:is no version|are no versions) of|was not found in the|has "
                       "no |have no wheels|can't be installed|is unusable because",
                       r"there (?:is no version|are no versions) of (\S+)|"
                       r"(\S+) was not found in the (?:package registry|provided package "
                       r"locations)|(?:all versions of )?(\S+) ha(?:s|ve) no wheels "
                       r"(?:are available )?with a matching (?:[\w \n]*?(?:tag|implementation)|"
                       r"platform|Python\s+ABI)"  # (a terminal may wrap the sentence)
                       r"(?: \(e\.g\., `([^`]+)`\))?|Distribution "
                       r"`(\S+) @ [^`]*` can't be installed|(\S+) has no (?:usable |compatible |"
                       r"[\w-]+-compatible )?wheels(?! with a matching)|(\S+) is unusable because "
                       r"no wheels are available with a matching", after=1):
        req, tag = _req(next(g for g in m.groups() if g)), m.group(4)
        if m.group(5):  # uv's hint names the interpreter's tag
            hint = doc.find(r"You're using \w+ [\d.]+ \(`([^`]+)`\)|following platforms")
            tag = (hint.group(1) or "this platform") if hint else "this interpreter"
    elif m := doc.find(r"You're on \w+ \(`([^`]+)`\), but `([\w.-]+)` \(v(\S+?)\) only has "
                       r"wheels for the following platforms|You require \w+ [\d.]+ \(`([^`]+)`\),"
                       r" but we only found wheels for `([\w.-]+)` \(v(\S+?)\)|Wheels are "
                       r"available for `([\w.-]+)` \(v(\S+?)\) on the following platforms"):
        # uv's hints, naming the platform's or the interpreter's tag where it knows it
        name, version = (m.group(2), m.group(3)) if m.group(2) else (
            (m.group(5), m.group(6)) if m.group(5) else (m.group(7), m.group(8)))
        req, tag = _req(f"{name}=={version}"), m.group(1) or m.group(4)
    elif (m := doc.find(r"^[ \t│├└─]*([\w.-]+) (\d[\w.]*)\*{0,2} {0,2}is not installable because "
                        r"there are no viable options", re.M)) and {r for r in re.findall(
                            r"would require[ \t]*\n[ \t│]*└─ (\S+)", doc.text)} == {"python"}:
        req = _req(f"{m[1]}=={m[2]}")  # libmamba: every build of it needs another Python
    elif m := doc.find(r"incompatible with the existing python installation(?s:.{0,200}?)^[ \t]*"
                       r"- (?:[\w.-]+::)?([\w.-]+)(?:=+(\d[\w.]*)\b)?", re.M):  # conda: no build
        req = _req(re.sub(r"^pytorch$", "torch", m[1]) + (f"=={m[2]}" if m[2] else ""))
    elif m := doc.find(_UV_PYTHON):  # the user's own requirement, where uv names it
        own = doc.find(r"(?:you\s+require|your\s+project\s+depends\s+on)\s+([^\s,]+?),?\s+we")
        req = _req(own[1] if own else m["dep"])
    elif (m := doc.find(r"only ([A-Za-z][\w.-]*)(\S*?) is available")) and not uv_conflict(doc):
        # uv: the newest there
        need = doc.find(rf"(?:you require|depends on) ({re.escape(m.group(1))}[<>=!~][^\s,]+)")
        req, bound = _req(need.group(1) if need else m.group(1)), True
        versions = [v for s in (_req(m.group(1) + m.group(2)) or Requirement("x")).specifier
                    if (v := _v(s.version))]
    elif m := doc.find(r"Unable to find installation candidates for ([\w.-]+) \(([^)\s]+)\)|"
                       r"(?:depends on|requires) ([\w.-]+) \(([^)\n]{1,80})\),? which doesn't "
                       r"match any versions|"
                       r"Could not find a matching version of package ([\w.-]+)"):
        spec = m.group(2) or m.group(4) or ""  # poetry: "2.0.1", ">=2.0,<3.0" or "^2.0"
        spec = spec if re.match(r"[<>=!~^]", spec) else f"=={spec}" if spec.strip("* ") else ""
        req = _req(f"{m.group(1) or m.group(3) or m.group(5)}{spec.replace('^', '>=')}")
    elif m := doc.find(r"No matching distribution found for ([^\n]+)|You tried to install "
                       r"\"(pytorch)\"|Package '([\w.-]+)' requires a different Python|Could not "
                       r"find a version that satisfies the requirement ([^\s\"'(]+)|can't be "
                       r"installed because it doesn't have a (?:source distribution or )?wheel "
                       r"for the current platform|with neither wheels nor source distribution|"
                       r"not available from current channels:\s*-\s*(\S+)|"
                       r"Packages? missing in current \S+ channels:\s*-\s*(\S+)|"
                       r"nothing provides (?:requested )?(?!__)(\S+)|"
                       r"(?<!\S)(\S+) [^\n]{0,120}?does not exs?ist \(perhaps a "
                       r"(?:typo or a )?missing channel\)|Package (\S+) \(([^)\s]+)\) not found|"
                       r"No valid distribution links found for package: \"([\w.-]+)\"|no "
                       r"matching distributions\s+available\s+for\s+your\s+environment:\s*"
                       r"([\w.-]+)|Packages require a different Python|wheel\(s\) were skipped as "
                       r"your project's environment does not support|cannot be installed in the "
                       r"current environment|(?<![\w.-])([\w.-]+) requires Python '[^']+' but the "
                       r"running Python is|INCOMPATIBLE PYTHON VERSION|Python incompatible: "
                       r"current|ResolvePackageNotFound\b|were skipped as the current project "
                       r"environment does not support|has published wheels available from your "
                       r"configured source|were skipped due to your installer\.(?:no|only)-binary "
                       r"policy|No packages found in current \S+ channels matching|Could not find "
                       r"some dependencies for|(?m:^[ \t]*- package \S+ [^\n]*?(?:does not exs?ist|"
                       r"does not have a compatible architecture))"):
        # (conda, mamba, Poetry, pip's notes on what it skipped, launchers' Python checks)
        asked = next((g for g in m.groups()[:8] if g), None) or m.group(11) or m.group(12)
        asked = f"{asked}=={m.group(10)}" if asked and asked == m.group(9) else asked
        req, versions = _req(asked or next(iter(doc.requested()), "torch")), [] if m.group(1) \
            else None
        tag = None if asked else "this platform"  # uv: no wheel for this platform
    else:
        return
    py = f"3.{tag[3:].rstrip('t')}" if tag and re.fullmatch(r"cp3\d+t?", tag) else doc.python()
    miss = _Miss(req, versions, tag, py, bound) if req else None
    message, fix = next((why for case in _MISS_CASES if miss and (why := case(doc, miss))),
                        ("the resolver found no distribution for the request", "pipguard plan"))
    yield Finding("no-matching-distribution", "error", message, doc.line(m), fix)
