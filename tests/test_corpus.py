"""The labelled corpus: schema, counts per language and theme, variety."""

import re
import subprocess
import sys

import pandas as pd
import pytest
from conftest import CORPUS, ROOT, SAMPLE

from textmine.codebook import load_codebook

CHECKER = ROOT.parent / "shared" / "tools" / "corpus_check.py"


def test_schema_and_size(corpus: pd.DataFrame):
    assert list(corpus.columns) == ["id", "lang", "text", "labels"]
    assert corpus["id"].is_unique
    assert len(corpus) >= 2400
    counts = corpus["lang"].value_counts()
    assert set(counts.index) == {"fi", "sv", "en"}
    assert (counts >= 800).all(), counts.to_dict()


def test_every_label_is_known_and_every_theme_is_well_covered(corpus: pd.DataFrame):
    ids = load_codebook().ids
    exploded = corpus.assign(label=corpus["labels"].str.split("|")).explode("label")
    exploded = exploded[exploded["label"].fillna("") != ""]
    assert set(exploded["label"]) <= set(ids), set(exploded["label"]) - set(ids)
    table = pd.crosstab(exploded["label"], exploded["lang"]).reindex(ids, fill_value=0)
    assert (table.sum(axis=1) >= 150).all(), table.sum(axis=1).to_dict()
    assert (table >= 40).all().all(), table.to_dict()


def test_praise_only_and_neutral_shares(corpus: pd.DataFrame):
    praise_only = (corpus["labels"] == "praise").mean()
    neutral = (corpus["labels"] == "").mean()
    assert 0.07 <= praise_only <= 0.2
    assert 0.03 <= neutral <= 0.1


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def test_no_duplicate_texts_and_none_from_the_sample_survey(corpus: pd.DataFrame):
    norm = corpus["text"].map(_norm)
    assert not norm.duplicated().any(), corpus.loc[norm.duplicated(), "text"].head().tolist()
    sample = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    sample_texts = {_norm(t) for t in sample["improvement"] if len(_norm(t)) > 3}
    assert not sample_texts & set(norm)


@pytest.mark.skipif(not CHECKER.exists(), reason="shared corpus checker not beside the repository")
def test_shared_corpus_check_passes():
    run = subprocess.run([sys.executable, str(CHECKER), str(CORPUS), "--against", str(SAMPLE)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:]
    assert "variety problems: 0 " in run.stdout or "keep under 2%" in run.stdout


def test_datasheet_counts_are_current():
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "datasheet.py"), "--check"], capture_output=True, text=True)
    assert run.returncode == 0, "data/README.md counts are stale: run python scripts/datasheet.py"


def test_blind_reannotations_agree_with_the_corpus_labels(corpus: pd.DataFrame):
    sys.path.insert(0, str(ROOT / "scripts"))
    from agreement import OTHERS, agreement

    first_round, later_a, later_b = (pd.read_csv(path, dtype=str, keep_default_na=False) for path in OTHERS)
    for other, size in ((first_round, 300), (later_a, 450), (later_b, 450)):
        result = agreement(corpus, other, load_codebook().ids)
        assert result["n"] == len(other) == size
        # measured: 0.959 / 0.957 (first round), 0.969 / 0.970 and 0.966 / 0.965 (later rounds)
        assert result["micro_f1"] > 0.9 and result["macro_f1"] > 0.9
        assert set(result["per_language"]) == {"fi", "sv", "en"}
    assert list(later_a["id"]) == list(later_b["id"])  # the two later annotators labelled the same answers
    with pytest.raises(SystemExit, match="ids not in the corpus: \\['no_such_id'\\]"):
        agreement(corpus, pd.DataFrame({"id": ["no_such_id"], "labels": ["fees"]}), load_codebook().ids)


def test_out_of_fold_labels_score_unseen_answers(corpus: pd.DataFrame):
    sys.path.insert(0, str(ROOT / "scripts"))
    from agreement import agreement, out_of_fold_labels

    themes = load_codebook().ids
    part = corpus.sample(600, random_state=0).reset_index(drop=True)
    oof = out_of_fold_labels(part, themes, folds=3)
    assert list(oof["id"]) == list(part["id"])
    assert {t for labels in oof["labels"] for t in labels.split("|") if t} <= set(themes)
    result = agreement(part, oof, themes)
    # out-of-fold on 400 training answers: far from the labels' 0.96, far above chance
    assert 0.4 < result["micro_f1"] < 0.95
