"""Text preprocessing shared by training and prediction (one copy only).

For each answer: personal data is redacted, the language identified (py3langid),
the text tokenised by a blank spaCy pipeline for that language, tokens lemmatised
(simplemma for Finnish and Swedish, spaCy's lookup table for English), lower-cased
and folded (diacritics removed, so "kasittely" meets "käsittely"). Work is done once
per distinct answer and once per distinct token.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import simplemma
import spacy
from platformdirs import user_cache_dir
from py3langid.langid import MODEL_FILE, LanguageIdentifier
from scipy import sparse
from simplemma.strategies import DefaultStrategy
from simplemma.strategies.dictionaries.dictionary_factory import (
    DEFAULT_DICTIONARY_FACTORY,
    CachingDictionaryFactory,
    DictionaryFactory,
    MappingStrToByteString,
    _load_dictionary_from_disk,
)
from spacy.attrs import ORTH

from ._config import setting
from .files import atomic_write
from .redact import PLACEHOLDERS, redact_texts

OTHER = "other"


class _FoldTable(dict[int, str]):
    """Code point -> its NFKD decomposition without combining marks, filled on first use.

    Folding character by character is exact: NFKD decomposes each character on its own
    and only reorders combining marks, which are dropped.
    """

    def __missing__(self, code: int) -> str:
        decomposed = unicodedata.normalize("NFKD", chr(code))
        value = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        self[code] = value
        return value


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """Lower-case ``text`` and strip diacritics: ``fold("Käsittely")`` is ``"kasittely"``."""
    lower = text.lower()  # the whole text at once: lower-casing can depend on context (Greek final sigma)
    return lower if lower.isascii() else lower.translate(_FOLD)


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@lru_cache(maxsize=1)
def _langid_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """py3langid's byte automaton as arrays: next-state table, row offsets, feature per state (-1: none)."""
    ident = _identifier()
    nextmove = np.frombuffer(ident.tk_nextmove, dtype=np.dtype(ident.tk_nextmove.typecode))
    rowbase = np.frombuffer(ident.tk_row, dtype=np.dtype(ident.tk_row.typecode)).astype(np.int64) << 8
    output = np.asarray(ident.tk_output, dtype=np.int64)
    return nextmove, rowbase, output


def _langid_scores(texts: Sequence[str]) -> np.ndarray:
    """py3langid's normalised language probabilities for many texts at once, (n_texts, n_classes).

    The same model and arithmetic as ``LanguageIdentifier._decide`` (byte automaton,
    log1p of feature counts, naive Bayes, softmax at temperature sqrt(bytes), aliased
    labels folded), but the automaton steps all texts together with numpy instead of
    walking each text's bytes in a Python loop: about 20x faster on survey answers.
    """
    ident = _identifier()
    nextmove, rowbase, output = _langid_tables()
    encoded = [LanguageIdentifier._encode(t) for t in texts]
    n, n_classes = len(encoded), len(ident.nb_classes)
    lengths = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=n)
    order = np.argsort(-lengths, kind="stable")  # longest first: the texts still being read are a prefix
    lengths_sorted = lengths[order]
    width = int(lengths_sorted[0]) if n else 0
    data = np.zeros((n, width), dtype=np.uint8)
    if width:
        data[np.arange(width) < lengths_sorted[:, None]] = np.frombuffer(
            b"".join(encoded[i] for i in order), dtype=np.uint8
        )
    reading = np.searchsorted(-lengths_sorted, -np.arange(width), side="left")  # texts longer than pos
    state = np.zeros(n, dtype=np.int64)
    rows_parts, feats_parts = [], []
    for pos in range(width):
        k = int(reading[pos])
        state[:k] = nextmove[rowbase[state[:k]] + data[:k, pos]]
        feats = output[state[:k]]
        hit = np.flatnonzero(feats >= 0)
        rows_parts.append(order[hit])
        feats_parts.append(feats[hit])
    scores = np.zeros((n, n_classes), dtype=np.float32)
    if rows_parts and sum(len(r) for r in rows_parts):
        rows = np.concatenate(rows_parts)
        feats = np.concatenate(feats_parts)
        used = np.flatnonzero(np.bincount(feats, minlength=len(ident.nb_ptc)))
        remap = np.zeros(len(ident.nb_ptc), dtype=np.int64)
        remap[used] = np.arange(len(used))
        cols = remap[feats]
        counts = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, len(used))
        )
        counts.sum_duplicates()
        np.log1p(counts.data, out=counts.data)
        has_features = np.diff(counts.indptr) > 0
        raw = np.asarray(counts @ ident.nb_ptc[used].astype(np.float32)) + ident.nb_pc
        scores[has_features] = raw[has_features]
    scores *= (1.0 / np.sqrt(np.maximum(lengths, 1))).astype(np.float32)[:, None]
    scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    scores /= scores.sum(axis=1, keepdims=True)
    for i, j in ident._alias_pairs:
        scores[:, i] += scores[:, j]
        scores[:, j] = 0.0
    return scores


