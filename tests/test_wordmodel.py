"""The word model: its features, its probabilities, its file, and that it is what a refit gives.

The packaged ``data/explain_words.json`` must be exactly what ``scripts/fit_explain_words.py``
fits on the training records (the held-out test set of ``tests/test_corpus.py`` never enters
it); a refit here compares equal, so a hand edit or a fit on other data fails.
"""

from __future__ import annotations

import json

import pytest

from pipguard.findings import CATEGORIES
from pipguard.knowledge_tables import load_word_model
from pipguard.wordmodel import UNRELATED, WordModel, features, fit
from scripts import fit_explain_words
from tests.test_corpus import load


def test_features_are_words_numbers_as_one_and_adjacent_pairs() -> None:
    assert features("Error: libcudnn.so.9 not found") == {
        "error", "libcudnn", "so", "not", "found", "error libcudnn", "libcudnn so", "so #",
        "# not", "not found"}


def test_probabilities_sum_to_one_most_likely_first() -> None:
    model = WordModel(("a", "b"), {"x": (2.0, 0.0)}, (0.0, 0.0))
    ranked = model.probabilities("x y")
    assert [c for c, _ in ranked] == ["a", "b"]
    assert sum(p for _, p in ranked) == pytest.approx(1.0)
    assert model.probabilities("nothing known") == [("a", 0.5), ("b", 0.5)]


def test_the_file_form_round_trips_and_is_checked() -> None:
    model = WordModel(("a", "b"), {"x": (1.5, -1.5)}, (0.1, -0.1), "two texts")
    assert WordModel.from_json(json.loads(json.dumps(model.as_json()))) == model
    with pytest.raises(ValueError, match="schema"):
        WordModel.from_json({**model.as_json(), "schema": 99})
    with pytest.raises(ValueError, match="do not match"):
        WordModel.from_json({**model.as_json(), "weights": {"x": [1.0]}})


def test_fit_separates_what_its_examples_separate_and_is_deterministic() -> None:
    examples = [("disk full again", "resource-exhausted"), ("disk full now", "resource-exhausted"),
                ("driver too old", "driver-too-old"), ("driver too old here", "driver-too-old")]
    model = fit(examples, CATEGORIES)
    assert model.probabilities("the disk is full")[0][0] == "resource-exhausted"
    assert model.probabilities("an old driver")[0][0] == "driver-too-old"
    assert fit(examples, CATEGORIES) == model
    assert "again" not in model.weights  # in one text only: left out


def test_the_packaged_model_is_what_a_fit_on_the_training_records_gives() -> None:
    packaged = load_word_model()
    assert fit_explain_words.serialized(fit_explain_words.fitted()) == \
        fit_explain_words.OUTPUT.read_text(encoding="utf-8")
    assert packaged.categories == (*CATEGORIES, UNRELATED)


def test_no_held_out_record_is_fitted_on() -> None:
    origins = [origin for origin, _, _ in fit_explain_words.training_sources()]
    records = [o.split(":", 1)[1] for o in origins if not o.startswith("templates.json:")]
    assert records and not [r for r in records if fit_explain_words.in_test_set(r)]
    held_out = {r["id"] for r in load() if fit_explain_words.in_test_set(r["id"])}
    assert len({o.split(":", 1)[1] for o in origins if o.startswith("corpus.json:")}) == \
        len(load()) - len(held_out)
