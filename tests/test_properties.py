"""Property-based tests: random answers, delimiters, encodings and score noise never lose a row."""

import csv
import io
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from textmine import classify, read_table, summarize

TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=80)
SCORE = st.one_of(st.sampled_from(["1", "2", "3", "4", "5", "0", "", "EOS", "vet ej", "3,5", " 4 ", "5 - hyvä", "99", "x"]),
                  st.text(max_size=5))
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp1252"]


def _encodable(text: str, encoding: str) -> str:
    return text.encode(encoding, errors="replace").decode(encoding).replace("\r", " ")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(TEXT, SCORE, st.sampled_from(["a", "b", "c"])), min_size=1, max_size=25),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(ENCODINGS),
)
def test_read_classify_summarize_conserves_rows(tmp_path_factory, default_model, rows, delimiter, encoding):
    path: Path = tmp_path_factory.mktemp("prop") / "survey.csv"
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(["rid", "answer", "score", "group"])
    clean = [(f"id{i}", _encodable(t, encoding), _encodable(s, encoding), g) for i, (t, s, g) in enumerate(rows)]
    writer.writerows(clean)
    path.write_bytes(buf.getvalue().encode(encoding))

    df = read_table(path, delimiter=delimiter)
    assert len(df) == len(rows)
    assert df["rid"].tolist() == [r[0] for r in clean]
    tagged = classify(df, default_model, text_col="answer")
    assert len(tagged) == len(rows) and list(tagged.index) == list(df.index)
    assert tagged["rid"].tolist() == df["rid"].tolist()
    summary = summarize(tagged, text_col="answer", scores=["score"], segments=["group"], min_cell=1)
    assert summary.meta["n_respondents"] == len(rows)
    seg = summary.segments
    assert seg["respondents"].sum() == len(rows)
    row = summary.scores.iloc[0]
    n = 0 if pd.isna(row["n"]) else int(row["n"])
    assert n + row["dont_know"] + row["missing"] == len(rows)  # off-scale values count as missing
    assert len(summary.meta["problems"].get("score", [])) <= row["missing"]
