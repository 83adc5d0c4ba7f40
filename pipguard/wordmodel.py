"""A linear model over the words of a failure text: which finding category it most likely is.

``explain``'s rules key on the sentence a tool prints for one kind of failure; a text in a
wording none of them knows gets nothing from them. Its words still lean one way ("nvcc",
"sm_", "capability" towards an unsupported GPU; "Killed", "memory" towards exhausted
resources). This module holds that lean: a multinomial logistic regression over a text's
words and word pairs, fitted (:func:`fit`, deterministic) on the training half of the corpus
of real failure texts and on the tools' own message templates, never on the held-out test set
(``scripts/fit_explain_words.py`` writes ``data/explain_words.json``;
``tests/test_wordmodel.py`` refits it and compares). Pure: the edge that reads the packaged
file is :func:`pipguard.knowledge_tables.load_word_model`.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SCHEMA = 1
# The model's one class that is no finding: a healthy output, or a failure with another cause
# (a training run out of GPU memory, a gated model, a shape error in the user's code).
UNRELATED = "unrelated"
_WORD = re.compile(r"[a-z][a-z0-9_]+|\d+")


def features(text: str) -> frozenset[str]:
    """A text's words of two characters or more (lower case) and its adjacent pairs, where
    every number is the one word ``#`` (which counts only in a pair); an identifier's parts
    count as words too (``functional_tensor``: ``functional``, ``tensor``), so a name never
    seen still leans by what it is made of (chosen by cross-validation on the training data:
    821 right guesses of 864 against 816 of 872, the same 14 false findings)."""
    words = ["#" if w.isdigit() else w for w in _WORD.findall(text.lower())]
    parts = [p for w in words if "_" in w for p in w.split("_") if len(p) > 1]
    return frozenset([w for w in words if len(w) > 1] + parts
                     + [f"{a} {b}" for a, b in itertools.pairwise(words)])


@dataclass(frozen=True)
class WordModel:
    """Per feature, one weight per category; a bias per category."""

    categories: tuple[str, ...]
    weights: Mapping[str, tuple[float, ...]]
    bias: tuple[float, ...]
    trained_on: str = ""  # what it was fitted on, in words (shown by nothing; provenance)

    def probabilities(self, text: str) -> list[tuple[str, float]]:
        """Each category with its probability for ``text``, most likely first."""
        score = list(self.bias)
        for feature in features(text):
            for k, w in enumerate(self.weights.get(feature, ())):
                score[k] += w
        top = max(score)
        odds = [math.exp(s - top) for s in score]
        total = sum(odds)
        ranked = [(c, o / total) for c, o in zip(self.categories, odds, strict=True)]
        return sorted(ranked, key=lambda t: -t[1])

    def as_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "trained_on": self.trained_on,
                "categories": list(self.categories), "bias": list(self.bias),
                "weights": {f: list(w) for f, w in sorted(self.weights.items())}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WordModel:
        if data.get("schema") != SCHEMA:
            raise ValueError(f"word model schema {data.get('schema')!r} is not {SCHEMA}")
        categories = tuple(str(c) for c in data["categories"])
        if len(data["bias"]) != len(categories):
            raise ValueError("the bias does not match the categories")
        # The numbers as JSON gives them (the file is packaged and a test refits it): a
        # float() per weight would double the load time of ~90,000 of them.
        weights = {str(f): tuple(w) for f, w in data["weights"].items()}
        if any(len(w) != len(categories) for w in weights.values()):
            raise ValueError("a word's weights do not match the categories")
        return cls(categories, weights, tuple(float(b) for b in data["bias"]),
                   str(data.get("trained_on", "")))


def fit(examples: Sequence[tuple[str, str]], categories: Sequence[str], *, epochs: int = 15,
        rate: float = 0.8, min_texts: int = 2, seed: int = 0,
        trained_on: str = "") -> WordModel:
    """Fit on ``(text, category)`` pairs by stochastic gradient descent on the log loss.

    The step ``rate`` was chosen by 5-fold cross-validation on the training data only
    (1,121 texts): from 0.5, 0.8 is right on 816 of the failures it speaks on against 798, with
    the same 14 false findings on the healthy and unrelated texts (0.7-0.9 all within 6 of it).

    Deterministic for the same examples (a seeded order). A feature seen in fewer than
    ``min_texts`` texts is left out: a path, a user name or an id in one text says nothing of
    another. Weights are rounded to 3 places so the packaged file stays small and a refit
    compares equal.
    """
    index = {c: k for k, c in enumerate(categories)}
    n = len(categories)
    texts = [(features(t), index[c]) for t, c in examples]
    seen: dict[str, int] = {}
    for fs, _ in texts:
        for f in fs:
            seen[f] = seen.get(f, 0) + 1
    kept = sorted(f for f, count in seen.items() if count >= min_texts)
    ids = {f: i for i, f in enumerate(kept)}
    rows = [([ids[f] for f in sorted(fs) if f in ids], k) for fs, k in texts]
    weights = [[0.0] * n for _ in kept]
    bias = [0.0] * n
    order = list(range(len(rows)))
    rng = random.Random(seed)
    for epoch in range(epochs):
        rng.shuffle(order)
        step = rate / (1 + epoch / 2)
        for i in order:
            fids, want = rows[i]
            _descend(weights, bias, fids, want, step)
    out = {f: tuple(round(w, 3) for w in weights[i]) for f, i in ids.items()}
    return WordModel(tuple(categories), {f: w for f, w in out.items() if any(w)},
                     tuple(round(b, 3) for b in bias), trained_on)


def _descend(weights: list[list[float]], bias: list[float], fids: list[int], want: int,
             step: float) -> None:
    """One step on one text: the softmax's gradient, spread over the text's features."""
    n = len(bias)
    columns = zip(*(weights[f] for f in fids), strict=True) if fids else ([] for _ in bias)
    score = [b + sum(column) for b, column in zip(bias, columns, strict=True)]
    top = max(score)
    odds = [math.exp(s - top) for s in score]
    total = sum(odds)
    spread = step / math.sqrt(len(fids) or 1)  # a long log moves each word less
    for k in range(n):
        grad = odds[k] / total - (k == want)
        if abs(grad) < 1e-4:
            continue
        bias[k] -= step * grad * 0.1
        for f in fids:
            weights[f][k] -= spread * grad
