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

Random picks are drawn ``--random-draws`` times (independent seeded draws, the first as in
earlier versions): one draw's final F1 varies by about one round's gain, so random's curve
is the mean of the draws. The conclusion is computed: per seed, the number of reviewed
answers after which textmine and each random draw first reach random's final micro-F1 (and
macro-F1), and textmine's mean gain over random across the rounds; then a summary over
seeds with the paired t of that gain.

Usage: python scripts/benchmark_active_learning.py [--rounds 6] [--batch 100] [--seeds 0,1,2] [--random-draws 4]
       [--skew-like data/sample_survey_labels.csv]
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


def skewed_like(corpus: pd.DataFrame, reference: pd.DataFrame, themes: list[str], seed: int = 123) -> pd.DataFrame:
    """A seeded subsample of ``corpus`` whose theme shares approach those of the labelled
    ``reference`` answers (e.g. a real survey's, where most answers are about a few themes):
    each answer is kept with a probability proportional to the largest ratio, over its
    themes, of the reference's share to the corpus's (answers without a theme: the ratio of
    such answers)."""
    reference = reference[reference["text"].fillna("").str.strip() != ""]
    Yr, Yc = label_matrix(reference["labels"], themes), label_matrix(corpus["labels"], themes)
    ratio = Yr.mean(axis=0) / np.maximum(Yc.mean(axis=0), 1e-12)
    none_ratio = (Yr.sum(axis=1) == 0).mean() / max((Yc.sum(axis=1) == 0).mean(), 1e-12)
    weight = np.where(Yc.sum(axis=1) == 0, none_ratio, (Yc * ratio).max(axis=1))
    keep = np.random.default_rng(seed).random(len(corpus)) < weight / weight.max()
    return corpus[keep].reset_index(drop=True)


def first_reaching(curve: list[float], target: float, batch: int) -> int | None:
    """Reviewed answers after which ``curve`` first reaches ``target`` (None: never)."""
    return next((r * batch for r, value in enumerate(curve) if value >= target), None)


def simulate(lab: Lab, seed: int, rounds: int, batch: int, draws: int) -> dict[str, Any]:
    corpus = lab.corpus
    test_rows, start_rows, pool_rows = splits(len(corpus), seed)
    test = corpus.loc[test_rows, ["id", "text", "labels"]].reset_index(drop=True)
    randoms = [f"random{k}" for k in range(draws)]
    rngs = {name: np.random.default_rng(seed + 2 + 1000 * k) for k, name in enumerate(randoms)}  # draw 0 as before
    names = ["textmine", *randoms]
    print(f"\n== seed {seed}: test {len(test)}, labelled at start {len(start_rows)}, pool {len(pool_rows)}; "
          f"{rounds} rounds of {batch}; {draws} random draw(s)", flush=True)

    model0 = lab.fit(start_rows)
    first = lab.score(model0, test)
    labelled = {name: list(start_rows) for name in names}
    pool = {name: list(pool_rows) for name in names}
    models = {name: model0 for name in names}
    history: dict[str, list[tuple[float, float]]] = {name: [first] for name in names}

    header = f"{'round':>5}  {'labelled':>8}  {'textmine micro':>14}  {'textmine macro':>14}  {'random micro':>12}  {'random macro':>12}"
    print(header + ("  (random: mean of the draws)" if draws > 1 else ""))
    print("-" * len(header))

    def row(r: int) -> None:
        (tmi, tma) = history["textmine"][r]
        rmi, rma = np.mean([history[name][r] for name in randoms], axis=0)
        print(f"{r:>5}  {len(start_rows) + r * batch:>8}  {tmi:>14.3f}  {tma:>14.3f}  {rmi:>12.3f}  {rma:>12.3f}", flush=True)

    row(0)
    for r in range(1, rounds + 1):
        model = models["textmine"]
        tagged = textmine.classify(corpus.loc[pool["textmine"], ["text"]], model, text_col="text")
        chosen = select_for_review(tagged, themes=model.themes_, thresholds=model.thresholds_, budget=batch,
                                   model=model, text_col="text")
        picked = {"textmine": [int(i) for i in chosen.index]}
        for name in randoms:
            picked[name] = sorted(rngs[name].choice(pool[name], size=min(batch, len(pool[name])), replace=False).tolist())
        for name in names:
            taken = set(picked[name])
            labelled[name] += picked[name]
            pool[name] = [i for i in pool[name] if i not in taken]
            models[name] = lab.fit(labelled[name])
            history[name].append(lab.score(models[name], test))
        row(r)

    reached: dict[str, dict[str, Any]] = {}
    gain: dict[str, float] = {}
    print()
    for k, metric in enumerate(("micro", "macro")):
        curves = {name: [h[k] for h in history[name]] for name in names}
        random_mean = np.mean([curves[name] for name in randoms], axis=0)
        target = float(random_mean[-1])  # the random strategy's expected final F1
        got = {name: first_reaching(curves[name], target, batch) for name in names}
        reached[metric] = {"textmine": got["textmine"], "random": [got[name] for name in randoms]}
        gain[metric] = float(np.mean(np.asarray(curves["textmine"][1:]) - random_mean[1:]))
        said = f"textmine {_count(got['textmine'], rounds * batch)}, random " + "/".join(
            "-" if got[n] is None else str(got[n]) for n in randoms)
        print(f"seed {seed}: random's final {metric}-F1 {target:.3f} first reached after: {said} reviewed answers; "
              f"textmine's mean gain over rounds 1-{rounds}: {gain[metric]:+.4f}")
    counts = {name: label_matrix(corpus.loc[labelled[name], "labels"], lab.themes).sum(axis=0) for name in names}
    print(f"positive examples per theme in the final labelled sets (textmine / {randoms[0]}):")
    print("  " + ", ".join(f"{t} {a}/{b}" for t, a, b in zip(lab.themes, counts["textmine"], counts[randoms[0]])))
    return {"seed": seed, "history": history, "reached": reached, "gain": gain, "randoms": randoms}


