"""Text preprocessing shared by training and prediction (one copy only).

For each answer: personal data is redacted, the language identified (py3langid),
the text tokenised by a blank spaCy pipeline for that language, tokens lemmatised
(simplemma for Finnish and Swedish, spaCy's lookup table for English), lower-cased
and folded (diacritics removed, so "kasittely" meets "käsittely"). Work is done once
per distinct answer and once per distinct token.
"""

from __future__ import annotations

import hashlib
import itertools
import marshal
import os
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
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


def ragged_take(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions ``starts[0] .. starts[0] + lengths[0] - 1``, then those of the next run, ...:
    concatenated ranges without a Python loop."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    ends = np.cumsum(lengths)
    return np.repeat(np.asarray(starts, dtype=np.int64) - (ends - lengths), lengths) + np.arange(total, dtype=np.int64)


def pieces_per_doc(pieces: Sequence[Any], of: np.ndarray, lengths: np.ndarray) -> list[list[Any]]:
    """Per document, its pieces in order: document ``d`` is ``pieces[of[k]]`` for its
    ``lengths[d]`` positions ``k`` (positions of all documents in order)."""
    cuts = np.cumsum(lengths).tolist()
    at = np.asarray(of).tolist()
    return [[pieces[k] for k in at[a:b]] for a, b in zip([0, *cuts[:-1]], cuts)]


def token_lists(pieces: Sequence[tuple[str, ...]], of: np.ndarray, lengths: np.ndarray) -> list[list[str]]:
    """Per document, the tokens of its pieces in order (see :func:`pieces_per_doc`)."""
    return [list(itertools.chain.from_iterable(d)) for d in pieces_per_doc(pieces, of, lengths)]


@dataclass(frozen=True, eq=False)
class Words:
    """Distinct answers as sequences of whitespace-separated words, shared between answers.

    Word position ``k`` (answers' words in order, ``lengths`` per answer) is the distinct
    word ``word_of[k]``, whose folded form is ``folded[word_of[k]]`` ("" when nothing is
    left, several words joined by spaces when folding split it), and whose lemmas in its
    answer's language are ``lemmas[pair_of[k]]``. Features are counted once per distinct
    word (or word and language) from this form, without building per-answer lists.
    """

    lengths: np.ndarray
    word_of: np.ndarray
    folded: list[str]
    pair_of: np.ndarray
    lemmas: list[tuple[str, ...]]

    def __len__(self) -> int:
        return len(self.lengths)

    def positions(self, docs: np.ndarray) -> np.ndarray:
        """The word positions of answers ``docs``, in order."""
        ends = np.cumsum(self.lengths)
        return ragged_take((ends - self.lengths)[docs], self.lengths[docs])

    def subset(self, docs: np.ndarray) -> Words:
        """Answers ``docs`` only (distinct words are shared, not copied)."""
        pos = self.positions(docs)
        return Words(self.lengths[docs], self.word_of[pos], self.folded, self.pair_of[pos], self.lemmas)

    @cached_property
    def doc_tokens(self) -> list[list[str]]:
        """Lemmas per answer, as lists."""
        return token_lists(self.lemmas, self.pair_of, self.lengths)

    @cached_property
    def doc_folded(self) -> list[str]:
        """Folded text per answer, words separated by single spaces."""
        return [" ".join(filter(None, d)) for d in pieces_per_doc(self.folded, self.word_of, self.lengths)]


class Preprocessed:
    """Preprocessed answers, aligned with the input texts.

    Attributes
    ----------
    lang: language code per answer (one of the configured languages, "other", or ""
        for an answer without any letter or digit).
    redacted: the redacted answer as written.
    words: the distinct answers as :class:`Words`; ``rows`` gives each answer's position
        in it (equal answers share one).
    tokens: folded lemmas of content words per answer (stop words removed), built on use.
    folded: the redacted answer, lower-cased and folded, for character n-grams, built on use.
    """

    def __init__(self, lang: list[str], redacted: list[str], words: Words, rows: np.ndarray) -> None:
        self.lang, self.redacted, self.words, self.rows = lang, redacted, words, rows

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def tokens(self) -> list[list[str]]:
        docs = self.words.doc_tokens
        return [docs[d] for d in self.rows.tolist()]

    @property
    def folded(self) -> list[str]:
        docs = self.words.doc_folded
        return [docs[d] for d in self.rows.tolist()]

    def distinct(self) -> tuple[Words, np.ndarray]:
        """The distinct answers these rows use (:class:`Words`) and each row's position in them:
        only the answers needed, so a small part of a large batch stays small. When the rows
        are the distinct answers in order, that is ``words`` itself and ``rows``."""
        if len(self.rows) == len(self.words) and np.array_equal(self.rows, np.arange(len(self.rows))):
            return self.words, self.rows
        docs, inverse = np.unique(self.rows, return_inverse=True)
        return self.words.subset(docs), np.asarray(inverse).reshape(-1)

    def take(self, idx: Sequence[int] | np.ndarray) -> Preprocessed:
        """The answers at positions ``idx``."""
        idx = np.asarray(idx, dtype=np.int64).reshape(-1)
        at = idx.tolist()
        return Preprocessed(
            lang=[self.lang[i] for i in at],
            redacted=[self.redacted[i] for i in at],
            words=self.words,
            rows=self.rows[idx],
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
        self._orth: dict[str, dict[int, str]] = {}
        self._chunks: dict[str, dict[str, tuple[str, ...]]] = {}
        self._folds: dict[str, str] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
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

    def _lemmas(self, lg: str, words: list[str]) -> list[tuple[str, ...]]:
        """The lemmas of each of ``words`` (distinct, whitespace-free) in language ``lg``.

        spaCy's tokenizer splits at whitespace first and then treats every chunk on its own
        (its special cases that hold whitespace are whitespace only), so the tokens of an
        answer are those of its words, and each distinct word is tokenised once. A word
        holding a placeholder ('<EMAIL>') is split around it first, as the whole answer would be.
        """
        nlp = _pipeline(lg or OTHER)
        stops = nlp.Defaults.stop_words - self.keep_words if self.remove_stop_words else frozenset()
        strings = nlp.vocab.strings
        by_orth = self._orth.setdefault(lg, {})  # token hash -> lemma ("" for punctuation, space, stop words)
        by_chunk = self._chunks.setdefault(lg, {})  # whitespace-free chunk -> its lemmas
        limit = setting("preprocess", "cache_limit")
        split = {w: _placeholder_tokens(w).split() for w in words if "<" in w}
        new = list(dict.fromkeys(c for w in words for c in split.get(w, (w,)) if c not in by_chunk))
        if len(by_chunk) + len(new) > limit:
            by_chunk.clear()
            new = list(dict.fromkeys(c for w in words for c in split.get(w, (w,))))
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
        return [
            tuple(t for c in split[w] for t in by_chunk[c]) if w in split else by_chunk[w] for w in words
        ]

    def _words(self, redacted: list[str], langs: list[str]) -> Words:
        """:class:`Words` of redacted answers in their languages: each distinct word is folded once
        and each distinct word of a language lemmatised once; no per-answer lists are built."""
        split = [r.split() for r in redacted]
        lengths = np.fromiter(map(len, split), dtype=np.int64, count=len(split))
        distinct: dict[str, int] = {}
        word_of = np.fromiter(
            [distinct.setdefault(w, len(distinct)) for w in itertools.chain.from_iterable(split)],
            dtype=np.int64, count=int(lengths.sum()),
        )
        words = list(distinct)
        # folding keeps whitespace whitespace (checked for every code point) and lower-casing
        # looks no further than the word, so the folded answer is exactly its words' folded
        # forms joined: " ".join(fold(text).split()); a word can fold into several ("¨" -> " ") or none.
        folds = self._folds
        if len(folds) > setting("preprocess", "cache_limit"):
            folds.clear()
        for word in words:
            if word not in folds:
                folds[word] = " ".join(fold(word).split())
        # lemmas depend on the answer's language: one entry per distinct (language, word)
        lang_names = list(dict.fromkeys(langs))
        lang_code = np.repeat(np.fromiter(map(lang_names.index, langs), dtype=np.int64, count=len(langs)), lengths)
        pairs, pair_of = np.unique(lang_code * max(len(words), 1) + word_of, return_inverse=True)
        pair_lang, pair_word = np.divmod(pairs, max(len(words), 1))
        lemmas: list[tuple[str, ...]] = [()] * len(pairs)
        for code, lg in enumerate(lang_names):
            at = np.flatnonzero(pair_lang == code)
            for k, value in zip(at.tolist(), self._lemmas(lg, [words[w] for w in pair_word[at].tolist()])):
                lemmas[k] = value
        return Words(lengths, word_of, [folds[w] for w in words], np.asarray(pair_of, dtype=np.int64).reshape(-1), lemmas)

    def transform(self, texts: Sequence[object]) -> Preprocessed:
        """Preprocess ``texts`` (missing values count as empty answers); equal texts are done once."""
        clean = ["" if t is None or (isinstance(t, float) and t != t) else str(t) for t in texts]
        position: dict[str, int] = {}
        rows = np.fromiter([position.setdefault(t, len(position)) for t in clean], dtype=np.int64, count=len(clean))
        distinct = list(position)
        redacted = redact_texts(distinct)
        langs = self.identify(redacted)
        row_list = rows.tolist()
        return Preprocessed(
            lang=[langs[d] for d in row_list],
            redacted=[redacted[d] for d in row_list],
            words=self._words(redacted, langs),
            rows=rows,
        )
