"""Feature analyzers for the theme classifier (picklable, cached per distinct token).

Kept apart from the estimator so that a saved model refers to small, stable classes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize


class WordNgrams:
    """Word n-grams (1..``n_max``) of a token list, e.g. ["hakemus", "hakemus kasittely", ...]."""

    def __init__(self, n_max: int = 2) -> None:
        self.n_max = n_max

    def __call__(self, tokens: list[str]) -> list[str]:
        out = list(tokens)
        for n in range(2, self.n_max + 1):
            out.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
        return out


class CharWbNgrams:
    """scikit-learn's ``char_wb`` n-grams, computed once per distinct word.

    Gives exactly the features of ``TfidfVectorizer(analyzer="char_wb")`` on
    already lower-cased text: n-grams never cross a word boundary, so a per-word
    cache is exact.
    """

    def __init__(self, min_n: int = 2, max_n: int = 5) -> None:
        self.min_n = min_n
        self.max_n = max_n
        self._cache: dict[str, list[str]] = {}

    def __getstate__(self) -> dict[str, Any]:  # caches are rebuilt after loading
        return {"min_n": self.min_n, "max_n": self.max_n}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._cache = {}

    def counts(self, docs: list[str], vocabulary: dict[str, int]) -> sp.csr_matrix:
        """Term counts of ``docs`` over a fitted ``vocabulary``, as CountVectorizer gives them.

        Each distinct word's vocabulary indices are computed once and cached, which
        makes this several times faster than scikit-learn's per-n-gram loop.
        """
        cache: dict[str, np.ndarray] = self.__dict__.setdefault("_index_cache", {})
        key = id(vocabulary)
        if self.__dict__.get("_index_vocab") != key:
            cache.clear()
            self.__dict__["_index_vocab"] = key
        empty = np.zeros(0, dtype=np.int64)
        parts: list[np.ndarray] = []
        indptr = np.zeros(len(docs) + 1, dtype=np.int64)
        for i, doc in enumerate(docs):
            total = 0
            for word in doc.split():
                idx = cache.get(word)
                if idx is None:
                    found = [vocabulary[g] for g in self._word(word) if g in vocabulary]
                    idx = np.asarray(found, dtype=np.int64) if found else empty
                    if len(cache) < 2_000_000:
                        cache[word] = idx
                total += len(idx)
                parts.append(idx)
            indptr[i + 1] = indptr[i] + total
        indices = np.concatenate(parts) if parts else empty
        X = sp.csr_matrix((np.ones(len(indices), dtype=np.float64), indices, indptr), shape=(len(docs), len(vocabulary)))
        X.sum_duplicates()
        return X


    def _word(self, word: str) -> list[str]:
        grams = self._cache.get(word)
        if grams is None:
            w = f" {word} "
            w_len = len(w)
            grams = []
            for n in range(self.min_n, self.max_n + 1):
                offset = 0
                grams.append(w[offset : offset + n])
                while offset + n < w_len:
                    offset += 1
                    grams.append(w[offset : offset + n])
                if offset == 0:
                    break
            if len(self._cache) < 2_000_000:
                self._cache[word] = grams
        return grams

    def __call__(self, text: str) -> list[str]:
        out: list[str] = []
        for word in text.split():
            out.extend(self._word(word))
        return out


def tfidf_transform(vectorizer: Any, counts: sp.csr_matrix) -> sp.csr_matrix:
    """Apply a fitted TfidfVectorizer's weighting (sublinear tf, idf, norm) to term counts."""
    X = counts.astype(vectorizer.dtype)
    if vectorizer.sublinear_tf:
        np.log(X.data, out=X.data)
        X.data += 1
    if vectorizer.use_idf:
        X = X @ sp.diags(vectorizer.idf_.astype(vectorizer.dtype))
    if vectorizer.norm:
        X = normalize(X, norm=vectorizer.norm, copy=False)
    return sp.csr_matrix(X, dtype=vectorizer.dtype)
