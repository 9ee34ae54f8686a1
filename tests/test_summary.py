"""summarize: score table, segments, themes, impact, languages, suppression, mergeable aggregates."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from textmine.errors import TextmineError
from textmine.summary import ALL, Aggregates, detect_scores, detect_segments, summarize

THEMES = ["slow", "info", "praise"]


def make_tagged(n: int = 60, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "rid": [f"r{i}" for i in range(n)],
        "group": rng.choice(["a", "b", "c"], n, p=[0.5, 0.45, 0.05]),
        "overall": rng.choice(["1", "2", "3", "4", "5", "0", "", "EOS"], n).astype(object),
        "speed": rng.choice(["1", "2", "3", "4", "5"], n).astype(object),
        "text": [f"answer {i}" if i % 7 else "" for i in range(n)],
    })
    df["lang"] = ["" if t == "" else ("fi" if i % 2 else "en") for i, t in enumerate(df["text"])]
    for t in THEMES:
        flag = (rng.random(n) < 0.3) & (df["lang"] != "")
        df[t] = flag.astype(int)
        df[f"p_{t}"] = np.where(flag, 0.8, 0.1)
    df["themes"] = df[THEMES].apply(lambda r: "|".join(t for t in THEMES if r[t]), axis=1)
    df["confidence"] = 0.9
    df["needs_review"] = False
    return df


def _valid(series: pd.Series) -> np.ndarray:
    v = pd.to_numeric(series, errors="coerce")
    return v[(v >= 1) & (v <= 5)].to_numpy()


def test_detected_columns():
    df = make_tagged()
    assert detect_scores(df, exclude=["text", *THEMES, *[f"p_{t}" for t in THEMES], "confidence", "needs_review"]) == ["overall", "speed"]
    assert detect_segments(df, exclude=["text", "lang", "themes", "overall", "speed"]) == ["group"]


def test_scores_table_matches_direct_computation():
    df = make_tagged()
    s = summarize(df, text_col="text")
    row = s.scores.set_index("score").loc["overall"]
    v = _valid(df["overall"])
    assert row["n"] == len(v)
    assert row["mean"] == pytest.approx(v.mean())
    assert row["sd"] == pytest.approx(v.std(ddof=1))
    half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v))
    assert row["ci_low"] == pytest.approx(v.mean() - half)
    assert row["dont_know"] == ((df["overall"] == "0") | (df["overall"] == "EOS")).sum()
    assert row["missing"] == (df["overall"] == "").sum()


def test_small_cells_are_suppressed_everywhere():
    df = make_tagged()
    s = summarize(df, text_col="text", min_cell=5)
    c_rows = (df["group"] == "c").sum()
    assert 0 < c_rows < 5
    seg = s.segments[s.segments["value"] == "c"]
    assert seg["suppressed"].all() and seg["mean"].isna().all() and seg["respondents"].isna().all()
    th = s.themes[(s.themes["group"] == "group") & (s.themes["value"] == "c")]
    assert th["suppressed"].all() and th["count"].isna().all()
    d = s.to_dict()
    assert d["segments"]["group"]["c"]["n"] is None and d["segments"]["group"]["c"]["suppressed"]
    assert all(v is None for v in d["segments"]["group"]["c"]["scores"].values())
    assert all(v is None for v in d["segments"]["group"]["c"]["themes"].values())


def test_themes_counts_add_up_and_are_ranked():
    df = make_tagged()
    s = summarize(df, text_col="text", min_cell=1)
    overall = s.themes[s.themes["group"] == ALL].set_index("theme")
    for t in THEMES:
        assert overall.loc[t, "count"] == df[t].sum()
        assert overall.loc[t, "share"] == pytest.approx(df[t].sum() / (df["lang"] != "").sum())
    per_group = s.themes[s.themes["group"] == "group"].groupby("theme")["count"].sum()
    assert (per_group.sort_index() == overall["count"].sort_index()).all()
    assert sorted(overall["rank"]) == [1, 2, 3]
    assert s.meta["n_respondents"] == len(df)
    seg_total = s.segments[s.segments["score"] == "overall"].groupby("segment")["respondents"].sum()
    assert seg_total["group"] == len(df)


def test_impact_is_welch_difference():
    df = make_tagged(200, seed=3)
    s = summarize(df, text_col="text")
    row = s.impact[(s.impact["theme"] == "slow") & (s.impact["score"] == "speed")].iloc[0]
    v = pd.to_numeric(df["speed"])
    a, b = v[df["slow"] == 1], v[df["slow"] == 0]
    assert row["diff"] == pytest.approx(a.mean() - b.mean())
    test = stats.ttest_ind(a, b, equal_var=False)
    ci = test.confidence_interval(0.95)
    assert row["ci_low"] == pytest.approx(ci.low) and row["ci_high"] == pytest.approx(ci.high)


def test_merged_chunks_equal_the_whole():
    df = make_tagged(500, seed=7)
    whole = summarize(df, text_col="text")
    codes = tuple(sorted(whole.meta["dont_know_codes"]))
    parts = []
    for start in range(0, len(df), 97):
        agg = Aggregates(scores=whole.meta["scores"], segments=whole.meta["segments"], themes=THEMES, text_col="text", dont_know=codes)
        parts.append(agg.update(df.iloc[start:start + 97], row_offset=start))
    merged = parts[0]
    for p in parts[1:]:
        merged.merge(p)
    s = merged.finalize()
    for name, table in whole.tables().items():
        pd.testing.assert_frame_equal(table, s.tables()[name], check_exact=False, rtol=1e-12)
    assert s.to_dict() == whole.to_dict()


def test_dont_know_codes_are_configurable_and_strict_lists_every_problem():
    df = make_tagged()
    df.loc[[2, 5], "overall"] = ["9", "x"]
    s = summarize(df, text_col="text", scores=["overall"], dont_know=["0"])
    assert {v for _, v in s.meta["problems"]["overall"]} >= {"9", "x", "EOS"}
    with pytest.raises(TextmineError) as err:
        summarize(df, text_col="text", scores=["overall"], strict=True)
    assert "column 'overall' row 4: '9'; column 'overall' row 7: 'x'" in str(err.value)


def test_bad_arguments():
    df = make_tagged()
    with pytest.raises(TextmineError, match=r"Score column 'nps' is not in the data\. Columns in the data: \['rid'"):
        summarize(df, scores=["nps"], text_col="text")
    with pytest.raises(TextmineError, match=r"min_cell must be a whole number of at least 1, not 0"):
        summarize(df, text_col="text", min_cell=0)
    with pytest.raises(TextmineError, match=r"No score columns found"):
        summarize(df.drop(columns=["overall", "speed"]), text_col="text")


def test_waves_changes_and_significance():
    rng = np.random.default_rng(5)
    n = 400
    wave = np.where(np.arange(n) < 200, "2023", "2024")
    overall = np.where(wave == "2023", rng.choice([3, 4, 5], n), rng.choice([1, 2, 3], n)).astype(str)
    df = make_tagged(n, seed=5).assign(round=wave, overall=overall)
    df["slow"] = ((wave == "2024") & (rng.random(n) < 0.6) | (rng.random(n) < 0.1)).astype(int) * (df["lang"] != "")
    s = summarize(df, text_col="text", scores=["overall"], wave="round")
    w = s.waves.set_index(["kind", "name", "wave"])
    a = pd.to_numeric(df.loc[df["round"] == "2023", "overall"])
    b = pd.to_numeric(df.loc[df["round"] == "2024", "overall"])
    row = w.loc[("score", "overall", "2024")]
    assert row["change"] == pytest.approx(b.mean() - a.mean())
    assert row["p_value"] == pytest.approx(stats.ttest_ind(b, a, equal_var=False).pvalue)
    assert row["significant"] and pd.isna(w.loc[("score", "overall", "2023"), "change"])
    answered = df["lang"] != ""
    c1, n1 = df.loc[answered & (df["round"] == "2023"), "slow"].sum(), (answered & (df["round"] == "2023")).sum()
    c2, n2 = df.loc[answered & (df["round"] == "2024"), "slow"].sum(), (answered & (df["round"] == "2024")).sum()
    pooled = (c1 + c2) / (n1 + n2)
    z = (c2 / n2 - c1 / n1) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    theme = w.loc[("theme", "slow", "2024")]
    assert theme["value"] == pytest.approx(c2 / n2)
    assert theme["p_value"] == pytest.approx(2 * stats.norm.sf(abs(z)))
    assert s.to_dict()["waves"]["2024"]["scores"]["overall"]["significant"] is True
    assert "round" not in s.meta["scores"]


def test_dates_grouped_by_period_in_time_order():
    df = make_tagged(120, seed=2)
    df["date"] = ["15.3.2024", "2024-05-02", "1.12.2023", "2024-02-29"] * 30
    s = summarize(df, text_col="text", scores=["overall"], wave="date", period="quarter", min_cell=1)
    assert list(dict.fromkeys(s.waves["wave"])) == ["2023Q4", "2024Q1", "2024Q2"]
    with pytest.raises(TextmineError, match=r"Unknown period 'week'\. Use one of: month, quarter, year"):
        summarize(df, text_col="text", scores=["overall"], wave="date", period="week")
