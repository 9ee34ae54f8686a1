"""Prediction: tag a batch of answers with themes (DataFrame in, DataFrame out)."""

from __future__ import annotations

import gc
import itertools
import multiprocessing as mp
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._config import setting
from .files import PathLike, TableWriter, check_output, encode_chunk, find_text_column, iter_table, require_columns
from .model import load_model


def theme_columns(themes: list[str]) -> tuple[list[str], list[str]]:
    """The 0/1 column and the probability column names for ``themes``: ``id`` and ``p_id``."""
    return list(themes), [f"p_{t}" for t in themes]


def output_columns(themes: list[str]) -> list[str]:
    """Every column :func:`classify` adds, in order."""
    flags, probs = theme_columns(themes)
    return ["lang", "themes", *flags, *probs, "confidence", "needs_review"]


def probabilities(model: Any, texts: Sequence[object], *, chunk_size: int) -> tuple[np.ndarray, list[str], list[str]]:
    """Theme probabilities, language and redacted text per answer, ``chunk_size`` answers at a
    time (bounded memory); empty answers get probability 0 and language ""."""
    n = len(texts)
    proba = np.zeros((n, len(model.themes_)))
    lang: list[str] = [""] * n
    redacted: list[str] = [""] * n
    pre = model.preprocessor()
    for start in range(0, n, chunk_size):
        prep = pre.transform(texts[start : start + chunk_size])
        proba[start : start + len(prep)] = model.predict_proba(prep)
        lang[start : start + len(prep)] = prep.lang
        redacted[start : start + len(prep)] = prep.redacted
    proba[np.array([lg == "" for lg in lang], dtype=bool)] = 0.0
    return proba, lang, redacted


def decisions(model: Any, proba: np.ndarray, lang: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For :func:`probabilities`' output: which answers are empty, the 0/1 themes the model
    decides (none for an empty answer), and each answer's confidence (the probability that
    its whole set of themes is right, taking themes as independent; 1 for an empty answer)."""
    empty = np.array([lg == "" for lg in lang], dtype=bool)
    flag = np.asarray(model.decide(proba), dtype=np.int8)
    flag[empty] = 0
    certainty = np.where(flag == 1, proba, 1.0 - proba)
    confidence = np.where(empty, 1.0, certainty.prod(axis=1) if proba.shape[1] else 1.0)
    return empty, flag, confidence


def _input_names(df: pd.DataFrame, themes: list[str]) -> pd.DataFrame:
    """``df`` with each column that :func:`classify` adds renamed to ``<name>_input``."""
    added = output_columns(themes)
    return df.rename(columns={c: f"{c}_input" for c in added if c in df.columns})


def as_classified(df: pd.DataFrame, themes: list[str]) -> pd.DataFrame:
    """The columns :func:`classify` gives ``df``, the added ones left empty: enough to find
    score and segment columns on input that is not classified yet."""
    out = _input_names(df, themes)
    return pd.concat([out, pd.DataFrame(index=out.index, columns=output_columns(themes))], axis=1)


def classify(
    df: pd.DataFrame,
    model: Any = None,
    *,
    text_col: str | None = None,
    redact: bool = False,
    review_margin: float | None = None,
    auto_threshold: float | None = None,
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
    auto_threshold:
        Semi-automatic coding: add ``auto_coded`` (confidence at or above this value)
        and send every other non-empty answer to review.

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
    proba, lang, redacted = probabilities(model, texts, chunk_size=size)
    # the model decides (per-theme thresholds, or one label per answer for single-label models)
    empty, flag, confidence = decisions(model, proba, lang)
    near = (np.abs(proba - thresholds) < margin).any(axis=1) if len(themes) else np.zeros(n, bool)
    review = ~empty & (near | (flag.sum(axis=1) == 0))

    out = _input_names(df, themes)
    if redact:  # missing answers stay missing
        column = np.array(redacted, dtype=object)
        missing = df[text_col].isna().to_numpy()
        column[missing] = df[text_col].to_numpy()[missing]
        out[text_col] = column
    rounded = np.round(proba, 4)
    columns: dict[str, Any] = {"lang": lang, "themes": joined_themes(flag, themes)}
    columns |= {col: flag[:, j] for j, col in enumerate(flags)}
    columns |= {col: rounded[:, j] for j, col in enumerate(probs)}
    columns |= {"confidence": np.round(confidence, 4), "needs_review": review}
    if auto_threshold is not None:
        auto = ~empty & (confidence >= auto_threshold)
        columns |= {"needs_review": ~empty & ~auto, "auto_coded": auto}
    return pd.concat([out, pd.DataFrame(columns, index=df.index)], axis=1)


def joined_themes(flag: np.ndarray, themes: Sequence[str]) -> list[str]:
    """Per row of a 0/1 matrix, the ids of its themes joined with ``|`` ("" for none); each
    distinct row is joined once."""
    if not len(flag):
        return []
    patterns, inverse = np.unique(np.asarray(flag, dtype=bool), axis=0, return_inverse=True)
    names = np.array(["|".join(t for t, f in zip(themes, row) if f) for row in patterns], dtype=object)
    return names[np.asarray(inverse).reshape(-1)].tolist()


# -- streaming, several processes ---------------------------------------------------
_WORKER: tuple[Any, dict[str, Any], Callable[[pd.DataFrame, int], Any] | None] | None = None


def _classify_in_worker(chunk: pd.DataFrame, offset: int) -> Any:
    assert _WORKER is not None
    model, options, finish = _WORKER
    tagged = classify(chunk, model, **options)
    return finish(tagged, offset) if finish is not None else tagged


def _warm_up(model: Any) -> None:
    """Load the lemmatisers' dictionaries once, before worker processes are forked."""
    model.preprocessor().transform(["hakemus käsitellään", "ansökan behandlas", "the application is processed"])


