"""Choosing answers for a person to review, and the review file that becomes training data.

:func:`select_for_review` picks the classified answers whose themes the model is least
sure of, preferring answers typical of many others to one-off outliers, and shares the
budget among all themes so that rare themes get reviewed too;
:func:`write_review_file` writes them, redacted and with the predicted themes filled
in, to an .xlsx that a person corrects and that :func:`textmine.train` reads back
(reviewed rows replace the original rows of the same ``id``)::

    tagged = textmine.classify(df, model, text_col="improvement")
    picked = select_for_review(tagged, themes=model.themes_, thresholds=model.thresholds_,
                               model=model, text_col="improvement")
    write_review_file(picked, "review.xlsx", text_col="improvement", themes=model.themes_,
                      codebook=textmine.load_codebook(), id_col="respondent_id")
    # ... a person edits the `labels` column ...
    textmine.train(["data/train/answers.csv", "review.xlsx"], codebook="data/codebook.yaml")
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._config import setting
from .codebook import Codebook
from .errors import TextmineError
from .files import atomic_write, check_output, require_columns
from .predict import joined_themes, theme_columns
from .redact import redact_texts

PathLike = str | os.PathLike[str]

#: Columns :func:`select_for_review` adds to the rows it returns.
SELECTION_COLUMNS = ("review_theme", "review_margin", "review_priority")
REVIEW_SHEET = "review"
CODEBOOK_SHEET = "codebook"


def _check_themes(themes: Sequence[str], thresholds: Sequence[float] | np.ndarray) -> tuple[list[str], np.ndarray]:
    ids = [str(t) for t in themes]
    try:
        thr = np.asarray(thresholds, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise TextmineError("E101", details="the thresholds are not numbers") from None
    problems = []
    if not ids:
        problems.append("no themes given")
    if len(set(ids)) != len(ids):
        problems.append("a theme id appears twice")
    if len(thr) != len(ids):
        problems.append(f"{len(thr)} thresholds for {len(ids)} themes")
    elif not np.all(np.isfinite(thr) & (thr >= 0) & (thr <= 1)):
        problems.append("every threshold must lie within 0-1")
    if problems:
        raise TextmineError("E101", details="; ".join(problems))
    return ids, thr


def _check_budget(budget: int | None) -> int:
    value = setting("review", "budget") if budget is None else budget
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise TextmineError("E100", value=repr(value))
    return int(value)


def review_margins(
    tagged: pd.DataFrame, *, themes: Sequence[str], thresholds: Sequence[float] | np.ndarray
) -> np.ndarray:
    """Distance of every probability from its theme's threshold, shape (n_rows, n_themes).

    A small margin means the model can barely tell whether the answer has the theme.
    Missing probabilities get an infinite margin (never picked as uncertain).
    """
    ids, thr = _check_themes(themes, thresholds)
    probs = [f"p_{t}" for t in ids]
    require_columns(tagged, probs, what="Probability column")
    proba = tagged[probs].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    margin = np.abs(proba - thr[None, :])
    return np.where(np.isnan(margin), np.inf, margin)


def review_priorities(
    tagged: pd.DataFrame, *, themes: Sequence[str], thresholds: Sequence[float] | np.ndarray
) -> np.ndarray:
    """How close every probability is to its theme's threshold, from 0 (sure) to 1 (on it).

    ``1 - margin / room``, where ``room`` is the distance from the threshold to the end
    of the scale on the probability's side (``threshold`` below it, ``1 - threshold``
    above), so that themes with low and high thresholds are compared fairly. Missing
    probabilities get 0. Shape (n_rows, n_themes).
    """
    ids, thr = _check_themes(themes, thresholds)
    margin = review_margins(tagged, themes=ids, thresholds=thr)
    proba = tagged[[f"p_{t}" for t in ids]].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    room = np.where(proba >= thr[None, :], 1.0 - thr[None, :], thr[None, :])
    with np.errstate(invalid="ignore", divide="ignore"):
        closeness = np.where(room > 0, 1.0 - margin / np.where(room > 0, room, 1.0), 0.0)
    return np.where(np.isfinite(closeness), np.clip(closeness, 0.0, 1.0), 0.0)


def representativeness(features: Any) -> np.ndarray:
    """How typical each answer is among the given ones, in (0, 1] (1: the most typical).

    The mean cosine similarity of an answer's feature vector (one row of ``features``)
    to every answer's, divided by the largest such mean. Outliers (one-off wording,
    garbled or off-topic answers) score low, answers like many others score high.
    A row without features scores 0.
    """
    X = sp.csr_matrix(features, dtype=np.float64)
    if X.shape[0] == 0:
        return np.zeros(0)
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    X = sp.diags(np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0), 0.0)) @ X
    mean = np.asarray(X.mean(axis=0)).ravel()
    sim = np.clip(X @ mean, 0.0, None)
    top = sim.max()
    return sim / top if top > 0 else np.ones_like(sim)


def answer_features(model: Any, texts: Sequence[object]) -> Any:
    """The feature matrix ``model`` classifies ``texts`` with (sparse, one row per text)."""
    return model._transform(model.preprocessor().transform(list(texts)))


def select_for_review(
    tagged: pd.DataFrame,
    *,
    themes: Sequence[str],
    thresholds: Sequence[float] | np.ndarray,
    budget: int | None = None,
    model: Any = None,
    text_col: str | None = None,
) -> pd.DataFrame:
    """The answers most worth a person's look: uncertain yet typical ones, with every theme covered.

    An answer's *priority* for a theme is its closeness to the theme's threshold
    (:func:`review_priorities`: 1 on the threshold, 0 at the far end of the scale) times,
    when ``model`` and ``text_col`` are given, its :func:`representativeness` among the
    candidates (computed on the model's features) to the power ``[review]
    representativeness_weight`` of ``defaults.toml``. So uncertain answers that are
    like many others come first and one-off outliers (garbled or off-topic answers,
    whose labels teach the model little) later. The order serves the reviewer: what the
    model is least sure of is checked first. As a way to improve the next model it is
    about as good as random picks: in the simulated review loop
    (scripts/benchmark_active_learning.py, scripts/BENCHMARKS.md) it is +0.002 to +0.004
    micro-F1 ahead of random on the corpus and slightly behind on a pool skewed like a
    real survey; no other selection tried did clearly better.

    The budget is shared among the themes round by round: in each round every theme,
    in the order of ``themes``, takes the not yet chosen non-empty answer with the
    highest priority for that theme (ties: the earlier row), until the budget is spent.

    Coverage guarantee: with ``k`` themes and at least ``budget`` non-empty answers,
    each whole round (rows ``r*k`` to ``r*k + k - 1`` of the result) names every
    theme exactly once in ``review_theme``; so every theme gets at least
    ``budget // k`` answers, and any budget >= ``k`` covers every theme.

    Parameters
    ----------
    tagged:
        Output of :func:`textmine.classify`: needs ``lang`` ("" for an empty answer)
        and one ``p_<id>`` column per theme. Empty answers are never chosen.
    themes:
        Theme ids, e.g. ``model.themes_``.
    thresholds:
        The decision threshold of each theme, e.g. ``model.thresholds_``.
    budget:
        Number of answers to choose; default ``[review] budget`` of ``defaults.toml``.
        Fewer are returned when there are fewer non-empty answers.
    model, text_col:
        The model that classified ``tagged`` and the answer column: together they weight
        the priority by representativeness. Without them the priority is closeness alone.

    Returns
    -------
    DataFrame
        The chosen rows of ``tagged`` (same index and columns) plus ``review_theme`` (the
        theme the answer was chosen for), ``review_margin`` (``|p - threshold|`` for that
        theme) and ``review_priority`` (its priority for that theme), ordered round by
        round and, within a round, from the highest priority (ties: the earlier row), so
        a reviewer who stops after any whole round has still seen every theme. No
        randomness: the same input gives the same rows in the same order, and a smaller
        budget gives the first rows of a larger one's picks (as a set).

    Raises
    ------
    TextmineError
        E100 for a budget that is not a whole number >= 0, E101 when themes and
        thresholds do not match or only one of ``model`` and ``text_col`` is given,
        E007 when a needed column is missing.
    """
    n_pick = _check_budget(budget)
    ids, thr = _check_themes(themes, thresholds)
    if (model is None) != (text_col is None):
        raise TextmineError("E101", details="pass model and text_col together (or neither)")
    require_columns(tagged, ["lang", *([text_col] if text_col else [])], what="Column")
    margin = review_margins(tagged, themes=ids, thresholds=thr)
    priority = review_priorities(tagged, themes=ids, thresholds=thr)
    lang = tagged["lang"].fillna("").astype(str).str.strip().to_numpy()
    candidates = np.flatnonzero(lang != "")
    margin, priority = margin[candidates], priority[candidates]
    n_pick = min(n_pick, len(candidates))
    weight = float(setting("review", "representativeness_weight")) if model is not None else 0.0
    if weight and n_pick:
        texts = tagged[text_col].iloc[candidates].tolist()
        priority = priority * (representativeness(answer_features(model, texts)) ** weight)[:, None]
    priority = np.round(priority, 6)  # equal up to float noise counts as a tie

    # per theme, the candidates from the highest priority down (stable: ties keep row order)
    orders = [np.argsort(-priority[:, j], kind="stable") for j in range(len(ids))]
    cursor = [0] * len(ids)
    taken = np.zeros(len(candidates), dtype=bool)
    picks: list[tuple[int, int, int]] = []  # (round, candidate, theme)
    rnd = 0
    while len(picks) < n_pick:
        for j, order in enumerate(orders):
            if len(picks) == n_pick:
                break
            while taken[order[cursor[j]]]:
                cursor[j] += 1
            c = int(order[cursor[j]])
            taken[c] = True
            picks.append((rnd, c, j))
        rnd += 1
    picks.sort(key=lambda p: (p[0], -priority[p[1], p[2]], p[1]))

    rows = [int(candidates[c]) for _, c, _ in picks]
    out = tagged.iloc[rows].copy()
    out["review_theme"] = [ids[j] for _, _, j in picks]
    out["review_margin"] = [round(float(margin[c, j]), 4) for _, c, j in picks]
    out["review_priority"] = [round(float(priority[c, j]), 4) for _, c, j in picks]
    return out


def _ids(selected: pd.DataFrame, id_col: str | None) -> list[str]:
    if id_col is None:
        values = [str(i) for i in selected.index]
    else:
        raw = selected[id_col]
        missing = [str(i) for i, v in zip(selected.index, raw.tolist()) if pd.isna(v) or str(v).strip() == ""]
        if missing:
            raise TextmineError("E103", id_col=f"'{id_col}'", problem="no id", details=f"rows {', '.join(missing[:5])}")
        values = [str(v).strip() for v in raw.tolist()]
    dups = sorted(v for v, n in Counter(values).items() if n > 1)
    if dups:
        raise TextmineError("E103", id_col=f"'{id_col}'" if id_col else "(the row index)", problem="repeated ids", details=", ".join(dups[:5]))
    return values


def review_table(
    selected: pd.DataFrame,
    *,
    text_col: str,
    themes: Sequence[str],
    id_col: str | None = None,
) -> pd.DataFrame:
    """The "review" sheet as a DataFrame: ``id``, ``text`` (redacted), ``labels``, ``lang``, ``confidence``, ``p_<id>``.

    ``labels`` holds the predicted themes (ids joined with ``|``) for the person to correct.
    """
    ids = [str(t) for t in themes]
    flags, probs = theme_columns(ids)
    require_columns(selected, [text_col, "lang", "confidence", *flags, *probs, *([id_col] if id_col else [])])
    flag = selected[flags].apply(pd.to_numeric, errors="coerce").fillna(0).to_numpy() == 1
    table = pd.DataFrame({
        "id": _ids(selected, id_col),
        "text": redact_texts(selected[text_col].tolist()),
        "labels": joined_themes(flag, ids),
        "lang": selected["lang"].fillna("").astype(str).tolist(),
        "confidence": pd.to_numeric(selected["confidence"], errors="coerce").to_numpy(),
    })
    for col in probs:
        table[col] = pd.to_numeric(selected[col], errors="coerce").to_numpy()
    return table


def codebook_table(codebook: Codebook) -> pd.DataFrame:
    """The "codebook" sheet: ``id``, ``label_en``, ``label_fi``, ``label_sv``, ``description``."""
    return pd.DataFrame(
        [{"id": t.id, "label_en": t.label.get("en", ""), "label_fi": t.label.get("fi", ""),
          "label_sv": t.label.get("sv", ""), "description": t.description} for t in codebook.themes],
        columns=["id", "label_en", "label_fi", "label_sv", "description"],
    )


_WIDTHS = {"id": 14, "text": 80, "labels": 36, "lang": 6, "label_en": 30, "label_fi": 30, "label_sv": 30, "description": 80}


def _save_xlsx(tmp: str, sheets: dict[str, pd.DataFrame]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for name, table in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append(list(table.columns))
        for values in table.itertuples(index=False):
            sheet.append([
                None if v is None or (isinstance(v, float) and np.isnan(v))
                else ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str)
                else float(v) if isinstance(v, np.floating) else v
                for v in values
            ])
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":  # an answer such as "=)" is text, never a formula
                    cell.data_type = "s"
        for j, col in enumerate(table.columns, start=1):
            sheet.column_dimensions[get_column_letter(j)].width = _WIDTHS.get(str(col), 11)
            if col in ("text", "description"):
                for cell in sheet[get_column_letter(j)][1:]:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    book.save(tmp)


def write_review_file(
    selected: pd.DataFrame,
    path: PathLike,
    *,
    text_col: str,
    themes: Sequence[str],
    codebook: Codebook | None = None,
    id_col: str | None = None,
    force: bool = False,
) -> Path:
    """Write answers for review to an .xlsx that :func:`textmine.train` can read back.

    Parameters
    ----------
    selected:
        Classified rows, e.g. from :func:`select_for_review`.
    path:
        The .xlsx to write (atomically).
    text_col:
        The answer column; its text is redacted in the file.
    themes:
        Theme ids, e.g. ``model.themes_``: their 0/1 columns give the pre-filled ``labels``.
    codebook:
        With a codebook, a second sheet "codebook" lists every theme (id, labels in
        en/fi/sv, description) to guide the reviewer.
    id_col:
        The column of answer ids; default the row index. Training replaces earlier rows
        with the same id by the reviewed ones, so use the ids of the training data.
    force:
        Replace an existing file (it may hold a person's edits, so not by default).

    Returns
    -------
    Path
        ``path``. Its first sheet "review" has the columns ``id``, ``text``, ``labels``
        (ids joined with ``|``; empty for no theme), ``lang``, ``confidence`` and ``p_<id>``.

    Raises
    ------
    TextmineError
        E102 for a path not ending in .xlsx, E020 for an existing file without ``force``,
        E103 for missing or repeated ids, E054 when ``themes`` are not in the codebook,
        E007 when a needed column is missing.
    """
    p = Path(path)
    if p.suffix.lower() != ".xlsx":
        raise TextmineError("E102", suffix=p.suffix or "(none)", path=str(p))
    check_output(p, force=force)
    if codebook is not None:
        unknown = [t for t in themes if t not in codebook.ids]
        if unknown:
            raise TextmineError("E054", details=f"not in the codebook: {', '.join(map(str, unknown))}")
    sheets: dict[str, pd.DataFrame] = {REVIEW_SHEET: review_table(selected, text_col=text_col, themes=themes, id_col=id_col)}
    if codebook is not None:
        sheets[CODEBOOK_SHEET] = codebook_table(codebook)

    def write(tmp: str) -> None:
        _save_xlsx(tmp, sheets)

    atomic_write(p, write)
    return p