class _DictionaryCache(CachingDictionaryFactory):
    """simplemma's lemma dictionaries, decoded once per machine and cached as marshal files.

    simplemma ships them front-coded and lzma-compressed: decoding the Finnish one takes about
    4.4 s in every process, reading the cached dict about 1.6 s, and lookups stay dict lookups
    (a trie loads in milliseconds but made every lemma lookup slower, which cost more over a
    large input than it saved). Each file holds a magic, the sha256 of its payload and the
    payload; a file that does not match is rebuilt, and files are replaced atomically.
    """

    MAGIC = b"textmine-lemmas-1\n"

    def __init__(self, cache_dir: Path) -> None:
        super().__init__()
        self._dir = cache_dir

    def _get_dictionary_uncached(self, lang: str) -> Mapping[str, str]:
        path = self._dir / f"{lang}.marshal"
        entries = self._read(path)
        if entries is None:
            entries = _load_dictionary_from_disk(lang)
            payload = marshal.dumps(entries)
            atomic_write(path, lambda tmp: Path(tmp).write_bytes(self.MAGIC + hashlib.sha256(payload).digest() + payload))
        return MappingStrToByteString(entries)

    def _read(self, path: Path) -> dict[bytes, bytes] | None:
        try:
            data = path.read_bytes()
        except OSError:
            return None
        head = len(self.MAGIC) + 32
        if not data.startswith(self.MAGIC) or hashlib.sha256(data[head:]).digest() != data[len(self.MAGIC) : head]:
            return None
        entries = marshal.loads(memoryview(data)[head:])
        return entries if isinstance(entries, dict) else None


def lemma_cache_dir() -> Path | None:
    """Where the decoded lemma dictionaries are cached ([preprocess] lemma_cache_dir), or None
    when caching is off or the directory cannot be written."""
    configured = str(setting("preprocess", "lemma_cache_dir"))
    if configured == "off":
        return None
    base = Path(user_cache_dir("textmine")) if configured == "auto" else Path(configured).expanduser()
    path = base / f"simplemma-{simplemma.__version__}"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None


