"""What every hardware probe shares: where to read, how to run a tool, what to return.

A probe is a pure parser (text -> data) plus a tiny I/O function that returns
``None`` when the probe does not apply (no such file, no such tool). All file
reads go through :class:`ProbeEnv`, whose ``root`` (``PIPGUARD_SYSROOT``) moves
``/`` somewhere else so tests replay recorded machines; tools are found on the
given ``PATH``. Nothing here imports ``subprocess``: :mod:`pipguard.runner` is
imported only when a tool really has to run, which keeps ``pipguard detect``
fast on machines where files answer.

The GPUs on the PCI bus, whatever their driver, are read here too
(:func:`display_devices`), since several probes ask: each ``/sys/bus/pci/devices/*``
folder holds ``vendor`` (``0x10de``), ``class`` (``0x030200``; display controllers are
``0x03xxxx``) and ``device`` (``0x2330``), and a ``driver`` symlink to the driver bound
to it, when one is. Only the display controllers of NVIDIA, AMD and Intel are kept
(other devices cost one small read), and the bus is scanned once per detection.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipguard.hardware import Gpu, Source

if TYPE_CHECKING:
    from pipguard.runner import Completed

# Sysfs/procfs files are tiny; a cap keeps a strange file from costing anything.
_MAX_READ = 1 << 16


class ProbeError(Exception):
    """A probe's input exists but cannot be used (unreadable, garbled, tool failed).

    Never leaves :func:`pipguard.detect.detect`: it becomes a ``Source(ok=False)``.
    """


@dataclass(frozen=True)
class ProbeEnv:
    """The machine as the probes see it: a file root, a tool ``PATH``, the platform."""

    root: str = "/"
    path: str = ""
    system: str = "linux"
    machine: str = "x86_64"
    timeout: float = 5.0
    # What one detection read once and several probes use (the PCI scan); a new
    # ProbeEnv per detection, so nothing is remembered across calls.
    memo: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_real_root(self) -> bool:
        """True when files are read from this machine's own ``/``.

        In-process probes (NVML through ctypes) always see the real machine, so
        they run only then; a moved root means "replay a recording".
        """
        return os.path.normpath(self.root) == os.path.normpath(os.sep)

    def host_path(self, path: str) -> str:
        """Where the machine path ``path`` (``/proc/...``) lies under the root."""
        return os.path.join(self.root, path.lstrip("/\\"))

    def exists(self, path: str) -> bool:
        """Whether ``path`` (a machine path) exists under the root."""
        return os.path.exists(self.host_path(path))

    def read(self, path: str) -> str | None:
        """The text of a machine file, ``None`` when it is absent.

        Raises :class:`ProbeError` when it exists but cannot be read as text.
        """
        full = self.host_path(path)
        try:
            with open(full, "rb") as fh:
                data = fh.read(_MAX_READ)
        except FileNotFoundError:
            return None
        except NotADirectoryError:
            return None
        except OSError as exc:
            raise ProbeError(f"cannot read {path}: {exc.strerror or exc}") from exc
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProbeError(f"{path} is not text") from exc

    def listdir(self, path: str) -> list[str] | None:
        """Sorted entries of a machine directory, ``None`` when it is absent."""
        try:
            return sorted(os.listdir(self.host_path(path)))
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise ProbeError(f"cannot list {path}: {exc.strerror or exc}") from exc

    def link_name(self, path: str) -> str | None:
        """The last part of a symlink's target (a PCI device's ``driver``), else ``None``."""
        try:
            return os.path.basename(os.readlink(self.host_path(path)).rstrip("/\\")) or None
        except OSError:
            return None

    def which(self, tool: str, also: tuple[str, ...] = ()) -> str | None:
        """The tool found on ``PATH``, else in ``also`` (machine dirs under the root)."""
        import shutil  # lazy: only needed when a tool may have to run

        # No PATH means no tool on PATH (not the default search path).
        found = shutil.which(tool, path=self.path) if self.path else None
        if found:
            return found
        for folder in also:
            candidate = self.host_path(f"{folder.rstrip('/')}/{tool}")
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
        return None

    def run(self, argv: list[str]) -> Completed:
        """Run a tool with the probe timeout (through :mod:`pipguard.runner`)."""
        from pipguard import runner  # lazy: imports subprocess

        # The tool sees our PATH, so it finds what we found.
        return runner.run(argv, capture=True, timeout=self.timeout, env={"PATH": self.path})


@dataclass(frozen=True)
class VendorResult:
    """What one vendor's probes found: GPUs, versions, and how they were found."""

    vendor: str
    gpus: tuple[Gpu, ...] = ()
    driver_version: str | None = None
    cuda_driver_api: str | None = None
    rocm_version: str | None = None
    sources: tuple[Source, ...] = ()

    @property
    def found(self) -> bool:
        """Whether this vendor is present on the machine."""
        return bool(self.gpus) or (self.vendor == "nvidia" and bool(self.driver_version))


