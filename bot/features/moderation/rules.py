"""What automatic moderation looks for: floods, repeated text, links and invites, blocked
phrases. Pure functions and small in-memory trackers; the feature decides what to do."""

from __future__ import annotations

import re
import struct
import unicodedata
from array import array
from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.recent import Expiring, micros
from bot.text.normalize import fingerprint

__all__ = [
    "FloodTracker",
    "PhraseMatcher",
    "RepeatTracker",
    "find_invite",
    "find_link",
    "fold",
]

#: Members whose flood and repeat windows are kept in memory at most (others: read back).
TRACKED_MEMBERS = 50_000
_COPY = struct.Struct("<qq")  # (hash of the fingerprint, sent at in µs)
#: How much of a message repeat detection compares (copies share their beginning).
REPEAT_SCAN = 280
# An invite to another Discord server or Telegram chat, with or without a scheme.
_INVITE = re.compile(
    r"(?:https?://)?(?:www\.)?(?:discord(?:app)?\.(?:gg|com/invite|io|me|li)"
    r"|(?:t|telegram)\.me|telegram\.dog)/[\w+-]+",
    re.IGNORECASE,
)
# A link: a scheme, www., or a host name with a common top-level domain.
_LINK = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|io|gg|me|co|xyz|top|info|biz|ru|cn|cc|tk|ly|link|"
    r"club|site|online|shop|app|dev|vip|live|pro|store|tv)\b(?:/\S*)?",
    re.IGNORECASE,
)
# A word character that is not Chinese, Japanese or Korean: English words have boundaries,
# CJK text has none.
_WORDISH = r"[^\W_\u2e80-\u9fff\uac00-\ud7af\u3040-\u30ff\uf900-\ufaff]"
# What may be inserted between the letters of a blocked phrase to dodge it.
_GAP = r"[\W_]*"


def fold(text: str) -> str:
    """Width- and case-insensitive form: NFKC (full-width → ASCII) then case folding."""
    if text.isascii():  # ASCII is already NFKC: skip the costly normalization
        return text.casefold()
    return unicodedata.normalize("NFKC", text).casefold()


def find_invite(text: str) -> str | None:
    """The first Discord or Telegram invite link in `text`."""
    if "." not in text and "．" not in text:  # every invite has a dot; most messages do not
        return None
    match = _INVITE.search(fold(text))
    return match.group(0) if match else None


def find_link(text: str) -> str | None:
    """The first link (URL, www. or a bare domain) in `text`."""
    if "." not in text and "．" not in text:
        return None
    match = _LINK.search(fold(text))
    return match.group(0) if match else None


def _pattern(phrase: str) -> re.Pattern[str] | None:
    chars = [c for c in fold(phrase) if c.isalnum()]
    if not chars:
        return None
    body = _GAP.join(re.escape(c) for c in chars)
    wordish = re.compile(_WORDISH)
    before = f"(?<!{_WORDISH})" if wordish.match(chars[0]) else ""
    after = f"(?!{_WORDISH})" if wordish.match(chars[-1]) else ""
    return re.compile(before + body + after)


class PhraseMatcher:
    """Blocked phrases, matched ignoring case, width, and spaces or symbols inserted between
    letters (``f r e e  m.o.n.e.y``); English phrases on word boundaries (``ass`` does not
    match ``class``), Chinese anywhere."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self.phrases = tuple(phrases)
        self._patterns = [(p, c) for p in self.phrases if (c := _pattern(p)) is not None]

    def find(self, text: str) -> str | None:
        """The first blocked phrase in `text`, as the admin wrote it."""
        if not self._patterns:
            return None
        folded = fold(text)
        for phrase, pattern in self._patterns:
            if pattern.search(folded):
                return phrase
        return None


class FloodTracker:
    """Messages per member in a sliding window.

    Each member's message times within the window are kept packed (8 bytes a message); a
    member whose window has passed is forgotten (the same as remembering them), and beyond
    `capacity` members the least recently active one is, its window open or not: `lost`
    then says the member's recent messages must be replayed from the log (`Window.recall`).
    """

    def __init__(self, limit: int, window: timedelta, capacity: int = TRACKED_MEMBERS) -> None:
        self.limit = limit
        self.window = window
        self._span = micros(window)
        self._times: Expiring[tuple[int, int], bytes] = Expiring(capacity)

    def __len__(self) -> int:
        return len(self._times)

    def lost(self, key: tuple[int, int], at: datetime) -> bool:
        """Whether the member's window may have been forgotten while it still counted."""
        return self._times.lost(key, micros(at))

    def add(self, key: tuple[int, int], at: datetime) -> bool:
        """Count a message; True when the member is over the limit in the window."""
        now, span = micros(at), self._span
        packed = self._times.get(key)
        times = [] if packed is None else list(array("q", packed))
        times.append(now)
        start = 0
        while start < len(times) and now - times[start] >= span:
            start += 1
        times = times[start:]
        # A time counts while the time since it is less than the window.
        self._times.put(key, array("q", times).tobytes(), until=max(times) + span - 1, now=now)
        return len(times) > self.limit


class RepeatTracker:
    """The same text from one member, across channels, within a window (the last few
    different texts of each member are followed, so alternating spam is caught too).

    Each member's copies within the window are kept packed: a hash of the text's
    fingerprint and its time (16 bytes a copy). Forgetting works as in `FloodTracker`.
    """

    TEXTS_PER_MEMBER = 8

    def __init__(
        self, count: int, window: timedelta, min_length: int, capacity: int = TRACKED_MEMBERS
    ) -> None:
        self.count = count
        self.window = window
        self.min_length = min_length
        self._span = micros(window)
        self._texts: Expiring[tuple[int, int], bytes] = Expiring(capacity)

    def __len__(self) -> int:
        return len(self._texts)

    def lost(self, key: tuple[int, int], at: datetime) -> bool:
        """Whether the member's copies may have been forgotten while they still counted."""
        return self._texts.lost(key, micros(at))

    def add(self, key: tuple[int, int], text: str, at: datetime) -> bool:
        """Count a message; True when it is the `count`-th (or later) copy in the window."""
        if len(text) < self.min_length:  # a cheap first cut
            return False
        # The points feature's notion of "the same text": case, width, spacing, punctuation,
        # emoji, links and mentions do not make a copy new.
        same = fingerprint(text[:REPEAT_SCAN])
        if not same:
            return False
        now, span, mark = micros(at), self._span, hash(same)
        packed = self._texts.get(key)
        # Copies oldest first; one no older than the window counts.
        copies: list[tuple[int, int]] = []
        if packed is not None:
            copies = [(m, t) for m, t in _COPY.iter_unpack(packed) if now - t <= span]
        copies.append((mark, now))
        texts = list(dict.fromkeys(m for m, _ in reversed(copies)))  # most recent first
        if len(texts) > self.TEXTS_PER_MEMBER:  # follow the texts seen last only
            followed = set(texts[: self.TEXTS_PER_MEMBER])
            copies = [(m, t) for m, t in copies if m in followed]
        until = max(t for _, t in copies) + span
        self._texts.put(key, b"".join(_COPY.pack(m, t) for m, t in copies), until=until, now=now)
        return sum(m == mark for m, _ in copies) >= self.count
