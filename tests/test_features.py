"""The fast feature paths give exactly scikit-learn's TF-IDF matrices."""

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from textmine.features import CharWbNgrams, WordNgrams, block_features
from textmine.preprocess import Preprocessor

DOCS = ["Hakemuksen käsittely kestää liian kauan", "Handläggningen tog åtta månader", "The application took months",
        "käsittely käsittely käsittely", "", "!!!", "no answer from the phone line", "ei vastausta puhelimessa",
        "The application took months, the application was lost"]


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
