from pathlib import Path

import pytest

from textmine.codebook import LANGUAGES, load_codebook
from textmine.errors import TextmineError

IDS = ["processing_time", "process_information", "reachability", "appointments", "e_service", "instructions",
       "staff_conduct", "fairness", "language_service", "fees", "praise"]


def test_shipped_codebook_has_the_fixed_ids_in_three_languages():
    book = load_codebook()
    assert book.version == 1
    assert book.ids == IDS
    assert len(set(book.ids)) == len(book.ids)
    for theme in book.themes:
        assert all(theme.label[lg] for lg in LANGUAGES)
        assert theme.description
        assert all(theme.seeds.get(lg) for lg in LANGUAGES)
    assert len({t.label["fi"] for t in book.themes}) == len(IDS)


def test_labels_and_hash_are_stable():
    book = load_codebook()
    assert book.labels("fi")["processing_time"] == "Käsittelyn nopeus"
    assert book.hash == load_codebook().hash and len(book.hash) == 64


def test_every_problem_is_listed_at_once(tmp_path: Path):
    bad = tmp_path / "cb.yaml"
    bad.write_text(
        "version: one\nthemes:\n  - id: a\n    label: {fi: A, sv: A}\n  - id: a\n    label: {fi: A, sv: A, en: A}\n"
        "  - id: Bad-Id\n    label: {en: B}\n", encoding="utf-8")
    with pytest.raises(TextmineError) as err:
        load_codebook(bad)
    msg = str(err.value)
    assert err.value.code == "E031"
    assert "'version' must be a whole number" in msg
    assert "theme 'a' has no label in en" in msg
    assert "theme id 'a' appears twice" in msg
    assert "theme 3 has id 'Bad-Id'" in msg


def test_missing_codebook(tmp_path: Path):
    with pytest.raises(TextmineError, match=r"Codebook not found: .*nope.yaml"):
        load_codebook(tmp_path / "nope.yaml")
