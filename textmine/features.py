"""Feature analyzers for the theme classifier (picklable, cached per distinct token).

Kept apart from the estimator so that a saved model refers to small, stable classes.
"""

from __future__ import annotations

from typing import Any


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

    def __getstate__(self) -> dict[str, Any]:
        return {"min_n": self.min_n, "max_n": self.max_n}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._cache = {}

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
