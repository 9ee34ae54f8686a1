"""Reports: the summary for the terminal, as files (JSON, Excel, CSV) and as HTML."""

from __future__ import annotations

import json
import math
import os
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ._config import setting
from .codebook import Codebook
from .files import TableWriter, atomic_write, check_output, encode_chunk, write_table
from .predict import Counts, as_classified, classify_chunks, default_jobs, open_stream
from .summary import ALL, Aggregates, Summary, check_problems, dont_know_codes, resolve_columns

PathLike = str | os.PathLike[str]
WIDTH = 100
SUPPRESSED = "n<{k}"


def _fmt(x: Any, digits: int = 2, *, decimal: str = ".") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if isinstance(x, float) and not x.is_integer() or digits and isinstance(x, float):
        return f"{x:.{digits}f}".replace(".", decimal)
    return str(int(x)) if isinstance(x, float) else str(x)


def _pct(x: Any) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.0f}%"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _labels(summary: Summary, codebook: Codebook | None, lang: str = "en") -> dict[str, str]:
    labels = dict(summary.meta.get("model", {}).get("labels") or {})
    if codebook is not None:
        labels.update(codebook.labels(lang))
    return {t: labels.get(t, t) for t in summary.meta["themes"]}


def headline(summary: Summary, *, codebook: Codebook | None = None) -> str:
    """One sentence: respondents, overall mean, and the leading development themes."""
    m = summary.meta
    first = summary.scores.iloc[0] if len(summary.scores) else None
    labels = _labels(summary, codebook)
    top = [labels[t] for t in summary.top_themes(2)]
    parts = [f"{m['n_respondents']} respondents"]
    if first is not None and not first.suppressed:
        parts.append(f"mean {first.score} {first['mean']:.2f} (95% CI {first.ci_low:.2f}-{first.ci_high:.2f})")
    if top:
        parts.append("leading development themes: " + " and ".join(top))
    return "; ".join(parts) + "."


