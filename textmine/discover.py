"""Theme discovery: topics among the answers that no codebook theme covers yet.

The answers are preprocessed exactly as for the classifier (redaction, language,
folded lemmas). Their content lemmas (spaCy's Finnish, Swedish and English stop words
and personal-data placeholders removed) give TF-IDF word features (lemmas and lemma
bigrams), fitted on the answers being clustered. Because a topic is usually written
in several languages, *bridge* features are added: the first letters of each lemma
(``stem_chars``, 4 by default), kept only when answers in at least two languages share
them, so that cognates and loan words (parkki, parkering, parking -> ``park``) and
compounds (parkkipaikka, parkkisakko) meet. Non-negative matrix factorisation (NMF,
deterministic ``nndsvda`` start) then finds the topics; each answer belongs to the topic
of its largest weight.

**Number of topics.** Unless ``n_topics`` is given, every k from ``k_min`` to
``min(k_max, answers // answers_per_topic)`` is fitted (``[discover]`` in
``defaults.toml``: 2 to 12, one topic per 15 answers at most), and the k whose assignment
has the highest cosine silhouette among those where *every* topic holds at least
``min_topic_size`` (5) answers is chosen; ties go to the smaller k, and when no k
qualifies the smallest is used. Silhouettes of sparse text features tend to grow with k,
so usually the bound decides: the largest k up to one topic per 15 answers whose
topics all stay at least 5 answers big. ``Discovery.selection`` shows the figures
behind the choice.

>>> tagged = textmine.classify(df, model, text_col="improvement")
>>> found = discover(tagged, model, text_col="improvement")
>>> found.topics[["topic", "size", "top_terms"]]
>>> found.write(Path("topics.xlsx"), Path("suggestions.yaml"))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import spacy
import yaml
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import normalize

from ._config import setting
from .codebook import LANGUAGES
from .errors import TextmineError
from .features import WordNgrams
from .files import atomic_write, require_columns
from .preprocess import Preprocessor, fold

UNCLUSTERED = -1
EXAMPLE_SEP = " || "
_TOPIC_COLUMNS = ["topic", "size", "share", "top_terms", *(f"top_terms_{lg}" for lg in LANGUAGES), "examples"]


# -- the result -----------------------------------------------------------------------
@dataclass
class Discovery:
    """Topics found among answers, with their answers and codebook suggestions.

    Attributes
    ----------
    topics: one row per topic, largest first: ``topic`` (1, 2, ...), ``size`` (answers
        assigned), ``share`` (of the answers clustered), ``top_terms`` (the topic's top
        terms, comma-joined), ``top_terms_fi`` / ``_sv`` / ``_en`` (top terms among that
        language's answers in the topic, "" when it has none) and ``examples`` (the most
        representative answers, redacted, joined with " || ").
    assignments: aligned to the input index: the topic of each answer, or -1 for an answer
        that was not clustered (empty, already themed without ``all_answers``, or sharing
        no term with the other answers).
    answers: the answers considered, in input order: ``row`` (input index), ``text``
        (redacted), ``lang``, ``topic`` and ``weight`` (its NMF weight on that topic).
    selection: per number of topics tried: ``k``, ``silhouette``, ``smallest_topic``,
        ``eligible`` and ``chosen`` (a single row when ``n_topics`` was given).
    terms: per topic, the top terms overall (key "all") and per language.
    example_texts: per topic, the representative answers (redacted).
    """

    topics: pd.DataFrame
    assignments: pd.Series
    answers: pd.DataFrame
    selection: pd.DataFrame
    terms: dict[int, dict[str, list[str]]] = field(default_factory=dict, repr=False)
    example_texts: dict[int, list[str]] = field(default_factory=dict, repr=False)

    def suggestions(self, min_size: int = 5) -> dict[str, Any]:
        """Codebook entries to consider for topics of at least ``min_size`` answers.

        The mapping has the shape of ``data/codebook.yaml`` (``version``, ``themes``;
        :func:`textmine.load_codebook` reads it) plus a ``note``. Labels and seeds are the
        topics' top terms (folded lemmas): provisional, to be reviewed and rewritten.

        Parameters
        ----------
        min_size:
            Topics with fewer answers are left out.

        Raises
        ------
        TextmineError
            E092 when ``min_size`` is not a whole number of at least 1.
        """
        _check_int("min_size", min_size, 1)
        n_label = int(setting("discover", "label_terms"))
        themes = []
        for row in self.topics.itertuples(index=False):
            if int(row.size) < min_size:
                continue
            topic = int(row.topic)
            terms = self.terms.get(topic, {})
            overall = terms.get("all", [])
            label = {lg: ", ".join((terms.get(lg) or overall)[:n_label]) or f"new topic {topic}" for lg in LANGUAGES}
            themes.append({
                "id": f"new_topic_{topic}",
                "label": label,
                "description": (
                    f"Provisional topic found among {int(row.size)} answers ({float(row.share):.0%} of those "
                    f"clustered); top terms: {', '.join(overall)}. Rewrite this description before adding "
                    "the theme to the codebook."
                ),
                "seeds": {lg: list(terms[lg]) for lg in LANGUAGES if terms.get(lg)},
                "size": int(row.size),
                "examples": list(self.example_texts.get(topic, [])),
            })
        note = (
            "Suggestions from textmine's topic discovery: labels and seeds are top terms (folded lemmas), "
            "not reviewed. Review before adding a theme to the codebook: check the examples, give it a stable "
            "id, real labels and a description, label training answers for it, then retrain the model."
        )
        return {"version": 1, "note": note, "themes": themes}

    def write(self, path_xlsx: Path, suggestions_yaml: Path, *, min_size: int = 5) -> None:
        """Write the topics and answers to ``path_xlsx`` and the suggestions to ``suggestions_yaml``.

        The workbook has a sheet "topics" (:attr:`topics`) and a sheet "answers" (the
        redacted text, language and topic of every answer considered). Both files are
        written atomically; existing files are replaced.

        Parameters
        ----------
        path_xlsx:
            The .xlsx workbook to write.
        suggestions_yaml:
            The YAML file of :meth:`suggestions`.
        min_size:
            Passed to :meth:`suggestions`.
        """
        suggestions = self.suggestions(min_size)
        answers = self.answers[["row", "text", "lang", "topic"]]

        def write_xlsx(tmp: str) -> None:
            with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
                self.topics.to_excel(xl, sheet_name="topics", index=False)
                answers.to_excel(xl, sheet_name="answers", index=False)

        def write_yaml(tmp: str) -> None:
            with open(tmp, "w", encoding="utf-8") as fh:
                yaml.safe_dump(suggestions, fh, allow_unicode=True, sort_keys=False, width=100)

        atomic_write(Path(path_xlsx), write_xlsx)
        atomic_write(Path(suggestions_yaml), write_yaml)


# -- features -------------------------------------------------------------------------
@lru_cache(maxsize=4)
def _stop_words(languages: tuple[str, ...]) -> frozenset[str]:
    """spaCy's stop words of ``languages``, folded, plus their folded lemmas."""
    lemmatizer = Preprocessor(languages=languages)
    out: set[str] = set()
    for lang in languages:
        for word in spacy.blank(lang).Defaults.stop_words:
            out.add(fold(word))
            out.add(lemmatizer._lemma(lang, word))
    return frozenset(w for w in out if w)


