"""Fit ``explain``'s word model on the training half of the corpus and the tools' templates.

The corpus (``tests/fixtures/explain/corpus.json``) is split by a rule fixed before any rule
was written: a record is held out for testing when ``sha256(id) % 10 < 4``
(:func:`in_test_set`, which ``tests/test_corpus.py`` uses too). Only the other records,
and every message template's example (``templates.json``, written from the tools' sources),
are fitted on; the texts are read as ``explain`` reads them (a paste cleaned and trimmed).
The result is written to ``pipguard/data/explain_words.json``; ``tests/test_wordmodel.py``
refits and compares, so the packaged weights are exactly these.

    python scripts/fit_explain_words.py [--check | --cross-validate]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipguard.explain_paste import clean, trimmed  # noqa: E402
from pipguard.findings import CATEGORIES  # noqa: E402
from pipguard.wordmodel import UNRELATED, WordModel, fit  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "explain"
OUTPUT = ROOT / "pipguard" / "data" / "explain_words.json"
TEST_BUCKETS = 4  # sha256(id) % 10 < TEST_BUCKETS: the held-out test set


def in_test_set(record_id: str) -> bool:
    return int(hashlib.sha256(record_id.encode()).hexdigest(), 16) % 10 < TEST_BUCKETS


def _read(name: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return records


def training_sources() -> list[tuple[str, str, str]]:
    """``(origin, text, category)`` to fit on, the held-out halves left out.

    The corpus's training records; every template's example; the training half (same rule,
    by name) of the reviewed near misses, a healthy output ``UNRELATED``; the training half
    of the unrelated failures (``unrelated.json``: real failures with another cause, a
    training run out of GPU memory, a gated model, a user's shape error), ``UNRELATED`` too.
    The origin is ``file:id`` (a template's: its producer and template).
    """
    out = [(f"corpus.json:{r['id']}", r["text"], r["category"]) for r in _read("corpus.json")]
    out += [(f"templates.json:{t['producer']}:{t['template']}", t["example"], t["category"])
            for t in _read("templates.json")]
    out += [(f"near_misses.json:{c['name']}", c["text"], c["want"] or UNRELATED)
            for c in _read("near_misses.json")]
    out += [(f"unrelated.json:{u['id']}", u["text"], UNRELATED) for u in _read("unrelated.json")]
    return [(origin, text, category) for origin, text, category in out
            if origin.startswith("templates.json:") or not in_test_set(origin.split(":", 1)[1])]


def training_examples() -> list[tuple[str, str]]:
    """``(text, category)``: :func:`training_sources` as ``explain`` reads a paste."""
    return [(trimmed(clean(text)), category) for _, text, category in training_sources()]


def fitted() -> WordModel:
    examples = training_examples()
    return fit(examples, (*CATEGORIES, UNRELATED),
               trained_on=f"{len(examples)} texts: the corpus's training records, the tools' "
               "message templates, near misses and unrelated failures (training halves)")


def cross_validate(folds: int = 5) -> dict[str, int]:
    """Fit on all but one fold of the training data, judge the held-back fold, for each fold.

    The message templates are always fitted on, never judged. Counted where the word model
    would speak (:func:`pipguard.explain_hints.guess`): on the labelled failures, what it
    says and how much of it is right; on the healthy and unrelated
    texts, what it says at all (each a false finding). "Deployed" counts only the failures no
    rule or named pair reads (where ``explain`` would show the guess); the rules were written
    from these very records, so those are the hardest of them.
    """
    from pipguard.explain import explain
    from pipguard.explain_doc import Context
    from pipguard.explain_hints import guess as guess_of
    from pipguard.knowledge_tables import load_knowledge

    facts = load_knowledge()
    sources = [(o, trimmed(clean(t)), c) for o, t, c in training_sources()]
    judged = [i for i, (o, _, _) in enumerate(sources) if not o.startswith("templates.json:")]
    counts = dict.fromkeys(("failures", "said", "right", "unrelated", "false", "deployed",
                            "deployed_said", "deployed_right"), 0)
    for k in range(folds):
        held = set(judged[k::folds])
        model = fit([(t, c) for i, (_, t, c) in enumerate(sources) if i not in held],
                    (*CATEGORIES, UNRELATED))
        for i in sorted(held):
            _, text, category = sources[i]
            guess = guess_of(model, text)
            if category == UNRELATED:
                counts["unrelated"] += 1
                counts["false"] += guess is not None
                continue
            counts["failures"] += 1
            counts["said"] += guess is not None
            counts["right"] += guess == category
            if not explain(text, Context(facts=facts)):
                counts["deployed"] += 1
                counts["deployed_said"] += guess is not None
                counts["deployed_right"] += guess == category
    return counts


def serialized(model: WordModel) -> str:
    return json.dumps(model.as_json(), separators=(",", ":")) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when the packaged file is not what a refit gives")
    parser.add_argument("--cross-validate", action="store_true",
                        help="print 5-fold cross-validation counts on the training data")
    args = parser.parse_args()
    if args.cross_validate:
        c = cross_validate()
        print(f"failures: {c['failures']}; the model speaks on {c['said']}, right on "
              f"{c['right']}\nunrelated and healthy texts: {c['unrelated']}; it speaks on "
              f"{c['false']}\nfailures no rule or named pair reads: {c['deployed']}; it speaks "
              f"on {c['deployed_said']}, right on {c['deployed_right']}")
        return 0
    text = serialized(fitted())
    if args.check:
        same = OUTPUT.read_text(encoding="utf-8") == text
        print("up to date" if same else f"{OUTPUT} differs from a refit")
        return 0 if same else 1
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
