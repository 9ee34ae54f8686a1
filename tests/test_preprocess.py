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
    assert clone._docs == {} and clone.transform(["Nopeammin kiitos"]).tokens[0] == first.tokens[0]


def test_reading_a_prefix_for_language_identification_costs_nothing(corpus):
    texts = corpus["text"].tolist()
    prefix = Preprocessor().identify(texts)
    whole = Preprocessor(langid_max_chars=100_000).identify(texts)
    assert prefix == whole
    assert sum(a == b for a, b in zip(prefix, corpus["lang"])) / len(texts) > 0.99
