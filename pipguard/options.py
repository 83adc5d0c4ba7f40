"""pipguard's settings: the one module that reads its options and environment variables.

Every ``PIPGUARD_*`` variable and every pipguard option is read here, by one rule:
the command-line option wins over the variable, the variable over the default.
Booleans accept ``1/true/yes/on`` and ``0/false/no/off`` (anything else is a usage
error, never silently "on"). The rest of pipguard receives a :class:`Settings`.

| option                | variable                     | default                         |
| --------------------- | ---------------------------- | ------------------------------- |
| ``--torch-index-url`` | ``PIPGUARD_TORCH_INDEX_URL`` | ``https://download.pytorch.org/whl`` |
| ``--torch-channel``   | ``PIPGUARD_TORCH_CHANNEL``   | ``stable``                      |
| ``--offline``         | ``PIPGUARD_OFFLINE``         | off                             |
| ``--refresh``         |                              | off: ask again for every page   |
|                       | ``PIPGUARD_FRESH_FOR``       | 600 s (cached pages unasked)    |
| ``--knowledge-file``  | ``PIPGUARD_KNOWLEDGE_FILE``  | the packaged tables             |
| ``--cuda-driver``     | ``PIPGUARD_CUDA_DRIVER``     | detected                        |
| ``--gpu-arch``        | ``PIPGUARD_GPU_ARCH``        | detected                        |
| ``--torch-backend``   | ``PIPGUARD_TORCH_BACKEND``   | ``auto``                        |
| ``--installer``       | ``PIPGUARD_INSTALLER``       | ``pip`` (``uv``; ``auto``: uv if found) |
|                       | ``PIPGUARD_CACHE_DIR``       | the platform's user cache dir   |
|                       | ``PIPGUARD_SYSROOT``         | ``/`` (detection reads files under it) |

pip's own network settings (``--cert``, ``--proxy``, ``PIP_*``, config files) are pip's to
decide: :mod:`pipguard.pipconfig` asks pip. The variables pip reads through requests
(``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``, ``NO_PROXY``, ``NETRC``,
``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``) are read here, into :attr:`Settings.network_env`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pipguard.errors import UsageError
from pipguard.hardware import Overrides
from pipguard.pipargs import CommandLine
from pipguard.variants import parse_backend

DEFAULT_INDEX_URL = "https://download.pytorch.org/whl"
CHANNELS = ("stable", "test", "nightly")
INSTALLERS = ("pip", "uv", "auto")
VERIFY_MODES = ("quick", "full")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})
# PIP_* variables that change nothing about how pip reaches an index.
_PIP_VARS_NOT_NETWORK = frozenset({
    "PIP_CONFIG_FILE", "PIP_DISABLE_PIP_VERSION_CHECK", "PIP_NO_INPUT", "PIP_NO_COLOR",
    "PIP_PROGRESS_BAR", "PIP_ROOT_USER_ACTION", "PIP_BREAK_SYSTEM_PACKAGES", "PIP_QUIET",
    "PIP_REQUIRE_VIRTUALENV", "PIP_NO_WARN_SCRIPT_LOCATION", "PIP_VERBOSE", "PIP_CACHE_DIR",
    "PIP_NO_CACHE_DIR",
})  # fmt: skip
# Where pip looks for its configuration files (platformdirs' inputs, and the venv): with
# the PIP_* variables, what pip's configuration answer depends on besides the files.
_CONFIG_LOCATION_VARS = frozenset({
    "HOME", "USERPROFILE", "APPDATA", "LOCALAPPDATA", "PROGRAMDATA", "ALLUSERSPROFILE",
    "XDG_CONFIG_HOME", "XDG_CONFIG_DIRS", "VIRTUAL_ENV",
})
FRESH_FOR_S = 600.0  # an index page cached this recently is used without asking again


@dataclass(frozen=True)
class Settings:
    """Everything pipguard's own options and variables decide, validated."""

    torch_index_url: str = DEFAULT_INDEX_URL
    channel: str = "stable"
    offline: bool = False
    refresh: bool = False  # --refresh: revalidate every index page
    fresh_for: float = FRESH_FOR_S  # PIPGUARD_FRESH_FOR seconds
    knowledge_file: Path | None = None
    overrides: Overrides = field(default_factory=Overrides)
    cache_dir: Path | None = None  # None: the platform's user cache dir
    sysroot: str = "/"
    path: str = ""  # PATH, where detection finds nvidia-smi, rocminfo
    python: str | None = None  # --python
    virtual_env: str | None = None  # VIRTUAL_ENV, CONDA_PREFIX: the active environment
    conda_prefix: str | None = None
    json: bool = False
    deep: bool = False
    all: bool = False
    # Constraint files pip reads besides the command line's -c (PIP_CONSTRAINT).
    constraint_files: tuple[str, ...] = ()
    # Where the torch index came from when a pip index option named one (pytorch.org's
    # `--index-url …/whl/cu126`): that option, for the plan's notes.
    torch_index_from: str | None = None
    # Proxy, netrc and CA-bundle variables pip honours (lower-case names; "netrc": the file).
    network_env: Mapping[str, str] = field(default_factory=dict)
    # True when pip's configuration cannot say anything about the network: every config
    # file is off (PIP_CONFIG_FILE=os.devnull) and no network PIP_* variable is set.
    pip_config_inert: bool = False
    installer: str = "pip"  # --installer / PIPGUARD_INSTALLER: pip, uv or auto
    # --verify full / --full / PIPGUARD_VERIFY=full: hash every file (else: after an install,
    # sizes only; in verify and doctor, files unchanged since a matching hash are not read).
    verify_full: bool = False
    # PIP_* variables that change what pip resolves or where from, which uv does not read
    # (uv reads its own configuration): named in a warning when uv installs.
    pip_only_vars: tuple[str, ...] = ()
    # Every PIP_* variable and those that place pip's configuration files, sorted: with the
    # files, what `pip config list` answers (pipguard.configfiles remembers it).
    pip_config_env: tuple[tuple[str, str], ...] = ()
    # PYTHONPATH is set: pip's run sees more than the target's isolated probe does.
    pythonpath: bool = False
    # PYTHONNOUSERSITE is set: pip's run leaves the user site out, as the probe does.
    no_user_site: bool = False


