#!/usr/bin/env python3
"""Inter-annotator agreement: the corpus labels against an independent blind re-annotation.

A second annotator labelled a random sample of the corpus (100 answers per language,
``data/train/review/blind_reannotation.csv``) from the codebook alone, without seeing the
corpus labels, any model or the other answers. The agreement between the two, scored as if
one were a model's predictions, is the level of consistency a model can hope to learn from
these labels; it is measured with the same functions as ``textmine evaluate``.

Usage: python scripts/agreement.py [--other PATH] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textmine.codebook import load_codebook  # noqa: E402
from textmine.evaluate import format_metrics, metrics  # noqa: E402
from textmine.labels import label_matrix  # noqa: E402

CORPUS = ROOT / "data" / "train" / "answers.csv"
OTHER = ROOT / "data" / "train" / "review" / "blind_reannotation.csv"
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--other", type=Path, default=OTHER, help="the re-annotation: id,labels")
    ap.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    args = ap.parse_args(argv)
    corpus = pd.read_csv(CORPUS, dtype=str, keep_default_na=False)
    other = pd.read_csv(args.other, dtype=str, keep_default_na=False)
    themes = load_codebook(CODEBOOK).ids
    result = agreement(corpus, other, themes)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{len(other)} answers re-annotated blind ({args.other.name}) against the corpus labels:\n")
        print(format_metrics(result, themes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
