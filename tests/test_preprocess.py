import numpy as np
import pytest

from textmine.preprocess import Preprocessor, fold


def test_fold_strips_diacritics_and_case():
    assert fold("Käsittely ÅÄÖ") == "kasittely aao"


def test_languages_lemmas_and_placeholders():
    pre = Preprocessor()
    out = pre.transform([
        "Hakemuksen käsittely kestää liian kauan, soita 040 123 4567",
        "Handläggningen tog åtta månader och ingen svarade",
        "The applications were processed slowly",
        "Das ist ein sehr langer deutscher Satz über die Behörde und ihre Arbeit",
        "-", None, "",
    ])
    assert out.lang == ["fi", "sv", "en", "other", "", "", ""]
    assert "hakemus" in out.tokens[0] and "kasittely" in out.tokens[0]
    assert "pii_phone" in out.tokens[0] and "4567" not in out.folded[0]
    assert "handlaggning" in out.tokens[1] and "ingen" in out.tokens[1]
    assert "application" in out.tokens[2] and "process" in out.tokens[2]
    assert out.tokens[5] == [] and out.folded[6] == ""


def test_unaccented_spelling_meets_accented():
    pre = Preprocessor()
    a, b = pre.transform(["käsittely kestää", "kasittely kestaa"]).folded
    assert a == b


def test_same_result_for_repeated_texts_and_cache_not_pickled():
    import pickle

    pre = Preprocessor()
    first = pre.transform(["Nopeammin kiitos", "Nopeammin kiitos"])
    assert first.tokens[0] == first.tokens[1]
    clone = pickle.loads(pickle.dumps(pre))
    assert clone._chunks == {} and clone._folds == {} and clone.transform(["Nopeammin kiitos"]).tokens[0] == first.tokens[0]


def test_reading_a_prefix_for_language_identification_costs_nothing(corpus):
    texts = corpus["text"].tolist()
    prefix = Preprocessor().identify(texts)
    whole = Preprocessor(langid_max_chars=100_000).identify(texts)
    assert prefix == whole
    assert sum(a == b for a, b in zip(prefix, corpus["lang"])) / len(texts) > 0.99


EDGE_TEXTS = ["", "   ", "HELLO WORLD THIS IS LOUD", "ääkkösiä 😀 \u200b", "Tack!", "ok", "x" * 500, "日本語のテキスト",
              "Привет мир", "a\tb\nc  d\xa0e\u2028f", "don't can't won't", "U.S.A. e.g. t.ex. esim. ym.",
              "http://migri.fi/x?y=1 www.migri.fi", "mail a@b.fi :) :-( <3", "«quoted» “curly” —dash—",
              "ΣΊΣΥΦΟΣ ΟΔΟΣ", "ﬁnal ﬀ ½ ²", "a\u0308o\u0301", "İstanbul", "ẞ ß", "\u212b"]


def test_batched_language_scores_equal_py3langid(corpus):
    import numpy as np

    from textmine.preprocess import _identifier, _langid_scores

    texts = corpus["text"].tolist()[::7] + EDGE_TEXTS
    ident = _identifier()
    one_by_one = np.array([ident._decide(t) for t in texts])
    batched = _langid_scores(texts)
    assert batched.shape == one_by_one.shape
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)
    assert (batched.argmax(axis=1) == one_by_one.argmax(axis=1)).all()


def test_fold_per_character_equals_whole_text_normalisation(corpus):
    import unicodedata

    def reference(text: str) -> str:
        decomposed = unicodedata.normalize("NFKD", text.lower())
        return "".join(ch for ch in decomposed if not unicodedata.combining(ch))

    for text in corpus["text"].tolist()[::5] + EDGE_TEXTS:
        assert fold(text) == reference(text), text


def test_tokens_per_chunk_equal_spacy_on_whole_texts(corpus):
    """Each distinct whitespace-free chunk is tokenised once: the tokens must be those spaCy
    gives for the whole text (punctuation and spaces dropped, placeholders kept whole)."""
    from textmine.preprocess import _pipeline, _placeholder_tokens

    pre = Preprocessor()
    texts = corpus["text"].tolist()[::9] + EDGE_TEXTS
    out = pre.transform(texts)
    for text, lang, redacted, tokens in zip(texts, out.lang, out.redacted, out.tokens):
        nlp = _pipeline(lang or "other")
        doc = nlp.tokenizer(_placeholder_tokens(redacted))
        expected = [pre._lemma(lang, t.text) for t in doc if not (t.is_punct or t.is_space)]
        assert tokens == [e for e in expected if e], text