def flag(value: str, name: str) -> bool:
    """A boolean variable's value by the one rule (see the module docstring)."""
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise UsageError(f"{name}={value!r} is not a boolean",
                     hint=f"set {name} to 1/true/yes/on or 0/false/no/off")


def _seconds(value: str, name: str, default: float) -> float:
    """A duration variable in seconds (``0`` allowed); empty means the default."""
    v = value.strip()
    if not v:
        return default
    try:
        seconds = float(v)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0 or seconds == float("inf"):
        raise UsageError(f"{name}={value!r} is not a number of seconds",
                         hint=f"e.g. {name}=600 (0: always ask the index)")
    return seconds


def _pick(cl: CommandLine, environ: Mapping[str, str], option: str, var: str
          ) -> tuple[str | None, str | None]:
    """The value and where it came from: the option, else a non-empty variable."""
    if option in cl.own:
        return cl.own[option], option
    value = environ.get(var)
    return (value, var) if value else (None, None)


def settings(cl: CommandLine, environ: Mapping[str, str]) -> Settings:
    """Read the settings of one command from its command line and ``environ``."""
    origin: dict[str, str] = {}
    values: dict[str, str | None] = {}
    for option, var in (("--cuda-driver", "PIPGUARD_CUDA_DRIVER"),
                        ("--gpu-arch", "PIPGUARD_GPU_ARCH"),
                        ("--torch-backend", "PIPGUARD_TORCH_BACKEND")):
        value, where = _pick(cl, environ, option, var)
        values[option] = value
        if where is not None:
            origin[var] = where
    overrides = parse_overrides(values["--cuda-driver"], values["--gpu-arch"],
                                values["--torch-backend"], origin)
    url = _pick(cl, environ, "--torch-index-url", "PIPGUARD_TORCH_INDEX_URL")[0]
    named = None if url else users_torch_index(cl, environ)
    if named is not None:
        url = named.base
        if named.variant and overrides.torch_backend is None:
            origin = {**overrides.origin, "PIPGUARD_TORCH_BACKEND": named.option}
            overrides = Overrides(overrides.cuda_driver, overrides.gpu_arch, named.variant,
                                  origin)
    url = (url or DEFAULT_INDEX_URL).strip().rstrip("/")
    if not url.lower().startswith(("https://", "http://", "file:")):
        raise UsageError(f"the torch index URL must be http(s):// or file://, not {url!r}",
                         hint="e.g. --torch-index-url https://download.pytorch.org/whl")
    channel = (_pick(cl, environ, "--torch-channel", "PIPGUARD_TORCH_CHANNEL")[0]
               or (named.channel if named else None) or "stable").strip().lower()
    if channel not in CHANNELS:
        raise UsageError(f"unknown torch channel {channel!r}", hint="use stable, test or nightly")
    offline = "--offline" in cl.own_flags or flag(environ.get("PIPGUARD_OFFLINE", ""),
                                                  "PIPGUARD_OFFLINE")
    fresh_for = _seconds(environ.get("PIPGUARD_FRESH_FOR", ""), "PIPGUARD_FRESH_FOR",
                         FRESH_FOR_S)
    kfile = _pick(cl, environ, "--knowledge-file", "PIPGUARD_KNOWLEDGE_FILE")[0]
    installer = _installer(cl, environ)
    verify, where = _pick(cl, environ, "--verify", "PIPGUARD_VERIFY")
    verify = (verify or "quick").strip().lower()
    if verify not in VERIFY_MODES:
        raise UsageError(f"unknown verify mode {verify!r} ({where})", hint="use quick or full")
    cache = environ.get("PIPGUARD_CACHE_DIR")
    return Settings(
        torch_index_url=url,
        channel=channel,
        offline=offline,
        refresh="--refresh" in cl.own_flags,
        fresh_for=fresh_for,
        knowledge_file=Path(kfile.strip()).expanduser() if kfile and kfile.strip() else None,
        overrides=overrides,
        cache_dir=Path(cache).expanduser() if cache else None,
        sysroot=environ.get("PIPGUARD_SYSROOT") or "/",
        path=environ.get("PATH", ""),
        python=cl.python,
        virtual_env=environ.get("VIRTUAL_ENV") or None,
        conda_prefix=environ.get("CONDA_PREFIX") or None,
        json="--json" in cl.own_flags,
        deep="--deep" in cl.own_flags,
        all="--all" in cl.own_flags,
        constraint_files=tuple(environ.get("PIP_CONSTRAINT", "").split()),
        torch_index_from=named.option if named else None,
        network_env=network_env(environ),
        pip_config_inert=environ.get("PIP_CONFIG_FILE") == os.devnull and not any(
            k.startswith("PIP_") and k not in _PIP_VARS_NOT_NETWORK and v for k, v in
            environ.items()),
        installer=installer,
        verify_full=verify == "full" or "--full" in cl.own_flags,
        pip_only_vars=tuple(sorted(
            k for k, v in environ.items() if v and k.startswith("PIP_")
            and k not in _PIP_VARS_NOT_NETWORK)) if installer != "pip" else (),
        pip_config_env=tuple(sorted((k, v) for k, v in environ.items()
                                    if k.startswith("PIP_") or k in _CONFIG_LOCATION_VARS)),
        pythonpath=bool(environ.get("PYTHONPATH", "").strip()),
        no_user_site=bool(environ.get("PYTHONNOUSERSITE")),
    )


