"""Labelled data: reading one or more labelled files and checking their labels.

A label cell may hold several labels joined by a separator (``a|b``), a JSON or Python
list (``["a", "b"]``; Parquet and JSONL lists too), a number (``2``, ``2.0`` and ``"2.0"``
are the same label ``2``), or nothing (an answer with no theme). Labels are stripped, inner
runs of spaces are made one, duplicates in a row count once, and case is kept: ``Positive``
and ``positive`` are different labels (training warns when two labels differ only by case).

Labels may also come as indicator columns, one 0/1 column per label (as many public datasets
ship them): give several column names as ``labels_col`` and each column whose cell is 1 (or
true, yes, x) is a label of that answer, named after the column.
"""

from __future__ import annotations

import ast
import json
import os
import re
import unicodedata
import warnings
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from ._config import setting
from .codebook import Codebook
from .errors import TextmineError, plural
from .files import read_table, require_columns

PathLike = str | os.PathLike[str]
Warn = Callable[[str], None]
# one labels column, or several indicator columns (one 0/1 column per label)
LabelsCol = str | Sequence[str]
_INTEGRAL = re.compile(r"^[+-]?\d+\.0*$")
_SPACES = re.compile(r"\s+")
# separators people use for several labels in one cell (a hint when --label-sep is another)
_COMMON_SEPS = ("|", ";", ",", "/")


def warn_user(message: str) -> None:
    """The default ``warn`` of training and evaluation: a :class:`UserWarning`."""
    warnings.warn(message, UserWarning, stacklevel=3)


def _one_label(value: object) -> str:
    """One label, normalised: a string, numbers written as integers when whole, spaces tidied."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if value != value:
            return ""
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    text = _SPACES.sub(" ", unicodedata.normalize("NFC", str(value))).strip()
    return str(int(float(text))) if _INTEGRAL.match(text) else text


def _listed(text: str, sep: str) -> list[object] | None:
    """The items of a cell written as a list ('["a", "b"]', "['a', 'b']", '[a, b]'), else None."""
    if not (text.startswith("[") and text.endswith("]")):
        return None
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if isinstance(value, (list, tuple)):
            return list(value)
    inner = text[1:-1]
    return [part.strip().strip("'\"") for part in inner.split(sep if sep in inner else ",")]


def split_labels(value: object, sep: str = "|") -> list[str]:
    """'a|b' -> ['a', 'b']; a list, '["a","b"]' -> ['a', 'b']; 2.0 -> ['2']; missing or empty -> [].

    Labels are stripped and de-duplicated (first occurrence kept); case is kept.
    """
    if not sep:
        raise TextmineError("E120")
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return []
    items: list[object]
    if isinstance(value, (list, tuple, set, np.ndarray, pd.Series)):
        items = list(value)
    elif isinstance(value, (int, float, np.integer, np.floating, bool, np.bool_)):
        items = [value]
    else:
        text = str(value).strip()
        listed = _listed(text, sep)
        items = listed if listed is not None else [part for part in text.split(sep)]
    out: list[str] = []
    for item in items:
        if isinstance(item, str) and isinstance(value, (list, tuple, set, np.ndarray, pd.Series)) and sep in item:
            parts = [_one_label(p) for p in item.split(sep)]  # a list of 'a|b' strings
        else:
            parts = [_one_label(item)]
        out.extend(p for p in parts if p and p not in out)
    return out


def parse_labels(labels: pd.Series | Sequence[object], sep: str = "|") -> list[list[str]]:
    """:func:`split_labels` of every cell."""
    values = labels.tolist() if isinstance(labels, pd.Series) else list(labels)
    return [split_labels(v, sep) for v in values]


def label_matrix(labels: pd.Series | Sequence[object], themes: Sequence[str], *, sep: str = "|") -> np.ndarray:
    """0/1 matrix (n_rows, n_themes); labels not in ``themes`` are ignored."""
    return matrix_of(parse_labels(labels, sep), themes)


def matrix_of(parsed: Sequence[Sequence[str]], themes: Sequence[str]) -> np.ndarray:
    """0/1 matrix of already parsed labels (see :func:`parse_labels`)."""
    index = {t: j for j, t in enumerate(themes)}
    Y = np.zeros((len(parsed), len(themes)), dtype=np.int8)
    for i, labs in enumerate(parsed):
        for lab in labs:
            j = index.get(lab)
            if j is not None:
                Y[i, j] = 1
    return Y


def label_mode(Y: np.ndarray) -> str:
    """'single' when every row has exactly one label, 'at_most_one' when none has two, else 'multi'."""
    per_row = np.asarray(Y).sum(axis=1)
    if len(per_row) and (per_row == 1).all():
        return "single"
    if len(per_row) and (per_row <= 1).all():
        return "at_most_one"
    return "multi"


_TRUE = frozenset({"1", "true", "yes", "y", "x"})
_FALSE = frozenset({"0", "false", "no", "n", ""})


def _columns(labels_col: LabelsCol) -> list[str]:
    return [labels_col] if isinstance(labels_col, str) else list(labels_col)


def labels_key(labels_col: LabelsCol) -> str:
    """The column :func:`load_labelled` leaves the labels in: ``labels_col`` itself, or for
    several indicator columns a new column named after them (``'a+b+c'``)."""
    cols = _columns(labels_col)
    return cols[0] if len(cols) == 1 else "+".join(map(str, cols))


def _indicator(value: object) -> bool | None:
    """True/False for a cell of an indicator column (1/0, 1.0, true/false, yes/no, x, empty), else None."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return False
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return bool(value) if value in (0, 1) else None
    text = str(value).strip().casefold()
    if _INTEGRAL.match(text):
        text = str(int(float(text)))
    return True if text in _TRUE else False if text in _FALSE else None


