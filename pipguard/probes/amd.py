"""AMD: each GPU's gfx architecture and the installed ROCm version.

Sources, in order:

1. The KFD topology in sysfs (``/sys/class/kfd/kfd/topology/nodes/*/properties``):
   a GPU node's ``gfx_target_version`` (``110000`` -> ``gfx1100``) names its
   architecture; CPU nodes report 0. Needs only the amdgpu kernel driver, no
   ROCm user space.
2. Only when KFD gives no architecture (absent, or a kernel too old for
   ``gfx_target_version``) and the caller allows processes: ``rocminfo``, then
   ``rocm_agent_enumerator``, on ``PATH`` or in ``/opt/rocm/bin``, with a timeout.

The ROCm version comes from ``/opt/rocm/.info/version`` when ROCm is installed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pipguard.hardware import Gpu, Source
from pipguard.probes import ProbeEnv, ProbeError, VendorResult, tool_failure

KFD_NODES = "/sys/class/kfd/kfd/topology/nodes"
ROCM_VERSION = "/opt/rocm/.info/version"
ROCM_BIN = "/opt/rocm/bin"

_GFX = re.compile(r"gfx[0-9a-f]{3,4}")


# ---------------------------------------------------------------- pure parsers


def gfx_arch(target_version: int) -> str | None:
    """KFD's ``gfx_target_version`` -> ``gfxNNN``; ``None`` for 0 (a CPU node).

    major = v // 10000, minor = (v // 100) % 100, stepping = v % 100; minor and
    stepping are written as hex digits: 90010 -> gfx90a, 90402 -> gfx942.
    """
    if target_version <= 0:
        return None
    major, minor = target_version // 10000, (target_version // 100) % 100
    step = target_version % 100
    if minor > 15 or step > 15:
        return None
    return f"gfx{major}{minor:x}{step:x}"


def parse_properties(text: str) -> dict[str, int]:
    """A KFD node ``properties`` file (``key value`` lines) -> ``{key: int}``."""
    props: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("-").isdigit():
            props[parts[0]] = int(parts[1])
    if not props:
        raise ValueError("no 'key value' lines")
    return props


def is_gpu_node(props: dict[str, int]) -> bool:
    """GPU nodes have SIMDs or a gfx target; CPU nodes have neither."""
    return props.get("simd_count", 0) > 0 or props.get("gfx_target_version", 0) > 0


def node_bus_id(props: dict[str, int]) -> str | None:
    """The PCI address from ``domain`` and ``location_id`` (bus << 8 | devfn)."""
    location = props.get("location_id")
    if not location:
        return None
    domain = props.get("domain", 0)
    return f"{domain:04x}:{location >> 8:02x}:{(location >> 3) & 0x1F:02x}.{location & 7}"


def node_name(name_file: str | None, arch: str) -> str:
    """A readable GPU name from KFD's ``name`` (the kernel's lowercased ASIC name).

    ASICs enumerated by IP discovery (RDNA3 and newer) are all called
    ``ip discovery`` there, which names nothing: then ``AMD gfxNNNN``.
    """
    name = (name_file or "").strip()
    if not name or name.lower() == "ip discovery" or name == arch:
        return f"AMD {arch}"
    return f"AMD {name}"


def parse_rocminfo(text: str) -> tuple[tuple[str, str], ...]:
    """``(gfx arch, name)`` of each GPU agent in ``rocminfo`` output."""
    agents: list[tuple[str, str]] = []
    for block in re.split(r"^\*+\s*\n\s*Agent \d+\s*\n\*+\s*$", text, flags=re.M)[1:]:
        fields: dict[str, str] = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip() not in fields:
                fields[key.strip()] = value.strip()
        arch = fields.get("Name", "")
        if fields.get("Device Type") == "GPU" and _GFX.fullmatch(arch):
            agents.append((arch, fields.get("Marketing Name") or f"AMD {arch}"))
    return tuple(agents)


def parse_agent_enumerator(text: str) -> tuple[str, ...]:
    """The GPU targets ``rocm_agent_enumerator`` prints (``gfx000`` is the CPU)."""
    return tuple(t for t in text.split() if _GFX.fullmatch(t) and t != "gfx000")


def parse_rocm_version(text: str) -> str:
    """``/opt/rocm/.info/version`` (``6.4.1-120``) -> ``"6.4.1"``."""
    m = re.match(r"\s*(\d+\.\d+(?:\.\d+)?)", text)
    if not m:
        raise ValueError(f"unexpected content {text.strip()[:60]!r}")
    return m.group(1)


# ---------------------------------------------------------------- I/O


def read_kfd(env: ProbeEnv) -> tuple[tuple[Gpu, ...], bool, list[Source]] | None:
    """GPUs of the KFD topology: ``(gpus, every GPU has an arch, sources)``; None if absent."""
    try:
        nodes = env.listdir(KFD_NODES)
    except ProbeError as exc:
        return (), False, [Source("amd-kfd", False, str(exc))]
    if nodes is None:
        return None
    gpus: list[Gpu] = []
    sources: list[Source] = []
    all_known = True
    for node in sorted(nodes, key=lambda n: (not n.isdigit(), int(n) if n.isdigit() else 0, n)):
        path = f"{KFD_NODES}/{node}/properties"
        try:
            text = env.read(path)
            if text is None:
                continue
            props = parse_properties(text)
        except (ProbeError, ValueError) as exc:
            sources.append(Source("amd-kfd", False, f"{path}: {exc}"))
            all_known = False
            continue
        if not is_gpu_node(props):
            continue
        arch = gfx_arch(props.get("gfx_target_version", 0))
        if arch is None:
            sources.append(Source("amd-kfd", False, f"{path}: GPU node without a usable "
                                  "gfx_target_version (kernel too old?)"))
            all_known = False
            continue
        try:
            name = node_name(env.read(f"{KFD_NODES}/{node}/name"), arch)
        except ProbeError:
            name = node_name(None, arch)
        gpus.append(Gpu("amd", name, arch, node_bus_id(props)))
    if gpus:
        archs = ", ".join(g.compute_capability or "?" for g in gpus)
        sources.append(Source("amd-kfd", True, f"{len(gpus)} GPU(s): {archs} from {KFD_NODES}"))
    return tuple(gpus), all_known, sources


def _run_tool(
    env: ProbeEnv, tool: str, parse: Callable[[str], tuple[Gpu, ...]]
) -> tuple[tuple[Gpu, ...] | None, list[Source]]:
    path = env.which(tool, also=(ROCM_BIN,))
    if path is None:
        return None, []
    done = env.run([path])
    if done.returncode != 0:
        return None, [Source(tool, False, tool_failure(path, done))]
    gpus = parse(done.stdout)
    if not gpus:
        return None, [Source(tool, False, f"{path} listed no GPU agent")]
    archs = ", ".join(g.compute_capability or "?" for g in gpus)
    return gpus, [Source(tool, True, f"{len(gpus)} GPU(s): {archs} from {path}")]


def _from_rocminfo(text: str) -> tuple[Gpu, ...]:
    return tuple(Gpu("amd", name, arch) for arch, name in parse_rocminfo(text))


def _from_enumerator(text: str) -> tuple[Gpu, ...]:
    return tuple(Gpu("amd", f"AMD {arch}", arch) for arch in parse_agent_enumerator(text))


def read_rocm_version(env: ProbeEnv) -> tuple[str | None, list[Source]]:
    """The installed ROCm version, if ROCm is installed under ``/opt/rocm``."""
    try:
        text = env.read(ROCM_VERSION)
        if text is None:
            return None, []
        version = parse_rocm_version(text)
    except (ProbeError, ValueError) as exc:
        return None, [Source("rocm-version", False, f"{ROCM_VERSION}: {exc}")]
    return version, [Source("rocm-version", True, f"ROCm {version} from {ROCM_VERSION}")]


def probe(env: ProbeEnv, *, allow_tools: bool = True) -> VendorResult:
    """Detect AMD GPUs: KFD first, ROCm's tools only when KFD has no answer."""
    if env.system != "linux":
        return VendorResult("amd")
    sources: list[Source] = []
    gpus: tuple[Gpu, ...] = ()
    kfd = read_kfd(env)
    if kfd is not None:
        gpus, all_known, found = kfd
        sources.extend(found)
    if allow_tools and (kfd is None or not all_known):
        for tool, parse in (("rocminfo", _from_rocminfo),
                            ("rocm_agent_enumerator", _from_enumerator)):
            tool_gpus, found = _run_tool(env, tool, parse)
            sources.extend(found)
            if tool_gpus:  # the tools see every agent: their list replaces KFD's
                gpus = tool_gpus
                break
    rocm = None
    if gpus:
        rocm, found = read_rocm_version(env)
        sources.extend(found)
    return VendorResult("amd", gpus, None, None, rocm, tuple(sources))
