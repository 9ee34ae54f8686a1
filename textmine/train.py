"""Training: fit the theme classifier on labelled answers, measure it honestly, save it.

The reported metrics come from nested cross-validation: in each outer fold a fresh
model (with its own inner cross-validation for thresholds) is fitted on the other
folds and scored on the held-out one, so no threshold ever sees its test answers.
"""

from __future__ import annotations

import copy
import hashlib
import os
import platform
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sklearn
import spacy
from sklearn.model_selection import KFold

from . import __version__
from ._config import load_config
from .classifier import ThemeClassifier
from .codebook import Codebook, load_codebook
from .errors import TextmineError
from .evaluate import metrics
from .labels import LabelsCol, Warn, check_labels, labels_key, load_labelled, matrix_of, parse_labels, warn_user
from .model import save_model
from .preprocess import Preprocessed

PathLike = str | os.PathLike[str]
# progress(message, done, total): a step of the work; done/total when it is countable.
Progress = Callable[..., None]


def _fold_predictions(
    config: dict[str, Any], themes: list[str], prep: Preprocessed, Y: np.ndarray, train_idx: np.ndarray, test_idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    model = ThemeClassifier(themes=themes, config=config).fit(prep.take(train_idx), Y[train_idx])
    return test_idx, model.predict(prep.take(test_idx))


def _final_fit(config: dict[str, Any], themes: list[str], prep: Preprocessed, Y: np.ndarray) -> ThemeClassifier:
    return ThemeClassifier(themes=themes, config=config).fit(prep, Y)


def fit_and_cross_validate(
    prep: Preprocessed,
    Y: np.ndarray,
    *,
    themes: list[str],
    config: dict[str, Any],
    cross_validation: bool = True,
    n_jobs: int = 1,
    progress: Progress | None = None,
) -> tuple[ThemeClassifier, dict[str, Any] | None]:
    """The model fitted on all answers, and its nested cross-validated metrics (or None).

    The final fit is one more task beside the outer folds (it is independent of them), so
    that with several workers it does not wait for the cross-validation to end.
    """
    splits: list[tuple[np.ndarray, np.ndarray]] = []
    if cross_validation:
        folds = KFold(n_splits=config["model"]["cv_folds"], shuffle=True, random_state=config["model"]["seed"])
        splits = list(folds.split(np.arange(len(prep))))
    label = f"cross-validating on {len(prep)} answers" if splits else f"fitting on {len(prep)} answers"
    total = len(splits) + 1
    if progress:
        progress(label, 0, total)
    tasks = [joblib.delayed(_final_fit)(config, themes, prep, Y)]  # the largest task first
    tasks += [joblib.delayed(_fold_predictions)(config, themes, prep, Y, tr, te) for tr, te in splits]
    results = joblib.Parallel(n_jobs=min(n_jobs, total), return_as="generator_unordered")(tasks)
    pred = np.zeros_like(Y)
    model: ThemeClassifier | None = None
    for done, result in enumerate(results, start=1):
        if isinstance(result, ThemeClassifier):
            model = result
        else:
            test_idx, fold_pred = result
            pred[test_idx] = fold_pred
        if progress:
            progress(label, done, total)
    assert model is not None
    cv = metrics(Y, pred, themes=themes, langs=prep.lang) | {"folds": len(splits)} if splits else None
    return model, cv


def _data_hash(texts: Sequence[str], labels: Sequence[object]) -> str:
    digest = hashlib.sha256()
    for text, lab in zip(texts, labels):
        digest.update(str(text).encode("utf-8") + b"\x1f" + str(lab).encode("utf-8") + b"\x1e")
    return digest.hexdigest()


def scaling_rule(n_answers: int, config: dict[str, Any]) -> dict[str, Any] | None:
    """The settings that change on large data (``[train] large_data_*``), or None below ``large_data_rows``.

    From ``large_data_rows`` answers on, the outer cross-validation uses ``large_data_cv_folds``
    folds (they only measure the model), the thresholds come from ``large_data_inner_folds``
    inner folds (1: a single split whose held-out third chooses them) and liblinear stops at
    tolerance ``large_data_tol``: each fold still has thousands of answers to learn and to
    choose thresholds from, and training takes a fraction of the time.
    """
    t = config.get("train", {})
    large = int(t.get("large_data_rows") or 0)
    if not large or n_answers < large:
        return None
    return {
        "from_rows": large,
        "cv_folds": int(t["large_data_cv_folds"]),
        "inner_folds": int(t["large_data_inner_folds"]),
        "tol": float(t["large_data_tol"]),
    }


def apply_scaling_rule(config: dict[str, Any], n_answers: int) -> dict[str, Any] | None:
    """Put the :func:`scaling_rule` for ``n_answers`` into ``config["model"]`` (a new dict, so
    shared settings are untouched) and return the rule, or None below ``large_data_rows``."""
    rule = scaling_rule(n_answers, config)
    if rule:
        config["model"] = {**config["model"], **{k: rule[k] for k in ("cv_folds", "inner_folds", "tol")}}
    return rule


def train(
    data: pd.DataFrame | PathLike | Sequence[PathLike],
    *,
    codebook: Codebook | PathLike | None = None,
    out: PathLike | None = None,
    text_col: str = "text",
    labels_col: LabelsCol = "labels",
    label_sep: str = "|",
    id_col: str = "id",
    config: dict[str, Any] | PathLike | None = None,
    cross_validation: bool = True,
    n_jobs: int | None = None,
    progress: Progress | None = None,
    min_examples: int | None = None,
    warn: Warn | None = None,
) -> ThemeClassifier:
    """Fit a theme model on labelled answers and, with ``out``, save it there.

    Parameters
    ----------
    data:
        A DataFrame, a labelled CSV/XLSX/Parquet/JSONL file, or several files
        (concatenated; later files' rows win on equal ``id_col``).
    codebook:
        A :class:`Codebook` or its path. Without it the themes are the labels found in the data.
    labels_col:
        The labels column (labels joined by ``label_sep``, or lists), or several indicator
        columns, one 0/1 column per label, named by the label.
    out:
        Directory to save ``model.joblib`` and ``model_card.json`` to.
    config:
        Settings (dict or TOML path) overriding ``defaults.toml``.
    cross_validation:
        Measure the model by nested cross-validation (recorded in its card).
    min_examples:
        Leave out labels with fewer examples than this, with a warning (default: stop with
        E042 below ``[model] min_examples_per_theme``, unless ``[train] drop_rare_labels``).
    warn:
        Called with each warning (default: :func:`textmine.labels.warn_user`).

    Returns
    -------
    ThemeClassifier
        The fitted model; ``model.card_`` holds its card (metrics, thresholds, counts).
    """
    started = time.perf_counter()
    warn = warn or warn_user
    cfg = copy.deepcopy(config) if isinstance(config, dict) else load_config(config)
    cfg.setdefault("train", load_config()["train"])
    if min_examples is not None:
        if isinstance(min_examples, bool) or not isinstance(min_examples, int) or min_examples < 1:
            raise TextmineError("E121", value=min_examples)
        cfg["model"]["min_examples_per_theme"] = min_examples
        cfg["train"]["drop_rare_labels"] = True
    book = load_codebook(codebook) if isinstance(codebook, (str, os.PathLike)) else codebook
    df = load_labelled(data, text_col=text_col, labels_col=labels_col, id_col=id_col)
    labels = labels_key(labels_col)
    texts = df[text_col].fillna("").astype(str)
    keep = texts.str.strip() != ""
    df, texts = df[keep].reset_index(drop=True), texts[keep].reset_index(drop=True)
    if len(df) == 0:
        raise TextmineError("E040")
    parsed = parse_labels(df[labels], label_sep)
    themes = check_labels(df, labels_col=labels, sep=label_sep, codebook=book,
                          min_examples=cfg["model"]["min_examples_per_theme"],
                          drop_rare=cfg["train"].get("drop_rare_labels", "without_codebook"), warn=warn, parsed=parsed)
    Y = matrix_of(parsed, themes)
    found = Counter(lab for labs in parsed for lab in labs)
    left_out = {lab: n for lab, n in sorted(found.items()) if lab not in themes}
    scaling = apply_scaling_rule(cfg, len(df))
    jobs = n_jobs or min(cfg["model"]["cv_folds"] + 1, os.cpu_count() or 1)

    if progress:
        progress(f"preprocessing {len(df)} answers")
    prep = ThemeClassifier(themes=themes, config=cfg).preprocessor().transform(texts.tolist())
    model, cv = fit_and_cross_validate(prep, Y, themes=themes, config=cfg, cross_validation=cross_validation,
                                       n_jobs=jobs, progress=progress)

    langs = Counter(prep.lang)
    card: dict[str, Any] = {
        "textmine_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": {
            "textmine": __version__, "scikit-learn": sklearn.__version__, "spacy": spacy.__version__,
            "python": platform.python_version(),
        },
        "codebook": {
            "version": book.version if book else None,
            "hash": book.hash if book else None,
            "name": book.name if book else "labels found in the data",
            "non_development": book.non_development if book else [],
        },
        "themes": themes,
        "labels": book.labels("en") if book else {t: t for t in themes},
        "thresholds": {t: round(float(v), 4) for t, v in zip(themes, model.thresholds_)},
        # "single": one label per training answer, so exactly one is predicted; "at_most_one":
        # the best label when it passes its threshold; "multi": independent thresholds
        "label_mode": model.label_mode_,
        "single_label": model.single_label_,
        # the large-data rule of [train] large_data_* when it applied (None: the usual folds)
        "scaling": scaling,
        "training_data": {
            "sha256": _data_hash(texts.tolist(), df[labels].tolist()),
            "n_answers": len(df),
            "per_theme": {t: int(n) for t, n in zip(themes, Y.sum(axis=0))},
            "per_language": dict(sorted(langs.items())),
            "no_theme": int((Y.sum(axis=1) == 0).sum()),
            # labels left out for having too few examples (--min-examples), with their counts
            "left_out_labels": left_out,
        },
        "cv_metrics": cv,
        "n_features": model.n_features_,
        "config": {k: cfg[k] for k in ("preprocess", "features", "model", "train")},
        "training_seconds": round(time.perf_counter() - started, 1),
    }
    model.card_ = card
    if out is not None:
        save_model(model, out, card)
        model.card_ = {**card, "path": str(Path(out))}
    return model
