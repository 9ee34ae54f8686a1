"""The score summary with theme counts, built from mergeable partial aggregates.

:class:`Aggregates` holds counts, sums and sums of squares per cell; chunks of
rows are added with ``update`` and partial results combined with ``merge``, so a
summary never needs all rows in memory and gives the same figures as
:func:`summarize` on the whole frame. ``finalize`` turns them into a
:class:`Summary` of tidy DataFrames, suppressing cells with fewer than
``min_cell`` respondents.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._config import setting
from .errors import TextmineError
from .files import dont_know_codes, parse_scores, require_columns

ALL = "(all)"
_OUTPUT = {"lang", "themes", "confidence", "needs_review"}


# -- column roles ---------------------------------------------------------------------
def detect_themes(tagged: pd.DataFrame) -> list[str]:
    """Theme ids of a classified frame: the ``p_<id>`` columns that have an ``<id>`` column."""
    return [c[2:] for c in tagged.columns if c.startswith("p_") and c[2:] in tagged.columns]


def detect_scores(
    df: pd.DataFrame, *, exclude: Sequence[str] = (), dont_know: Sequence[str] | None = None
) -> list[str]:
    """Columns whose values all lie on the scale, apart from missing and don't-know codes."""
    out = []
    for col in df.columns:
        if col in exclude:
            continue
        parsed = parse_scores(df[col], dont_know=dont_know)
        if parsed.values.notna().sum() >= 1 and not parsed.problems:
            out.append(str(col))
    return out


