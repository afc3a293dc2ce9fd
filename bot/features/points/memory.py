"""The repeat filter's memory: each member's recent message fingerprints, bounded.

The same text within the repeat window earns XP once. What a member said within the window
is kept in memory, packed (a hash and a time in microseconds: 16 bytes a message); a member
whose window has passed is forgotten, which is the same as remembering them. Beyond
`capacity` members the least recently seen is forgotten even if their window is still open.
A member the filter does not know is rebuilt from the message log when something of theirs
may still count: messages from before the filter's first message (a restart), or a window
forgotten beyond `capacity` (`needs_load`, and `lost` for that second case: the log must then
be written first, since what they said last may still wait in the writer's batch).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.recent import Expiring, micros
from bot.text.normalize import fingerprint

__all__ = ["RepeatFilter"]

#: Fingerprints kept per member (the window rarely holds more messages that earn).
PER_MEMBER = 20
_MARK = struct.Struct("<qq")  # (hash of the fingerprint, sent at in µs)


class RepeatFilter:
    """Recent fingerprints of at most `capacity` members."""

    def __init__(self, capacity: int) -> None:
        self._members: Expiring[int, bytes] = Expiring(capacity)
        #: The first message the filter saw: the log before it is not in memory.
        self._first: int | None = None

    def __len__(self) -> int:
        return len(self._members)

    def needs_load(self, member_id: int, at: datetime, window: timedelta) -> bool:
        """Whether the member's messages before `at` must be read from the log (`seed`):
        the filter does not know them and some may still be within `window` of `at`."""
        now = micros(at)
        if self._first is None:
            self._first = now
        if member_id in self._members:
            return False
        return now - micros(window) <= self._first or self._members.lost(member_id, now)

    def lost(self, member_id: int, at: datetime) -> bool:
        """Whether the member was forgotten while their window was open (or `at` is older
        than what was forgotten as expired): their latest messages may not be written yet."""
        return self._members.lost(member_id, micros(at))

    def seed(
        self, member_id: int, texts: Iterable[tuple[str, datetime]], window: timedelta
    ) -> None:
        """Remember what the member said before (oldest first), unless already known."""
        if member_id in self._members:
            return
        marks = [(hash(fingerprint(text)), micros(at)) for text, at in texts][-PER_MEMBER:]
        if marks:
            self._keep(member_id, marks, micros(window), marks[-1][1])

    def repeated(self, member_id: int, text: str, at: datetime, window: timedelta) -> bool:
        """Record `text` and tell whether the member said the same within `window` before."""
        now, span = micros(at), micros(window)
        packed = self._members.get(member_id)
        marks: list[tuple[int, int]] = [] if packed is None else list(_MARK.iter_unpack(packed))
        start = 0
        while start < len(marks) and now - marks[start][1] > span:
            start += 1
        marks = marks[start:]
        mark = hash(fingerprint(text))
        repeated = any(seen == mark for seen, _ in marks)
        marks.append((mark, now))
        self._keep(member_id, marks[-PER_MEMBER:], span, now)
        return repeated

    def _keep(self, member_id: int, marks: list[tuple[int, int]], span: int, now: int) -> None:
        packed = b"".join(_MARK.pack(mark, sent) for mark, sent in marks)
        # A mark counts while the time since it is at most the window.
        self._members.put(member_id, packed, until=max(s for _, s in marks) + span, now=now)
