"""Tests for pipguard.explain: failure text -> findings (cause and fix)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from pipguard.explain import explain
from pipguard.explain_doc import Context, ExplainFacts
from pipguard.findings import CATEGORIES, Finding
from pipguard.hardware import Gpu, Hardware
from pipguard.knowledge_tables import load_knowledge
from pipguard.lifecycle import ModuleChange, Retired

FIXTURES = Path(__file__).parent / "fixtures" / "explain"
# A copy of ../shared/reference/failure_examples.json ships with the tests, so they run
# wherever the repository does; test_shared_copy_is_current keeps it in step.
SHARED_EXAMPLES = (Path(__file__).resolve().parents[2] / "shared" / "reference"
                   / "failure_examples.json")
EXAMPLES = FIXTURES / "failure_examples.json"
# failure_examples.json predates the finding vocabulary: map its names onto it.
OLD_NAMES = {
    "companion-package-mismatch": {"companion-mismatch"},
    "python-dependency-abi": {"numpy-abi", "typing-extensions"},
    "cuda-driver-gpu": {"driver-too-old", "gpu-arch-unsupported", "cuda-libraries"},
    "index-security": {"dependency-confusion"},
}
EXPECTED = {
    "PTF-002": "no-matching-distribution", "PTF-008": "no-matching-distribution",
    "PTF-010": "download-integrity", "PTF-015": "companion-mismatch", "PTF-019": "numpy-abi",
    "PTF-023": "typing-extensions", "PTF-025": "driver-too-old",
    "PTF-026": "gpu-arch-unsupported", "PTF-029": "cuda-libraries",
    "PTF-033": "dependency-confusion", "PTF-035": "resolver-conflict",
}  # fmt: skip
REAL = load_knowledge()  # the packaged tables


class FakeKnowledge:
    """The few knowledge-table answers these tests rely on (pytorch_facts.md).

    Implements :class:`ExplainFacts` (mypy checks it where it is used as one); the family
    names are the real tables'.
    """

    _pairs: ClassVar[Mapping[str, Mapping[str, str]]] = {
        "1.12.1": {"torchvision": "0.13.1", "torchaudio": "0.12.1"},
        "2.2.1": {"torchvision": "0.17.1", "torchaudio": "2.2.1"},
        "2.3.0": {"torchvision": "0.18.0", "torchaudio": "2.3.0"},
        "2.6.0": {"torchvision": "0.21.0", "torchaudio": "2.6.0"},
    }
    _first: ClassVar[Mapping[str, str]] = {
        "cp39": "1.7.1", "cp310": "1.11.0", "cp311": "2.0.0", "cp312": "2.2.0", "cp313": "2.5.0",
        "cp314": "2.9.0"}  # fmt: skip
    _last: ClassVar[Mapping[str, str]] = {"cp37": "1.13.1", "cp38": "2.4.1", "cp39": "2.8.0"}
    _newest = Version("2.13.0")

    def newest_release(self) -> Version:
        return self._newest

    def last_release_for_platform(self, platform: str) -> Version | None:
        return Version("2.2.2") if platform == "macos_x86_64" else self._newest

    def variants_for(self, torch: Version, platform: str | None = None) -> tuple[str, ...]:
        by_minor: dict[tuple[int, ...], tuple[str, ...]] = {
            (2, 8): ("cu126", "cu128", "cu129", "cpu"),
            (2, 11): ("cu126", "cu128", "cu129", "cu130", "cpu"),
            (2, 13): ("cu126", "cu130", "cu132", "cpu")}  # fmt: skip
        return by_minor.get(torch.release[:2], ())

    def known_variants(self) -> tuple[str, ...]:
        return ("cu118", "cu121", "cu124", "cu126", "cu128", "cu129", "cu130", "cu132", "cpu")

    def python_tags(self, torch: Version, platform: str | None = None) -> tuple[str, ...]:
        tags = ("cp39", "cp310", "cp311", "cp312", "cp313")
        return tags[:-1] if torch.release[:2] == (2, 5) and platform == "windows" else tags

    def driver_cuda_api(self, driver: Version, os: str) -> Version:
        return Version("12.4") if driver.major == 550 else Version("13.0")

    def companions(self, torch: Version) -> dict[str, str]:
        return dict(self._pairs.get(str(torch), {}))

    def torch_for_companion(self, name: str, version: Version) -> Version | None:
        return next((Version(t) for t, c in self._pairs.items() if c.get(name) == str(version)),
                    None)  # fmt: skip

    def numpy2_compatible(self, torch: Version, os: str) -> bool:
        return torch >= Version("2.4.1" if os == "win32" else "2.3.0")

    def first_release_for_python(self, tag: str) -> Version | None:
        return Version(self._first[tag]) if tag in self._first else None

    def last_release_for_python(self, tag: str) -> Version | None:
        if tag in self._first:
            return Version(self._last.get(tag, str(self._newest)))
        return Version(self._last[tag]) if tag in self._last else None

    def first_release_with_cc(self, cc: tuple[int, int], platform: str) -> tuple[Version, str]:
        return (Version("2.7.0"), "cu128") if cc >= (10, 0) else (Version("1.13.0"), "cu116")

    def last_release_with_cc(self, cc: tuple[int, int], platform: str
                             ) -> tuple[Version, str] | None:  # fmt: skip
        if cc < (5, 0):
            return (Version("2.7.1"), "cu118")
        return None if cc >= (7, 5) else (self._newest, "cu126")

    def gpu_family_name(self, cc: tuple[int, int]) -> str:
        return {12: "Blackwell", 6: "Pascal", 7: "Volta"}.get(cc[0], "other")

    def compat_floor(self, major: int, os: str) -> Version | None:
        return {13: Version("580"), 12: Version("525"), 11: Version("450")}.get(major)

    def family(self) -> frozenset[str]:
        return REAL.family()

    def retirement(self, dist_name: str) -> Retired | None:
        return REAL.retirement(dist_name)

    def module_change(self, module: str) -> ModuleChange | None:
        return REAL.module_change(module)

    def cpp_api_change(self, name: str) -> ModuleChange | None:
        return REAL.cpp_api_change(name)

    def index_mirrored(self, name: str) -> bool:
        return REAL.index_mirrored(name)

    def companion_names(self) -> tuple[str, ...]:
        return REAL.companion_names()


class NoKnowledge:
    """Tables that can't answer: no releases (like an emptied table), the real family."""

    def newest_release(self) -> Version:
        raise LookupError("no releases")  # what Knowledge does with an empty release table

    def known_variants(self) -> tuple[str, ...]:
        return ()

    def variants_for(self, torch_version: Version, platform: str | None = None
                     ) -> tuple[str, ...]:  # fmt: skip
        return ()

    def last_release_for_platform(self, platform: str) -> Version | None:
        return None

    def python_tags(self, v: Version, platform: str | None = None) -> tuple[str, ...] | None:
        return None

    def first_release_for_python(self, tag: str) -> Version | None:
        return None

    def last_release_for_python(self, tag: str) -> Version | None:
        return None

    def companions(self, torch_version: Version) -> dict[str, str]:
        return {}

    def torch_for_companion(self, name: str, version: Version) -> Version | None:
        return None

    def numpy2_compatible(self, torch_version: Version, os: str) -> bool:
        return True  # no known incompatibility

    def compat_floor(self, cuda_major: int, os: str) -> Version | None:
        return None

    def driver_cuda_api(self, driver: Version, os: str) -> Version | None:
        return None

    def first_release_with_cc(self, cc: tuple[int, int], platform: str
                              ) -> tuple[Version, str] | None:  # fmt: skip
        return None

    def last_release_with_cc(self, cc: tuple[int, int], platform: str
                             ) -> tuple[Version, str] | None:  # fmt: skip
        return None

    def gpu_family_name(self, cc: tuple[int, int]) -> str:
        return f"sm_{cc[0]}{cc[1]}"  # Knowledge's answer for a GPU it has no name for

    def family(self) -> frozenset[str]:
        return REAL.family()

    def index_mirrored(self, name: str) -> bool:
        return REAL.index_mirrored(name)

    def companion_names(self) -> tuple[str, ...]:
        return REAL.companion_names()

    def retirement(self, dist_name: str) -> Retired | None:
        return None  # (knows of none)

    def module_change(self, module: str) -> ModuleChange | None:
        return None

    def cpp_api_change(self, name: str) -> ModuleChange | None:
        return None


@pytest.fixture
def kb() -> ExplainFacts:
    return FakeKnowledge()


@pytest.fixture
def no_kb() -> ExplainFacts:
    return NoKnowledge()


@pytest.fixture
def real_kb() -> ExplainFacts:
    return REAL


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def first(text: str, context: Context | None = None) -> Finding:
    """The first finding; without a context, with the real (packaged) tables."""
    found = explain(text, context or Context(facts=REAL))
    assert found, "no finding"
    return found[0]


def categories(text: str, context: Context | None = None) -> list[str]:
    return [f.category for f in explain(text, context or Context(facts=REAL))]


def examples() -> Iterator[dict[str, object]]:
    if not EXAMPLES.exists():
        pytest.skip("shared reference examples not present")
    yield from json.loads(EXAMPLES.read_text(encoding="utf-8"))


# -- the 11 reference cases -----------------------------------------------------------


def test_shared_copy_is_current() -> None:
    if not SHARED_EXAMPLES.exists():
        pytest.skip("no ../shared checkout beside the repository")
    assert json.loads(EXAMPLES.read_text(encoding="utf-8")) == json.loads(
        SHARED_EXAMPLES.read_text(encoding="utf-8"))


@pytest.mark.parametrize("with_kb", [True, False])
def test_reference_examples_map_to_their_category(with_kb: bool) -> None:
    facts: ExplainFacts = FakeKnowledge() if with_kb else NoKnowledge()
    seen = set()
    for case in examples():
        f = first(str(case["symptom"]), Context(facts=facts))
        assert f.category == EXPECTED[str(case["id"])], case["id"]
        assert f.category in OLD_NAMES.get(str(case["category"]), {str(case["category"])})
        assert f.severity == "error" and f.fix and f.evidence
        seen.add(case["id"])
    assert seen == set(EXPECTED)