def _installer(cl: CommandLine, environ: Mapping[str, str]) -> str:
    """``--installer`` / ``PIPGUARD_INSTALLER``: pip, uv or auto (only ``install`` takes one:
    uv has no ``download``, ``wheel`` or ``lock`` of pip's kind)."""
    value, where = _pick(cl, environ, "--installer", "PIPGUARD_INSTALLER")
    name = (value or "pip").strip().lower()
    if name not in INSTALLERS:
        raise UsageError(f"unknown installer {name!r} ({where})", hint="use pip, uv or auto")
    if where == "--installer" and cl.command != "install":
        raise UsageError(f"--installer is an option of pipguard install, not {cl.command}",
                         hint="pipguard install --installer uv ...")
    return name if cl.command == "install" else "pip"


@dataclass(frozen=True)
class NamedIndex:
    """A torch index that one of pip's own index options names (pytorch.org's idiom)."""

    base: str  # the folder that holds cu126/, cpu/ …
    variant: str | None  # the variant the URL names, if it names one
    channel: str | None  # "nightly"/"test" when the URL is under one
    option: str  # the option or variable that named it


def users_torch_index(cl: CommandLine, environ: Mapping[str, str]) -> NamedIndex | None:
    """The torch index a pip option names, by pip's precedence (command line, then ``PIP_*``).

    ``--index-url``/``--extra-index-url`` ending in a variant (``…/whl/cu126``, on
    download.pytorch.org or any mirror with that layout) name the variant and its base;
    ``-f …/torch_stable.html`` names the base.
    """
    found: list[tuple[str, str]] = []
    for opts, var in ((("-i", "--index-url"), "PIP_INDEX_URL"),
                      (("--extra-index-url",), "PIP_EXTRA_INDEX_URL"),
                      (("-f", "--find-links"), "PIP_FIND_LINKS")):
        found += [(opts[-1], v) for v in cl.options(*opts)]
        found += [(var, v) for v in environ.get(var, "").split()]
    for option, value in found:
        named = _torch_index_in(value.strip(), option)
        if named is not None:
            return named
    return None


