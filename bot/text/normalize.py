"""Unicode-aware normalization for comparing and measuring what members write."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = [
    "CJK",
    "content_weight",
    "fingerprint",
    "has_cjk",
    "is_blank",
    "normalize",
    "strip_noise",
]

#: Han, Hiragana, Katakana, Hangul and CJK punctuation-free ideographs.
CJK = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002ffff]"
)
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MENTION = re.compile(r"<@[!&]?\d+>|<#\d+>|(?<!\w)@\w+")
_MARKUP = re.compile(r"[*_~`|>#\[\]()]+")
_SPACE = re.compile(r"\s+")
_ALNUM = re.compile(r"[^\W_]+")
#: The only ASCII characters `_is_emoji_or_symbol` matches (modifier symbols).
_ASCII_SYMBOLS = {ord("^"): " ", ord("`"): " "}


def has_cjk(text: str) -> bool:
    """Whether `text` is written in Chinese, Japanese or Korean: English messages hardly ever
    hold a CJK character, while Chinese ones often hold Latin names ("在 Deezer 上 播放")."""
    return CJK.search(text) is not None


def _is_emoji_or_symbol(char: str) -> bool:
    category = unicodedata.category(char)
    return category in ("So", "Sk", "Cs", "Co", "Cn") or char in "\u200d\ufe0f"


class _Blanks(dict[int, str]):
    """`str.translate` table: emoji and symbols → space, found once per character."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        blank = " " if _is_emoji_or_symbol(char) else char
        if len(self) < 65_536:  # bounded, whatever characters arrive
            self[code] = blank
        return blank


_BLANKS = _Blanks()


def _blank_symbols(text: str) -> str:
    return text.translate(_BLANKS)


def strip_noise(text: str) -> str:
    """Remove URLs, mentions, markup characters and emoji; collapse whitespace."""
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = _MARKUP.sub(" ", text)
    text = text.translate(_ASCII_SYMBOLS) if text.isascii() else _blank_symbols(text)
    return _SPACE.sub(" ", text).strip()


@lru_cache(maxsize=512)  # several features normalize the same message
def normalize(text: str) -> str:
    """NFKC (full-width → ASCII), case-folded, noise stripped."""
    return strip_noise(unicodedata.normalize("NFKC", text)).casefold()


def content_weight(text: str) -> int:
    """How much a message says, in characters, with each CJK character counting two.

    Spaces, punctuation, emoji, URLs and mentions count nothing. A CJK character carries
    about as much as a short English word, so ``好的谢谢`` (8) weighs like ``thanks!!`` and
    more than ``ok``/``好的`` (2 and 4).
    """
    folded = normalize(text)
    letters = sum(map(str.isalnum, folded))
    if folded.isascii():
        return letters
    cjk = CJK.findall(folded)
    # Each CJK character weighs 2; those that are letters were counted once already.
    return letters + 2 * len(cjk) - sum(map(str.isalnum, cjk))


def fingerprint(text: str) -> str:
    """What two messages must share to count as the same text (for repeat detection): the
    letters and digits of `normalize(text)`, case-folded. Markup and emoji are not letters, so
    only URLs and mentions need removing first (ASCII needs no NFKC): this runs on every
    message."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    if "://" in text or "." in text:  # cheap tests before the patterns
        text = _URL.sub(" ", text)
    if "@" in text or "<" in text:
        text = _MENTION.sub(" ", text)
    return "".join(_ALNUM.findall(text.casefold()))


#: Letters that print as nothing (Hangul fillers, the braille blank): not format characters,
#: but used the same way to post "empty" text.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def is_blank(text: str) -> bool:
    """Whether `text` shows nothing: only spaces, zero-width and other format or control
    characters (U+200B, U+FEFF, U+2060, …) and blank letters."""
    return all(
        char.isspace() or char in _BLANK_LETTERS or unicodedata.category(char) in ("Cf", "Cc")
        for char in text
    )