def _count(n: int | None, budget: int) -> str:
    return f"not within {budget}" if n is None else str(n)


def summary(results: list[dict[str, Any]], rounds: int, batch: int) -> None:
    budget = rounds * batch
    value = lambda v: budget + batch if v is None else v  # noqa: E731
    print(f"\n== summary over seeds {', '.join(str(r['seed']) for r in results)} "
          f"(reviewed answers to reach random's final F1, the mean of its draws; 'not within {budget}' counts as {budget + batch})")
    for metric in ("micro", "macro"):
        tm = [r["reached"][metric]["textmine"] for r in results]
        rd = [np.mean([value(v) for v in r["reached"][metric]["random"]]) for r in results]
        print(f"{metric}-F1: textmine {'/'.join('-' if v is None else str(v) for v in tm)} (mean {np.mean([value(v) for v in tm]):.0f}); "
              f"random {'/'.join(f'{v:.0f}' for v in rd)} (mean {np.mean(rd):.0f})")
    for k, metric in enumerate(("micro", "macro")):
        tm_curve = np.mean([[h[k] for h in r["history"]["textmine"]] for r in results], axis=0)
        rd_curve = np.mean([np.mean([[h[k] for h in r["history"][n]] for n in r["randoms"]], axis=0) for r in results], axis=0)
        print(f"mean {metric}-F1 per round, textmine: " + " ".join(f"{v:.3f}" for v in tm_curve))
        print(f"mean {metric}-F1 per round, random  : " + " ".join(f"{v:.3f}" for v in rd_curve))
        gains = np.array([r["gain"][metric] for r in results])
        t = gains.mean() / (gains.std(ddof=1) / np.sqrt(len(gains))) if len(gains) > 1 and gains.std(ddof=1) > 0 else float("nan")
        print(f"textmine's mean {metric}-F1 gain over random, rounds 1-{rounds}: {gains.mean():+.4f} (paired t over seeds {t:.1f})")
    micro = [r["reached"]["micro"]["textmine"] for r in results]
    ahead = sum(v is not None and v < budget for v in micro)
    print(f"textmine reached random's final micro-F1 with fewer reviewed answers on {ahead} of {len(results)} seeds")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    ap.add_argument("--random-draws", type=int, default=4,
                    help="random strategies drawn per seed; random's final F1 is their mean (one draw's final varies by about one round)")
    ap.add_argument("--data", default=str(ROOT / "data" / "train" / "answers.csv"))
    ap.add_argument("--skew-like", metavar="LABELLED_FILE",
                    help="subsample the corpus to this file's theme shares first (e.g. data/sample_survey_labels.csv: "
                         "a real survey's pool, where a few themes dominate)")
    ap.add_argument("--codebook", default=str(ROOT / "data" / "codebook.yaml"))
    args = ap.parse_args()
    started = time.perf_counter()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]

    corpus = textmine.read_table(args.data)
    corpus = corpus[corpus["text"].fillna("").str.strip() != ""].reset_index(drop=True)
    if args.skew_like:
        themes = textmine.load_codebook(args.codebook).ids
        corpus = skewed_like(corpus, textmine.read_table(args.skew_like), themes)
        shares = label_matrix(corpus["labels"], themes).mean(axis=0)
        print(f"corpus subsampled to the theme shares of {args.skew_like}: {len(corpus)} answers; "
              + ", ".join(f"{t} {v:.2f}" for t, v in zip(themes, shares)))
    lab = Lab(corpus, Path(args.codebook), fast_config())
    print(f"{len(corpus)} answers; seeds {', '.join(map(str, seeds))}; {args.rounds} rounds of {args.batch}", flush=True)
    results = [simulate(lab, seed, args.rounds, args.batch, max(1, args.random_draws)) for seed in seeds]
    summary(results, args.rounds, args.batch)
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
