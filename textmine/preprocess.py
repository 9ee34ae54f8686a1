"""Text preprocessing shared by training and prediction (one copy only).

For each answer: personal data is redacted, the language identified (py3langid),
the text tokenised by a blank spaCy pipeline for that language, tokens lemmatised
(simplemma for Finnish and Swedish, spaCy's lookup table for English), lower-cased
and folded (diacritics removed, so "kasittely" meets "käsittely"). Work is done once
per distinct answer and once per distinct token.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import simplemma
import spacy
from py3langid.langid import MODEL_FILE, LanguageIdentifier
from spacy.attrs import ORTH

from ._config import setting
from .redact import PLACEHOLDERS, redact_texts

OTHER = "other"


def fold(text: str) -> str:
    """Lower-case ``text`` and strip diacritics: ``fold("Käsittely")`` is ``"kasittely"``."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@lru_cache(maxsize=8)
def _pipeline(lang: str) -> Any:
    nlp = spacy.blank(lang if lang != OTHER else "xx")
    if lang == "en":
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
    return nlp


@lru_cache(maxsize=1)
def _en_lookup() -> Any:
    return _pipeline("en").get_pipe("lemmatizer").lookups.get_table("lemma_lookup")


def _has_word(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _placeholder_tokens(text: str) -> str:
    """'<EMAIL>' -> ' pii_email ' so that a placeholder is one token, not three."""
    if "<" not in text:
        return text
    for placeholder in PLACEHOLDERS:
        text = text.replace(placeholder, f" pii_{placeholder[1:-1].lower()} ")
    return text


@dataclass
class Preprocessed:
    """Preprocessed answers, aligned with the input texts.

    Attributes
    ----------
    lang: language code per answer (one of the configured languages, "other", or ""
        for an answer without any letter or digit).
    tokens: folded lemmas of content words per answer (stop words removed).
    folded: the redacted answer, lower-cased and folded, for character n-grams.
    redacted: the redacted answer as written.
    """

    lang: list[str]
    tokens: list[list[str]]
    folded: list[str]
    redacted: list[str]

    def __len__(self) -> int:
        return len(self.folded)

    def take(self, idx: Sequence[int] | np.ndarray) -> Preprocessed:
        """The answers at positions ``idx``."""
        return Preprocessed(
            lang=[self.lang[i] for i in idx],
            tokens=[self.tokens[i] for i in idx],
            folded=[self.folded[i] for i in idx],
            redacted=[self.redacted[i] for i in idx],
        )


class Preprocessor:
    """Turns raw answers into :class:`Preprocessed` features' inputs.

    Holds a cache per distinct answer and per distinct token; the cache is not pickled.
    """

    def __init__(
        self,
        *,
        languages: Sequence[str] | None = None,
        fallback_ratio: float | None = None,
        short_answer_tokens: int | None = None,
        langid_max_chars: int | None = None,
        batch_size: int | None = None,
        remove_stop_words: bool | None = None,
        keep_words: Sequence[str] | None = None,
    ) -> None:
        self.languages = tuple(languages or setting("preprocess", "languages"))
        self.fallback_ratio = fallback_ratio if fallback_ratio is not None else setting("preprocess", "fallback_ratio")
        self.short_answer_tokens = short_answer_tokens or setting("preprocess", "short_answer_tokens")
        self.langid_max_chars = langid_max_chars or setting("preprocess", "langid_max_chars")
        self.batch_size = batch_size or setting("preprocess", "batch_size")
        self.remove_stop_words = (
            remove_stop_words if remove_stop_words is not None else setting("preprocess", "remove_stop_words")
        )
        self.keep_words = frozenset(keep_words if keep_words is not None else setting("preprocess", "keep_words"))
        self._reset_cache()

    def _reset_cache(self) -> None:
        self._docs: dict[str, tuple[str, list[str], str, str]] = {}
        self._lemmas: dict[tuple[str, str], str] = {}
        self._orth: dict[str, dict[int, str]] = {}

    def clear_cache(self) -> None:
        """Forget preprocessed answers (keeps the per-token lemma cache, which stays small)."""
        self._docs = {}

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_docs", None)
        state.pop("_lemmas", None)
        state.pop("_orth", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._reset_cache()

    # -- language -----------------------------------------------------------------
    def identify(self, texts: Sequence[str]) -> list[str]:
        """Language per text: one of ``languages``, or "other"."""
        ident = _identifier()
        classes = list(ident.nb_classes)
        wanted = [classes.index(lg) for lg in self.languages if lg in classes]
        out = []
        for text in texts:
            if not _has_word(text):
                out.append("")
                continue
            scores = ident._decide(text[: self.langid_max_chars])  # every language's probability at once
            top = int(np.argmax(scores))
            best = max(wanted, key=lambda i: scores[i])
            if top in wanted:
                out.append(classes[top])
            elif len(text.split()) < self.short_answer_tokens or scores[best] >= self.fallback_ratio * scores[top]:
                out.append(classes[best])
            else:
                out.append(OTHER)
        return out

    # -- tokens -------------------------------------------------------------------
    def _lemma(self, lang: str, token: str) -> str:
        key = (lang, token)
        lemma = self._lemmas.get(key)
        if lemma is None:
            lower = token.lower()
            if lower.startswith("pii_"):
                lemma = lower
            elif lang == "en":
                lemma = str(_en_lookup().get(lower, lower))
            elif lang in ("fi", "sv"):
                lemma = simplemma.lemmatize(lower, lang=lang)
            else:
                lemma = lower
            lemma = fold(lemma.lower())
            self._lemmas[key] = lemma
        return lemma

    def _process_distinct(self, texts: list[str]) -> None:
        redacted = redact_texts(texts)
        langs = self.identify(redacted)
        by_lang: dict[str, list[int]] = {}
        for i, lg in enumerate(langs):
            by_lang.setdefault(lg, []).append(i)
        for lg, idx in by_lang.items():
            nlp = _pipeline(lg or OTHER)
            stops = nlp.Defaults.stop_words - self.keep_words if self.remove_stop_words else frozenset()
            strings = nlp.vocab.strings
            by_orth = self._orth.setdefault(lg, {})  # token hash -> lemma ("" for punctuation, space, stop words)
            docs = nlp.tokenizer.pipe((_placeholder_tokens(redacted[i]) for i in idx), batch_size=self.batch_size)
            for i, doc in zip(idx, docs):
                tokens = []
                for orth in doc.to_array(ORTH).tolist():
                    lemma = by_orth.get(orth)
                    if lemma is None:
                        lex = nlp.vocab[orth]
                        skip = lex.is_punct or lex.is_space or lex.lower_ in stops
                        lemma = "" if skip else self._lemma(lg, strings[orth])
                        by_orth[orth] = lemma
                    if lemma:
                        tokens.append(lemma)
                folded = " ".join(fold(redacted[i]).split())
                self._docs[texts[i]] = (lg, tokens, folded, redacted[i])

    def transform(self, texts: Sequence[object]) -> Preprocessed:
        """Preprocess ``texts`` (missing values count as empty answers)."""
        clean = ["" if t is None or (isinstance(t, float) and t != t) else str(t) for t in texts]
        todo = list(dict.fromkeys(t for t in clean if t not in self._docs))
        if todo:
            self._process_distinct(todo)
        rows = [self._docs[t] for t in clean]
        return Preprocessed(
            lang=[r[0] for r in rows],
            tokens=[r[1] for r in rows],
            folded=[r[2] for r in rows],
            redacted=[r[3] for r in rows],
        )