# -- lemma dictionaries cached as tries ------------------------------------------------
def _use_cache_dir(monkeypatch, tmp_path, value: str) -> None:
    config = tmp_path / f"config_{len(list(tmp_path.glob('config_*')))}.toml"  # configs are cached by path
    config.write_text(f'[preprocess]\nlemma_cache_dir = "{value}"\n', encoding="utf-8")
    monkeypatch.setenv("TEXTMINE_CONFIG", str(config))


def test_lemma_cache_dir_setting(monkeypatch, tmp_path):
    import simplemma

    from textmine.preprocess import lemma_cache_dir

    _use_cache_dir(monkeypatch, tmp_path, str(tmp_path / "lemmas"))
    assert lemma_cache_dir() == tmp_path / "lemmas" / f"simplemma-{simplemma.__version__}"
    assert lemma_cache_dir().is_dir()
    _use_cache_dir(monkeypatch, tmp_path, "off")
    assert lemma_cache_dir() is None
    (tmp_path / "a_file").write_text("not a directory")
    _use_cache_dir(monkeypatch, tmp_path, str(tmp_path / "a_file"))
    assert lemma_cache_dir() is None  # cannot be created: lemmas come from the in-memory dictionaries


@pytest.mark.slow
def test_dictionary_cache_gives_simplemmas_lemmas_and_rebuilds_a_damaged_file(tmp_path, corpus):
    import simplemma

    from textmine.preprocess import _DictionaryCache

    built = _DictionaryCache(tmp_path).get_dictionary("sv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sv.marshal"]  # no temporary file left
    loaded = _DictionaryCache(tmp_path).get_dictionary("sv")
    plain = simplemma.strategies.dictionaries.DefaultDictionaryFactory().get_dictionary("sv")
    assert len(built) == len(loaded) == len(plain)
    words = {w.lower() for text in corpus.loc[corpus["lang"] == "sv", "text"] for w in text.split()}
    words |= {"handläggningen", "HANDLÄGGNINGEN", "bilagorna", "tjänsteställena", "xqzv", "ö", "100"}
    for w in sorted(words):
        assert built.get(w) == loaded.get(w) == plain.get(w), w
    lemmatizer = simplemma.Lemmatizer(
        lemmatization_strategy=simplemma.strategies.DefaultStrategy(dictionary_factory=_DictionaryCache(tmp_path))
    )
    assert [lemmatizer.lemmatize(w, "sv") for w in sorted(words)] == [
        simplemma.lemmatize(w, lang="sv") for w in sorted(words)
    ]
    cached = tmp_path / "sv.marshal"
    data = cached.read_bytes()
    cached.write_bytes(data[:-10] + b"0123456789")  # damaged: the checksum no longer matches
    assert _DictionaryCache(tmp_path).get_dictionary("sv").get("bilagorna") == plain.get("bilagorna")
    assert cached.read_bytes() == data  # rebuilt


def test_folded_text_is_built_word_by_word_exactly():
    from textmine.redact import redact_text

    texts = ["ΟΔΟΣ ΟΔΟΣ", "aΣ b", "x ¨ y", "¨", " ", "a\u2003b\u00a0c", "İstanbul", "Käsittely  KESTÄÄ\tliian\nkauan",
             "soita 040 123 4567 <EMAIL>", "ﬁnal ① ǅ", ""]
    pre = Preprocessor()
    for _ in range(2):  # the second time every word comes from the cache
        assert pre.transform(texts).folded == [" ".join(fold(redact_text(t)).split()) for t in texts]


def test_ragged_take_and_taking_answers():
    from textmine.preprocess import ragged_take

    assert ragged_take(np.array([5, 0, 2]), np.array([2, 0, 3])).tolist() == [5, 6, 2, 3, 4]
    assert ragged_take(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)).tolist() == []
    texts = ["Käsittely kestää", "", "Kiitos!", "Käsittely kestää", "Soita <EMAIL>"]
    out = Preprocessor().transform(texts)
    assert len(out.words) == 4 and out.rows.tolist() == [0, 1, 2, 0, 3]  # equal answers are done once
    part = out.take([4, 0, 4])
    assert part.tokens == [out.tokens[4], out.tokens[0], out.tokens[4]] and part.lang == [out.lang[i] for i in (4, 0, 4)]
    assert part.folded == [out.folded[i] for i in (4, 0, 4)] and part.redacted[0] == "Soita <EMAIL>"
    words, rows = part.distinct()
    assert len(words) == 2 and rows.tolist() == [1, 0, 1]
    assert words.doc_tokens == [out.tokens[0], out.tokens[4]]
    empty = Preprocessor().transform([])
    assert len(empty) == 0 and empty.tokens == [] and empty.folded == []