def render_terminal(summary: Summary, *, codebook: Codebook | None = None, source: str = "") -> str:
    """The headline figures and every table as plain text, at most 100 columns wide."""
    m, k = summary.meta, summary.meta["min_cell"]
    sup = SUPPRESSED.format(k=k)
    labels = _labels(summary, codebook)
    lines: list[str] = []
    title = f"textmine report{': ' + source if source else ''}"
    lines += [title, "=" * min(WIDTH, len(title))]
    lines.append(
        f"{m['n_respondents']} rows read; {m['n_answered']} answers tagged, {m['n_empty']} empty; "
        f"{m['n_needs_review']} flagged for review."
    )
    model = m.get("model") or {}
    cv = model.get("cv_metrics") or {}
    if model:
        lines.append(
            f"Model: textmine {model.get('textmine_version', '?')}, codebook v{(model.get('codebook') or {}).get('version', '?')}, "
            f"cross-validated micro-F1 {_fmt(cv.get('micro_f1'))}, macro-F1 {_fmt(cv.get('macro_f1'))}."
        )
    lines += ["", *textwrap.wrap(headline(summary, codebook=codebook), WIDTH), ""]

    lines.append("Scores (1-5; don't-know answers excluded from means)")
    lines.append(f"{'score':<26}{'n':>6}{'mean':>7}{'95% CI':>15}{'sd':>7}{'dont know':>11}{'missing':>9}")
    for r in summary.scores.itertuples():
        if r.suppressed:
            lines.append(f"{_cut(r.score, 25):<26}{sup:>6}")
            continue
        ci = f"{r.ci_low:.2f}-{r.ci_high:.2f}"
        lines.append(f"{_cut(r.score, 25):<26}{int(r.n):>6}{r.mean:>7.2f}{ci:>15}{r.sd:>7.2f}{r.dont_know:>11}{r.missing:>9}")

    scores = list(m["scores"])
    for seg in m["segments"]:
        block = summary.segments[summary.segments["segment"] == seg]
        lines += ["", f"Mean scores by {seg}"]
        head = f"{'value':<18}{'n':>6}" + "".join(f"{_cut(s, 9):>10}" for s in scores)
        lines.append(head[:WIDTH])
        for value, rows in block.groupby("value", sort=False):
            resp = rows["respondents"].iloc[0]
            cells = []
            for s in scores:
                r = rows[rows["score"] == s].iloc[0]
                cells.append(f"{sup if r['suppressed'] else format(r['mean'], '.2f'):>10}")
            lines.append((f"{_cut(str(value), 17):<18}{sup if pd.isna(resp) else int(resp):>6}" + "".join(cells))[:WIDTH])

    overall = summary.themes[summary.themes["group"] == ALL].sort_values("rank")
    answered = m["n_answered"]
    lines += ["", f"Development themes ({answered} answers; an answer may raise several)"]
    lines.append(f"{'theme':<40}{'count':>7}{'share':>7}  ")
    top = max([c for c in overall["count"] if not pd.isna(c)] or [1])
    for r in overall.itertuples():
        if r.suppressed:
            lines.append(f"{_cut(labels[r.theme], 39):<40}{sup:>7}")
            continue
        bar = "#" * int(round(30 * r.count / max(1, top)))
        lines.append(f"{_cut(labels[r.theme], 39):<40}{int(r.count):>7}{_pct(r.share):>7}  {bar}")

    for seg in m["segments"]:
        block = summary.themes[summary.themes["group"] == seg]
        values = list(dict.fromkeys(block["value"]))
        for start in range(0, len(values), 7):
            chunk = values[start : start + 7]
            lines += ["", f"Theme shares by {seg}" + (" (continued)" if start else "")]
            lines.append(f"{'theme':<26}" + "".join(f"{_cut(str(v), 9):>10}" for v in chunk))
            for t in m["themes"]:
                cells = []
                for v in chunk:
                    r = block[(block["value"] == v) & (block["theme"] == t)].iloc[0]
                    cells.append(f"{sup if r['suppressed'] else _pct(r['share']):>10}")
                lines.append(f"{_cut(labels[t], 25):<26}" + "".join(cells))

    main_score = "overall" if "overall" in scores else scores[0]
    imp = summary.impact[summary.impact["score"] == main_score].copy()
    imp = imp.assign(order=imp["diff"].fillna(0)).sort_values("order")
    lines += ["", f"Theme impact on {main_score}: mean among answers raising the theme vs the rest"]
    lines.append(f"{'theme':<34}{'n with':>8}{'with':>7}{'without':>9}{'diff':>8}{'95% CI':>17}")
    for r in imp.itertuples():
        if r.suppressed:
            lines.append(f"{_cut(labels[r.theme], 33):<34}{sup:>8}")
            continue
        ci = f"{r.ci_low:+.2f} to {r.ci_high:+.2f}" if not math.isnan(r.ci_low) else ""
        lines.append(f"{_cut(labels[r.theme], 33):<34}{int(r.n_with):>8}{r.mean_with:>7.2f}{r.mean_without:>9.2f}{r.diff:>+8.2f}{ci:>17}")

    if len(summary.waves):
        lines += ["", f"By wave ({m.get('wave')}{', per ' + m['period'] if m.get('period') else ''}): "
                  "value, change from the previous wave (* p < 0.05)"]
        waves = list(dict.fromkeys(summary.waves["wave"]))
        for start in range(0, len(waves), 5):
            chunk = waves[start : start + 5]
            lines.append(f"{'':<26}" + "".join(f"{_cut(str(w), 13):>14}" for w in chunk))
            for (kind, name), rows in summary.waves.groupby(["kind", "name"], sort=False):
                cells = []
                for w in chunk:
                    r = rows[rows["wave"] == w].iloc[0]
                    if r["suppressed"]:
                        cells.append(f"{sup:>14}")
                        continue
                    value = f"{r['value']:.2f}" if kind == "score" else _pct(r["value"])
                    change = "" if pd.isna(r["change"]) else (
                        f" {r['change']:+.2f}" if kind == "score" else f" {100 * r['change']:+.0f}")
                    cells.append(f"{value + change + ('*' if r['significant'] else ''):>14}")
                label = name if kind == "score" else labels.get(name, name)
                lines.append(f"{_cut(label, 25):<26}" + "".join(cells))

    lines += ["", "Languages of the answers"]
    for r in summary.languages.itertuples():
        lines.append(f"  {r.lang:<8}{sup if r.suppressed else int(r.answers):>6}  {'' if r.suppressed else _pct(r.share)}")
    if any(summary.meta["problems"].values()):
        lines += ["", "Score values outside the scale (treated as missing):"]
        for col, probs in summary.meta["problems"].items():
            shown = ", ".join(f"row {row}: {val!r}" for row, val in probs[:8])
            lines.append(_cut(f"  {col}: {len(probs)} value(s): {shown}" + (" ..." if len(probs) > 8 else ""), WIDTH))
    lines += ["", f"{sup}: suppressed, fewer than {k} respondents in the cell."]
    wrapped = [part for line in lines for part in (textwrap.wrap(line, WIDTH, subsequent_indent="  ") if len(line) > WIDTH else [line])]
    return "\n".join(line.rstrip() for line in wrapped)


