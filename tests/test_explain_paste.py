"""A paste is read as the tool printed it, however it was pasted.

Users paste failures quoted in a reply, behind a log's prefixes, or wrapped by the terminal
or forum they copied from. :mod:`pipguard.explain_paste` gives the rules the tool's own
lines back; the corpus check below re-pastes *training* records (a quarter of them in each
way, a different quarter for each; never a held-out one: this is tuning) and wants the same
diagnosis.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable

import pytest

from pipguard.explain import explain
from pipguard.explain_doc import Context
from pipguard.explain_paste import clean, rereadings, trimmed
from scripts.fit_explain_words import in_test_set
from tests.test_corpus import KNOWLEDGE, Record, diagnose, diagnosed, load


def _hard(width: int) -> Callable[[str], str]:
    """A terminal's copy: every line cut into rows of ``width`` characters."""
    return lambda s: "\n".join("\n".join(line[i:i + width] for i in range(0, len(line), width))
                               or line for line in s.split("\n"))


def _soft(width: int) -> Callable[[str], str]:
    """A forum's or an editor's copy: long lines wrapped at spaces."""
    return lambda s: "\n".join(textwrap.fill(line, width, break_long_words=False,
                                             break_on_hyphens=False) if len(line) > width
                               else line for line in s.split("\n"))


def _curly(s: str) -> str:
    """A forum's or an editor's copy: quotes made typographic (opening after a space or a
    bracket, closing elsewhere: an apostrophe too)."""
    opened = re.sub(r"(?m)(?:^|(?<=[\s(\[]))'", "\u2018", s)
    opened = re.sub(r'(?m)(?:^|(?<=[\s(\[]))"', "\u201c", opened)
    return opened.replace("'", "\u2019").replace('"', "\u201d")


def _each(prefix: str) -> Callable[[str], str]:
    return lambda s: "\n".join(prefix + line for line in s.split("\n"))


PASTES: dict[str, Callable[[str], str]] = {
    "reply quote": _each("> "),
    "compose column": _each("trainer-1  | "),
    "logger timestamp": _each("2024-05-01 12:00:01,123 - ERROR - "),
    "iso timestamp": _each("2024-05-01T12:00:01.123456Z "),
    "syslog": _each("Jan  2 03:04:05 gpu-node-7 python3[4242]: "),
    "indented": _each("    "),
    "terminal 80": _hard(80),
    "terminal 120": _hard(120),
    "wrapped 80": _soft(80),
    "wrapped 100": _soft(100),
    "forum quotes": _curly,
}
# Which quarter of the training records each kind re-pastes: its place here (a kind added
# later goes last, so the others keep the records they were measured on).
_ORDER = (*sorted(k for k in PASTES if k != "forum quotes"), "forum quotes")


@pytest.mark.parametrize("paste", sorted(PASTES))
def test_the_prefix_or_wrapping_of_a_paste_keeps_its_diagnosis(paste: str) -> None:
    """Every fourth training record (a different fourth for each kind of paste), re-pasted,
    gets the category it gets as collected; at most one may differ (a row
    cut in the middle of the one number a rule reads, say)."""
    train = [r for r in load() if not in_test_set(r["id"])]
    sample = [r for i, r in enumerate(train) if i % 4 == _ORDER.index(paste) % 4]
    changed = []
    for r in sample:
        pasted = PASTES[paste](r["text"])
        if trimmed(clean(pasted)) == trimmed(clean(r["text"])):
            continue  # read as the same text: explain reads nothing else (and is not run)
        before, after = diagnosed(r), diagnose(Record(**{**r, "text": pasted}))
        want = before[0].category if before else None
        got = after[0].category if after else None
        if got != want:
            changed.append(f"{r['id']}: {want} -> {got}")
    assert len(changed) <= 1, changed


@pytest.mark.parametrize(("pasted", "printed"), [
    ("> ERROR: No matching distribution found for torch\n> \n> hint: x",
     "ERROR: No matching distribution found for torch\n\nhint: x"),
    ("> > nested reply", "nested reply"),
    ("web-1  | Collecting torch\nweb-1  | Killed", "Collecting torch\nKilled"),
    ("2024-05-01 12:00:01 | INFO | Collecting torch", "Collecting torch"),
    ("[2024-05-01 12:00:01] Killed", "Killed"),
    ("12:00:01.5 Killed", "Killed"),
    ("#10 98.65 Killed", "Killed"),
    ("2024-05-01 12:00:01,123   - cudatoolkit=11.1", "  - cudatoolkit=11.1"),  # a list item
    ("Jan  2 03:04:05 node python3[42]: import torch", "import torch"),
    ("    #24 5.773   ╰─▶ Because", "  ╰─▶ Because"),  # a code block's indent
    ("2024-05-01T12:00:01Z #24 5.773 Killed", "Killed"),  # a BuildKit log in a CI log
    ("\x1b[31mERROR\x1b[0m: x\r\n", "ERROR: x\n"),
    ("https://x/torch-2.1.0%2Bcu121-cp311-cp311-linux_x86_64.whl 50%2B",
     "https://x/torch-2.1.0+cu121-cp311-cp311-linux_x86_64.whl 50%2B"),  # only in wheel names
    ("api-1  | 2024-05-01T12:00:00.123456789Z error: Failed to download `torch`\n"
     "api-1  | 2024-05-01T12:00:01.123456789Z   Caused by: error decoding response body",
     "error: Failed to download `torch`\n  Caused by: error decoding response body"),
    # a forum's typographic quotes; a compiler's in a UTF-8 locale
    ("You tried to install \u201cpytorch\u201d. The package named for PyTorch is \u201ctorch\u201d",
     'You tried to install "pytorch". The package named for PyTorch is "torch"'),
    ("error: \u2018AT_CHECK\u2019 was not declared in this scope",
     "error: 'AT_CHECK' was not declared in this scope"),
    ("No\u00a0space left\u202fon device", "No space left on device"),  # a web page's
    ("ModuleNotFoundError\uff1a No module named \uff07torch\uff07", "ModuleNotFoundError: No "
     "module named 'torch'"),  # a CJK input method's full-width signs
])
def test_clean_gives_back_the_tools_lines(pasted: str, printed: str) -> None:
    assert clean(pasted) == printed