def detect_segments(df: pd.DataFrame, *, exclude: Sequence[str] = (), max_values: int | None = None) -> list[str]:
    """Low-cardinality text columns (2..``max_values`` distinct values), not ids and not free text."""
    limit = max_values or setting("summary", "max_segment_values")
    out = []
    for col in df.columns:
        if col in exclude:
            continue
        values = df[col].dropna().astype(str).str.strip()
        values = values[values != ""]
        distinct = values.nunique()
        numeric = pd.to_numeric(values, errors="coerce").notna().all()
        if 2 <= distinct <= limit and not numeric and distinct < max(3, len(values) // 2):
            out.append(str(col))
    return out


# -- waves ----------------------------------------------------------------------------
PERIODS = {"month": "M", "quarter": "Q", "year": "Y"}


def wave_values(series: pd.Series, *, period: str | None = None) -> np.ndarray:
    """The wave of each row: the value as text, or with ``period`` the date's month, quarter or year.

    Dates are read day first (31.12.2024, 2024-12-31); unreadable ones become "(missing)".
    """
    if period is None:
        return series.astype("string").str.strip().fillna("(missing)").replace("", "(missing)").to_numpy()
    if period not in PERIODS:
        raise TextmineError("E062", period=period, periods=", ".join(PERIODS))
    text = series.astype("string").str.strip()
    iso = text.str.match(r"^\d{4}-\d{1,2}(-\d{1,2})?")
    dates = pd.to_datetime(text.where(iso), errors="coerce", format="mixed")
    dates = dates.fillna(pd.to_datetime(text.where(~iso), errors="coerce", dayfirst=True, format="mixed"))
    labels = dates.dt.to_period(PERIODS[period]).astype("string")
    return labels.fillna("(missing)").to_numpy()


def _wave_key(value: str) -> tuple[int, Any]:
    """Natural order of waves: numbers and periods in time order, '(missing)' last."""
    if value == "(missing)":
        return (2, value)
    parts = [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", value)]
    return (0, parts) if any(isinstance(p, int) for p in parts) else (1, value)


def _two_proportions(c1: float, n1: float, c2: float, n2: float) -> float:
    """Two-sided p-value of the two-proportion z-test."""
    if min(n1, n2) == 0:
        return math.nan
    pooled = (c1 + c2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    z = (c2 / n2 - c1 / n1) / se
    return float(2 * stats.norm.sf(abs(z)))


def _welch_p(m1: Sequence[float], m2: Sequence[float]) -> float:
    """Two-sided p-value of Welch's t-test from moments."""
    (a, sa), (b, sb) = _mean_sd(m1), _mean_sd(m2)
    n1, n2 = m1[0], m2[0]
    if n1 < 2 or n2 < 2:
        return math.nan
    v1, v2 = sa * sa / n1, sb * sb / n2
    if v1 + v2 == 0:
        return 1.0 if a == b else 0.0
    dof = (v1 + v2) ** 2 / ((v1 * v1) / (n1 - 1) + (v2 * v2) / (n2 - 1))
    return float(2 * stats.t.sf(abs(a - b) / math.sqrt(v1 + v2), dof))


# -- aggregates -----------------------------------------------------------------------
def _moments() -> list[float]:
    return [0.0, 0.0, 0.0]  # n, sum, sum of squares


@dataclass
class Aggregates:
    """Additive partial aggregates of a classified survey (see the module docstring)."""

    scores: list[str]
    segments: list[str]
    themes: list[str]
    text_col: str | None = None
    dont_know: tuple[str, ...] = ()
    wave: str | None = None
    period: str | None = None
    n_rows: int = 0
    n_answered: int = 0
    n_review: int = 0
    score: dict[str, list[float]] = field(default_factory=lambda: defaultdict(_moments))
    score_dk: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    score_missing: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    problems: dict[str, list[tuple[int, str]]] = field(default_factory=lambda: defaultdict(list))
    theme_count: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    theme_score: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(_moments))
    seg_rows: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    seg_answered: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    seg_score: dict[tuple[str, str, str], list[float]] = field(default_factory=lambda: defaultdict(_moments))
    seg_theme: dict[tuple[str, str, str], int] = field(default_factory=lambda: defaultdict(int))
    lang_rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lang_theme: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))

    def update(self, tagged: pd.DataFrame, *, row_offset: int = 0) -> Aggregates:
        """Add a chunk of classified rows; ``row_offset`` numbers its rows in problem reports."""
        n = len(tagged)
        self.n_rows += n
        langs = tagged["lang"].fillna("").astype(str).to_numpy() if "lang" in tagged else np.full(n, "")
        answered = langs != ""
        self.n_answered += int(answered.sum())
        if "needs_review" in tagged:
            self.n_review += int(tagged["needs_review"].fillna(False).astype(bool).sum())
        flags = {t: tagged[t].fillna(0).astype(int).to_numpy() == 1 for t in self.themes}
        values: dict[str, np.ndarray] = {}
        for col in self.scores:
            parsed = parse_scores(tagged[col], dont_know=self.dont_know)
            v = parsed.values.to_numpy(float)
            values[col] = v
            ok = ~np.isnan(v)
            _add(self.score[col], v[ok])
            self.score_dk[col] += int(parsed.dont_know.sum())
            self.score_missing[col] += int((~ok).sum() - parsed.dont_know.sum())
            self.problems[col].extend((row + row_offset, val) for row, val in parsed.problems)
            for t in self.themes:
                _add(self.theme_score[(t, col)], v[ok & flags[t]])
        for t in self.themes:
            self.theme_count[t] += int(flags[t].sum())
        for lg in np.unique(langs):
            mask = langs == lg
            self.lang_rows[str(lg)] += int(mask.sum())
            for t in self.themes:
                self.lang_theme[(str(lg), t)] += int((mask & flags[t]).sum())
        for seg in self._groupings():
            if seg == self.wave:
                seg_values = wave_values(tagged[seg], period=self.period)
            else:
                seg_values = tagged[seg].astype("string").str.strip().fillna("(missing)").replace("", "(missing)").to_numpy()
            for value in pd.unique(seg_values):
                mask = seg_values == value
                key = (seg, str(value))
                self.seg_rows[key] += int(mask.sum())
                self.seg_answered[key] += int((mask & answered).sum())
                for col in self.scores:
                    v = values[col][mask]
                    _add(self.seg_score[(seg, str(value), col)], v[~np.isnan(v)])
                for t in self.themes:
                    self.seg_theme[(seg, str(value), t)] += int((mask & flags[t]).sum())
        return self

    def _groupings(self) -> list[str]:
        return [*self.segments, *([self.wave] if self.wave and self.wave not in self.segments else [])]

    def merge(self, other: Aggregates) -> Aggregates:
        """Add another partial result (same columns) to this one."""
        self.n_rows += other.n_rows
        self.n_answered += other.n_answered
        self.n_review += other.n_review
        for name in ("score", "theme_score", "seg_score"):
            mine, theirs = getattr(self, name), getattr(other, name)
            for key, m in theirs.items():
                target = mine[key]
                for i in range(3):
                    target[i] += m[i]
        for name in ("score_dk", "score_missing", "theme_count", "seg_rows", "seg_answered", "seg_theme", "lang_rows", "lang_theme"):
            mine, theirs = getattr(self, name), getattr(other, name)
            for key, c in theirs.items():
                mine[key] += c
        for col, probs in other.problems.items():
            self.problems[col].extend(probs)
        return self

    def finalize(self, *, min_cell: int | None = None, model_card: dict[str, Any] | None = None) -> Summary:
        """Turn the aggregates into a :class:`Summary` (cells under ``min_cell`` suppressed)."""
        k = min_cell if min_cell is not None else setting("summary", "min_cell")
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
            raise TextmineError("E061", value=k)
        return _finalize(self, int(k), model_card or {})