@lru_cache(maxsize=1)
def _lemmatizer() -> simplemma.Lemmatizer:
    """simplemma's default lemmatizer, over the cached dictionaries when a cache directory is usable."""
    cache = lemma_cache_dir()
    factory: DictionaryFactory = _DictionaryCache(cache) if cache else DEFAULT_DICTIONARY_FACTORY
    return simplemma.Lemmatizer(lemmatization_strategy=DefaultStrategy(dictionary_factory=factory))


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
        self._orth: dict[str, dict[int, str]] = {}
        self._chunks: dict[str, dict[str, tuple[str, ...]]] = {}
        self._folds: dict[str, str] = {}

    def clear_cache(self) -> None:
        """Forget preprocessed answers (keeps the per-token lemma cache, which stays small)."""
        self._docs = {}

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_docs", None)
        state.pop("_orth", None)
        state.pop("_chunks", None)
        state.pop("_folds", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._reset_cache()

    # -- language -----------------------------------------------------------------
    def identify(self, texts: Sequence[str]) -> list[str]:
        """Language per text: one of ``languages``, or "other"."""
        classes = list(_identifier().nb_classes)
        wanted = [classes.index(lg) for lg in self.languages if lg in classes]
        out = [""] * len(texts)
        worded = [i for i, text in enumerate(texts) if _has_word(text)]
        if not worded:
            return out
        scores = _langid_scores([texts[i][: self.langid_max_chars] for i in worded])
        tops = scores.argmax(axis=1)
        bests = np.asarray(wanted)[scores[:, wanted].argmax(axis=1)]
        for row, i in enumerate(worded):
            top, best = int(tops[row]), int(bests[row])
            if top in wanted:
                out[i] = classes[top]
            elif (
                len(texts[i].split()) < self.short_answer_tokens
                or scores[row, best] >= self.fallback_ratio * scores[row, top]
            ):
                out[i] = classes[best]
            else:
                out[i] = OTHER
        return out

    # -- tokens -------------------------------------------------------------------
    def _lemma(self, lang: str, token: str) -> str:
        """The folded lemma of ``token`` (callers cache it: :meth:`_process_distinct` per token hash)."""
        lower = token.lower()
        if lower.startswith("pii_"):
            lemma = lower
        elif lang == "en":
            lemma = str(_en_lookup().get(lower, lower))
        elif lang in ("fi", "sv"):
            lemma = _lemmatizer().lemmatize(lower, lang)
        else:
            lemma = lower
        return fold(lemma.lower())

    def _process_distinct(self, texts: list[str]) -> None:
        redacted = redact_texts(texts)
        langs = self.identify(redacted)
        by_lang: dict[str, list[int]] = {}
        for i, lg in enumerate(langs):
            by_lang.setdefault(lg, []).append(i)
        limit = setting("preprocess", "cache_limit")
        # the folded text word by word: folding keeps whitespace whitespace (checked for every
        # code point) and lower-casing looks no further than the word, so this is exactly
        # " ".join(fold(text).split()); a word can fold into several ("¨" -> " ") or none.
        words = [r.split() for r in redacted]
        folds = self._folds
        if len(folds) > limit:
            folds.clear()
        for word in {w for ws in words for w in ws}.difference(folds):
            folds[word] = " ".join(fold(word).split())
        for lg, idx in by_lang.items():
            nlp = _pipeline(lg or OTHER)
            stops = nlp.Defaults.stop_words - self.keep_words if self.remove_stop_words else frozenset()
            strings = nlp.vocab.strings
            by_orth = self._orth.setdefault(lg, {})  # token hash -> lemma ("" for punctuation, space, stop words)
            by_chunk = self._chunks.setdefault(lg, {})  # whitespace-free chunk -> its lemmas
            # spaCy's tokenizer splits at whitespace first and then treats every chunk on its
            # own (its special cases that hold whitespace are whitespace only), so the tokens
            # of an answer are those of its chunks, and each distinct chunk is tokenised once.
            split = [words[i] if "<" not in redacted[i] else _placeholder_tokens(redacted[i]).split() for i in idx]
            new = list(dict.fromkeys(c for chunks in split for c in chunks if c not in by_chunk))
            if len(by_chunk) + len(new) > limit:
                by_chunk.clear()
                new = list(dict.fromkeys(c for chunks in split for c in chunks))
            for chunk, doc in zip(new, nlp.tokenizer.pipe(new, batch_size=self.batch_size)):
                lemmas = []
                for orth in doc.to_array(ORTH).tolist():
                    lemma = by_orth.get(orth)
                    if lemma is None:
                        lex = nlp.vocab[orth]
                        skip = lex.is_punct or lex.is_space or lex.lower_ in stops
                        lemma = "" if skip else self._lemma(lg, strings[orth])
                        by_orth[orth] = lemma
                    if lemma:
                        lemmas.append(lemma)
                by_chunk[chunk] = tuple(lemmas)  # tuples of strings: no work for the garbage collector
            for i, chunks in zip(idx, split):
                tokens = [lemma for c in chunks for lemma in by_chunk[c]]
                folded = " ".join(filter(None, map(folds.__getitem__, words[i])))
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