def classify_chunks(
    chunks: Iterable[pd.DataFrame],
    model: Any,
    *,
    text_col: str,
    jobs: int = 1,
    finish: Callable[[pd.DataFrame, int], Any] | None = None,
    **options: Any,
) -> Iterator[Any]:
    """Classify a stream of chunks, in input order, with ``jobs`` worker processes.

    Workers are forked once with the model already loaded; at most ``2 * jobs``
    chunks are in flight, so memory stays bounded whatever the input's size.
    ``options`` are passed to :func:`classify`. With ``finish``, what
    ``finish(tagged, offset)`` returns is yielded instead of each classified chunk
    (``offset``: the input position of the chunk's first row); it runs in the worker,
    so that formatting output or adding up aggregates is spread over the cores too.
    """
    global _WORKER
    options = {"text_col": text_col, **options}
    _warm_up(model)
    gc.freeze()  # the loaded model stays out of garbage collection: faster, and its pages stay shared
    try:
        if jobs <= 1 or "fork" not in mp.get_all_start_methods():
            offset = 0
            for chunk in chunks:
                tagged = classify(chunk, model, **options)
                yield finish(tagged, offset) if finish is not None else tagged
                offset += len(chunk)
            return
        _WORKER = (model, options, finish)
        with mp.get_context("fork").Pool(jobs) as pool:
            pending: deque[Any] = deque()
            offset = 0
            for chunk in chunks:
                pending.append(pool.apply_async(_classify_in_worker, (chunk, offset)))
                offset += len(chunk)
                if len(pending) >= 2 * jobs:
                    yield pending.popleft().get()
            while pending:
                yield pending.popleft().get()
    finally:
        _WORKER = None
        gc.unfreeze()


@dataclass
class Counts:
    """What happened to the input rows."""

    read: int = 0
    empty: int = 0

    @property
    def tagged(self) -> int:
        return self.read - self.empty

    @classmethod
    def of(cls, tagged: pd.DataFrame) -> Counts:
        """The counts of one classified chunk."""
        return cls(read=len(tagged), empty=int((tagged["lang"] == "").sum()))

    def merge(self, other: Counts) -> None:
        self.read += other.read
        self.empty += other.empty


def default_jobs() -> int:
    """All cores."""
    return os.cpu_count() or 1


def open_stream(
    input_path: PathLike,
    *,
    chunk_size: int | None = None,
    text_col: str | None = None,
    required: Sequence[str] = (),
    read_options: dict[str, Any] | None = None,
    on_text_col: Any = None,
    on_first_chunk: Any = None,
) -> tuple[Iterator[pd.DataFrame], str]:
    """The input's chunks and its free-text column, checked on the first chunk.

    ``required`` columns (and ``text_col`` when given) must exist; without ``text_col``
    it is detected, and ``on_text_col`` is called with the detected name.
    ``on_first_chunk`` is called with the first chunk (e.g. to warn about duplicate ids).
    """
    size = chunk_size or setting("predict", "chunk_size")
    chunks = iter_table(input_path, chunk_size=size, **(read_options or {}))
    first = next(chunks)
    if on_first_chunk:
        on_first_chunk(first)
    require_columns(first, list(required))
    if text_col:
        require_columns(first, [text_col], what="Text column")
    else:
        text_col = find_text_column(first)
        if on_text_col:
            on_text_col(text_col)
    return itertools.chain([first], chunks), text_col


def predict_file(
    input_path: PathLike,
    output_path: PathLike,
    *,
    model: Any = None,
    text_col: str | None = None,
    redact: bool = False,
    auto_threshold: float | None = None,
    chunk_size: int | None = None,
    jobs: int | None = None,
    force: bool = False,
    read_options: dict[str, Any] | None = None,
    on_text_col: Any = None,
    on_chunk: Any = None,
    on_first_chunk: Any = None,
) -> Counts:
    """Classify a file into another, streaming in chunks: every input row once, in order.

    ``read_options`` go to :func:`textmine.files.iter_table` (encoding, delimiter, sheet).
    ``on_text_col`` is called with the free-text column once it is known, ``on_chunk``
    with the :class:`Counts` so far after each chunk (for a progress display).
    """
    model = model if model is not None else load_model()
    check_output(output_path, force=force, inputs=[input_path])
    chunks, text_col = open_stream(input_path, chunk_size=chunk_size, text_col=text_col, read_options=read_options,
                                   on_text_col=on_text_col, on_first_chunk=on_first_chunk)
    counts = Counts()
    with TableWriter(output_path, force=force, inputs=[input_path]) as writer:
        suffix = writer.suffix

        def finish(tagged: pd.DataFrame, offset: int) -> tuple[Counts, bytes | pd.DataFrame]:
            return Counts.of(tagged), encode_chunk(tagged, suffix, header=offset == 0)

        for part, payload in classify_chunks(chunks, model, text_col=text_col, jobs=jobs or default_jobs(),
                                             finish=finish, redact=redact, auto_threshold=auto_threshold):
            writer.write_encoded(payload, part.read)
            counts.merge(part)
            if on_chunk:
                on_chunk(counts)
    return counts
