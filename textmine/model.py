"""Saving and loading models: a joblib pickle beside a JSON model card.

A model file is a pickle and can run code when loaded: load models only from
sources you trust. :func:`load_model` checks the card, the file's sha256 and the
scikit-learn version *before* unpickling, and only loads from the path it is
given or the shipped default model.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import joblib
import sklearn

from ._config import resource_path
from .errors import TextmineError
from .files import atomic_write

MODEL_FILE = "model.joblib"
CARD_FILE = "model_card.json"
FORMAT = "textmine-model/1"
PathLike = str | os.PathLike[str]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


class _PackedVocabulary:
    """A fitted vectorizer's vocabulary as one string, terms in column order.

    joblib unpickles with a pure-Python unpickler, which takes seconds for dicts of tens of
    thousands of terms; one string takes milliseconds, and the dict is rebuilt from it.
    """

    SEPARATOR = "\x00"

    def __init__(self, terms: list[str]) -> None:
        self.size = len(terms)
        self.terms = self.SEPARATOR.join(terms)

    @classmethod
    def pack(cls, vocabulary: dict[str, int]) -> _PackedVocabulary | None:
        """None when the vocabulary cannot be packed exactly (columns not 0..n-1, a term holding the separator)."""
        terms = sorted(vocabulary, key=vocabulary.__getitem__)
        if [vocabulary[t] for t in terms] != list(range(len(terms))) or any(cls.SEPARATOR in t for t in terms):
            return None
        return cls(terms)

    def unpack(self) -> dict[str, int]:
        terms = self.terms.split(self.SEPARATOR) if self.size else []
        return dict(zip(terms, range(len(terms))))


def _vectorizers(model: Any) -> list[Any]:
    return [v for v in vars(model).values() if isinstance(getattr(v, "vocabulary_", None), (dict, _PackedVocabulary))]


def _dump(model: Any, path: PathLike) -> None:
    """joblib.dump with every vectorizer's vocabulary packed (and put back afterwards)."""
    originals = []
    try:
        for vec in _vectorizers(model):
            packed = _PackedVocabulary.pack(vec.vocabulary_)
            if packed is not None:
                originals.append((vec, vec.vocabulary_))
                vec.vocabulary_ = packed
        joblib.dump(model, path, compress=3)
    finally:
        for vec, vocabulary in originals:
            vec.vocabulary_ = vocabulary


def _unpack(model: Any) -> Any:
    for vec in _vectorizers(model):
        if isinstance(vec.vocabulary_, _PackedVocabulary):
            vec.vocabulary_ = vec.vocabulary_.unpack()
    return model


def save_model(model: Any, directory: PathLike, card: dict[str, Any]) -> Path:
    """Write ``model.joblib`` and ``model_card.json`` (with the file's sha256) to ``directory``."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / MODEL_FILE, lambda tmp: _dump(model, tmp))
    card = {"format": FORMAT, **card, "sha256": _sha256(out / MODEL_FILE)}
    text = json.dumps(card, indent=2, ensure_ascii=False, sort_keys=False)
    atomic_write(out / CARD_FILE, lambda tmp: Path(tmp).write_text(text + "\n", encoding="utf-8"))
    return out


def read_card(directory: PathLike) -> dict[str, Any]:
    """The model card of the model in ``directory`` (checked, not the pickle)."""
    path = Path(directory)
    if not (path / MODEL_FILE).is_file() or not (path / CARD_FILE).is_file():
        raise TextmineError("E050", path=str(path))
    try:
        card = json.loads((path / CARD_FILE).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise TextmineError("E051", path=str(path), reason="its model_card.json is not valid JSON") from None
    if not isinstance(card, dict) or card.get("format") != FORMAT:
        raise TextmineError("E051", path=str(path), reason=f"its card does not say format '{FORMAT}'")
    missing = [k for k in ("sha256", "versions", "themes", "thresholds") if k not in card]
    if missing:
        raise TextmineError("E051", path=str(path), reason=f"its card lacks {', '.join(missing)}")
    return card


def default_model_path() -> Path:
    """Where the shipped default model lives in this installation."""
    return resource_path("model")


def load_model(path: PathLike | None = None) -> Any:
    """Load a trained theme model; without ``path`` the shipped default model.

    The card and the file's sha256 are checked before the pickle is loaded; a model
    made with another scikit-learn major.minor version is refused.

    Raises
    ------
    TextmineError
        E050-E053 and E055, each saying how to retrain.
    """
    if path is None:
        directory = default_model_path()
        if not (directory / MODEL_FILE).is_file():
            raise TextmineError("E055")
    else:
        directory = Path(path)
    card = read_card(directory)
    actual = _sha256(directory / MODEL_FILE)
    if actual != card["sha256"]:
        raise TextmineError("E052", path=str(directory / MODEL_FILE), actual=actual[:12], expected=str(card["sha256"])[:12])
    trained = str(card["versions"].get("scikit-learn", "?"))
    if _minor(trained) != _minor(sklearn.__version__):
        raise TextmineError("E053", path=str(directory), trained=trained, installed=sklearn.__version__)
    model = joblib.load(directory / MODEL_FILE)
    from .classifier import ThemeClassifier

    if not isinstance(model, ThemeClassifier):
        raise TextmineError("E051", path=str(directory), reason=f"it holds a {type(model).__name__}")
    _unpack(model)
    model.card_ = card
    return model