def test_ptf002_intel_mac_pins_last_release_and_numpy(kb: ExplainFacts) -> None:
    case = next(c for c in examples() if c["id"] == "PTF-002")
    f = first(str(case["symptom"]), Context(facts=kb))
    assert "Intel" in f.message and "2.2.2" in f.message
    assert f.fix == 'pipguard install torch==2.2.2 "numpy<2"'


def test_intel_mac_signature_is_hedged_when_context_says_linux(kb: ExplainFacts) -> None:
    case = next(c for c in examples() if c["id"] == "PTF-002")
    f = first(str(case["symptom"]), Context(facts=kb, platform="linux", python_version="3.11"))
    assert f.message.startswith("this list stops at 2.2.2") and "Intel" in f.message
    assert f.fix == 'pipguard install torch==2.2.2 "numpy<2"'


def test_ptf008_names_the_labels_that_exist() -> None:
    case = next(c for c in examples() if c["id"] == "PTF-008")
    f = first(str(case["symptom"]))
    assert "+cu102" in f.message
    for label in ("+cpu", "+cu101", "+cu111", "untagged"):
        assert label in f.message
    assert f.fix == "pipguard install torch==1.8.0"


def test_ptf010_truncated_download_is_not_called_tampering() -> None:
    case = next(c for c in examples() if c["id"] == "PTF-010")
    f = first(str(case["symptom"]))
    assert "cut off at 520.6/748.8 MB" in f.message and "not tampering" in f.message
    assert "87d65c01" in f.evidence and "98d755d3" in f.evidence
    assert "files.pythonhosted.org" in f.evidence
    assert f.fix.startswith("pipguard install") and "torch==1.6.0" in f.fix


def test_ptf025_decodes_found_version() -> None:
    f = first(next(str(c["symptom"]) for c in examples() if c["id"] == "PTF-025"))
    assert "11.4" in f.message and "cu11x" in f.message
    assert f.fix == "pipguard install --force-reinstall torch"


def test_ptf026_blackwell_names_first_release(kb: ExplainFacts) -> None:
    f = first(next(str(c["symptom"]) for c in examples() if c["id"] == "PTF-026"),
              Context(facts=kb))
    assert f.message.startswith("NVIDIA GeForce RTX 5090 (sm_120, Blackwell)")
    assert "2.7.0" in f.message and "cu128" in f.message and "sm_90" in f.message
    assert f.fix == 'pipguard install --force-reinstall --gpu-arch sm_120 "torch>=2.7.0"'


def test_ptf029_points_ld_library_path_at_the_wheel_lib() -> None:
    f = first(next(str(c["symptom"]) for c in examples() if c["id"] == "PTF-029"))
    assert "nvidia/nvjitlink/lib" in f.fix and "LD_LIBRARY_PATH" in f.fix
    assert "corrupt-install" not in categories(f.evidence)


def test_ptf035_pairs_torch_with_its_torchvision(kb: ExplainFacts) -> None:
    f = first(next(str(c["symptom"]) for c in examples() if c["id"] == "PTF-035"),
              Context(facts=kb))
    assert "torchvision 0.13.0 pins torch==1.12.0" in f.message
    assert "0.13.1" in f.message
    assert f.fix == "pipguard install torch==1.12.1 torchvision==0.13.1"


def test_ptf035_without_tables_lets_the_resolver_pick_the_partner(no_kb: ExplainFacts) -> None:
    f = first(next(str(c["symptom"]) for c in examples() if c["id"] == "PTF-035"),
              Context(facts=no_kb))
    assert f.fix == "pipguard install torch==1.12.1 torchvision"


# -- no-matching-distribution ------------------------------------------------------------


def test_local_label_on_pypi_routes_to_the_variant_index() -> None:
    text = ("ERROR: Could not find a version that satisfies the requirement torch==2.1.0+cu118 "
            "(from versions: 2.0.0, 2.0.1, 2.1.0, 2.1.1, 2.1.2, 2.2.0)\n"
            "ERROR: No matching distribution found for torch==2.1.0+cu118")  # fmt: skip
    f = first(text)
    assert f.category == "no-matching-distribution"
    assert "download.pytorch.org/whl/cu118" in f.message
    assert f.fix == "pipguard install --torch-backend cu118 torch==2.1.0"


def test_version_never_released_suggests_the_nearest() -> None:
    text = ("ERROR: Could not find a version that satisfies the requirement torch==2.6.1 (from "
            "versions: 2.4.0, 2.4.1, 2.5.0, 2.5.1, 2.6.0, 2.7.0, 2.7.1)")  # fmt: skip
    f = first(text)
    assert "2.6.1 was never released" in f.message
    assert f.fix == "pipguard install torch==2.6.0"


def test_python_too_old_list_ends_at_its_last_release(kb: ExplainFacts) -> None:
    text = ("ERROR: Could not find a version that satisfies the requirement torch>=2.5 (from "
            "versions: 2.2.0, 2.3.0, 2.3.1, 2.4.0, 2.4.1)\n"
            "ERROR: No matching distribution found for torch>=2.5")  # fmt: skip
    f = first(text, Context(facts=kb, python_version="3.8.18", platform="linux"))
    assert "Python 3.8" in f.message and "newer Python" in f.message
    assert f.fix == "pipguard install torch==2.4.1"


def test_python_too_new_for_an_old_pin(kb: ExplainFacts) -> None:
    text = ("ERROR: Could not find a version that satisfies the requirement torch==1.13.1 (from "
            "versions: 2.0.0, 2.0.1, 2.1.0, 2.1.1)")  # fmt: skip
    f = first(text, Context(facts=kb, python_version="3.11"))
    assert "Python 3.11 is too new" in f.message and "2.0.0" in f.message
    assert f.fix == 'pipguard install "torch>=2.0.0"'


def test_from_versions_none_on_an_unsupported_python(kb: ExplainFacts) -> None:
    text = ("\x1b[31mERROR: Could not find a version that satisfies the requirement torch "
            "(from versions: none)\x1b[0m\r\n\x1b[31mERROR: No matching distribution found for "
            "torch\x1b[0m\r\n")  # fmt: skip
    f = first(text, Context(facts=kb, python_version="3.8"))
    assert f.category == "no-matching-distribution"
    assert "Python 3.8" in f.message and "2.4.1" in f.message
    assert f.fix == "pipguard --python python3.14 install torch"


def test_windows_launchers_python_is_the_one_that_ran_pip(kb: ExplainFacts) -> None:
    text = ("PS C:\\Users\\me> py -3.8 -m pip install torch\nERROR: Could not find a version "
            "that satisfies the requirement torch (from versions: none)\nERROR: No matching "
            "distribution found for torch")  # fmt: skip
    f = first(text, Context(facts=kb, platform="win32"))
    assert f.category == "no-matching-distribution" and "Python 3.8" in f.message
    said = "I also tried py -3.8 before.\n" + text.replace("py -3.8 -m pip", "pip")
    assert "Python 3.8" not in first(said, Context(facts=kb, platform="win32")).message


def test_from_versions_none_without_context_lists_the_usual_causes(no_kb: ExplainFacts) -> None:
    text = ("ERROR: Could not find a version that satisfies the requirement torchvision "
            "(from versions: )\nERROR: No matching distribution found for torchvision")
    f = first(text, Context(facts=no_kb))
    assert "32-bit" in f.message and f.fix == "pipguard plan torchvision"


def test_32bit_python_is_named(no_kb: ExplainFacts) -> None:
    text = ("ERROR: Could not find a version that satisfies the requirement torch (from versions:"
            " none)")  # fmt: skip
    assert "32-bit" in first(text, Context(facts=no_kb, platform="win32", machine="x86")).message


def test_uv_nonexistent_label() -> None:
    text = ("  × No solution found when resolving dependencies:\n  ╰─▶ Because there is no "
            "version of torch==2.3.0+cu102 and you require torch==2.3.0+cu102, we can conclude "
            "that your requirements are unsatisfiable.")  # fmt: skip
    f = first(text)
    assert f.category == "no-matching-distribution" and "+cu102" in f.message
    assert f.fix == "pipguard install torch==2.3.0"


def test_uv_only_older_available_on_intel_mac(kb: ExplainFacts) -> None:
    text = ("  × No solution found when resolving dependencies:\n  ╰─▶ Because only "
            "torch<=2.2.2 is available and you require torch>=2.3, we can conclude that your "
            "requirements are unsatisfiable.")  # fmt: skip
    f = first(text, Context(facts=kb, platform="darwin", machine="x86_64"))
    assert f.category == "no-matching-distribution" and "Intel" in f.message
    assert f.fix == 'pipguard install torch==2.2.2 "numpy<2"'


def test_uv_platform_tag_intel_mac() -> None:
    text = ("  ╰─▶ Because torch==2.4.0 has no wheels with a matching platform tag (e.g., "
            "`macosx_14_0_x86_64`) and you require torch==2.4.0, we can conclude that your "
            "requirements are unsatisfiable.")  # fmt: skip
    f = first(text)
    assert f.category == "no-matching-distribution" and "Intel" in f.message


def test_uv_python_abi_tag_names_the_python() -> None:
    text = ("  ╰─▶ Because torch==2.5.1 has no wheels with a matching Python ABI tag (e.g., "
            "`cp313`) and you require torch==2.5.1, we can conclude that your requirements are "
            "unsatisfiable.")  # fmt: skip
    f = first(text)
    assert f.category == "no-matching-distribution" and "3.13" in f.message


def test_uv_no_wheels_sentence_wrapped_by_a_terminal_is_still_read() -> None:
    text = ("  × No solution found when resolving dependencies:\n  ╰─▶ Because "
            "vllm-flash-attn==2.5.9.post1 has no wheels with a matching Python\nABI tag and you "
            "require vllm-flash-attn==2.5.9.post1, we can conclude that your\nrequirements are "
            "unsatisfiable.")  # fmt: skip
    f = first(text)
    assert f.category == "no-matching-distribution" and "vllm-flash-attn" in f.message


def test_pytorch_is_not_the_package_name() -> None:
    text = ('      Exception: You tried to install "pytorch". The package named for PyTorch is '
            '"torch"\n      [end of output]')  # fmt: skip
    f = first(text)
    assert f.category == "dependency-confusion" and f.fix == "pipguard install torch"