def _content(tokens: Sequence[str], stops: frozenset[str]) -> list[str]:
    """Content lemmas: no stop words, personal-data placeholders, digits-only or one-letter tokens."""
    return [
        t for t in tokens
        if len(t) > 1 and t not in stops and not t.startswith("pii_") and any(ch.isalpha() for ch in t)
    ]


class _Stems:
    """The distinct ``n``-letter beginnings of a token list (bridge features)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __call__(self, tokens: list[str]) -> list[str]:
        return sorted({t[: self.n] for t in tokens if len(t) >= self.n})


def _features(
    tokens: list[list[str]], langs: list[str], cfg: dict[str, Any]
) -> tuple[sp.csr_matrix, sp.csr_matrix, list[str]]:
    """(combined features, word features, word terms) of the answers' content lemmas."""
    df_limits = {"min_df": int(cfg["min_df"]), "max_df": cfg["max_df"], "sublinear_tf": True}
    word = TfidfVectorizer(analyzer=WordNgrams(int(cfg["ngram_max"])), **df_limits)
    try:
        Xw = word.fit_transform(tokens).tocsr()
    except ValueError:  # no term left after min_df/max_df
        raise TextmineError("E091", n=len(tokens)) from None
    if Xw.shape[1] == 0 or Xw.nnz == 0:
        raise TextmineError("E091", n=len(tokens))
    Xw = normalize(Xw)
    blocks = [Xw]
    stems = TfidfVectorizer(analyzer=_Stems(int(cfg["stem_chars"])), **df_limits)
    try:
        Xs = stems.fit_transform(tokens).tocsc()
    except ValueError:  # no stem shared by min_df answers: no bridge features
        Xs = None
    if Xs is not None and Xs.shape[1]:
        lang = np.asarray(langs)
        present = np.vstack([np.asarray((Xs[lang == lg] > 0).sum(axis=0)).ravel() > 0 for lg in np.unique(lang)])
        keep = present.sum(axis=0) >= int(cfg["bridge_languages"])
        if keep.any():
            blocks.append(float(cfg["bridge_weight"]) * normalize(Xs[:, keep].tocsr()))
    X = normalize(sp.hstack(blocks, format="csr"))
    return X, Xw, [str(t) for t in word.get_feature_names_out()]