def _torch_index_in(url: str, option: str) -> NamedIndex | None:
    if not url.lower().startswith(("https://", "http://", "file:")):
        return None
    head, _, last = url.rstrip("/").rpartition("/")
    if last == "torch_stable.html":
        return NamedIndex(head, None, None, option)
    try:
        variant = parse_backend(last)
    except ValueError:
        return None
    if variant is None:
        return None
    base, _, parent = head.rpartition("/")
    if parent in ("nightly", "test"):
        return NamedIndex(base, variant, parent, option)
    return NamedIndex(head, variant, None, option)


def network_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The variables pip's HTTP library reads, as it reads them: a lower-case proxy
    variable wins over its upper-case twin; ``NETRC``, else ``~/.netrc``, ``~/_netrc``."""
    out: dict[str, str] = {}
    for name in ("https_proxy", "http_proxy", "all_proxy", "no_proxy"):
        value = environ.get(name) or environ.get(name.upper())
        if value:
            out[name] = value.strip()
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        if environ.get(name):
            out[name.lower()] = environ[name]
    home = environ.get("HOME") or environ.get("USERPROFILE")
    candidates = [environ["NETRC"]] if environ.get("NETRC") else [
        str(Path(home) / n) for n in (".netrc", "_netrc")] if home else []
    for candidate in candidates:
        if Path(candidate).expanduser().is_file():
            out["netrc"] = str(Path(candidate).expanduser())
            break
    return out


def parse_gpu_arch(item: str) -> str:
    """Normalise one ``--gpu-arch`` item: ``sm_86``/``8.6``/``86`` -> ``"8.6"``; ``gfx1100``."""
    s = item.strip().lower()
    if re.fullmatch(r"gfx[0-9a-f]{3,4}", s):
        return s
    m = re.fullmatch(r"(?:sm_?|compute_)?(\d{1,2})(\d)[af]?", s)
    if m:
        return f"{int(m.group(1))}.{m.group(2)}"
    m = re.fullmatch(r"(\d{1,2})\.(\d)", s)
    if m:
        return f"{int(m.group(1))}.{m.group(2)}"
    raise UsageError(
        f"malformed GPU architecture {item!r}",
        hint="use sm_86, 8.6 or gfx1100 (comma-separated for several GPUs)",
    )


def parse_overrides(
    cuda_driver: str | None, gpu_arch: str | None, torch_backend: str | None,
    origin: Mapping[str, str] | None = None,
) -> Overrides:
    """Validate the override values (already picked from flags or variables by
    :mod:`pipguard.options`); ``origin`` says where each came from."""
    if cuda_driver is not None:
        cuda_driver = cuda_driver.strip()
        if not re.fullmatch(r"\d{2,4}(\.\d{1,3}){0,2}", cuda_driver):
            raise UsageError(
                f"malformed CUDA driver version {cuda_driver!r}",
                hint="give the NVIDIA driver version, e.g. --cuda-driver 570.86.10",
            )
    archs: tuple[str, ...] = ()
    if gpu_arch is not None:
        items = [a for a in gpu_arch.split(",") if a.strip()]
        if not items:
            raise UsageError("empty --gpu-arch", hint="e.g. --gpu-arch sm_86,sm_120")
        archs = tuple(parse_gpu_arch(a) for a in items)
    backend = None
    if torch_backend is not None:
        try:
            backend = parse_backend(torch_backend)
        except ValueError:
            raise UsageError(
                f"unknown torch backend {torch_backend.strip().lower()!r}",
                hint="use auto, cpu, xpu, cuNNN (cu126) or rocmX.Y (rocm6.4)",
            ) from None
    return Overrides(cuda_driver or None, archs, backend, dict(origin or {}))


def parse_python_version(text: str) -> tuple[int, int]:
    """pip's ``--python-version``: ``3.12``, ``3.12.1`` or ``312``."""
    parts = text.split(".") if "." in text else [text[:1], text[1:]]
    if len(parts) < 2 or not all(p.isdigit() for p in parts[:2]):
        raise UsageError(f"malformed --python-version {text!r}", hint="e.g. --python-version 3.12")
    return (int(parts[0]), int(parts[1]))
