"""The repeat filter's memory: each member's recent message fingerprints, bounded.

The same text within the repeat window earns XP once. What a member said recently is kept in
memory for the members seen last (least recently seen forgotten first); a member the filter
does not know yet (the first message after a start, or after being forgotten) is rebuilt
from the message log once, so a restart does not reset the filter.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.text.normalize import fingerprint

__all__ = ["RepeatFilter"]

#: Fingerprints kept per member (the window rarely holds more messages that earn).
PER_MEMBER = 20


class RepeatFilter:
    """Recent fingerprints of at most `capacity` members (hashes: a few bytes each)."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._members: OrderedDict[int, deque[tuple[int, datetime]]] = OrderedDict()

    def knows(self, member_id: int) -> bool:
        """True if the member's recent texts are in memory (no need to load them)."""
        return member_id in self._members

    def seed(self, member_id: int, texts: Iterable[tuple[str, datetime]]) -> None:
        """Remember what the member said before (oldest first), unless already known."""
        if member_id in self._members:
            return
        marks = deque(((hash(fingerprint(text)), at) for text, at in texts), maxlen=PER_MEMBER)
        self._members[member_id] = marks
        if len(self._members) > self._capacity:
            self._members.popitem(last=False)

    def repeated(self, member_id: int, text: str, at: datetime, window: timedelta) -> bool:
        """Record `text` and tell whether the member said the same within `window` before."""
        recent = self._members.get(member_id)
        if recent is None:
            self.seed(member_id, ())
            recent = self._members[member_id]
        else:
            self._members.move_to_end(member_id)
        while recent and at - recent[0][1] > window:
            recent.popleft()
        mark = hash(fingerprint(text))
        repeated = any(seen == mark for seen, _ in recent)
        recent.append((mark, at))
        return repeated
