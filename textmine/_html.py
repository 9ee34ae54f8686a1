"""The HTML report: one self-contained page in Finnish, Swedish or English.

:func:`render_html` turns a :class:`~textmine.summary.Summary` and the classified
answers into a single HTML document with no external references: the charts are
inline SVG drawn with matplotlib (Agg canvas, text kept as text), the styles are
inline, and there is no script. The page prints on A4. Every static string comes
from ``report_strings.toml`` beside this module; every piece of data is escaped,
and every quoted answer passes through :func:`textmine.redact.redact_text`.

Suppressed cells (fewer than ``min_cell`` respondents) never show a figure: tables
write the marker ``n<k`` and charts leave the bar out and write the marker instead.
"""

from __future__ import annotations

import datetime as _dt
import html
import io
import math
import re
import textwrap
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from . import __version__
from ._config import setting
from .codebook import Codebook, load_codebook
from .errors import TextmineError
from .redact import redact_text
from .summary import ALL, Summary

STRINGS_PATH = Path(__file__).with_name("report_strings.toml")
LANGUAGES = ("fi", "sv", "en")
QUOTE_MAX_CHARS = 500
LABEL_WIDTH = 30  # characters per line of a chart's category label

# Colours chosen to stay apart in grey-scale print: dark bars, black whiskers,
# negative differences dark and positive ones light.
BAR = "#3f5f8a"
NEGATIVE = "#7f2a1d"
POSITIVE = "#9dbbdc"
INK = "#222222"
MUTED = "#555555"
HEAT = (31, 63, 110)

_RC = {
    "svg.fonttype": "none",  # text stays text: small, searchable, no glyph paths
    "svg.hashsalt": "textmine",  # deterministic ids
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica"],
    "font.size": 9.0,
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.unicode_minus": True,
    "xtick.color": MUTED,
    "ytick.color": INK,
    "ytick.major.size": 0.0,
    "text.color": INK,
    "svg.image_inline": True,
}


@lru_cache(maxsize=1)
def load_strings() -> dict[str, dict[str, Any]]:
    """The report's static strings by language, from ``report_strings.toml``."""
    with open(STRINGS_PATH, "rb") as fh:
        return tomllib.load(fh)


# -- language and number formatting ------------------------------------------------------
def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        return False


@dataclass
class _Text:
    """Strings and number formats of one language, and the suppression marker."""

    lang: str
    k: int

    def __post_init__(self) -> None:
        self.s: dict[str, Any] = load_strings()[self.lang]
        self.marker = self.s["suppressed_marker"].format(k=self.k)
        self.charts = 0

    def raw(self, key: str, **values: Any) -> str:
        """The string ``key`` with ``values`` filled in (not escaped)."""
        return str(self.s[key]).format(**values)

    def __call__(self, key: str, **values: Any) -> str:
        """The string ``key`` with ``values`` filled in, HTML-escaped."""
        return html.escape(self.raw(key, **values))

    def num(self, x: Any, digits: int = 2, *, sign: bool = False) -> str:
        """A number in the language's format: ``3,84`` in fi and sv, ``3.84`` in en."""
        if _missing(x):
            return str(self.s["no_data"])
        v = float(x)
        if round(v, digits) == 0:
            v = 0.0
        body = f"{abs(v):,.{digits}f}".replace(",", "\0").replace(".", self.s["decimal"]).replace("\0", self.s["thousands"])
        prefix = "\u2212" if v < 0 else ("+" if sign and v > 0 else "")
        return prefix + body

    def int(self, x: Any) -> str:
        return self.num(x, 0)

    def pct(self, x: Any) -> str:
        if _missing(x):
            return str(self.s["no_data"])
        return self.raw("percent", value=self.num(100 * float(x), 0))

    def date(self, value: Any) -> str:
        """An ISO date (or date-time) in the language's format; other text as it is."""
        try:
            d = value if isinstance(value, _dt.date) else _dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            return str(value)
        return self.raw("date", d=d.day, m=d.month, y=d.year, month=self.s["months"]["names"][d.month - 1])

    def join(self, items: Sequence[str]) -> str:
        """``a, b and c`` in the language."""
        items = list(items)
        if len(items) <= 1:
            return "".join(items)
        return ", ".join(items[:-1]) + f" {self.s['and']} " + items[-1]

    def lang_name(self, code: str) -> str:
        return str(self.s["lang_names"].get(code, code))

    def value(self, value: Any) -> str:
        """A segment value as shown (the summary's "(missing)" in the language)."""
        return self.raw("missing_value") if str(value) == "(missing)" else str(value)


def _e(x: Any) -> str:
    return html.escape(str(x))


