"""Train/evaluate on labelled feedback data that is not ours: other label sets, label formats,
single-label (multi-class) data, other languages, large data, labels the model never saw."""

import json
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, small_config

from textmine import evaluate, train
from textmine.cli import main
from textmine.errors import TextmineError
from textmine.labels import label_matrix, label_mode, split_labels
from textmine.train import scaling_rule


def multiclass(n: int, k: int = 5, seed: int = 0) -> pd.DataFrame:
    """k classes with their own words, half of each answer shared noise, 5% label noise."""
    rng = random.Random(seed)
    syll = ["ka", "lo", "mi", "tu", "re", "sa", "no", "vi", "pe", "da", "ko", "ru"]

    def word() -> str:
        return "".join(rng.choice(syll) for _ in range(3))

    own = [[word() for _ in range(10)] for _ in range(k)]
    noise = [word() for _ in range(120)]
    rows = []
    for i in range(n):
        c = rng.randrange(k)
        words = [rng.choice(own[c]) if rng.random() < 0.4 else rng.choice(noise) for _ in range(rng.randint(4, 10))]
        words[0] = rng.choice(own[rng.randrange(k)])  # every answer also has a word of some class
        rows.append((f"r{i}", " ".join(words), f"C{c if rng.random() > 0.05 else rng.randrange(k)}"))
    return pd.DataFrame(rows, columns=["id", "text", "labels"])


def _multi(config: dict) -> dict:
    return {**config, "model": {**config["model"], "label_mode": "multi"}}


@pytest.fixture(scope="module")
def mc_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    df = multiclass(900)
    return df.iloc[:600].reset_index(drop=True), df.iloc[600:].reset_index(drop=True)


def test_label_mode_of_a_matrix():
    assert label_mode(np.array([[1, 0], [0, 1]])) == "single"
    assert label_mode(np.array([[1, 0], [0, 0]])) == "at_most_one"
    assert label_mode(np.array([[1, 1], [0, 1]])) == "multi"


def test_single_label_data_predicts_exactly_one_label_and_scores_higher(mc_split, tmp_path: Path):
    train_df, test_df = mc_split
    auto = train(train_df, config=small_config(), out=tmp_path / "auto", warn=print)
    multi = train(train_df, config=_multi(small_config()), cross_validation=False)
    assert auto.label_mode_ == "single" and auto.single_label_ and multi.label_mode_ == "multi"
    card = json.loads((tmp_path / "auto" / "model_card.json").read_text())
    assert card["label_mode"] == "single" and card["single_label"] is True
    assert (auto.predict(test_df["text"]).sum(axis=1) == 1).all()
    a = evaluate(auto, test_df)
    m = evaluate(multi, test_df)
    assert a["label_mode"] == "single"
    assert a["micro_f1"] > m["micro_f1"] + 0.005  # 0.747 vs 0.737 (exact match 0.747 vs 0.630)
    assert a["exact_match"] > m["exact_match"] + 0.05
    proba = auto.predict_proba(test_df["text"])
    assert (auto.decide(proba).argmax(axis=1) == proba.argmax(axis=1)).all()


def test_at_most_one_label_predicts_the_best_only_when_it_passes(mc_split):
    train_df = mc_split[0].copy()
    train_df.loc[train_df.index % 6 == 0, "labels"] = ""
    model = train(train_df, config=small_config(), cross_validation=False)
    assert model.label_mode_ == "at_most_one"
    proba = model.predict_proba(mc_split[1]["text"])
    pred = model.decide(proba)
    assert pred.sum(axis=1).max() == 1
    best = proba.argmax(axis=1)
    assert (pred.sum(axis=1) == (proba[np.arange(len(proba)), best] >= model.thresholds_[best])).all()


def test_multi_label_corpus_is_untouched(small_model, small_corpus: pd.DataFrame):
    assert small_model.label_mode_ == "multi" and not small_model.single_label_
    proba = small_model.predict_proba(small_corpus["text"].head(50))
    assert (small_model.decide(proba) == (proba >= small_model.thresholds_)).all()
    old = small_model.__class__.__new__(small_model.__class__)  # a model pickled before label modes
    old.__dict__.update({k: v for k, v in small_model.__dict__.items() if k not in ("label_mode_", "single_label_")})
    assert (old.decide(proba) == (proba >= small_model.thresholds_)).all()