def test_requires_python_named_by_pip() -> None:
    text = ("ERROR: Ignored the following versions that require a different python version: "
            "2.9.0 Requires-Python >=3.10; 2.9.1 Requires-Python >=3.10\n"
            "ERROR: Could not find a version that satisfies the requirement torch==2.9.1 (from "
            "versions: 2.7.0, 2.7.1, 2.8.0)\nERROR: No matching distribution found for "
            "torch==2.9.1")
    f = first(text, Context(facts=REAL, python_version="3.9"))
    assert "requires Python >=3.10" in f.message and "3.9" in f.message
    assert f.fix == "pipguard --python python3.10 install torch==2.9.1"


def test_package_requires_a_different_python() -> None:
    f = first("ERROR: Package 'torch' requires a different Python: 3.8.10 not in '>=3.9.0'")
    assert f.category == "no-matching-distribution" and "3.8.10" in f.message
    assert f.fix == "pipguard --python python3.9 install torch"


def test_index_variant_that_does_not_exist(kb: ExplainFacts) -> None:
    text = ("Looking in indexes: https://download.pytorch.org/whl/cu122\nERROR: Could not find a "
            "version that satisfies the requirement torch (from versions: none)")
    f = first(text, Context(facts=kb))
    assert "no cu122 variant" in f.message and "cu121" in f.message
    assert f.fix == "pipguard install torch"


@pytest.mark.parametrize("text", [
    "pip install torch --index-url https://download.pytorch.org/whl/cu121\nERROR: Could not "
    "find a version that satisfies the requirement sympy (from versions: none)",
    "ERROR: No matching distribution found for jinja2 (from torch)",
    'ERROR: Could not find a version that satisfies the requirement cuda-bindings==13.0.3; '
    'platform_system == "Linux" (from torch) (from versions: 12.9.2)',
    "  ╰─▶ Because there is no version of jinja2 and torch depends on jinja2, we can conclude "
    "that torch cannot be used.",  # uv
    "Because torch (2.1.0) depends on jinja2 (*) which doesn't match any versions, torch is "
    "forbidden."])  # Poetry
def test_a_dependency_torch_pins_that_the_index_does_not_serve(text: str) -> None:
    f = first(text)
    assert f.category == "no-matching-distribution"
    assert "a dependency of the torch family" in f.message and f.fix == "pipguard install torch"


@pytest.mark.parametrize("text", [
    "ERROR: No matching distribution found for jinja2",  # asked by the user, not by torch
    "  ╰─▶ Because there is no version of jinja2 and mylib==1.0 depends on jinja2, we can",
    # a download that failed, an offline install, PyPI among the indexes: other causes
    "Could not fetch URL https://pypi.org/simple/filelock/: There was a problem confirming the "
    "ssl certificate - skipping\nERROR: Could not find a version that satisfies the requirement "
    "filelock (from torch) (from versions: none)",
    "pip install --no-index --find-links ./wheels torch\nERROR: Could not find a version that "
    "satisfies the requirement filelock (from torch) (from versions: none)",
    "Looking in indexes: https://pypi.org/simple, https://download.pytorch.org/whl/cu121\nERROR: "
    "Could not find a version that satisfies the requirement filelock (from torch) (from "
    "versions: none)",
    # a lower bound the listed versions don't reach: the Python's doing, said as such
    "Python 3.7.16\nERROR: Could not find a version that satisfies the requirement typing-"
    "extensions>=4.8.0 (from torch) (from versions: 4.6.0, 4.7.1)",
    "ERROR: Could not find a version that satisfies the requirement numpy==2.3.0 (from mylib) "
    "(from versions: 1.26.4)",
    "ERROR: Could not find a version that satisfies the requirement numpy==1.26.4 (from torch) "
    "(from versions: 1.26.4, 2.0.0)"])  # (the pin is there: another reason)
def test_a_missing_package_not_pinned_by_the_family_is_no_index_gap(text: str) -> None:
    assert "a dependency of the torch family" not in first(text).message


def test_a_dependency_the_index_does_not_serve_names_the_family_member_that_asked() -> None:
    text = ("$ pip install -r requirements.txt\nERROR: Could not find a version that satisfies the "
            "requirement pillow!=8.3.*,>=5.3.0 (from torchvision) (from versions: none)")
    assert first(text).fix == "pipguard install torchvision"


_RETRIED = ("WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status="
            "None)) after connection broken by '{}': /simple/torch/\nERROR: Could not find a "
            "version that satisfies the requirement torch (from versions: none)")


@pytest.mark.parametrize(("error", "fix"), [
    ("SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify "
     "failed: self signed certificate in certificate chain (_ssl.c:1129)'))",
     "pip config set global.cert /path/to/ca-bundle.pem"),
    ("ProxyError('Cannot connect to proxy.', OSError('Tunnel connection failed: 407 Proxy "
     "Authentication Required'))", "pip config set global.proxy http://PROXY:PORT"),
    ("NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f>: Failed "
     "to establish a new connection: [Errno -3] Temporary failure in name resolution')",
     "pipguard install --retries 10 --timeout 120 torch")])
def test_no_versions_after_the_index_was_unreachable(error: str, fix: str) -> None:
    f = first(_RETRIED.format(error))
    assert f.category == "no-matching-distribution" and f.message.startswith("pip never read")
    assert f.fix == fix


def test_versions_listed_after_a_retry_are_not_the_networks_doing() -> None:
    text = _RETRIED.format("NewConnectionError('x: Failed to establish a new connection')")
    text = text.replace("(from versions: none)", "(from versions: 2.4.0, 2.5.0)")
    assert not first(text).message.startswith("pip never read")


@pytest.mark.parametrize(("text", "fix"), [
    ("$ uv pip install torch\nerror: Failed to fetch: `https://pypi.org/simple/torch/`\n  Caused "
     "by: Request failed after 3 retries\n  Caused by: error sending request for url (https://"
     "pypi.org/simple/torch/)\n  Caused by: client error (Connect)\n  Caused by: invalid peer "
     "certificate: UnknownIssuer", "UV_NATIVE_TLS=1 uv pip install torch"),
    ("pip install torch\nHTTPSConnectionPool(host='pypi.org', port=443): Max retries exceeded "
     "with url: /simple/torch/ (Caused by SSLError(SSLCertVerificationError(1, '[SSL: "
     "CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer "
     "certificate (_ssl.c:1006)')))", "pip config set global.cert /path/to/ca-bundle.pem")])
def test_an_index_certificate_the_installer_does_not_trust(text: str, fix: str) -> None:
    found = explain(text, Context(facts=REAL, wording="auto"))
    assert [f.category for f in found] == ["download-integrity"]  # not "cut off" as well
    assert "does not trust the certificate" in found[0].message and found[0].fix == fix


@pytest.mark.parametrize("text", [
    # a program fetching a model after an install that succeeded: not the installer's index
    "pip install transformers\nSuccessfully installed transformers-4.40.0\nDownloading (…)config."
    "json\nrequests.exceptions.SSLError: HTTPSConnectionPool(host='huggingface.co', port=443): "
    "(Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] "
    "certificate verify failed')))",
    "Downloading https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz\nurllib.error.URLError: "
    "<urlopen error [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed>"])
def test_another_programs_certificate_failure_is_no_install_finding(text: str) -> None:
    assert "download-integrity" not in categories(text)


@pytest.mark.parametrize("text", [
    "Successfully installed requests-2.31.0\nCould not fetch URL https://pypi.org/simple/pip/: "
    "There was a problem confirming the ssl certificate: (Caused by SSLError(SSLCertVerification"
    "Error(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed'))) - skipping",
    "Downloading http://yann.lecun.com/exdb/mnist/train-images-idx3-ubyte.gz\nFailed to download "
    "(trying next):\n<urlopen error [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed>",
    "$ uv venv --python 3.12\nerror: Failed to download https://github.com/indygreg/python-build-"
    "standalone/releases/download/cpython-3.12.4.tar.gz\n  Caused by: invalid peer certificate: "
    "UnknownIssuer"])
def test_a_certificate_failure_that_is_not_an_index_read_is_no_finding(text: str) -> None:
    assert "download-integrity" not in categories(text)


@pytest.mark.parametrize(("text", "fix"), [
    ("Updating dependencies\nResolving dependencies...\n\nSSLError\n\nHTTPSConnectionPool(host="
     "'pypi.org', port=443): Max retries exceeded with url: /pypi/torch/json (Caused by SSLError("
     "SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed')))",
     "poetry config certificates.REPOSITORY.cert /path/to/ca-bundle.pem"),
    ("critical libmamba Download error (60) SSL peer certificate or SSH remote key was not OK "
     "[https://conda.anaconda.org/conda-forge/linux-64/repodata.json]",
     "conda config --set ssl_verify /path/to/ca-bundle.pem")])
def test_poetry_and_mamba_certificate_failures(text: str, fix: str) -> None:
    assert first(text, Context(facts=REAL, wording="auto")).fix == fix


def test_a_refused_index_that_held_the_package_page_is_said() -> None:
    text = ("Looking in indexes: https://pypi.org/simple, https://pypi.acme.internal/simple\nCould "
            "not fetch URL https://pypi.acme.internal/simple/acme-utils/: There was a problem "
            "confirming the ssl certificate: (Caused by SSLError(SSLCertVerificationError(1, "
            "'[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed'))) - skipping\nERROR: "
            "Could not find a version that satisfies the requirement acme-utils (from versions: "
            "none)")
    assert first(text).message.startswith("pip never read the index")


def test_condas_certificate_failure_gets_condas_setting() -> None:
    text = ("CondaSSLError: Encountered an SSL error. Most likely a certificate verification "
            "issue.\nException: HTTPSConnectionPool(host='conda.anaconda.org', port=443): (Caused "
            "by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] "
            "certificate verify failed')))")
    assert first(text).fix == "conda config --set ssl_verify /path/to/ca-bundle.pem"