def _add(m: list[float], v: np.ndarray) -> None:
    if len(v):
        m[0] += float(len(v))
        m[1] += float(v.sum())
        m[2] += float((v * v).sum())


def _mean_sd(m: Sequence[float]) -> tuple[float, float]:
    n, s, ss = m
    if n == 0:
        return math.nan, math.nan
    mean = s / n
    var = max(0.0, (ss - s * s / n) / (n - 1)) if n > 1 else math.nan
    return mean, math.sqrt(var) if var == var else math.nan


def _ci(mean: float, sd: float, n: float) -> tuple[float, float]:
    if n < 2 or sd != sd:
        return math.nan, math.nan
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return mean - half, mean + half


def _welch(m1: Sequence[float], m2: Sequence[float]) -> tuple[float, float, float]:
    """Difference of means (1 - 2) with a Welch 95% CI."""
    (a, sa), (b, sb) = _mean_sd(m1), _mean_sd(m2)
    n1, n2 = m1[0], m2[0]
    diff = a - b
    if n1 < 2 or n2 < 2:
        return diff, math.nan, math.nan
    v1, v2 = sa * sa / n1, sb * sb / n2
    se = math.sqrt(v1 + v2)
    if se == 0:
        return diff, diff, diff
    dof = (v1 + v2) ** 2 / ((v1 * v1) / (n1 - 1) + (v2 * v2) / (n2 - 1)) if v1 + v2 > 0 else n1 + n2 - 2
    half = float(stats.t.ppf(0.975, dof)) * se
    return diff, diff - half, diff + half


# -- the summary ----------------------------------------------------------------------
@dataclass
class Summary:
    """The survey summary: tidy DataFrames, one row per cell, and headline figures.

    Attributes
    ----------
    scores: per score column: n, mean, sd, ci_low, ci_high, dont_know, missing.
    segments: per segment column, value and score: respondents, n, mean.
    themes: per group (segment column, or "(all)") and value and theme: answered, count, share, rank.
    impact: per theme and score: n and mean with / without the theme, difference and its 95% CI.
    languages: per answer language: answers, share, and the count of each theme.
    waves: with a wave column: per wave and score (mean) or theme (share of answers), the
        change from the previous wave and its two-sided p-value (Welch's t for means, the
        two-proportion z-test for shares); ``significant`` when p < 0.05.
    meta: n_respondents, n_answered, n_empty, n_needs_review, min_cell, columns used, problems.

    Every table has a boolean ``suppressed`` column: such rows hold no figures
    (NaN), because the cell has fewer than ``min_cell`` respondents.
    """

    scores: pd.DataFrame
    segments: pd.DataFrame
    themes: pd.DataFrame
    impact: pd.DataFrame
    languages: pd.DataFrame
    meta: dict[str, Any]
    waves: pd.DataFrame = field(default_factory=pd.DataFrame)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by name, in report order."""
        tables = {"scores": self.scores, "segments": self.segments, "themes": self.themes,
                  "impact": self.impact, "languages": self.languages}
        return tables | ({"waves": self.waves} if len(self.waves) else {})

    def top_themes(self, n: int = 3) -> list[str]:
        """Ids of the ``n`` most frequent development themes among all answers.

        Themes the codebook marks ``development: false`` (praise) are left out.
        """
        overall = self.themes[(self.themes["group"] == ALL) & ~self.themes["suppressed"] & (self.themes["count"] > 0)]
        overall = overall[~overall["theme"].isin(self.meta.get("non_development", []))]
        return overall.sort_values(["count", "rank"], ascending=[False, True])["theme"].head(n).tolist()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (suppressed cells are null with ``"suppressed": true``)."""
        return _to_dict(self)


def _num(x: Any, digits: int = 4) -> float | None:
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else round(f, digits)


