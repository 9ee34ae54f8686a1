"""The textmine command line: parses arguments, calls the library, prints.

User errors print one line ``Error: ...`` and exit with code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .errors import TextmineError

EXAMPLES = {
    "textmine": """examples:
  textmine report data/sample_survey.csv                  # summary in the terminal
  textmine report survey.xlsx -o out/ --lang fi           # + classified.csv, summary.xlsx/json, report.html
  textmine predict survey.csv -o tagged.parquet           # tag every answer
  textmine train --data data/train/answers.csv --codebook data/codebook.yaml --out models/mine
  textmine evaluate --model models/mine --data test.csv --json
  textmine redact answers.csv -o answers_redacted.csv
  textmine themes""",
    "train": """examples:
  textmine train --data data/train/answers.csv --codebook data/codebook.yaml --out models/mine
  textmine train --data train.csv --text-col review --labels-col tags --label-sep ';' --out models/reviews
  textmine train --data train.csv --text-col comment --labels-col price quality delivery --out models/shop""",
    "evaluate": """examples:
  textmine evaluate --model models/mine --data test.csv
  textmine evaluate --model models/mine --data test.csv --json > metrics.json
  textmine evaluate --model models/shop --data test.csv --text-col comment --labels-col price quality delivery""",
    "predict": """examples:
  textmine predict survey.csv -o tagged.csv
  textmine predict survey.xlsx --sheet Answers --text-col improvement -o tagged.parquet --redact""",
    "report": """examples:
  textmine report data/sample_survey.csv
  textmine report survey.csv --scores overall,efficiency --segments permit_type -o out/ --lang sv""",
    "redact": """examples:
  textmine redact answers.csv -o answers_redacted.csv
  textmine redact survey.xlsx --columns improvement,comments -o clean.xlsx""",
    "review": """examples:
  textmine review survey.csv -o review.xlsx --budget 100
  # edit the labels column, then learn from the corrections (reviewed rows win by id):
  textmine train --data data/train/answers.csv --data review.xlsx --codebook data/codebook.yaml --out models/v2""",
    "discover": """examples:
  textmine discover survey.csv -o topics.xlsx            # answers that got no theme
  textmine discover survey.csv --all --n-topics 8 -o topics.xlsx""",
    "themes": """examples:
  textmine themes
  textmine themes --model models/mine --lang fi""",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, exit 2, like every user error
        sys.stderr.write(f"Error: {message}. See '{self.prog} --help'.\n")
        raise SystemExit(2)


def _columns(value: str) -> list[str]:
    return [c.strip() for c in value.split(",") if c.strip()]


def _build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    g = common.add_argument_group("general")
    g.add_argument("--quiet", "-q", action="store_true", help="print only errors and the result")
    g.add_argument("--verbose", "-v", action="store_true", help="print progress even when not on a terminal")
    g.add_argument("--debug", action="store_true", help="show the traceback of unexpected failures")
    g.add_argument("--config", metavar="TOML", help="settings overriding textmine's defaults.toml")

    reader = _Parser(add_help=False)
    r = reader.add_argument_group("reading the input")
    r.add_argument("--encoding", help="CSV encoding (default: detected)")
    r.add_argument("--delimiter", help="CSV delimiter (default: detected among , ; TAB |)")
    r.add_argument("--sheet", help="XLSX sheet name or 0-based number (default: the first)")
    r.add_argument("--text-col", help="the free-text column (default: the column of longest texts)")

    modelp = _Parser(add_help=False)
    modelp.add_argument("--model", metavar="DIR", help="model directory (default: the shipped model)")
    modelp.add_argument("--force", action="store_true", help="replace existing output files")

    scale = _Parser(add_help=False)
    sc = scale.add_argument_group("scale")
    sc.add_argument("--chunk-size", type=int, metavar="N", help="rows per chunk when streaming (default 10000)")
    sc.add_argument("--jobs", "-j", type=int, metavar="N", help="worker processes (default: all cores)")
    sc.add_argument("--engine", choices=["pandas", "dask"], default="pandas",
                    help="dask: INPUT may be a directory or glob of CSV/Parquet files (needs textmine[dask])")
    sc.add_argument("--scheduler", metavar="ADDRESS",
                    help="with --engine dask: an existing dask.distributed scheduler (default: a local cluster)")

    parser = _Parser(prog="textmine", description="Tag free-text survey answers with development themes and "
                     "put theme counts next to the score summary.", epilog=EXAMPLES["textmine"],
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"textmine {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name: str, help_: str, parents: list[_Parser]) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_, description=help_, parents=parents, epilog=EXAMPLES[name],
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    p = add("train", "Train a theme model on labelled answers.", [common])
    p.add_argument("--data", action="append", required=True, metavar="PATH",
                   help="labelled CSV/XLSX/Parquet/JSONL; repeat to concatenate (later rows win on equal id)")
    p.add_argument("--codebook", metavar="YAML", help="codebook of themes (default: the themes found in the labels)")
    p.add_argument("--out", required=True, metavar="DIR", help="directory for model.joblib and model_card.json")
    p.add_argument("--text-col", default="text")
    p.add_argument("--labels-col", nargs="+", default=["labels"], metavar="COL",
                   help="the labels column (labels joined by --label-sep); or several 0/1 indicator columns, "
                        "one per label, named by the label")
    p.add_argument("--label-sep", default="|")
    p.add_argument("--id-col", default="id")
    p.add_argument("--min-examples", type=int, metavar="N",
                   help="leave out labels with fewer than N examples, with a warning (default: stop with an error "
                        "below 5; setting [train] drop_rare_labels)")
    p.add_argument("--no-cv", action="store_true", help="skip the cross-validated metrics (faster)")
    p.add_argument("--force", action="store_true", help="replace an existing model in --out")

    p = add("evaluate", "Measure a model on labelled answers it has not seen.", [common])
    p.add_argument("--model", required=True, metavar="DIR")
    p.add_argument("--data", required=True, metavar="PATH")
    p.add_argument("--text-col", default="text")
    p.add_argument("--labels-col", nargs="+", default=["labels"], metavar="COL",
                   help="the labels column (labels joined by --label-sep); or several 0/1 indicator columns, "
                        "one per label, named by the label")
    p.add_argument("--label-sep", default="|")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = add("predict", "Tag every answer of a survey export with themes.", [common, reader, scale, modelp])
    p.add_argument("input", metavar="INPUT")
    p.add_argument("-o", "--output", required=True, help="output file: .csv, .xlsx, .parquet or .jsonl")
    p.add_argument("--redact", action="store_true", help="replace personal data in the text column (default off)")
    p.add_argument("--auto-threshold", type=float, metavar="P",
                   help="code automatically only answers with confidence >= P; send the rest to review")

    p = add("report", "Classify a survey and summarize scores and themes.", [common, reader, scale, modelp])
    p.add_argument("input", metavar="INPUT")
    p.add_argument("--scores", type=_columns, metavar="COLS", help="score columns, comma-separated (default: detected)")
    p.add_argument("--segments", type=_columns, metavar="COLS", help="segment columns, comma-separated (default: detected)")
    p.add_argument("--min-cell", type=int, metavar="N", help="suppress cells with fewer respondents (default 5)")
    p.add_argument("--strict", action="store_true", help="stop on score values outside the scale")
    p.add_argument("--codebook", metavar="YAML", help="codebook for labels (its ids must be the model's)")
    p.add_argument("--wave", metavar="COL", help="survey round or date column: scores and theme shares per wave")
    p.add_argument("--period", choices=["month", "quarter", "year"], help="group a date --wave column")
    p.add_argument("-o", "--output", metavar="DIR", help="write classified.csv, summary.xlsx, summary.json, report.html")
    p.add_argument("--lang", choices=["en", "fi", "sv"], help="language of report.html (default en)")
    p.add_argument("--quotes", type=int, metavar="N", help="example answers per theme in report.html (default 3)")
    p.add_argument("--no-redact", action="store_true", help="keep personal data in classified.csv (default: redacted)")

    p = add("redact", "Replace personal data in text columns with placeholders.", [common, reader])
    p.add_argument("input", metavar="INPUT")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--columns", type=_columns, metavar="COLS", help="columns to redact (default: every text column)")
    p.add_argument("--force", action="store_true")

    p = add("review", "Choose the answers most worth a person's look, pre-filled for correction.", [common, reader, modelp])
    p.add_argument("input", metavar="INPUT")
    p.add_argument("-o", "--output", required=True, help="the review workbook (.xlsx)")
    p.add_argument("--budget", type=int, metavar="N", help="answers to review (default 100)")
    p.add_argument("--id-col", help="respondent id column (default: detected, else the row number)")

    p = add("discover", "Cluster uncoded answers into candidate new themes.", [common, reader, modelp])
    p.add_argument("input", metavar="INPUT")
    p.add_argument("-o", "--output", required=True, help="topics workbook (.xlsx); codebook_suggestions.yaml is written beside it")
    p.add_argument("--n-topics", type=int, metavar="K", help="number of topics (default: chosen by silhouette)")
    p.add_argument("--all", action="store_true", help="cluster every answer, not only those without a theme")

    p = add("themes", "List the codebook's themes with their counts in the model's training data.", [common])
    p.add_argument("--model", metavar="DIR", help="model directory (default: the shipped model)")
    p.add_argument("--lang", choices=["en", "fi", "sv"], default="en")
    return parser


class _Out:
    """Messages on stderr: a live progress bar on a terminal, plain lines with --verbose, quiet otherwise."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.quiet = getattr(args, "quiet", False)
        self.tty = sys.stderr.isatty()
        self.progress_on = not self.quiet and (getattr(args, "verbose", False) or self.tty)
        self._open = False

    def _end_line(self) -> None:
        if self._open:
            print(file=sys.stderr)
            self._open = False

    def info(self, text: str) -> None:
        if not self.quiet:
            self._end_line()
            print(text, file=sys.stderr)

    def progress(self, text: str, done: int | None = None, total: int | None = None) -> None:
        if not self.progress_on:
            return
        if total and self.tty:
            width = 30
            filled = int(width * (done or 0) / total)
            print(f"\r{text} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="", file=sys.stderr, flush=True)
            self._open = done != total
            if not self._open:
                print(file=sys.stderr)
        elif total:
            print(f"... {text}: {done}/{total}", file=sys.stderr, flush=True)
        else:
            self._end_line()
            print(f"... {text}", file=sys.stderr, flush=True)

    def rows(self, counts: Any) -> None:
        """After each chunk: rows classified so far (the total is not known while streaming)."""
        if not self.progress_on:
            return
        if self.tty:
            print(f"\rclassified {counts.read:,} rows", end="", file=sys.stderr, flush=True)
            self._open = True
        else:
            print(f"... classified {counts.read:,} rows", file=sys.stderr, flush=True)


def _read_options(args: argparse.Namespace) -> dict[str, Any]:
    return {"encoding": args.encoding, "delimiter": args.delimiter, "sheet": args.sheet}


def _duplicate_warner(out: _Out) -> Any:
    """Called with the first chunk: warns about repeated respondent ids."""
    from .files import duplicate_ids

    def warn(first: Any) -> None:
        dup = duplicate_ids(first)
        if dup:
            out.info(f"Warning: {dup[1]} rows repeat an earlier value of '{dup[0]}' (duplicate respondent ids); "
                     "all rows are kept.")

    return warn


def _text_col_printer(args: argparse.Namespace, out: _Out) -> Any:
    if args.text_col:
        return None
    return lambda col: out.info(f"Free-text column: '{col}' (detected; name another with --text-col).")


def _print_counts(out: _Out, counts: Any) -> None:
    out.info(f"{counts.read} rows read; {counts.empty} skipped as empty text; {counts.tagged} tagged.")


def _cmd_train(args: argparse.Namespace, out: _Out) -> int:
    from .evaluate import format_metrics
    from .files import check_output
    from .model import CARD_FILE, MODEL_FILE
    from .train import train

    for name in (MODEL_FILE, CARD_FILE):
        check_output(Path(args.out) / name, force=args.force)
    model = train(args.data, codebook=args.codebook, out=args.out, text_col=args.text_col, labels_col=args.labels_col,
                  label_sep=args.label_sep, id_col=args.id_col, config=args.config, cross_validation=not args.no_cv,
                  progress=out.progress, min_examples=args.min_examples, warn=lambda m: out.info(f"Warning: {m}"))
    card = model.card_
    cv = card["cv_metrics"]
    mode = {"single": "one label per answer", "at_most_one": "at most one label per answer"}.get(card["label_mode"])
    print(f"Trained on {card['training_data']['n_answers']} answers, {len(card['themes'])} themes"
          f"{f' ({mode})' if mode else ''}; saved to {args.out}")
    if cv:
        print(format_metrics(cv, card["themes"]))
    return 0


def _cmd_evaluate(args: argparse.Namespace, out: _Out) -> int:
    from .evaluate import evaluate, format_metrics
    from .model import load_model

    model = load_model(args.model)
    result = evaluate(model, args.data, text_col=args.text_col, labels_col=args.labels_col, label_sep=args.label_sep,
                      warn=lambda m: out.info(f"Warning: {m}"))
    print(json.dumps(result, ensure_ascii=False) if args.json else format_metrics(result, model.themes_))
    return 0


def _cmd_predict(args: argparse.Namespace, out: _Out) -> int:
    from .model import load_model
    from .predict import predict_file

    model = load_model(args.model)
    if args.engine == "dask":
        from .engine_dask import predict_dask, require_dask

        require_dask()
        counts = predict_dask(args.input, args.output, model=model, text_col=args.text_col, redact=args.redact,
                              scheduler=args.scheduler, force=args.force, n_workers=args.jobs)
        _print_counts(out, counts)
        out.info(f"Wrote {counts.read} rows as partitioned Parquet to {args.output}")
        return 0
    out.progress(f"classifying {args.input}")
    counts = predict_file(args.input, args.output, model=model, text_col=args.text_col, redact=args.redact,
                          auto_threshold=args.auto_threshold, chunk_size=args.chunk_size, jobs=args.jobs,
                          force=args.force, read_options=_read_options(args), on_text_col=_text_col_printer(args, out),
                          on_chunk=out.rows, on_first_chunk=_duplicate_warner(out))
    _print_counts(out, counts)
    out.info(f"Wrote {counts.read} rows to {args.output}" + (" (personal data redacted)" if args.redact else ""))
    return 0


def _cmd_report(args: argparse.Namespace, out: _Out) -> int:
    from .codebook import check_model_codebook, load_codebook
    from .model import load_model
    from .report import render_terminal, report_file

    model = load_model(args.model)
    if args.codebook:
        book = load_codebook(args.codebook)
        check_model_codebook(model.themes_, book)
    else:
        book = _codebook_for(model, load_codebook)
    if args.engine == "dask":
        from .engine_dask import report_dask, require_dask

        require_dask()
        summary, counts = report_dask(args.input, model=model, scores=args.scores, segments=args.segments,
                                      text_col=args.text_col, min_cell=args.min_cell, scheduler=args.scheduler,
                                      n_workers=args.jobs)
        _print_counts(out, counts)
        print(render_terminal(summary, codebook=book, source=str(args.input)))
        return 0
    out.progress(f"classifying and summarizing {args.input}")
    result = report_file(args.input, model=model, out_dir=args.output, scores=args.scores, segments=args.segments,
                         text_col=args.text_col, min_cell=args.min_cell, strict=args.strict, redact=not args.no_redact,
                         lang=args.lang or "en", quotes=args.quotes, codebook=book,
                         chunk_size=args.chunk_size, jobs=args.jobs, force=args.force, read_options=_read_options(args),
                         on_text_col=_text_col_printer(args, out), wave=args.wave, period=args.period,
                         on_chunk=out.rows, on_first_chunk=_duplicate_warner(out))
    _print_counts(out, result.counts)
    print(render_terminal(result.summary, codebook=book, source=str(args.input)))
    if result.paths:
        out.info("Wrote " + ", ".join(str(p) for p in result.paths.values()))
    return 0


def _codebook_for(model: Any, loader: Any) -> Any:
    """The shipped codebook when the model was trained on it, else None (labels from the card)."""
    try:
        book = loader()
    except TextmineError:
        return None
    return book if book.hash == (model.card_.get("codebook") or {}).get("hash") else None


def _cmd_redact(args: argparse.Namespace, out: _Out) -> int:
    from .files import check_output, read_table, write_table
    from .redact import redact

    check_output(args.output, force=args.force, inputs=[args.input])
    df = read_table(args.input, **_read_options(args))
    cols = args.columns or ([args.text_col] if args.text_col else None)
    if cols:
        from .files import require_columns

        require_columns(df, cols)
    write_table(redact(df, columns=cols), args.output, force=args.force, inputs=[args.input])
    out.info(f"Wrote {len(df)} redacted rows to {args.output}")
    return 0


def _cmd_themes(args: argparse.Namespace, out: _Out) -> int:
    from .codebook import load_codebook
    from .model import load_model

    model = load_model(args.model)
    card = model.card_
    book = _codebook_for(model, load_codebook)
    labels = book.labels(args.lang) if book else card.get("labels", {})
    counts = card["training_data"]["per_theme"]
    f1 = ((card.get("cv_metrics") or {}).get("per_theme") or {})
    print(f"{'id':<22}{'label':<40}{'training':>9}{'cv F1':>7}{'threshold':>10}")
    for t in card["themes"]:
        score = f1.get(t, {}).get("f1")
        print(f"{t:<22}{labels.get(t, t)[:39]:<40}{counts.get(t, 0):>9}{'' if score is None else f'{score:.2f}':>7}"
              f"{card['thresholds'][t]:>10.2f}")
    return 0


def _classified(args: argparse.Namespace, out: _Out) -> tuple[Any, Any, str]:
    """The whole input classified in memory (for review and discover)."""
    from .files import find_text_column, read_table, require_columns
    from .model import load_model
    from .predict import classify

    df = read_table(args.input, **_read_options(args))
    if args.text_col:
        require_columns(df, [args.text_col], what="Text column")
    text_col = args.text_col or find_text_column(df)
    printer = _text_col_printer(args, out)
    if printer:
        printer(text_col)
    model = load_model(args.model)
    return classify(df, model, text_col=text_col), model, text_col


def _cmd_review(args: argparse.Namespace, out: _Out) -> int:
    from .codebook import load_codebook
    from .files import check_output, id_column
    from .review import select_for_review, write_review_file

    check_output(args.output, force=args.force, inputs=[args.input])
    tagged, model, text_col = _classified(args, out)
    selected = select_for_review(tagged, themes=model.themes_, thresholds=model.thresholds_, budget=args.budget,
                                 model=model, text_col=text_col)
    id_col = args.id_col or id_column(tagged, strict=True)
    path = write_review_file(selected, args.output, text_col=text_col, themes=model.themes_,
                             codebook=_codebook_for(model, load_codebook), id_col=id_col, force=args.force)
    out.info(f"Wrote {len(selected)} answers to review to {path}; edit the 'labels' column, then train with "
             f"--data {path}.")
    return 0


def _cmd_discover(args: argparse.Namespace, out: _Out) -> int:
    from .discover import discover
    from .files import check_output

    target = Path(args.output)
    yaml_path = target.with_name("codebook_suggestions.yaml")
    for p in (target, yaml_path):
        check_output(p, force=args.force, inputs=[args.input])
    tagged, model, text_col = _classified(args, out)
    found = discover(tagged, model, text_col=text_col, n_topics=args.n_topics, all_answers=args.all)
    found.write(target, yaml_path)
    print(f"{len(found.topics)} candidate topics among {int((found.assignments >= 0).sum())} answers:")
    for row in found.topics.itertuples():
        print(f"  topic {row.topic}: {row.size} answers; {row.top_terms}")
    out.info(f"Wrote {target} and {yaml_path}")
    return 0


COMMANDS = {"train": _cmd_train, "evaluate": _cmd_evaluate, "predict": _cmd_predict, "report": _cmd_report,
            "redact": _cmd_redact, "themes": _cmd_themes, "review": _cmd_review, "discover": _cmd_discover}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``textmine`` command."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    if getattr(args, "config", None):
        import os

        os.environ["TEXTMINE_CONFIG"] = args.config
    out = _Out(args)
    try:
        return COMMANDS[args.command](args, out)
    except TextmineError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Error: interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except Exception as err:  # an unexpected failure: short message, traceback on request
        if args.debug:
            traceback.print_exc()
        else:
            print(f"Error: unexpected failure ({type(err).__name__}: {' '.join(str(err).split())[:200]}). "
                  "Rerun with --debug for the traceback.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
