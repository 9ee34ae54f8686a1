#!/usr/bin/env python3
"""Throughput benchmark: answers per second and peak memory of every way to run textmine.

Generates ``--rows`` survey rows (seeded) whose answers are sampled from
data/train/answers.csv and perturbed so that hardly two are identical (a filler word
inserted, two words swapped, a number appended, the case changed, a word dropped),
writes them to a CSV in a temporary directory, then runs and times, each as its own
subprocess, timed from outside:

1. a bare baseline: pandas read_csv, a TF-IDF(words) + one-vs-rest LogisticRegression
   trained beforehand on the corpus, predict_proba on the raw texts, pandas to_csv;
2. ``textmine predict CSV -o OUT.csv --jobs 1``;
3. ``textmine predict CSV -o OUT.csv`` (all cores, the default);
4. ``textmine report CSV -o DIR`` (all cores);
5. the Dask engine, ``predict_dask`` on a LocalCluster of one worker per core
   (skipped, with a note, when dask is not installed).

Per step: wall seconds, answers per second, the peak resident memory of the largest
process (``ru_maxrss`` of the subprocess and its waited-for children, from ``wait4``), the
peak proportional memory (PSS) summed over the whole process tree (sampled with psutil
every 0.2 s; worker processes included, shared pages counted once), and the time as a
multiple of the baseline's. Then where the time of ``textmine predict --jobs 1`` goes on a
sample of 20,000 answers, timing the library's pieces one by one.

Usage: python scripts/benchmark_throughput.py [--rows 100000] [--steps 1,2,3,4,5] [--seed 0]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CORPUS = ROOT / "data" / "train" / "answers.csv"
CODEBOOK = ROOT / "data" / "codebook.yaml"
TEXT_COL = "improvement"
BREAKDOWN_ROWS = 20_000

FILLERS = {
    "fi": ["kyllä", "siis", "ihan", "vaan", "no", "tosi", "aika"],
    "sv": ["typ", "liksom", "alltså", "ju", "nog", "verkligen", "ganska"],
    "en": ["really", "just", "actually", "basically", "honestly", "quite", "so"],
}
SEGMENTS = {
    "permit_type": (["work", "family", "study", "citizenship", "protection", "other"], [30, 23, 22, 12, 7, 6]),
    "born_in_finland": (["no", "yes"], [85, 15]),
    "channel": (["enter_finland", "phone", "website", "service_point"], [26, 26, 24, 24]),
}
SCORES = ["overall", "customer_friendliness", "efficiency", "interaction", "responsibility", "administration", "management"]
SCORE_VALUES = (["5.0", "4.0", "3.0", "2.0", "1.0", "0.0", ""], [29, 32, 22, 10, 2, 3, 2])


# -- the data -------------------------------------------------------------------------
def _perturb(text: str, lang: str, rng: np.random.Generator) -> str:
    words = text.split()
    for op in rng.choice(5, size=int(rng.integers(1, 4)), replace=False):
        if op == 0:  # a filler word
            words.insert(int(rng.integers(0, len(words) + 1)), str(rng.choice(FILLERS.get(lang, FILLERS["en"]))))
        elif op == 1 and len(words) > 1:  # two neighbours swapped
            i = int(rng.integers(0, len(words) - 1))
            words[i], words[i + 1] = words[i + 1], words[i]
        elif op == 2:  # a number appended
            words.append(str(int(rng.integers(1, 1000))))
        elif op == 3 and words:  # the case changed
            i = int(rng.integers(0, len(words)))
            words[i] = words[i].upper() if rng.random() < 0.3 else words[i].swapcase() if rng.random() < 0.5 else words[i].lower()
        elif op == 4 and len(words) > 3:  # a word dropped
            del words[int(rng.integers(0, len(words)))]
    return " ".join(words)


def generate(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` survey rows: segments, scores 1-5 (0 = don't know, some missing) and a perturbed answer (10% empty)."""
    rng = np.random.default_rng(seed)
    corpus = pd.read_csv(CORPUS, dtype=str, keep_default_na=False)
    corpus = corpus[corpus["text"].str.strip() != ""]
    pick = rng.integers(0, len(corpus), size=n)
    texts, langs = corpus["text"].to_numpy()[pick], corpus["lang"].to_numpy()[pick]
    answers = [_perturb(t, lg, rng) for t, lg in zip(texts, langs)]
    empty = rng.random(n) < 0.10
    df = pd.DataFrame({"respondent_id": [f"R{i:07d}" for i in range(1, n + 1)]})
    for col, (values, weights) in SEGMENTS.items():
        df[col] = rng.choice(values, size=n, p=np.array(weights) / sum(weights))
    df["language"] = langs
    values, weights = SCORE_VALUES
    for col in SCORES:
        df[col] = rng.choice(values, size=n, p=np.array(weights) / sum(weights))
    df[TEXT_COL] = ["" if e else a for e, a in zip(empty, answers)]  # (np.where would make a wide '<U' array)
    return df