def test_a_certificate_failure_on_one_of_two_indexes_is_said() -> None:
    text = ("Looking in indexes: https://artifactory.corp/simple, https://download.pytorch.org/whl/"
            "cu121\nCould not fetch URL https://download.pytorch.org/whl/cu121/torch/: There was a "
            "problem confirming the ssl certificate: (Caused by SSLError(SSLCertVerificationError("
            "1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed'))) - skipping\n"
            "ERROR: Could not find a version that satisfies the requirement torch==2.1.0+cu121 "
            "(from versions: 1.13.1, 2.0.1, 2.1.0)")
    assert "does not trust the certificate" in first(text).message


def test_a_model_downloads_certificate_is_no_install_finding() -> None:
    text = ("requests.exceptions.SSLError: HTTPSConnectionPool(host='huggingface.co', port=443): "
            "Max retries exceeded with url: /bert/resolve/main/config.json (Caused by SSLError("
            "SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify "
            "failed')))")
    assert explain(text, Context(facts=REAL)) == ()


def test_release_not_built_for_that_variant(kb: ExplainFacts) -> None:
    text = ("Looking in indexes: https://download.pytorch.org/whl/cu118\nERROR: Could not find a "
            "version that satisfies the requirement torch==2.8.0 (from versions: 2.6.0+cu118, "
            "2.7.0+cu118, 2.7.1+cu118)")
    f = first(text, Context(facts=kb))
    assert "not built for cu118" in f.message and "cu126" in f.message
    assert f.fix == "pipguard install torch==2.8.0"


def test_python_tag_missing_on_this_platform(kb: ExplainFacts) -> None:
    text = ("ERROR: Could not find a version that satisfies the requirement torch==2.5.1 (from "
            "versions: 2.6.0, 2.7.0, 2.7.1)")
    f = first(text, Context(facts=kb, python_version="3.13", platform="win32", machine="AMD64"))
    assert "no cp313 wheels on this platform" in f.message
    assert f.fix == 'pipguard install "torch>=2.6.0"'


def test_placeholder_versions_mean_no_wheel_at_all(no_kb: ExplainFacts) -> None:
    text = ("ERROR: Could not find a version that satisfies the requirement torch>=1.0.0 (from -r "
            "requirements.txt (line 1)) (from versions: 0.1.2, 0.1.2.post1, 0.1.2.post2)")
    f = first(text, Context(facts=no_kb, platform="win32", machine="x86"))
    assert "32-bit" in f.message


def test_triton_on_windows() -> None:
    text = ("ERROR: Could not find a version that satisfies the requirement triton (from "
            "versions: none)\nERROR: No matching distribution found for triton")
    f = first(text, Context(facts=REAL, platform="win32"))
    assert "Linux wheels only" in f.message and f.fix == "pipguard install torch"


def test_not_a_supported_wheel() -> None:
    text = ("ERROR: torch-2.5.1+cu124-cp311-cp311-linux_x86_64.whl is not a supported wheel on "
            "this platform.")
    f = first(text, Context(facts=REAL, python_version="3.12"))
    assert f.category == "no-matching-distribution" and "cp311-linux_x86_64" in f.message
    assert f.fix == "pipguard install torch==2.5.1"
    assert "(Python 3.12)" in f.message  # (the interpreter's, not the wheel's own cp311)


def test_not_a_supported_wheel_names_the_python_that_ran_pip() -> None:
    text = ("$ python3.12 -m pip install flash_attn-2.6.3-cp310-cp310-linux_x86_64.whl\n"
            "ERROR: flash_attn-2.6.3-cp310-cp310-linux_x86_64.whl is not a supported wheel on "
            "this platform.")
    assert "interpreter (Python 3.12) cannot use" in first(text).message
    assert "interpreter cannot use" in first(text.split("\n", 1)[1]).message


def test_uv_distribution_without_a_wheel_for_this_python() -> None:
    f = first(fixture("uv_no_wheel_cp313.txt"))
    assert f.category == "no-matching-distribution" and "does not exist" not in f.message
    assert "cp313" in f.message and "cp312" in f.message


def test_poetry_wording() -> None:
    f = first("Unable to find installation candidates for torch (2.3.0+cu121)")
    assert f.category == "no-matching-distribution" and "2.3.0+cu121" in f.message
    assert f.fix == "pipguard install torch==2.3.0"


# -- download-integrity ------------------------------------------------------------------


def test_complete_download_with_wrong_hash_warns_of_tampering() -> None:
    f = first(fixture("pip_hash_complete.txt"))
    assert f.category == "download-integrity" and "cut off" not in f.message
    assert "altered" in f.message
    assert "1111111111" in f.evidence and "fb5de4f1" in f.evidence
    assert f.fix == "pip cache remove torch && pipguard install torch==2.4.1"


def test_progress_redraws_before_a_complete_download_are_not_a_cut() -> None:
    bars = "".join(f"\r   {n}.0/797.1 MB 9 MB/s" for n in (100, 400, 700)) + "\r   797.1/797.1 MB\n"
    f = first("Downloading torch-2.4.1-cp311-cp311-manylinux1_x86_64.whl (797.1 MB)\n" + bars
              + fixture("pip_hash_complete.txt").split("\n", 3)[3])
    assert f.category == "download-integrity" and "cut off" not in f.message


def test_uv_hash_mismatch() -> None:
    f = first(fixture("uv_hash_mismatch.txt"))
    assert f.category == "download-integrity"
    assert "3c96b2ec" in f.evidence and "5b8e61a9" in f.evidence
    assert "torch==2.5.1+cu124" in f.fix


def test_incomplete_read_is_a_cut_download() -> None:
    f = first(fixture("pip_incomplete_read.txt"))
    assert f.category == "download-integrity" and "401.2/779.1 MB" in f.message
    assert "--retries" in f.fix


def test_bad_zip_clears_the_cache() -> None:
    f = first(fixture("bad_zip.txt"))
    assert f.category == "download-integrity" and "zip" in f.message
    assert f.fix.startswith("pip cache remove ")


# -- corrupt-install ----------------------------------------------------------------------


def test_missing_torch_library_on_linux() -> None:
    text = ("Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\n"
            "OSError: /srv/venv/lib/python3.10/site-packages/torch/lib/libtorch_cuda.so: cannot "
            "open shared object file: No such file or directory")  # fmt: skip
    f = first(text, Context(facts=REAL, installed={"torch": "2.5.1+cu124"}))
    assert f.category == "corrupt-install"
    assert f.fix == "pipguard install --force-reinstall torch==2.5.1+cu124"


def test_windows_dll_of_torch_itself() -> None:
    """c10.dll is the first DLL torch loads: failing "or one of its dependencies", it is
    the VC++ runtime that is missing (what the fix in real threads was); a damaged torch
    comes second."""
    found = explain(fixture("win_dll_c10.txt"), Context(facts=REAL))
    assert [f.category for f in found[:2]] == ["cuda-libraries", "corrupt-install"]
    assert "VC++" in found[0].message and found[0].fix.startswith("winget install")


def test_half_renamed_leftover_directory() -> None:
    text = ("WARNING: Ignoring invalid distribution -orch (/home/u/.venv/lib/python3.11/"
            "site-packages)\nRequirement already satisfied: numpy in ./.venv/lib/python3.11/"
            "site-packages (1.26.4)")  # fmt: skip
    f = first(text)
    assert (f.category, f.severity) == ("corrupt-install", "warning")
    assert f.fix == ("rm -rf '/home/u/.venv/lib/python3.11/site-packages'/~orch* "
                     "&& pipguard verify torch")


def test_half_renamed_leftover_directory_on_windows() -> None:
    text = r"WARNING: Ignoring invalid distribution ~orch (C:\Python311\Lib\site-packages)"
    assert first(text).fix == (r'rmdir /s /q "C:\Python311\Lib\site-packages\~orch"'
                               " && pipguard verify torch")


def test_torch_symbol_missing_from_torch_itself_is_a_mixed_install() -> None:
    text = ("ImportError: /opt/venv/lib/python3.11/site-packages/torch/lib/libtorch_cpu.so: "
            "undefined symbol: _ZN3c1017RegisterOperatorsD1Ev")  # fmt: skip
    assert categories(text) == ["corrupt-install"]


def test_missing_record_installs_over_it() -> None:
    text = ("error: uninstall-no-record-file\n\u00d7 Cannot uninstall torch 2.1.0\n\u2570\u2500> "
            "The package's contents are unknown: no RECORD file was found for torch.")
    f = first(text)
    assert f.category == "corrupt-install"
    assert f.fix == "pipguard install --ignore-installed torch==2.1.0"


def test_distutils_project_installs_over_it() -> None:
    text = ("ERROR: Cannot uninstall 'blinker'. It is a distutils installed project and thus we "
            "cannot accurately determine which files belong to it")
    assert first(text).fix == "pipguard install --ignore-installed blinker"


def test_missing_dist_info_file() -> None:
    text = ("ERROR: Could not install packages due to an OSError: [Errno 2] No such file or "
            "directory: '/usr/local/lib/python3.10/site-packages/numpy-1.26.4.dist-info/METADATA'")
    f = first(text)
    assert f.category == "corrupt-install" and f.fix == (
        "pipguard install --force-reinstall numpy==1.26.4")


def test_dll_load_failed_for_torch_c() -> None:
    """Python 3.8+'s wording of what 3.7 printed as "DLL load failed: The specified module
    could not be found": a DLL torch's _C needs is missing (the VC++ runtime, mostly)."""
    text = ('  File "C:\\Python311\\Lib\\site-packages\\torch\\__init__.py", line 262\n'
            "ImportError: DLL load failed while importing _C: The specified module could not be "
            "found.")
    assert categories(text)[0] == "cuda-libraries"
    assert categories(text.replace(" while importing _C", ""))[0] == "cuda-libraries"


# -- companion-mismatch -------------------------------------------------------------------


def test_custom_ops_with_installed_versions(kb: ExplainFacts) -> None:
    text = ("RuntimeError: Couldn't load custom C++ ops. This can happen if your PyTorch and "
            "torchvision versions are incompatible, or if you had errors while compiling "
            "torchvision from source.")  # fmt: skip
    ctx = Context(facts=kb, installed={"torch": "2.3.0+cu121", "torchvision": "0.17.1+cu121"})
    f = first(text, ctx)
    assert f.category == "companion-mismatch" and "0.18.0" in f.message
    assert f.fix == "pipguard install --force-reinstall torch==2.3.0 torchvision==0.18.0"


