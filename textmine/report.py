"""Reports: the summary for the terminal, as files (JSON, Excel, CSV) and as HTML."""

from __future__ import annotations

import json
import math
import os
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .codebook import Codebook
from .files import atomic_write, check_output, write_table
from .summary import ALL, Summary

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
    paths = {name: out / name for name in ("classified.csv", "summary.xlsx", "summary.json")}
    if html:
        paths["report.html"] = out / "report.html"
    for p in paths.values():
        check_output(p, force=force, inputs=inputs)
    out.mkdir(parents=True, exist_ok=True)
    write_table(tagged, paths["classified.csv"], force=True, inputs=inputs)
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
    if html:
        from ._html import render_html

        page = render_html(summary, tagged, codebook=codebook, lang=lang, quotes=quotes, text_col=text_col)
        atomic_write(paths["report.html"], lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))
    return paths
