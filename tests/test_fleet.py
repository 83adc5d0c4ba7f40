"""Fleets, pure: class parsing, PEP 751 lock writing and reading, lock building, lock choice."""

from __future__ import annotations

from typing import Any

import pytest

from pipguard.errors import NoMatchingBuild, UsageError
from pipguard.fleet import classes_of, parse_for, parse_variants
from pipguard.hardware import Gpu, Hardware
from pipguard.knowledge_tables import load_knowledge
from pipguard.lockchoice import choose_lock, lock_variant
from pipguard.locking import build_lock, target_marker, unhashed_urls
from pipguard.pipargs import parse
from pipguard.plan import Plan, PlannedPackage
from pipguard.pylock import (
    Lock,
    LockedFile,
    LockedPackage,
    LockInfo,
    best_wheel,
    dumps,
    file_name,
    is_lock_file_name,
    loads,
)
from pipguard.target import Interpreter, tags_for
from tests.test_planner import linux, nvidia

KN = load_knowledge()
SHA = {c: c * 64 for c in "abcdef"}

# -- classes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("spec", "name", "driver", "archs"), [
    ("driver=580.159.04,arch=9.0", "driver580_159_04-sm90", "580.159.04", ("9.0",)),
    ("driver=580,arch=sm_90", "driver580-sm90", "580", ("9.0",)),
    ("arch=7.0", "sm70", None, ("7.0",)),
    ("arch=8.6+9.0, driver=570.86.10", "driver570_86_10-sm86-sm90", "570.86.10", ("8.6", "9.0")),
    ("name=h100,driver=580.65.06,arch=9.0", "h100", "580.65.06", ("9.0",)),
    ("arch=gfx1100", "gfx1100", None, ("gfx1100",)),
])
def test_for_names_a_valid_class(spec: str, name: str, driver: str | None,
                                 archs: tuple[str, ...]) -> None:
    c = parse_for(spec)
    assert (c.name, c.overrides.cuda_driver, c.overrides.gpu_arch) == (name, driver, archs)
    assert is_lock_file_name(file_name(c.name))
    hw = c.hardware(linux())
    assert tuple(g.compute_capability for g in hw.gpus) == archs


def test_cpu_class_is_a_machine_without_accelerators() -> None:
    c = parse_for("cpu")
    assert c.name == "cpu" and c.hardware(linux()).accelerator == "none"
    assert c.describe() == {"backend": "cpu"}


@pytest.mark.parametrize("spec", ["driver", "gpu=9.0", "arch=9.0,arch=8.0", "driver=abc",
                                  "arch=sm_9000x", "name=a.b,arch=9.0", ""])
def test_malformed_for_is_a_usage_error(spec: str) -> None:
    with pytest.raises(UsageError):
        parse_for(spec)


def test_variants_and_repeated_names() -> None:
    assert [c.name for c in parse_variants("cu130, cu126,cpu,rocm6.4")] == [
        "cu130", "cu126", "cpu", "rocm6_4"]
    assert parse_variants("cu126")[0].hardware(linux()).torch_backend == "cu126"
    for bad in ("auto", "cu13x", ","):
        with pytest.raises(UsageError):
            parse_variants(bad)
    cl = parse(["lock", "--variant", "cu130", "--for", "arch=7.0", "--for=cpu", "torch",
                "-o", "out"])
    assert [c.name for c in classes_of(cl)] == ["cu130", "sm70", "cpu"]
    assert cl.positionals() == ["torch"] and cl.options("-o") == ["out"]
    with pytest.raises(UsageError, match="two classes"):
        classes_of(parse(["lock", "--variant", "cpu", "--for", "cpu", "torch"]))


# -- lock files ---------------------------------------------------------------------------------

def wheel(name: str, version: str, tag: str, sha: str, url: str = "https://x/") -> LockedFile:
    fname = f"{name.replace('-', '_')}-{version}-{tag}.whl"
    return LockedFile(fname, url + fname.replace("+", "%2B"), sha)