@pytest.mark.parametrize("value,expected", [
    ("a|b", ["a", "b"]),
    (" a |  b | a ", ["a", "b"]),
    ("a||", ["a"]),
    ('["a", "b c"]', ["a", "b c"]),
    ("['a', 'b']", ["a", "b"]),
    ("[a, b]", ["a", "b"]),
    (["a", "b", "a"], ["a", "b"]),
    (np.array(["x", "y"]), ["x", "y"]),
    (2, ["2"]),
    (2.0, ["2"]),
    ("2.0", ["2"]),
    (0, ["0"]),
    (1.5, ["1.5"]),
    (float("nan"), []),
    (None, []),
    (pd.NA, []),
    ("", []),
    ("Positive|positive", ["Positive", "positive"]),
    ("very  good", ["very good"]),
])
def test_split_labels_formats(value, expected):
    assert split_labels(value, "|") == expected


def test_comma_separated_labels_with_label_sep():
    assert split_labels("a, b ,c", ",") == ["a", "b", "c"]
    assert split_labels("[a, b]", ",") == ["a", "b"]
    with pytest.raises(TextmineError, match=r"The label separator is empty\. Pass .*\[E120\]"):
        split_labels("a", "")


def _words(label: str, i: int) -> str:
    vocab = {"0": "slow waiting queue", "1": "rude staff unfriendly", "2": "great thanks happy"}
    return f"{vocab[label]} answer number {i % 7}"


def test_numeric_labels_from_csv_train_and_evaluate_alike(tmp_path: Path):
    rng = random.Random(1)
    labels = [rng.choice("012") for _ in range(120)]
    train_df = pd.DataFrame({"text": [_words(lab, i) for i, lab in enumerate(labels)], "y": [int(v) for v in labels]})
    train_df.loc[5, "y"] = None  # a missing label makes pandas write 1.0, 2.0 to the CSV
    train_df.to_csv(tmp_path / "train.csv", index=False)
    assert "1.0" in (tmp_path / "train.csv").read_text()
    test_df = pd.DataFrame({"text": [_words(lab, i) for i, lab in enumerate("012" * 10)], "y": list("012" * 10)})
    test_df.to_csv(tmp_path / "test.csv", index=False)
    model = train(tmp_path / "train.csv", labels_col="y", config=small_config(), out=tmp_path / "m")
    assert model.themes_ == ["0", "1", "2"] and model.label_mode_ == "at_most_one"
    result = evaluate(model, tmp_path / "test.csv", labels_col="y")
    assert result["unseen_labels"] == {} and result["micro_f1"] > 0.9


def test_json_list_labels_and_duplicates_in_a_row():
    rows = [(_words(lab, i), json.dumps([lab, lab]) if i % 2 else f" {lab} | {lab} ") for i, lab in enumerate("012" * 20)]
    df = pd.DataFrame(rows, columns=["text", "labels"])
    model = train(df, config=small_config(), cross_validation=False)
    assert model.themes_ == ["0", "1", "2"] and model.label_mode_ == "single"
    assert label_matrix(df["labels"], model.themes_).sum() == 60


def test_case_and_separator_warnings():
    rows = [(_words("0", i), "Positive") for i in range(10)] + [(_words("2", i), "positive") for i in range(10)]
    rows += [(_words("1", i), "neg,rude") for i in range(10)] + [(_words("1", i), "neg") for i in range(5)]
    rows += [(_words("1", i), "rude") for i in range(5)]
    warned: list[str] = []
    train(pd.DataFrame(rows, columns=["text", "labels"]), config=small_config(), cross_validation=False, warn=warned.append)
    assert any("differ only by case are kept apart: 'Positive' (10) / 'positive' (10)" in w for w in warned)
    assert any("labels contain ',' (e.g. 'neg,rude'); if it separates labels, pass --label-sep ','" in w for w in warned)