# -- charts -------------------------------------------------------------------------------
def _wrap(label: str, width: int = LABEL_WIDTH) -> str:
    return "\n".join(textwrap.wrap(label, width, break_long_words=True)) or label


def _figure(rows: int, *, width: float = 7.0) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(width, 0.75 + 0.34 * max(rows, 1)), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    return fig, ax


def _svg(fig: Figure, label: str, t: _Text) -> str:
    """The figure as an inline ``<svg>`` element without any external reference."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r"<style[^>]*>.*?</style>", "", svg, flags=re.S)
    svg = re.sub(r'\s+xmlns(?::\w+)?="[^"]*"', "", svg)
    svg = svg.replace("xlink:href=", "href=")
    t.charts += 1
    prefix = f"c{t.charts}-"  # ids unique within the page
    svg = re.sub(r'(\sid="|url\(#|href="#)', lambda m: m.group(1) + prefix, svg)
    head = re.match(r"<svg\b[^>]*>", svg)
    assert head is not None
    tag = head.group(0)
    # The page scales the chart to the column width; the viewBox keeps its proportions.
    new_tag = re.sub(r'\s(?:width|height)="[^"]*"', "", tag)
    new_tag = new_tag[:-1] + f' class="chart" role="img" aria-label="{_e(label)}">'
    return new_tag + svg[len(tag) :].rstrip()


def _axis_formatter(t: _Text, digits: int, *, sign: bool = False) -> FuncFormatter:
    return FuncFormatter(lambda v, _pos: t.num(v, digits, sign=sign and v != 0))


@dataclass
class _Bar:
    label: str
    value: float  # NaN when suppressed
    low: float = math.nan
    high: float = math.nan
    text: str = ""  # the value label written beside the bar
    suppressed: bool = False


def _bar_chart(
    bars: Sequence[_Bar],
    t: _Text,
    *,
    start: float,
    end: float,
    ticks: Sequence[float] | None = None,
    digits: int = 0,
    xlabel: str = "",
    reference: float | None = None,
    color: str = BAR,
    label: str = "",
) -> str:
    """Horizontal bars from ``start``, with CI whiskers and value labels; suppressed
    rows get no bar, only the marker."""
    fig, ax = _figure(len(bars))
    span = end - start
    y = np.arange(len(bars))[::-1]
    for yi, b in zip(y, bars, strict=True):
        if b.suppressed or _missing(b.value):
            ax.text(start + 0.01 * span, yi, t.marker if b.suppressed else str(t.s["no_data"]),
                    va="center", ha="left", color=MUTED, style="italic")
            continue
        ax.barh(yi, b.value - start, left=start, height=0.62, color=color)
        right = b.value
        if not _missing(b.low) and not _missing(b.high):
            ax.errorbar(b.value, yi, xerr=[[b.value - b.low], [b.high - b.value]], fmt="none", ecolor=INK,
                        elinewidth=1.0, capsize=3)
            right = max(right, b.high)
        # a white box keeps the label readable where it crosses the reference line
        ax.text(right + 0.015 * span, yi, b.text, va="center", ha="left", color=INK, zorder=4,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0})
    if reference is not None and not _missing(reference):
        ax.axvline(reference, color=INK, linestyle="--", linewidth=0.9, zorder=1.5)
    ax.set_yticks(y, labels=[_wrap(b.label) for b in bars])
    ax.set_ylim(-0.6, len(bars) - 0.4)
    ax.set_xlim(start, end + 0.2 * span)  # room for the value labels
    if ticks is not None:
        ax.set_xticks(list(ticks))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=digits == 0))
        ax.set_xticks([v for v in ax.get_xticks() if start <= v <= end])
    ax.spines["bottom"].set_bounds(start, end)
    ax.spines["left"].set_visible(False)
    ax.xaxis.set_major_formatter(_axis_formatter(t, digits))
    if xlabel:
        ax.set_xlabel(xlabel)
    return _svg(fig, label, t)


def _diverging_chart(bars: Sequence[_Bar], t: _Text, *, xlabel: str, label: str) -> str:
    """Bars of a difference from 0 with CI whiskers (negative dark, positive light)."""
    fig, ax = _figure(len(bars))
    extent = max([abs(v) for b in bars for v in (b.value, b.low, b.high) if not _missing(v)] or [1.0])
    extent = max(extent, 0.1)
    y = np.arange(len(bars))[::-1]
    for yi, b in zip(y, bars, strict=True):
        ax.barh(yi, b.value, height=0.62, color=NEGATIVE if b.value < 0 else POSITIVE, edgecolor=INK, linewidth=0.6)
        lo, hi = b.value, b.value
        if not _missing(b.low) and not _missing(b.high):
            ax.errorbar(b.value, yi, xerr=[[b.value - b.low], [b.high - b.value]], fmt="none", ecolor=INK,
                        elinewidth=1.0, capsize=3)
            lo, hi = min(lo, b.low), max(hi, b.high)
        if b.value < 0:
            ax.text(lo - 0.03 * extent, yi, b.text, va="center", ha="right")
        else:
            ax.text(hi + 0.03 * extent, yi, b.text, va="center", ha="left")
    ax.axvline(0, color=INK, linewidth=0.9)
    ax.set_yticks(y, labels=[_wrap(b.label) for b in bars])
    ax.set_ylim(-0.6, len(bars) - 0.4)
    ax.set_xlim(-1.45 * extent, 1.45 * extent)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=7, symmetric=True))
    ax.xaxis.set_major_formatter(_axis_formatter(t, 2 if extent < 1 else 1, sign=True))
    ax.spines["left"].set_visible(False)
    ax.set_xlabel(xlabel)
    return _svg(fig, label, t)


# -- HTML pieces ---------------------------------------------------------------------------
def _table(head: Sequence[str], rows: Iterable[Sequence[str]], *, caption: str = "", cls: str = "") -> str:
    """A table; cells are already escaped HTML (``<td>`` content, or a whole ``<td ...>``)."""
    out = [f'<table class="{cls}">' if cls else "<table>"]
    if caption:
        out.append(f"<caption>{caption}</caption>")
    out.append("<thead><tr>" + "".join(f'<th scope="col">{h}</th>' for h in head) + "</tr></thead><tbody>")
    for row in rows:
        cells = [row[0] if row[0].startswith("<th") else f'<th scope="row">{row[0]}</th>']
        cells += [c if c.startswith("<td") else f"<td>{c}</td>" for c in row[1:]]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _sup(t: _Text) -> str:
    return f'<td class="sup">{_e(t.marker)}</td>'


def _figure_html(svg: str, caption: str) -> str:
    return f'<figure>{svg}<figcaption>{caption}</figcaption></figure>'


def _labels(summary: Summary, codebook: Codebook | None, lang: str) -> dict[str, str]:
    themes = list(summary.meta["themes"])
    if codebook is None:
        try:
            codebook = load_codebook()
        except TextmineError:
            codebook = None
    known = codebook.labels(lang) if codebook is not None else {}
    return {t: known.get(t, t) for t in themes}


def _main_score(summary: Summary) -> str:
    scores = [str(s) for s in summary.meta["scores"]]
    return "overall" if "overall" in scores else scores[0]


def _row(frame: pd.DataFrame, **match: Any) -> pd.Series | None:
    mask = np.ones(len(frame), dtype=bool)
    for col, val in match.items():
        mask &= (frame[col] == val).to_numpy()
    hit = frame[mask]
    return hit.iloc[0] if len(hit) else None


def _is_sup(row: pd.Series | None) -> bool:
    return row is None or bool(row["suppressed"])


# -- sections ------------------------------------------------------------------------------
def _section_headline(summary: Summary, t: _Text, labels: dict[str, str], main: str) -> str:
    m = summary.meta
    lo, hi = float(setting("summary", "scale_min")), float(setting("summary", "scale_max"))
    first = _row(summary.scores, score=main)
    parts = ['<section id="summary">', f"<h2>{t('sec_headline')}</h2>"]
    # key figures
    if _is_sup(first) or first is None:
        mean_html, ci_html = _e(t.marker), ""
    else:
        mean_html = _e(t.num(first["mean"]))
        ci_html = _e(t.raw("col_ci") + " " + t.raw("ci_range", low=t.num(first["ci_low"]), high=t.num(first["ci_high"])))
    kpis = [
        (t("kpi_respondents"), _e(t.int(m["n_respondents"])), ""),
        (t("kpi_answered"), _e(t.int(m["n_answered"])), ""),
        (t("kpi_mean", score=main), mean_html, ci_html),
        (t("kpi_review"), _e(t.int(m["n_needs_review"])), ""),
    ]
    parts.append('<div class="kpis">' + "".join(
        f'<div class="kpi"><div class="kpi-label">{a}</div><div class="kpi-value">{b}</div>'
        + (f'<div class="kpi-note">{c}</div>' if c else "") + "</div>" for a, b, c in kpis) + "</div>")
    # the sentence
    n = t.int(m["n_respondents"])
    if _is_sup(first) or first is None:
        sentence = t.raw("headline_mean_suppressed", n=n, score=main, k=t.k)
    else:
        ci = t.raw("ci_range", low=t.num(first["ci_low"]), high=t.num(first["ci_high"]))
        sentence = t.raw("headline_mean", n=n, score=main, mean=t.num(first["mean"]), ci=ci)
    overall = summary.themes[(summary.themes["group"] == ALL) & ~summary.themes["suppressed"]]
    counts = dict(zip(overall["theme"], overall["count"], strict=True))
    top = [labels.get(x, x) for x in summary.top_themes() if (counts.get(x) or 0) > 0]
    all_rows = summary.themes[summary.themes["group"] == ALL]
    if top:
        sentence += " " + t.raw("headline_themes" if len(top) > 1 else "headline_one_theme", themes=t.join(top))
    elif len(all_rows) and bool(all_rows["suppressed"].all()):
        sentence += " " + t.raw("headline_themes_suppressed", k=t.k)
    else:
        sentence += " " + t.raw("headline_no_themes")
    parts.append(f'<p class="headline">{_e(sentence)}</p>')
    # dimension means
    bars = [
        _Bar(label=str(r["score"]), value=r["mean"], low=r["ci_low"], high=r["ci_high"], text=t.num(r["mean"]),
             suppressed=bool(r["suppressed"]))
        for _, r in summary.scores.iterrows()
    ]
    caption = t("scores_caption", low=t.num(lo, 0), high=t.num(hi, 0))
    svg = _bar_chart(bars, t, start=lo, end=hi, ticks=list(np.arange(lo, hi + 0.5, 1.0)), xlabel=t.raw("scores_axis"),
                     label=t.raw("scores_caption", low=t.num(lo, 0), high=t.num(hi, 0)))
    parts.append(_figure_html(svg, caption))
    rows = []
    for _, r in summary.scores.iterrows():
        dk, miss = _e(t.int(r["dont_know"])), _e(t.int(r["missing"]))
        if r["suppressed"]:
            rows.append([_e(r["score"]), _sup(t), _sup(t), _sup(t), _sup(t), dk, miss])
        else:
            ci = t.raw("ci_range", low=t.num(r["ci_low"]), high=t.num(r["ci_high"]))
            rows.append([_e(r["score"]), _e(t.int(r["n"])), _e(t.num(r["mean"])), _e(ci), _e(t.num(r["sd"])), dk, miss])
    head = [t(k) for k in ("col_score", "col_n", "col_mean", "col_ci", "col_sd", "col_dont_know", "col_missing")]
    parts.append(_table(head, rows, caption=t("scores_table_caption"), cls="num"))
    parts.append("</section>")
    return "".join(parts)


def _heat_cell(share: float, vmax: float, text: str) -> str:
    mix = 0.0 if vmax <= 0 else max(0.0, min(1.0, share / vmax))
    rgb = tuple(round(255 + (c - 255) * mix * 0.9) for c in HEAT)
    fg = "#ffffff" if mix > 0.55 else INK
    return f'<td class="heat" style="background:rgb{rgb};color:{fg}">{text}</td>'


def _section_segments(summary: Summary, t: _Text, labels: dict[str, str], main: str, theme_order: list[str]) -> str:
    m = summary.meta
    parts = ['<section id="segments">', f"<h2>{t('sec_segments')}</h2>"]
    segments = [str(s) for s in m["segments"]]
    if not segments:
        parts.append(f"<p>{t('segments_none')}</p></section>")
        return "".join(parts)
    lo, hi = float(setting("summary", "scale_min")), float(setting("summary", "scale_max"))
    first = _row(summary.scores, score=main)
    reference = None if _is_sup(first) or first is None else float(first["mean"])
    for seg in segments:
        parts.append(f'<div class="segment"><h3>{t("segment_heading", segment=seg)}</h3>')
        block = summary.segments[(summary.segments["segment"] == seg) & (summary.segments["score"] == main)]
        bars = []
        for _, r in block.iterrows():
            value = t.value(r["value"])
            if _missing(r["respondents"]):
                name = t.raw("segment_label_suppressed", value=value, marker=t.marker)
            else:
                name = t.raw("segment_label", value=value, n=t.int(r["respondents"]))
            bars.append(_Bar(label=name, value=r["mean"], text=t.num(r["mean"]), suppressed=bool(r["suppressed"])))
        if bars:
            caption = t.raw("segment_chart_caption", score=main, segment=seg)
            svg = _bar_chart(bars, t, start=lo, end=hi, ticks=list(np.arange(lo, hi + 0.5, 1.0)),
                             xlabel=t.raw("scores_axis"), reference=reference, label=caption)
            parts.append(_figure_html(svg, _e(caption)))
        # theme shares per value: a heat-map table
        tb = summary.themes[summary.themes["group"] == seg]
        values = list(dict.fromkeys(tb["value"]))
        if values and theme_order:
            shares = [float(s) for s in tb.loc[~tb["suppressed"], "share"] if not _missing(s)]
            vmax = max(shares or [0.0])
            head = [t("col_theme")] + [_e(t.value(v)) for v in values]
            answered = []
            for v in values:
                a = tb.loc[tb["value"] == v, "answered"].iloc[0]
                answered.append(_sup(t) if _missing(a) else _e(t.int(a)))
            rows = [[f'<th scope="row" class="sub">{t("heatmap_answers")}</th>', *answered]]
            for theme in theme_order:
                cells = []
                for v in values:
                    cell = _row(tb, value=v, theme=theme)
                    if _is_sup(cell) or cell is None:
                        cells.append(_sup(t))
                    elif _missing(cell["share"]):
                        cells.append(f"<td>{_e(t.s['no_data'])}</td>")
                    else:
                        cells.append(_heat_cell(float(cell["share"]), vmax, _e(t.pct(cell["share"]))))
                rows.append([_e(labels.get(theme, theme)), *cells])
            parts.append(_table(head, rows, caption=t("heatmap_caption", segment=seg), cls="num heatmap"))
        parts.append("</div>")
    parts.append("</section>")
    return "".join(parts)


def _quotes(tagged: pd.DataFrame, theme: str, text_col: str, n: int) -> list[tuple[str, str]]:
    """Up to ``n`` (redacted text, language) among the answers tagged with ``theme``,
    most confident first."""
    if theme not in tagged.columns or n <= 0:
        return []
    flag = pd.to_numeric(tagged[theme], errors="coerce").fillna(0) == 1
    text = tagged[text_col].astype("string").fillna("").str.strip()
    mask = flag & (text != "")
    prob_col = f"p_{theme}"
    prob = pd.to_numeric(tagged[prob_col], errors="coerce") if prob_col in tagged.columns else pd.Series(0.0, index=tagged.index)
    langs = tagged["lang"].astype("string").fillna("") if "lang" in tagged.columns else pd.Series("", index=tagged.index)
    chosen = pd.DataFrame({"text": text[mask], "p": prob[mask], "lang": langs[mask]})
    chosen = chosen.sort_values("p", ascending=False, kind="stable")
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for row in chosen.itertuples(index=False):
        quote = " ".join(redact_text(str(row.text)).split())
        if quote in seen:
            continue
        seen.add(quote)
        if len(quote) > QUOTE_MAX_CHARS:
            quote = quote[: QUOTE_MAX_CHARS - 1].rstrip() + "…"
        out.append((quote, str(row.lang)))
        if len(out) >= n:
            break
    return out


def _section_themes(
    summary: Summary,
    tagged: pd.DataFrame,
    t: _Text,
    labels: dict[str, str],
    main: str,
    theme_order: list[str],
    quotes: int,
    text_col: str | None,
) -> str:
    m = summary.meta
    parts = ['<section id="themes">', f"<h2>{t('sec_themes')}</h2>"]
    overall = summary.themes[summary.themes["group"] == ALL].set_index("theme")
    if theme_order:
        bars = []
        for theme in theme_order:
            r = overall.loc[theme]
            sup = bool(r["suppressed"])
            text = "" if sup else t.raw("themes_bar_label", count=t.int(r["count"]), share=t.pct(r["share"]))
            bars.append(_Bar(label=labels.get(theme, theme), value=float(r["count"]), text=text, suppressed=sup))
        top = max([float(b.value) for b in bars if not b.suppressed and not _missing(b.value)] or [1.0])
        caption = t.raw("themes_caption", n=t.int(m["n_answered"]))
        svg = _bar_chart(bars, t, start=0.0, end=max(top, 1.0) * 1.1, digits=0, xlabel=t.raw("themes_axis"), label=caption)
        parts.append(_figure_html(svg, _e(caption)))

    # impact on the main score
    parts.append(f"<h3>{t('impact_heading', score=main)}</h3>")
    imp = summary.impact[summary.impact["score"] == main]
    shown = imp[~imp["suppressed"] & imp["diff"].notna()].sort_values("diff", kind="stable")
    hidden = [labels.get(x, x) for x in imp.loc[imp["suppressed"], "theme"]]
    if len(shown):
        bars = [_Bar(label=labels.get(r["theme"], r["theme"]), value=float(r["diff"]), low=r["ci_low"], high=r["ci_high"],
                     text=t.num(r["diff"], sign=True)) for _, r in shown.iterrows()]
        caption = t.raw("impact_caption", score=main)
        svg = _diverging_chart(bars, t, xlabel=t.raw("impact_axis"), label=caption)
        parts.append(_figure_html(svg, _e(caption)))
    else:
        parts.append(f"<p>{t('impact_none')}</p>")
    if hidden:
        parts.append(f'<p class="note">{t("impact_suppressed", k=t.k, themes=t.join(hidden))}</p>')

    # example answers
    parts.append(f'<h3>{t("quotes_heading")}</h3>')
    col = text_col or m.get("text_col")
    if quotes <= 0 or not col or col not in tagged.columns:
        parts.append(f"<p>{t('quotes_off')}</p>")
    else:
        parts.append(f'<p class="note">{t("quotes_intro", n=quotes)}</p>')
        any_quote = False
        for theme in theme_order:
            r = overall.loc[theme]
            if bool(r["suppressed"]) or _missing(r["count"]) or float(r["count"]) <= 0:
                continue
            found = _quotes(tagged, theme, str(col), quotes)
            if not found:
                continue
            any_quote = True
            parts.append(f'<div class="quotes"><h4>{_e(labels.get(theme, theme))}</h4>')
            for text, lg in found:
                attr = f' lang="{_e(lg)}"' if lg in LANGUAGES else ""
                tag = (f'<span class="lang" title="{t("quote_lang", lang=t.lang_name(lg))}">{_e(lg.upper())}</span>'
                       if lg else "")
                parts.append(f"<blockquote{attr}>{tag}<p>{_e(text)}</p></blockquote>")
            parts.append("</div>")
        if not any_quote:
            parts.append(f"<p>{t('quotes_none')}</p>")
    parts.append("</section>")
    return "".join(parts)


def _section_waves(summary: Summary, t: _Text, labels: dict[str, str], main: str, theme_order: list[str]) -> str:
    """Trend chart and table of scores and theme shares by wave (only with a wave column)."""
    waves = summary.waves
    if not len(waves):
        return ""
    order = list(dict.fromkeys(waves["wave"]))
    top = [th for th in theme_order if th not in summary.meta.get("non_development", [])][:3]
    parts = ['<section id="waves">', f"<h2>{t('sec_waves')}</h2>"]
    fig = Figure(figsize=(7.0, 3.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax_score, ax_share = fig.subplots(1, 2)
    x = np.arange(len(order))
    score = waves[(waves["kind"] == "score") & (waves["name"] == main)].set_index("wave").reindex(order)
    ax_score.plot(x, score["value"].astype(float), marker="o", color="#3b5b8c")
    ax_score.set_title(main, fontsize=9)
    for th in top:
        share = waves[(waves["kind"] == "theme") & (waves["name"] == th)].set_index("wave").reindex(order)
        ax_share.plot(x, 100 * share["value"].astype(float), marker="o", label=_wrap(labels.get(th, th), 24))
    ax_share.set_title("%", fontsize=9)
    ax_share.legend(fontsize=7, frameon=False)
    for ax in (ax_score, ax_share):
        ax.set_xticks(x, [str(w) for w in order], fontsize=7, rotation=30 if len(order) > 4 else 0)
    parts.append(_figure_html(_svg(fig, t("sec_waves"), t), t("waves_chart_caption", score=main)))
    rows = []
    for (kind, name), group in waves.groupby(["kind", "name"], sort=False):
        if kind == "theme" and name not in top:
            continue
        cells = [_e(name if kind == "score" else labels.get(name, name))]
        for w in order:
            r = _row(group, wave=w)
            if _is_sup(r):
                cells.append(_sup(t))
                continue
            assert r is not None
            value = t.num(r["value"]) if kind == "score" else t.pct(r["value"])
            if not pd.isna(r["change"]):
                change = t.num(r["change"], sign=True) if kind == "score" else t.num(100 * r["change"], 0, sign=True)
                value += f" ({change}{'*' if r['significant'] else ''})"
            cells.append(_e(value))
        rows.append(cells)
    parts.append(_table([t("col_wave_measure"), *[str(w) for w in order]], rows, caption=t("waves_table_caption"), cls="num"))
    parts.append("</section>")
    return "".join(parts)


def _section_languages(summary: Summary, t: _Text) -> str:
    m = summary.meta
    parts = ['<section id="languages">', f"<h2>{t('sec_languages')}</h2>"]
    rows = []
    for _, r in summary.languages.iterrows():
        name = _e(t.lang_name(str(r["lang"])))
        if r["suppressed"]:
            rows.append([name, _sup(t), _sup(t)])
        else:
            rows.append([name, _e(t.int(r["answers"])), _e(t.pct(r["share"]))])
    if rows:
        head = [t("col_language"), t("col_answers"), t("col_share")]
        parts.append(_table(head, rows, caption=t("languages_caption"), cls="num narrow"))
    answered = m["n_answered"]
    share = t.pct(m["n_needs_review"] / answered) if answered else t.s["no_data"]
    parts.append(f"<p>{t('review_sentence', n=t.int(m['n_needs_review']), share=share)}</p>")
    if m.get("n_empty"):
        parts.append(f"<p>{t('empty_sentence', n=t.int(m['n_empty']))}</p>")
    parts.append("</section>")
    return "".join(parts)


def _section_method(summary: Summary, t: _Text, labels: dict[str, str]) -> str:
    m = summary.meta
    model = m.get("model") or {}
    cv = model.get("cv_metrics") or {}
    parts = ['<section id="method">', f"<h2>{t('sec_method')}</h2>"]
    if model:
        cb = model.get("codebook") or {}
        parts.append("<p>" + t("model_sentence", version=model.get("textmine_version", "?"),
                               created=t.date(model.get("created", "?")), codebook=cb.get("name") or "?",
                               codebook_version=cb.get("version", "?")) + "</p>")
    else:
        parts.append(f"<p>{t('model_none')}</p>")
    if cv.get("micro_f1") is not None or cv.get("macro_f1") is not None:
        parts.append(f"<p>{t('cv_sentence', micro=t.num(cv.get('micro_f1')), macro=t.num(cv.get('macro_f1')))}</p>")
    else:
        parts.append(f"<p>{t('cv_none')}</p>")
    thresholds = model.get("thresholds") or {}
    per_theme = cv.get("per_theme") or {}
    if thresholds:
        rows = []
        for theme in [x for x in m["themes"] if x in thresholds] + [x for x in thresholds if x not in m["themes"]]:
            f1 = (per_theme.get(theme) or {}).get("f1")
            rows.append([_e(labels.get(theme, theme)), _e(t.num(thresholds[theme])), _e(t.num(f1))])
        head = [t("col_theme"), t("col_threshold"), t("col_f1")]
        parts.append(_table(head, rows, caption=t("thresholds_caption"), cls="num"))
    parts.append(f"<p>{t('suppression_rule', k=t.k, marker=t.marker)}</p>")
    codes = [str(c) for c in m.get("dont_know_codes") or []]
    if codes:
        parts.append(f"<p>{t('dont_know_sentence', codes=', '.join(codes))}</p>")
    else:
        parts.append(f"<p>{t('dont_know_none')}</p>")
    problems = {c: p for c, p in (m.get("problems") or {}).items() if p}
    if problems:
        details = "; ".join(t.raw("problems_item", score=c, count=t.int(len(p))) for c, p in problems.items())
        parts.append(f"<p>{t('problems_sentence', details=details)}</p>")
    parts.append("</section>")
    return "".join(parts)


CSS = """
*{-webkit-print-color-adjust:exact;print-color-adjust:exact;box-sizing:border-box}
html{font-family:"DejaVu Sans","Segoe UI","Helvetica Neue",Arial,sans-serif;color:#222;background:#fff}
body{margin:0;line-height:1.45;font-size:15px}
main{max-width:54rem;margin:0 auto;padding:1.5rem 1.5rem 3rem}
h1{font-size:1.7rem;margin:0 0 .25rem;line-height:1.2}
h2{font-size:1.3rem;margin:2.2rem 0 .8rem;padding-bottom:.25rem;border-bottom:2px solid #3f5f8a}
h3{font-size:1.08rem;margin:1.6rem 0 .5rem}
h4{font-size:.98rem;margin:1.1rem 0 .35rem}
h2,h3,h4{break-after:avoid;page-break-after:avoid}
header .sub{color:#555;margin:0}
nav.toc{margin:1rem 0 0;font-size:.9rem;color:#555}
nav.toc a{color:#3f5f8a;margin-right:1rem;text-decoration:none}
.headline{font-size:1.08rem;border-left:4px solid #3f5f8a;padding:.4rem .8rem;background:#f2f5f9}
.kpis{display:flex;flex-wrap:wrap;gap:.6rem;margin:1rem 0}
.kpi{flex:1 1 9rem;border:1px solid #bbb;border-radius:4px;padding:.5rem .7rem;break-inside:avoid}
.kpi-label{font-size:.8rem;color:#555}
.kpi-value{font-size:1.6rem;font-weight:bold;line-height:1.2}
.kpi-note{font-size:.78rem;color:#555}
figure{margin:1rem 0 1.4rem;break-inside:avoid;page-break-inside:avoid}
svg.chart{display:block;width:100%;height:auto}
svg.chart *{stroke-linejoin:round;stroke-linecap:butt}
figcaption,caption,.note{font-size:.85rem;color:#444}
figcaption{margin-top:.3rem}
table{border-collapse:collapse;margin:.8rem 0 1.4rem;font-size:.85rem;break-inside:auto}
caption{text-align:left;caption-side:bottom;padding-top:.3rem}
thead{display:table-header-group}
tr{break-inside:avoid;page-break-inside:avoid}
th,td{border-bottom:1px solid #ccc;padding:.22rem .5rem;vertical-align:top}
thead th{border-bottom:2px solid #555;text-align:left;vertical-align:bottom}
table.num td{text-align:right;white-space:nowrap}
table.num thead th+th{text-align:right}
th[scope=row]{text-align:left;font-weight:normal}
th.sub,table.heatmap tbody tr:first-child td{font-style:italic}
table.heatmap{width:100%;break-inside:avoid;page-break-inside:avoid}
table.narrow{min-width:22rem}
table.heatmap td{border:1px solid #fff}
td.sup{color:#555;font-style:italic;background:#f3f3f3}
.segment{break-inside:auto}
.quotes{break-inside:auto}
blockquote{margin:.35rem 0 .6rem;padding:.35rem .7rem;border-left:3px solid #999;background:#f7f7f7;break-inside:avoid;page-break-inside:avoid;font-size:.92rem}
blockquote p{margin:0;display:inline}
.lang{display:inline-block;font-size:.68rem;font-weight:bold;letter-spacing:.04em;color:#333;border:1px solid #777;border-radius:3px;padding:0 .25rem;margin-right:.45rem;vertical-align:.1em}
footer{margin-top:2.5rem;font-size:.8rem;color:#555;border-top:1px solid #ccc;padding-top:.5rem}
@page{size:A4;margin:16mm 14mm 18mm}
@media print{
 body{font-size:10pt}
 main{max-width:none;padding:0}
 nav.toc{display:none}
 h2{margin-top:1.6rem}
 #segments h2{margin-top:0}
 #segments{break-before:page;page-break-before:always}
 footer{margin-top:1rem;break-before:avoid}
 .headline{background:none}
 a{color:inherit;text-decoration:none}
}
"""


def render_html(
    summary: Summary,
    tagged: pd.DataFrame,
    *,
    codebook: Codebook | None = None,
    lang: str | None = "en",
    quotes: int | None = None,
    text_col: str | None = None,
) -> str:
    """The report as one self-contained HTML page (no external references, no script).

    Parameters
    ----------
    summary:
        The output of :func:`textmine.summary.summarize`.
    tagged:
        The classified answers (:func:`textmine.predict.classify`), for the example answers.
    codebook:
        For the theme labels; default the shipped codebook (ids where it has no label).
    lang:
        The report's language: "fi", "sv" or "en" (None: the ``[report] language`` setting).
    quotes:
        Example answers per theme (None: the ``[report] quotes`` setting; 0: none).
    text_col:
        The free-text column (default the one the summary was made with).
    """
    lang = lang or str(setting("report", "language"))
    strings = load_strings()
    if lang not in strings:
        raise ValueError(f"Unknown report language {lang!r}: use one of {', '.join(sorted(strings))}.")
    n_quotes = int(setting("report", "quotes") if quotes is None else quotes)
    m = summary.meta
    t = _Text(lang, int(m["min_cell"]))
    labels = _labels(summary, codebook, lang)
    main = _main_score(summary)
    overall = summary.themes[summary.themes["group"] == ALL].sort_values(["rank", "theme"], kind="stable")
    theme_order = [str(x) for x in overall["theme"]]

    with mpl.rc_context(cast(Any, _RC)):
        body = [
            _section_headline(summary, t, labels, main),
            _section_segments(summary, t, labels, main, theme_order),
            _section_themes(summary, tagged, t, labels, main, theme_order, n_quotes, text_col),
            _section_waves(summary, t, labels, main, theme_order),
            _section_languages(summary, t),
            _section_method(summary, t, labels),
        ]
    toc = [("summary", "sec_headline"), ("segments", "sec_segments"), ("themes", "sec_themes"),
           *([("waves", "sec_waves")] if len(summary.waves) else []),
           ("languages", "sec_languages"), ("method", "sec_method")]
    subtitle = t("subtitle", n_respondents=t.int(m["n_respondents"]), n_answered=t.int(m["n_answered"]),
                 date=t.date(_dt.date.today()))
    return "\n".join([
        "<!DOCTYPE html>",
        f'<html lang="{_e(lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="textmine {_e(__version__)}">',
        f"<title>{t('title')}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body><main>",
        f"<header><h1>{t('title')}</h1><p class=\"sub\">{subtitle}</p></header>",
        f'<nav class="toc" aria-label="{t("toc")}">' + "".join(f'<a href="#{a}">{t(k)}</a>' for a, k in toc) + "</nav>",
        *body,
        f'<p class="note">{t("suppressed_legend", marker=t.marker, k=t.k)}</p>',
        f"<footer>{t('footer', version=__version__)}</footer>",
        "</main></body>",
        "</html>",
        "",
    ])
