"""``explain`` rules for failures while installing: finding, resolving, downloading.

Download integrity and resolver conflicts. Dependency confusion
(:mod:`pipguard.explain_confusion`) and no matching distribution
(:mod:`pipguard.explain_nomatch`) have modules of their own; the framework
(:mod:`pipguard.explain`) orders them with these and merges their findings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from pipguard.explain_doc import Doc, Rule, _cmd, _pin, _public, _req, requested_in, uv_conflict
from pipguard.explain_phrases import PIP_CRASH, SUCCEEDED, UNTRUSTED_TLS
from pipguard.findings import Finding

# A downloaded file whose hash is not the published one: pip, uv, Poetry (lock-file
# checksums, old and new wordings). (conda's and mamba's cache: _CONDA_CACHE.)
_HASHES = (r"DO NOT MATCH THE HASHES|Hash mismatch for|Expected sha256|has bad hash|not found in "
           r"known hashes|Invalid hash for|did not match any known checksums|Retrieved digest "
           r"for link|hash didn't match|No usable hash type|"
           # the tails of pip's and uv's hash reports, pasted alone
           r"(?m:^)[ \t]*Expected sha256 [0-9a-f]{64}\s+Got +[0-9a-f]{64}|"
           r"Computed:\s+sha256:[0-9a-f]{64}")
# An installer saying in its own words that a download stopped part way or never finished.
_CUT_OFF = (r"incomplete-download|connection was closed without a reply|Download failed after "
            r"\d+ attempts? because not enough bytes|"
            r"All attempts to connect to \S+ failed|didn't respond within|"
            r"transfer closed with \d+ bytes remaining")
# ... or that the file it got is not a valid archive.
_DAMAGED = (r"has an invalid wheel|Cannot unpack file(?![^\n]*content-type: text/html)|"
            r"Invalid (?:tar|zip) file|Failed to extract archive|The wheel is invalid|"
            r"RECORD file doesn't match wheel contents|is in an unsupported or invalid wheel")


# The connection or the file failing, as the network libraries and archive readers say it.
_BROKEN = (r"IncompleteRead|Connection broken|ContentTooShort|Read timed out|error decoding "
           r"response body|request or response body error|unexpected EOF|Connection reset by peer|"
           r"RemoteDisconnected|Connection aborted|network timeout|operation timed out|timed out "
           r"while|ChunkedEncodingError|SSLEOFError|EOF occurred in violation|error sending "
           r"request|connection closed before message completed|unexpected end of file|Range Not "
           r"Satisfiable|BadZipFile|File is not a zip file|Bad CRC-32|Bad magic number|\.whl'? is "
           r"invalid|invalid zip|central directory|Wheel '[^']+' located at \S+ is invalid|"
           r"InvalidWheel|corrupt(?:ed)? (?:zip|archive|wheel)|archive is corrupt|Bad local file "
           r"header|Compressed file ended before|invalid stored block lengths|Error -3 while "
           r"decompressing|Failed to read (?:from )?(?:the )?zip|"
           r"is invalid: unexpected end of data|"
           # (zipfile's bare EOFError: only inside pip's own traceback)
           r"(?:[/\\]pip[/\\]_internal[/\\]|Exception:\s*Traceback)(?s:.{0,4000}?)[/\\]zipfile"
           r"(?:[/\\]__init__)?\.py\", line \d+, in _read\w*\s+raise EOFError|"
           r"Content-Length: \d+\s*\n\s*downloaded bytes: \d+")  # (conda's)
# A failure of another kind, decided after pip's retries.
_DECIDED = re.compile(r"Could not find a version that satisfies|No matching distribution|"
                      r"we can conclude that|"
                      r"ResolutionImpossible|No solution found when resolving|conflicting "
                      r"dependencies|is not a supported wheel", re.I)
# conda's and mamba's package cache holding a file that is not the channel's.
_CONDA_CACHE = (r"MD5MismatchError|mismatch between the expected content and downloaded content|"
                r"The package for \S+ located at \S+\s+appears to be corrupted|File not valid: "
                r"(?:SHA256|file size) doesn't match expectation|tarball has incorrect size|"
                r"Found incorrect downloads?|truncated (?:bzip2|gzip|xz) input|Error when "
                r"extracting package|Transferred a partial file|has an incorrect size|sha256 "
                r"mismatch|MD5 sums? mismatch|You probably need to delete and re-download|"
                r"Truncated input file|Multi-download failed(?![^\n]*status: [34]\d\d)|"
                r"expected md5: [0-9a-f]{32}\s+actual md5: [0-9a-f]{32}")  # (its report's tail)


# conda (or mamba) reading a channel.
_CHANNEL = r"Conda\w{0,30}Error|conda\.anaconda\.org|repo\.anaconda\.com"
# An installer reading an index or a channel (not a program fetching a model or a dataset).
_INDEX_READ = (rf"/simple/|Could not fetch URL|Looking in indexes|pip\._vendor|Failed to fetch|"
               rf"\bRetrying \(Retry\(total=[^\n]*\)': /(?:simple|whl)/|"  # (pip, its index)
               rf"Failed to download `|{_CHANNEL}|/pypi/[\w.-]+/json|"
               rf"files\.pythonhosted\.org|pytorch\.org/whl|\bpoetry (?:add|install|lock)\b")


def _untrusted_certificate(doc: Doc) -> Iterator[Finding]:
    """The installer refusing the certificate of an index it reads, so it could not read that
    index (where pip then found no versions at all, the no-match rule says so:
    :mod:`pipguard.explain_nomatch`)."""
    m = doc.find(UNTRUSTED_TLS)
    if not m or not doc.find(_INDEX_READ) or SUCCEEDED.search(doc.text) or re.search(
            r"Downloading \S+\.whl|Using cached \S+\.whl", doc.text[m.end():]) or doc.find(
            r"\buv (?:venv|python install)|python-build-standalone"):
        return  # (not an installer's index, or it recovered; pip's own self-check after a
        # success; uv fetching a Python)
    later = _DECIDED.search(doc.text, m.end())
    if later and not re.search(r"from versions: (?!none)", doc.text[m.end():]):
        return  # no versions at all after it: the no-match rule's case
    tool = "conda" if doc.find(_CHANNEL) else doc.installer()
    run = doc.find(r"(?m:^[^\n]*?\b(uv (?:pip (?:install|sync|compile)|sync|add|lock|run|tool "
                   r"install)[^\n]*))")
    fix = {"uv": f"UV_NATIVE_TLS=1 {run.group(1).strip() if run else 'uv pip install torch'}",
           "poetry": "poetry config certificates.REPOSITORY.cert /path/to/ca-bundle.pem",
           "conda": "conda config --set ssl_verify /path/to/ca-bundle.pem"}.get(
        tool, "pip config set global.cert /path/to/ca-bundle.pem")
    yield Finding("download-integrity", "error",
                  f"{tool} does not trust the certificate an index (or a company proxy that "
                  "re-signs TLS) presents, so it could not read that index: point it at the CA "
                  "that signs it (pip: global.cert or PIP_CERT; uv: --native-tls or "
                  "SSL_CERT_FILE; Poetry: certificates.<source>.cert; conda: ssl_verify)",
                  doc.line(m), fix)


def _download_integrity(doc: Doc) -> Iterator[Finding]:
    hashes = doc.find(_HASHES)
    if not hashes and doc.find(UNTRUSTED_TLS):
        return  # refused, not cut off: _untrusted_certificate's (or the no-match rule's)
    own = doc.find(_CUT_OFF) or doc.find(_DAMAGED)  # an installer's own words: no context needed
    if own and doc.find(r"Permission denied|os error 13|\[Errno 13\]"):
        own = None  # (an archive that could not be written out is not a damaged one)
    broken = doc.find(_BROKEN)
    if broken and re.match(r"\s*(?:WARNING|warning):", doc.line(broken)) and _DECIDED.search(
            doc.text, broken.end()):
        broken = None  # a warning (a retry) and then a failure of another kind: that is the cause
    crash = doc.find(PIP_CRASH, re.M)
    if not broken and crash and doc.stopped_short(crash.start()):
        broken = crash  # pip crashed part way through a download: the connection, mostly
    if not broken and not doc.find(r"status client error|\b40[134]\b|Not Found|Forbidden|"
                                   r"Unauthorized"):
        broken = doc.find(r"^[ \t]*(?:[×x]|error:) Failed to download `[^`]+`[ \t]*$", re.M)  # uv
    # A damaged member of a wheel names the package's own folder: torch/lib/..., nvidia/...
    member = doc.find(r"for file '([A-Za-z]\w*)[/\\]")
    wheel = member and (member.group(1) == "nvidia"
                        or canonicalize_name(member.group(1)) in doc.facts.family())
    broken = broken or own
    if broken and not hashes and SUCCEEDED.search(doc.text, broken.end()):
        return  # the install went on and succeeded: the connection recovered
    if conda := doc.find(r"CondaHTTPError: HTTP 000 CONNECTION FAILED"):
        yield Finding("download-integrity", "error",
                      "conda could not reach the channel (HTTP 000: no answer at all): a flaky "
                      "connection, a proxy or a mirror that is down; retry with more retries and "
                      "a longer timeout, or switch the channel to a working mirror",
                      doc.line(conda), "conda config --set remote_max_retries 5 && conda config "
                      "--set remote_read_timeout_secs 120")
        return
    if (conda := doc.find(_CONDA_CACHE)) and not SUCCEEDED.search(doc.text, conda.end()):
        pkg = doc.find(r"package for ([\w.-]+) located at|pkgs[/\\]([A-Za-z][\w.-]*?)-\d")
        name = next((g for g in pkg.groups() if g), "pytorch") if pkg else "pytorch"
        yield Finding("download-integrity", "error",
                      f"conda's package cache holds a damaged or incomplete {name} (its checksum "
                      "or size is not the channel's): an interrupted download, a full disk or a "
                      "proxy; clear the cached packages and run the same conda command again",
                      doc.line(conda), "conda clean --packages --tarballs --yes")
        return
    if not hashes and not own and not (broken and (wheel or doc.find(
            r"\.whl\b|Collecting |Downloading (?:\S+\.(?:whl|tar\.gz|conda|tar\.bz2)\b|[\w.-]+ "
            r"\(\d)|Installing |\bpip3?\b|Failed to (?:download|fetch)|"
            r"download(?:-r2)?\.pytorch\.org|files\.pythonhosted\.org|conda\.anaconda\.org|"
            r"target_path:"))):
        return  # (a timeout elsewhere, e.g. a model download, is not an install problem)
    error_at = min(m.start() for m in (hashes, broken) if m)
    cut = doc.stopped_short(error_at)
    src = doc.find(r"([\w.-]+==\S+) from (https?://\S+?\.whl)|Hash mismatch for `([^`]+)`|"
                   r"Failed to (?:download|fetch wheel:?) `?([\w.-]+==[^`\s]+)")
    last = re.findall(r"Downloading (?:\S*/)?([A-Za-z]\w*)-(\d[^-\s]*)-\S*\.whl", doc.text)
    req = (_req((src.group(1) or src.group(3) or src.group(4)) if src else "")
           or _req("==".join(last[-1]) if last else "torch") or Requirement("torch"))
    got = doc.find(r"Expected(?: sha256)?:?\s+(?:sha256:)?([0-9a-f]{64})\s+\S*?\s*"
                   r"(?:Got|Computed):?\s+(?:sha256:)?([0-9a-f]{64})", re.I | re.S)
    evidence = "\n".join(x for x in (
        doc.line(hashes) if hashes else "", src.group(2) or "" if src else "",
        f"expected sha256 {got[1]}, got {got[2]}" if got else "",
        doc.line(broken) if broken else "") if x)
    refetch = f"pip cache remove {req.name} && {_cmd('pipguard', 'install', str(req))}"
    if cut or (broken and not re.search(r"zip|magic|invalid|CRC|central|corrupt|archive|RECORD|"
                                        r"\btar\b|unpack", broken.group(0), re.I)):
        yield Finding("download-integrity", "error", f"the download of {req.name} was cut off"
                      + (f" at {cut}" if cut else "") + (": pip hashed a partial file, so the "
                      "'got' hash changes with every attempt; " if hashes else ": ") + "a flaky "
                      "connection or proxy, not tampering (the largest wheels fail first): "
                      "retry on a stable network, with more retries and a longer timeout",
                      evidence,
                      _cmd("pipguard", "install", "--retries", "10", "--timeout", "120", str(req)))
    elif hashes:
        yield Finding("download-integrity", "error",
                      f"the completed download of {req.name} does not match the sha256 published "
                      "for it: either that hash is stale (the version or variant changed) or a "
                      "mirror/proxy altered the file; don't install it until the hash is checked "
                      "against the index", evidence, refetch)
    else:
        yield Finding("download-integrity", "error",
                      f"the downloaded {req.name} archive is damaged (not a valid zip or tar, or "
                      "its files are not what its manifest lists): a truncated or corrupt file, "
                      "often left in the installer's cache by an interrupted download", evidence,
                      refetch)

def _built_for_torch(pkg: str, need: str, companions: tuple[str, ...]) -> bool:
    """Whether ``pkg``'s requirement on torch (``need``) ties it to one torch release: a
    companion's, or any package's exact pin (vllm's torch==2.4.0: a build against it)."""
    req = _req(need)
    return canonicalize_name(pkg) in companions or (req is not None and any(
        s.operator in ("==", "===") and "*" not in s.version for s in req.specifier))


def _uv_installed_check(doc: Doc) -> Iterator[Finding]:
    """uv's check of the environment after an install: "The package `torchvision` requires
    `torch==2.5.1`, but `2.6.0` is installed" (pip's is "... which is incompatible")."""
    for m in re.finditer(r"The package `([\w.-]+)` requires `([^`]+)`,? but `([^`]+)` is "
                         r"installed", doc.text):
        pkg, need, have = m.group(1), _req(m.group(2)), m.group(3)
        if not need or any(need.specifier.contains(v, prereleases=True) for v in re.findall(
                rf"^[ \t]*\+ {re.escape(need.name)}==(\S+)", doc.text[m.end():], re.M)):
            continue  # (a later install put the required version in place)
        if canonicalize_name(need.name) == "torch" and \
                _built_for_torch(pkg, str(need), doc.facts.companion_names()):
            partner = doc.companion_for(have, pkg)
            yield Finding("companion-mismatch", "error",
                          f"{pkg} requires {need}, but torch {have} is installed: install the "
                          f"{pkg} built for it" + (f" ({pkg} {partner})" if partner else ""),
                          doc.line(m), _cmd("pipguard", "install", f"torch=={_public(have)}",
                                            _pin(pkg, partner)))
        else:
            yield Finding("resolver-conflict", "warning", f"{pkg} requires {need}, but "
                          f"{need.name} {have} is installed", doc.line(m),
                          _cmd("pipguard", "install", str(need)))
        return


def _resolver_conflict(doc: Doc) -> Iterator[Finding]:
    hard = doc.find(r"ResolutionImpossible|conflicting\s+dependencies|The conflict is caused by|"
                    r"No solution found when resolving|The user requested|version solving failed|"
                    r"SolverProblemError|(?m:^[ \t]*So, because )|requirements are unsatisfiable|"
                    r"UnsatisfiableError|conflicting indexes for package|To fix this you could try|"
                    r"Use \"conda info <package>\" to see the dependencies for each package|"
                    r"resolution-too-deep|exceeded maximum depth|(?m:^[ \t]*(?:[╰├]─▶[ \t]*)?"
                    r"(?:And because|Because) [^\n]*we can conclude that)|is not "
                    r"compatible with some of the required packages Python requirement|"
                    r"Incompatible constraints in requirements|none of the providers can be "
                    r"installed|cannot install both|The following packages are incompatible|"
                    r"conflicts with any installable versions|Found conflicts! Looking for "
                    r"incompatible packages|Double requirement given|Could not satisfy "
                    r"constraints for|a possible solution would be to set the `python` property|"
                    # conda's and mamba's (libsolv's problem sentences; conda 4.x's hints)
                    r"Requested specs (?:conflict with configured|overlap with pinned) specs|"
                    r"Unsatisfiable package specifications|following packages conflict with each "
                    r"other|has unsatisfiable dependencies|has constraint \S+ [^\n]*?conflicting "
                    r"with|(?m:^[ \t]*- package \S+ is not installable[ \t]*$)|conflicts with "
                    r"\S+ provided by|"
                    r"conflicting requests|excluded by strict repo priority|cannot be installed "
                    r"\(as previously explained\)|conflicts with installable versions previously")
    # (whitespace as \s+: the sentence is long, and terminals and forums wrap it; pip < 20.2
    # has no "which is incompatible")
    broken = list(doc.near_all(r"which\s+is\s+incompatible|, but\s+you(?:\s+have|'ll\s+have)\s",
                               r"([\w.-]+) (\S+) (?:requires|has requirement) ([^\n]+?),\s+but"
                               r"\s+you(?:\s+have|'ll\s+have)\s+([\w.-]+)\s+([^\s,]+?)\.?(?:\s+"
                               r"which\s+is\s+incompatible|$)"))
    if broken and not hard:  # pip installed anyway: the environment is now inconsistent
        companions = doc.facts.companion_names()
        pkgs = {m.group(1): m for m in broken if canonicalize_name(m.group(4)) == "torch"
                and _built_for_torch(m.group(1), m.group(3), companions)}
        if not pkgs:
            pkg, ver, need, hname, hver = broken[0].groups()
            yield Finding("resolver-conflict", "warning", f"{pkg} {ver} requires {need}, but "
                          f"{hname} {hver} is installed", doc.line(broken[0]),
                          _cmd("pipguard", "install", need.strip()))
            return
        hver = _public(next(iter(pkgs.values())).group(5))
        pairs = {pkg: doc.companion_for(hver, pkg) for pkg in pkgs}
        if not doc.find(r"(?:Successfully installed|Uninstalling|uninstalled)[^\n]*\btorch-\d") \
                and " you have " in doc.line(next(iter(pkgs.values()))):
            # torch did not move: a companion was installed that does not match it
            yield Finding("companion-mismatch", "error", "; ".join(
                f"{p} {m.group(2)} is built for {m.group(3)}" for p, m in pkgs.items())
                + f", but torch {hver} is installed: install the " + (
                    ", ".join(f"{p} {v}" for p, v in pairs.items() if v) + " built for it"
                    if any(pairs.values()) else "release of it made for this torch"),
                "\n".join(doc.line(m) for m in pkgs.values()),
                _cmd("pipguard", "install", f"torch=={hver}",
                     *(_pin(p, v) for p, v in pairs.items())))
            return
        # pip installed anyway (its legacy resolver says "you'll have"; the new one warns
        # after the fact): what is left is a companion that does not match torch
        yield Finding("companion-mismatch", "error",
                      "; ".join(f"{p} {m.group(2)} requires {m.group(3)}" for p, m in pkgs.items())
                      + f", but torch {hver} is installed: the pair is broken (expect 'operator "
                      "... does not exist' or undefined symbols)" + "".join(
                          f"; torch {hver} pairs with {p} {v}" for p, v in pairs.items() if v),
                      "\n".join(doc.line(m) for m in pkgs.values()),
                      _cmd("pipguard", "install", f"torch=={hver}",
                           *(_pin(p, v) for p, v in pairs.items())))
        return
    if not hard or doc.find(r"incompatible with your system:(?s:.{0,2000}?)__cuda\b|nothing "
                            r"provides __cuda\b|__cuda\s*,? which is missing|constraint __cuda\b"):
        return  # (conda's virtual __cuda package is the driver it found, not a release)
    user = {canonicalize_name(r.name): r for m in re.finditer(
        r"(?:The user requested (?:\(constraint\) )?|you require |your project depends on )"
        r"([^\s,]+)", doc.text) if (r := _req(m.group(1)))}
    deps = [(m, r) for m in re.finditer(
        r"(?<![\w.-])(?P<pkg>[A-Za-z][\w.-]*?)(?: (?P<ver>\d\S*)|(?P<spec>[<>=!~]\S*?))? depends "
        r"on (?P<req>[^\s,]+(?:,[<>=!~][^\s,]+)*)", doc.text) if m["pkg"] not in ("project", "you")
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
        if (canonicalize_name(need.name) == "torch"
                and canonicalize_name(pkg) in doc.facts.companion_names()):
            partner = doc.companion_for(pin, pkg) if pin else None
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
    if doc.find(r"only \S+ is available|there (?:is no version|are no versions) of|ha(?:s|ve) "
                r"no (?:[\w-]+ )?wheels|no matching distributions\s+available|is unusable because "
                r"no wheels") and not uv_conflict(doc):
        return  # nothing conflicts: a release is missing (no-matching-distribution says why)
    clauses = list(dict.fromkeys(
        f"{m['pkg']}{' ' + m['ver'] if m['ver'] else m['spec'] or ''} needs {r}" for m, r in deps))
    names: list[str] = [*user, *(canonicalize_name(m["pkg"]) for m, _ in deps)]
    yield Finding("resolver-conflict", "error", "the requested pins cannot all hold"
                  + (": " + "; ".join(clauses[:6]) if clauses else ""), doc.line(hard),
                  _cmd("pipguard", "install", *dict.fromkeys(names or ["torch"])))


def _companion_replaced_torch(doc: Doc) -> Iterator[Finding]:
    """Installing one companion (xformers, torchvision ...) swapped the torch under it: pip's
    uninstall of torch, uv's ``- torch==`` line after the ``uv pip install``/``uv add``
    that asked for the companion, or Poetry's ``Updating torch (A -> B)`` after its ``poetry
    add`` (another package moving torch is an upgrade it asked for)."""
    names = "|".join(re.escape(c).replace(r"\-", "[-_]") for c in doc.facts.companion_names())
    prose = doc.find(rf"(?:pip3? install|installing) ({names})\b[^\n]{{0,80}}?\b(?:re-?install\w*|"
                     rf"replac\w*|uninstall\w*|downgrad\w*|overwrit\w*)\b[^\n]{{0,40}}?\btorch\b")
    asked = [r for w in doc.requested() if (r := _req(w))]
    if not asked and (first := doc.find(r"^[ \t]*Collecting ([\w.-]+)", re.I | re.M)):
        # pip collects what was asked first; a requirements file's lines all say so
        asked = [r for w in [first[1], *re.findall(r"^[ \t]*Collecting ([\w.-]+)[^\n]*\(from -r ",
                                                    doc.text, re.I | re.M)] if (r := _req(w))]
    gone = doc.find(r"(?:Uninstalling|Successfully uninstalled) torch-(\d[^\s:]*)|^[ \t]*- "
                    r"torch==(\d\S*)|^[ \t]*[-•][ \t]+(?:Updating|Downgrading) torch "
                    r"\((\d[^\s)]*) ->", re.M)  # (pip's uninstall; uv's diff; Poetry's operations)
    if gone and gone[2]:  # uv's diff: what the install command it follows asked for
        cmds = re.findall(r"\buv (?:pip install|add) ([^\n]+)", doc.text[: gone.start()])
        asked = [r for w in (requested_in(cmds[-1]) if cmds else []) if (r := _req(w))]
        if not doc.find(r"^[ \t]*\+ torch==", re.M):
            gone = None  # (uv removing torch without putting another in its place)
    # ... or about to: pip collecting the one torch release the companion pins
    pulled = None if gone or SUCCEEDED.search(doc.text) or doc.find(r"\bpip3? download\b") \
        else doc.find(r"^[ \t]*Collecting torch==(\d[^\s;]*)", re.M)
    pkg = prose.group(1) if prose else next(
        (r.name for r in asked if canonicalize_name(r.name) in doc.facts.companion_names()
         and (gone or pulled) and not any(canonicalize_name(a.name) == "torch" for a in asked)),
        None)
    if not pkg or not (m := prose or gone or pulled):
        return
    if m is pulled:  # (no install finished yet: a fresh environment has no torch to replace)
        yield Finding("companion-mismatch", "warning",
                      f"installing {pkg} pulls torch {pulled.group(1)}, the one release that "
                      f"{pkg} wheel pins: where another torch is installed, pip replaces it; "
                      f"take the {pkg} build made for your torch instead", doc.line(m),
                      _cmd("pipguard", "plan", pkg))
        return
    had = (gone[1] or gone[2] or gone[3]) if gone else None
    yield Finding("companion-mismatch", "error",
                  f"installing {pkg} replaced torch" + (f" {had}" if had else "") + f": each {pkg} "
                  "wheel pins the one torch release (and CUDA variant) it was built for, so the "
                  "installer swapped torch to satisfy it; install the build of it made for your "
                  "torch, or keep your torch with --no-deps (only if the builds match)",
                  doc.line(m),
                  _cmd("pipguard", "install", f"torch=={had}", pkg) if had
                  else _cmd("pipguard", "install", "--no-deps", pkg))


# The framework (pipguard.explain.RULES) puts no_matching_distribution between these two
# groups: causes before their symptoms.
BEFORE_NO_MATCH: tuple[Rule, ...] = (_untrusted_certificate, _download_integrity)
AFTER_NO_MATCH: tuple[Rule, ...] = (_companion_replaced_torch, _uv_installed_check,
                                    _resolver_conflict)