def indicator_labels(df: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """Per row, the list of ``columns`` whose cell is 1 (true, yes, x); raises E123 naming every
    column with another value (its first bad row as in the file, where the header is row 1)."""
    flags, bad = {}, []
    for col in columns:
        values = df[col].map(_indicator)
        wrong = values.isna()
        if wrong.any():
            first = int(np.flatnonzero(wrong.to_numpy())[0])
            count = int(wrong.sum())
            bad.append(f"'{col}' has {df[col].iloc[first]!r} in row {first + 2} ({count} such cell{'s' if count > 1 else ''})")
        flags[col] = values.map(lambda v: v is True).to_numpy(dtype=bool)
    if bad:
        raise TextmineError("E123", details="; ".join(bad))
    names = [_one_label(c) for c in columns]
    return pd.Series([[n for n, col in zip(names, columns) if flags[col][i]] for i in range(len(df))],
                     index=df.index, dtype=object)


def load_labelled(
    data: pd.DataFrame | PathLike | Sequence[PathLike],
    *,
    text_col: str = "text",
    labels_col: LabelsCol = "labels",
    id_col: str = "id",
) -> pd.DataFrame:
    """One DataFrame from a frame, a file, or several files (later files win on equal ``id_col``).

    With several ``labels_col`` (indicator columns), the labels they mark are put in a new
    column named :func:`labels_key` as lists.
    """
    cols = _columns(labels_col)
    if isinstance(data, pd.DataFrame):
        frames = [data]
    elif isinstance(data, (str, os.PathLike)):
        frames = [read_table(data)]
    else:
        frames = [read_table(p) for p in data]
    for frame in frames:
        require_columns(frame, [text_col, *cols])
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    if len(frames) > 1 and id_col in df.columns:
        ids = df[id_col].astype(str)
        df = df[~ids.duplicated(keep="last") | df[id_col].isna()].reset_index(drop=True)
    if len(cols) > 1:
        df = df.assign(**{labels_key(cols): indicator_labels(df, cols)})
    return df


def _rows(rows: list[int]) -> str:
    return f"row{plural(rows)} {', '.join(map(str, rows[:5]))}{' ...' if len(rows) > 5 else ''}"


def _separator_hint(values: Sequence[object], parsed: list[list[str]], sep: str) -> str | None:
    """A warning when most labels seem to be joined by another common separator than ``sep``."""
    labels = [lab for labs in parsed for lab in labs]
    if not labels:
        return None
    for other in _COMMON_SEPS:
        if other == sep:
            continue
        joined = [lab for lab in labels if other in lab]
        if len(joined) >= max(3, 0.2 * len(labels)):
            pieces = {p.strip() for lab in joined for p in lab.split(other) if p.strip()}
            whole = {lab for lab in labels if other not in lab}
            if len(pieces - whole) < len(pieces) / 2:  # the pieces are labels seen on their own
                return (f"{len(joined)} labels contain '{other}' (e.g. '{joined[0]}'); if it separates labels, "
                        f"pass --label-sep '{other}' (labels are split at '{sep}' now).")
    return None


def check_labels(
    df: pd.DataFrame,
    *,
    labels_col: str,
    sep: str,
    codebook: Codebook | None,
    min_examples: int | None = None,
    drop_rare: bool | str | None = None,
    warn: Warn | None = None,
    parsed: list[list[str]] | None = None,
) -> list[str]:
    """Theme ids for training; raises E041-E044 with every problem at once.

    ``parsed``: the labels column already split by :func:`parse_labels` (else it is parsed here).

    With ``drop_rare`` (setting ``[train] drop_rare_labels``), labels with fewer than
    ``min_examples`` examples are left out with a warning instead of stopping with E042;
    "without_codebook" (the default) does so only when the labels are taken from the data,
    while the themes of a codebook must each have enough examples.
    """
    warn = warn or warn_user
    values = df[labels_col].tolist()
    parsed = parse_labels(values, sep) if parsed is None else parsed
    counts = Counter(lab for labs in parsed for lab in labs)
    if not counts:
        raise TextmineError("E043", labels_col=labels_col, sep=sep)
    if codebook is not None:
        known = codebook.ids
        unknown = unseen_labels(parsed, known)
        if unknown:
            details = "; ".join(f"'{lab}' in {_rows([r + 2 for r in rows])}" for lab, rows in unknown.items())
            raise TextmineError("E041", s=plural(unknown), details=details, known=", ".join(known))
        themes = list(known)
    else:
        themes = sorted(counts)
        hint = _separator_hint(values, parsed, sep)
        if hint:
            warn(hint)
        by_case: dict[str, list[str]] = {}
        for t in themes:
            by_case.setdefault(t.casefold(), []).append(t)
        clashes = [group for group in by_case.values() if len(group) > 1]
        if clashes:
            details = "; ".join(" / ".join(f"'{t}' ({counts[t]})" for t in group) for group in clashes)
            warn(f"Labels that differ only by case are kept apart: {details}. Write them alike if they are the same label.")
    minimum = min_examples if min_examples is not None else setting("model", "min_examples_per_theme")
    drop_setting = drop_rare if drop_rare is not None else setting("train", "drop_rare_labels")
    drop = codebook is None if drop_setting == "without_codebook" else bool(drop_setting)
    rare = {t: counts.get(t, 0) for t in themes if counts.get(t, 0) < minimum}
    listed = sorted(rare.items(), key=lambda item: (item[1], item[0]))
    details = ", ".join(f"{t} ({n})" for t, n in listed[:10]) + (f" and {len(listed) - 10} more" if len(listed) > 10 else "")
    if rare and drop and len(rare) < len(themes):
        warn(f"Left out {len(rare)} label{plural(rare)} with fewer than {minimum} examples: {details}. "
             "Their answers are kept (without them); the model will never predict them.")
        themes = [t for t in themes if t not in rare]
    elif rare:
        raise TextmineError("E042", s=plural(rare), minimum=minimum, details=details)
    always = [t for t in themes if counts[t] == len(df)]
    if always:
        raise TextmineError("E044", s=plural(always), details=", ".join(always))
    return list(themes)


def unseen_labels(parsed: Sequence[Sequence[str]], themes: Sequence[str]) -> dict[str, list[int]]:
    """Labels in ``parsed`` that are not among ``themes``, with their 0-based rows."""
    known = set(themes)
    out: dict[str, list[int]] = {}
    for i, labs in enumerate(parsed):
        for lab in labs:
            if lab not in known:
                out.setdefault(lab, []).append(i)
    return out


def describe_unseen(unseen: dict[str, list[int]], themes: Sequence[str]) -> str:
    """One line listing labels a model never saw (rows as in the file: header is row 1)."""
    folded = {t.casefold(): t for t in themes}
    parts = []
    for lab, rows in list(unseen.items())[:20]:
        alike = folded.get(lab.casefold())
        parts.append(f"'{lab}' ({len(rows)}x, {_rows([r + 2 for r in rows])}"
                     + (f"; the model has '{alike}'" if alike else "") + ")")
    more = f" and {len(unseen) - 20} more" if len(unseen) > 20 else ""
    return (f"{len(unseen)} label{plural(unseen)} in the data {'are' if len(unseen) != 1 else 'is'} not among the model's "
            f"themes and count{'s' if len(unseen) == 1 else ''} as missed: {'; '.join(parts)}{more}.")


