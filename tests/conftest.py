"""Shared fixtures: paths, a small trained model, the sample survey."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from textmine._config import load_config

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
CORPUS = DATA / "train" / "answers.csv"
SAMPLE = DATA / "sample_survey.csv"
MESSY = Path(__file__).parent / "data" / "messy"


def small_config() -> dict:
    """Defaults with fewer folds, for fast training in tests."""
    cfg = load_config()
    cfg["model"] = {**cfg["model"], "cv_folds": 2, "inner_folds": 2}
    return cfg


@pytest.fixture(scope="session")
def corpus() -> pd.DataFrame:
    return pd.read_csv(CORPUS, dtype=str, keep_default_na=False)


@pytest.fixture(scope="session")
def small_corpus(corpus: pd.DataFrame) -> pd.DataFrame:
    """About 600 answers from every language and theme."""
    parts = [corpus[corpus["lang"] == lg].sample(200, random_state=0) for lg in ("fi", "sv", "en")]
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="session")
def small_model(small_corpus: pd.DataFrame):
    from textmine.train import train

    return train(small_corpus, codebook=DATA / "codebook.yaml", config=small_config(), cross_validation=False)


@pytest.fixture(scope="session")
def default_model():
    from textmine import load_model

    return load_model()


@pytest.fixture(scope="session")
def sample() -> pd.DataFrame:
    from textmine.files import read_table

    return read_table(SAMPLE)