def test_cpu_torch_with_pypi_torchvision_names_the_variants(kb: ExplainFacts) -> None:
    case = next(c for c in examples() if c["id"] == "PTF-015")
    ctx = Context(facts=kb, installed={"torch": "2.2.1+cpu", "torchvision": "0.17.1"})
    f = first(str(case["symptom"]), ctx)
    assert "cpu vs PyPI" in f.message
    assert f.fix == "pipguard install --force-reinstall torch==2.2.1 torchvision==0.17.1"


def test_different_cuda_major_versions() -> None:
    text = ("RuntimeError: Detected that PyTorch and torchvision were compiled with different "
            "CUDA major versions. PyTorch has CUDA Version=11.8 and torchvision has CUDA "
            "Version=12.1. Please reinstall the torchvision that matches your PyTorch install.")
    f = first(text)
    assert f.category == "companion-mismatch" and "11.8 vs 12.1" in f.message


def test_torchaudio_undefined_torch_symbol() -> None:
    f = first(fixture("torchaudio_undefined.txt"))
    assert f.category == "companion-mismatch" and "torchaudio" in f.message
    assert "torchaudio" in f.fix


def test_third_party_extension_built_for_another_torch() -> None:
    text = ("ImportError: /home/u/.venv/lib/python3.10/site-packages/flash_attn_2_cuda.cpython-"
            "310-x86_64-linux-gnu.so: undefined symbol: _ZN3c104cuda9SetDeviceEi")  # fmt: skip
    f = first(text)
    assert f.category == "companion-mismatch"
    assert f.fix == "pipguard install --force-reinstall --no-deps flash-attn"


def test_torchaudio_cuda_versions_differ() -> None:
    text = ("RuntimeError: Detected that PyTorch and TorchAudio were compiled with different CUDA "
            "versions. PyTorch has CUDA version 12.4 whereas TorchAudio has CUDA version 12.1.")
    f = first(text)
    assert f.category == "companion-mismatch" and "12.4 vs 12.1" in f.message
    assert "torchaudio" in f.fix


def test_extension_linking_a_torch_library_of_another_release() -> None:
    f = first(fixture("mmcv_libc10.txt"))
    assert f.category == "companion-mismatch" and f.message.startswith("mmcv")
    assert f.fix == "pipguard install --force-reinstall --no-deps mmcv"
    assert "corrupt-install" not in categories(fixture("mmcv_libc10.txt"))


def test_xformers_built_for_another_torch() -> None:
    text = ("WARNING[XFORMERS]: xFormers can't load C++/CUDA extensions. xFormers was built for:"
            "\n    PyTorch 2.1.0+cu121 with CUDA 1201 (you have 2.2.0+cu121)")  # fmt: skip
    assert first(text).category == "companion-mismatch"


# -- numpy-abi and typing-extensions --------------------------------------------------------


def test_numpy2_on_windows_torch_2_2(kb: ExplainFacts) -> None:
    text = fixture("numpy_windows_torch222.txt")
    f = first(text, Context(facts=kb, installed={"torch": "2.2.2"}))
    assert f.category == "numpy-abi" and categories(text, Context(facts=kb)) == [
        "numpy-abi"]
    assert "NumPy 2.1.2" in f.message and "predates NumPy 2" in f.message
    assert f.fix == 'pipguard install "numpy<2"'


def test_could_not_infer_dtype_alone() -> None:
    f = first("RuntimeError: Could not infer dtype of numpy.float32")
    assert f.category == "numpy-abi" and "numpy<2" in f.fix


def test_numpy_absent_is_no_abi_mismatch() -> None:
    """torch runs without NumPy and warns so on import (a real torch 2.13 CPU install)."""
    text = ("/v/lib/python3.11/site-packages/torch/_subclasses/functional_tensor.py:368: "
            "UserWarning: Failed to initialize NumPy: No module named 'numpy' (Triggered "
            "internally at /__w/pytorch/pytorch/torch/csrc/utils/tensor_numpy.cpp:84.)\n"
            "2.13.0+cpu\ntensor([2., 2.])")
    assert "numpy-abi" not in categories(text)


def test_numpy_too_old_for_a_numpy2_module() -> None:
    f = first("ModuleNotFoundError: No module named 'numpy._core'")
    assert f.category == "numpy-abi" and f.fix == 'pipguard install "numpy>=2"'


def test_dtype_size_direction() -> None:
    newer = "ValueError: numpy.dtype size changed, may indicate binary incompatibility. " \
            "Expected 96 from C header, got 88 from PyObject"
    older = newer.replace("96", "XX").replace("88", "96").replace("XX", "88")
    assert first(newer).fix == 'pipguard install "numpy>=2"'
    assert first(older).fix == 'pipguard install "numpy<2"'


def test_typing_extensions_in_a_venv() -> None:
    text = ("ImportError: cannot import name 'TypeIs' from 'typing_extensions' (/home/u/venv/lib/"
            "python3.10/site-packages/typing_extensions.py)")  # fmt: skip
    f = first(text)
    assert f.category == "typing-extensions" and "dist-packages" not in f.message
    assert f.fix == 'pipguard install --upgrade "typing_extensions>=4.10"'


def test_typing_extensions_attribute_error() -> None:
    f = first("AttributeError: module 'typing_extensions' has no attribute 'deprecated'")
    assert f.category == "typing-extensions" and "4.5" in f.fix


# -- driver, GPU architecture, CPU build, CUDA libraries -------------------------------------


def test_driver_12080_with_a_cu130_torch(kb: ExplainFacts) -> None:
    text = ("/usr/lib/python3/site-packages/torch/cuda/__init__.py:129: UserWarning: CUDA "
            "initialization: The NVIDIA driver on your system is too old (found version 12080)."
            " Please update your GPU driver")  # fmt: skip
    f = first(text, Context(facts=kb, installed={"torch": "2.11.0+cu130",
                                                 "torchvision": "0.26.0+cu130"}))
    assert f.category == "driver-too-old"
    assert "12.8" in f.message and "CUDA 13.0" in f.message and ">= 580" in f.message
    assert f.fix == "pipguard install --force-reinstall torch==2.11.0 torchvision"


def test_insufficient_driver_uses_the_hardware_context() -> None:
    hw = Hardware(accelerator="nvidia", driver_version="470.82", cuda_driver_api="11.4",
                  gpus=(Gpu("nvidia", "Tesla T4", "7.5"),))  # fmt: skip
    text = "RuntimeError: CUDA error: CUDA driver version is insufficient for CUDA runtime version"
    f = first(text, Context(facts=REAL, hardware=hw))
    assert f.category == "driver-too-old" and "11.4" in f.message


def test_no_driver_on_a_machine_without_gpu() -> None:
    text = "RuntimeError: Found no NVIDIA driver on your system. Please check that you have an"
    f = first(text, Context(facts=REAL, hardware=Hardware()))
    assert (f.category, f.severity) == ("gpu-build-without-gpu", "warning")
    assert "--torch-backend cpu" in f.fix


def test_pascal_on_cu128_wants_cu126(kb: ExplainFacts) -> None:
    found = explain(fixture("sm61_on_cu128.txt"), Context(facts=kb))
    assert [f.category for f in found] == ["gpu-arch-unsupported"]
    assert "GTX 1080 Ti (sm_61, Pascal)" in found[0].message and "cu126" in found[0].message
    assert found[0].fix == ("pipguard install --force-reinstall --torch-backend cu126 "
                            "--gpu-arch sm_61 torch")


def test_kepler_without_tables(no_kb: ExplainFacts) -> None:
    f = first(fixture("kepler.txt"), Context(facts=no_kb))
    assert f.category == "gpu-arch-unsupported" and "Tesla K80 (sm_37" in f.message
    assert "--torch-backend cu118" in f.fix


def test_no_kernel_image_with_a_volta_in_context(no_kb: ExplainFacts) -> None:
    hw = Hardware(accelerator="nvidia", gpus=(Gpu("nvidia", "Tesla V100-SXM2-16GB", "7.0"),))
    text = "RuntimeError: CUDA error: no kernel image is available for execution on the device"
    f = first(text, Context(facts=no_kb, hardware=hw))
    assert "V100" in f.message and "cu126" in f.fix and "--gpu-arch" not in f.fix


def test_old_torch_gpu_needs_newer_cuda() -> None:
    text = ("UserWarning: Found GPU0 NVIDIA GeForce RTX 3090 which requires CUDA_VERSION >= 11000 "
            "to work properly, but your PyTorch was compiled with CUDA_VERSION 10020.")
    f = first(text)
    assert f.category == "gpu-arch-unsupported" and "CUDA >= 11.0" in f.message


def test_rocm_gfx_target_missing() -> None:
    text = ("rocBLAS error: Cannot read /opt/rocm/lib/rocblas/library/TensileLibrary.dat: No such "
            "file or directory for GPU arch : gfx1031")
    f = first(text)
    assert f.category == "gpu-arch-unsupported" and "gfx1031" in f.message


def test_collect_env_cpu_build_on_gpu_machine() -> None:
    f = first(fixture("collect_env_cpu_build.txt"))
    assert f.category == "cpu-build-on-gpu" and "H100" in f.message and "2.11.0+cpu" in f.message
    assert f.fix == "pipguard install --force-reinstall torch==2.11.0"


def test_collect_env_driver_under_the_floor(kb: ExplainFacts) -> None:
    f = first(fixture("collect_env_old_driver.txt"), Context(facts=kb))
    assert f.category == "driver-too-old" and "12.4" in f.message and ">= 580" in f.message


def test_healthy_collect_env_gives_nothing(kb: ExplainFacts) -> None:
    assert explain(fixture("collect_env_h100_ok.txt"), Context(facts=kb)) == ()


def test_no_kernel_image_without_context() -> None:
    f = first("torch.AcceleratorError: CUDA error: no kernel image is available for execution")
    assert f.category == "gpu-arch-unsupported" and f.fix.startswith("pipguard install")


