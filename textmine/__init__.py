"""textmine: tag free-text survey answers with development themes and summarize them.

The public API is what ``__all__`` lists; every other module is private.

>>> import textmine
>>> df = textmine.read_table("data/sample_survey.csv")
>>> tagged = textmine.classify(df)                  # the shipped model
>>> summary = textmine.summarize(tagged)
>>> summary.scores                                  # a DataFrame
"""

from __future__ import annotations

__version__ = "0.1.0"

from .codebook import Codebook, load_codebook  # noqa: E402
from .errors import TextmineError  # noqa: E402
from .evaluate import evaluate  # noqa: E402
from .files import read_table, write_table  # noqa: E402
from .model import load_model  # noqa: E402
from .predict import classify  # noqa: E402
from .redact import redact  # noqa: E402
from .summary import Summary, summarize  # noqa: E402
from .train import train  # noqa: E402

__all__ = [
    "Codebook",
    "Summary",
    "TextmineError",
    "__version__",
    "classify",
    "evaluate",
    "load_codebook",
    "load_model",
    "read_table",
    "redact",
    "summarize",
    "train",
    "write_table",
]
