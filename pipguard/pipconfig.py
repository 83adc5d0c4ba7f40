"""pip's network settings for pipguard's own index reads: pip decides.

pipguard reads the torch index itself (to plan), so it must reach it the way pip would:
through the same CA bundle, client certificate, trust store, trusted hosts, proxy,
timeout, retries and credentials. Nothing here parses pip's configuration files:

* the files and ``PIP_*`` variables: ``<target python> -m pip config list`` prints pip's
  merged view (``global.cert='...'``, ``install.proxy='...'``, ``:env:.cert='...'``);
  pip applies them in the order ``global`` < the command's section < ``:env:``
  (its ``ConfigOptionParser``), and so does :func:`merged`;
* the command line: pipguard's own argv parser (:mod:`pipguard.pipargs`) has pip's
  options as written; a command-line value wins, list options (``--trusted-host``)
  add to the configured ones, as with pip's optparse;
* the variables requests reads for pip (proxies, ``NETRC``, ``REQUESTS_CA_BUNDLE``):
  :attr:`pipguard.options.Settings.network_env`.

Not mirrored: keyring (pip asks it only after a 401, and only when it is installed
where pip runs); SOCKS proxies (urllib3 needs PySocks for them).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pipguard.configfiles import start_config_list
from pipguard.errors import UsageError
from pipguard.pipargs import CommandLine, Option
from pipguard.redact import split_credentials
from pipguard.wire import NetworkSettings

__all__ = ["merged", "network_settings", "parse_config_list", "uses_truststore"]

_LINE = re.compile(r"^([^=\s]+)=(.*)$")
_ALIASES = {"default-timeout": "timeout"}
_LISTS = frozenset({"trusted-host", "use-feature", "use-deprecated", "extra-index-url"})
_SECTIONS = ("install", "download", "wheel", "lock")
DEFAULT_TIMEOUT = 15.0  # pip's --timeout default
DEFAULT_RETRIES = 3  # pipguard's (pip's is 5): pages are retried per page, within a budget


def parse_config_list(text: str) -> list[tuple[str, str, str]]:
    """``pip config list`` output → ``[(section, key, value)]`` in pip's order."""
    out: list[tuple[str, str, str]] = []
    for line in text.splitlines():
        m = _LINE.match(line.strip())
        if not m:
            continue
        section, dot, key = m.group(1).rpartition(".")
        try:
            value = ast.literal_eval(m.group(2))
        except (ValueError, SyntaxError):
            continue
        if dot and isinstance(value, str):
            out.append((section, key, value))
    return out


def merged(items: Sequence[tuple[str, str, str]], command: str | None
           ) -> dict[str, tuple[str, str]]:
    """key → (value, where), by pip's precedence: ``global`` < command section < ``:env:``.
    Empty values are ignored, as pip ignores them."""
    section = command if command in _SECTIONS else "install"
    order = ("global", section, ":env:")
    out: dict[str, tuple[str, str]] = {}
    for wanted in order:
        for sec, key, value in items:
            if sec == wanted and value.strip():
                name = _ALIASES.get(key, key)
                where = f"PIP_{key.upper().replace('-', '_')}" if sec == ":env:" \
                    else f"pip config ({sec}.{key})"
                out[name] = (value, where)
    return out


def _cli(cl: CommandLine) -> list[Option]:
    """pip's options as written on the command line, before and after the command."""
    return [*cl.pip_globals, *(o for o in cl.rest if isinstance(o, Option))]


def _cli_values(cl: CommandLine, *names: str) -> list[str]:
    return [o.value for o in _cli(cl) if o.name in names and o.value is not None]


def read_pip_config(pip: Sequence[str], cl: CommandLine, inert: bool
                    ) -> dict[str, tuple[str, str]]:
    """pip's merged file and variable settings (none when pip's configuration is inert)."""
    return start_pip_config(pip, cl, inert)()


def start_pip_config(pip: Sequence[str], cl: CommandLine, inert: bool, *,
                     key: Mapping[str, object] | None = None, cache_root: Path | None = None
                     ) -> Callable[[], dict[str, tuple[str, str]]]:
    """Start asking pip for its configuration; the returned function waits for the answer.

    ``pip config list`` is a whole pip start (~0.5 s): started early, it runs on another
    core while pipguard detects the hardware and reads the index; with ``key`` (what else
    the answer depends on) and ``cache_root``, pip's answer is remembered while the files
    it read are unchanged (:mod:`pipguard.configfiles`).
    """
    if inert:
        return dict
    isolated = ["--isolated"] if any(o.name == "--isolated" for o in _cli(cl)) else []
    pending = start_config_list(pip, isolated, {**(key or {}), "isolated": bool(isolated)},
                                cache_root if key is not None else None)

    def answer() -> dict[str, tuple[str, str]]:
        done = pending()
        return merged(parse_config_list(done.stdout), cl.command) if done.returncode == 0 \
            else {}

    return answer