def test_not_compiled_with_cuda_on_a_gpu_machine() -> None:
    hw = Hardware(accelerator="nvidia", gpus=(Gpu("nvidia", "NVIDIA GeForce RTX 4090", "8.9"),))
    text = ('  File "/app/x.py", line 3, in <module>\n    torch.zeros(1).cuda()\n'
            "AssertionError: Torch not compiled with CUDA enabled")  # fmt: skip
    f = first(text, Context(facts=REAL, hardware=hw, installed={"torch": "2.5.1+cpu"}))
    assert f.category == "cpu-build-on-gpu" and "RTX 4090" in f.message
    assert f.fix == "pipguard install --force-reinstall torch==2.5.1"


def test_windows_pypi_wheel_is_the_cpu_build() -> None:
    text = ">>> torch.__version__\n'2.5.1'\n>>> torch.cuda.is_available()\nFalse\n"
    f = first(text, Context(facts=REAL, platform="win32", installed={"torch": "2.5.1"}))
    assert f.category == "cpu-build-on-gpu" and "Windows" in f.message


@pytest.mark.parametrize("text", [
    ">>> torch.cuda.is_available()\nFalse\n",
    "but cuda.is_available() returns false",
    "- CUDA Support (`python -c \"import torch; print(torch.cuda.is_available())\"`) : False"])
def test_cuda_false_alone_is_a_cpu_build_most_often(text: str) -> None:
    """Pasted where a GPU was expected, a bare False is a CPU build far more often than a
    missing driver: a warning that says so, with doctor to tell them apart."""
    f = first(text, Context(facts=REAL, platform="linux"))
    assert (f.category, f.severity, f.fix) == ("cpu-build-on-gpu", "warning", "pipguard doctor")
    assert "most often" in f.message


def test_a_program_s_own_no_gpu_on_windows_is_the_cpu_wheel_most_often() -> None:
    text = "No GPU being used. Careful, inference might be very slow!"
    f = first(text, Context(facts=REAL, platform="win32"))
    assert (f.category, f.severity) == ("cpu-build-on-gpu", "warning")
    assert "cpu-build-on-gpu" not in categories(text, Context(facts=REAL, platform="linux"))


@pytest.mark.parametrize("text", [
    "torch.cuda.is_available(): True\ntorch.backends.mps.is_available(): False\n",
    "  cuda.is_available(): True\n  fp16: False\n",
    ">>> torch.backends.mps.is_available()\nFalse\n",
    '    device = "cuda" if torch.cuda.is_available() else "cpu"\n'
    '    net = Net(pretrained=False)\n',
    "SKIPPED [2] tests/test_model.py:88: torch.cuda.is_available() is False",
    "torch.cuda.is_available() -> True ; deterministic=False\n"])
def test_a_false_that_is_not_cuda_s_is_no_cpu_build(text: str) -> None:
    """Another backend's False, another setting's, code and a test skip: not CUDA's answer."""
    assert "cpu-build-on-gpu" not in categories(text, Context(facts=REAL, platform="linux"))


def test_cuda_false_beside_a_rule_s_finding_adds_nothing() -> None:
    text = ">>> torch.__version__\n'2.5.1+cpu'\n>>> torch.cuda.is_available()\nFalse\nnvidia-smi"
    found = explain(text, Context(facts=REAL, platform="linux"))
    assert [(f.category, f.severity) for f in found] == [("cpu-build-on-gpu", "error")]


def test_cuda_false_cut_at_a_terminal_s_width_is_read_joined() -> None:
    row = "x" * 60 + " torch.cuda.is_avail"
    text = f"{row}\nable() returns False\n{'y' * 80}"
    assert len(row) == 80 and categories(text, Context(facts=REAL, platform="linux")) == [
        "cpu-build-on-gpu"]


def test_cuda_false_after_a_rule_s_warning_comes_second() -> None:
    text = ("pip install torch --extra-index-url https://download.pytorch.org/whl/cu121\n"
            "Successfully installed torch-2.5.1\n>>> torch.cuda.is_available()\nFalse")
    found = explain(text, Context(facts=REAL, platform="linux"))
    assert [f.category for f in found][-1] == "cpu-build-on-gpu" and len(found) >= 2


@pytest.mark.parametrize("text", [
    "In [2]: torch.cuda.is_available()\nOut[2]: False", "torch.cuda.is_available()  # False",
    "torch.cuda.is_available() is still False", "cuda.is_available() always returns False"])
def test_cuda_false_in_other_everyday_forms(text: str) -> None:
    assert categories(text, Context(facts=REAL, platform="linux")) == ["cpu-build-on-gpu"]


def test_numpy_missing_where_it_is_needed_is_installed() -> None:
    text = ("UserWarning: Failed to initialize NumPy: No module named 'numpy' (Triggered "
            "internally at tensor_numpy.cpp:84.)\nRuntimeError: Numpy is not available")
    f = first(text)
    assert f.category == "numpy-abi" and f.fix == "pipguard install numpy"


def test_cuda_false_on_a_machine_known_to_have_an_nvidia_gpu_warns() -> None:
    hw = Hardware(accelerator="nvidia", gpus=(Gpu("nvidia", "NVIDIA GeForce RTX 4090", "8.9"),))
    f = first(">>> torch.cuda.is_available()\nFalse\n", Context(facts=REAL, hardware=hw))
    assert (f.category, f.severity) == ("cpu-build-on-gpu", "warning")


@pytest.mark.parametrize("hw", [Hardware(), Hardware(accelerator="apple")])
def test_cuda_false_on_a_machine_without_an_nvidia_gpu_is_no_finding(hw: Hardware) -> None:
    ctx = Context(facts=REAL, platform="linux", hardware=hw)
    assert explain(">>> torch.cuda.is_available()\nFalse\n", ctx) == ()


def test_cuda_false_on_a_mac_is_no_finding() -> None:
    assert explain(">>> torch.cuda.is_available()\nFalse\n", Context(
        facts=REAL, platform="darwin")) == ()


def test_dgl_without_an_adapter_for_this_torch() -> None:
    text = ("/opt/dgl/src/runtime/tensordispatch.cc:43: TensorDispatcher: dlopen failed: /e/lib/"
            "python3.8/site-packages/dgl/tensoradapter/pytorch/libtensoradapter_pytorch_1.10.2"
            ".so: cannot open shared object file: No such file or directory")
    f = first(text)
    assert f.category == "companion-mismatch" and f.message.startswith("dgl's")


def test_dgl_without_graphbolt_for_this_torch() -> None:
    text = ("FileNotFoundError: Cannot find DGL C++ graphbolt library at /v/lib/python3.11/site-"
            "packages/dgl/graphbolt/libgraphbolt_pytorch_2.4.0.so")
    f = first(text)
    assert f.category == "companion-mismatch" and f.message.startswith("dgl's")


@pytest.mark.parametrize("text", [
    "  what():  nvrtc: error: failed to open libnvrtc-builtins.so.11.3.\n  Make sure that "
    "libnvrtc-builtins.so.11.3 is installed correctly.\nnvrtc compilation failed:",
    "RuntimeError: nvrtc: error: failed to open nvrtc-builtins64_121.dll.\n  Make sure that "
    "nvrtc-builtins64_121.dll is installed correctly."])
def test_nvrtc_without_its_builtins_library(text: str) -> None:
    f = first(text)
    assert f.category == "cuda-libraries" and f.severity == "error"
    assert f.fix == "pipguard install --force-reinstall torch"


def test_nvrtc_builtins_under_libtorchs_hashed_name() -> None:
    text = ("Torch(\"The following operation failed in the TorchScript interpreter. (libtorch "
            "2.0.0+cu117)\nCUDA NVRTC compile error: nvrtc: error: failed to open libnvrtc-"
            "builtins.so.11.7.  Make sure that libnvrtc-builtins.so.11.7 is installed correctly.")
    f = first(text)
    assert f.category == "cuda-libraries" and "hashed name" in f.message


def test_a_listing_of_dgls_libraries_is_no_finding() -> None:
    text = ("ls dgl/graphbolt: libgraphbolt_pytorch_2.1.0.so  libgraphbolt_pytorch_2.2.0.so\n"
            "ERROR: torch 2.3.0 not found for cu121 variant")  # (reread as one line: no gap)
    assert "companion-mismatch" not in categories(text)


def test_natten_built_for_another_torch() -> None:
    f = first("ImportError: Failed to import libnatten. This could be due to an invalid/incomplete "
              "install. Please make sure you built NATTEN correctly")
    assert f.category == "companion-mismatch" and f.message.startswith("natten's")


def test_from_numpy_on_a_numpy_2_array_with_torch_built_for_numpy_1() -> None:
    assert first("TypeError: expected np.ndarray (got numpy.ndarray)").category == "numpy-abi"


def test_installing_a_companion_that_pulls_another_torch() -> None:
    text = ("pip install xformers\nCollecting xformers\n  Using cached xformers-0.0.22-cp310-"
            "cp310-win_amd64.whl (97.6 MB)\nCollecting torch==2.0.1\n  Using cached torch-2.0.1-"
            "cp310-cp310-win_amd64.whl (172.3 MB)")
    f = first(text)
    assert f.category == "companion-mismatch" and "pulls torch 2.0.1" in f.message


@pytest.mark.parametrize("text", [
    "pip install torchvision\nCollecting torchvision\nCollecting torch==2.1.0 (from torchvision)\n"
    "Installing collected packages: torch, torchvision\nSuccessfully installed torch-2.1.0 "
    "torchvision-0.16.0",  # a fresh environment: nothing replaced
    "pip download torchvision==0.16.0\nCollecting torchvision==0.16.0\nCollecting torch==2.1.0 "
    "(from torchvision==0.16.0)\nSaved ./torch-2.1.0-cp311-cp311-manylinux1_x86_64.whl"])
def test_a_companion_collecting_its_torch_in_a_healthy_run_is_no_finding(text: str) -> None:
    assert "companion-mismatch" not in categories(text)


def test_installing_torch_itself_pulls_no_companion_finding() -> None:
    text = "pip install torch==2.0.1\nCollecting torch==2.0.1\n  Downloading torch-2.0.1.whl"
    assert "companion-mismatch" not in categories(text)


