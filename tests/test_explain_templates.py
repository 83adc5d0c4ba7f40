"""explain on every wording the tools can print, read from their source code.

``fixtures/explain/templates.json`` holds the failure messages of pip back to pip 8 (and the
urllib3, msgpack and zipfile errors it shows), uv, Poetry, conda and mamba (and libsolv),
torch, its companions, the libraries around it (bitsandbytes, DeepSpeed, apex, triton,
torch-geometric), NumPy, the loaders (CPython on Windows, glibc, dyld), the CUDA runtime,
NVML, Docker and the NVIDIA container toolkit, ROCm, and the launchers and frameworks that
check torch for their users (A1111, SD.Next, Unsloth, vLLM, transformers ...), as their source
code writes them (``repo``, ``path``, ``template``), each with one
instantiation in the shape the tool prints it (``example``) and the category it points to.
A real failure text is an instance of one of these: where the corpus measures how the rules
generalise, this checks that no wording a tool can print is left unread.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypedDict

import pytest

from pipguard.explain import explain
from pipguard.explain_doc import Context
from pipguard.findings import CATEGORIES
from pipguard.knowledge_tables import load_knowledge
from tests.test_corpus import fix_is_valid

TEMPLATES = Path(__file__).parent / "fixtures" / "explain" / "templates.json"
KNOWLEDGE = load_knowledge()


class Template(TypedDict):
    producer: str
    repo: str
    path: str
    category: str
    template: str
    example: str


def _load() -> list[Template]:
    items: list[Template] = json.loads(TEMPLATES.read_text(encoding="utf-8"))
    return items


ITEMS = _load()


def test_every_template_names_its_source_and_a_category() -> None:
    for t in ITEMS:
        assert t["category"] in CATEGORIES and t["repo"] and t["path"] and t["example"], t


@pytest.mark.parametrize("item", ITEMS, ids=lambda t: f"{t['producer']}-{t['template'][:40]}")
def test_each_wording_is_read_as_its_cause(item: Template) -> None:
    found = explain(item["example"], Context(facts=KNOWLEDGE, wording="auto"))
    assert found, "no finding"
    assert found[0].category == item["category"], found[0]


# The installer whose words a fix must be in, by the producer of the message; the others
# (torch, the companions, NumPy, the loaders) print at run time, where any will do.
INSTALLER = {"pip": "pip", "urllib3": "pip", "msgpack": "pip", "uv": "uv", "poetry": "poetry",
             "conda": "conda", "mamba": "conda"}


@pytest.mark.parametrize("item", ITEMS, ids=lambda t: f"{t['producer']}-{t['template'][:40]}")
def test_each_fix_is_worded_for_the_tool_that_printed_it(item: Template) -> None:
    found = explain(item["example"], Context(facts=KNOWLEDGE, wording="auto"))
    installer = INSTALLER.get(item["producer"].split()[0], "runtime")
    assert found and fix_is_valid(found[0], installer), found[0].fix if found else None


NEAR_MISSES = json.loads((TEMPLATES.parent / "near_misses.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", NEAR_MISSES, ids=lambda c: str(c["name"]))
def test_a_warning_the_tool_went_past_is_not_its_failure(case: dict[str, str | None]) -> None:
    """Healthy outputs with warnings in them (a retry or a resumed download that then
    succeeded, a wheel build pip fell back from, a library's start-up banner, `collect_env` on
    a CPU machine) give nothing; a failure whose text also holds such a warning is read as
    its own cause. Written by independent reviews of the templates above; the ``cap_*``
    ones are real outputs of pip and uv, captured on a healthy torch install."""
    found = explain(str(case["text"]), Context(facts=KNOWLEDGE, wording="auto"))
    assert (found[0].category if found else None) == case["want"], found[:1]