def torch_lock(version: str, variant: str | None, python: str = "3.11") -> Lock:
    tag = f"cp{python.replace('.', '')}-cp{python.replace('.', '')}-manylinux_2_28_x86_64"
    interp = linux(tuple(int(p) for p in python.split(".")))  # type: ignore[arg-type]
    return Lock(
        (LockedPackage("torch", version, (wheel("torch", version, tag, SHA["a"]),),
                       index=f"https://x/{variant}"),
         LockedPackage("filelock", "3.16.1", (wheel("filelock", "3.16.1", "py3-none-any",
                                                    SHA["b"]),))),
        LockInfo("c", variant, f"https://x/{variant}", {"driver": "580"}, python),
        environments=(target_marker(interp),), requires_python=f"=={python}.*")


def test_lock_round_trip_is_byte_stable_and_valid_pep751() -> None:
    lock = torch_lock("2.15.0+cu130", "cu130")
    text = dumps(lock)
    assert dumps(loads(text)) == text
    shuffled = Lock(tuple(reversed(lock.packages)), lock.info, lock.environments,
                    lock.requires_python)
    assert dumps(shuffled) == text  # order of input does not matter
    assert text.startswith('lock-version = "1.0"\n') and "created-by = \"pipguard\"" in text
    assert loads(text).package("torch") == lock.package("torch")
    pylock = pytest.importorskip("packaging.pylock")
    toml = pytest.importorskip("tomllib")
    parsed = pylock.Pylock.from_dict(toml.loads(text))
    assert [p.name for p in parsed.packages] == ["filelock", "torch"]
    assert all(w.hashes["sha256"] and w.url for p in parsed.packages for w in p.wheels or ())


@pytest.mark.parametrize("text", [
    'lock-version = "2.0"\ncreated-by = "x"\npackages = []\n',
    'lock-version = "1.0"\ncreated-by = "x"\n',
    '[[packages]]\nname = "a"\n',
    'lock-version = "1.0"\ncreated-by = "x"\n[[packages]]\nname = "a"\n'
    '[[packages.wheels]]\nurl = "https://x/a-1-py3-none-any.whl"\n',
    "not = toml = at all",
])
def test_unreadable_locks_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        loads(text)


def test_best_wheel_follows_the_target_tags() -> None:
    p = LockedPackage("torch", "2.15.0", (
        wheel("torch", "2.15.0", "cp312-cp312-manylinux_2_28_x86_64", SHA["a"]),
        wheel("torch", "2.15.0", "cp311-cp311-manylinux_2_28_x86_64", SHA["b"]),
        wheel("torch", "2.15.0", "cp311-cp311-win_amd64", SHA["c"])))
    chosen = best_wheel(p, linux().tags)
    assert chosen is not None and chosen.sha256 == SHA["b"]
    assert best_wheel(p, tags_for((3, 10), False, ["manylinux_2_28_x86_64"])) is None


# -- building a lock from a plan and pip's report ----------------------------------------------

def item(name: str, version: str, url: str, sha: str | None = None, **info: Any
         ) -> dict[str, Any]:
    download: dict[str, Any] = {"url": url, **info}
    if not info:
        download["archive_info"] = {"hashes": {"sha256": sha}} if sha else {}
    return {"metadata": {"name": name, "version": version}, "download_info": download}