# -- topics ---------------------------------------------------------------------------
def _fit(X: sp.csr_matrix, k: int, seed: int, max_iter: int) -> tuple[np.ndarray, np.ndarray]:
    """NMF weights W (answers x k) and components H (k x features)."""
    nmf = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=max_iter)
    W = nmf.fit_transform(X)
    return W, nmf.components_


def _labels(W: np.ndarray) -> np.ndarray:
    """Each answer's topic of largest weight; -1 for an answer with no weight at all."""
    labels = W.argmax(axis=1)
    labels[W.max(axis=1) <= 0] = UNCLUSTERED
    return labels


def _silhouette(X: sp.csr_matrix, labels: np.ndarray, sample: int, seed: int) -> float:
    ok = labels != UNCLUSTERED
    if len(np.unique(labels[ok])) < 2 or ok.sum() <= len(np.unique(labels[ok])):
        return float("nan")
    n = int(ok.sum())
    return float(silhouette_score(X[ok], labels[ok], metric="cosine",
                                  sample_size=sample if n > sample else None, random_state=seed))


def _choose_k(X: sp.csr_matrix, cfg: dict[str, Any], seed: int) -> tuple[int, pd.DataFrame]:
    """The automatic number of topics (see the module docstring) and the figures per k."""
    n = X.shape[0]
    min_size = int(cfg["min_topic_size"])
    high = min(int(cfg["k_max"]), n // max(1, int(cfg["answers_per_topic"])))
    low = min(int(cfg["k_min"]), high)
    if high < 2:
        return 1, pd.DataFrame([{"k": 1, "silhouette": np.nan, "smallest_topic": n, "eligible": True, "chosen": True}])
    rows = []
    for k in range(max(2, low), high + 1):
        W, _ = _fit(X, k, seed, int(cfg["max_iter"]))
        labels = _labels(W)
        sizes = np.bincount(labels[labels != UNCLUSTERED], minlength=k)
        rows.append({"k": k, "silhouette": _silhouette(X, labels, int(cfg["silhouette_sample"]), seed),
                     "smallest_topic": int(sizes.min()), "eligible": bool(sizes.min() >= min_size)})
    table = pd.DataFrame(rows)
    ok = table[table["eligible"] & table["silhouette"].notna()]
    if ok.empty:
        best = int(table["k"].min())
    else:
        rounded = ok["silhouette"].round(6)
        best = int(ok.loc[rounded == rounded.max(), "k"].min())
    table["chosen"] = table["k"] == best
    return best, table


def _top_terms(scores: np.ndarray, terms: list[str], n: int) -> list[str]:
    """The ``n`` highest-scoring terms, skipping a term whose words all appear in terms already taken."""
    out: list[str] = []
    seen: set[str] = set()
    for j in np.argsort(-scores, kind="stable"):
        if scores[j] <= 0 or len(out) >= n:
            break
        words = terms[j].split()
        if all(w in seen for w in words):
            continue
        out.append(terms[j])
        seen.update(words)
    return out


def _check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` as an int, or E092 when it is not a whole number within [low, high]."""
    if (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < low
            or (high is not None and int(value) > high)):
        bounds = f"of at least {low}" if high is None else f"from {low} to {high}"
        raise TextmineError("E092", name=name, bounds=bounds, value=value)
    return int(value)


def discover(
    tagged: pd.DataFrame,
    model: Any,
    *,
    text_col: str,
    n_topics: int | None = None,
    all_answers: bool = False,
    seed: int = 0,
) -> Discovery:
    """Find topics among answers that no theme covers: candidates for new codebook themes.

    Parameters
    ----------
    tagged:
        Output of :func:`textmine.classify` (needs ``text_col``, ``lang`` and ``themes``).
    model:
        The fitted model that tagged the answers; its preprocessor prepares the texts.
    text_col:
        The free-text column.
    n_topics:
        The number of topics; ``None`` chooses it automatically (see the module docstring).
    all_answers:
        Cluster every non-empty answer, not only those without a theme.
    seed:
        Random state of the NMF and of the silhouette sample; the same input and seed give
        the same result.

    Returns
    -------
    Discovery
        Topics (largest first), the topic of every input row, and codebook suggestions.

    Raises
    ------
    TextmineError
        E007 when a column is missing, E090 when there are fewer answers to cluster than
        ``[discover] min_answers``, E091 when they share no terms, E092 for a bad ``n_topics``.
    """
    cfg = {key: setting("discover", key) for key in (
        "min_answers", "ngram_max", "min_df", "max_df", "stem_chars", "bridge_languages", "bridge_weight",
        "k_min", "k_max", "answers_per_topic", "min_topic_size", "silhouette_sample", "max_iter", "top_terms", "examples",
    )}
    require_columns(tagged, [text_col, "lang", "themes"], what="Column")
    lang_col = tagged["lang"].fillna("").astype(str).to_numpy()
    themes = tagged["themes"].fillna("").astype(str).to_numpy()
    selected = (lang_col != "") & (np.full(len(tagged), True) if all_answers else themes == "")
    positions = np.flatnonzero(selected)
    n = len(positions)
    minimum = int(cfg["min_answers"])
    if n < minimum:
        raise TextmineError("E090", n=n, minimum=minimum)
    if n_topics is not None:
        _check_int("n_topics", n_topics, 1, n)

    preprocessor = model.preprocessor()
    pre = preprocessor.transform(tagged[text_col].iloc[positions].tolist())
    stops = _stop_words(LANGUAGES)
    tokens = [_content(t, stops) for t in pre.tokens]
    X, Xw, terms = _features(tokens, list(pre.lang), cfg)

    if n_topics is None:
        k, selection = _choose_k(X, cfg, seed)
    else:
        k = int(n_topics)
        selection = pd.DataFrame(
            [{"k": k, "silhouette": np.nan, "smallest_topic": np.nan, "eligible": True, "chosen": True}]
        )
    W, H = _fit(X, k, seed, int(cfg["max_iter"]))
    labels = _labels(W)
    if n_topics is not None:
        sizes = np.bincount(labels[labels != UNCLUSTERED], minlength=k)
        selection.loc[0, ["silhouette", "smallest_topic"]] = [
            _silhouette(X, labels, int(cfg["silhouette_sample"]), seed), int(sizes.min())
        ]

    # number topics 1, 2, ... by size (then by component order); empty components are dropped
    sizes = np.bincount(labels[labels != UNCLUSTERED], minlength=k)
    order = [int(c) for c in sorted(np.flatnonzero(sizes), key=lambda c: (-sizes[c], c))]
    topic_of = {c: i + 1 for i, c in enumerate(order)}
    topic = np.array([topic_of.get(int(c), UNCLUSTERED) for c in labels], dtype=int)
    weight = np.array([W[i, c] if c != UNCLUSTERED else 0.0 for i, c in enumerate(labels)])

    n_terms, n_examples = int(cfg["top_terms"]), int(cfg["examples"])
    langs = np.asarray(pre.lang)
    rows, all_terms, all_examples = [], {}, {}
    for c in order:
        t = topic_of[c]
        members = np.flatnonzero(labels == c)
        by_lang: dict[str, list[str]] = {"all": _top_terms(H[c, : len(terms)], terms, n_terms)}
        for lg in LANGUAGES:
            idx = members[langs[members] == lg]
            scores = np.asarray(Xw[idx].T @ W[idx, c]).ravel() if len(idx) else np.zeros(len(terms))
            by_lang[lg] = _top_terms(scores, terms, n_terms)
        examples: list[str] = []
        for i in members[np.argsort(-W[members, c], kind="stable")]:
            text = " ".join(pre.redacted[i].split())
            if text not in examples:
                examples.append(text)
            if len(examples) >= n_examples:
                break
        all_terms[t], all_examples[t] = by_lang, examples
        rows.append({
            "topic": t, "size": len(members), "share": round(len(members) / n, 4),
            "top_terms": ", ".join(by_lang["all"]),
            **{f"top_terms_{lg}": ", ".join(by_lang[lg]) for lg in LANGUAGES},
            "examples": EXAMPLE_SEP.join(examples),
        })
    topics = pd.DataFrame(rows, columns=_TOPIC_COLUMNS).astype({"topic": int, "size": int})

    assignments = pd.Series(UNCLUSTERED, index=tagged.index, name="topic", dtype=int)
    assignments.iloc[positions] = topic
    answers = pd.DataFrame({
        "row": tagged.index[positions], "text": pre.redacted, "lang": pre.lang, "topic": topic,
        "weight": np.round(weight, 4),
    })
    return Discovery(topics=topics, assignments=assignments, answers=answers, selection=selection,
                     terms=all_terms, example_texts=all_examples)