def _finalize(agg: Aggregates, k: int, card: dict[str, Any]) -> Summary:
    nan = math.nan
    score_rows = []
    for col in agg.scores:
        m = agg.score[col]
        mean, sd = _mean_sd(m)
        lo, hi = _ci(mean, sd, m[0])
        small = m[0] < k
        score_rows.append({
            "score": col, "n": nan if small else int(m[0]), "mean": nan if small else mean, "sd": nan if small else sd,
            "ci_low": nan if small else lo, "ci_high": nan if small else hi,
            "dont_know": agg.score_dk[col], "missing": agg.score_missing[col], "suppressed": small,
        })
    seg_rows = []
    for (seg, value), rows in sorted(agg.seg_rows.items()):
        for col in agg.scores:
            m = agg.seg_score[(seg, value, col)]
            mean, _ = _mean_sd(m)
            small = rows < k or m[0] < k
            seg_rows.append({
                "segment": seg, "value": value, "respondents": nan if rows < k else rows, "score": col,
                "n": nan if small else int(m[0]), "mean": nan if small else mean, "suppressed": small,
            })
    theme_rows = []
    groups: list[tuple[str, str, int, int]] = [(ALL, ALL, agg.n_rows, agg.n_answered)]
    groups += [(seg, value, rows, agg.seg_answered[(seg, value)]) for (seg, value), rows in sorted(agg.seg_rows.items())]
    for group, value, rows, answered in groups:
        counts = {t: agg.theme_count[t] if group == ALL else agg.seg_theme[(group, value, t)] for t in agg.themes}
        ranked = sorted(agg.themes, key=lambda t: (-counts[t], agg.themes.index(t)))
        for t in agg.themes:
            c = counts[t]
            small = rows < k or (group != ALL and 0 < c < k)
            theme_rows.append({
                "group": group, "value": value, "theme": t, "answered": nan if rows < k else answered,
                "count": nan if small else c, "share": nan if small or not answered else c / answered,
                "rank": ranked.index(t) + 1, "suppressed": small,
            })
    impact_rows = []
    for t in agg.themes:
        for col in agg.scores:
            with_t = agg.theme_score[(t, col)]
            without = [a - b for a, b in zip(agg.score[col], with_t)]
            small = with_t[0] < k or without[0] < k
            diff, lo, hi = _welch(with_t, without)
            impact_rows.append({
                "theme": t, "score": col,
                "n_with": nan if small else int(with_t[0]), "mean_with": nan if small else _mean_sd(with_t)[0],
                "n_without": nan if small else int(without[0]), "mean_without": nan if small else _mean_sd(without)[0],
                "diff": nan if small else diff, "ci_low": nan if small else lo, "ci_high": nan if small else hi,
                "suppressed": small,
            })
    wave_rows = _wave_table(agg, k)
    lang_rows = []
    for lg, rows in sorted(agg.lang_rows.items(), key=lambda kv: -kv[1]):
        if lg == "":
            continue
        small = rows < k
        lang_rows.append({"lang": lg, "answers": nan if small else rows,
                          "share": nan if small or not agg.n_answered else rows / agg.n_answered,
                          **{t: nan if small else agg.lang_theme[(lg, t)] for t in agg.themes}, "suppressed": small})
    meta = {
        "n_respondents": agg.n_rows, "n_answered": agg.n_answered, "n_empty": agg.n_rows - agg.n_answered,
        "n_needs_review": agg.n_review, "min_cell": k, "scores": list(agg.scores), "segments": list(agg.segments),
        "themes": list(agg.themes), "text_col": agg.text_col, "dont_know_codes": list(agg.dont_know),
        "wave": agg.wave, "period": agg.period,
        "problems": {c: p for c, p in agg.problems.items() if p},
        "non_development": list((card.get("codebook") or {}).get("non_development", [])),
        "model": {key: card.get(key) for key in ("textmine_version", "created", "codebook", "thresholds", "cv_metrics", "path")
                  if key in card},
    }
    return Summary(
        scores=pd.DataFrame(score_rows, columns=["score", "n", "mean", "sd", "ci_low", "ci_high", "dont_know", "missing", "suppressed"]),
        segments=pd.DataFrame(seg_rows, columns=["segment", "value", "respondents", "score", "n", "mean", "suppressed"]),
        themes=pd.DataFrame(theme_rows, columns=["group", "value", "theme", "answered", "count", "share", "rank", "suppressed"]),
        impact=pd.DataFrame(impact_rows, columns=["theme", "score", "n_with", "mean_with", "n_without", "mean_without", "diff", "ci_low", "ci_high", "suppressed"]),
        languages=pd.DataFrame(lang_rows, columns=["lang", "answers", "share", *agg.themes, "suppressed"]),
        waves=pd.DataFrame(wave_rows, columns=["wave", "kind", "name", "n", "value", "change", "p_value", "significant", "suppressed"]),
        meta=meta,
    )


