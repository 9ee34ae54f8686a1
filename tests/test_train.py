"""Training, the saved model and its card, evaluation, and bad training data."""

import json
import pickle
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from conftest import DATA, small_config

from textmine import evaluate, load_model, train
from textmine.classifier import ThemeClassifier, choose_thresholds
from textmine.errors import TextmineError

PII = {
    "email": "maija.meikalainen@example.org",
    "phone": "+358 40 765 4321",
    "hetu": "131052-308T",
    "iban": "FI21 1234 5600 0007 85",
    "case": "Dnro 4521/2019",
}


def test_choose_thresholds_maximises_f1():
    y = np.array([[1], [1], [0], [0], [1]])
    p = np.array([[0.9], [0.35], [0.3], [0.1], [0.8]])
    assert choose_thresholds(y, p)[0] == pytest.approx(0.33, abs=0.02)


def test_estimator_contract(small_corpus: pd.DataFrame, small_model: ThemeClassifier):
    themes = small_model.themes_
    assert small_model.thresholds_.shape == (len(themes),)
    assert all(0.1 <= t <= 0.9 for t in small_model.thresholds_)
    proba = small_model.predict_proba(small_corpus["text"].head(20))
    assert proba.shape == (20, len(themes)) and ((proba >= 0) & (proba <= 1)).all()
    assert (small_model.predict(small_corpus["text"].head(20)) == (proba >= small_model.thresholds_)).all()
    assert not hasattr(pickle.loads(pickle.dumps(small_model)), "oof_proba_")


def test_training_is_deterministic(small_corpus: pd.DataFrame):
    kw = dict(codebook=DATA / "codebook.yaml", config=small_config())
    a = train(small_corpus.head(300), **kw)
    b = train(small_corpus.head(300), **kw)
    assert a.card_["cv_metrics"] == b.card_["cv_metrics"]
    assert np.array_equal(a.thresholds_, b.thresholds_)
    text = small_corpus["text"].head(50)
    assert np.array_equal(a.predict_proba(text), b.predict_proba(text))


def test_final_fit_beside_the_folds_is_the_same_in_one_process(small_corpus: pd.DataFrame):
    kw = dict(codebook=DATA / "codebook.yaml", config=small_config())
    one = train(small_corpus.head(300), n_jobs=1, **kw)
    two = train(small_corpus.head(300), n_jobs=2, **kw)
    assert one.card_["cv_metrics"] == two.card_["cv_metrics"] and one.card_["cv_metrics"]["folds"] == 2
    assert np.array_equal(one.thresholds_, two.thresholds_)
    text = small_corpus["text"].head(50)
    assert np.array_equal(one.predict_proba(text), two.predict_proba(text))
    assert one.card_["label_mode"] == "multi" and one.card_["scaling"] is None


def test_save_load_and_card(small_corpus: pd.DataFrame, tmp_path: Path):
    model = train(small_corpus.head(300), codebook=DATA / "codebook.yaml", config=small_config(), out=tmp_path / "m")
    card = json.loads((tmp_path / "m" / "model_card.json").read_text())
    for key in ("versions", "codebook", "training_data", "cv_metrics", "thresholds", "created", "sha256"):
        assert key in card
    assert set(card["versions"]) >= {"textmine", "scikit-learn", "spacy", "python"}
    assert card["codebook"]["version"] == 1 and len(card["codebook"]["hash"]) == 64
    assert card["training_data"]["n_answers"] == 300
    assert set(card["training_data"]["per_language"]) <= {"fi", "sv", "en", "other"}
    loaded = load_model(tmp_path / "m")
    assert loaded.themes_ == model.themes_
    assert np.allclose(loaded.predict_proba(["Nopeampi käsittely"]), model.predict_proba(["Nopeampi käsittely"]))


