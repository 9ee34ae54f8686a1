"""The command line, end to end: the main job on the sample survey and user errors."""

import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from conftest import MESSY, ROOT, SAMPLE

from textmine.cli import main

EXE = shutil.which("textmine") or str(Path(__file__).resolve().parent.parent / ".venv" / "bin" / "textmine")


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("report")
    run = subprocess.run([EXE, "report", str(SAMPLE), "-o", str(out), "--force"], capture_output=True, text=True, cwd=ROOT)
    return out, run


def test_main_job_reproduces_the_press_release(sample_report):
    out, run = sample_report
    assert run.returncode == 0, run.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["n_respondents"] == 240
    assert round(summary["scores"]["overall"]["mean"], 2) == 3.84
    assert round(summary["scores"]["customer_friendliness"]["mean"], 2) == 3.85
    assert round(summary["scores"]["efficiency"]["mean"], 2) == 3.52
    assert set(summary["scores"]["overall"]) >= {"mean", "n", "ci95", "dont_know"}
    permit = summary["segments"]["permit_type"]
    assert permit["work"]["scores"]["overall"] > permit["study"]["scores"]["overall"]
    assert max(permit, key=lambda v: permit[v]["scores"]["overall"] or 0) == "work"
    born = summary["segments"]["born_in_finland"]
    assert born["no"]["scores"]["overall"] > born["yes"]["scores"]["overall"]
    assert summary["top_themes"][:2] == ["processing_time", "process_information"]
    counts = {t: v["count"] for t, v in summary["themes"].items() if t != "praise"}
    assert sorted(counts, key=lambda t: -counts[t])[:2] == ["processing_time", "process_information"]
    assert summary["model"]["cv_metrics"]["micro_f1"] > 0.5
    assert "impact" in summary and "processing_time" in summary["impact"]


def test_terminal_output_fits_100_columns_and_says_what_was_read(sample_report):
    _, run = sample_report
    assert all(len(line) <= 100 for line in run.stdout.splitlines())
    assert "overall" in run.stdout and "3.84" in run.stdout and "Processing speed" in run.stdout
    assert "240 rows read; 38 skipped as empty text; 202 tagged." in run.stderr
    assert "Free-text column: 'improvement' (detected" in run.stderr


def test_report_files_and_row_conservation(sample_report):
    out, _ = sample_report
    assert {p.name for p in out.iterdir()} == {"classified.csv", "summary.xlsx", "summary.json", "report.html"}
    classified = pd.read_csv(out / "classified.csv", dtype=str)
    source = pd.read_csv(SAMPLE, dtype=str)
    assert classified["respondent_id"].tolist() == source["respondent_id"].tolist()
    sheets = pd.read_excel(out / "summary.xlsx", sheet_name=None)
    assert list(sheets) == ["headline", "scores", "segments", "themes", "impact", "languages"]
    seg = sheets["segments"]
    assert (seg["respondents"].astype(str).str.match(r"^(\d+|n<5)$")).all()


def test_existing_output_needs_force(sample_report):
    out, _ = sample_report
    run = subprocess.run([EXE, "report", str(SAMPLE), "-o", str(out)], capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1].startswith(f"Error: {out / 'classified.csv'} exists. Pass --force")