def test_uv_derivation_ending_in_incompatible_is_a_conflict() -> None:
    text = ("  ╰─▶ Because only fms-model-optimizer==0.2.0 is available and\n      fms-model-"
            "optimizer==0.2.0 depends on torch>=2.1,<2.5, we can conclude\n      that fms-model-"
            "optimizer==0.2.0 depends on torch>=2.1,<2.5.\n      And because vllm>=0.8.5 depends "
            "on torch==2.6.0, we can conclude that\n      fms-model-optimizer==0.2.0 and vllm>="
            "0.8.5 are incompatible.")
    f = first(text)
    assert f.category == "resolver-conflict" and "torch<2.5,>=2.1" in f.message


@pytest.mark.parametrize(("text", "category"), [
    pytest.param("  ╰─▶ Because only torch<=2.2.2 is available and torchvision==0.20.1 depends on "
                 "torch==2.5.1, we can conclude that torchvision==0.20.1 and torch>2.2.2 are "
                 "incompatible.", "no-matching-distribution",
                 id="the needed release is the missing one"),
    pytest.param("  ╰─▶ Because only torchvision<=0.18.1 is available and mylib==1.0.0 depends on "
                 "torchvision>=0.17, we can conclude that mylib==1.0.0 depends on torchvision>="
                 "0.17,<=0.18.1.\n      And because torchvision>=0.17,<=0.18.1 depends on "
                 "torch<2.4, we can conclude that mylib==1.0.0 and torch==2.4.0 are incompatible.",
                 "resolver-conflict", id="what is available satisfies the requirement"),
    pytest.param("  ╰─▶ Because only torchvision<=0.20.1 is available and torchvision>=0.20.0 "
                 "depends on torch==2.5.1, we can conclude that torchvision>=0.20.0 depends on "
                 "torch==2.5.1.\n      And because you require torch==2.4.0 and torchvision>="
                 "0.20.0, we can conclude that your requirements are unsatisfiable.",
                 "resolver-conflict", id="a conflict ending in unsatisfiable requirements"),
    pytest.param("  ╰─▶ Because only torch<=2.2.2 is available and you require torch>=2.3, we can "
                 "conclude that your requirements are unsatisfiable.", "no-matching-distribution",
                 id="a missing release ending in unsatisfiable requirements")])
def test_uv_only_x_is_available_a_conflict_or_a_missing_release(text: str, category: str) -> None:
    assert first(text).category == category


def test_uv_all_versions_have_no_wheels_for_this_python() -> None:
    text = ("Because all versions of torch have no wheels with a matching Python ABI tag (e.g. "
            "cp312), we can conclude that all versions of torch cannot be used.")
    assert categories(text) == ["no-matching-distribution"]  # (no conflict besides)


def test_triton_linking_without_the_drivers_libcuda() -> None:
    f = first("/usr/bin/ld: cannot find -lcuda\ncollect2: error: ld returned 1 exit status")
    assert f.category == "cuda-libraries" and "TRITON_LIBCUDA_PATH" in f.fix


@pytest.mark.parametrize(("text", "plan"), [
    ("$ conda install -c pytorch torchvision\nThe following NEW packages will be INSTALLED:\n"
     "    torchvision:          0.2.1-py36_1                        pytorch\nThe following "
     "packages will be DOWNGRADED:\n    python:               3.7.0-hc3d631a_0            --> "
     "3.6.6-hc3d631a_0", "pipguard plan torchvision"),
    ("The following packages will be DOWNGRADED:\n\n  python        3.11.5-h955ad1f_0 --> "
     "3.10.13-h955ad1f_0\n  pytorch       2.1.0-py3.11 --> 2.0.1-py3.10", "pipguard plan torch")])
def test_conda_downgrading_python_for_a_family_package(text: str, plan: str) -> None:
    f = first(text)
    assert f.category == "no-matching-distribution" and f.fix == plan


def test_conda_downgrading_python_for_another_package_is_no_finding() -> None:
    text = "The following packages will be DOWNGRADED:\n    python: 3.7.0 --> 3.6.6\n    numpy: 1.2"
    assert "no-matching-distribution" not in categories(text)


def test_onnxruntime_without_the_cuda_it_was_built_for() -> None:
    text = ("D:\\a\\_work\\1\\s\\onnxruntime\\python\\onnxruntime_pybind_state.cc:857 "
            "onnxruntime::python::CreateExecutionProviderInstance CUDA_PATH is set but CUDA wasnt "
            "able to be loaded. Please install the correct version of CUDA and cuDNN")
    f = first(text)
    assert f.category == "cuda-libraries" and f.message.startswith("onnxruntime-gpu")


@pytest.mark.parametrize("text", [
    "YOLOv5  2022-4-22 torch 1.11.0+cpu CPU",
    "Ultralytics YOLOv8.0.54 Python-3.10.6 torch-2.0.0+cpu CPU"])
def test_a_frameworks_banner_naming_a_cpu_torch(text: str) -> None:
    f = first(text)
    assert (f.category, f.severity) == ("cpu-build-on-gpu", "warning")
    assert explain(text, Context(facts=REAL, platform="darwin")) == ()


def test_a_frameworks_banner_on_a_cuda_torch_is_no_finding() -> None:
    text = "Ultralytics YOLOv8.0.53 torch-1.8.1+cu111 CUDA:0 (NVIDIA GeForce RTX 3070, 8192MiB)"
    assert explain(text, Context(facts=REAL)) == ()


def test_extension_built_for_another_cuda_runtime() -> None:
    f = first(fixture("bitsandbytes_cudart.txt"))
    assert f.category == "cuda-libraries" and f.message.startswith("bitsandbytes")
    assert f.fix == "pipguard install --force-reinstall --no-deps bitsandbytes"


def test_paging_file_error_is_not_a_missing_library() -> None:
    text = ('OSError: [WinError 1455] The paging file is too small for this operation to complete.'
            ' Error loading "C:\\x\\torch\\lib\\cudnn_cnn_infer64_8.dll" or one of its '
            "dependencies.")
    assert "cuda-libraries" not in categories(text)


def test_zlibwapi_on_windows() -> None:
    assert categories("Could not locate zlibwapi.dll. Please make sure it is in your library "
                      "path!") == ["cuda-libraries"]


def test_missing_cudnn() -> None:
    f = first("OSError: libcudnn.so.9: cannot open shared object file: No such file or directory")
    assert f.category == "cuda-libraries" and "--force-reinstall" in f.fix


def test_cudnn8_could_not_load_library() -> None:
    text = ("Could not load library libcudnn_cnn_infer.so.8. Error: libnvrtc.so: cannot open "
            "shared object file: No such file or directory\nAborted (core dumped)")
    assert categories(text) == ["cuda-libraries"]


def test_windows_cudnn_dll_is_a_cuda_library_not_torch() -> None:
    assert categories(fixture("win_dll_cudnn.txt")) == ["cuda-libraries"]


def test_cudnn_version_incompatibility_blames_ld_library_path() -> None:
    f = first(fixture("ld_library_path_cudnn.txt"))
    assert f.category == "cuda-libraries" and "nvidia/cudnn/lib" in f.fix


def test_nccl_symbol_in_torch_lib_is_a_cuda_library() -> None:
    text = ("ImportError: /venv/lib/python3.11/site-packages/torch/lib/libtorch_cuda.so: "
            "undefined symbol: ncclCommRegister")  # fmt: skip
    assert categories(text) == ["cuda-libraries"]


# -- dependency-confusion and resolver-conflict ----------------------------------------------


def test_torchtriton_install_log() -> None:
    found = explain(fixture("torchtriton_install.txt"), Context(facts=REAL))
    assert found[0].category == "dependency-confusion" and found[0].severity == "error"
    assert "pip cache purge" in found[0].fix
    warn = [f for f in found if f.severity == "warning"]
    assert warn and warn[0].fix == "pipguard install torch torchvision torchaudio"


@pytest.mark.parametrize("text", [
    "PackagesNotFoundError: The following packages are not available from current channels:\n"
    "\n  - torchtriton==2.0.0=py310\n  - pytorch==2.0.1=py3.10_cuda11.8_cudnn8.7.0_0\n",
    "  pytorch/linux-64::torchtriton-2.0.0-py310\n",
    "torchtriton               2.0.0                     py310    pytorch\n",
    "  torchtriton        pytorch/linux-64::torchtriton-2.1.0-py310\n",  # a plan, name column
    "name: ml\nchannels:\n  - pytorch\ndependencies:\n  - pytorch=2.1.0\n  - torchtriton=2.1.0\n",
    "torchtriton               2.1.0+6e4932cda8          py310    pytorch-nightly\n",
    "  + torchtriton      2.1.0  py310                          pytorch/linux-64        93MB\n",
    "The following packages are incompatible\n├─ pytorch 2.1.0** is installable and it "
    "requires\n│  └─ torchtriton 2.1.0 , which requires\n"])
def test_conda_s_own_torchtriton_package_is_not_the_attack(text: str) -> None:
    """The pytorch conda channel's triton is named torchtriton; the attack was on PyPI."""
    assert "dependency-confusion" not in categories(text)


@pytest.mark.parametrize("text", [
    "torchtriton               2.0.0                    pypi_0    pypi\n",  # conda list: pip's
    "torchtriton 2.0.0+0d7e753227 requires filelock, which is not installed.\n",  # pip check
    "Requirement already satisfied: filelock in /opt/conda/lib/python3.10/site-packages (from "
    "torchtriton==2.0.0)\nSuccessfully installed torchtriton-2.0.0\n",  # pip in a conda image
    "# packages in environment at /opt/conda:\npip  23.3.1  py310h06a4308_0\n"
    "torchtriton               2.0.0                    pypi_0    pypi\n"])
def test_a_pip_installed_torchtriton_in_a_conda_environment_is_the_attack(text: str) -> None:
    assert categories(text)[0] == "dependency-confusion"


