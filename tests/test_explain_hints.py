"""explain's last resort: a probable cause read from what a failure names.

Texts in wordings no rule knows (a launcher's or a library's own check, a paraphrase): the
hint names the probable cause as an ``info`` finding; it stays silent on warnings a tool went
past, on a failure that was followed by success, and whenever a rule has a finding. Where the
failing line names no pair, the lean of the text's words (:mod:`pipguard.wordmodel`) may.
"""

from __future__ import annotations

import pytest

from pipguard.explain import explain
from pipguard.explain_doc import Context
from pipguard.explain_hints import CAUSES
from pipguard.findings import CATEGORIES
from pipguard.knowledge_tables import load_knowledge
from pipguard.wordmodel import UNRELATED, WordModel

REAL = load_knowledge()


def found(text: str) -> list[tuple[str, str]]:
    return [(f.category, f.severity) for f in explain(text, Context(facts=REAL))]


@pytest.mark.parametrize(("text", "category"), [
    ("RuntimeError: [launcher] could not load libcudnn_graph, please reinstall", "cuda-libraries"),
    ("ERROR: this model needs sm_80 or newer; sm_61 is not supported", "gpu-arch-unsupported"),
    ("FATAL: your graphics driver is outdated for this release, exiting", "driver-too-old"),
    ("ImportError: pandas was compiled against a different numpy ABI", "numpy-abi"),
    ("ImportError: typing_extensions could not be imported", "typing-extensions"),
    ("OSError: torch_scatter/_version_cuda.so: undefined symbol: _Zfoo", "companion-mismatch"),
    ("Error: running torch 2.5.1+cpu, the CUDA path cannot start", "cpu-build-on-gpu"),
    ("RuntimeError: no NVIDIA GPU found, the encoder needs one", "gpu-build-without-gpu"),
    ("Error: the downloaded wheel is corrupted, cannot continue", "download-integrity"),
    ("ERROR: no prebuilt wheels available for Windows ARM64", "no-matching-distribution"),
    ("Installer failed: dependency conflicts between torch and the pinned extras",
     "resolver-conflict"),
    ("Error: broken installation of torch detected, aborting", "corrupt-install"),
])  # fmt: skip
def test_what_a_failure_names_is_its_probable_cause(text: str, category: str) -> None:
    assert found(text) == [(category, "info")]


@pytest.mark.parametrize("text", [
    "WARNING: libcudart.so not found in any environmental path. Searching in backup paths...",
    "ERROR: dependency conflicts, retrying with the legacy resolver\nSuccessfully installed "
    "torch-2.5.1",
    "cudnn, cublas and nccl are bundled with the wheel",  # no failure reported
])
def test_no_hint_for_a_warning_gone_past_or_a_healthy_text(text: str) -> None:
    assert found(text) == []


def test_a_rule_finding_leaves_no_room_for_a_hint() -> None:
    text = ("ERROR: Could not find a version that satisfies the requirement torch==9.9 (from "
            "versions: 2.4.0, 2.5.1)\nnote: your graphics driver is outdated")
    assert [c for c, _ in found(text)] == ["no-matching-distribution"]


# A model that leans on two words, for the tests of how its lean is said.
LEANING = WordModel(("cuda-libraries", "gpu-arch-unsupported", "resource-exhausted",
                     "dependency-confusion", UNRELATED),
                    {"zork": (4.0, 0, 0, 0, 0), "frob": (0, 4.0, 0, 0, 0), "ok": (0, 0, 0, 0, 6.0),
                     "oom": (0, 0, 6.0, 0, 0), "evil": (0, 0, 0, 6.0, 0),
                     "blip": (2.0, 0, 0, 0, 0)},  # 65% cuda-libraries
                    (0.0, 0.0, 0.0, 0.0, 0.0))


def leaned(text: str, model: WordModel = LEANING) -> list[tuple[str, str]]:
    return [(f.category, f.severity) for f in explain(text, Context(facts=REAL, words=model))]