def display_tables(summary: Summary, *, codebook: Codebook | None = None) -> dict[str, pd.DataFrame]:
    """The tables for people: suppressed figures replaced by the text 'n<k', theme labels added."""
    sup = SUPPRESSED.format(k=summary.meta["min_cell"])
    labels = _labels(summary, codebook)
    out = {}
    for name, table in summary.tables().items():
        t = table.copy()
        figures = [c for c in t.columns if c not in ("score", "segment", "value", "group", "theme", "lang", "suppressed", "rank", "dont_know", "missing")]
        if len(t):
            t[figures] = t[figures].astype(object)
            t.loc[t["suppressed"], figures] = sup
        if "theme" in t.columns:
            t.insert(t.columns.get_loc("theme") + 1, "label", t["theme"].map(labels))
        out[name] = t.drop(columns=["suppressed"])
    return out


def write_summary_files(
    summary: Summary,
    tagged: pd.DataFrame,
    paths: dict[str, Path],
    *,
    codebook: Codebook | None = None,
    lang: str = "en",
    quotes: int | None = None,
    text_col: str | None = None,
) -> None:
    """Write summary.xlsx, summary.json and (when in ``paths``) report.html, each atomically."""
    tables = display_tables(summary, codebook=codebook)
    head = pd.DataFrame(
        [(k, v) for k, v in summary.to_dict().items() if not isinstance(v, (dict, list))] + [("headline", headline(summary, codebook=codebook))],
        columns=["figure", "value"],
    )

    def write_xlsx(tmp: str) -> None:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
            head.to_excel(xl, sheet_name="headline", index=False)
            for name, table in tables.items():
                table.to_excel(xl, sheet_name=name, index=False)

    atomic_write(paths["summary.xlsx"], write_xlsx)
    text = json.dumps(summary.to_dict(), indent=2, ensure_ascii=False)
    atomic_write(paths["summary.json"], lambda tmp: Path(tmp).write_text(text + "\n", encoding="utf-8"))
    if "report.html" in paths:
        from ._html import render_html

        page = render_html(summary, tagged, codebook=codebook, lang=lang, quotes=quotes, text_col=text_col)
        atomic_write(paths["report.html"], lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))


def write_report(
    summary: Summary,
    tagged: pd.DataFrame,
    out_dir: PathLike,
    *,
    codebook: Codebook | None = None,
    force: bool = False,
    inputs: Sequence[PathLike] = (),
    html: bool = True,
    lang: str = "en",
    quotes: int | None = None,
    text_col: str | None = None,
) -> dict[str, Path]:
    """Write classified.csv, summary.xlsx, summary.json and report.html to ``out_dir``."""
    out = Path(out_dir)
    names = ["classified.csv", "summary.xlsx", "summary.json"] + (["report.html"] if html else [])
    paths = {name: out / name for name in names}
    for p in paths.values():
        check_output(p, force=force, inputs=inputs)
    write_table(tagged, paths["classified.csv"], force=True, inputs=inputs)
    write_summary_files(summary, tagged, paths, codebook=codebook, lang=lang, quotes=quotes, text_col=text_col)
    return paths


def quote_candidates(tagged: pd.DataFrame, themes: Sequence[str], *, n: int) -> pd.DataFrame:
    """The rows that can be quoted: per theme the ``3 n`` most probable answers tagged with it.

    Keeping only these while streaming gives report.html the same quotes as the whole data.
    """
    keep: set[Any] = set()
    for t in themes:
        if t in tagged.columns and f"p_{t}" in tagged.columns:
            hits = tagged[tagged[t] == 1]
            keep.update(hits[f"p_{t}"].sort_values(ascending=False, kind="stable").index[: 3 * n])
    return tagged[tagged.index.isin(list(keep))]