def _wave_table(agg: Aggregates, k: int) -> list[dict[str, Any]]:
    """Per wave, each score's mean and each theme's share, with the change from the previous wave."""
    if not agg.wave:
        return []
    nan = math.nan
    waves = sorted({value for (seg, value) in agg.seg_rows if seg == agg.wave}, key=_wave_key)
    rows: list[dict[str, Any]] = []
    for kind, names in (("score", agg.scores), ("theme", agg.themes)):
        for name in names:
            prev: tuple[Any, ...] | None = None
            for wave in waves:
                if kind == "score":
                    m = agg.seg_score[(agg.wave, wave, name)]
                    n, value = m[0], _mean_sd(m)[0]
                    stat: tuple[Any, ...] = ("mean", m)
                else:
                    n = agg.seg_answered[(agg.wave, wave)]
                    count = agg.seg_theme[(agg.wave, wave, name)]
                    value = count / n if n else nan
                    stat = ("share", count, n)
                small = n < k or agg.seg_rows[(agg.wave, wave)] < k
                change = p = nan
                if prev is not None and not small:
                    if kind == "score":
                        change, p = value - _mean_sd(prev[1])[0], _welch_p(prev[1], stat[1])
                    else:
                        change, p = value - prev[1] / prev[2], _two_proportions(prev[1], prev[2], stat[1], stat[2])
                rows.append({"wave": wave, "kind": kind, "name": name, "n": nan if small else int(n),
                             "value": nan if small else value, "change": change, "p_value": p,
                             "significant": bool(p < 0.05) if p == p else False, "suppressed": small})
                prev = None if small else stat
    return rows


def _to_dict(s: Summary) -> dict[str, Any]:
    scores = {
        r.score: ({"suppressed": True, "mean": None, "n": None, "ci95": None, "dont_know": int(r.dont_know)} if r.suppressed else
                  {"mean": _num(r.mean), "n": int(r.n), "sd": _num(r.sd), "ci95": [_num(r.ci_low), _num(r.ci_high)],
                   "dont_know": int(r.dont_know), "missing": int(r.missing)})
        for r in s.scores.itertuples()
    }
    segments: dict[str, dict[str, Any]] = {}
    for r in s.segments.itertuples():
        cell = segments.setdefault(str(r.segment), {}).setdefault(
            str(r.value), {"n": _num(r.respondents, 0), "suppressed": bool(pd.isna(r.respondents)), "scores": {}, "themes": {}})
        cell["scores"][r.score] = None if r.suppressed else _num(r.mean)
    for r in s.themes[s.themes["group"] != ALL].itertuples():
        cell = segments.setdefault(str(r.group), {}).setdefault(
            str(r.value), {"n": _num(r.answered, 0), "suppressed": bool(pd.isna(r.answered)), "scores": {}, "themes": {}})
        cell["themes"][r.theme] = None if r.suppressed else int(r.count)
    overall = s.themes[s.themes["group"] == ALL].sort_values("rank")
    themes = {r.theme: ({"count": None, "share": None, "suppressed": True} if r.suppressed else
                        {"count": int(r.count), "share": _num(r.share), "rank": int(r.rank)}) for r in overall.itertuples()}
    impact: dict[str, dict[str, Any]] = {}
    for r in s.impact.itertuples():
        impact.setdefault(r.theme, {})[r.score] = (
            {"suppressed": True} if r.suppressed else
            {"n_with": int(r.n_with), "mean_with": _num(r.mean_with), "n_without": int(r.n_without),
             "mean_without": _num(r.mean_without), "diff": _num(r.diff), "ci95": [_num(r.ci_low), _num(r.ci_high)]})
    languages = {r.lang: ({"suppressed": True} if r.suppressed else {"answers": int(r.answers), "share": _num(r.share)})
                 for r in s.languages.itertuples()}
    waves: dict[str, dict[str, Any]] = {}
    for r in s.waves.itertuples():
        cell = waves.setdefault(str(r.wave), {"scores": {}, "themes": {}})
        cell[f"{r.kind}s"][r.name] = None if r.suppressed else {
            "n": int(r.n), "value": _num(r.value), "change": _num(r.change), "p_value": _num(r.p_value),
            "significant": bool(r.significant)}
    meta = s.meta
    return {
        "n_respondents": meta["n_respondents"], "n_answered": meta["n_answered"], "n_empty": meta["n_empty"],
        "n_needs_review": meta["n_needs_review"], "min_cell": meta["min_cell"],
        "scores": scores, "segments": segments, "themes": themes, "impact": impact, "languages": languages,
        "top_themes": s.top_themes(), "dont_know_codes": meta["dont_know_codes"],
        "problems": {c: [{"row": row, "value": v} for row, v in p] for c, p in meta["problems"].items()},
        "waves": waves,
        "model": meta["model"],
    }


