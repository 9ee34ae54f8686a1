"""Tunable defaults, read from ``defaults.toml`` (data, not code)."""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

DEFAULTS_PATH = Path(__file__).with_name("defaults.toml")


@lru_cache(maxsize=8)
def _read(path: str) -> dict[str, Any]:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def load_config(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Return the defaults, overlaid with the file at ``path`` or ``$TEXTMINE_CONFIG``.

    Parameters
    ----------
    path:
        A TOML file with any subset of the sections in ``defaults.toml``.
    """
    config = {k: dict(v) for k, v in _read(str(DEFAULTS_PATH)).items()}
    override = path or os.environ.get("TEXTMINE_CONFIG")
    if override:
        from .errors import TextmineError

        if not Path(override).is_file():
            raise TextmineError("E010", path=str(override))
        for section, values in _read(str(override)).items():
            config.setdefault(section, {}).update(values)
    return config


def setting(section: str, key: str) -> Any:
    """One default value, e.g. ``setting("summary", "min_cell")``."""
    return load_config()[section][key]


_PACKAGE_DIR = Path(__file__).parent
# Wheels carry the shipped model and codebook inside the package (see pyproject.toml);
# a source checkout or an editable install finds them in the repository.
_RESOURCES = {
    "codebook": (_PACKAGE_DIR / "_data" / "codebook.yaml", _PACKAGE_DIR.parent / "data" / "codebook.yaml"),
    "model": (_PACKAGE_DIR / "_model", _PACKAGE_DIR.parent / "models" / "default"),
}


def resource_path(name: str) -> Path:
    """Where the shipped ``codebook`` or default ``model`` lives in this installation."""
    packaged, source = _RESOURCES[name]
    return packaged if packaged.exists() else source