def train_baseline(path: Path) -> None:
    """TF-IDF of words + one-vs-rest LogisticRegression on the whole corpus, saved with joblib."""
    import joblib
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import MultiLabelBinarizer

    from textmine.codebook import load_codebook

    corpus = pd.read_csv(CORPUS, dtype=str, keep_default_na=False)
    themes = list(load_codebook(CODEBOOK).ids)
    Y = MultiLabelBinarizer(classes=themes).fit_transform([[t for t in s.split("|") if t] for s in corpus["labels"]])
    vec = TfidfVectorizer()
    clf = OneVsRestClassifier(LogisticRegression(max_iter=1000)).fit(vec.fit_transform(corpus["text"]), Y)
    joblib.dump((vec, clf, themes), path)


BASELINE = """
import sys
import joblib
import pandas as pd
src, out, model = sys.argv[1:4]
df = pd.read_csv(src, dtype=str, keep_default_na=False, na_values=[""])
vec, clf, themes = joblib.load(model)
proba = clf.predict_proba(vec.transform(df["improvement"].fillna("")))
for j, t in enumerate(themes):
    df[t] = (proba[:, j] >= 0.5).astype("int8")
for j, t in enumerate(themes):
    df["p_" + t] = proba[:, j].round(4)
df.to_csv(out, index=False)
"""

DASK = """
import sys
import textmine
from textmine.engine_dask import predict_dask

if __name__ == "__main__":
    counts = predict_dask(sys.argv[1], sys.argv[2], model=textmine.load_model(), text_col="improvement")
    print(counts.read, counts.empty)
"""


# -- measuring ------------------------------------------------------------------------
@dataclass
class Run:
    step: str
    seconds: float
    max_rss_mb: float
    tree_mb: float | None
    ok: bool
    note: str = ""


def _median_run(runs: list[Run]) -> Run:
    """One line for repeated runs of a step: median seconds, the largest memory peaks."""
    ok = [r for r in runs if r.ok]
    if not ok:
        return runs[0]
    seconds = float(np.median([r.seconds for r in ok]))
    trees = [r.tree_mb for r in ok if r.tree_mb is not None]
    return Run(ok[0].step, seconds, max(r.max_rss_mb for r in ok), max(trees) if trees else None, True,
               "; ".join(r.note for r in runs if r.note))


def _tree_pss(pid: int) -> float | None:
    """PSS (or RSS where PSS is unreadable) summed over ``pid`` and its descendants, in MB."""
    try:
        import psutil
    except ImportError:
        return None
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    total = 0
    for p in procs:
        try:
            try:
                total += p.memory_full_info().pss
            except (psutil.AccessDenied, AttributeError):
                total += p.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


GNU_TIME = Path("/usr/bin/time")


def measure(step: str, cmd: list[str], log: Path) -> Run:
    """Run ``cmd``, timed from outside: wall time, peak RSS of its largest process, peak PSS of its tree.

    The peak RSS comes from GNU time (``%M``) when installed: a child forked straight
    from this (large) process would report this process's size as its own ``ru_maxrss``,
    since Linux keeps the high-water mark of the memory a child had before ``exec``.
    Without GNU time it is the ``ru_maxrss`` that ``wait4`` gives, which may overstate.
    """
    rss_file = log.with_suffix(".maxrss")
    if GNU_TIME.exists():
        cmd = [str(GNU_TIME), "-f", "%M", "-o", str(rss_file), *cmd]
    with open(log, "w") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=err, stderr=subprocess.STDOUT, cwd=ROOT)
        peak_tree: float | None = None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            tree = _tree_pss(proc.pid)
            if tree is not None:
                peak_tree = max(peak_tree or 0.0, tree)
            time.sleep(0.2)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    ok = proc.returncode == 0
    note = "" if ok else f"exit {proc.returncode}: " + " ".join(log.read_text(errors="replace").split()[-30:])
    max_rss_kb = float(usage.ru_maxrss)
    if rss_file.exists():
        lines = rss_file.read_text().split()
        max_rss_kb = float(lines[-1]) if lines and lines[-1].isdigit() else max_rss_kb
    return Run(step, seconds, max_rss_kb / 1024, peak_tree, ok, note)