def _copy_model(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def test_load_model_refuses_bad_files(small_corpus: pd.DataFrame, tmp_path: Path):
    good = tmp_path / "good"
    train(small_corpus.head(200), codebook=DATA / "codebook.yaml", config=small_config(), out=good, cross_validation=False)

    with pytest.raises(TextmineError, match=r"No model at .*empty: expected model.joblib and model_card.json there\. Train one"):
        load_model(tmp_path / "empty")
    tampered = _copy_model(good, tmp_path / "tampered")
    with open(tampered / "model.joblib", "ab") as fh:
        fh.write(b"x")
    with pytest.raises(TextmineError, match=r"does not match its card .* retrain it with `textmine train`"):
        load_model(tampered)
    old = _copy_model(good, tmp_path / "old")
    card = json.loads((old / "model_card.json").read_text())
    card["versions"]["scikit-learn"] = "0.24.2"
    (old / "model_card.json").write_text(json.dumps(card))
    with pytest.raises(TextmineError, match=r"trained with scikit-learn 0\.24\.2, but .* is installed\. Retrain it"):
        load_model(old)
    nocard = _copy_model(good, tmp_path / "nocard")
    (nocard / "model_card.json").write_text("{}")
    with pytest.raises(TextmineError, match=r"is not a textmine model: its card does not say format"):
        load_model(nocard)
    other = _copy_model(good, tmp_path / "other")
    joblib.dump({"not": "a model"}, other / "model.joblib")
    card = json.loads((other / "model_card.json").read_text())
    import hashlib

    card["sha256"] = hashlib.sha256((other / "model.joblib").read_bytes()).hexdigest()
    (other / "model_card.json").write_text(json.dumps(card))
    with pytest.raises(TextmineError, match=r"is not a textmine model: it holds a dict"):
        load_model(other)


def test_personal_data_never_reaches_the_model(small_corpus: pd.DataFrame, tmp_path: Path):
    planted = small_corpus.head(200).copy()
    for i, value in enumerate(PII.values()):
        for k in range(3):  # often enough to pass min_df
            planted.loc[i * 3 + k, "text"] = f"{planted.loc[i * 3 + k, 'text']} {value}"
    model = train(planted, codebook=DATA / "codebook.yaml", config=small_config(), out=tmp_path / "m", cross_validation=False)
    vocab = " ".join([*model.word_vectorizer_.vocabulary_, *model.char_vectorizer_.vocabulary_])
    raw = (tmp_path / "m" / "model.joblib").read_bytes() + (tmp_path / "m" / "model_card.json").read_bytes()
    for value in PII.values():
        for part in (value, value.replace(" ", "")):
            assert part.lower() not in vocab and part.encode() not in raw
    assert "maija" not in vocab and "765 4321" not in vocab
    assert "pii_email" in model.word_vectorizer_.vocabulary_


def test_labels_found_in_any_labelled_data(tmp_path: Path):
    rows = [(f"{w} is great", "good") for w in ["food", "staff", "room", "view", "price", "bed"]]
    rows += [(f"{w} was awful", "bad") for w in ["food", "staff", "room", "view", "price", "bed"]]
    rows += [("great food and awful room", "good;bad"), ("meh", "")]
    df = pd.DataFrame(rows, columns=["review", "tags"])
    model = train(df, text_col="review", labels_col="tags", label_sep=";", config=small_config())
    assert model.themes_ == ["bad", "good"]
    result = evaluate(model, df, text_col="review", labels_col="tags", label_sep=";")
    assert set(result) >= {"micro_f1", "macro_f1", "exact_match", "per_theme", "per_language", "coverage"}
    assert set(result["per_theme"]["good"]) == {"precision", "recall", "f1", "support"}


def test_later_files_win_on_equal_id(tmp_path: Path, small_corpus: pd.DataFrame):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    small_corpus.head(120).to_csv(a, index=False)
    fix = small_corpus.head(1).assign(labels="fees")
    fix.to_csv(b, index=False)
    from textmine.labels import load_labelled

    merged = load_labelled([a, b])
    assert len(merged) == 120 and merged[merged["id"] == fix["id"].iloc[0]]["labels"].tolist() == ["fees"]


@pytest.mark.parametrize("frame,message", [
    (pd.DataFrame({"text": ["", " "], "labels": ["praise", "fees"]}), "The training data has no rows with text"),
    (pd.DataFrame({"text": ["a", "b"], "labels": ["", ""]}), "The training data has no labels at all. Fill the 'labels' column"),
    (pd.DataFrame({"text": ["a", "b", "c"], "labels": ["praise", "nonsense", "praise|bogus"]}),
     "Unknown theme ids in the labels: 'nonsense' in row 3; 'bogus' in row 4. Known ids: processing_time,"),
    (pd.DataFrame({"txt": ["a"], "labels": ["praise"]}), "Column 'text' is not in the data. Columns in the data: ['txt', 'labels']"),
])
def test_bad_training_data(frame: pd.DataFrame, message: str):
    with pytest.raises(TextmineError) as err:
        train(frame, codebook=DATA / "codebook.yaml", config=small_config())
    assert message in str(err.value)


def test_rare_codebook_theme_is_refused(corpus: pd.DataFrame):
    """A codebook's themes must each have enough examples (labels taken from the data are left out instead)."""
    df = corpus[~corpus["labels"].str.contains("fees")].head(300)
    df = pd.concat([df, corpus[corpus["labels"] == "fees"].head(3)], ignore_index=True)
    with pytest.raises(TextmineError, match=r"Theme with fewer than 5 examples: fees \(3\)\. Label more answers"):
        train(df, codebook=DATA / "codebook.yaml", config=small_config())