def tool_failure(name: str, done: Completed) -> str:
    """Why a tool run did not answer, in one line for a ``Source`` detail."""
    if done.timed_out:
        return f"{name} did not answer within the timeout; skipped"
    text = (done.stderr.strip() or done.stdout.strip()).splitlines()
    first = text[0][:200] if text else "no output"
    return f"{name} exited with code {done.returncode}: {first}"


# ---------------------------------------------------------------- the PCI bus

PCI_DEVICES = "/sys/bus/pci/devices"
NVIDIA_VENDOR, AMD_VENDOR, INTEL_VENDOR = 0x10DE, 0x1002, 0x8086
VENDORS = {NVIDIA_VENDOR: "nvidia", AMD_VENDOR: "amd", INTEL_VENDOR: "intel"}
_MEMO = "pci-display-devices"


@dataclass(frozen=True)
class PciDevice:
    """One display controller on the PCI bus."""

    address: str  # "0000:01:00.0"
    vendor: int
    device: int
    pci_class: int
    driver: str | None  # the bound driver's name ("nvidia", "nouveau"), None when unbound

    @property
    def pci_id(self) -> str:
        """``"10de:2330"``."""
        return f"{self.vendor:04x}:{self.device:04x}"


def parse_hex(text: str) -> int:
    """A sysfs hex attribute (``0x8086``) -> int; ValueError if it is not one."""
    return int(text.strip(), 16)


def is_display(pci_class: int) -> bool:
    """Display controllers (VGA, XGA, 3D, other) are PCI class 0x03."""
    return pci_class >> 16 == 0x03


def display_devices(env: ProbeEnv) -> tuple[tuple[PciDevice, ...], tuple[Source, ...]]:
    """The known vendors' display controllers and the ``Source`` of each unreadable device.

    Sources carry the probe name ``"pci"``; callers relabel them as their own.
    """
    cached = env.memo.get(_MEMO)
    if not isinstance(cached, _Scan):
        cached = env.memo[_MEMO] = _scan(env)
    return cached.devices, cached.sources


@dataclass(frozen=True)
class _Scan:
    devices: tuple[PciDevice, ...] = ()
    sources: tuple[Source, ...] = ()


def _scan(env: ProbeEnv) -> _Scan:
    if not env.system.startswith("linux"):
        return _Scan()
    try:
        entries = env.listdir(PCI_DEVICES)
    except ProbeError as exc:
        return _Scan(sources=(Source("pci", False, str(exc)),))
    devices: list[PciDevice] = []
    sources: list[Source] = []
    for entry in entries or ():
        base = f"{PCI_DEVICES}/{entry}"
        try:
            vendor = env.read(f"{base}/vendor")
            # Most devices are no GPU vendor's: one small read each, then move on.
            if vendor is None or parse_hex(vendor) not in VENDORS:
                continue
            pci_class, device = env.read(f"{base}/class"), env.read(f"{base}/device")
            if pci_class is None or device is None or not is_display(parse_hex(pci_class)):
                continue
            devices.append(PciDevice(entry, parse_hex(vendor), parse_hex(device),
                                     parse_hex(pci_class), env.link_name(f"{base}/driver")))
        except (ProbeError, ValueError) as exc:
            sources.append(Source("pci", False, f"{base}: {exc}"))
    return _Scan(tuple(devices), tuple(sources))
