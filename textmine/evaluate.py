"""Honest measurement of a theme model: per-theme, micro/macro, exact match, per language."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_fscore_support

from ._config import setting
from .labels import (
    LabelsCol,
    Warn,
    describe_unseen,
    labels_key,
    load_labelled,
    matrix_of,
    parse_labels,
    unseen_labels,
    warn_user,
)
from .predict import decisions, probabilities

PathLike = str | os.PathLike[str]


def _round(x: float) -> float:
    return round(float(x), 4)


def _block(Y_true: np.ndarray, Y_pred: np.ndarray, themes: Sequence[str]) -> dict[str, Any]:
    if len(Y_true) == 0:
        return {"n": 0, "micro_f1": None, "macro_f1": None, "exact_match": None, "per_theme": {}}
    p, r, f, s = precision_recall_fscore_support(Y_true, Y_pred, average=None, zero_division=0)
    mp, mr, mf, _ = precision_recall_fscore_support(Y_true, Y_pred, average="micro", zero_division=0)
    present = s > 0
    # no label to find and none predicted (e.g. the empty answers of a language): F1 is undefined
    defined = bool(Y_true.any() or Y_pred.any())
    return {
        "n": int(len(Y_true)),
        "micro_f1": _round(mf) if defined else None,
        "micro_precision": _round(mp) if defined else None,
        "micro_recall": _round(mr) if defined else None,
        "macro_f1": _round(f[present].mean()) if present.any() else None,
        "exact_match": _round((Y_true == Y_pred).all(axis=1).mean()),
        "per_theme": {
            t: {"precision": _round(p[j]), "recall": _round(r[j]), "f1": _round(f[j]), "support": int(s[j])}
            for j, t in enumerate(themes)
        },
    }


def coverage_curve(
    Y_true: np.ndarray, Y_pred: np.ndarray, confidence: np.ndarray, thresholds: Sequence[float] = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
) -> list[dict[str, float | None]]:
    """Share of answers coded automatically at each confidence threshold, and exact-match accuracy on them."""
    out = []
    exact = (Y_true == Y_pred).all(axis=1)
    for t in thresholds:
        auto = confidence >= t
        out.append({
            "threshold": t,
            "coverage": _round(auto.mean()) if len(auto) else 0.0,
            "exact_match": _round(exact[auto].mean()) if auto.any() else None,
        })
    return out


def metrics(
    Y_true: np.ndarray,
    Y_pred: np.ndarray,
    *,
    themes: Sequence[str],
    langs: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Micro/macro F1, exact match and per-theme figures, overall and per language."""
    Y_true = np.asarray(Y_true)
    Y_pred = np.asarray(Y_pred)
    out = _block(Y_true, Y_pred, themes)
    if langs is not None:
        lang_arr = np.asarray(list(langs), dtype=object)
        out["per_language"] = {
            str(lg): _block(Y_true[lang_arr == lg], Y_pred[lang_arr == lg], themes)
            for lg in sorted(set(lang_arr.tolist()))
            if lg
        }
    return out


def evaluate(
    model: Any,
    data: pd.DataFrame | PathLike,
    *,
    text_col: str = "text",
    labels_col: LabelsCol = "labels",
    label_sep: str = "|",
    warn: Warn | None = None,
) -> dict[str, Any]:
    """Score ``model`` on labelled data it has not seen.

    Returns a dict with ``micro_f1``, ``macro_f1``, ``exact_match``, ``per_theme``
    ({id: {precision, recall, f1, support}}), ``per_language`` and ``coverage``
    (share of answers coded automatically vs their exact-match accuracy), and
    ``label_mode``, ``empty_answers`` and ``unseen_labels``.

    ``labels_col`` is the labels column, or several indicator columns (one 0/1 column per
    label, as in :func:`textmine.train`).

    Predictions follow the model's label mode (:meth:`ThemeClassifier.decide`). Labels the
    model never saw are warned about, listed in ``unseen_labels`` ({label: answers}) and in
    ``per_theme``, and count as missed (false negatives); so do the labels of empty answers,
    which get no theme.
    """
    warn = warn or warn_user
    df = load_labelled(data, text_col=text_col, labels_col=labels_col)
    themes = list(model.themes_)
    parsed = parse_labels(df[labels_key(labels_col)], label_sep)
    unseen = unseen_labels(parsed, themes)
    if unseen:
        warn(describe_unseen(unseen, themes))
    scored = themes + list(unseen)
    Y_true = matrix_of(parsed, scored)

    proba, lang, _ = probabilities(model, df[text_col].tolist(), chunk_size=setting("predict", "chunk_size"))
    empty, flags, confidence = decisions(model, proba, lang)
    Y_pred = np.zeros_like(Y_true)
    Y_pred[:, : len(themes)] = flags

    result = metrics(Y_true, Y_pred, themes=scored, langs=lang)
    result["coverage"] = coverage_curve(Y_true[~empty], Y_pred[~empty], confidence[~empty])
    result["label_mode"] = getattr(model, "label_mode_", "multi")
    result["empty_answers"] = int(empty.sum())
    result["unseen_labels"] = {lab: len(rows) for lab, rows in unseen.items()}
    return result


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def format_metrics(m: dict[str, Any], themes: Sequence[str]) -> str:
    """The metrics of :func:`metrics` or :func:`evaluate` as a plain-text table."""
    lines = [f"micro-F1 {_f(m['micro_f1'])}  macro-F1 {_f(m['macro_f1'])}  exact match {_f(m['exact_match'])}  (n={m['n']})",
             f"{'theme':<24}{'precision':>10}{'recall':>8}{'F1':>7}{'support':>9}"]
    unseen = m.get("unseen_labels") or {}
    for t in [*themes, *(u for u in unseen if u not in themes)]:
        r = m["per_theme"][t]
        mark = " (not in the model)" if t in unseen else ""
        lines.append(f"{t[:23]:<24}{r['precision']:>10.3f}{r['recall']:>8.3f}{r['f1']:>7.3f}{r['support']:>9}{mark}")
    for lg, r in (m.get("per_language") or {}).items():
        if r["n"]:
            lines.append(f"language {lg:<6} n={r['n']:<6} micro-F1 {_f(r['micro_f1'])}  macro-F1 {_f(r['macro_f1'])}  "
                         f"exact match {_f(r['exact_match'])}")
    if m.get("empty_answers"):
        lines.append(f"empty answers: {m['empty_answers']} (no theme predicted; their labels count as missed)")
    for c in m.get("coverage") or []:
        em = "-" if c["exact_match"] is None else f"{c['exact_match']:.3f}"
        lines.append(f"confidence >= {c['threshold']:.2f}: {c['coverage']:.1%} coded automatically, exact match {em}")
    return "\n".join(lines)
