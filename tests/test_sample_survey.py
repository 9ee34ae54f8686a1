"""The bundled sample survey mirrors the press release."""

import pandas as pd
from conftest import SAMPLE

SCORES = ["overall", "customer_friendliness", "efficiency", "interaction", "responsibility", "administration", "management"]


def _valid(s: pd.Series) -> pd.Series:
    return s[(s >= 1) & (s <= 5)]


def test_columns_and_size():
    df = pd.read_csv(SAMPLE)
    assert list(df.columns) == ["respondent_id", "permit_type", "born_in_finland", "channel", "language", *SCORES, "improvement"]
    assert len(df) >= 212 and df["respondent_id"].is_unique
    assert set(df["permit_type"]) == {"work", "study", "family", "protection", "citizenship", "other"}
    assert set(df["born_in_finland"]) == {"yes", "no"}
    assert set(df["channel"]) == {"website", "phone", "service_point", "enter_finland"}
    assert set(df["language"]) == {"fi", "sv", "en"}
    assert (df[SCORES] == 0).sum().sum() > 0 and df[SCORES].isna().sum().sum() > 0


def test_press_release_figures():
    df = pd.read_csv(SAMPLE)
    assert round(_valid(df["overall"]).mean(), 2) == 3.84
    assert round(_valid(df["customer_friendliness"]).mean(), 2) == 3.85
    assert round(_valid(df["efficiency"]).mean(), 2) == 3.52
    valid = df[(df["overall"] >= 1) & (df["overall"] <= 5)]
    by_permit = valid.groupby("permit_type")["overall"].mean()
    assert by_permit.idxmax() == "work" and by_permit["study"] < by_permit["work"]
    by_born = valid.groupby("born_in_finland")["overall"].mean()
    assert by_born["no"] > by_born["yes"]


def test_intended_themes_lead_with_processing_time_and_information():
    labels = pd.read_csv(SAMPLE.with_name("sample_survey_labels.csv"), dtype=str, keep_default_na=False)
    counts = labels["labels"].str.split("|").explode().replace("", pd.NA).dropna().value_counts()
    assert counts.index[:2].tolist() == ["processing_time", "process_information"]
