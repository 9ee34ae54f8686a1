"""The codebook: development themes as data (``data/codebook.yaml``)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ._config import resource_path
from .errors import TextmineError

LANGUAGES = ("fi", "sv", "en")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Theme:
    """One development theme: a stable id, labels per language, description, seeds."""

    id: str
    label: dict[str, str]
    description: str = ""
    seeds: dict[str, list[str]] = field(default_factory=dict)
    development: bool = True

    def label_in(self, lang: str) -> str:
        """The label in ``lang``, falling back to English, then the id."""
        return self.label.get(lang) or self.label.get("en") or self.id


@dataclass(frozen=True)
class Codebook:
    """A versioned list of themes. ``ids`` is the order used in every output."""

    version: int
    themes: tuple[Theme, ...]
    name: str = ""
    rules: str = ""

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.themes]

    @property
    def hash(self) -> str:
        """sha256 of the themes' ids, labels and descriptions (what a model depends on)."""
        payload = json.dumps([asdict(t) for t in self.themes], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    @property
    def non_development(self) -> list[str]:
        """Ids of themes that are not development needs (e.g. praise)."""
        return [t.id for t in self.themes if not t.development]

    def theme(self, theme_id: str) -> Theme:
        return {t.id: t for t in self.themes}[theme_id]

    def labels(self, lang: str = "en") -> dict[str, str]:
        """{id: label in ``lang``} in codebook order."""
        return {t.id: t.label_in(lang) for t in self.themes}

    @classmethod
    def from_ids(cls, ids: list[str]) -> Codebook:
        """A minimal codebook for labels found in data (no labels beyond the ids)."""
        return cls(version=0, themes=tuple(Theme(id=i, label={"en": i}) for i in ids), name="from data")


def _problems(raw: Any) -> list[str]:
    problems: list[str] = []
    if not isinstance(raw, dict):
        return ["the file must hold a mapping with 'version' and 'themes'"]
    if not isinstance(raw.get("version"), int):
        problems.append("'version' must be a whole number")
    themes = raw.get("themes")
    if not isinstance(themes, list) or not themes:
        return [*problems, "'themes' must be a non-empty list"]
    seen: set[str] = set()
    for n, theme in enumerate(themes, start=1):
        if not isinstance(theme, dict):
            problems.append(f"theme {n} is not a mapping")
            continue
        tid = theme.get("id")
        if not isinstance(tid, str) or not _ID.match(tid):
            problems.append(f"theme {n} has id {tid!r}; ids are lower-case letters, digits and '_'")
            continue
        if tid in seen:
            problems.append(f"theme id '{tid}' appears twice")
        seen.add(tid)
        label = theme.get("label")
        missing = [lg for lg in LANGUAGES if not isinstance(label, dict) or not label.get(lg)]
        if missing:
            problems.append(f"theme '{tid}' has no label in {', '.join(missing)}")
    return problems


def load_codebook(path: str | os.PathLike[str] | None = None) -> Codebook:
    """Read and check a codebook; without ``path`` the shipped one.

    All problems are reported at once in one :class:`TextmineError` (E031).
    """
    path = Path(path) if path is not None else resource_path("codebook")
    if not path.is_file():
        raise TextmineError("E030", path=str(path))
    with open(path, encoding="utf-8") as fh:
        try:
            raw = yaml.safe_load(fh)
        except yaml.YAMLError as exc:
            raise TextmineError("E031", path=str(path), problems=str(exc).replace("\n", " ")) from None
    problems = _problems(raw)
    if problems:
        raise TextmineError("E031", path=str(path), problems="; ".join(problems))
    themes = tuple(
        Theme(
            id=t["id"],
            label={k: str(v) for k, v in t["label"].items()},
            description=" ".join(str(t.get("description", "")).split()),
            seeds={k: [str(s) for s in v] for k, v in (t.get("seeds") or {}).items()},
            development=bool(t.get("development", True)),
        )
        for t in raw["themes"]
    )
    return Codebook(version=raw["version"], themes=themes, name=str(raw.get("name", "")), rules=str(raw.get("rules", "")))


def check_model_codebook(model_themes: list[str], codebook: Codebook) -> None:
    """Refuse a codebook whose theme ids differ from the model's (E054); labels may differ."""
    removed = [t for t in model_themes if t not in codebook.ids]
    added = [t for t in codebook.ids if t not in model_themes]
    if removed or added:
        parts = []
        if removed:
            parts.append(f"ids the codebook removed: {', '.join(removed)}")
        if added:
            parts.append(f"ids the model does not know: {', '.join(added)}")
        raise TextmineError("E054", details="; ".join(parts))
