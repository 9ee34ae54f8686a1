"""Saving and loading: vocabularies are packed for fast loading and come back exactly."""

import pickle

import joblib
import numpy as np
import pytest

from textmine.model import _PackedVocabulary, load_model, save_model


def test_saved_model_loads_with_identical_vocabularies_and_predictions(small_model, tmp_path):
    before = {name: dict(getattr(small_model, name).vocabulary_) for name in ("word_vectorizer_", "char_vectorizer_")}
    save_model(small_model, tmp_path / "m", {"versions": small_model.card_["versions"], "themes": small_model.themes_,
                                             "thresholds": list(small_model.thresholds_)})
    # the model in memory keeps its dict vocabularies (the same objects its caches refer to)
    assert all(isinstance(getattr(small_model, n).vocabulary_, dict) for n in before)
    raw = joblib.load(tmp_path / "m" / "model.joblib")
    assert isinstance(raw.char_vectorizer_.vocabulary_, _PackedVocabulary)
    loaded = load_model(tmp_path / "m")
    for name, vocabulary in before.items():
        assert getattr(loaded, name).vocabulary_ == vocabulary
    texts = ["Käsittely kestää liian kauan", "Handläggningen tog åtta månader", "Nobody answers the phone"]
    np.testing.assert_array_equal(loaded.predict_proba(texts), small_model.predict_proba(texts))


@pytest.mark.parametrize("vocabulary", [{"b": 1, "a": 0}, {}, {"x y": 0, "ä": 1, "😀": 2}])
def test_packed_vocabulary_round_trips(vocabulary):
    packed = _PackedVocabulary.pack(vocabulary)
    assert packed is not None
    assert pickle.loads(pickle.dumps(packed)).unpack() == vocabulary


@pytest.mark.parametrize("vocabulary", [{"a": 0, "b": 2}, {"a\x00b": 0}])
def test_vocabularies_that_cannot_be_packed_exactly_stay_dicts(vocabulary):
    assert _PackedVocabulary.pack(vocabulary) is None
