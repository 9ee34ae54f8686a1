#!/usr/bin/env python3
"""Write the corpus counts into data/README.md (between the 'counts' markers).

Usage: python scripts/datasheet.py [--check]   (--check: exit 1 if the file is out of date)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- counts:start (scripts/datasheet.py) -->", "<!-- counts:end -->"


def counts_markdown(corpus: pd.DataFrame, ids: list[str]) -> str:
    labels = corpus["labels"].fillna("")
    exploded = corpus.assign(label=labels.str.split("|")).explode("label")
    exploded = exploded[exploded["label"] != ""]
    langs = sorted(corpus["lang"].unique())
    table = pd.crosstab(exploded["label"], exploded["lang"]).reindex(index=ids, columns=langs, fill_value=0)
    n_labels = labels.map(lambda v: len([x for x in v.split("|") if x]))
    lengths = corpus["text"].str.len()
    lines = [
        f"{len(corpus)} answers: " + ", ".join(f"{lg} {n}" for lg, n in corpus["lang"].value_counts().sort_index().items()) + ".",
        "",
        "| theme | " + " | ".join(langs) + " | total |",
        "|---|" + "---:|" * (len(langs) + 1),
    ]
    for t in ids:
        row = table.loc[t]
        lines.append(f"| {t} | " + " | ".join(str(int(row[lg])) for lg in langs) + f" | {int(row.sum())} |")
    lines += [
        "",
        f"- answers with no theme: {int((n_labels == 0).sum())} ({(n_labels == 0).mean():.1%}); praise only: "
        f"{int((labels == 'praise').sum())} ({(labels == 'praise').mean():.1%})",
        "- themes per answer: " + ", ".join(f"{k}: {v}" for k, v in n_labels.value_counts().sort_index().items()),
        f"- length in characters: min {lengths.min()}, median {int(lengths.median())}, 90th percentile "
        f"{int(lengths.quantile(0.9))}, max {lengths.max()}; answers of at most five words: "
        f"{int((corpus['text'].str.split().str.len() <= 5).sum())}",
    ]
    return "\n".join(lines)


def render(readme: str, corpus: pd.DataFrame, ids: list[str]) -> str:
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{counts_markdown(corpus, ids)}\n{END}{tail}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from textmine.codebook import load_codebook

    corpus = pd.read_csv(ROOT / "data/train/answers.csv", dtype=str, keep_default_na=False)
    path = ROOT / "data/README.md"
    new = render(path.read_text(encoding="utf-8"), corpus, load_codebook(ROOT / "data/codebook.yaml").ids)
    if args.check:
        sys.exit(0 if new == path.read_text(encoding="utf-8") else 1)
    path.write_text(new, encoding="utf-8")
    print(f"updated {path}")


if __name__ == "__main__":
    main()
