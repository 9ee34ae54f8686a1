"""Feature analyzers for the theme classifier (picklable, cached per distinct token).

Kept apart from the estimator so that a saved model refers to small, stable classes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from ._config import setting
from .preprocess import Words, ragged_take, token_lists


def _count_matrix(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """Counts of (row, col) pairs as a CSR matrix with sorted indices, as CountVectorizer makes them."""
    X = sp.csr_matrix((np.ones(len(rows), dtype=np.float64), (rows, cols)), shape=shape)
    X.sum_duplicates()
    return X


def _vocabulary_cache(owner: Any, vocabulary: dict[str, int], build: Any) -> Any:
    """``build(vocabulary)``, remembered on ``owner`` (not pickled) while the vocabulary is the same object."""
    cached = owner.__dict__.get("_vocabulary_cache")
    if cached is None or cached[0] is not vocabulary:
        cached = (vocabulary, build(vocabulary))
        owner.__dict__["_vocabulary_cache"] = cached
    return cached[1]


def _words_of(docs: list[str]) -> tuple[list[str], np.ndarray]:
    """All whitespace-separated words of ``docs`` in order, and how many each doc has.

    Texts normalised to single spaces (as the preprocessor's folded texts are) are split in
    one call on their joined string; anything else is split text by text.
    """
    nonempty = [d for d in docs if d]
    joined = " ".join(nonempty)
    words = joined.split(" ") if joined else []
    if "" not in words and len(words) == len(joined.split()):  # no doubled, outer or other whitespace
        counts = [d.count(" ") + 1 if d else 0 for d in docs]
        return words, np.asarray(counts, dtype=np.int64)
    split = [d.split() for d in docs]
    return list(itertools.chain.from_iterable(split)), np.fromiter(map(len, split), dtype=np.int64, count=len(docs))



def _concat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _spaceless(tokens: list[str]) -> bool:
    """Whether no token holds a space (else its n-grams could not be told apart from longer
    ones, and the exact paths fall back): the joined tokens have no more spaces than gaps."""
    return " ".join(tokens).count(" ") == max(len(tokens) - 1, 0)


def _token_stream(docs: list[list[str]]) -> tuple[list[str], np.ndarray] | None:
    """All tokens of ``docs`` in order and the document of each, or None when a token holds a space."""
    flat = list(itertools.chain.from_iterable(docs))
    if not _spaceless(flat):
        return None
    lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
    return flat, np.repeat(np.arange(len(docs), dtype=np.int64), lengths)


def _ngram_keys(ids: np.ndarray, doc_of: np.ndarray, base: int, n_max: int) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """For n = 1..n_max: where the n-grams of known tokens (id >= 0) within one document start,
    and their integer keys: (a, b, c) -> (a * base + b) * base + c."""
    keys, valid = ids.copy(), ids >= 0
    for n in range(1, n_max + 1):
        if n > 1:  # extend every n-1-gram starting at i by the token at i + n - 1
            m = len(ids) - n + 1
            if m <= 0:
                return
            keys = keys[:m] * base + ids[n - 1 :]
            valid = valid[:m] & (ids[n - 1 :] >= 0) & (doc_of[:m] == doc_of[n - 1 :])
        where = np.flatnonzero(valid)
        yield n, where, keys[where]


def _counts_by_piece(
    pieces: list[Any], of: np.ndarray, lengths: np.ndarray, columns_of: Callable[[Any], np.ndarray], n_columns: Callable[[], int]
) -> sp.csr_matrix:
    """Counts of documents made of shared pieces (document ``d`` is the pieces ``of[k]`` of its
    ``lengths[d]`` positions): (documents x pieces) @ (pieces x columns). ``columns_of(piece)``
    gives each piece's columns once (a column listed twice counts twice), ``n_columns()``
    their number once every piece is done. A piece repeated in a document is two entries,
    which the product sums."""
    parts = [columns_of(piece) for piece in pieces]
    per_piece = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
    grams = sp.csr_matrix(
        (np.ones(int(per_piece.sum()), dtype=np.float64), _concat(parts), np.concatenate([[0], np.cumsum(per_piece)])),
        shape=(len(pieces), n_columns()),
    )
    doc_pieces = sp.csr_matrix(
        (np.ones(len(of), dtype=np.float64), of, np.concatenate([[0], np.cumsum(lengths)])),
        shape=(len(lengths), len(pieces)),
    )
    return sp.csr_matrix(doc_pieces @ grams)


def _word_pieces(docs: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``docs`` as pieces for :func:`_counts_by_piece`: their distinct whitespace-separated
    words, the word at each position and the number of words per document."""
    words, lengths = _words_of(docs)
    local: dict[str, int] = {}
    word_ids = np.fromiter([local.setdefault(w, len(local)) for w in words], dtype=np.int64, count=len(words))
    return list(local), word_ids, lengths


class WordNgrams:
    """Word n-grams (1..``n_max``) of a token list, e.g. ["hakemus", "hakemus kasittely", ...]."""

    def __init__(self, n_max: int = 2) -> None:
        self.n_max = n_max

    def __getstate__(self) -> dict[str, Any]:  # caches are rebuilt after loading
        return {"n_max": self.n_max}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __call__(self, tokens: list[str]) -> list[str]:
        out = list(tokens)
        for n in range(2, self.n_max + 1):
            out.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
        return out

    @staticmethod
    def _index(vocabulary: dict[str, int]) -> tuple[dict[str, int], list[tuple[np.ndarray, np.ndarray]]] | None:
        """Token ids and, per n, the sorted integer keys of the vocabulary's n-grams with their columns.

        An n-gram of token ids (a, b, c) has the key (a * T + b) * T + c, T the number of
        distinct tokens. None when the keys would not fit in 64 bits.
        """
        grams = [(term.split(" "), col) for term, col in vocabulary.items()]
        token_ids: dict[str, int] = {}
        for parts, _ in grams:
            for part in parts:
                token_ids.setdefault(part, len(token_ids))
        n_max = max((len(parts) for parts, _ in grams), default=1)
        base = max(len(token_ids), 1)
        if base ** n_max >= 2**62:
            return None
        by_n: list[tuple[list[int], list[int]]] = [([], []) for _ in range(n_max)]
        for parts, col in grams:
            key = 0
            for part in parts:
                key = key * base + token_ids[part]
            by_n[len(parts) - 1][0].append(key)
            by_n[len(parts) - 1][1].append(col)
        tables = []
        for keys, cols in by_n:
            k, c = np.asarray(keys, dtype=np.int64), np.asarray(cols, dtype=np.int64)
            order = np.argsort(k)
            tables.append((k[order], c[order]))
        return token_ids, tables

    def counts(self, docs: list[list[str]], vocabulary: dict[str, int]) -> sp.csr_matrix:
        """Term counts of token lists over a fitted ``vocabulary``, as CountVectorizer gives them."""
        n = len(docs)
        return self.piece_counts([tuple(d) for d in docs], np.arange(n), np.ones(n, dtype=np.int64), vocabulary)

    def piece_counts(
        self, pieces: list[tuple[str, ...]], of: np.ndarray, lengths: np.ndarray, vocabulary: dict[str, int]
    ) -> sp.csr_matrix:
        """Term counts over a fitted ``vocabulary`` of documents made of shared pieces (document
        ``d``'s tokens are those of the pieces ``of[k]`` of its ``lengths[d]`` positions, e.g.
        the lemmas of its words), as CountVectorizer gives them for the token lists.

        Tokens become integer ids once per piece and n-grams integer keys, looked up in the
        vocabulary with numpy: no Python work per document or n-gram. Exact for tokens
        without spaces (the preprocessor's tokens never hold one); otherwise the token
        lists are built and go through ``__call__``.
        """
        index = _vocabulary_cache(self, vocabulary, self._index)
        shape = (len(lengths), len(vocabulary))
        flat = list(itertools.chain.from_iterable(pieces))
        if index is None or not _spaceless(flat):
            docs = token_lists(pieces, of, lengths)
            pairs = [(i, vocabulary[g]) for i, doc in enumerate(docs) for g in self(doc) if g in vocabulary]
            found = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
            return _count_matrix(found[:, 0], found[:, 1], shape)
        token_ids, tables = index
        get = token_ids.get
        piece_ids = np.fromiter([get(tok, -1) for tok in flat], dtype=np.int64, count=len(flat))
        piece_len = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
        of = np.asarray(of, dtype=np.int64)
        lens = piece_len[of]
        ids = piece_ids[ragged_take((np.cumsum(piece_len) - piece_len)[of], lens)]
        doc_of = np.repeat(np.repeat(np.arange(len(lengths), dtype=np.int64), lengths), lens)
        rows_parts, cols_parts = [], []
        for n, where, keys in _ngram_keys(ids, doc_of, max(len(token_ids), 1), min(len(tables), self.n_max)):
            vocab_keys, vocab_cols = tables[n - 1]
            if not len(vocab_keys):
                continue
            pos = np.searchsorted(vocab_keys, keys)
            pos_ok = pos < len(vocab_keys)
            hit = np.zeros(len(where), dtype=bool)
            hit[pos_ok] = vocab_keys[pos[pos_ok]] == keys[pos_ok]
            rows_parts.append(doc_of[where[hit]])
            cols_parts.append(vocab_cols[pos[hit]])
        return _count_matrix(_concat(rows_parts), _concat(cols_parts), shape)

    def count_vocab(self, docs: list[list[str]]) -> tuple[dict[str, int], sp.csr_matrix] | None:
        """Every n-gram of ``docs`` and their counts, as CountVectorizer's fitting finds them
        (same terms, counts and order of first appearance: per document its 1-grams, then
        its 2-grams, ...), or None when this fast path cannot be exact (a token holding a
        space, or n-gram keys beyond 64 bits)."""
        stream = _token_stream(docs)
        if stream is None:
            return None
        flat, doc_of = stream
        token_ids: dict[str, int] = {}
        ids = np.fromiter([token_ids.setdefault(t, len(token_ids)) for t in flat], dtype=np.int64, count=len(flat))
        base = max(len(token_ids), 1)
        if base**self.n_max >= 2**62:
            return None
        tokens = np.array(list(token_ids), dtype=object)
        terms: list[Any] = []
        firsts: list[np.ndarray] = []
        sizes: list[int] = []
        rows_parts: list[np.ndarray] = []
        cols_parts: list[np.ndarray] = []
        for n, where, keys in _ngram_keys(ids, doc_of, base, self.n_max):
            distinct, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
            parts = [tokens[(distinct // base ** (n - 1 - k)) % base] for k in range(n)]
            terms.extend(parts[0] if n == 1 else [" ".join(g) for g in zip(*parts)])
            rows_parts.append(doc_of[where])
            cols_parts.append(np.asarray(inverse).reshape(-1) + sum(sizes))
            firsts.append(where[first])
            sizes.append(len(distinct))
        first_at = _concat(firsts)
        n_of = np.repeat(np.arange(1, len(sizes) + 1), sizes)
        order = np.lexsort((first_at, n_of, doc_of[first_at]))  # first appearance
        column = np.empty(len(order), dtype=np.int64)
        column[order] = np.arange(len(order))
        vocabulary = {terms[k]: j for j, k in enumerate(order.tolist())}
        return vocabulary, _count_matrix(_concat(rows_parts), column[_concat(cols_parts)], (len(docs), len(vocabulary)))


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
        """Term counts of ``docs`` over a fitted ``vocabulary``, as CountVectorizer gives them."""
        return self.piece_counts(*_word_pieces(docs), vocabulary)

    def piece_counts(self, pieces: list[str], of: np.ndarray, lengths: np.ndarray, vocabulary: dict[str, int]) -> sp.csr_matrix:
        """Term counts over a fitted ``vocabulary`` of documents made of shared pieces (document
        ``d`` is the pieces ``of[k]`` of its ``lengths[d]`` positions joined by spaces; a piece
        is a word, several words joined by spaces, or ""), as CountVectorizer gives them.

        Each distinct word's vocabulary indices are computed once and cached; the counts are
        then (documents x pieces) @ (pieces x n-grams), a sparse product.
        """
        cache: dict[str, np.ndarray] = _vocabulary_cache(self, vocabulary, lambda _: {})
        limit = setting("preprocess", "cache_limit")

        def columns_of(word: str) -> np.ndarray:
            idx = cache.get(word)
            if idx is None:  # the n-grams themselves are not kept: the indices are what is reused
                idx = np.array([vocabulary[g] for g in self._grams(word) if g in vocabulary], dtype=np.int64)
                if len(cache) < limit:
                    cache[word] = idx
            return idx

        def piece_columns(piece: str) -> np.ndarray:
            return columns_of(piece) if piece and " " not in piece else _concat([columns_of(w) for w in piece.split()])

        return _counts_by_piece(pieces, of, lengths, piece_columns, lambda: len(vocabulary))

    def count_vocab(self, docs: list[str]) -> tuple[dict[str, int], sp.csr_matrix]:
        """Every n-gram of ``docs`` and their counts, as CountVectorizer's fitting finds them
        (same terms, same counts, same order of first appearance): each distinct word's
        n-grams are listed once, then (documents x distinct words) @ (words x n-grams)."""
        vocabulary: dict[str, int] = {}
        add = vocabulary.setdefault

        def columns_of(word: str) -> np.ndarray:
            return np.array([add(g, len(vocabulary)) for g in self._grams(word)], dtype=np.int64)

        return vocabulary, _counts_by_piece(*_word_pieces(docs), columns_of, lambda: len(vocabulary))

    def _grams(self, word: str) -> list[str]:
        """scikit-learn's ``char_wb`` n-grams of one word."""
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
        return grams

    def _word(self, word: str) -> list[str]:
        """:meth:`_grams`, cached per word (for fitting, which goes through ``__call__``)."""
        grams = self._cache.get(word)
        if grams is None:
            grams = self._grams(word)
            if len(self._cache) < setting("preprocess", "cache_limit"):
                self._cache[word] = grams
        return grams

    def __call__(self, text: str) -> list[str]:
        out: list[str] = []
        for word in text.split():
            out.extend(self._word(word))
        return out


class FastTfidfVectorizer(TfidfVectorizer):  # type: ignore[misc]
    """scikit-learn's TfidfVectorizer, fitted faster: when its analyzer has a ``count_vocab``
    method (:class:`WordNgrams`, :class:`CharWbNgrams`), fitting counts the n-grams with it
    instead of one Python step per n-gram. Vocabulary, idf and matrix are the same as
    TfidfVectorizer's (tested); pruning, sorting and weighting are scikit-learn's own."""

    def _count_vocab(self, raw_documents: Any, fixed_vocab: bool) -> tuple[dict[str, int], sp.csr_matrix]:
        count_vocab = getattr(self.analyzer, "count_vocab", None)
        if fixed_vocab or count_vocab is None:
            return super()._count_vocab(raw_documents, fixed_vocab)
        docs = list(raw_documents)
        found = count_vocab(docs)
        if found is None:
            return super()._count_vocab(docs, fixed_vocab)
        vocabulary, counts = found
        if not vocabulary:
            raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
        index = np.int32 if counts.nnz <= np.iinfo(np.int32).max else np.int64  # as scikit-learn chooses
        X = sp.csr_matrix(
            (counts.data.astype(self.dtype), counts.indices.astype(index), counts.indptr.astype(index)),
            shape=counts.shape,
        )
        X.sort_indices()
        return vocabulary, X


def words_features(word: Any, char: Any, words: Words) -> sp.csr_matrix:
    """The features of preprocessed answers (:class:`~textmine.preprocess.Words`) for fitted
    TfidfVectorizers over lemma n-grams (``word``) and character n-grams of the folded text
    (``char``; either may be None), side by side: the same values as their ``transform`` of
    the answers' token lists and folded texts, counted once per distinct word."""
    blocks = []
    if word is not None:
        blocks.append(tfidf_transform(word, word.analyzer.piece_counts(words.lemmas, words.pair_of, words.lengths, word.vocabulary_)))
    if char is not None:
        blocks.append(tfidf_transform(char, char.analyzer.piece_counts(words.folded, words.word_of, words.lengths, char.vocabulary_)))
    return sp.hstack(blocks, format="csr")


def tfidf_transform(vectorizer: Any, counts: sp.csr_matrix) -> sp.csr_matrix:
    """Apply a fitted TfidfVectorizer's weighting (sublinear tf, idf, norm) to term counts
    (a CSR matrix without duplicate entries; its indices need not be sorted)."""
    X = sp.csr_matrix((counts.data.astype(vectorizer.dtype), counts.indices, counts.indptr), shape=counts.shape)
    if vectorizer.sublinear_tf:
        np.log(X.data, out=X.data)
        X.data += 1
    if vectorizer.use_idf:
        X.data *= vectorizer.idf_.astype(vectorizer.dtype)[X.indices]
    if vectorizer.norm:
        X = normalize(X, norm=vectorizer.norm, copy=False)
    return sp.csr_matrix(X, dtype=vectorizer.dtype)