def _textmine() -> list[str]:
    script = Path(sys.executable).with_name("textmine")
    return [str(script)] if script.exists() else [sys.executable, "-m", "textmine.cli"]


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))  # noqa: E731
    return "\n".join([line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


# -- where the time goes -------------------------------------------------------------
def _breakdown_worker(mode: str, csv_path: Path, n: int) -> dict[str, float]:
    """In a fresh process (so that no library cache is warm): the start-up pieces, then either
    ``classify`` whole (mode "classify") or its pieces one by one (mode "pieces")."""
    t = time.perf_counter()
    import scipy.sparse as sp

    from textmine.features import words_features
    from textmine.files import TableWriter, iter_table
    from textmine.model import load_model
    from textmine.predict import _warm_up, classify
    from textmine.redact import redact_texts

    out: dict[str, float] = {"imports": time.perf_counter() - t}

    def timed(label: str, fn: Any) -> Any:
        t = time.perf_counter()
        result = fn()
        out[label] = time.perf_counter() - t
        return result

    model = timed("load", load_model)
    timed("warm_up", lambda: _warm_up(model))
    df = timed("read", lambda: next(iter_table(csv_path, chunk_size=n)))
    if mode == "classify":
        timed("classify", lambda: classify(df, model, text_col=TEXT_COL))
        return out
    texts = df[TEXT_COL].tolist()
    distinct = list(dict.fromkeys("" if not isinstance(x, str) else x for x in texts))
    pre = model.preprocessor()
    redacted = timed("redact", lambda: redact_texts(distinct))
    timed("identify", lambda: pre.identify(redacted))
    prep = timed("transform", lambda: pre.transform(texts))
    words, _ = prep.distinct()
    Xw = timed("word", lambda: words_features(model.word_vectorizer_, None, words))
    Xc = timed("char", lambda: words_features(None, model.char_vectorizer_, words))
    X = timed("hstack", lambda: sp.hstack([Xw, Xc], format="csr"))
    timed("proba", lambda: model._proba(model.estimators_, X))
    tagged = classify(df, model, text_col=TEXT_COL)
    target = Path(tempfile.mkdtemp()) / "tagged.csv"

    def write() -> None:
        with TableWriter(target) as w:
            w.write(tagged)

    timed("write", write)
    shutil.rmtree(target.parent, ignore_errors=True)
    return out


def breakdown(csv_path: Path, n: int, repeat: int = 2) -> list[list[str]]:
    """Where the time of ``textmine predict --jobs 1`` goes on the first ``n`` rows, as table rows.

    Fresh processes: one times ``classify`` whole, the other its pieces (each after the
    same start-up), so the rest of ``classify`` (its bookkeeping) is the difference. Each
    is run ``repeat`` times and every figure is the minimum over the runs.
    """
    def run(mode: str) -> dict[str, float]:
        cmd = [sys.executable, __file__, "--breakdown-worker", mode, str(csv_path), str(n)]
        return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout)

    def best(runs: list[dict[str, float]]) -> dict[str, float]:
        return {k: min(r[k] for r in runs) for k in runs[0]}

    walls = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import textmine.cli, textmine.predict"], check=True, cwd=ROOT)
        walls.append(time.perf_counter() - t)
    startup_wall = min(walls)
    wholes, pieces = [], []
    for _ in range(repeat):
        wholes.append(run("classify"))
        pieces.append(run("pieces"))
    whole, parts = best(wholes), best(pieces)
    stages = [
        ("read CSV (iter_table)", parts["read"]),
        ("redaction (redact_texts)", parts["redact"]),
        ("language identification (Preprocessor.identify)", parts["identify"]),
        ("spaCy tokenisation + lemmas (transform - redaction - identify)", parts["transform"] - parts["redact"] - parts["identify"]),
        ("word features (words_features, lemma n-grams)", parts["word"]),
        ("character features (words_features, char n-grams)", parts["char"]),
        ("sp.hstack of the two blocks", parts["hstack"]),
        ("predict_proba (model._proba, one LR per theme)", parts["proba"]),
        ("rest of classify (classify - transform - features - proba)",
         whole["classify"] - sum(parts[k] for k in ("transform", "word", "char", "hstack", "proba"))),
        ("write CSV (TableWriter)", parts["write"]),
    ]
    total = sum(s for _, s in stages)
    rows = [[label, f"{s:.2f}", f"{100 * s / total:.1f}%", f"{n / s:,.0f}" if s > 0.005 else "-"] for label, s in stages]
    rows.append([f"total per {n:,}-row chunk", f"{total:.2f}", "100%", f"{n / total:,.0f}"])
    rows.append(["once per process: python start-up + imports (wall)", f"{startup_wall:.2f}", "", ""])
    rows.append(["once per process: load the model (sha256 + unpickle)", f"{parts['load']:.2f}", "", ""])
    rows.append(["once per process: first use (lemma dictionaries, spaCy, langid)", f"{parts['warm_up']:.2f}", "", ""])
    rows.append([f"(check: classify whole, {n:,} rows)", f"{whole['classify']:.2f}", "", f"{n / whole['classify']:,.0f}"])
    return rows


# -- main -------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000, help="answers to generate (default 100000)")
    ap.add_argument("--steps", default="1,2,3,4,5", help="steps to run, comma-separated (default all: 1,2,3,4,5)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-breakdown", action="store_true", help="skip the time breakdown of predict --jobs 1")
    ap.add_argument("--repeat", type=int, default=1, help="run the steps in turn this many times and report medians")
    ap.add_argument("--keep", metavar="DIR", help="keep the generated data and outputs in DIR")
    ap.add_argument("--breakdown-worker", nargs=3, metavar=("MODE", "CSV", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.breakdown_worker:
        mode, path, n = args.breakdown_worker
        print(json.dumps(_breakdown_worker(mode, Path(path), int(n))))
        return 0
    steps = {int(s) for s in args.steps.split(",") if s.strip()}
    cores = os.cpu_count() or 1
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="textmine_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        t = time.perf_counter()
        data = generate(args.rows, args.seed)
        src = work / "survey.csv"
        data.to_csv(src, index=False)
        answered = data[TEXT_COL] != ""
        print(f"Generated {args.rows:,} rows ({int(answered.sum()):,} answers, "
              f"{data.loc[answered, TEXT_COL].nunique():,} distinct; {src.stat().st_size / 2**20:.1f} MB CSV) "
              f"in {time.perf_counter() - t:.1f} s; {cores} cores; Python {sys.version.split()[0]}; "
              f"load average before the runs {os.getloadavg()[0]:.1f}.")
        print("Every step is a separate subprocess timed from outside (start-up, model loading and file I/O included).\n")
        del data, answered  # keep this process small while the steps run

        # once per machine, like installing: simplemma's lemma dictionaries are decoded and cached
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "from textmine.preprocess import _lemmatizer as L; "
                        "[L().lemmatize('hakemus', g) for g in ('fi', 'sv')]"], check=True)
        print(f"(lemma dictionary cache ready in {time.perf_counter() - t:.1f} s: built once per machine, "
              "then read by each run in about 2 s; not timed below)")

        outputs: dict[str, Path] = {}
        plan: list[tuple[str, list[str]]] = []  # (step, command), run in this order each repetition
        skipped: list[Run] = []
        if 1 in steps:
            model_path = work / "baseline.joblib"
            t = time.perf_counter()
            train_baseline(model_path)
            print(f"(baseline trained beforehand on {CORPUS.name} in {time.perf_counter() - t:.1f} s; not timed below)")
            outputs["baseline"] = work / "baseline.csv"
            plan.append(("1 baseline: read_csv + TF-IDF(words) + OvR LR + to_csv",
                         [sys.executable, "-c", BASELINE, str(src), str(outputs["baseline"]), str(model_path)]))
        if 2 in steps:
            outputs["jobs1"] = work / "predict_jobs1.csv"
            plan.append(("2 textmine predict --jobs 1",
                         [*_textmine(), "predict", str(src), "-o", str(outputs["jobs1"]), "--jobs", "1", "-q", "--force"]))
        if 3 in steps:
            outputs["jobsN"] = work / "predict_all.csv"
            plan.append((f"3 textmine predict (all cores: {cores} jobs)",
                         [*_textmine(), "predict", str(src), "-o", str(outputs["jobsN"]), "-q", "--force"]))
        if 4 in steps:
            plan.append((f"4 textmine report -o DIR ({cores} jobs)",
                         [*_textmine(), "report", str(src), "-o", str(work / "report"), "-q", "--force"]))
        if 5 in steps:
            if all(importlib.util.find_spec(m) is not None for m in ("dask", "distributed")):
                script = work / "run_dask.py"
                script.write_text(textwrap.dedent(DASK))
                outputs["dask"] = work / "dask_out"
                plan.append((f"5 Dask engine: predict_dask, LocalCluster ({cores} workers)",
                             [sys.executable, str(script), str(src), str(outputs["dask"])]))
            else:
                skipped.append(Run("5 Dask engine", float("nan"), float("nan"), None, False,
                                   "skipped: dask is not installed (pip install 'textmine[dask]')"))
        # with --repeat N the steps run in turn N times (baseline, predict, ..., baseline, ...), so
        # that a machine whose speed drifts affects every step alike; the table gives medians
        repeats: dict[str, list[Run]] = {}
        for rep in range(args.repeat):
            for step, cmd in plan:
                if step.startswith("5") and outputs["dask"].exists():
                    shutil.rmtree(outputs["dask"])
                repeats.setdefault(step, []).append(measure(step, cmd, work / f"step{step[0]}_{rep}.log"))
        runs = [_median_run(rs) for rs in repeats.values()] + skipped
        if args.repeat > 1:
            print(f"Each step run {args.repeat} times in turn; seconds are medians, all runs per step:")
            for step, rs in repeats.items():
                print(f"  {step}: " + ", ".join(f"{r.seconds:.1f}" for r in rs) + " s")

        base = next((r.seconds for r in runs if r.step.startswith("1") and r.ok), None)
        rows = []
        for r in runs:
            if not r.ok:
                rows.append([r.step, "-", "-", "-", "-", "-"])
                continue
            rows.append([r.step, f"{r.seconds:.1f}", f"{args.rows / r.seconds:,.0f}", f"{r.max_rss_mb:,.0f}",
                         f"{r.tree_mb:,.0f}" if r.tree_mb is not None else "n/a",
                         f"{r.seconds / base:.1f}x" if base else "-"])
        print(_table(rows, ["step", "seconds", "answers/s", "peak RSS MB (largest process)",
                            "peak PSS MB (all processes)", "time vs baseline"]))
        print(f"(load average after the runs: {os.getloadavg()[0]:.1f})")
        for r in runs:
            if r.note:
                print(f"  note, step {r.step.split()[0]}: {r.note}")

        # the engines must agree row for row
        themes: dict[str, pd.Series] = {}
        for key in ("jobs1", "jobsN", "dask"):
            if key in outputs and outputs[key].exists():
                read = pd.read_parquet if key == "dask" else lambda p: pd.read_csv(p, dtype=str, keep_default_na=False)
                frame = read(outputs[key])
                themes[key] = frame["themes"].fillna("").astype(str).reset_index(drop=True)
                assert len(frame) == args.rows, f"{key}: {len(frame)} rows, not {args.rows}"
        if len(themes) > 1:
            first = next(iter(themes.values()))
            same = all(s.equals(first) for s in themes.values())
            print(f"\nCheck: {', '.join(themes)} outputs have {args.rows:,} rows each; their themes "
                  f"{'agree on every row' if same else 'DIFFER'}.")

        if not args.no_breakdown and (2 in steps or 3 in steps):
            n = min(BREAKDOWN_ROWS, args.rows)
            print(f"\nWhere the time of `textmine predict --jobs 1` goes, on the first {n:,} rows "
                  "(library pieces timed one by one in fresh processes, as for a first chunk; best of 2 runs):")
            print(_table(breakdown(src, n), ["stage", "seconds", "share", "answers/s"]))
            jobs1 = next((r for r in runs if r.step.startswith("2") and r.ok), None)
            if jobs1:
                print(f"(step 2 spent {jobs1.seconds / max(1, args.rows) * n:.2f} s per {n:,} rows on average, "
                      "start-up included; later chunks reuse the per-token and per-word caches)")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