@dataclass
class ReportResult:
    """What :func:`report_file` made: the summary, the written files and the row counts."""

    summary: Summary
    paths: dict[str, Path]
    counts: Counts
    text_col: str


def report_file(
    input_path: PathLike,
    *,
    model: Any = None,
    out_dir: PathLike | None = None,
    scores: Sequence[str] | None = None,
    segments: Sequence[str] | None = None,
    text_col: str | None = None,
    min_cell: int | None = None,
    strict: bool = False,
    redact: bool = True,
    lang: str = "en",
    quotes: int | None = None,
    codebook: Codebook | None = None,
    chunk_size: int | None = None,
    jobs: int | None = None,
    force: bool = False,
    read_options: dict[str, Any] | None = None,
    on_text_col: Any = None,
    wave: str | None = None,
    period: str | None = None,
    on_chunk: Any = None,
    on_first_chunk: Any = None,
) -> ReportResult:
    """Classify a survey file and summarize it, streaming in chunks (the ``report`` command).

    The summary is built from mergeable aggregates, so memory stays bounded; with
    ``out_dir`` the classified rows are written to ``classified.csv`` as they are done,
    then summary.xlsx, summary.json and report.html.
    """
    from .model import load_model

    model = model if model is not None else load_model()
    n_quotes = int(setting("report", "quotes") if quotes is None else quotes)
    names = ("classified.csv", "summary.xlsx", "summary.json", "report.html")
    paths = {name: Path(out_dir) / name for name in names} if out_dir is not None else {}
    for p in paths.values():
        check_output(p, force=force, inputs=[input_path])
    first: list[pd.DataFrame] = []

    def on_first(chunk: pd.DataFrame) -> None:
        first.append(chunk)
        if on_first_chunk:
            on_first_chunk(chunk)

    chunks, text_col = open_stream(input_path, chunk_size=chunk_size, text_col=text_col, read_options=read_options,
                                   required=[*(scores or []), *(segments or []), *([wave] if wave else [])],
                                   on_text_col=on_text_col, on_first_chunk=on_first)
    themes = list(model.themes_)
    codes = tuple(sorted(dont_know_codes()))
    # score and segment columns are found on the first chunk, as classify will name its columns
    score_cols, seg_cols = resolve_columns(as_classified(first[0], themes), scores=scores, segments=segments, text_col=text_col,
                                           themes=themes, dont_know=codes, wave=wave)

    def new_aggregates() -> Aggregates:
        return Aggregates(scores=score_cols, segments=seg_cols, themes=themes, text_col=text_col, dont_know=codes,
                          wave=wave, period=period)

    def finish(tagged: pd.DataFrame, offset: int) -> tuple[Counts, Aggregates, pd.DataFrame, bytes | None]:
        part = Counts.of(tagged)
        payload = encode_chunk(tagged, ".csv", header=offset == 0) if paths else None
        return part, new_aggregates().update(tagged, row_offset=offset), quote_candidates(tagged, themes, n=n_quotes), payload

    counts = Counts()
    agg = new_aggregates()
    candidates = pd.DataFrame()
    writer = TableWriter(paths["classified.csv"], force=True, inputs=[input_path]) if paths else None
    try:
        stream = classify_chunks(chunks, model, text_col=text_col, jobs=jobs or default_jobs(), finish=finish, redact=redact)
        for part, part_agg, part_quotes, payload in stream:
            agg.merge(part_agg)
            counts.merge(part)
            candidates = quote_candidates(pd.concat([candidates, part_quotes]) if len(candidates) else part_quotes,
                                          themes, n=n_quotes)
            if writer is not None and payload is not None:
                writer.write_encoded(payload, part.read)
            if on_chunk:
                on_chunk(counts)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    if strict:
        check_problems(agg.problems)
    summary = agg.finalize(min_cell=min_cell, model_card=getattr(model, "card_", {}))
    if writer is not None:
        writer.close()
        write_summary_files(summary, candidates, paths, codebook=codebook, lang=lang, quotes=n_quotes, text_col=text_col)
    return ReportResult(summary=summary, paths=paths, counts=counts, text_col=text_col)
