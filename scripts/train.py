#!/usr/bin/env python3
"""Build the shipped model models/default/ from data/ (the training script).

Trains on data/train/answers.csv with the codebook data/codebook.yaml, measures the
model by nested cross-validation (recorded in its card) and saves it with joblib.

Usage: python scripts/train.py [--out models/default]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textmine.evaluate import format_metrics  # noqa: E402
from textmine.train import train  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "models" / "default"))
    args = ap.parse_args()
    started = time.perf_counter()
    model = train(ROOT / "data" / "train" / "answers.csv", codebook=ROOT / "data" / "codebook.yaml", out=args.out,
                  progress=lambda msg, done=None, total=None: print(
                      f"... {msg}" + (f": {done}/{total}" if total else ""), file=sys.stderr, flush=True))
    print(f"trained in {time.perf_counter() - started:.1f} s; saved to {args.out}")
    print(format_metrics(model.card_["cv_metrics"], model.themes_))


if __name__ == "__main__":
    main()
