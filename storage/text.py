"""Text every database accepts: no NUL characters, no lone surrogates.

PostgreSQL refuses NUL in text, and no UTF-8 encoder takes a lone surrogate (what Python
makes of undecodable bytes with ``surrogateescape``); one such character would fail a whole
batch of writes.
"""

from __future__ import annotations

import re

__all__ = ["clean_text", "needs_cleaning"]

_BAD = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def needs_cleaning(text: str) -> bool:
    """Whether `text` holds a NUL or a lone surrogate."""
    return (not text.isascii() and _BAD.search(text) is not None) or "\x00" in text


def clean_text(text: str) -> str:
    """`text` with NUL characters removed and lone surrogates replaced by U+FFFD."""
    if not needs_cleaning(text):
        return text
    return _BAD.sub(lambda m: "" if m.group() == "\x00" else REPLACEMENT, text)
