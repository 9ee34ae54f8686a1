#!/usr/bin/env python3
"""Simulate the review loop: does reviewing textmine's picks beat reviewing random answers?

On data/train/answers.csv, for each seed: a seeded 25% of the answers is the test split.
Of the rest a seeded random 20% starts as "labelled", the remainder is the "pool". In
each round, ``--batch`` answers move from the pool to the labelled set (their corpus
labels play the reviewer's corrections), chosen

* by textmine: ``select_for_review`` (what ``textmine review`` runs) on the pool as
  classified by the model trained on that strategy's current labelled set, and
* at random (seeded),

then each strategy's model is retrained and scored on the test split (micro/macro F1).
Models use the default settings except ``inner_folds = 2`` (as before, for speed) and are
fitted as ``textmine.train`` fits them (codebook themes, no cross-validation); each answer
is preprocessed once and reused by every model (preprocessing is per answer).

The conclusion is computed: per seed, the number of reviewed answers after which each
strategy first reaches random's final micro-F1 (and macro-F1), then a summary over seeds.

Usage: python scripts/benchmark_active_learning.py [--rounds 6] [--batch 100] [--seeds 0,1,2]
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
from textmine.classifier import ThemeClassifier  # noqa: E402
from textmine.labels import check_labels, label_matrix  # noqa: E402
from textmine.review import select_for_review  # noqa: E402

TEST_SHARE = 0.25
START_SHARE = 0.20
STRATEGIES = ("textmine", "random")


def fast_config() -> dict[str, Any]:
    """The defaults with two inner folds for the thresholds (no cross-validation is run)."""
    cfg = copy.deepcopy(load_config())
    cfg["model"] = {**cfg["model"], "cv_folds": 2, "inner_folds": 2}
    return cfg


class Lab:
    """The corpus, preprocessed once, and models fitted on subsets of it."""

    def __init__(self, corpus: pd.DataFrame, codebook: Path, cfg: dict[str, Any]) -> None:
        self.corpus, self.cfg = corpus, cfg
        self.book = textmine.load_codebook(codebook)
        self.themes = check_labels(corpus, labels_col="labels", sep="|", codebook=self.book,
                                   min_examples=cfg["model"]["min_examples_per_theme"])
        self.Y = label_matrix(corpus["labels"], self.themes)
        self.pre = ThemeClassifier(themes=self.themes, config=cfg).preprocessor()
        self.prep = self.pre.transform(corpus["text"].tolist())

    def fit(self, rows: list[int]) -> Any:
        """What ``textmine.train(corpus.loc[rows], cross_validation=False)`` fits, on cached preprocessing."""
        df = self.corpus.loc[rows]
        check_labels(df, labels_col="labels", sep="|", codebook=self.book,
                     min_examples=self.cfg["model"]["min_examples_per_theme"])
        model = ThemeClassifier(themes=self.themes, config=self.cfg)
        model.fit(self.prep.take(rows), self.Y[rows])
        model.preprocessor_ = self.pre
        return model

    def score(self, model: Any, test: pd.DataFrame) -> tuple[float, float]:
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


def first_reaching(curve: list[float], target: float, batch: int) -> int | None:
    """Reviewed answers after which ``curve`` first reaches ``target`` (None: never)."""
    return next((r * batch for r, value in enumerate(curve) if value >= target), None)


def simulate(lab: Lab, seed: int, rounds: int, batch: int) -> dict[str, Any]:
    corpus = lab.corpus
    test_rows, start_rows, pool_rows = splits(len(corpus), seed)
    test = corpus.loc[test_rows, ["id", "text", "labels"]].reset_index(drop=True)
    pick_rng = np.random.default_rng(seed + 2)
    print(f"\n== seed {seed}: test {len(test)}, labelled at start {len(start_rows)}, pool {len(pool_rows)}; "
          f"{rounds} rounds of {batch}", flush=True)

    model0 = lab.fit(start_rows)
    first = lab.score(model0, test)
    labelled = {name: list(start_rows) for name in STRATEGIES}
    pool = {name: list(pool_rows) for name in STRATEGIES}
    models = {name: model0 for name in STRATEGIES}
    history: dict[str, list[tuple[float, float]]] = {name: [first] for name in STRATEGIES}

    header = f"{'round':>5}  {'labelled':>8}  {'textmine micro':>14}  {'textmine macro':>14}  {'random micro':>12}  {'random macro':>12}"
    print(header)
    print("-" * len(header))

    def row(r: int) -> None:
        (tmi, tma), (rmi, rma) = history["textmine"][r], history["random"][r]
        print(f"{r:>5}  {len(start_rows) + r * batch:>8}  {tmi:>14.3f}  {tma:>14.3f}  {rmi:>12.3f}  {rma:>12.3f}", flush=True)

    row(0)
    for r in range(1, rounds + 1):
        model = models["textmine"]
        tagged = textmine.classify(corpus.loc[pool["textmine"], ["text"]], model, text_col="text")
        chosen = select_for_review(tagged, themes=model.themes_, thresholds=model.thresholds_, budget=batch,
                                   model=model, text_col="text")
        picked = {"textmine": [int(i) for i in chosen.index]}
        picked["random"] = sorted(pick_rng.choice(pool["random"], size=min(batch, len(pool["random"])), replace=False).tolist())
        for name in STRATEGIES:
            taken = set(picked[name])
            labelled[name] += picked[name]
            pool[name] = [i for i in pool[name] if i not in taken]
            models[name] = lab.fit(labelled[name])
            history[name].append(lab.score(models[name], test))
        row(r)

    reached: dict[str, dict[str, int | None]] = {}
    print()
    for k, metric in enumerate(("micro", "macro")):
        target = history["random"][-1][k]
        reached[metric] = {name: first_reaching([h[k] for h in history[name]], target, batch) for name in STRATEGIES}
        said = ", ".join(f"{name} {_count(reached[metric][name], rounds * batch)}" for name in STRATEGIES)
        print(f"seed {seed}: random's final {metric}-F1 {target:.3f} first reached after: {said} reviewed answers")
    counts = {name: label_matrix(corpus.loc[labelled[name], "labels"], lab.themes).sum(axis=0) for name in STRATEGIES}
    print("positive examples per theme in the final labelled sets (textmine / random):")
    print("  " + ", ".join(f"{t} {a}/{b}" for t, a, b in zip(lab.themes, counts["textmine"], counts["random"])))
    return {"seed": seed, "history": history, "reached": reached}


def _count(n: int | None, budget: int) -> str:
    return f"not within {budget}" if n is None else str(n)


def summary(results: list[dict[str, Any]], rounds: int, batch: int) -> None:
    budget = rounds * batch
    print(f"\n== summary over seeds {', '.join(str(r['seed']) for r in results)} "
          f"(reviewed answers to reach random's final F1; 'not within {budget}' counts as {budget + batch})")
    for metric in ("micro", "macro"):
        parts = []
        for name in STRATEGIES:
            values = [r["reached"][metric][name] for r in results]
            shown = "/".join("-" if v is None else str(v) for v in values)
            mean = np.mean([budget + batch if v is None else v for v in values])
            parts.append(f"{name} {shown} (mean {mean:.0f})")
        print(f"{metric}-F1: " + "; ".join(parts))
    for k, metric in enumerate(("micro", "macro")):
        for name in STRATEGIES:
            curve = np.mean([[h[k] for h in r["history"][name]] for r in results], axis=0)
            print(f"mean {metric}-F1 per round, {name:<8}: " + " ".join(f"{v:.3f}" for v in curve))
    micro = [r["reached"]["micro"]["textmine"] for r in results]
    ahead = sum(v is not None and v < budget for v in micro)
    print(f"textmine reached random's final micro-F1 with fewer reviewed answers on {ahead} of {len(results)} seeds")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    ap.add_argument("--data", default=str(ROOT / "data" / "train" / "answers.csv"))
    ap.add_argument("--codebook", default=str(ROOT / "data" / "codebook.yaml"))
    args = ap.parse_args()
    started = time.perf_counter()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]

    corpus = textmine.read_table(args.data)
    corpus = corpus[corpus["text"].fillna("").str.strip() != ""].reset_index(drop=True)
    lab = Lab(corpus, Path(args.codebook), fast_config())
    print(f"{len(corpus)} answers; seeds {', '.join(map(str, seeds))}; {args.rounds} rounds of {args.batch}", flush=True)
    results = [simulate(lab, seed, args.rounds, args.batch) for seed in seeds]
    summary(results, args.rounds, args.batch)
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
