"""The Dask engine gives the pandas engine's rows and summary (a LocalCluster of two workers)."""

from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import MESSY, SAMPLE

from textmine.errors import TextmineError
from textmine.files import read_table
from textmine.predict import output_columns, predict_file
from textmine.report import report_file

HAVE_DASK = all(importlib.util.find_spec(m) is not None for m in ("dask", "distributed"))
needs_dask = pytest.mark.skipif(not HAVE_DASK, reason="dask is not installed: pip install 'textmine[dask]'")


def _split(df: pd.DataFrame, n: int) -> list[pd.DataFrame]:
    step = -(-len(df) // n)
    return [df.iloc[i : i + step] for i in range(0, len(df), step)]


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample survey as 3 CSV files and as a directory of 3 Parquet files."""
    root = tmp_path_factory.mktemp("dask_sources")
    df = read_table(SAMPLE)
    (root / "csv").mkdir()
    (root / "parquet").mkdir()
    for i, part in enumerate(_split(df, 3)):
        part.to_csv(root / "csv" / f"survey_{i + 1}.csv", index=False)
        part.to_parquet(root / "parquet" / f"part.{i}.parquet", index=False)
    return {"csv_glob": root / "csv" / "*.csv", "parquet_dir": root / "parquet", "root": root}


@pytest.fixture(scope="module")
def cluster():
    """One LocalCluster of two worker processes, shared by the tests that name its scheduler."""
    if not HAVE_DASK:
        pytest.skip("dask is not installed: pip install 'textmine[dask]'")
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as local:
        yield local.scheduler_address


@pytest.fixture(scope="module")
def pandas_rows(default_model, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The pandas engine's classified rows of the whole sample, read back from Parquet."""
    out = tmp_path_factory.mktemp("pandas_engine") / "tagged.parquet"
    predict_file(SAMPLE, out, model=default_model, jobs=1)
    return pd.read_parquet(out)


def _compare_rows(got: pd.DataFrame, expected: pd.DataFrame, themes: list[str]) -> None:
    assert list(got.columns) == list(expected.columns)
    assert len(got) == len(expected) == 240
    # row order is the input's: the parts' files sort by name, and so do the output's parts
    assert got["respondent_id"].tolist() == expected["respondent_id"].tolist()
    got = got.sort_values("respondent_id", kind="stable").reset_index(drop=True)
    expected = expected.sort_values("respondent_id", kind="stable").reset_index(drop=True)
    inputs = [c for c in expected.columns if c not in output_columns(themes)]
    checked = [*inputs, "lang", "themes", *themes, *(f"p_{t}" for t in themes), "confidence", "needs_review"]
    pd.testing.assert_frame_equal(got[checked], expected[checked])
    pd.testing.assert_frame_equal(got, expected)  # and nothing else differs either (dtypes included)


@pytest.mark.slow
@needs_dask
def test_predict_dask_csv_parts_equals_pandas_engine(parts, default_model, pandas_rows, tmp_path) -> None:
    from textmine.engine_dask import predict_dask

    out = tmp_path / "tagged"
    counts = predict_dask(str(parts["csv_glob"]), out, model=default_model, n_workers=2)  # its own LocalCluster
    assert sorted(p.name for p in out.iterdir()) == [f"part-{i:06d}.parquet" for i in range(3)]
    got = pd.read_parquet(out)
    _compare_rows(got, pandas_rows, list(default_model.themes_))
    assert (counts.read, counts.empty) == (240, int((pandas_rows["lang"] == "").sum()))
    assert counts.empty > 0  # the sample has unanswered rows, and they are kept

    with pytest.raises(TextmineError, match=r"E113"):  # a non-empty output directory needs force
        predict_dask(str(parts["csv_glob"]), out, model=default_model, n_workers=1)


@pytest.mark.slow
@needs_dask
def test_predict_dask_parquet_dataset_on_a_scheduler(parts, default_model, pandas_rows, cluster, tmp_path) -> None:
    from textmine.engine_dask import predict_dask

    out = tmp_path / "tagged"
    (out / "old").mkdir(parents=True)
    counts = predict_dask(parts["parquet_dir"], out, model=default_model, scheduler=cluster, force=True,
                          text_col="improvement", redact=True)
    assert not (out / "old").exists()  # force replaced the directory
    expected_file = tmp_path / "expected.parquet"
    predict_file(SAMPLE, expected_file, model=default_model, jobs=1, redact=True)
    _compare_rows(pd.read_parquet(out), pd.read_parquet(expected_file), list(default_model.themes_))
    assert counts.read == 240

    with pytest.raises(TextmineError, match=r"E114"):  # never over the input
        predict_dask(parts["parquet_dir"], parts["root"], model=default_model, scheduler=cluster, force=True)


@pytest.mark.slow
@needs_dask
def test_report_dask_summary_equals_pandas_engine(parts, default_model, cluster, tmp_path) -> None:
    from textmine.engine_dask import report_dask

    whole = tmp_path / "whole.csv"  # the parts concatenated: the pandas engine's input
    pd.concat(pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(parts["csv_glob"].parent.glob("*.csv"))
              ).to_csv(whole, index=False)
    expected = report_file(whole, model=default_model, jobs=1)
    summary, counts = report_dask(str(parts["csv_glob"]), model=default_model, scheduler=cluster)
    assert summary.to_dict() == expected.summary.to_dict()
    assert (counts.read, counts.empty) == (expected.counts.read, expected.counts.empty)
    for name, table in summary.tables().items():
        pd.testing.assert_frame_equal(table, expected.summary.tables()[name], obj=name)

    # chosen columns, a larger min_cell, and Parquet input; off-scale scores get global row numbers
    bad = read_table(SAMPLE)
    bad.loc[[5, 170], "efficiency"] = ["7", "lots"]
    bad.to_csv(whole, index=False)
    for i, part in enumerate(_split(bad, 3)):
        part.to_parquet(tmp_path / f"bad_{i}.parquet", index=False)
    options: dict[str, Any] = {"scores": ["overall", "efficiency"], "segments": ["channel"], "min_cell": 10}
    expected = report_file(whole, model=default_model, jobs=1, **options)
    summary, _ = report_dask(str(tmp_path / "bad_*.parquet"), model=default_model, scheduler=cluster, **options)
    assert summary.to_dict() == expected.summary.to_dict()
    assert summary.meta["problems"] == {"efficiency": [(7, "7"), (172, "lots")]}


def test_source_files_order_and_whole_file_csv(tmp_path) -> None:
    from textmine.engine_dask import _needs_whole_file, source_files

    for name in ("part.10.csv", "part.2.csv", "part.1.csv", "_SUCCESS", ".hidden.csv"):
        (tmp_path / name).write_text("a,b\n1,2\n")
    kind, files = source_files(tmp_path)
    assert kind == "csv" and [Path(f).name for f in files] == ["part.1.csv", "part.2.csv", "part.10.csv"]
    assert source_files(str(tmp_path / "part.*.csv")) == (kind, files)
    (tmp_path / "more.parquet").write_bytes(b"x")
    with pytest.raises(TextmineError, match="E112"):
        source_files(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(TextmineError, match="E111"):
        source_files(tmp_path / "empty")
    with pytest.raises(TextmineError, match="E001"):
        source_files(tmp_path / "missing")
    # rows that span lines cannot be split into byte blocks: such files are read whole
    assert _needs_whole_file(str(MESSY / "multiline_quoted.csv"))
    assert _needs_whole_file(str(MESSY / "mac_newlines.csv"))
    assert not _needs_whole_file(str(SAMPLE))


def test_require_dask_says_how_to_install(monkeypatch) -> None:
    from textmine import engine_dask

    for name in ("dask", "dask.dataframe", "distributed"):
        monkeypatch.setitem(sys.modules, name, None)  # import fails as if not installed
    with pytest.raises(TextmineError) as err:
        engine_dask.require_dask()
    assert err.value.code == "E110"
    assert "pip install 'textmine[dask]'" in str(err.value)
    assert "dask[dataframe,distributed]" in str(err.value)
    with pytest.raises(TextmineError, match="E110"):
        engine_dask.predict_dask("x.csv", "out", model=None)


def test_import_textmine_does_not_import_dask() -> None:
    """dask is imported inside the engine's functions only (no module-level import)."""
    import ast

    from textmine import engine_dask

    tree = ast.parse(Path(engine_dask.__file__).read_text(encoding="utf-8"))
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    names = [a.name for n in top if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in top if isinstance(n, ast.ImportFrom)]
    assert not [m for m in names if m.split(".")[0] in ("dask", "distributed")]
