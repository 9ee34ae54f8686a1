"""Theme discovery: a planted topic the codebook lacks (parking) is found as one topic."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

import textmine
from textmine._config import setting
from textmine.codebook import LANGUAGES
from textmine.discover import Discovery, discover
from textmine.errors import TextmineError
from textmine.files import read_table

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample_survey.csv"
EMAIL = "matti.meikalainen@example.fi"
# Hand-written complaints about parking at a service point: no codebook theme covers them.
PARKING = [
    "Palvelupisteen parkkipaikat aina täynnä, jouduin kiertämään korttelia puoli tuntia.",
    "Helsingissä ei ole yhtään vapaata parkkipaikkaa lähellä, myöhästyin melkein ajastani.",
    "Parkkipaikkoja pitäisi olla enemmän, nyt autolle ei löydy tilaa ollenkaan.",
    "Sain parkkisakon kun en löytänyt vapaata parkkipaikkaa toimiston edestä.",
    "Parkkeeraus Vaasan toimipisteellä on mahdotonta, parkkihalli on täynnä joka aamu.",
    "Pysäköinti on ihan kamalaa, kaikki parkkiruudut varattu ja maksullinen parkki on kallis.",
    "Toivoisin asiakkaille omia parkkipaikkoja, lasten kanssa on raskasta kävellä kaukaa.",
    f"Parkkipaikka puuttuu kokonaan! Kirjoittakaa jos tähän tulee muutos: {EMAIL}",
    "Invapaikkoja ei ollut parkkialueella, pyörätuolin kanssa tosi hankalaa.",
    "Parkeringen vid servicestället i Vasa är en katastrof, inga lediga platser.",
    "Det finns ingen parkering nära kontoret i Helsingfors, jag fick böter.",
    "Fler parkeringsplatser behövs, jag körde runt i trettio minuter.",
    "Parkeringsplatsen utanför kontoret är alltid full på morgonen.",
    "Jag fick parkeringsböter medan jag satt och väntade på min tur.",
    "Svårt att hitta parkering, kunde ni ordna parkeringsplatser för kunder?",
    "Parkeringen kostar alldeles för mycket och automaten tar inte kort.",
    "Inga parkeringsplatser för rörelsehindrade vid ingången, det borde åtgärdas.",
    "No parking anywhere near the Helsinki service point, got a fine.",
    "The parking lot at your office is always full, I circled for 40 minutes.",
    "Please add more parking spaces for customers, it is impossible to find a spot.",
    "Parking is terrible at the Espoo office, I nearly missed my slot because of it.",
    "Paid parking only, and the parking machine didn't accept my card.",
    "There is no disabled parking close to the entrance of your building.",
    "I got a parking ticket while waiting inside, very frustrating.",
    "The parking garage next to the office was full again, provide customer parking please.",
]
# Folded lemmas that mean parking ("parking" is lemmatised to "park").
PARKING_WORDS = {"park", "parking", "parkki", "parkkipaikka", "parkering", "parkeringsplats", "pysakointi"}
STOP_WORDS = {"ja", "ei", "on", "och", "att", "inte", "the", "and", "is", "not"}


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    """~60 ordinary answers from the sample survey plus the planted parking answers."""
    answers = read_table(SAMPLE)["improvement"].dropna()
    ordinary = answers[answers.str.len() > 15].head(60).tolist()
    df = pd.DataFrame({"answer": ordinary + PARKING, "planted": [False] * len(ordinary) + [True] * len(PARKING)})
    df.index = pd.RangeIndex(1000, 1000 + len(df))  # discover must keep the caller's index
    return df


@pytest.fixture(scope="module")
def tagged(survey: pd.DataFrame, default_model) -> pd.DataFrame:
    return textmine.classify(survey, default_model, text_col="answer")


@pytest.fixture(scope="module")
def found(tagged: pd.DataFrame, default_model) -> Discovery:
    # the model tags some parking complaints with a theme (e.g. appointments): cluster all answers
    return discover(tagged, default_model, text_col="answer", all_answers=True)


def _words(terms: str) -> set[str]:
    return {w for term in terms.split(", ") for w in term.split()}


def test_planted_topic_is_found(found: Discovery, survey: pd.DataFrame) -> None:
    planted = survey["planted"]
    parking_topics = found.topics[found.topics["top_terms"].map(lambda t: bool(_words(t) & PARKING_WORDS))]
    assert not parking_topics.empty, found.topics["top_terms"].tolist()
    counts = {int(t): int(((found.assignments == t) & planted).sum()) for t in parking_topics["topic"]}
    best = max(counts, key=lambda t: counts[t])
    members = found.assignments == best
    others = int((members & ~planted).sum())
    assert counts[best] >= 0.7 * planted.sum(), (counts, found.topics[["topic", "size", "top_terms"]])
    assert others <= 0.25 * int(members.sum()), found.answers[found.answers["topic"] == best]
    row = found.topics.set_index("topic").loc[best]
    for lg in LANGUAGES:  # the topic is written in all three languages, each with its own terms
        assert _words(row[f"top_terms_{lg}"]) & PARKING_WORDS, (lg, row[f"top_terms_{lg}"])


def test_topics_table_and_assignments(found: Discovery, tagged: pd.DataFrame) -> None:
    topics = found.topics
    assert list(topics.columns) == ["topic", "size", "share", "top_terms", "top_terms_fi", "top_terms_sv",
                                    "top_terms_en", "examples"]
    assert topics["topic"].tolist() == list(range(1, len(topics) + 1))
    assert topics["size"].is_monotonic_decreasing and (topics["size"] > 0).all()
    assert found.assignments.index.equals(tagged.index)
    assert set(found.assignments) <= {-1, *topics["topic"]}
    counts = found.assignments[found.assignments > 0].value_counts()
    assert counts.sort_index().tolist() == topics["size"].tolist()
    assert topics["share"].sum() == pytest.approx((found.assignments > 0).sum() / len(found.answers), abs=1e-3)
    for terms in topics["top_terms"]:
        listed = terms.split(", ")
        assert 1 <= len(listed) <= 8
        assert not _words(terms) & STOP_WORDS
        assert not any(w.startswith("pii_") for w in _words(terms))
    for examples in topics["examples"]:
        assert 1 <= len(examples.split(" || ")) <= 3
    # the automatic choice of k is recorded
    chosen = found.selection[found.selection["chosen"]]
    assert len(chosen) == 1 and int(chosen["k"].iloc[0]) >= len(topics)
    assert int(chosen["k"].iloc[0]) <= len(found.answers) // setting("discover", "answers_per_topic")


def test_deterministic(tagged: pd.DataFrame, found: Discovery, default_model) -> None:
    again = discover(tagged, default_model, text_col="answer", all_answers=True)
    pd.testing.assert_frame_equal(again.topics, found.topics)
    pd.testing.assert_series_equal(again.assignments, found.assignments)
    pd.testing.assert_frame_equal(again.answers, found.answers)


def test_default_clusters_only_answers_without_theme(tagged: pd.DataFrame, survey: pd.DataFrame, default_model) -> None:
    frame = tagged.copy()
    unthemed = survey["planted"] | (survey.index < 1010)
    frame["themes"] = ["" if u else "processing_time" for u in unthemed]
    frame.loc[frame.index[:2], "lang"] = ""  # empty answers are never clustered
    result = discover(frame, default_model, text_col="answer", n_topics=2)
    clustered = result.assignments[result.assignments != -1].index
    assert set(clustered) <= set(frame.index[unthemed & (frame["lang"] != "")])
    assert len(result.answers) == int((unthemed & (frame["lang"] != "")).sum())
    assert len(result.topics) <= 2
    assert len(result.selection) == 1 and bool(result.selection["chosen"].iloc[0])


def test_suggestions(found: Discovery) -> None:
    out = found.suggestions(min_size=5)
    assert out["version"] == 1 and "review" in out["note"].lower()
    big = found.topics[found.topics["size"] >= 5]
    assert [t["id"] for t in out["themes"]] == [f"new_topic_{t}" for t in big["topic"]]
    for theme in out["themes"]:
        assert set(theme) == {"id", "label", "description", "seeds", "size", "examples"}
        assert set(theme["label"]) == set(LANGUAGES) and all(theme["label"].values())
        assert isinstance(theme["description"], str) and theme["description"]
        assert set(theme["seeds"]) <= set(LANGUAGES)
        assert all(isinstance(s, str) for seeds in theme["seeds"].values() for s in seeds)
        assert theme["size"] >= 5 and 1 <= len(theme["examples"]) <= 3
    assert found.suggestions(min_size=10_000)["themes"] == []
    with pytest.raises(TextmineError) as err:
        found.suggestions(min_size=0)
    assert err.value.code == "E092"


def test_write(found: Discovery, tmp_path: Path) -> None:
    xlsx, suggestions = tmp_path / "out" / "topics.xlsx", tmp_path / "out" / "suggestions.yaml"
    found.write(xlsx, suggestions)
    assert xlsx.is_file() and suggestions.is_file()
    assert sorted(p.name for p in xlsx.parent.iterdir()) == ["suggestions.yaml", "topics.xlsx"]  # no temp files
    sheets = pd.read_excel(xlsx, sheet_name=None)
    assert list(sheets) == ["topics", "answers"]
    assert sheets["topics"]["topic"].tolist() == found.topics["topic"].tolist()
    assert {"text", "lang", "topic"} <= set(sheets["answers"].columns)
    assert len(sheets["answers"]) == len(found.answers)
    text = suggestions.read_text(encoding="utf-8")
    assert yaml.safe_load(text) == found.suggestions()
    assert "ä" in text or "\\x" not in text  # allow_unicode: no escaped characters
    codebook = textmine.load_codebook(suggestions)  # the suggestions read as a codebook
    assert codebook.ids == [t["id"] for t in found.suggestions()["themes"]]


def test_examples_and_outputs_are_redacted(found: Discovery, tmp_path: Path) -> None:
    assert not found.topics.apply(lambda col: col.astype(str).str.contains(EMAIL, regex=False)).any().any()
    assert not found.answers["text"].str.contains(EMAIL, regex=False).any()
    assert found.answers["text"].str.contains("<EMAIL>", regex=False).any()
    assert EMAIL not in yaml.safe_dump(found.suggestions(min_size=1), allow_unicode=True)
    found.write(tmp_path / "t.xlsx", tmp_path / "s.yaml")
    assert EMAIL not in (tmp_path / "s.yaml").read_text(encoding="utf-8")
    sheets = pd.read_excel(tmp_path / "t.xlsx", sheet_name=None)
    assert not any(sheet.astype(str).apply(lambda c: c.str.contains(EMAIL, regex=False)).any().any()
                   for sheet in sheets.values())


def test_too_few_answers(tagged: pd.DataFrame, default_model) -> None:
    with pytest.raises(TextmineError) as err:
        discover(tagged.head(10), default_model, text_col="answer", all_answers=True)
    assert err.value.code == "E090"
    assert "at least 20" in str(err.value) and "--all" in str(err.value)


def test_user_errors(tagged: pd.DataFrame, default_model) -> None:
    with pytest.raises(TextmineError) as err:
        discover(tagged.drop(columns=["themes"]), default_model, text_col="answer")
    assert err.value.code == "E007"
    with pytest.raises(TextmineError) as err:
        discover(tagged, default_model, text_col="answer", all_answers=True, n_topics=0)
    assert err.value.code == "E092"
    nonsense = pd.DataFrame({"answer": [f"zq{i}xv blorp{i}k" for i in range(25)], "lang": "en", "themes": ""})
    with pytest.raises(TextmineError) as err:
        discover(nonsense, default_model, text_col="answer")
    assert err.value.code == "E091"