@pytest.mark.parametrize("argv,message", [
    (["report", "missing.csv"], "Error: File not found: missing.csv. Check the path, or run the command from the folder that holds it. [E001]"),
    (["report", str(MESSY)], f"Error: {MESSY} is a directory, not a file. Give the path of a .csv, .xlsx, .parquet or .jsonl file. [E002]"),
    (["report", str(MESSY / "header_only.csv")], f"Error: {MESSY / 'header_only.csv'} has a header but no rows. Export the survey again with its answers. [E005]"),
    (["report", str(SAMPLE), "--scores", "overall,nps"], "Error: Column 'nps' is not in the data. Columns in the data: ['respondent_id', 'permit_type', 'born_in_finland', 'channel', 'language', 'overall', 'customer_friendliness', 'efficiency', 'interaction', 'responsibility', 'administration', 'management', 'improvement']. [E007]"),
    (["predict", str(SAMPLE), "--text-col", "vastaus", "-o", "x.csv"], "Error: Text column 'vastaus' is not in the data."),
    (["predict", str(SAMPLE), "-o", str(SAMPLE), "--force"], f"Error: Refusing to write over the input file {SAMPLE}. Choose another output path. [E021]"),
    (["report", str(SAMPLE), "--model", "nowhere"], "Error: No model at nowhere: expected model.joblib and model_card.json there. Train one with `textmine train --data DATA --out nowhere`. [E050]"),
    (["report", str(MESSY / "scores_as_text.csv"), "--scores", "overall", "--strict"], "Error: Invalid score values (2) with --strict: column 'overall' row 7: '7'; column 'overall' row 8: 'abc'."),
    (["train", "--out", "x"], "Error: the following arguments are required: --data. See 'textmine train --help'."),
    (["report", str(SAMPLE), "--min-cell", "many"], "Error: argument --min-cell: invalid int value: 'many'. See 'textmine report --help'."),
])
def test_user_errors_are_one_line_with_exit_code_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        raise SystemExit(main(argv))
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(message), err[-1]
    assert "Traceback" not in "\n".join(err)


def test_messy_file_warnings_and_problems_are_reported(capsys):
    assert main(["report", str(MESSY / "duplicate_ids.csv"), "--min-cell", "1"]) == 0
    assert "Warning: 2 rows repeat an earlier value of 'respondent_id'" in capsys.readouterr().err
    assert main(["report", str(MESSY / "scores_as_text.csv"), "--scores", "overall", "--min-cell", "1"]) == 0
    out = capsys.readouterr().out
    assert "overall: 2 value(s): row 7: '7', row 8: 'abc'" in out


def test_predict_every_format_keeps_every_row(tmp_path: Path, capsys):
    for suffix in (".csv", ".xlsx", ".parquet", ".jsonl"):
        target = tmp_path / f"tagged{suffix}"
        assert main(["predict", str(MESSY / "semicolon_cp1252.csv"), "-o", str(target)]) == 0
        from textmine.files import read_table

        back = read_table(target)
        assert back["respondent_id"].tolist() == ["r1", "r2", "r3", "r4", "r5"]
        assert "themes" in back.columns and "needs_review" in back.columns


def test_redact_command(tmp_path: Path):
    src = tmp_path / "in.csv"
    pd.DataFrame({"id": ["1", "2"], "text": ["soita 040 123 4567", "ok 9 months"]}).to_csv(src, index=False)
    assert main(["redact", str(src), "-o", str(tmp_path / "out.csv")]) == 0
    assert pd.read_csv(tmp_path / "out.csv")["text"].tolist() == ["soita <PHONE>", "ok 9 months"]