def test_rare_labels_are_left_out_without_a_codebook_or_stop(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.delenv("TEXTMINE_CONFIG", raising=False)  # the CLI's --config sets it; restored afterwards
    df = pd.DataFrame({"text": [_words("012"[i % 3], i) for i in range(40)],
                       "labels": ["0", "2"] * 19 + ["1", "1"]})
    warned: list[str] = []
    model = train(df, config=small_config(), cross_validation=False, warn=warned.append)
    assert model.themes_ == ["0", "2"]
    assert warned == ["Left out 1 label with fewer than 5 examples: 1 (2). Their answers are kept (without them); "
                      "the model will never predict them."]
    strict = small_config()
    strict["train"] = {**strict["train"], "drop_rare_labels": False}
    with pytest.raises(TextmineError, match=r"Theme with fewer than 5 examples: 1 \(2\)\. .* or pass --min-examples N"):
        train(df, config=strict)
    warned.clear()
    model = train(df, config=strict, min_examples=3, warn=warned.append)
    assert model.themes_ == ["0", "2"] and warned[0].startswith("Left out 1 label with fewer than 3 examples: 1 (2).")
    with pytest.raises(TextmineError, match=r"min_examples must be a whole number of at least 1, not 0"):
        train(df, config=small_config(), min_examples=0)
    df.to_csv(tmp_path / "rare.csv", index=False)
    assert main(["train", "--data", str(tmp_path / "rare.csv"), "--out", str(tmp_path / "m"), "--no-cv"]) == 0
    assert "Warning: Left out 1 label with fewer than 5 examples: 1 (2)." in capsys.readouterr().err
    card = json.loads((tmp_path / "m" / "model_card.json").read_text())
    assert card["training_data"]["left_out_labels"] == {"1": 2}
    (tmp_path / "strict.toml").write_text("[train]\ndrop_rare_labels = false\n")
    assert main(["train", "--data", str(tmp_path / "rare.csv"), "--out", str(tmp_path / "m2"), "--no-cv", "-q",
                 "--config", str(tmp_path / "strict.toml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("Error: Theme with fewer than 5 examples: 1 (2).")
    card = json.loads((tmp_path / "m" / "model_card.json").read_text())
    assert card["training_data"]["left_out_labels"] == {"1": 2}


GERMAN = {
    "wait": ["Die Bearbeitung dauert viel zu lange", "Ich warte seit Monaten auf eine Entscheidung",
             "Die Wartezeit ist unzumutbar lang"],
    "phone": ["Am Telefon erreicht man niemanden", "Die Hotline ist immer besetzt", "Niemand beantwortet meine E-Mails"],
    "praise": ["Alles hat super geklappt, vielen Dank", "Sehr freundliches und kompetentes Personal",
               "Ich bin mit dem Service sehr zufrieden"],
}
SPANISH = {
    "wait": ["El trámite tarda demasiado tiempo", "Llevo meses esperando una respuesta", "El tiempo de espera es excesivo"],
    "phone": ["Nadie contesta nunca el teléfono", "La línea telefónica siempre está ocupada", "No responden a los correos"],
    "praise": ["Todo salió muy bien, muchas gracias", "Personal muy amable y competente", "Estoy muy satisfecho con el servicio"],
}


def other_languages(n: int, seed: int = 0) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        book = GERMAN if i % 2 else SPANISH
        themes = rng.sample(sorted(book), rng.choice([1, 1, 2]))
        rows.append((" ".join(rng.choice(book[t]) + "." for t in themes), "|".join(themes)))
    return pd.DataFrame(rows, columns=["text", "labels"])


def test_german_and_spanish_feedback(tmp_path: Path):
    model = train(other_languages(240), config=small_config())
    langs = model.card_["training_data"]["per_language"]
    assert langs.get("other", 0) >= 200  # identified as neither fi, sv nor en
    assert model.card_["cv_metrics"]["micro_f1"] > 0.9
    result = evaluate(model, other_languages(60, seed=1))
    assert result["micro_f1"] > 0.9 and result["per_language"]["other"]["n"] >= 50
    assert result["per_language"]["other"]["micro_f1"] > 0.9


def test_evaluate_lists_unseen_labels_as_misses_and_handles_empty_answers(small_model, small_corpus, tmp_path: Path, capsys):
    test = small_corpus.head(40)[["text", "labels"]].copy()
    test.loc[0, "labels"] = test.loc[0, "labels"] + "|brand_new"
    test.loc[1, "labels"] = "Fees"
    test.loc[2, "text"] = ""
    test.loc[3, "text"] = None
    warned: list[str] = []
    result = evaluate(small_model, test, warn=warned.append)
    assert result["unseen_labels"] == {"brand_new": 1, "Fees": 1}
    assert len(warned) == 1 and "2 labels in the data are not among the model's themes and count as missed" in warned[0]
    assert "'Fees' (1x, row 3; the model has 'fees')" in warned[0]
    assert result["per_theme"]["brand_new"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert result["empty_answers"] == 2
    assert {"micro_f1", "macro_f1", "exact_match", "per_theme", "per_language"} <= set(result)
    assert "" not in result["per_language"]
    known = evaluate(small_model, test.assign(labels=test["labels"].str.replace("|brand_new", "").replace("Fees", "fees")),
                     warn=warned.append)
    assert result["micro_f1"] < known["micro_f1"]
    path = tmp_path / "test.csv"
    test.to_csv(path, index=False)
    train(small_corpus.tail(300), codebook=DATA / "codebook.yaml", config=small_config(), cross_validation=False,
          out=tmp_path / "m")
    assert main(["evaluate", "--model", str(tmp_path / "m"), "--data", str(path), "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["unseen_labels"] == {"brand_new": 1, "Fees": 1}
    assert err.startswith("Warning: 2 labels in the data are not among the model's themes") and err.count("\n") == 1


def test_scaling_rule_on_large_data():
    cfg = small_config()
    cfg["train"] = {**cfg["train"], "large_data_rows": 20000}
    assert scaling_rule(19999, cfg) is None
    rule = scaling_rule(20000, cfg)
    assert rule == {"from_rows": 20000, "cv_folds": cfg["train"]["large_data_cv_folds"],
                    "inner_folds": cfg["train"]["large_data_inner_folds"], "tol": cfg["train"]["large_data_tol"]}
    cfg["train"]["large_data_rows"] = 0
    assert scaling_rule(10**6, cfg) is None


def test_scaling_rule_is_applied_and_recorded(mc_split):
    cfg = small_config()
    cfg["train"] = {**cfg["train"], "large_data_rows": 500, "large_data_cv_folds": 2, "large_data_inner_folds": 1,
                    "large_data_tol": 0.001}
    model = train(mc_split[0], config=cfg)
    assert model.card_["scaling"] == {"from_rows": 500, "cv_folds": 2, "inner_folds": 1, "tol": 0.001}
    assert model.card_["config"]["model"]["tol"] == 0.001
    assert model.card_["cv_metrics"]["folds"] == 2 and model.card_["config"]["model"]["inner_folds"] == 1
    assert model.card_["cv_metrics"]["micro_f1"] > 0.6


def test_unknown_label_mode_setting_is_refused(mc_split):
    cfg = small_config()
    cfg["model"] = {**cfg["model"], "label_mode": "bogus"}
    with pytest.raises(TextmineError, match=r"Unknown label_mode 'bogus' in the settings\. Use one of: auto, multi\."):
        train(mc_split[0], config=cfg, cross_validation=False)


def _indicator_frame(n: int, seed: int) -> pd.DataFrame:
    """Answers with one 0/1 column per label, written in the many ways exports write them."""
    rng = random.Random(seed)
    words = {"price": "too expensive price", "quality": "broken poor quality", "delivery": "late delivery parcel"}
    rows = []
    for i in range(n):
        on = [lab for lab in words if rng.random() < 0.4]
        text = " and ".join(words[lab] for lab in on) or "nothing to add"
        rows.append({"comment": f"{text} {i % 5}", **{lab: (lab in on) for lab in words}})
    df = pd.DataFrame(rows)
    df["price"] = df["price"].astype(int)  # 1/0
    df["quality"] = df["quality"].map({True: "yes", False: ""})  # yes/empty
    return df  # delivery: True/False


def test_indicator_label_columns_train_and_evaluate(tmp_path: Path, capsys):
    _indicator_frame(200, 0).to_csv(tmp_path / "train.csv", index=False)
    _indicator_frame(60, 1).to_csv(tmp_path / "test.csv", index=False)
    cols = ["price", "quality", "delivery"]
    model = train(tmp_path / "train.csv", text_col="comment", labels_col=cols, config=small_config(), out=tmp_path / "m")
    assert model.themes_ == sorted(cols) and model.label_mode_ == "multi"
    assert model.card_["training_data"]["per_theme"]["price"] == int(_indicator_frame(200, 0)["price"].sum())
    result = evaluate(model, tmp_path / "test.csv", text_col="comment", labels_col=cols)
    assert result["micro_f1"] > 0.9 and result["per_theme"]["delivery"]["support"] > 0
    code = main(["evaluate", "--model", str(tmp_path / "m"), "--data", str(tmp_path / "test.csv"),
                 "--text-col", "comment", "--labels-col", *cols, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["micro_f1"] == result["micro_f1"]


def test_indicator_columns_with_other_values_are_listed_at_once(tmp_path: Path, capsys):
    df = _indicator_frame(40, 2)
    df.loc[3, "price"] = 2
    df.loc[7, "quality"] = "maybe"
    df.to_csv(tmp_path / "bad.csv", index=False)
    code = main(["train", "--data", str(tmp_path / "bad.csv"), "--text-col", "comment",
                 "--labels-col", "price", "quality", "delivery", "--out", str(tmp_path / "m")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "Traceback" not in err and len(err.splitlines()) == 1
    assert err.startswith("Error: Indicator label columns must hold 1 or 0")
    assert "'price' has '2' in row 5 (1 such cell); 'quality' has 'maybe' in row 9 (1 such cell)" in err
    with pytest.raises(TextmineError, match=r"Columns 'nope', 'nada' are not in the data\. Columns in the data: \["):
        train(df, text_col="comment", labels_col=["price", "nope", "nada"], config=small_config())
