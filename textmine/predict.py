"""Prediction: tag a batch of answers with themes (DataFrame in, DataFrame out)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._config import setting
from .files import find_text_column, require_columns
from .model import load_model


def theme_columns(themes: list[str]) -> tuple[list[str], list[str]]:
    """The 0/1 column and the probability column names for ``themes``: ``id`` and ``p_id``."""
    return list(themes), [f"p_{t}" for t in themes]


def output_columns(themes: list[str]) -> list[str]:
    """Every column :func:`classify` adds, in order."""
    flags, probs = theme_columns(themes)
    return ["lang", "themes", *flags, *probs, "confidence", "needs_review"]


def classify(
    df: pd.DataFrame,
    model: Any = None,
    *,
    text_col: str | None = None,
    redact: bool = False,
    review_margin: float | None = None,
    chunk_size: int | None = None,
) -> pd.DataFrame:
    """Tag every answer in ``df`` with themes.

    Parameters
    ----------
    df:
        Survey rows; every column is kept.
    model:
        A model from :func:`load_model`; ``None`` loads the shipped default.
    text_col:
        The free-text column; ``None`` picks the column of longest non-numeric strings.
    redact:
        Replace personal data in the text column by placeholders such as ``<EMAIL>``.
    review_margin:
        ``needs_review`` when a probability lies this close to its threshold.

    Returns
    -------
    DataFrame
        Same index and row order as ``df`` with, added: ``lang``; ``themes`` (ids joined
        with ``|``, empty for none); one 0/1 column per theme named by its id; one
        probability column ``p_<id>`` per theme; ``confidence`` (the probability that
        the whole set of themes is right, taking themes as independent); and
        ``needs_review``. An input column with one of these names is kept as
        ``<name>_input``. Empty or missing answers get no theme, ``lang`` "" and are
        not reviewed.
    """
    model = model if model is not None else load_model()
    text_col = text_col or find_text_column(df)
    require_columns(df, [text_col], what="Text column")
    themes = list(model.themes_)
    flags, probs = theme_columns(themes)
    margin = review_margin if review_margin is not None else setting("predict", "review_margin")
    size = chunk_size or setting("predict", "chunk_size")
    thresholds = np.asarray(model.thresholds_, dtype=float)

    n = len(df)
    texts = df[text_col].tolist()
    proba = np.zeros((n, len(themes)))
    lang: list[str] = [""] * n
    redacted: list[str] = [""] * n
    pre = model.preprocessor()
    for start in range(0, n, size):
        prep = pre.transform(texts[start : start + size])
        proba[start : start + len(prep)] = model.predict_proba(prep)
        lang[start : start + len(prep)] = prep.lang
        redacted[start : start + len(prep)] = prep.redacted
        pre.clear_cache()
    empty = np.array([lg == "" for lg in lang], dtype=bool)
    proba[empty] = 0.0
    flag = (proba >= thresholds).astype(np.int8)
    certainty = np.where(flag == 1, proba, 1.0 - proba)
    confidence = np.where(empty, 1.0, certainty.prod(axis=1) if len(themes) else 1.0)
    near = (np.abs(proba - thresholds) < margin).any(axis=1) if len(themes) else np.zeros(n, bool)
    review = ~empty & (near | (flag.sum(axis=1) == 0))

    out = df.copy()
    added = output_columns(themes)
    out = out.rename(columns={c: f"{c}_input" for c in added if c in out.columns})
    if redact:
        out[text_col] = [r if not pd.isna(t) else t for r, t in zip(redacted, texts)]
    joined = ["|".join(t for t, f in zip(themes, row) if f) for row in flag]
    new = pd.DataFrame(index=df.index)
    new["lang"] = lang
    new["themes"] = joined
    for j, col in enumerate(flags):
        new[col] = flag[:, j]
    for j, col in enumerate(probs):
        new[col] = np.round(proba[:, j], 4)
    new["confidence"] = np.round(confidence, 4)
    new["needs_review"] = review
    return pd.concat([out, new], axis=1)