@pytest.mark.parametrize("text", [
    "Could not solve for environment specs\nEncountered problems while solving:\n  - package "
    "pytorch-2.0.1-py3.10_cuda11.8_cudnn8.7.0_0 requires torchtriton 2.0.0, but none of the "
    "providers can be installed\n",
    "torchtriton-2.1.0 | py310 | 93 MB | pytorch/linux-64\n",
    "# packages in environment at /opt/conda:\npip  23.3.1  py310h06a4308_0\n"
    "torchtriton               2.1.0                     py310    pytorch\n"])
def test_conda_s_torchtriton_beside_conda_s_pip_package_is_not_the_attack(text: str) -> None:
    assert "dependency-confusion" not in categories(text)


def test_the_attack_s_own_traces_beside_a_conda_listing_are_still_read() -> None:
    text = ("torchtriton               2.0.0                     py310    pytorch\n"
            "$ python check.py\nYou are affected")
    assert categories(text)[0] == "dependency-confusion"


def test_a_pip_torchtriton_beside_a_conda_one_is_still_the_attack() -> None:
    text = ("  pytorch/linux-64::torchtriton-2.0.0-py310\n"
            "Collecting torchtriton\n  Downloading torchtriton-2.0.0-cp310-cp310-linux_x86_64.whl")
    assert categories(text)[0] == "dependency-confusion"


def test_extra_index_url_success_warns_only() -> None:
    found = explain(fixture("pip_extra_index_success.txt"), Context(facts=REAL))
    assert [(f.category, f.severity) for f in found] == [("dependency-confusion", "warning")]
    assert found[0].fix == "pipguard install torch torchvision"


def test_uv_no_version_of_a_pin_the_pytorch_index_mirrors() -> None:
    text = ("$ uv pip install -r requirements.txt --extra-index-url https://download.pytorch.org/"
            "whl/cpu\n  × No solution found when resolving dependencies:\n  ╰─▶ Because there is "
            "no version of filelock==3.12.4 and you require filelock==3.12.4, we can conclude that "
            "the requirements are\n      unsatisfiable.")
    f = first(text, Context(facts=REAL, wording="auto"))
    assert f.category == "dependency-confusion" and "first index" in f.message
    assert f.fix == "uv pip install torch"


@pytest.mark.parametrize("text", [
    "Because there is no version of certifi==2024.8.30 and you require certifi==2024.8.30",
    # a mirrored name, but no PyTorch index in sight: a release that does not exist
    "Because there is no version of numpy==1.26.5 and you require numpy==1.26.5",
    "Because there is no version of torch==2.5.1+cu121 and you require torch==2.5.1+cu121",
    "Because there is no version of numpy==1.26.4+local and you require numpy==1.26.4+local"])
def test_uv_no_version_of_a_pin_the_index_does_not_mirror_is_no_confusion(text: str) -> None:
    assert "dependency-confusion" not in categories(text)


def test_uv_unsafe_best_match_with_the_pytorch_index() -> None:
    text = ("uv pip install torch --index-url https://download.pytorch.org/whl/cu124 "
            "--extra-index-url https://pypi.org/simple --index-strategy unsafe-best-match")
    f = first(text)
    assert (f.category, f.severity) == ("dependency-confusion", "warning")


def test_numpy_api_version_direction() -> None:
    older = ("RuntimeError: module compiled against API version 0x10 but this version of numpy "
             "is 0xe")
    assert first(older).fix == "pipguard install --upgrade numpy"
    abi = ("A module compiled against ABI version 0x1000009 but this version of numpy is "
           "0x2000000")
    assert first(abi).fix == 'pipguard install "numpy<2"'


def test_family_wheel_from_an_unknown_host() -> None:
    text = ("  Downloading https://mirror.example.com/pytorch/torch-2.5.1%2Bcu124-cp311-cp311-"
            "linux_x86_64.whl (908.3 MB)")  # fmt: skip
    f = first(text)
    assert (f.category, f.severity) == ("dependency-confusion", "warning")
    assert "mirror.example.com" in f.message and f.fix == "pipguard verify torch"


def test_pip_broken_pair_after_install(kb: ExplainFacts) -> None:
    f = first(fixture("pip_broken_pair.txt"), Context(facts=kb))
    assert f.category == "companion-mismatch" and "0.18.0" in f.message
    assert f.fix == "pipguard install torch==2.3.0 torchvision==0.18.0 torchaudio==2.3.0"
    assert "torchaudio 2.2.1 requires torch==2.2.1" in f.message


def test_old_pip_has_requirement_wording() -> None:
    text = ("ERROR: torchvision 0.5.0 has requirement torch==1.4.0, but you'll have torch 1.5.0 "
            "which is incompatible.")  # fmt: skip
    f = first(text)
    assert f.category == "companion-mismatch" and "torch==1.5.0" in f.fix


def test_uv_resolver_conflict(kb: ExplainFacts) -> None:
    found = explain(fixture("uv_resolver_conflict.txt"), Context(facts=kb))
    assert [f.category for f in found] == ["resolver-conflict"]
    assert found[0].fix == "pipguard install torch==2.6.0 torchvision==0.21.0"


def test_non_torch_conflict() -> None:
    text = ("ERROR: Cannot install numpy==2.0.0 and scipy==1.10.1 because these package versions "
            "have conflicting dependencies.\n\nThe conflict is caused by:\n    The user requested "
            "numpy==2.0.0\n    scipy 1.10.1 depends on numpy<1.27.0 and >=1.19.5\n\n"
            "ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/")  # fmt: skip
    f = first(text)
    assert f.category == "resolver-conflict" and "scipy" in f.message
    assert f.fix == "pipguard install numpy==2.0.0 scipy"


def test_two_dependents_disagree() -> None:
    text = ("The conflict is caused by:\n    torchvision 0.15.1 depends on torch==2.0.0\n"
            "    xformers 0.0.22 depends on torch==2.0.1\n\nERROR: ResolutionImpossible")
    f = first(text)
    assert f.category == "resolver-conflict" and "xformers" in f.message
    assert f.fix == "pipguard install torchvision xformers"


# -- robustness, ordering, negatives ---------------------------------------------------------


@pytest.mark.parametrize("name", ["pip_success_cu124.txt", "uv_success.txt"])
def test_successful_logs_give_nothing(name: str) -> None:
    assert explain(fixture(name), Context(facts=REAL)) == ()


def test_unrelated_text_gives_nothing() -> None:
    text = 'Traceback (most recent call last):\n  File "a.py"\nKeyError: 1'
    assert explain(text, Context(facts=REAL)) == ()
    assert explain("", Context(facts=REAL)) == ()


def test_buildkit_ansi_and_crlf_are_tolerated() -> None:
    plain = next(str(c["symptom"]) for c in examples() if c["id"] == "PTF-035")
    noisy = "\r\n".join(f"#12 {i}.{i:02d} \x1b[1;31m{line}\x1b[0m"
                        for i, line in enumerate(plain.splitlines()))  # fmt: skip
    assert explain(noisy, Context(facts=REAL)) == explain(plain, Context(facts=REAL))


def test_most_decisive_first_and_deduplicated() -> None:
    text = (fixture("pip_extra_index_success.txt") + "\n"
            + next(str(c["symptom"]) for c in examples() if c["id"] == "PTF-035"))
    once = explain(text, Context(facts=REAL))
    assert [f.severity for f in once] == ["error", "warning"]
    assert once[0].category == "resolver-conflict"
    assert explain(text + "\n" + text, Context(facts=REAL)) == once


def test_every_category_is_reachable() -> None:
    texts = [str(c["symptom"]) for c in examples()] + [
        fixture(p.name) for p in sorted(FIXTURES.glob("*.txt"))] + [
        "AssertionError: Torch not compiled with CUDA enabled",
        "ERROR: torch-2.5.1.dist-info RECORD mismatch"]  # fmt: skip
    found = {f.category for t in texts for f in explain(t, Context(facts=REAL))}
    # A GPU build on a machine without a GPU is a fact about the machine, which doctor finds;
    # no failure text shows it.
    assert found == set(CATEGORIES) - {"gpu-build-without-gpu"}


def test_context_defaults() -> None:
    ctx = Context(facts=REAL)
    assert ctx.installed == {} and ctx.hardware is None


@settings(max_examples=60, deadline=None, database=None)
@given(st.text(max_size=400))
def test_never_raises_on_junk(text: str) -> None:
    for f in explain(text, Context(facts=REAL)):
        assert f.category in CATEGORIES


@settings(max_examples=40, deadline=None, database=None)
@given(st.integers(min_value=0, max_value=10_000), st.text(max_size=30))
def test_never_raises_on_damaged_failures(cut: int, junk: str) -> None:
    for case in examples():
        text = str(case["symptom"])
        at = cut % (len(text) + 1)
        explain(text[:at] + junk + text[at:], Context(facts=REAL))


def test_real_knowledge_pairs_torchvision(real_kb: ExplainFacts) -> None:
    f = first(fixture("uv_resolver_conflict.txt"), Context(facts=real_kb))
    assert f.fix == "pipguard install torch==2.6.0 torchvision==0.21.0"


def test_real_knowledge_intel_mac_and_blackwell(real_kb: ExplainFacts) -> None:
    mac = first(next(str(c["symptom"]) for c in examples() if c["id"] == "PTF-002"),
                Context(facts=real_kb))
    assert mac.fix == 'pipguard install torch==2.2.2 "numpy<2"'
    gpu = first(next(str(c["symptom"]) for c in examples() if c["id"] == "PTF-026"),
                Context(facts=real_kb))
    assert "2.7.0" in gpu.message and "cu128" in gpu.message and "Blackwell" in gpu.message


def test_real_knowledge_driver_names_the_variants_it_runs(real_kb: ExplainFacts) -> None:
    text = "UserWarning: The NVIDIA driver on your system is too old (found version 12080)."
    f = first(text, Context(facts=real_kb, platform="linux", machine="x86_64",
                            installed={"torch": "2.11.0+cu130"}))  # fmt: skip
    assert "cu128" in f.message and "cu130" not in f.message.split("CUDA 13.0 build")[1]


def test_the_real_tables_answer_every_query_the_rules_ask() -> None:
    # Typed: mypy fails here when a Knowledge query the rules use is renamed or re-typed.
    from pipguard.knowledge_tables import load_knowledge

    facts: ExplainFacts = load_knowledge()
    assert facts.family() >= {"torch", "torchvision"}
