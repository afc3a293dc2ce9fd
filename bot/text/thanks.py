"""Recognising thanks in English and Chinese (谢谢, 感谢, 多谢, 辛苦了, …)."""

from __future__ import annotations

import re

from bot.text.normalize import normalize

__all__ = ["is_thanks"]

_ENGLISH = re.compile(
    r"\b(thanks|thank\s*(you|u|ya)|thx|thnx|tnx|ty|tysm|tyvm|much\s+appreciated|"
    r"appreciate\s+(it|that|you)|kudos)\b"
)
_CHINESE = re.compile(r"谢谢|感谢|多谢|辛苦了|辛苦啦|谢啦|谢了|感恩|蟹蟹|3q", re.IGNORECASE)
# Declining or sarcasm is not thanks: "no thanks", "thanks for nothing", 不用谢, 不谢.
_NOT = re.compile(
    r"\bno\s*,?\s*thanks?\b|\bthanks\s+for\s+nothing\b|\bno\s+thank\s+you\b|不用谢|不谢|别谢"
)


def is_thanks(text: str) -> bool:
    """True if `text` thanks someone (case-, width- and emoji-insensitive)."""
    folded = normalize(text)
    if not folded or _NOT.search(folded):
        return False
    return bool(_ENGLISH.search(folded) or _CHINESE.search(folded))
