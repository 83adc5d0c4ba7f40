"""Benchmark ``explain`` on pastes of every size against one linear pass over the same text.

The baseline is :func:`pipguard.explain_paste.clean` (a few regex substitutions, linear in
the text), timed on the same input in the same run; the ratio says how many such passes
the rules cost. A rule whose pattern backtracks over a long line shows as a ratio that grows
with the size instead of staying flat. Inputs:

* the corpus (``tests/fixtures/explain/corpus.json``), every record once;
* whole logs (a successful pip install repeated, "Requirement already satisfied" lines);
* single long lines (words, one run of one character, paths, quoted words, a signal's
  start repeated, a wheel name's ``%2B`` with no end, open brackets, blanks ending in a
  letter, a package row's ``=x`` run) and runs of blank lines, 32 KB and 2 MB: the shapes
  that make an unbounded ``(\\S+) [^\\n]*?``, a ``^\\s*`` under ``re.M``, a lazy scan to a
  line's end or two adjacent quantifiers over the same characters quadratic or worse.

    python scripts/bench_explain.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipguard.explain import explain  # noqa: E402
from pipguard.explain_doc import Context  # noqa: E402
from pipguard.explain_paste import clean  # noqa: E402
from pipguard.knowledge_tables import load_knowledge, load_word_model  # noqa: E402

PIP_OK = ("Collecting torch==2.5.1\n  Downloading torch-2.5.1-cp311-cp311-manylinux1_x86_64.whl "
          "(906.4 MB)\nRequirement already satisfied: filelock in ./venv/lib/python3.11/site-"
          "packages (from torch==2.5.1) (3.16.1)\nInstalling collected packages: torch\n"
          "Successfully installed torch-2.5.1\n")
SATISFIED = "Requirement already satisfied: x in ./venv/lib/python3.11/site-packages (1.0.0)\n"


def _shapes(size: int) -> dict[str, str]:
    def fill(unit: str) -> str:
        return (unit * (size // len(unit) + 1))[:size]
    return {"pip log": fill(PIP_OK), "satisfied lines": fill(SATISFIED), "words line": fill("a b "),
            "one-char line": "x" * size, "paths line": fill("/x/site-packages/y "),
            "quoted line": fill("'a' \"b\" "), "blank lines": "\n" * size,
            "space lines": fill("   \n"),
            "repeated signal": fill('Error loading "C:\\a\\torch\\lib\\'),
            "wheel token": fill("torch-2.1.0%2Bcu121-"), "open brackets": fill("depends on x ("),
            # (a line of blanks ending in a letter, a package row's separator run: the shapes
            # that made the listing test cubic, found by a review)
            "blanks then a letter": " " * (size - 1) + "x", "name, number, '=x' run":
            "a 1" + fill("=x")[: size - 9] + " y y y",
            # (a name then a run of what a name may hold: a placeholder's name scanned lazily
            # to the end from every start was quadratic, found by a later review)
            "name then '.so' run": "libgraphbolt_pytorch_" + fill(".so")[: size - 21],
            # (an error, then one long token: libmamba's tree was read from every word start,
            # 27 s on 30 KB, and a requirement's operators two ways; found by a later review)
            "error then a token": "ValueError: bad token " + "x" * (size - 22),
            "operators run": "requested Python version (>=3.8) does not satisfy Python>=3.9 "
            "and numpy>=1" + fill(",<=1")[: size - 75] + " x",
            # (a one-liner's print, then a run of blanks: its output lines were read two ways,
            # 99 s on 200 KB; found by a later review)
            "print then blanks": "print(torch.cuda.is_available())\n" + " " * (size - 33),
            # (... and then warning lines: one line read many ways across six, 107 s on 1.2 KB;
            # found by a second review: now read line by line)
            "one-liner then warnings": ('python -c "print(torch.cuda.is_available())"\n'
                                        + fill("Warning." * 12 + "\n"))[:size],
            # (a path repeating a companion's folder: two companion patterns read the rest of
            # the run from each one, 7.7 s on 200 KB; found by a third review)
            "companion folder run": fill("/torchvision/a")[: size - 30] + ".so: undefined symbol",
            # (one missing module after another: the import lines were read again for each,
            # 6.5 s on 200 KB; found by a fourth review)
            "missing modules run": fill("No module named 'a.b'\n")[:size],
            # (this session's reviews: a torch call's keyword on a line of "torch." (32 s on
            # 120 KB), a name before "was built using PyTorch" in a run of "a-" words (68 s on
            # 200 KB), a conda plan's "-->" run (over 100 s on 25 KB), ComfyUI's banner repeated)
            "torch. run": "  File \"/v/site-packages/x/y.py\", line 1\n" + fill("torch.")[
                : size - 100] + "\nTypeError: load() got an unexpected keyword argument 'w'",
            "a- run": fill("a-")[: size - 30] + " was built with torch 2.1.0",
            "conda plan run": fill("pytorch-1-cuda-->")[:size],
            "banner run": fill("pytorch version: 1+cpu ")[:size]}


def _median(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ctx = Context(facts=load_knowledge(), wording="auto", words=load_word_model())
    corpus = [r["text"] for r in json.loads(
        (ROOT / "tests/fixtures/explain/corpus.json").read_text(encoding="utf-8"))]
    rows = [("corpus", sum(map(len, corpus)),
             _median(lambda: [explain(t, ctx) for t in corpus], args.repeat),
             _median(lambda: [clean(t) for t in corpus], args.repeat))]
    for size in (32 * 1024, 2 * 1024 * 1024):
        for name, text in _shapes(size).items():
            rows.append((f"{name} {size // 1024} KB", len(text),
                         _median(lambda t=text: explain(t, ctx), args.repeat),  # type: ignore[misc]
                         _median(lambda t=text: clean(t), args.repeat)))  # type: ignore[misc]
    print(f"{'input':24} {'chars':>9} {'explain':>9} {'clean':>8} {'ratio':>7}")
    for name, chars, took, base in rows:
        print(f"{name:24} {chars:9d} {took:8.3f}s {base:7.4f}s {took / max(base, 1e-9):7.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
