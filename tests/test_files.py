"""Reading real-world files: each nasty file is read correctly or refused with its exact error."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import MESSY

from textmine.errors import TextmineError
from textmine.files import (
    detect_delimiter,
    duplicate_ids,
    find_text_column,
    parse_scores,
    read_table,
    write_table,
)

FIRST = "Käsittely kesti liian kauan, yhdeksän kuukautta."


@pytest.mark.parametrize("name,rows,kw", [
    ("semicolon_cp1252.csv", 5, {}),
    ("utf8_bom.csv", 5, {}),
    ("excel_unicode_text.txt", 5, {}),
    ("latin1_pipe.csv", 5, {}),
    ("not_utf8_declared.csv", 5, {}),
    ("trailing_empty_columns.csv", 5, {}),
    ("mac_newlines.csv", 5, {}),
    ("duplicate_ids.csv", 7, {}),
    ("two_sheets.xlsx", 5, {"sheet": "Answers"}),
    ("survey.parquet", 5, {}),
    ("survey.jsonl", 5, {}),
])
def test_read_correctly(name: str, rows: int, kw: dict):
    df = read_table(MESSY / name, **kw)
    assert list(df.columns) == ["respondent_id", "permit_type", "overall", "improvement"]
    assert len(df) == rows
    assert df.loc[0, "improvement"] == FIRST
    scores = parse_scores(df["overall"])
    assert scores.values.notna().sum() == rows - 1 - (name == "duplicate_ids.csv") * 0
    assert int(scores.dont_know.sum()) == 1 and not scores.problems


def test_semicolon_file_has_decimal_comma_scores():
    df = read_table(MESSY / "semicolon_cp1252.csv")
    assert parse_scores(df["overall"]).values.tolist()[:4] == [4.0, 3.5, 5.0, 2.0]


def test_multiline_quoted_fields_survive():
    df = read_table(MESSY / "multiline_quoted.csv")
    assert len(df) == 3
    assert df.loc[0, "improvement"] == 'Line one\nline two, with a comma and "quotes"'
    assert df.loc[2, "improvement"].count("\n") == 2


def test_emoji_and_invisible_characters_are_kept():
    df = read_table(MESSY / "emoji_and_invisible.csv")
    assert len(df) == 4 and "👍" in df.loc[0, "improvement"] and "\u200b" in df.loc[1, "improvement"]


def test_scores_written_as_text():
    df = read_table(MESSY / "scores_as_text.csv")
    parsed = parse_scores(df["overall"])
    assert parsed.values.tolist()[:3] == [5.0, 4.0, 3.0]
    assert int(parsed.dont_know.sum()) == 3  # EOS, en osaa sanoa, Vet ej
    assert parsed.problems == [(7, "7"), (8, "abc")]  # spreadsheet rows, all at once
    assert parsed.values.isna().sum() == 6


def test_first_sheet_by_default_and_unknown_sheet():
    assert list(read_table(MESSY / "two_sheets.xlsx").columns) == ["note"]
    with pytest.raises(TextmineError) as err:
        read_table(MESSY / "two_sheets.xlsx", sheet="Vastaukset")
    assert str(err.value) == f"Sheet 'Vastaukset' not in {MESSY / 'two_sheets.xlsx'}. Sheets in the file: ['Info', 'Answers']. [E008]"


@pytest.mark.parametrize("name,message", [
    ("empty.csv", "{p} is empty. Export the survey again with its header row and answers. [E004]"),
    ("blank_lines.csv", "{p} is empty. Export the survey again with its header row and answers. [E004]"),
    ("header_only.csv", "{p} has a header but no rows. Export the survey again with its answers. [E005]"),
    ("survey.ods", "Unsupported file type '.ods' for {p}. Use .csv, .tsv, .txt, .xlsx, .parquet or .jsonl. [E003]"),
    ("broken.jsonl", "{p} could not be read as JSON lines: Expected object or value. Check the file, or pass --encoding/--delimiter. [E006]"),
    ("ragged.csv", "{p} could not be read as CSV (delimiter ',', encoding utf-8): Error tokenizing data. C error: Expected 3 fields in line 3, saw 6. Check the file, or pass --encoding/--delimiter. [E006]"),
])
def test_refused_with_the_exact_error(name: str, message: str):
    with pytest.raises(TextmineError) as err:
        read_table(MESSY / name)
    assert str(err.value) == message.format(p=MESSY / name)


def test_missing_path_and_directory(tmp_path: Path):
    with pytest.raises(TextmineError, match=r"^File not found: .*nope\.csv\. Check the path"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(TextmineError, match=r"is a directory, not a file"):
        read_table(tmp_path)


def test_encoding_and_delimiter_overrides():
    df = read_table(MESSY / "semicolon_cp1252.csv", encoding="cp1252", delimiter=";")
    assert df.loc[0, "improvement"] == FIRST
    with pytest.raises(TextmineError, match=r"Could not decode .* as utf-8\. Pass the right --encoding"):
        read_table(MESSY / "semicolon_cp1252.csv", encoding="utf-8")


def test_detect_delimiter_and_text_column_and_duplicates():
    assert detect_delimiter("a;b;c\n1;2;3\n") == ";"
    assert detect_delimiter("a\tb\n1\t2\n") == "\t"
    df = read_table(MESSY / "duplicate_ids.csv")
    assert find_text_column(df) == "improvement"
    assert duplicate_ids(df) == ("respondent_id", 2)
    assert duplicate_ids(read_table(MESSY / "utf8_bom.csv")) is None


def test_write_is_atomic_refuses_the_input_and_needs_force(tmp_path: Path):
    df = pd.DataFrame({"a": [1, 2]})
    target = tmp_path / "out.csv"
    write_table(df, target)
    with pytest.raises(TextmineError, match=r"exists\. Pass --force to replace it"):
        write_table(df, target)
    write_table(pd.DataFrame({"a": [3]}), target, force=True)
    assert pd.read_csv(target)["a"].tolist() == [3]
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no temporary file left
    with pytest.raises(TextmineError, match=r"Refusing to write over the input file"):
        write_table(df, target, force=True, inputs=[target])
    with pytest.raises(TextmineError, match=r"Unsupported output type '\.txt'"):
        write_table(df, tmp_path / "x.txt")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet", ".jsonl"])
def test_round_trip_every_output_format(tmp_path: Path, suffix: str):
    df = pd.DataFrame({"id": ["a", "b"], "text": ["Hyvä 👍", "line\nbreak, comma"]})
    path = write_table(df, tmp_path / f"t{suffix}")
    back = read_table(path)
    assert back["text"].tolist() == df["text"].tolist()


def test_csv_chunks_format_probabilities_and_scores_as_pandas_does():
    from textmine.files import encode_chunk

    rng = np.random.default_rng(0)
    df = pd.DataFrame({
        "p": np.round(rng.random(500), 4), "edges": np.resize([0.0, 1.0, 0.0001, 0.9999, 0.5], 500),
        "neg_zero": np.resize([-0.0, 0.25], 500), "more_decimals": rng.random(500), "big": rng.random(500) * 3,
        "with_nan": np.resize([0.5, np.nan], 500), "text": ["a,b", "x"] * 250,
        "scores": np.resize([1.0, 5.0, np.nan, 3.0, 2.5], 500), "all_missing": np.full(500, np.nan),
        "odd": np.resize([1e20, -2.25, np.inf, -np.inf, 1 / 3, 1e-5], 500), "zeros": np.resize([0.0, -0.0, 7.0], 500),
    })
    for frame in (df, df.iloc[:0], df[["scores"]], df[["all_missing"]]):  # one column: a missing value is written '""'
        assert encode_chunk(frame, ".csv", header=True) == frame.to_csv(index=False).encode("utf-8")
        assert encode_chunk(frame, ".csv", header=False) == frame.to_csv(index=False, header=False).encode("utf-8")


def test_scores_parsed_once_per_distinct_value_equal_value_by_value():
    from textmine.files import parse_scores

    raw = ["5", " 4 ", "4,0", "3.5", "5 - very good", "EOS", "en osaa sanoa", "0", "7", "abc", "", None, "2", "5", "7"]
    fast = parse_scores(pd.Series(raw * 3, dtype=object))
    slow = parse_scores(pd.Series(raw * 3 + [True], dtype=object))  # mixed types: value by value
    n = len(raw) * 3
    np.testing.assert_array_equal(fast.values.to_numpy(), slow.values.to_numpy()[:n])
    np.testing.assert_array_equal(fast.dont_know.to_numpy(), slow.dont_know.to_numpy()[:n])
    assert fast.problems == slow.problems[:-1] and slow.problems[-1] == (n + 2, "True")
    assert fast.problems[:2] == [(10, "7"), (11, "abc")]
    numeric = parse_scores(pd.Series([1.0, 5.0, np.nan, 0.0, 9.0]))
    np.testing.assert_array_equal(numeric.values.to_numpy(), [1.0, 5.0, np.nan, np.nan, np.nan])
    assert numeric.dont_know.tolist() == [False, False, False, True, False] and numeric.problems == [(6, "9.0")]
