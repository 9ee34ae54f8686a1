"""textmine: tag free-text survey answers with development themes and summarize them.

The public API is what ``__all__`` lists; every other module is private.
"""

from __future__ import annotations

__version__ = "0.1.0"
