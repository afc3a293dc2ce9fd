"""Everyday English phrasings of what FAQ entries are usually written with one word.

"can I get my money back?" means "refund" and shares no word with it; neither the stemmer nor
the word-piece vectors (which read words one at a time) join the two. These are general
equivalences of support and community chat, not tied to any FAQ: a message or phrasing that
contains one of the phrases also gets the word's term, so both ways of saying it match.
"""

from __future__ import annotations

import re

__all__ = ["PHRASES", "phrase_words"]

#: Pattern (on normalized, case-folded text) → the word it means.
PHRASES: tuple[tuple[str, str], ...] = (
    (r"money back|refunded|reimburs\w*|charge ?back", "refund"),
    (r"(?:send|give|take|bring) (?:\w+ )?back", "return"),
    (r"(?:log|sign) ?in(?:to)?\b", "login"),
    (r"(?:log|sign) ?(?:out|off)\b", "logout"),
    (r"sign ?(?:me |us )?up|enrol+(?:ment)?", "register"),
    (r"pass ?code|pass ?word|pwd|pin code", "password"),
    (r"e-?mail address|mail address", "email"),
    (r"call off|called off", "cancel"),
    (r"get in touch|reach out|contact (?:you|someone|staff|support)", "contact"),
    (r"(?:how much|what) (?:does it|do they|will it)? ?cost|price|pricing", "cost"),
    (r"delivered|delivery|ship(?:ping|ped|s)?\b", "deliver"),
    (r"set ?up", "setup"),
    (r"user ?name|login name", "username"),
)

_COMPILED = tuple((re.compile(rf"\b(?:{pattern})"), word) for pattern, word in PHRASES)
# One search tells most messages apart, which contain none of the phrases.
_ANY = re.compile(r"\b(?:" + "|".join(pattern for pattern, _ in PHRASES) + ")")


def phrase_words(folded: str) -> list[str]:
    """The words `folded` (normalized text) says with a phrase, each once."""
    if not _ANY.search(folded):
        return []
    found = [word for pattern, word in _COMPILED if pattern.search(folded)]
    return list(dict.fromkeys(found))
