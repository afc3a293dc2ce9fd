"""Is a message a question? English and Chinese cues."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["is_question"]

_ENGLISH_START = re.compile(
    r"^(?:hey|hi|hello|so|and|but|also|um+|ok(?:ay)?|please|pls)?[\s,]*"
    r"(what|what's|whats|why|how|how's|when|where|which|who|whom|whose|is|are|am|was|were|do|"
    r"does|did|can|could|should|would|will|shall|may|might|must|have|has|had|isn't|aren't|"
    r"don't|doesn't|didn't|can't|cannot|couldn't|won't|wouldn't|shouldn't|anyone|anybody|"
    r"any(?:one)?\s+know|is\s+there|are\s+there|tell\s+me|explain|help|need\s+help|i\s+need|"
    r"i\s+want\s+to\s+know|i\s+wonder|wondering|i'?m\s+looking\s+for|looking\s+for)\b",
    re.IGNORECASE,
)
_CHINESE = re.compile(
    r"吗|呢[？?。!！]?$|怎么|怎样|如何|什么|为什么|为何|哪|能不能|能否|可不可以|可以不可以|"
    r"是否|有没有|是不是|要不要|会不会|多少|几|谁|咋|请问|求助|求问|想问|想知道|知道.*吗"
)


def is_question(text: str) -> bool:
    """True if `text` reads as a question: a question mark, an English interrogative or
    auxiliary at the start, or a Chinese question marker."""
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return False
    if "?" in text:
        return True
    return bool(_ENGLISH_START.match(text) or _CHINESE.search(text))
