"""NVIDIA: driver version, CUDA driver API version, each GPU's compute capability.

Sources, fastest first; a later one is asked only while the answer is incomplete
(driver unknown, no GPU, or a GPU without compute capability):

1. NVML through ctypes (in-process, ~0.1 ms), on the real machine only.
2. Files: ``/sys/module/nvidia/version``, else ``/proc/driver/nvidia/version``
   (driver); ``/proc/driver/nvidia/gpus/*/information`` (names, bus ids); the
   compute capability from the name table (:mod:`pipguard.gpunames`).
3. ``nvidia-smi --query-gpu=...`` on ``PATH`` or in ``/usr/lib/wsl/lib`` (WSL),
   with a timeout; every row is one GPU and its ``compute_cap`` wins.

Only NVML gives the CUDA driver API version; nvidia-smi's banner is not scraped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from pipguard.hardware import Gpu, Source
from pipguard.probes import ProbeEnv, ProbeError, VendorResult, tool_failure
from pipguard.probes.nvml import (
    DRIVER_VERSION,
    PROC_VERSION,
    SYS_VERSION,
    WSL_LIB,
    NvmlError,
    NvmlInfo,
    query_nvml,
)

PROC_GPUS = "/proc/driver/nvidia/gpus"
SMI_FIELDS = ("name", "driver_version", "compute_cap", "pci.bus_id")
# Drivers before ~510 do not know compute_cap; they are asked without it.
SMI_FIELDS_OLD = ("name", "driver_version", "pci.bus_id")

_CC = re.compile(r"\d{1,2}\.\d{1,2}")
_NA = {"", "n/a", "[n/a]", "[not supported]", "[unknown error]"}


@dataclass(frozen=True)
class SmiRow:
    """One GPU row of ``nvidia-smi --query-gpu``."""

    name: str
    driver_version: str | None
    compute_cap: str | None
    bus_id: str | None


# ---------------------------------------------------------------- pure parsers


def parse_module_version(text: str) -> str:
    """``/sys/module/nvidia/version`` -> ``"580.159.04"``; ValueError if it is not one."""
    value = text.strip()
    if not DRIVER_VERSION.fullmatch(value):
        raise ValueError(f"unexpected content {value[:60]!r}")
    return value


def parse_proc_version(text: str) -> str:
    """The driver version in ``/proc/driver/nvidia/version``.

    The first line reads ``NVRM version: NVIDIA UNIX ... Kernel Module  580.159.04
    Release Build  (...)``: fields are separated by two spaces, and the version
    is the first field that looks like one.
    """
    for line in text.splitlines():
        if line.startswith("NVRM version:"):
            for field in re.split(r"\s{2,}", line.strip()):
                if DRIVER_VERSION.fullmatch(field):
                    return field
            raise ValueError(f"no driver version in {line.strip()[:100]!r}")
    raise ValueError("no 'NVRM version:' line")


def parse_gpu_information(text: str) -> tuple[str, str | None]:
    """``(model, bus location)`` from a ``/proc/driver/nvidia/gpus/*/information`` file."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    model = fields.get("Model", "")
    if not model:
        raise ValueError("no 'Model:' line")
    bus = fields.get("Bus Location")
    return model, normalize_bus_id(bus) if bus else None


def parse_smi_csv(text: str, fields: tuple[str, ...] = SMI_FIELDS) -> tuple[SmiRow, ...]:
    """Every row of ``nvidia-smi --query-gpu=<fields> --format=csv,noheader``."""
    rows: list[SmiRow] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        values = [v.strip() for v in line.split(",")]
        if len(values) != len(fields):
            raise ValueError(f"unexpected nvidia-smi line {line.strip()[:100]!r}")
        row = {f: (None if v.lower() in _NA else v) for f, v in zip(fields, values, strict=True)}
        name = row.get("name")
        driver = row.get("driver_version")
        cc = row.get("compute_cap")
        if not name or (driver is not None and not DRIVER_VERSION.fullmatch(driver)):
            raise ValueError(f"unexpected nvidia-smi line {line.strip()[:100]!r}")
        if cc is not None and not _CC.fullmatch(cc):
            raise ValueError(f"unexpected compute capability {cc!r}")
        bus = row.get("pci.bus_id")
        rows.append(SmiRow(name, driver, cc, normalize_bus_id(bus) if bus else None))
    if not rows:
        raise ValueError("no GPU rows")
    return tuple(rows)


def normalize_bus_id(bus: str) -> str:
    """``00000000:00:06.0`` (nvidia-smi, NVML) -> ``0000:00:06.0`` (sysfs form)."""
    bus = bus.strip().lower()
    m = re.fullmatch(r"0*([0-9a-f]{1,8}):([0-9a-f]{2}:[0-9a-f]{2}\.[0-7])", bus)
    return f"{int(m.group(1), 16):04x}:{m.group(2)}" if m else bus


def describe(gpus: tuple[Gpu, ...]) -> str:
    """``"1 GPU: NVIDIA H100 80GB HBM3 (9.0)"`` for a Source detail."""
    items = ", ".join(f"{g.name} ({g.compute_capability or 'cc unknown'})" for g in gpus)
    return f"{len(gpus)} GPU{'s' if len(gpus) != 1 else ''}: {items}" if gpus else "no GPU"


def fill_from_table(gpus: tuple[Gpu, ...]) -> tuple[tuple[Gpu, ...], list[Source]]:
    """Give each GPU without a compute capability the name table's, saying so."""
    from pipguard.gpunames import compute_capability_for

    out: list[Gpu] = []
    sources: list[Source] = []
    for gpu in gpus:
        if gpu.compute_capability:
            out.append(gpu)
            continue
        cc = compute_capability_for(gpu.name)
        if cc:
            sources.append(
                Source("gpu-name-table", True, f"compute capability {cc} for {gpu.name!r} "
                       "from pipguard's GPU name table (not measured)")
            )
            out.append(replace(gpu, compute_capability=cc))
        else:
            sources.append(
                Source("gpu-name-table", False, f"{gpu.name!r} is not in pipguard's GPU name "
                       "table; compute capability unknown")
            )
            out.append(gpu)
    return tuple(out), sources


def complete(driver: str | None, gpus: tuple[Gpu, ...]) -> bool:
    """Whether nothing is left to ask: a driver, GPUs, and every GPU's capability."""
    return bool(driver and gpus and all(g.compute_capability for g in gpus))


def _nvml_candidates(env: ProbeEnv) -> list[str]:
    if env.system == "win32":
        return ["nvml.dll", r"C:\Program Files\NVIDIA Corporation\NVSMI\nvml.dll"]
    if env.system != "linux":
        return []
    # Without a loaded driver NVML cannot answer: skip even importing ctypes.
    if env.exists(SYS_VERSION) or env.exists(PROC_VERSION):
        return ["libnvidia-ml.so.1"]
    if env.exists(f"{WSL_LIB}/libnvidia-ml.so.1"):
        return ["libnvidia-ml.so.1", f"{WSL_LIB}/libnvidia-ml.so.1"]
    return []


def read_nvml(env: ProbeEnv) -> NvmlInfo | None:
    """NVML's answer on the real machine; ``None`` when NVML is not there."""
    if not env.is_real_root:
        return None  # a moved root replays a recording; NVML would see this machine
    candidates = _nvml_candidates(env)
    if not candidates:
        return None
    import ctypes

    for name in candidates:
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        try:
            return query_nvml(lib)
        except NvmlError as exc:
            raise ProbeError(str(exc)) from None
    return None


# ---------------------------------------------------------------- files


def read_driver(env: ProbeEnv) -> tuple[str | None, list[Source]]:
    """The driver version from the sysfs file, else the procfs one."""
    sources: list[Source] = []
    for path, probe, parse in (
        (SYS_VERSION, "nvidia-sysfs", parse_module_version),
        (PROC_VERSION, "nvidia-procfs", parse_proc_version),
    ):
        try:
            text = env.read(path)
            if text is None:
                continue
            driver = parse(text)
        except (ProbeError, ValueError) as exc:
            sources.append(Source(probe, False, f"{path}: {exc}"))
            continue
        sources.append(Source(probe, True, f"driver {driver} from {path}"))
        return driver, sources
    return None, sources


def read_gpu_files(env: ProbeEnv) -> tuple[tuple[Gpu, ...], bool, list[Source]]:
    """GPUs named by ``/proc/driver/nvidia/gpus/*/information``; ``(gpus, all_read, sources)``."""
    try:
        entries = env.listdir(PROC_GPUS)
    except ProbeError as exc:
        return (), False, [Source("nvidia-gpus", False, str(exc))]
    if entries is None:
        return (), True, []
    gpus: list[Gpu] = []
    sources: list[Source] = []
    all_read = True
    for entry in entries:
        path = f"{PROC_GPUS}/{entry}/information"
        try:
            text = env.read(path)
            if text is None:
                continue
            model, bus = parse_gpu_information(text)
        except (ProbeError, ValueError) as exc:
            sources.append(Source("nvidia-gpus", False, f"{path}: {exc}"))
            all_read = False
            continue
        gpus.append(Gpu("nvidia", model, None, bus or normalize_bus_id(entry)))
    if gpus:
        names = ", ".join(g.name for g in gpus)
        sources.append(Source("nvidia-gpus", True, f"{len(gpus)} GPU(s): {names} from {PROC_GPUS}"))
    return tuple(gpus), all_read, sources


# ---------------------------------------------------------------- nvidia-smi


def run_smi(env: ProbeEnv) -> tuple[tuple[SmiRow, ...] | None, list[Source]]:
    """Every GPU row from nvidia-smi; ``(None, [])`` when there is no nvidia-smi."""
    tool = env.which("nvidia-smi", also=(WSL_LIB,))
    if tool is None:
        return None, []
    fields: tuple[str, ...] = SMI_FIELDS
    done = env.run([tool, f"--query-gpu={','.join(fields)}", "--format=csv,noheader"])
    if done.returncode != 0 and "compute_cap" in done.stdout + done.stderr:
        fields = SMI_FIELDS_OLD
        done = env.run([tool, f"--query-gpu={','.join(fields)}", "--format=csv,noheader"])
    if done.returncode != 0:
        return None, [Source("nvidia-smi", False, tool_failure(tool, done))]
    try:
        rows = parse_smi_csv(done.stdout, fields)
    except ValueError as exc:
        return None, [Source("nvidia-smi", False, f"{tool}: {exc}")]
    return rows, []


# ---------------------------------------------------------------- the probe


def probe(env: ProbeEnv) -> VendorResult:
    """Detect NVIDIA GPUs, asking each source in order until the answer is complete."""
    sources: list[Source] = []
    driver: str | None = None
    cuda_api: str | None = None
    gpus: tuple[Gpu, ...] = ()
    whole = True

    try:
        nvml = read_nvml(env)
    except ProbeError as exc:
        sources.append(Source("nvml", False, str(exc)))
        nvml = None
    if nvml is not None:
        driver, cuda_api, gpus, whole = (
            nvml.driver_version, nvml.cuda_driver_api, nvml.gpus, nvml.whole
        )
        api = f", CUDA driver API {cuda_api}" if cuda_api else ""
        sources.append(Source("nvml", True, f"driver {driver}{api}, {describe(gpus)}"))

    if not (whole and complete(driver, gpus)):
        file_driver, found = read_driver(env)
        sources.extend(found)
        driver = driver or file_driver
        file_gpus, all_read, found = read_gpu_files(env)
        sources.extend(found)
        if not gpus:
            gpus, whole = file_gpus, all_read
        gpus, found = fill_from_table(gpus)
        sources.extend(found)

    if not (whole and complete(driver, gpus)):
        rows, found = run_smi(env)
        sources.extend(found)
        if rows:
            smi_gpus = tuple(Gpu("nvidia", r.name, r.compute_cap, r.bus_id) for r in rows)
            sources.append(Source("nvidia-smi", True, f"driver {rows[0].driver_version}, "
                                  f"{describe(smi_gpus)}"))
            gpus, found = fill_from_table(smi_gpus)
            sources.extend(found)
            driver = driver or rows[0].driver_version

    return VendorResult("nvidia", gpus, driver, cuda_api, None, tuple(sources))