def test_build_lock_takes_the_family_from_the_plan_and_the_rest_from_pip() -> None:
    torch_url = "https://t/whl/cu130/torch-2.15.0%2Bcu130-cp311-cp311-manylinux_2_28_x86_64.whl"
    plan = Plan("cu130", (PlannedPackage("torch", "2.15.0+cu130", torch_url, SHA["a"],
                                         "torch-2.15.0+cu130-cp311-cp311-manylinux_2_28_x86_64.whl"),),
                index_url="https://t/whl/cu130")
    report = {"install": [
        item("torch", "2.15.0+cu130", torch_url, SHA["a"]),
        item("Typing_Extensions", "4.12.2", "https://p/typing_extensions-4.12.2-py3-none-any.whl",
             SHA["c"]),
        item("filelock", "3.16.1", "https://p/filelock-3.16.1.tar.gz"),  # no hash published
        item("proj", "1.0", "file:///work/app/proj", dir_info={"editable": True}),
    ]}
    assert unhashed_urls(report, plan) == ["https://p/filelock-3.16.1.tar.gz"]
    lock = build_lock(report, plan, linux(), LockInfo("x", "cu130", plan.index_url),
                      hashes={"https://p/filelock-3.16.1.tar.gz": SHA["d"]}, base_dir="/work/app")
    assert [p.name for p in lock.packages] == ["filelock", "proj", "torch", "typing-extensions"]
    torch = lock.package("torch")
    assert torch is not None and torch.index == "https://t/whl/cu130"
    assert torch.wheels[0].name.startswith("torch-2.15.0+cu130")
    filelock = lock.package("filelock")
    assert filelock is not None and filelock.sdist == LockedFile(
        "filelock-3.16.1.tar.gz", "https://p/filelock-3.16.1.tar.gz", SHA["d"])
    proj = lock.package("proj")
    assert proj is not None and (proj.directory, proj.editable) == ("proj", True)
    assert lock.environments == ("implementation_name == 'cpython' and platform_machine == "
                                 "'x86_64' and python_version == '3.11' and sys_platform == "
                                 "'linux'",)
    with pytest.raises(UsageError, match="no sha256"):
        build_lock(report, plan, linux(), LockInfo())
    vcs = {"install": [item("x", "1", "https://g/x.git", vcs_info={"vcs": "git"})]}
    with pytest.raises(UsageError, match="version-control"):
        build_lock(vcs, None, linux(), LockInfo())


# -- choosing a lock ----------------------------------------------------------------------------

FLEET = [("pylock.cu130.toml", torch_lock("2.15.0+cu130", "cu130")),
         ("pylock.cu126.toml", torch_lock("2.15.0+cu126", "cu126")),
         ("pylock.cpu.toml", torch_lock("2.15.0+cpu", "cpu"))]


@pytest.mark.parametrize(("hw", "chosen", "why_not"), [
    (nvidia("580.159.04", "9.0"), "pylock.cu130.toml",
     {"pylock.cu126.toml": "cu130.toml is preferred", "pylock.cpu.toml": "takes cuda builds"}),
    (nvidia("580.159.04", "7.0"), "pylock.cu126.toml",
     {"pylock.cu130.toml": "no kernels for sm_70"}),
    (nvidia("550.54.14", "8.6"), "pylock.cu126.toml",
     {"pylock.cu130.toml": "needs driver >= 580"}),
    (Hardware(), "pylock.cpu.toml", {"pylock.cu130.toml": "takes cpu builds"}),
    (nvidia("580.159.04", "9.0", backend="cu126"), "pylock.cu126.toml",
     {"pylock.cu130.toml": "--torch-backend asks for cu126"}),
], ids=["h100", "volta", "ampere-550", "no-gpu", "forced"])
def test_choice_follows_the_planners_policy(hw: Hardware, chosen: str,
                                            why_not: dict[str, str]) -> None:
    c = choose_lock(FLEET, hw, linux(), KN)
    assert c.name == chosen
    rejected = dict(c.rejected)
    for name, words in why_not.items():
        assert words in rejected[name]


def test_no_fitting_lock_names_each_reason() -> None:
    gpu_only = FLEET[:2]
    with pytest.raises(NoMatchingBuild) as err:
        choose_lock(gpu_only, nvidia("470.82.01", "7.0"), linux(), KN)
    assert "pylock.cu130.toml: " in err.value.message and "needs driver" in err.value.message
    with pytest.raises(NoMatchingBuild, match=r"this target is Python 3\.12"):
        choose_lock(FLEET, Hardware(), linux((3, 12)), KN)
    amd = Hardware("amd", gpus=(Gpu("amd", "AMD gfx1100", "gfx1100"),))
    with pytest.raises(NoMatchingBuild, match="takes rocm builds"):
        choose_lock(FLEET, amd, linux(), KN)


def test_lock_variant_falls_back_to_the_torch_label() -> None:
    lock = torch_lock("2.15.0+cu126", None)
    assert lock_variant(lock) == "cu126"
    windows = Interpreter("python", (3, 11, 0), "cpython", "win32", "AMD64", False, "25.0",
                          "/v", tags_for((3, 11), False, ["win_amd64"]))
    with pytest.raises(NoMatchingBuild, match="made for"):
        choose_lock([("l", lock)], Hardware(), windows, KN)
