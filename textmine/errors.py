"""Error catalogue: every user-facing error, what is wrong and how to fix it.

Modelled on spaCy's ``Errors``: a code, a message template, and one exception type,
so that the CLI can print ``Error: ...`` and exit 2, and callers can match on ``code``.
"""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, str] = {
    # input files
    "E001": "File not found: {path}. Check the path, or run the command from the folder that holds it.",
    "E002": "{path} is a directory, not a file. Give the path of a .csv, .xlsx, .parquet or .jsonl file.",
    "E003": "Unsupported file type '{suffix}' for {path}. Use .csv, .tsv, .txt, .xlsx, .parquet or .jsonl.",
    "E004": "{path} is empty. Export the survey again with its header row and answers.",
    "E005": "{path} has a header but no rows. Export the survey again with its answers.",
    "E006": "{path} could not be read as {kind}: {reason}. Check the file, or pass --encoding/--delimiter.",
    "E007": "{what} {missing} not in the data. Columns in the data: {columns}.",
    "E008": "Sheet '{sheet}' not in {path}. Sheets in the file: {sheets}.",
    "E009": "No free-text column found in the data (columns: {columns}). Name it with --text-col.",
    "E010": "Config file not found: {path}.",
    "E011": "Invalid score values ({count}) with --strict: {problems}. Fix them, or drop --strict to treat them as missing.",
    "E012": "Could not decode {path} as {encoding}. Pass the right --encoding (e.g. utf-8, cp1252, utf-16).",
    # output files
    "E020": "{path} exists. Pass --force to replace it, or choose another output path.",
    "E021": "Refusing to write over the input file {path}. Choose another output path.",
    "E022": "Unsupported output type '{suffix}' for {path}. Use .csv, .xlsx, .parquet or .jsonl.",
    # codebook
    "E030": "Codebook not found: {path}.",
    "E031": "Codebook {path} is not valid: {problems}.",
    # training data
    "E040": "The training data has no rows with text. Give a labelled CSV/XLSX/Parquet with a text column and a labels column.",
    "E041": "Unknown theme id{s} in the labels: {details}. Known ids: {known}. Fix the labels or add the theme to the codebook.",
    "E042": "Theme{s} with fewer than {minimum} examples: {details}. Label more answers, remove the theme from the codebook/labels, or pass --min-examples N to leave out labels with fewer than N examples (with a warning).",
    "E043": "The training data has no labels at all. Fill the '{labels_col}' column with theme ids joined by '{sep}' (or, with one 0/1 column per label, mark some answers with 1).",
    "E044": "Theme{s} never absent from the training data: {details}. A classifier needs answers without the theme too.",
    # models
    "E050": "No model at {path}: expected model.joblib and model_card.json there. Train one with `textmine train --data DATA --out {path}`.",
    "E051": "{path} is not a textmine model: {reason}. Retrain it with `textmine train`.",
    "E052": "The model file {path} does not match its card (sha256 {actual} != {expected}). It was changed or corrupted; retrain it with `textmine train`.",
    "E053": "The model at {path} was trained with scikit-learn {trained}, but {installed} is installed. Retrain it with `textmine train` (or python scripts/train.py), or install scikit-learn {trained}.",
    "E054": "The codebook's theme ids differ from the model's: {details}. Use the codebook the model was trained with, or retrain the model.",
    "E055": "The default model is missing from this installation. Train it with `python scripts/train.py`, or pass --model DIR.",
    # summary
    "E060": "No score columns found. Name them with --scores (columns: {columns}).",
    "E061": "min_cell must be a whole number of at least 1, not {value}.",
    "E062": "Unknown period '{period}'. Use one of: {periods}.",
    # review
    "E100": "The review budget must be a whole number of at least 0, not {value}.",
    "E101": "The themes and thresholds do not match: {details}. Pass themes=model.themes_ and thresholds=model.thresholds_.",
    "E102": "A review file must be .xlsx, not '{suffix}' ({path}). Choose a path ending in .xlsx.",
    "E103": "The id column {id_col} has {problem} ({details}). Every reviewed answer needs its own id, so that training replaces the original row of that id.",
    # theme discovery
    "E090": "Too few answers to discover topics ({n}); at least {minimum} are needed. Use --all (all_answers=True) to include answers that already have a theme.",
    "E091": "The {n} answers to cluster share no words once stop words are removed, so no topics can be found. Include more answers (--all / all_answers=True).",
    "E092": "{name} must be a whole number {bounds}, not {value!r}.",
    # Dask engine
    "E110": "The Dask engine needs the dask extra: pip install 'textmine[dask]' (or: pip install 'dask[dataframe,distributed]').",
    "E111": "No Parquet or CSV files in {source}. Give a directory of .parquet or .csv files, a glob such as 'data/*.csv', or one file.",
    "E112": "{source} mixes file types ({suffixes}). Give Parquet files or CSV files, not both.",
    "E113": "The output directory {path} exists and is not an empty directory. Pass --force (force=True) to replace it, or choose another directory.",
    "E114": "Refusing to write the output directory {path}: the input {input} is inside it. Choose another directory.",
    "E115": "Could not connect to the Dask scheduler at {address}: {reason}. Start it (`dask scheduler`), check the address, or leave out the scheduler to use a local cluster.",
    # labelled data (train, evaluate)
    "E120": "The label separator is empty. Pass the character that joins several labels in a cell, e.g. --label-sep '|' or --label-sep ';'.",
    "E121": "min_examples must be a whole number of at least 1, not {value!r}. Pass e.g. --min-examples 3.",
    "E122": "Unknown label_mode '{value}' in the settings. Use one of: auto, multi.",
    "E123": "Indicator label columns must hold 1 or 0 (true/false, yes/no, x or empty): {details}. Fix those cells, or give a single labels column with --labels-col NAME.",
}


class TextmineError(ValueError):
    """A user error with a catalogue code; ``str(err)`` is the full one-line message."""

    def __init__(self, code: str, **details: Any) -> None:
        self.code = code
        self.details = details
        template = MESSAGES[code]
        super().__init__(f"{template.format(**details)} [{code}]")


def plural(items: list[Any] | set[Any] | dict[Any, Any]) -> str:
    """'s' when there is more than one item (for messages such as E041)."""
    return "s" if len(items) != 1 else ""
