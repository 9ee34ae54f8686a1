"""The multi-label theme classifier: a scikit-learn estimator.

Features: TF-IDF of lemma word n-grams plus TF-IDF of character n-grams of the
folded text. One logistic regression per theme. Per-theme decision thresholds are
learned in ``fit`` from out-of-fold probabilities on the training data only.

The label mode is learned from the training labels (setting ``[model] label_mode``):
when every training answer has exactly one label ("single": multi-class data such as
sentiment or one topic per answer) the model predicts exactly one label per answer, the
one of highest probability; when every answer has at most one ("at_most_one") it predicts
that label only if it passes its threshold; otherwise
("multi") every label whose probability passes its threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold

from ._config import load_config
from .errors import TextmineError
from .features import CharWbNgrams, FastTfidfVectorizer, WordNgrams, words_features
from .labels import label_mode
from .preprocess import Preprocessed, Preprocessor

LABEL_MODES = ("auto", "multi")

_PARAMS = {
    "features": ("word_features", "char_features", "word_ngram_max", "word_min_df", "char_ngram_min", "char_ngram_max", "char_min_df", "char_max_features", "sublinear_tf"),
    "model": ("C", "class_weight", "dual", "max_iter", "tol", "seed", "inner_folds", "threshold_min", "threshold_max",
              "threshold_step", "label_mode"),
}


def choose_thresholds(
    y_true: np.ndarray, proba: np.ndarray, *, low: float = 0.1, high: float = 0.9, step: float = 0.01
) -> np.ndarray:
    """Per column, the threshold in [low, high] that maximises F1 (middle of the best plateau)."""
    grid = np.round(np.arange(low, high + step / 2, step), 6)
    out = np.empty(y_true.shape[1])
    for j in range(y_true.shape[1]):
        y, p = y_true[:, j].astype(bool), proba[:, j]
        pred = p[:, None] >= grid[None, :]
        tp = (pred & y[:, None]).sum(axis=0)
        fp = (pred & ~y[:, None]).sum(axis=0)
        fn = (~pred & y[:, None]).sum(axis=0)
        f1 = np.where(tp > 0, 2 * tp / np.maximum(1, 2 * tp + fp + fn), 0.0)
        best = np.flatnonzero(f1 >= f1.max() - 1e-12)
        out[j] = grid[best[len(best) // 2]] if f1.max() > 0 else 0.5
    return out


def _features(word: Any, char: Any, prep: Preprocessed) -> sp.csr_matrix:
    """The feature matrix: word n-grams of lemmas beside character n-grams of the folded text,
    computed once per distinct answer."""
    words, rows = prep.distinct()
    X = words_features(word, char, words)
    return X if words is prep.words else X[rows]


class ThemeClassifier(BaseEstimator):  # type: ignore[misc]
    """Multi-label theme classifier over raw answer texts.

    Parameters
    ----------
    themes:
        Theme ids, one per column of ``Y``.
    config:
        Settings as in ``defaults.toml`` (sections ``preprocess``, ``features``, ``model``);
        ``None`` reads the defaults.

    Attributes
    ----------
    thresholds_ : ndarray of shape (n_themes,)
        Decision threshold per theme, chosen on out-of-fold probabilities.
    label_mode_ : str
        "single" (exactly one label per training answer), "at_most_one" or "multi".
    single_label_ : bool
        Whether one label at most is predicted per answer (label_mode_ is not "multi").
    oof_proba_ : ndarray
        Out-of-fold probabilities on the training data (not saved with a model; with
        ``inner_folds = 1`` only the held-out third has them, the other rows are 0).
    """

    def __init__(self, *, themes: Sequence[str] = (), config: dict[str, Any] | None = None) -> None:
        self.themes = themes
        self.config = config

    # -- helpers ------------------------------------------------------------------
    def _settings(self) -> dict[str, Any]:
        cfg = self.config or load_config()
        return {k: cfg[section][k] for section, keys in _PARAMS.items() for k in keys} | {"preprocess": cfg["preprocess"]}

    def _new_preprocessor(self) -> Preprocessor:
        pp = self._settings()["preprocess"]
        return Preprocessor(
            languages=pp["languages"], fallback_ratio=pp["fallback_ratio"],
            short_answer_tokens=pp["short_answer_tokens"], batch_size=pp["batch_size"],
            langid_max_chars=pp.get("langid_max_chars"),
            remove_stop_words=pp["remove_stop_words"], keep_words=pp["keep_words"],
        )

    def _fit_vectorizers(self, prep: Preprocessed) -> tuple[Any, Any, sp.csr_matrix]:
        s = self._settings()
        word = FastTfidfVectorizer(
            analyzer=WordNgrams(s["word_ngram_max"]), min_df=s["word_min_df"], sublinear_tf=s["sublinear_tf"], dtype=np.float32
        ) if s["word_features"] else None
        char = FastTfidfVectorizer(
            analyzer=CharWbNgrams(s["char_ngram_min"], s["char_ngram_max"]), min_df=s["char_min_df"],
            max_features=s["char_max_features"], sublinear_tf=s["sublinear_tf"], dtype=np.float32,
        ) if s["char_features"] else None
        blocks = []
        for vec, docs in ((word, prep.tokens), (char, prep.folded)):
            if vec is not None:
                blocks.append(vec.fit_transform(docs))
                # scikit-learn keeps the pruned terms here; they may hold raw personal words
                if hasattr(vec, "stop_words_"):
                    del vec.stop_words_
        return word, char, sp.hstack(blocks, format="csr")

    def _fit_models(self, X: sp.csr_matrix, Y: np.ndarray) -> list[Any]:
        s = self._settings()
        models: list[Any] = []
        for j in range(Y.shape[1]):
            if Y[:, j].min() == Y[:, j].max():  # a small fold may hold no (or only) positives
                models.append(DummyClassifier(strategy="constant", constant=int(Y[0, j])).fit(X, Y[:, j]))
                continue
            clf = LogisticRegression(
                C=s["C"], class_weight=s["class_weight"] or None, max_iter=s["max_iter"], tol=s["tol"],
                solver="liblinear", dual=s["dual"], random_state=s["seed"],
            )
            models.append(clf.fit(X, Y[:, j]))
        return models

    @staticmethod
    def _proba(models: list[Any], X: sp.csr_matrix) -> np.ndarray:
        if not models:
            return np.zeros((X.shape[0], 0))
        out = np.zeros((X.shape[0], len(models)))
        # binary logistic regressions: every theme's decision function in one sparse product
        linear = [j for j, m in enumerate(models) if isinstance(m, LogisticRegression) and list(m.classes_) == [0, 1]]
        if linear:
            coef = np.column_stack([models[j].coef_[0] for j in linear])
            intercept = np.array([models[j].intercept_[0] for j in linear])
            out[:, linear] = expit(np.asarray(X @ coef) + intercept)
        for j, m in enumerate(models):
            if j not in linear:
                p = m.predict_proba(X)
                out[:, j] = p[:, list(m.classes_).index(1)] if 1 in m.classes_ else 0.0
        return out

    def _transform(self, prep: Preprocessed) -> sp.csr_matrix:
        return _features(self.word_vectorizer_, self.char_vectorizer_, prep)

    # -- estimator API ------------------------------------------------------------
    def fit(self, X: Sequence[object] | Preprocessed, Y: np.ndarray) -> ThemeClassifier:
        """Learn features, one model per theme and per-theme thresholds.

        Parameters
        ----------
        X: answer texts, or their :class:`Preprocessed` form (as made by ``preprocessor()``).
        Y: 0/1 array of shape (n_answers, n_themes).
        """
        Y = np.asarray(Y, dtype=np.int8)
        s = self._settings()
        if s["label_mode"] not in LABEL_MODES:
            raise TextmineError("E122", value=s["label_mode"])
        self.themes_ = list(self.themes) or [str(j) for j in range(Y.shape[1])]
        self.label_mode_ = label_mode(Y) if s["label_mode"] == "auto" else "multi"
        self.single_label_ = self.label_mode_ != "multi"
        self.preprocessor_ = self._new_preprocessor()
        prep = X if isinstance(X, Preprocessed) else self.preprocessor_.transform(list(X))
        n = len(prep)
        oof = np.zeros(Y.shape, dtype=float)
        held = np.zeros(n, dtype=bool)
        # inner_folds = 1: a single split, thresholds from its held-out third (for large data)
        k = int(s["inner_folds"])
        folds = KFold(n_splits=max(2, min(k if k > 1 else 3, n)), shuffle=True, random_state=s["seed"])
        for train_idx, test_idx in list(folds.split(np.arange(n)))[: max(k, 1)]:
            # each inner fold fits its own vocabulary, as a new survey would meet unseen words
            word, char, features = self._fit_vectorizers(prep.take(train_idx))
            X_test = _features(word, char, prep.take(test_idx))
            oof[test_idx] = self._proba(self._fit_models(features, Y[train_idx]), X_test)
            held[test_idx] = True
        self.oof_proba_ = oof
        self.thresholds_ = choose_thresholds(
            Y[held], oof[held], low=s["threshold_min"], high=s["threshold_max"], step=s["threshold_step"]
        )
        self.word_vectorizer_, self.char_vectorizer_, features = self._fit_vectorizers(prep)
        self.estimators_ = self._fit_models(features, Y)
        self.n_features_ = sum(len(v.vocabulary_) for v in (self.word_vectorizer_, self.char_vectorizer_) if v is not None)
        return self

    def preprocessor(self) -> Preprocessor:
        """A preprocessor with this model's settings (its cache serves many calls)."""
        return getattr(self, "preprocessor_", None) or self._new_preprocessor()

    def predict_proba(self, X: Sequence[object] | Preprocessed) -> np.ndarray:
        """Probability per answer and theme, shape (n_answers, n_themes)."""
        prep = X if isinstance(X, Preprocessed) else self.preprocessor_.transform(list(X))
        return self._proba(self.estimators_, self._transform(prep))

    def predict(self, X: Sequence[object] | Preprocessed) -> np.ndarray:
        """0/1 per answer and theme, by :meth:`decide` on :meth:`predict_proba`."""
        return self.decide(self.predict_proba(X))

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """0/1 per answer and theme from probabilities of shape (n_answers, n_themes).

        "multi": every theme whose probability is at or above its threshold. "single": the one
        theme of highest probability (an answer of the training data always had one; on
        multi-class data this beat the highest probability / threshold, see BENCHMARKS.md).
        "at_most_one": that theme when it passes its threshold, else none.
        """
        proba = np.asarray(proba, dtype=float)
        passed = proba >= np.asarray(self.thresholds_)
        mode = getattr(self, "label_mode_", "multi")  # models saved before label modes were learned
        if mode == "multi" or proba.shape[1] == 0 or len(proba) == 0:
            return passed.astype(np.int8)
        best = proba.argmax(axis=1)
        rows = np.arange(len(proba))
        out = np.zeros(proba.shape, dtype=np.int8)
        out[rows, best] = 1 if mode == "single" else passed[rows, best]
        return out

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("oof_proba_", None)
        return state
