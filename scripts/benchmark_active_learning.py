#!/usr/bin/env python3
"""Simulate the review loop: does reviewing textmine's picks beat reviewing random answers?

On data/train/answers.csv: a fixed, seeded 25% of the answers is the test split. Of the
rest a seeded random 20% starts as "labelled", the remainder is the "pool". In each
round, ``--batch`` answers move from the pool to the labelled set (their corpus labels
play the reviewer's corrections), chosen

* by textmine: ``select_for_review`` on the pool as classified by the model trained on
  that strategy's current labelled set, and
* at random (seeded),

then each strategy's model is retrained and scored on the test split (micro/macro F1).
Models use the default settings with ``inner_folds = 2`` and no cross-validation, for speed.

Usage: python scripts/benchmark_active_learning.py [--rounds 6] [--batch 100] [--seed 0]
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import textmine  # noqa: E402
from textmine._config import load_config  # noqa: E402
from textmine.labels import label_matrix  # noqa: E402
from textmine.review import select_for_review  # noqa: E402

TEST_SHARE = 0.25
START_SHARE = 0.20


def fast_config() -> dict[str, Any]:
    """The defaults with few folds (training only; no cross-validation is run)."""
    cfg = copy.deepcopy(load_config())
    cfg["model"] = {**cfg["model"], "cv_folds": 2, "inner_folds": 2}
    return cfg


def fit(corpus: pd.DataFrame, rows: list[int], codebook: Path, cfg: dict[str, Any]) -> Any:
    return textmine.train(corpus.loc[rows].reset_index(drop=True), codebook=codebook, cross_validation=False, config=cfg)


def score(model: Any, test: pd.DataFrame) -> tuple[float, float]:
    result = textmine.evaluate(model, test)
    return float(result["micro_f1"]), float(result["macro_f1"])


def splits(n: int, seed: int) -> tuple[list[int], list[int], list[int]]:
    """(test, labelled, pool) row positions: fixed for a seed, whatever the number of rounds."""
    order = np.random.default_rng(seed).permutation(n)
    n_test = round(TEST_SHARE * n)
    test, rest = order[:n_test], order[n_test:]
    rest = np.random.default_rng(seed + 1).permutation(rest)
    n_start = round(START_SHARE * len(rest))
    return sorted(test.tolist()), sorted(rest[:n_start].tolist()), sorted(rest[n_start:].tolist())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=str(ROOT / "data" / "train" / "answers.csv"))
    ap.add_argument("--codebook", default=str(ROOT / "data" / "codebook.yaml"))
    args = ap.parse_args()
    started = time.perf_counter()

    corpus = textmine.read_table(args.data)
    corpus = corpus[corpus["text"].fillna("").str.strip() != ""].reset_index(drop=True)
    test_rows, start_rows, pool_rows = splits(len(corpus), args.seed)
    test = corpus.loc[test_rows, ["id", "text", "labels"]].reset_index(drop=True)
    codebook, cfg = Path(args.codebook), fast_config()
    pick_rng = np.random.default_rng(args.seed + 2)
    print(f"{len(corpus)} answers: test {len(test)}, labelled at start {len(start_rows)}, pool {len(pool_rows)}; "
          f"{args.rounds} rounds of {args.batch}, seed {args.seed}", flush=True)

    model0 = fit(corpus, start_rows, codebook, cfg)
    first = score(model0, test)
    labelled = {"textmine": list(start_rows), "random": list(start_rows)}
    pool = {"textmine": list(pool_rows), "random": list(pool_rows)}
    models = {"textmine": model0, "random": model0}
    history = {"textmine": [first], "random": [first]}

    header = f"{'round':>5}  {'labelled':>8}  {'textmine micro':>14}  {'textmine macro':>14}  {'random micro':>12}  {'random macro':>12}"
    print(header)
    print("-" * len(header))

    def row(r: int) -> None:
        (tmi, tma), (rmi, rma) = history["textmine"][r], history["random"][r]
        print(f"{r:>5}  {len(start_rows) + r * args.batch:>8}  {tmi:>14.3f}  {tma:>14.3f}  {rmi:>12.3f}  {rma:>12.3f}", flush=True)

    row(0)
    for r in range(1, args.rounds + 1):
        model = models["textmine"]
        tagged = textmine.classify(corpus.loc[pool["textmine"], ["text"]], model, text_col="text")
        chosen = select_for_review(tagged, themes=model.themes_, thresholds=model.thresholds_, budget=args.batch)
        picked = {"textmine": [int(i) for i in chosen.index]}
        picked["random"] = sorted(pick_rng.choice(pool["random"], size=min(args.batch, len(pool["random"])), replace=False).tolist())
        for name in ("textmine", "random"):
            taken = set(picked[name])
            labelled[name] += picked[name]
            pool[name] = [i for i in pool[name] if i not in taken]
            models[name] = fit(corpus, labelled[name], codebook, cfg)
            history[name].append(score(models[name], test))
        row(r)

    target = history["random"][-1][0]
    reached = next((r for r, (micro, _) in enumerate(history["textmine"]) if micro >= target), None)
    print()
    if reached is None:
        print(f"textmine did not reach random's final micro-F1 {target:.3f} within {args.rounds * args.batch} "
              f"reviewed answers: not reached")
    else:
        print(f"textmine reached random's final micro-F1 {target:.3f} after {reached * args.batch} reviewed answers "
              f"(random: {args.rounds * args.batch})")
    themes = list(models["textmine"].themes_)
    counts = {name: label_matrix(corpus.loc[labelled[name], "labels"], themes).sum(axis=0)
              for name in labelled}
    print("\npositive examples per theme in the final labelled sets (textmine / random):")
    print("  " + ", ".join(f"{t} {a}/{b}" for t, a, b in zip(themes, counts["textmine"], counts["random"])))
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