def test_themes_and_evaluate_json(capsys):
    assert main(["themes", "--lang", "fi"]) == 0
    out = capsys.readouterr().out
    assert "processing_time" in out and "Käsittelyn nopeus" in out
    assert main(["evaluate", "--model", str(ROOT / "models" / "default"), "--data", str(ROOT / "data" / "sample_survey_labels.csv"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"micro_f1", "macro_f1", "exact_match", "per_theme", "per_language"} <= set(result)


def test_help_has_examples(capsys):
    for cmd in ([], ["train"], ["evaluate"], ["predict"], ["report"], ["redact"], ["themes"]):
        with pytest.raises(SystemExit):
            main([*cmd, "--help"])
        assert "examples:" in capsys.readouterr().out


def test_unexpected_failure_is_short(monkeypatch, capsys):
    import textmine.cli as cli

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(cli.COMMANDS, "themes", boom)
    assert main(["themes"]) == 1
    assert capsys.readouterr().err.strip() == "Error: unexpected failure (RuntimeError: disk on fire). Rerun with --debug for the traceback."


def test_review_discover_and_auto_threshold_commands(tmp_path: Path, capsys):
    assert main(["review", str(SAMPLE), "-o", str(tmp_path / "review.xlsx"), "--budget", "22"]) == 0
    sheet = pd.read_excel(tmp_path / "review.xlsx", sheet_name=None)
    assert len(sheet["review"]) == 22 and {"id", "text", "labels"} <= set(sheet["review"].columns)
    assert set(sheet["review"]["id"].astype(str)) <= set(pd.read_csv(SAMPLE, dtype=str)["respondent_id"])
    assert main(["discover", str(SAMPLE), "--all", "-o", str(tmp_path / "topics.xlsx")]) == 0
    assert (tmp_path / "codebook_suggestions.yaml").exists() and "candidate topics" in capsys.readouterr().out
    assert main(["predict", str(SAMPLE), "-o", str(tmp_path / "auto.csv"), "--auto-threshold", "0.6"]) == 0
    auto = pd.read_csv(tmp_path / "auto.csv")
    answered = auto["lang"].notna()
    assert (auto.loc[answered, "auto_coded"] != auto.loc[answered, "needs_review"]).all()


def test_streaming_with_jobs_gives_the_same_rows_and_summary(tmp_path: Path, capsys):
    one, two = tmp_path / "one", tmp_path / "two"
    assert main(["report", str(SAMPLE), "-o", str(one), "--jobs", "1", "--chunk-size", "1000"]) == 0
    assert main(["report", str(SAMPLE), "-o", str(two), "--jobs", "2", "--chunk-size", "37"]) == 0
    assert (one / "classified.csv").read_bytes() == (two / "classified.csv").read_bytes()
    assert json.loads((one / "summary.json").read_text()) == json.loads((two / "summary.json").read_text())
    assert (one / "report.html").read_text().split("report made")[1] == (two / "report.html").read_text().split("report made")[1]


def test_waves_in_the_terminal_and_json(tmp_path: Path, capsys):
    df = pd.read_csv(SAMPLE, dtype=str)
    df["date"] = ["15.3.2019", "2.4.2019", "20.9.2019", "2019-11-05"] * (len(df) // 4)
    src = tmp_path / "waves.csv"
    df.to_csv(src, index=False)
    assert main(["report", str(src), "--wave", "date", "--period", "quarter", "-o", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "By wave (date, per quarter)" in out and "2019Q4" in out
    assert all(len(line) <= 100 for line in out.splitlines())
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert list(summary["waves"]) == ["2019Q1", "2019Q2", "2019Q3", "2019Q4"]
    assert "change" in summary["waves"]["2019Q2"]["scores"]["overall"]
    page = (tmp_path / "out" / "report.html").read_text()
    assert "Trend by survey wave" in page and page.count("<svg") >= 5


def test_codebook_with_other_ids_is_refused(tmp_path: Path, capsys):
    book = (ROOT / "data" / "codebook.yaml").read_text(encoding="utf-8").replace("id: fees", "id: costs")
    (tmp_path / "cb.yaml").write_text(book, encoding="utf-8")
    assert main(["report", str(SAMPLE), "--codebook", str(tmp_path / "cb.yaml")]) == 2
    assert capsys.readouterr().err.strip().endswith(
        "Error: The codebook's theme ids differ from the model's: ids the codebook removed: fees; "
        "ids the model does not know: costs. Use the codebook the model was trained with, or retrain the model. [E054]")
    relabelled = (ROOT / "data" / "codebook.yaml").read_text(encoding="utf-8").replace("en: Fees and costs", "en: Charges")
    (tmp_path / "cb2.yaml").write_text(relabelled, encoding="utf-8")
    assert main(["report", str(SAMPLE), "--codebook", str(tmp_path / "cb2.yaml")]) == 0
    assert "Charges" in capsys.readouterr().out


PII = ["maija.meikalainen@example.org", "+358 40 765 4321", "131052-308T", "19811228-9874", "FI21 1234 5600 0007 85", "Dnro 4521/2019"]


def test_personal_data_never_reaches_report_files(tmp_path: Path):
    df = pd.read_csv(SAMPLE, dtype=str)
    for i, value in enumerate(PII * 5):
        row = i * 7 % len(df)
        df.loc[row, "improvement"] = f"Käsittely kestää liian kauan, kukaan ei vastaa. Ota yhteyttä {value} kiitos"
    src = tmp_path / "pii.csv"
    df.to_csv(src, index=False)
    assert main(["report", str(src), "-o", str(tmp_path / "out"), "--quotes", "10"]) == 0
    assert main(["predict", str(src), "-o", str(tmp_path / "red.jsonl"), "--redact"]) == 0
    assert main(["redact", str(src), "-o", str(tmp_path / "red.csv")]) == 0
    files = [*(tmp_path / "out").iterdir(), tmp_path / "red.jsonl", tmp_path / "red.csv"]
    texts = {f.name: f.read_bytes().decode("utf-8", errors="ignore") for f in files if f.suffix != ".xlsx"}
    texts["summary.xlsx"] = pd.read_excel(tmp_path / "out" / "summary.xlsx", sheet_name=None).__repr__()
    for name, text in texts.items():
        for value in PII:
            assert value not in text and value.replace(" ", "") not in text, (name, value)
    assert "<EMAIL>" in texts["classified.csv"] and "<PHONE>" in texts["red.csv"]
    plain = tmp_path / "plain.csv"
    assert main(["predict", str(src), "-o", str(plain)]) == 0  # predict keeps the text unless --redact
    assert PII[0] in plain.read_text(encoding="utf-8")


def test_progress_is_quiet_off_a_terminal_and_shown_with_verbose(tmp_path: Path, capsys):
    assert main(["predict", str(SAMPLE), "-o", str(tmp_path / "a.csv"), "--chunk-size", "100"]) == 0
    err = capsys.readouterr().err
    assert "classified" not in err and "240 rows read" in err
    assert main(["predict", str(SAMPLE), "-o", str(tmp_path / "b.csv"), "--chunk-size", "100", "--verbose"]) == 0
    assert "... classified 200 rows" in capsys.readouterr().err
    assert main(["predict", str(SAMPLE), "-o", str(tmp_path / "c.csv"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.slow
def test_dask_engine_from_the_command_line(tmp_path: Path, capsys):
    pytest.importorskip("distributed")
    df = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    parts = tmp_path / "parts"
    parts.mkdir()
    for i in range(3):
        df.iloc[i * 80:(i + 1) * 80].to_csv(parts / f"part{i}.csv", index=False)
    assert main(["report", str(parts / "*.csv"), "--engine", "dask", "--jobs", "2"]) == 0
    dask_out = capsys.readouterr()
    assert main(["report", str(SAMPLE)]) == 0
    pandas_out = capsys.readouterr()
    assert dask_out.out.split("\n", 2)[2] == pandas_out.out.split("\n", 2)[2]  # all but the title
    assert "240 rows read; 38 skipped as empty text; 202 tagged." in dask_out.err
    assert main(["predict", str(parts), "--engine", "dask", "--jobs", "2", "-o", str(tmp_path / "out")]) == 0
    back = pd.read_parquet(tmp_path / "out")
    assert len(back) == 240 and sorted(back["respondent_id"]) == sorted(df["respondent_id"])


def test_dask_engine_says_how_to_install(monkeypatch, capsys):
    import builtins

    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name.split(".")[0] in ("dask", "distributed"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    assert main(["report", str(SAMPLE), "--engine", "dask"]) == 2
    assert "pip install 'textmine[dask]'" in capsys.readouterr().err
