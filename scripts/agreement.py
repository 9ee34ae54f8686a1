#!/usr/bin/env python3
"""Inter-annotator agreement: the corpus labels against an independent blind re-annotation.

Re-annotations, each made blind (from the codebook and the labelling guidelines alone, without
seeing the corpus labels, any model or the other answers):

- ``blind_reannotation.csv``: 300 random answers of the first round (100 per language);
- ``blind_reannotation_later_a.csv`` and ``..._b.csv``: 450 random answers of the later rounds
  (150 per language), each labelled by two annotators independently of each other.

The agreement with the corpus labels, scored as if the re-annotation were a model's predictions,
is the level of consistency a model can hope to learn from these labels; the two later
annotators are also scored against each other. Measured with the same functions as
``textmine evaluate``. With ``--with-model``, the model's out-of-fold predictions (5-fold
cross-validation of the shipped settings on the corpus) are scored on the same answers, against
the corpus labels and against each re-annotation.

Usage: python scripts/agreement.py [--other PATH] [--with-model] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.model_selection import KFold

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textmine._config import load_config  # noqa: E402
from textmine.classifier import ThemeClassifier  # noqa: E402
from textmine.codebook import load_codebook  # noqa: E402
from textmine.evaluate import format_metrics, metrics  # noqa: E402
from textmine.labels import label_matrix  # noqa: E402
from textmine.train import _fold_predictions, apply_scaling_rule  # noqa: E402

CORPUS = ROOT / "data" / "train" / "answers.csv"
REVIEW = ROOT / "data" / "train" / "review"
OTHERS = [REVIEW / "blind_reannotation.csv", REVIEW / "blind_reannotation_later_a.csv", REVIEW / "blind_reannotation_later_b.csv"]
CODEBOOK = ROOT / "data" / "codebook.yaml"


def agreement(corpus: pd.DataFrame, other: pd.DataFrame, themes: list[str]) -> dict:
    """Metrics of ``other``'s labels scored against the corpus labels of the same ids."""
    merged = other.merge(corpus, on="id", how="left", suffixes=("_other", ""), validate="one_to_one")
    missing = merged.loc[merged["text"].isna(), "id"].tolist()
    if missing:
        raise SystemExit(f"Error: ids not in the corpus: {missing[:5]}")
    truth = label_matrix(merged["labels"], themes)
    given = label_matrix(merged["labels_other"], themes)
    return metrics(truth, given, themes=themes, langs=merged["lang"].tolist())


def out_of_fold_labels(corpus: pd.DataFrame, themes: list[str], *, folds: int = 5) -> pd.DataFrame:
    """id,labels of the model's predictions for every corpus answer, each made by a model
    trained on the other folds (the shipped settings, the large-data rule included)."""
    cfg = load_config()
    apply_scaling_rule(cfg, len(corpus))
    Y = label_matrix(corpus["labels"], themes)
    prep = ThemeClassifier(themes=themes, config=cfg).preprocessor().transform(corpus["text"].tolist())
    splits = KFold(folds, shuffle=True, random_state=cfg["model"]["seed"]).split(np.arange(len(corpus)))
    pred = np.zeros_like(Y)
    tasks = (joblib.delayed(_fold_predictions)(cfg, themes, prep, Y, tr, te) for tr, te in splits)
    for test, fold_pred in joblib.Parallel(n_jobs=2)(tasks):
        pred[test] = fold_pred
    labels = ["|".join(t for t, on in zip(themes, row) if on) for row in pred]
    return pd.DataFrame({"id": corpus["id"], "labels": labels})


def with_texts(other: pd.DataFrame, corpus: pd.DataFrame) -> pd.DataFrame:
    """A re-annotation with the corpus texts and languages beside it, to score others against it."""
    return other.merge(corpus[["id", "text", "lang"]], on="id")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--other", type=Path, action="append", help="a re-annotation (id,labels); default: all of them")
    ap.add_argument("--with-model", action="store_true",
                    help="also score the model's out-of-fold predictions on the same answers (about a minute)")
    ap.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    args = ap.parse_args(argv)
    corpus = pd.read_csv(CORPUS, dtype=str, keep_default_na=False)
    themes = load_codebook(CODEBOOK).ids
    others = {path.name: pd.read_csv(path, dtype=str, keep_default_na=False) for path in args.other or OTHERS}
    results = {f"{name} vs corpus": agreement(corpus, other, themes) for name, other in others.items()}
    later = [name for name in others if name.startswith("blind_reannotation_later_")]
    if len(later) == 2:  # the two later annotators against each other (the first as the reference)
        first, second = (others[name] for name in later)
        results[f"{later[1]} vs {later[0]}"] = agreement(with_texts(first, corpus), second, themes)
    if args.with_model:
        model = out_of_fold_labels(corpus, themes).set_index("id")
        for name, other in others.items():
            picked = model.loc[other["id"]].reset_index()
            results[f"model (out of fold) vs corpus, on {name}'s answers"] = agreement(corpus, picked, themes)
            results[f"model (out of fold) vs {name}"] = agreement(with_texts(other, corpus), picked, themes)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for title, result in results.items():
        print(f"{title} ({result['n']} answers):\n")
        print(format_metrics(result, themes) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