def resolve_columns(
    tagged: pd.DataFrame,
    *,
    scores: Sequence[str] | None,
    segments: Sequence[str] | None,
    text_col: str | None,
    themes: Sequence[str],
    dont_know: Sequence[str] | None = None,
    wave: str | None = None,
) -> tuple[list[str], list[str]]:
    """The score and segment columns: as given (checked), or detected (never the wave column)."""
    reserved = set(_OUTPUT) | set(themes) | {f"p_{t}" for t in themes} | ({text_col} if text_col else set())
    if wave is not None:
        require_columns(tagged, [wave], what="Wave column")
        reserved.add(wave)
    if scores is not None:
        require_columns(tagged, list(scores), what="Score column")
        score_cols = list(scores)
    else:
        score_cols = detect_scores(tagged, exclude=sorted(reserved), dont_know=dont_know)
    if not score_cols:
        raise TextmineError("E060", columns=list(map(str, tagged.columns)))
    if segments is not None:
        require_columns(tagged, list(segments), what="Segment column")
        seg_cols = list(segments)
    else:
        seg_cols = detect_segments(tagged, exclude=sorted(reserved | set(score_cols)))
    return score_cols, seg_cols


def summarize(
    tagged: pd.DataFrame,
    *,
    scores: Sequence[str] | None = None,
    segments: Sequence[str] | None = None,
    min_cell: int | None = None,
    text_col: str | None = None,
    dont_know: Sequence[str] | None = None,
    model_card: dict[str, Any] | None = None,
    strict: bool = False,
    wave: str | None = None,
    period: str | None = None,
) -> Summary:
    """Summarize a classified survey: scores, segments, themes, theme impact, languages.

    Parameters
    ----------
    tagged:
        Output of :func:`classify` (or any frame with the same theme columns).
    scores:
        Score columns; default every column whose values all lie within the scale
        (plus missing and don't-know codes).
    segments:
        Segment columns; default low-cardinality text columns other than the free text.
    min_cell:
        Cells with fewer respondents are suppressed (default from ``defaults.toml``: 5).
    dont_know:
        "Don't know" codes, excluded from means and counted (default from ``defaults.toml``).
    wave:
        A wave (survey round) or date column: scores and theme shares per wave, with
        the change from the previous wave and whether it is significant.
    period:
        Group a date ``wave`` column by "month", "quarter" or "year".
    strict:
        Raise E011 when a score value is off the scale and not a don't-know code
        (otherwise such values count as missing and are listed in ``meta["problems"]``).
    """
    themes = detect_themes(tagged)
    codes = tuple(sorted(dont_know_codes(dont_know)))
    score_cols, seg_cols = resolve_columns(tagged, scores=scores, segments=segments, text_col=text_col,
                                           themes=themes, dont_know=codes, wave=wave)
    agg = Aggregates(scores=score_cols, segments=seg_cols, themes=themes, text_col=text_col, dont_know=codes,
                     wave=wave, period=period)
    agg.update(tagged)
    if strict:
        check_problems(agg.problems)
    return agg.finalize(min_cell=min_cell, model_card=model_card or {})


def check_problems(problems: dict[str, list[tuple[int, str]]]) -> None:
    """Raise E011 listing every off-scale score value (all columns at once)."""
    found = [(col, row, value) for col, probs in problems.items() for row, value in probs]
    if found:
        shown = "; ".join(f"column '{c}' row {r}: {v!r}" for c, r, v in found[:20])
        raise TextmineError("E011", count=len(found), problems=shown + (" ..." if len(found) > 20 else ""))
