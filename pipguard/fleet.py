"""The classes of a fleet: ``--variant cu130,cpu`` and ``--for "driver=580,arch=9.0"``.

``pipguard lock`` writes one lock per class. A class is a torch variant (forced, like
``--torch-backend``) or a hardware description, validated by the same rules as the
``--cuda-driver``/``--gpu-arch``/``--torch-backend`` overrides; its name is the file's
``pylock.<name>.toml`` (PEP 751 names have no dots): ``cu130``, ``driver580-sm90``,
``sm70``, ``cpu``. ``name=`` in a ``--for`` names a class outright.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipguard.errors import UsageError
from pipguard.hardware import Hardware, Overrides, apply_overrides
from pipguard.options import parse_overrides
from pipguard.pipargs import CommandLine
from pipguard.pylock import valid_class_name
from pipguard.target import Interpreter

FOR_KEYS = ("name", "driver", "arch", "backend")
_HINT = ('e.g. --for "driver=580.65.06,arch=9.0" (several GPUs: arch=8.6+9.0), '
         '--for "backend=cu126", --for cpu, or --variant cu130,cpu')


@dataclass(frozen=True)
class LockClass:
    """One class of machines a lock is made for."""

    name: str
    overrides: Overrides
    cpu: bool = False  # no accelerator at all

    def hardware(self, interp: Interpreter) -> Hardware:
        """The hardware this class stands for, on the target's platform."""
        base = Hardware(os=interp.os, machine=interp.machine)
        # A CPU class is a machine without accelerators: the planner takes `cpu` there.
        return base if self.cpu else apply_overrides(base, self.overrides)

    def describe(self) -> dict[str, str]:
        """The class's facts as ``[tool.pipguard.hardware]`` records them."""
        ov = self.overrides
        out: dict[str, str] = {}
        if ov.cuda_driver:
            out["driver"] = ov.cuda_driver
        if ov.gpu_arch:
            out["gpu-arch"] = ",".join(ov.gpu_arch)
        if ov.torch_backend:
            out["backend"] = ov.torch_backend
        if self.cpu:
            out["backend"] = "cpu"
        return out


def parse_variants(text: str) -> list[LockClass]:
    """``--variant cu130,cu126,cpu``: one class per (forced) variant."""
    out = []
    for item in (i.strip() for i in text.split(",")):
        if not item:
            continue
        ov = parse_overrides(None, None, item)
        if ov.torch_backend is None:  # "auto" is not a variant
            raise UsageError(f"--variant needs variant names, not {item!r}", hint=_HINT)
        out.append(LockClass(ov.torch_backend.replace(".", "_"), ov))
    if not out:
        raise UsageError("empty --variant", hint=_HINT)
    return out


def parse_for(text: str) -> LockClass:
    """``--for "driver=580.159.04,arch=9.0"``, ``--for "arch=7.0"``, ``--for cpu``."""
    spec = text.strip()
    if spec.lower() == "cpu":
        return LockClass("cpu", Overrides(), cpu=True)
    values: dict[str, str] = {}
    for part in (p.strip() for p in spec.split(",")):
        key, eq, value = part.partition("=")
        key = key.strip().lower()
        if not eq or key not in FOR_KEYS or not value.strip():
            raise UsageError(f"malformed --for {text!r}: expected key=value with keys "
                             + ", ".join(FOR_KEYS), hint=_HINT)
        if key in values:
            raise UsageError(f"--for {text!r} names {key} twice", hint=_HINT)
        values[key] = value.strip()
    arch = values.get("arch")
    ov = parse_overrides(values.get("driver"), arch.replace("+", ",") if arch else None,
                         values.get("backend"))
    if not ov.any():
        raise UsageError(f"--for {text!r} names no driver, arch or backend", hint=_HINT)
    name = values.get("name") or _name(ov)
    if not valid_class_name(name):
        raise UsageError(f"class name {name!r} cannot name a pylock.<name>.toml file",
                         hint="use letters, digits, '-' and '_' (PEP 751 names have no dots)")
    return LockClass(name, ov)


def _name(ov: Overrides) -> str:
    parts = []
    if ov.cuda_driver:
        parts.append("driver" + ov.cuda_driver.replace(".", "_"))
    parts.extend("sm" + a.replace(".", "") if not a.startswith("gfx") else a
                 for a in ov.gpu_arch)
    if ov.torch_backend:
        parts.append(ov.torch_backend.replace(".", "_"))
    return "-".join(parts)


def classes_of(cl: CommandLine) -> list[LockClass]:
    """The classes ``--variant`` and ``--for`` name, in order; names must not repeat."""
    classes: list[LockClass] = []
    for item in cl.rest:
        if isinstance(item, str) or item.value is None:
            continue
        if item.name == "--variant":
            classes.extend(parse_variants(item.value))
        elif item.name == "--for":
            classes.append(parse_for(item.value))
    seen: set[str] = set()
    for c in classes:
        if c.name in seen:
            raise UsageError(f"two classes are named {c.name!r}",
                             hint='name one with --for "name=...,driver=...,arch=..."')
        seen.add(c.name)
    return classes