def test_where_no_pair_is_named_the_words_lean_is_said_as_a_probable_cause() -> None:
    found = explain("Error: zork zork zork", Context(facts=REAL, words=LEANING))
    assert [(f.category, f.severity) for f in found] == [("cuda-libraries", "info")]
    assert found[0].message.startswith("probably: ") and "a guess" in found[0].message
    assert found[0].fix == "pipguard install --force-reinstall torch"


@pytest.mark.parametrize("text", [
    "Error: ok ok",  # the model's own answer: not one of ours
    "Error: zork frob",  # 50/50: under the lean it must show
    "blip",  # no line fails: 65% is under the surer lean it must show then
    "Error: zork\nSuccessfully installed torch-2.5.1",  # a failure gone past
    "WARNING: zork zork zork\nSuccessfully installed torch-2.5.1",  # a warning gone past
    "zork zork zork\n+ torch==2.5.1",  # uv installed after it
    "Error: oom oom",  # memory, not in an install: the user's program's, not ours
    "Error: evil evil",  # which index served it: words cannot say
])
def test_the_lean_is_silent_when_unrelated_unsure_or_gone_past(text: str) -> None:
    assert leaned(text) == []


def test_where_no_line_fails_only_a_surer_lean_is_said_with_its_telling_line() -> None:
    """A warning, a ``False``, a library's own sentence: no line reports a failure in the
    words the pairs know, yet nothing succeeded; the model must be surer (LEAN_QUIET)."""
    assert leaned("Error: blip") == [("cuda-libraries", "info")]  # a failing line: 65% will do
    for text in ("zork zork zork", "WARNING: zork zork zork", "loading\nzork zork\ndone"):
        assert leaned(text) == [("cuda-libraries", "info")], text
    found = explain("loading the model\nzork zork, it said\nstill loading",
                    Context(facts=REAL, words=LEANING))
    assert found[0].evidence == "zork zork, it said"  # the line that leans the most


def test_a_package_listing_gets_no_guess_and_evidence_is_cut() -> None:
    listing = "Package    Version\n---------- -------\nzork       2.5.1\ntorch      2.5.1+cu121\n"
    assert leaned(listing) == []
    assert leaned(listing + "loading zork zork\n") == [("cuda-libraries", "info")]
    found = explain("zork " * 200, Context(facts=REAL, words=LEANING))
    assert len(found[0].evidence) == 400 and found[0].evidence.endswith("...")


def test_no_gpu_build_guess_where_the_text_shows_cuda_working() -> None:
    model = WordModel(("cpu-build-on-gpu", UNRELATED), {"zork": (6.0, 0)}, (0.0, 0.0))
    assert leaned("zork zork", model) == [("cpu-build-on-gpu", "info")]
    assert leaned(">>> torch.cuda.is_available()\nTrue\nzork zork", model) == []
    assert leaned("2.3.1+cu121 True NVIDIA GeForce RTX 3090\nzork zork", model) == []
    assert leaned(">>> torch.backends.mps.is_available()\nTrue\nzork zork", model) == [
        ("cpu-build-on-gpu", "info")]  # another backend's True says nothing of CUDA


def test_memory_or_disk_is_guessed_only_in_an_install() -> None:
    assert leaned("Collecting torch\n  Downloading torch-2.5.1.whl\nError: oom oom") == [
        ("resource-exhausted", "info")]
    assert leaned("epoch 3\nError: oom oom") == []


def test_without_a_model_only_the_pairs_speak() -> None:
    assert found("Error: zork zork zork") == []


def test_a_pair_on_the_failing_line_goes_before_the_lean() -> None:
    text = "RuntimeError: frob frob frob, could not load libcudnn_graph"
    assert leaned(text) == [("cuda-libraries", "info")]
    assert leaned("RuntimeError: frob frob frob") == [("gpu-arch-unsupported", "info")]


def test_every_category_the_model_may_name_has_a_cause_and_a_fix() -> None:
    assert set(CAUSES) == set(CATEGORIES) - {"dependency-confusion"}
    assert all(cause and fix for cause, fix in CAUSES.values())
