"""The word model: its features, its probabilities, its file, and that it is what a refit gives.

The packaged ``data/explain_words.json`` must be exactly a fit on the training halves of the
fixtures (the held-out test set of ``tests/test_corpus.py`` never enters it): the examples are
read here from the fixture files with the split stated here, refitted, and compared, so a
hand edit, a stale file or a fit on other data (in the script or elsewhere) fails.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from pipguard.explain_paste import clean, trimmed
from pipguard.findings import CATEGORIES
from pipguard.knowledge_tables import load_word_model
from pipguard.wordmodel import UNRELATED, WordModel, features, fit
from scripts import fit_explain_words
from tests.test_corpus import load

FIXTURES = fit_explain_words.FIXTURES


def test_features_are_words_numbers_as_one_and_adjacent_pairs() -> None:
    assert features("Error: libcudnn.so.9 not found") == {
        "error", "libcudnn", "so", "not", "found", "error libcudnn", "libcudnn so", "so #",
        "# not", "not found"}


def test_an_identifiers_parts_are_words_too() -> None:
    assert features("functional_tensor x_y") == {
        "functional_tensor", "functional", "tensor", "x_y", "functional_tensor x_y"}


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


def _held_out(key: str) -> bool:
    """The split, stated here again (not imported), so that the fit is checked against it."""
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % 10 < 4


def _training_examples() -> list[tuple[str, str]]:
    """What the model may be fitted on, read from the fixture files here, in the script's
    order: training records, templates, training near misses, training unrelated failures."""
    def read(name: str) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = json.loads((FIXTURES / name).read_text("utf-8"))
        return data

    pairs = [(r["text"], r["category"]) for r in read("corpus.json") if not _held_out(r["id"])]
    pairs += [(t["example"], t["category"]) for t in read("templates.json")]
    pairs += [(c["text"], c["want"] or UNRELATED) for c in read("near_misses.json")
              if not _held_out(c["name"])]
    pairs += [(u["text"], UNRELATED) for u in read("unrelated.json") if not _held_out(u["id"])]
    return [(trimmed(clean(text)), category) for text, category in pairs]


def test_the_packaged_model_is_a_fit_on_the_training_halves_only() -> None:
    """Refit from the fixtures as read here: a model fitted on anything else (a held-out
    record added in the script, a hand edit, a stale file) differs."""
    examples = _training_examples()
    assert fit_explain_words.training_examples() == examples
    packaged, refit = load_word_model(), fit(examples, (*CATEGORIES, UNRELATED))
    assert packaged.categories == refit.categories == (*CATEGORIES, UNRELATED)
    assert packaged.bias == refit.bias
    assert packaged.weights == refit.weights


def test_the_split_is_the_one_written_down() -> None:
    ids = [r["id"] for r in load()]
    assert [fit_explain_words.in_test_set(i) for i in ids] == [_held_out(i) for i in ids]


def test_no_held_out_record_is_fitted_on() -> None:
    origins = [origin for origin, _, _ in fit_explain_words.training_sources()]
    records = [o.split(":", 1)[1] for o in origins if not o.startswith("templates.json:")]
    assert records and not [r for r in records if fit_explain_words.in_test_set(r)]
    held_out = {r["id"] for r in load() if fit_explain_words.in_test_set(r["id"])}
    assert len({o.split(":", 1)[1] for o in origins if o.startswith("corpus.json:")}) == \
        len(load()) - len(held_out)


def test_the_unrelated_failures_are_well_formed_and_distinct() -> None:
    unrelated = json.loads((fit_explain_words.FIXTURES / "unrelated.json").read_text("utf-8"))
    assert len({u["id"] for u in unrelated}) == len(unrelated)
    assert len({u["text"].strip() for u in unrelated}) == len(unrelated)  # no text twice
    assert all(u["source"].startswith("https://") and u["text"].strip() for u in unrelated)


def test_a_damaged_packaged_model_is_an_error_with_a_hint_not_a_traceback(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from importlib import resources

    from pipguard import knowledge_tables
    from pipguard.errors import PipguardError

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "explain_words.json").write_text('{"schema": 1, "categories": []')
    monkeypatch.setattr(resources, "files", lambda _: tmp_path)
    knowledge_tables.load_word_model.cache_clear()
    try:
        with pytest.raises(PipguardError, match="word model is unreadable") as err:
            knowledge_tables.load_word_model()
        assert err.value.hint and "reinstall" in err.value.hint
    finally:
        knowledge_tables.load_word_model.cache_clear()