@pytest.mark.parametrize("text", [
    "name | version\ntorch | 2.1.0\nERROR: nothing here\nhint: more\nand more",  # a minority
    "> a lone quote is kept among\nother\nlines\nof\ntext",
    "Package | Version\n--- | ---\ntorch | 2.1.0+cpu\ntorchvision | 0.16.0+cpu\nnumpy | 1.26.4",
    "package                    |            build\n---------------------------|------\n"
    "pytorch-2.1.0              |py3.11_cpu_0        1.4 GB  pytorch\n"
    "torchvision-0.16.0         |      py311_cpu         7.8 MB  pytorch",  # conda's table
])
def test_clean_keeps_columns_that_only_some_lines_have(text: str) -> None:
    assert clean(text) == text


def test_rereadings_join_rows_cut_at_the_terminal_width_then_rows_wrapped_at_a_word() -> None:
    row = "x" * 70
    text = f"{row}\nabc\nshort\n\nnext paragraph"
    assert list(rereadings(text)) == [f"{row}abc\nshort\n\nnext paragraph",
                                      f"{row} abc\nshort\n\nnext paragraph"]
    wrapped = ("ERROR: Could not find a version that satisfies the requirement torch==1.4.0 "
               "(from\nversions: 2.5.0, 2.5.1)\nshort\nrows")
    assert list(rereadings(wrapped))[-1] == (
        "ERROR: Could not find a version that satisfies the requirement torch==1.4.0 (from "
        "versions: 2.5.0, 2.5.1)\nshort\nrows")
    assert list(rereadings("short\nrows")) == []  # no row as wide as a terminal


def test_a_whole_log_is_read_once() -> None:
    """Another reading costs a whole pass of the rules: past 64 KB there is none."""
    row = "Requirement already satisfied: x in ./venv/lib/python3.11/site-packages (1.0)"
    assert list(rereadings("\n".join([row] * 5000))) == []
    assert list(rereadings("\n".join([row] * 50)))  # a paste that size is read again


def test_a_whole_log_is_read_by_its_start_and_its_end() -> None:
    start, end = "$ pip install torch\n", "ERROR: No matching distribution found for torch\n"
    middle = "Requirement already satisfied: x in ./venv/lib/python3.11/site-packages (1.0)\n"
    log = start + middle * 20_000 + end
    cut = trimmed(log)
    assert cut.startswith(start) and cut.endswith(end) and "\n[...]\n" in cut
    assert len(cut) < 130 * 1024 and trimmed(start + end) == start + end


def test_a_wrapped_error_is_read_before_a_warning_its_rows_still_show() -> None:
    """A terminal cut the decisive sentence into rows, and another rule's warning (PyPI merged
    with the PyTorch index) still reads as pasted: the rows are joined back and the error
    found there comes first, as in the paste as printed."""
    r = next(r for r in load() if r["id"] == "C34-b-pip-chainner-portable-torch-cu113-download-"
             "aborted")  # a training record
    assert not in_test_set(r["id"])
    pasted = PASTES["terminal 80"](r["text"])
    assert [f.category for f in diagnosed(r)][:1] == ["download-integrity"]
    found = diagnose(Record(**{**r, "text": pasted}))
    assert [(f.category, f.severity) for f in found][:1] == [("download-integrity", "error")]


@pytest.mark.parametrize(("text", "category"), [
    ("uv add -r requirements.txt --index https://download.pytorch.org/whl/cpu\n"
     "error: Distribution `markupsafe==3.0.2 @\nregistry+https://download.pytorch.org/whl/cpu` "
     "can't be installed because it\ndoesn't have a source distribution or wheel for the "
     "current platform", "dependency-confusion"),
    ("pip install torch==1.13.1+cu117 --extra-index-url\nhttps://download.pytorch.org/whl/cu117\n"
     "Downloading\nhttps://download.pytorch.org/whl/cu117/torch-1.13.1%2Bcu117-cp39-cp39-linux_"
     "x86_64.whl\n(1801.8 MB)\nERROR: Exception:\nTraceback (most recent call last):\n  File\n"
     '"/usr/lib/python3.9/site-packages/pip/_internal/cli/base_command.py",\nline 169, in '
     "exc_logging_wrapper", "resource-exhausted"),
])  # fmt: skip
def test_a_sentence_wrapped_at_a_word_keeps_its_reading(text: str, category: str) -> None:
    """Forum-wrapped rows: uv's "Distribution `x @ registry+…`" and pip's "Downloading <url>
    (size)" read across the break."""
    found = explain(text, Context(facts=KNOWLEDGE))
    assert found and found[0].category == category
