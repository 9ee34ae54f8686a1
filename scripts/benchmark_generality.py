#!/usr/bin/env python3
"""Generality benchmark: does `textmine train` / `textmine evaluate` do the right thing on
labelled feedback data that is not ours? (see scripts/BENCHMARKS.md, "Generality").

Datasets (all generated or derived from data/train/answers.csv, written to --work):
- ``multiclass``: a generated single-label dataset, one label per answer, each class with its
  own vocabulary plus shared noise words and label noise; ``multiclass-none``: the same with
  30% of answers of noise words only and no label (at most one label per answer);
- ``corpus-single``: the corpus answers with exactly one theme (a real multi-class problem);
- ``corpus-atmostone``: the corpus answers with zero or one theme;
- ``multilabel``: the corpus itself (must be untouched by the single-label rules);
- ``de-es``: generated German and Spanish feedback (language "other");
- ``scale``: the corpus resampled with perturbation to --rows answers, with 2, 11 or 33 labels.

Each quality dataset is split 75/25; the model is trained on the train split through the
command line (``textmine train``) and scored on the test split with ``textmine evaluate --json``,
with ``--label-mode multi`` (independent thresholds) beside the default ``auto``.

Usage:
  python scripts/benchmark_generality.py quality [--only NAME ...]
  python scripts/benchmark_generality.py scale --rows 25000 --labels 11 [--no-cv]
  python scripts/benchmark_generality.py make NAME   # only write the dataset's CSVs
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "train" / "answers.csv"
TEXTMINE = [str(Path(sys.executable).with_name("textmine"))]


def _split(df: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    test = rng.random(len(df)) < 0.25
    return df[~test].reset_index(drop=True), df[test].reset_index(drop=True)


def multiclass(n: int = 3000, k: int = 8, seed: int = 0, none: float = 0.0) -> pd.DataFrame:
    """k classes, each with 12 own words; answers of 4-12 words, half shared noise, 5% label noise;
    a share ``none`` of the answers has only noise words (one in five with a class word) and no label."""
    rng = random.Random(seed)
    syll = ["ka", "lo", "mi", "tu", "re", "sa", "no", "vi", "pe", "da", "ko", "ru", "la", "mo", "ti", "se"]

    def word() -> str:
        return "".join(rng.choice(syll) for _ in range(rng.randint(2, 4)))

    own = [[word() for _ in range(12)] for _ in range(k)]
    noise = [word() for _ in range(200)]
    rows = []
    for i in range(n):
        c = rng.randrange(k)
        length = rng.randint(4, 12)
        words = [rng.choice(own[c]) if rng.random() < 0.35 else rng.choice(noise) for _ in range(length)]
        # a word of another class now and then: classes overlap as real ones do
        if rng.random() < 0.5:
            words[rng.randrange(length)] = rng.choice(own[rng.randrange(k)])
        label = c if rng.random() > 0.05 else rng.randrange(k)
        if rng.random() < none:
            words = [rng.choice(noise) for _ in range(length)]
            if rng.random() < 0.2:
                words[0] = rng.choice(own[rng.randrange(k)])
            rows.append((f"mc{i}", " ".join(words), ""))
            continue
        rows.append((f"mc{i}", " ".join(words), f"class_{label}"))
    return pd.DataFrame(rows, columns=["id", "text", "labels"])


def corpus(n_labels: set[int] | None = None) -> pd.DataFrame:
    df = pd.read_csv(CORPUS, dtype=str, keep_default_na=False)
    if n_labels is not None:
        count = df["labels"].map(lambda s: len([x for x in s.split("|") if x]))
        df = df[count.isin(n_labels)]
    return df[["id", "text", "labels"]].reset_index(drop=True)


DE_ES = {
    "wartezeit": (
        ["Die Bearbeitung dauert viel zu lange", "Ich warte seit Monaten auf eine Entscheidung",
         "Schnellere Bearbeitung der Anträge bitte", "Die Wartezeit ist unzumutbar lang",
         "Es hat fast ein Jahr gedauert", "Warum dauert das so lange"],
        ["El trámite tarda demasiado", "Llevo meses esperando una respuesta", "Que resuelvan las solicitudes más rápido",
         "El tiempo de espera es excesivo", "Tardaron casi un año en decidir", "Por qué tarda tanto el proceso"]),
    "erreichbarkeit": (
        ["Am Telefon erreicht man niemanden", "Die Hotline ist immer besetzt", "Niemand beantwortet meine E-Mails",
         "Telefonzeiten sind viel zu kurz", "Ich habe zehnmal angerufen", "Keine Antwort auf meine Nachricht"],
        ["Nadie contesta el teléfono", "La línea siempre está ocupada", "No responden a los correos",
         "El horario de atención telefónica es muy corto", "Llamé diez veces sin respuesta", "Nunca contestan mis mensajes"]),
    "information": (
        ["Man weiß nie, wie weit der Antrag ist", "Bitte informieren Sie über den Stand des Verfahrens",
         "Keine Information über den Bearbeitungsstand", "Ich wusste nicht, was als Nächstes passiert",
         "Statusmeldungen wären hilfreich", "Mehr Transparenz über den Ablauf"],
        ["Nunca sé en qué estado está mi solicitud", "Informen sobre el estado del trámite",
         "No hay información sobre el proceso", "No sabía qué pasaría después",
         "Serían útiles avisos del estado", "Más transparencia sobre el proceso"]),
    "online": (
        ["Das Online-Portal stürzt ständig ab", "Die Webseite ist unübersichtlich", "Das Formular im Portal funktioniert nicht",
         "Der Login klappt nie", "Die App ist sehr langsam", "Hochladen der Dokumente schlägt fehl"],
        ["El portal web se cae continuamente", "La página web es confusa", "El formulario en línea no funciona",
         "Nunca puedo iniciar sesión", "La aplicación es muy lenta", "No se pueden subir los documentos"]),
    "personal": (
        ["Der Sachbearbeiter war unfreundlich", "Das Personal war sehr unhöflich", "Man wurde respektlos behandelt",
         "Die Mitarbeiterin war arrogant", "Unfreundlicher Empfang am Schalter", "Niemand wollte helfen"],
        ["El funcionario fue muy maleducado", "El personal fue descortés", "Me trataron sin respeto",
         "La empleada fue arrogante", "Atención poco amable en la ventanilla", "Nadie quiso ayudar"]),
    "lob": (
        ["Alles hat super geklappt, danke", "Sehr freundliches und kompetentes Personal", "Schnell und unkompliziert, vielen Dank",
         "Ich bin sehr zufrieden", "Tolle Beratung", "Hervorragender Service"],
        ["Todo salió muy bien, gracias", "Personal muy amable y competente", "Rápido y sencillo, muchas gracias",
         "Estoy muy satisfecho", "Muy buena atención", "Servicio excelente"]),
}
FILLERS = (["Ehrlich gesagt", "Insgesamt", "Leider", "Außerdem", "Mein Eindruck:", ""],
           ["Sinceramente", "En general", "Lamentablemente", "Además", "Mi impresión:", ""])


def de_es(n: int = 1600, seed: int = 0) -> pd.DataFrame:
    """German and Spanish answers of 1-2 sentences, 1-2 themes (some with none)."""
    rng = random.Random(seed)
    themes = list(DE_ES)
    rows = []
    for i in range(n):
        lang = i % 2
        k = rng.choice([0, 1, 1, 1, 2])
        chosen = rng.sample(themes, k)
        parts = [rng.choice(DE_ES[t][lang]) for t in chosen] or [rng.choice(["Nichts", "Keine Angabe", "Weiß nicht"]
                                                                          if lang == 0 else ["Nada", "Sin comentarios", "No sé"])]
        words = " ".join(f"{rng.choice(FILLERS[lang])} {p}.".strip() for p in parts).split()
        words = [w for w in words if rng.random() > 0.15] or words  # no two answers quite alike
        text = " ".join(words)
        rows.append((f"x{i}", text, "|".join(chosen), "de" if lang == 0 else "es"))
    return pd.DataFrame(rows, columns=["id", "text", "labels", "lang"])


def scale(rows: int, n_labels: int, seed: int = 0) -> pd.DataFrame:
    """The corpus resampled with perturbation (word drop/swap, a joined second answer 20% of the time).

    n_labels 11: the themes; 33: theme@language; 2: single-label praise vs complaint.
    """
    base = pd.read_csv(CORPUS, dtype=str, keep_default_na=False)
    rng = random.Random(seed)
    texts, labels, langs = base["text"].tolist(), base["labels"].tolist(), base["lang"].tolist()

    def perturb(t: str) -> str:
        words = t.split()
        words = [w for w in words if rng.random() > 0.1] or words[:1]
        if len(words) > 2 and rng.random() < 0.5:
            j = rng.randrange(len(words) - 1)
            words[j], words[j + 1] = words[j + 1], words[j]
        return " ".join(words)

    out = []
    for i in range(rows):
        a = rng.randrange(len(texts))
        text, labs = perturb(texts[a]), set(filter(None, labels[a].split("|")))
        if n_labels != 2 and rng.random() < 0.2:
            b = rng.randrange(len(texts))
            text += " " + perturb(texts[b])
            labs |= set(filter(None, labels[b].split("|")))
        if n_labels == 33:
            labs = {f"{x}@{langs[a]}" for x in labs}
        elif n_labels == 2:
            labs = {"praise"} if "praise" in labs else {"complaint"}
        out.append((f"s{i}", text, "|".join(sorted(labs))))
    return pd.DataFrame(out, columns=["id", "text", "labels"])


DATASETS = {
    "multiclass": lambda: multiclass(),
    "multiclass-none": lambda: multiclass(none=0.3),
    "corpus-single": lambda: corpus({1}),
    "corpus-atmostone": lambda: corpus({0, 1}),
    "multilabel": lambda: corpus(None),
    "de-es": lambda: de_es(),
}


def make(name: str, work: Path) -> tuple[Path, Path]:
    work.mkdir(parents=True, exist_ok=True)
    train, test = _split(DATASETS[name]())
    paths = work / f"{name}_train.csv", work / f"{name}_test.csv"
    train.to_csv(paths[0], index=False)
    test.to_csv(paths[1], index=False)
    return paths


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str]) -> tuple[float, str]:
    """Run a command; its wall seconds and stdout (its CPU seconds are in ``LAST_CPU``)."""
    global LAST_CPU
    t0, c0 = time.perf_counter(), _cpu()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    LAST_CPU = _cpu() - c0
    return time.perf_counter() - t0, done.stdout


LAST_CPU = 0.0


def quality(names: list[str], work: Path) -> None:
    print(f"{'dataset':<18}{'mode':<7}{'rows':>6}{'labels':>7}  {'micro':>6}{'macro':>7}{'exact':>7}  cv micro  label mode (card)  train s")
    for name in names:
        train_csv, test_csv = make(name, work)
        n_rows = len(pd.read_csv(train_csv))
        for mode in ("multi", "auto"):
            out = work / f"model_{name}_{mode}"
            cfg = work / f"{mode}.toml"
            cfg.write_text(f'[model]\nlabel_mode = "{mode}"\n')
            seconds, _ = run([*TEXTMINE, "train", "--data", str(train_csv), "--out", str(out), "--force", "-q",
                              "--config", str(cfg)])
            _, js = run([*TEXTMINE, "evaluate", "--model", str(out), "--data", str(test_csv), "--json", "-q"])
            m = json.loads(js)
            card = json.loads((out / "model_card.json").read_text())
            print(f"{name:<18}{mode:<7}{n_rows:>6}{len(card['themes']):>7}  {m['micro_f1']:>6.3f}{m['macro_f1']:>7.3f}"
                  f"{m['exact_match']:>7.3f}  {card['cv_metrics']['micro_f1']:>8.3f}  {card['label_mode']:<17}  {seconds:>6.1f}"
                  + ("  per language: " + ", ".join(f"{lg} {r['micro_f1']:.3f} (n={r['n']})"
                                                    for lg, r in m["per_language"].items()
                                                    if r["micro_f1"] is not None) if name == "de-es" else ""),
                  flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["quality", "scale", "make"])
    ap.add_argument("names", nargs="*", help="datasets (quality, make): " + ", ".join(DATASETS))
    ap.add_argument("--work", type=Path, default=Path("/tmp/textmine_generality"), help="where data and models go")
    ap.add_argument("--rows", type=int, default=25000)
    ap.add_argument("--labels", type=int, choices=[2, 11, 33], default=11)
    ap.add_argument("--no-cv", action="store_true")
    ap.add_argument("--config", help="a TOML of settings for the scale run")
    args = ap.parse_args()
    if args.what == "make":
        for name in args.names or DATASETS:
            print(*make(name, args.work))
    elif args.what == "quality":
        quality(args.names or list(DATASETS), args.work)
    else:
        args.work.mkdir(parents=True, exist_ok=True)
        path = args.work / f"scale_{args.rows}_{args.labels}.csv"
        if not path.exists():
            scale(args.rows, args.labels).to_csv(path, index=False)
        cmd = [*TEXTMINE, "train", "--data", str(path), "--out", str(args.work / "model_scale"), "--force", "-v"]
        cmd += ["--no-cv"] if args.no_cv else []
        cmd += ["--config", args.config] if args.config else []
        seconds, out = run(cmd)
        card = json.loads((args.work / "model_scale" / "model_card.json").read_text())
        cv = card["cv_metrics"] or {}
        load = Path("/proc/loadavg").read_text().split()[:3]
        print(f"scale: {args.rows} rows, {len(card['themes'])} labels, cv={'no' if args.no_cv else 'yes'}: {seconds:.0f} s wall, "
              f"{LAST_CPU:.0f} s CPU (load average {' '.join(load)}) "
              f"(card: {card['training_seconds']} s, scaling {card.get('scaling')}); cv micro {cv.get('micro_f1')} "
              f"macro {cv.get('macro_f1')}")


if __name__ == "__main__":
    main()
