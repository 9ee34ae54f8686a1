"""The fast feature paths give exactly scikit-learn's TF-IDF matrices."""

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from textmine.features import CharWbNgrams, FastTfidfVectorizer, WordNgrams, tfidf_transform
from textmine.preprocess import Preprocessor

DOCS = ["Hakemuksen käsittely kestää liian kauan", "Handläggningen tog åtta månader", "The application took months",
        "käsittely käsittely käsittely", "", "!!!", "no answer from the phone line", "ei vastausta puhelimessa",
        "The application took months, the application was lost"]


def block_features(vectorizer, docs):
    """A fitted vectorizer's matrix for ``docs`` by its analyzer's fast ``counts`` and tfidf_transform."""
    return tfidf_transform(vectorizer, vectorizer.analyzer.counts(docs, vectorizer.vocabulary_))


@pytest.fixture(scope="module")
def prep():
    return Preprocessor().transform(DOCS * 3)


@pytest.mark.parametrize("n_max", [1, 2, 3])
def test_word_ngram_counts_equal_sklearn(prep, n_max: int):
    vec = TfidfVectorizer(analyzer=WordNgrams(n_max), sublinear_tf=True, dtype=np.float32).fit(prep.tokens[:9])
    unseen = prep.tokens + [["unseen", "words"], ["application", "unseen", "took"]]
    expected = vec.transform(unseen)
    got = block_features(vec, unseen)
    assert got.shape == expected.shape and abs(got - expected).max() == 0
    assert got.nnz == expected.nnz > 0


def test_word_ngram_tokens_with_spaces_fall_back_to_the_plain_path():
    vec = TfidfVectorizer(analyzer=WordNgrams(2), dtype=np.float32).fit([["a", "b"], ["a b"], ["c"]])
    docs = [["a b"], ["a", "b"], ["c", "a b"]]
    assert abs(block_features(vec, docs) - vec.transform(docs)).max() == 0


def test_char_ngram_counts_equal_sklearn(prep):
    vec = TfidfVectorizer(analyzer=CharWbNgrams(2, 5), sublinear_tf=True, min_df=2, dtype=np.float32).fit(prep.folded)
    docs = prep.folded + ["kasittely kasittely uusi sana", "   spaced    out   "]
    expected = vec.transform(docs)
    got = block_features(vec, docs)
    assert abs(got - expected).max() == 0 and got.nnz == expected.nnz
    again = block_features(vec, docs)  # from the per-word cache
    assert abs(again - expected).max() == 0


@pytest.mark.parametrize("docs", [["a b", "", "c"], ["a  b", "c\td"], [" a", "b "], ["", ""], ["x\u00a0y z"]])
def test_words_of_equals_splitting_each_text(docs):
    from textmine.features import _words_of

    words, counts = _words_of(docs)
    assert words == [w for d in docs for w in d.split()]
    assert counts.tolist() == [len(d.split()) for d in docs]


def _same_fit(make, docs) -> None:
    """FastTfidfVectorizer fits exactly what TfidfVectorizer fits: vocabulary (with its
    order), idf, matrix (with its index order)."""
    slow, fast = make(TfidfVectorizer), make(FastTfidfVectorizer)
    expected, got = slow.fit_transform(docs), fast.fit_transform(docs)
    assert list(fast.vocabulary_.items()) == list(slow.vocabulary_.items())
    assert np.array_equal(fast.idf_, slow.idf_)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    assert np.array_equal(got.indptr, expected.indptr) and np.array_equal(got.indices, expected.indices)
    assert np.array_equal(got.data, expected.data)


@pytest.mark.parametrize("n_max, min_df", [(1, 1), (2, 2), (3, 2)])
def test_fast_fit_of_word_ngrams_equals_sklearn(prep, corpus, n_max: int, min_df: int):
    many = Preprocessor().transform(corpus["text"].iloc[::7].tolist()).tokens
    for docs in (prep.tokens, many):
        _same_fit(lambda cls: cls(analyzer=WordNgrams(n_max), min_df=min_df, sublinear_tf=True, dtype=np.float32), docs)


@pytest.mark.parametrize("min_df, max_features", [(1, None), (2, 200_000), (1, 300)])
def test_fast_fit_of_char_ngrams_equals_sklearn(prep, corpus, min_df: int, max_features):
    many = Preprocessor().transform(corpus["text"].iloc[::7].tolist()).folded
    for docs in (prep.folded, many, ["aaaa aaaa", "a", " ", "ab ba  ab"]):
        _same_fit(lambda cls: cls(analyzer=CharWbNgrams(2, 5), min_df=min_df, max_features=max_features,
                                  sublinear_tf=True, dtype=np.float32), docs)


def test_fast_fit_falls_back_and_fails_like_sklearn():
    # a token holding a space cannot be told apart from a longer n-gram: scikit-learn's own path
    _same_fit(lambda cls: cls(analyzer=WordNgrams(2), dtype=np.float32), [["a b", "c"], ["a", "b", "c"]])
    with pytest.raises(ValueError, match="empty vocabulary; perhaps the documents only contain stop words"):
        FastTfidfVectorizer(analyzer=WordNgrams(2)).fit([[], []])
    with pytest.raises(ValueError, match="empty vocabulary"):
        TfidfVectorizer(analyzer=WordNgrams(2)).fit([[], []])


def test_features_of_preprocessed_answers_equal_sklearn_on_their_lists(prep):
    """words_features counts once per distinct word and answer (Words), yet gives the matrix
    scikit-learn gives for the answers' token lists and folded texts, also for a part of
    the answers in another order with repeats (as cross-validation folds take them)."""
    from textmine.features import words_features

    texts = DOCS + ["Soita <EMAIL> tai 040 1234567", "x ¨ y", "KÄSITTELY käsittely", "The application took months"]
    answers = Preprocessor().transform(texts * 2)
    word = TfidfVectorizer(analyzer=WordNgrams(3), sublinear_tf=True, dtype=np.float32).fit(prep.tokens)
    char = TfidfVectorizer(analyzer=CharWbNgrams(2, 5), sublinear_tf=True, dtype=np.float32).fit(prep.folded)
    for part in (answers, answers.take([12, 0, 12, 3, 5])):
        words, rows = part.distinct()
        got = words_features(word, char, words)[rows]
        expected = np.hstack([word.transform(part.tokens).toarray(), char.transform(part.folded).toarray()])
        assert got.shape == expected.shape and np.array_equal(got.toarray(), expected) and got.nnz > 0
    assert len(answers.take([12, 0, 12]).distinct()[0]) == 2  # only the answers needed


def test_word_pieces_with_spaces_fall_back_to_the_plain_path():
    vec = TfidfVectorizer(analyzer=WordNgrams(2), dtype=np.float32).fit([["a", "b"], ["a b"], ["c"]])
    pieces = [("a b",), ("a", "b"), ("c",)]
    got = vec.analyzer.piece_counts(pieces, np.array([0, 1, 2, 0]), np.array([1, 1, 2]), vec.vocabulary_)
    expected = vec.transform([["a b"], ["a", "b"], ["c", "a b"]])
    assert abs(tfidf_transform(vec, got) - expected).max() == 0 and expected.nnz == 6
