"""Labelled data: reading one or more labelled files and checking their labels."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._config import setting
from .codebook import Codebook
from .errors import TextmineError, plural
from .files import read_table, require_columns

PathLike = str | os.PathLike[str]


def split_labels(value: object, sep: str = "|") -> list[str]:
    """'a|b' -> ['a', 'b']; missing or empty -> []."""
    if value is None or (isinstance(value, float) and value != value):
        return []
    return [part.strip() for part in str(value).split(sep) if part.strip()]


def label_matrix(labels: pd.Series, themes: Sequence[str], *, sep: str = "|") -> np.ndarray:
    """0/1 matrix (n_rows, n_themes); labels not in ``themes`` are ignored."""
    index = {t: j for j, t in enumerate(themes)}
    Y = np.zeros((len(labels), len(themes)), dtype=np.int8)
    for i, value in enumerate(labels.tolist()):
        for lab in split_labels(value, sep):
            j = index.get(lab)
            if j is not None:
                Y[i, j] = 1
    return Y


def load_labelled(
    data: pd.DataFrame | PathLike | Sequence[PathLike],
    *,
    text_col: str = "text",
    labels_col: str = "labels",
    id_col: str = "id",
) -> pd.DataFrame:
    """One DataFrame from a frame, a file, or several files (later files win on equal ``id_col``)."""
    if isinstance(data, pd.DataFrame):
        frames = [data]
    elif isinstance(data, (str, os.PathLike)):
        frames = [read_table(data)]
    else:
        frames = [read_table(p) for p in data]
    for frame in frames:
        require_columns(frame, [text_col, labels_col])
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    if len(frames) > 1 and id_col in df.columns:
        ids = df[id_col].astype(str)
        df = df[~ids.duplicated(keep="last") | df[id_col].isna()].reset_index(drop=True)
    return df


def check_labels(
    df: pd.DataFrame,
    *,
    labels_col: str,
    sep: str,
    codebook: Codebook | None,
    min_examples: int | None = None,
) -> list[str]:
    """Theme ids for training; raises E041-E044 with every problem at once."""
    parsed = [split_labels(v, sep) for v in df[labels_col].tolist()]
    counts = Counter(lab for labs in parsed for lab in labs)
    if not counts:
        raise TextmineError("E043", labels_col=labels_col, sep=sep)
    if codebook is not None:
        known = codebook.ids
        unknown: dict[str, list[int]] = {}
        for i, labs in enumerate(parsed):
            for lab in labs:
                if lab not in known:
                    unknown.setdefault(lab, []).append(i + 2)
        if unknown:
            details = "; ".join(
                f"'{lab}' in row{plural(rows)} {', '.join(map(str, rows[:5]))}{' ...' if len(rows) > 5 else ''}"
                for lab, rows in unknown.items()
            )
            raise TextmineError("E041", s=plural(unknown), details=details, known=", ".join(known))
        themes = known
    else:
        themes = sorted(counts)
    minimum = min_examples if min_examples is not None else setting("model", "min_examples_per_theme")
    rare = {t: counts.get(t, 0) for t in themes if counts.get(t, 0) < minimum}
    if rare:
        details = ", ".join(f"{t} ({n})" for t, n in rare.items())
        raise TextmineError("E042", s=plural(rare), minimum=minimum, details=details)
    always = [t for t in themes if counts[t] == len(df)]
    if always:
        raise TextmineError("E044", s=plural(always), details=", ".join(always))
    return list(themes)
