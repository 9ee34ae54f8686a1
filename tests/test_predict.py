"""classify: DataFrame in, DataFrame out, same index and order, documented columns."""

import numpy as np
import pandas as pd
import pytest

from textmine import classify
from textmine.errors import TextmineError
from textmine.predict import output_columns


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rid": ["a", "b", "c", "d", "e", "f"],
            "score": ["4", "2", "5", "", "3", "1"],
            "answer": [
                "Käsittely kesti yhdeksän kuukautta, liian kauan!",
                "Ingen svarar i telefon, jag har ringt i veckor",
                "Thank you, the service was excellent and fast",
                None,
                "   ",
                "Mail me at pekka@example.com, nobody tells me the status of my application",
            ],
        },
        index=[10, 3, 7, 1, 99, 42],
    )


def test_columns_index_and_order(default_model, frame: pd.DataFrame):
    out = classify(frame, default_model, text_col="answer")
    themes = default_model.themes_
    assert list(out.index) == [10, 3, 7, 1, 99, 42]
    assert list(out.columns) == ["rid", "score", "answer", *output_columns(themes)]
    assert out["rid"].tolist() == frame["rid"].tolist()
    assert set(out[themes].to_numpy().ravel()) <= {0, 1}
    assert ((out[[f"p_{t}" for t in themes]] >= 0) & (out[[f"p_{t}" for t in themes]] <= 1)).all().all()
    joined = out.apply(lambda r: "|".join(t for t in themes if r[t] == 1), axis=1)
    assert (joined == out["themes"]).all()


def test_themes_make_sense(default_model, frame: pd.DataFrame):
    out = classify(frame, default_model, text_col="answer")
    assert "processing_time" in out.loc[10, "themes"]
    assert "reachability" in out.loc[3, "themes"]
    assert out.loc[7, "themes"] == "praise"
    assert "process_information" in out.loc[42, "themes"]
    assert out.loc[10, "lang"] == "fi" and out.loc[3, "lang"] == "sv" and out.loc[7, "lang"] == "en"


def test_empty_answers_get_no_theme_and_no_review(default_model, frame: pd.DataFrame):
    out = classify(frame, default_model, text_col="answer")
    for i in (1, 99):
        assert out.loc[i, "themes"] == "" and out.loc[i, "lang"] == ""
        assert not out.loc[i, "needs_review"] and out.loc[i, "confidence"] == 1.0
    assert pd.isna(out.loc[1, "answer"])


def test_review_flag_follows_thresholds(default_model, frame: pd.DataFrame):
    out = classify(frame, default_model, text_col="answer", review_margin=1.0)
    assert out["needs_review"].tolist() == [True, True, True, False, False, True]
    out = classify(frame, default_model, text_col="answer", review_margin=0.0)
    assert out["needs_review"].tolist() == [(out.loc[i, "themes"] == "" and out.loc[i, "lang"] != "") for i in out.index]


def test_redaction_is_optional(default_model, frame: pd.DataFrame):
    plain = classify(frame, default_model, text_col="answer")
    assert "pekka@example.com" in plain.loc[42, "answer"]
    red = classify(frame, default_model, text_col="answer", redact=True)
    assert "<EMAIL>" in red.loc[42, "answer"] and "pekka" not in red.loc[42, "answer"]
    assert pd.isna(red.loc[1, "answer"])


def test_text_column_detected_and_chunks_give_same_result(default_model, frame: pd.DataFrame):
    whole = classify(frame, default_model)
    chunked = classify(frame, default_model, chunk_size=2)
    pd.testing.assert_frame_equal(whole, chunked)


def test_confidence_is_probability_of_the_whole_tagging(default_model, frame: pd.DataFrame):
    out = classify(frame, default_model, text_col="answer")
    themes = default_model.themes_
    row = out.loc[10]
    p = np.array([row[f"p_{t}"] for t in themes])
    flags = np.array([row[t] for t in themes])
    assert row["confidence"] == pytest.approx(np.prod(np.where(flags == 1, p, 1 - p)), abs=1e-3)


def test_clashing_input_columns_are_kept(default_model):
    df = pd.DataFrame({"text": ["Faster decisions please", "Kiitos"], "themes": ["x", "y"], "lang": ["en", "fi"]})
    out = classify(df, default_model, text_col="text")
    assert out["themes_input"].tolist() == ["x", "y"] and out["lang_input"].tolist() == ["en", "fi"]


def test_unknown_text_column(default_model, frame: pd.DataFrame):
    with pytest.raises(TextmineError, match=r"Text column 'vastaus' is not in the data\. Columns in the data: \['rid', 'score', 'answer'\]"):
        classify(frame, default_model, text_col="vastaus")


def test_joined_themes_joins_each_row_in_theme_order():
    from textmine.predict import joined_themes

    flag = np.array([[1, 0, 1], [0, 0, 0], [1, 0, 1], [0, 1, 0]], dtype=np.int8)
    assert joined_themes(flag, ["a", "b", "c"]) == ["a|c", "", "a|c", "b"]
    assert joined_themes(np.zeros((0, 3), dtype=np.int8), ["a", "b", "c"]) == []
    assert joined_themes(np.zeros((2, 0), dtype=np.int8), []) == ["", ""]
