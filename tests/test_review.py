"""Choosing answers for review (budget, coverage of every theme, order) and the review file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import scipy.sparse as sp
from conftest import DATA, SAMPLE, small_config

from textmine import classify, load_codebook, load_model, read_table, train
from textmine._config import setting
from textmine.errors import TextmineError
from textmine.labels import label_matrix
from textmine.review import (
    SELECTION_COLUMNS,
    representativeness,
    review_priorities,
    select_for_review,
    write_review_file,
)
from textmine.train import _data_hash

TEXT = "improvement"
EMAIL = "maija.meikalainen@example.org"


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture(scope="module")
def tagged(model) -> pd.DataFrame:
    return classify(read_table(SAMPLE), model, text_col=TEXT)


def _select(tagged: pd.DataFrame, model, budget: int | None, *, typical: bool = False) -> pd.DataFrame:
    extra: dict = dict(model=model, text_col=TEXT) if typical else {}
    return select_for_review(tagged, themes=model.themes_, thresholds=model.thresholds_, budget=budget, **extra)


# -- select_for_review ----------------------------------------------------------------
@pytest.mark.parametrize("typical", [False, True])
@pytest.mark.parametrize("budget", [0, 1, 5, 11, 30, 10_000])
def test_budget_and_only_answered_rows(tagged: pd.DataFrame, model, budget: int, typical: bool) -> None:
    answered = tagged["lang"] != ""
    assert 0 < answered.sum() < len(tagged)  # the sample has empty answers
    picked = _select(tagged, model, budget, typical=typical)
    assert len(picked) == min(budget, int(answered.sum()))
    assert picked.index.is_unique and picked.index.isin(tagged.index[answered]).all()
    assert (picked[TEXT].fillna("").str.strip() != "").all()
    assert list(picked.columns) == [*tagged.columns, "review_theme", "review_margin", "review_priority"]
    assert SELECTION_COLUMNS == ("review_theme", "review_margin", "review_priority")
    pd.testing.assert_frame_equal(picked[tagged.columns], tagged.loc[picked.index])


def test_default_budget_comes_from_the_config(tagged: pd.DataFrame, model) -> None:
    assert setting("review", "budget") == 100
    assert setting("review", "representativeness_weight") == 2.0
    assert len(_select(tagged, model, None)) == 100


@pytest.mark.parametrize("typical", [False, True])
@pytest.mark.parametrize("budget", [11, 12, 25, 33, 60])
def test_every_theme_is_covered_round_by_round(tagged: pd.DataFrame, model, budget: int, typical: bool) -> None:
    """The guarantee: with k themes, rows [r*k, (r+1)*k) are round r, and each full round
    names every theme exactly once as `review_theme`; so any budget >= k covers every theme."""
    themes, thr = list(model.themes_), np.asarray(model.thresholds_)
    k = len(themes)
    picked = _select(tagged, model, budget, typical=typical)
    assert set(picked["review_theme"]) == set(themes)
    for start in range(0, budget - budget % k, k):
        assert sorted(picked["review_theme"].iloc[start : start + k]) == sorted(themes)
    # the margin recorded is |p - threshold| of the theme the row was picked for
    col = {t: j for j, t in enumerate(themes)}
    for idx, row in picked.iterrows():
        j = col[row["review_theme"]]
        assert row["review_margin"] == pytest.approx(abs(tagged.at[idx, f"p_{themes[j]}"] - thr[j]), abs=1e-4)
    # within a round the rows of highest priority come first
    for start in range(0, budget, k):
        priorities = picked["review_priority"].iloc[start : start + k].tolist()
        assert priorities == sorted(priorities, reverse=True)


def test_first_round_takes_the_answer_closest_to_each_threshold(tagged: pd.DataFrame, model) -> None:
    """Without a model, in round 0 each theme (in codebook order) gets the answer closest to
    its threshold relative to the room on that side (1 - |p - t| / t below the threshold,
    1 - |p - t| / (1 - t) above) among the answered rows that earlier themes have not taken."""
    themes, thr = list(model.themes_), np.asarray(model.thresholds_)
    picked = _select(tagged, model, len(themes))
    answered = tagged[tagged["lang"] != ""]
    taken: set[object] = set()
    for j, theme in enumerate(themes):
        idx = picked.index[picked["review_theme"] == theme][0]
        free = answered.drop(index=list(taken))
        p = free[f"p_{theme}"]
        closeness = (1 - (p - thr[j]).abs() / np.where(p >= thr[j], 1 - thr[j], thr[j])).round(6)
        assert picked.at[idx, "review_priority"] == pytest.approx(closeness.max(), abs=1e-4)
        assert idx == closeness.idxmax()  # ties: the earlier row
        taken.add(idx)


@pytest.mark.parametrize("typical", [False, True])
def test_selection_is_deterministic(tagged: pd.DataFrame, model, typical: bool) -> None:
    a = _select(tagged, model, 40, typical=typical)
    b = _select(tagged.copy(), model, 40, typical=typical)
    pd.testing.assert_frame_equal(a, b)
    # a smaller budget picks a subset of a larger one's rows (the same picks, fewer rounds)
    assert set(_select(tagged, model, 20, typical=typical).index) <= set(a.index)


def test_exact_order_with_ties_and_an_empty_answer() -> None:
    tagged = pd.DataFrame(
        {
            "lang": ["en", "", "fi", "sv", "en"],
            "p_a": [0.5, 0.5, 0.5, 0.125, 0.375],
            "p_b": [0.75, 0.25, 0.25, 0.375, 0.0],
        },
        index=["r10", "r11", "r12", "r13", "r14"],
    )
    kw: dict = dict(themes=["a", "b"], thresholds=[0.5, 0.25])
    four = select_for_review(tagged, budget=4, **kw)
    # round 0: a -> r10 (tie with r12, earlier row), b -> r12; round 1: a -> r14, b -> r13 (tie: earlier row first)
    assert four.index.tolist() == ["r10", "r12", "r13", "r14"]
    assert four["review_theme"].tolist() == ["a", "b", "b", "a"]
    assert four["review_margin"].tolist() == [0.0, 0.0, 0.125, 0.125]
    # b: r13 is 0.125 above 0.25, room 0.75 -> 0.8333; a: r14 is 0.125 below 0.5, room 0.5 -> 0.75
    assert four["review_priority"].tolist() == [1.0, 1.0, 0.8333, 0.75]
    assert select_for_review(tagged, budget=3, **kw).index.tolist() == ["r10", "r12", "r14"]
    assert select_for_review(tagged, budget=99, **kw).index.tolist() == ["r10", "r12", "r13", "r14"]
    assert select_for_review(tagged, budget=0, **kw).empty


def test_review_priorities_values() -> None:
    tagged = pd.DataFrame({"p_a": [0.2, 0.1, 0.0, 0.6, 1.0, None], "p_b": [0.2, 0.5, 0.9, 0.2, 0.2, 0.2]})
    got = review_priorities(tagged, themes=["a", "b"], thresholds=[0.2, 0.6])
    # a (threshold 0.2): on it 1; 0.1 below, room 0.2 -> 0.5; at 0 -> 0; 0.4 above, room 0.8 -> 0.5; at 1 -> 0; missing -> 0
    # b (threshold 0.6): 0.4 below, room 0.6 -> 1/3; 0.1 below -> 5/6; 0.3 above, room 0.4 -> 0.25
    assert np.allclose(got[:, 0], [1.0, 0.5, 0.0, 0.5, 0.0, 0.0])
    assert np.allclose(got[:, 1], [1 / 3, 5 / 6, 0.25, 1 / 3, 1 / 3, 1 / 3])


def test_representativeness_values() -> None:
    X = sp.csr_matrix(np.array([[2.0, 0.0], [1.0, 0.0], [3.0, 4.0], [0.0, 1.0], [0.0, 0.0]]))
    # unit rows (1,0), (1,0), (0.6,0.8), (0,1), 0; their mean (0.52, 0.36)
    sims = np.array([0.52, 0.52, 0.6, 0.36, 0.0])
    assert np.allclose(representativeness(X), sims / 0.6)
    assert representativeness(sp.csr_matrix((0, 3))).shape == (0,)


def _with_outlier(tagged: pd.DataFrame, model) -> tuple[pd.DataFrame, object, object]:
    """`tagged` plus a row with the same probabilities as a typical answer but one-off text."""
    answered = tagged[tagged["lang"] != ""]
    typical_row = answered.index[0]
    outlier = answered.loc[[typical_row]].copy()
    outlier.index = ["outlier"]
    outlier[TEXT] = "qqzx vvkpt 9988 wwrrm zzhh"
    return pd.concat([outlier, tagged]), "outlier", typical_row


def test_outliers_come_after_typical_answers(tagged: pd.DataFrame, model) -> None:
    """With the model's features, an answer like many others comes before a one-off
    answer that the model is exactly as unsure of (without them, the earlier row wins the tie)."""
    data, outlier, typical_row = _with_outlier(tagged, model)
    themes, thr = list(model.themes_), np.asarray(model.thresholds_)
    # make the pair the most uncertain answers of the first theme
    data.loc[[outlier, typical_row], f"p_{themes[0]}"] = thr[0]
    plain = select_for_review(data, themes=themes, thresholds=thr, budget=1)
    assert plain.index.tolist() == [outlier]
    assert plain["review_priority"].tolist() == [1.0]
    typical = select_for_review(data, themes=themes, thresholds=thr, budget=1, model=model, text_col=TEXT)
    assert typical.index.tolist() == [typical_row]
    assert 0 < typical["review_priority"].iloc[0] <= 1
    # the priority is closeness times representativeness ** weight, so the outlier's is far lower
    both = select_for_review(data, themes=themes[:1], thresholds=thr[:1], budget=len(data), model=model, text_col=TEXT)
    assert both.at[outlier, "review_priority"] < 0.1 * both.at[typical_row, "review_priority"]
    assert both.at[outlier, "review_margin"] == both.at[typical_row, "review_margin"] == 0.0


def test_representativeness_weight_zero_is_closeness_alone(tagged: pd.DataFrame, model, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "review.toml"
    config.write_text("[review]\nrepresentativeness_weight = 0.0\n", encoding="utf-8")
    monkeypatch.setenv("TEXTMINE_CONFIG", str(config))
    pd.testing.assert_frame_equal(_select(tagged, model, 30, typical=True), _select(tagged, model, 30))
    monkeypatch.delenv("TEXTMINE_CONFIG")
    assert not _select(tagged, model, 30, typical=True).equals(_select(tagged, model, 30))


def test_model_and_text_col_go_together(tagged: pd.DataFrame, model) -> None:
    for extra in (dict(model=model), dict(text_col=TEXT)):
        with pytest.raises(TextmineError) as err:
            select_for_review(tagged, themes=model.themes_, thresholds=model.thresholds_, budget=5, **extra)
        assert err.value.code == "E101"
    with pytest.raises(TextmineError) as err:
        select_for_review(tagged, themes=model.themes_, thresholds=model.thresholds_, budget=5, model=model, text_col="nope")
    assert err.value.code == "E007"


@pytest.mark.parametrize("budget", [-1, 2.5, True, "10"])
def test_bad_budget(tagged: pd.DataFrame, model, budget) -> None:
    with pytest.raises(TextmineError) as err:
        select_for_review(tagged, themes=model.themes_, thresholds=model.thresholds_, budget=budget)
    assert err.value.code == "E100"


def test_themes_and_thresholds_must_match(tagged: pd.DataFrame, model) -> None:
    for themes, thresholds in [(model.themes_, model.thresholds_[:-1]), ([], []), (["a", "a"], [0.5, 0.5])]:
        with pytest.raises(TextmineError) as err:
            select_for_review(tagged, themes=themes, thresholds=thresholds, budget=5)
        assert err.value.code == "E101"
    with pytest.raises(TextmineError) as err:
        select_for_review(tagged.drop(columns=["p_fees"]), themes=model.themes_, thresholds=model.thresholds_)
    assert err.value.code == "E007"


# -- write_review_file ----------------------------------------------------------------
def test_review_file_sheets_columns_and_labels(tagged: pd.DataFrame, model, tmp_path: Path) -> None:
    picked = _select(tagged, model, 15)
    path = write_review_file(picked, tmp_path / "review.xlsx", text_col=TEXT, themes=model.themes_,
                             codebook=load_codebook(), id_col="respondent_id")
    book = pd.ExcelFile(path)
    assert book.sheet_names == ["review", "codebook"]
    review = read_table(path)  # the first sheet, as training reads it
    assert list(review.columns) == ["id", "text", "labels", "lang", "confidence", *[f"p_{t}" for t in model.themes_]]
    assert review["id"].tolist() == picked["respondent_id"].tolist()
    assert review["labels"].fillna("").tolist() == picked["themes"].tolist()
    assert review["lang"].tolist() == picked["lang"].tolist()
    assert np.allclose(review["confidence"].astype(float), picked["confidence"])
    codebook = read_table(path, sheet="codebook")
    assert list(codebook.columns) == ["id", "label_en", "label_fi", "label_sv", "description"]
    assert codebook["id"].tolist() == load_codebook().ids

    bare = write_review_file(picked, tmp_path / "bare.xlsx", text_col=TEXT, themes=model.themes_, codebook=None, id_col=None)
    assert pd.ExcelFile(bare).sheet_names == ["review"]
    assert read_table(bare)["id"].tolist() == [str(i) for i in picked.index]


def test_review_file_redacts_and_keeps_text_as_text(tagged: pd.DataFrame, model, tmp_path: Path) -> None:
    picked = _select(tagged, model, 5).copy()
    first, second = picked.index[0], picked.index[1]
    picked.loc[first, TEXT] = f"{picked.loc[first, TEXT]} Write to {EMAIL} or call +358 40 765 4321."
    picked.loc[second, TEXT] = "=1+1 was the only clear thing"
    path = write_review_file(picked, tmp_path / "review.xlsx", text_col=TEXT, themes=model.themes_,
                             codebook=None, id_col="respondent_id")
    review = read_table(path)
    assert "<EMAIL>" in review["text"].iloc[0] and "<PHONE>" in review["text"].iloc[0]
    assert review["text"].iloc[1] == "=1+1 was the only clear thing"
    cells = [c for row in openpyxl.load_workbook(path).active.iter_rows() for c in row]
    assert not any(isinstance(c.value, str) and (EMAIL in c.value or "765 4321" in c.value) for c in cells)
    assert not any(c.data_type == "f" for c in cells)


def test_review_file_errors(tagged: pd.DataFrame, model, tmp_path: Path) -> None:
    picked = _select(tagged, model, 5)
    kw: dict = dict(text_col=TEXT, themes=model.themes_, codebook=None, id_col="respondent_id")
    with pytest.raises(TextmineError) as err:
        write_review_file(picked, tmp_path / "review.csv", **kw)
    assert err.value.code == "E102"
    path = write_review_file(picked, tmp_path / "review.xlsx", **kw)
    with pytest.raises(TextmineError) as err:  # a person may have edited it
        write_review_file(picked, path, **kw)
    assert err.value.code == "E020"
    write_review_file(picked, path, force=True, **kw)
    with pytest.raises(TextmineError) as err:
        write_review_file(pd.concat([picked, picked.head(1)]), tmp_path / "dup.xlsx", **kw)
    assert err.value.code == "E103"
    assert not (tmp_path / "dup.xlsx").exists()


def test_reviewed_labels_override_the_originals_in_training(tagged: pd.DataFrame, model, tmp_path: Path) -> None:
    gold = read_table(DATA / "sample_survey_labels.csv").rename(columns={"respondent_id": "id"})
    small_csv = tmp_path / "small.csv"
    gold.to_csv(small_csv, index=False)
    picked = _select(tagged, model, 15)
    path = write_review_file(picked, tmp_path / "review.xlsx", text_col=TEXT, themes=model.themes_,
                             codebook=load_codebook(), id_col="respondent_id")
    # the person corrects two rows and accepts the other pre-filled labels
    book = openpyxl.load_workbook(path)
    sheet = book["review"]
    sheet["C2"] = "fees"
    sheet["C3"] = None
    book.save(path)

    trained = train([small_csv, path], codebook=DATA / "codebook.yaml", cross_validation=False, config=small_config())

    review = read_table(path)
    assert review["labels"].iloc[0] == "fees" and pd.isna(review["labels"].iloc[1])
    expected = pd.concat([gold[~gold["id"].isin(review["id"])], review[["id", "text", "labels"]]], ignore_index=True)
    expected = expected[expected["text"].fillna("").str.strip() != ""]
    themes = list(trained.themes_)
    data = trained.card_["training_data"]
    assert data["n_answers"] == len(expected) == (gold["text"].fillna("").str.strip() != "").sum()
    assert data["per_theme"] == dict(zip(themes, label_matrix(expected["labels"], themes).sum(axis=0).tolist()))
    assert data["sha256"] == _data_hash(expected["text"].tolist(), expected["labels"].tolist())
    original = label_matrix(gold["labels"], themes).sum(axis=0)
    assert data["per_theme"] != dict(zip(themes, original.tolist()))