def constraint_files(conf: Mapping[str, tuple[str, str]]) -> tuple[str, ...]:
    """The constraint files pip's configuration names (``constraint=``, ``PIP_CONSTRAINT``)."""
    return tuple(conf["constraint"][0].split()) if "constraint" in conf else ()


def uses_truststore(pip_version: str | None, python: tuple[int, ...],
                    features: Sequence[str], deprecated: Sequence[str]) -> bool:
    """Whether pip verifies TLS with the system trust store (through truststore): by
    default from pip 24.2 on Python 3.10+, opted out of with
    ``--use-deprecated=legacy-certs``; before 24.2 opted into with
    ``--use-feature=truststore``."""
    if "legacy-certs" in deprecated or tuple(python[:2]) < (3, 10):
        return False
    from packaging.version import InvalidVersion, Version

    try:
        new = pip_version is not None and Version(pip_version) >= Version("24.2")
    except InvalidVersion:
        new = False
    return new or "truststore" in features


def network_settings(cl: CommandLine, pip: Sequence[str], *, env: Mapping[str, str],
                     inert: bool, pip_version: str | None, python: tuple[int, ...],
                     conf: Mapping[str, tuple[str, str]] | None = None) -> NetworkSettings:
    """What pip would use to reach the torch index, for this command line: ``pip`` runs
    the target's pip (version ``pip_version``, None: pipguard's own, under ``python``);
    ``env`` and ``inert`` are :class:`pipguard.options.Settings`' ``network_env`` and
    ``pip_config_inert``."""
    if conf is None:
        conf = read_pip_config(pip, cl, inert)
    sources: dict[str, str] = {}

    def one(key: str, *options: str) -> str | None:
        given = _cli_values(cl, *options)
        if given:
            sources[key] = options[0]
            return given[-1]
        if key in conf:
            sources[key] = conf[key][1]
            return conf[key][0]
        return None

    def many(key: str, *options: str) -> list[str]:
        values = conf[key][0].split() if key in conf else []
        return values + _cli_values(cl, *options)

    cert = one("cert", "--cert")
    for var in ("requests_ca_bundle", "curl_ca_bundle"):  # requests lets these win
        if env.get(var):
            cert, sources["cert"] = env[var], var.upper()
            break
    timeout = _number(one("timeout", "--timeout", "--default-timeout"), DEFAULT_TIMEOUT,
                      "--timeout", float)
    retries = int(_number(one("retries", "--retries"), DEFAULT_RETRIES, "--retries", int))
    indexes = [v for v in (one("index-url", "-i", "--index-url"),) if v]
    indexes += many("extra-index-url", "--extra-index-url")
    credentials: dict[str, tuple[str, str]] = {}
    for url in indexes:
        bare, user, password = split_credentials(url)
        if user is not None:
            from urllib.parse import urlsplit

            credentials.setdefault(urlsplit(bare).netloc.lower(), (user, password or ""))
    proxies = {scheme: env[f"{scheme}_proxy"] for scheme in ("https", "http", "all")
               if env.get(f"{scheme}_proxy")}
    return NetworkSettings(
        cert=cert,
        client_cert=one("client-cert", "--client-cert"),
        truststore=uses_truststore(pip_version or _own_pip(), python,
                                   many("use-feature", "--use-feature"),
                                   many("use-deprecated", "--use-deprecated")),
        trusted_hosts=tuple(many("trusted-host", "--trusted-host")),
        proxy=one("proxy", "--proxy"),
        env_proxies=proxies,
        no_proxy=env.get("no_proxy", ""),
        timeout=timeout,
        retries=retries,
        index_credentials=credentials,
        netrc=env.get("netrc"),
        sources=sources,
    )


def _number(text: str | None, default: float, option: str, kind: type[float] | type[int]
            ) -> float:
    if text is None:
        return default
    try:
        value = kind(text.strip())
    except ValueError:
        raise UsageError(f"pip's {option} is {text!r}, not a number",
                         hint=f"fix {option} (or its PIP_ variable or config entry)") from None
    if value < 0:
        raise UsageError(f"pip's {option} is negative ({text})", hint=f"fix {option}")
    return value


def _own_pip() -> str | None:
    """The version of the pip pipguard runs a pip-less target with."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pip")
    except PackageNotFoundError:
        return None

