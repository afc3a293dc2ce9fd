"""Events held while the database cannot be reached, in the order they arrived.

The engine holds an event when resolving who and where, its command, or one of its features
finds the database unreachable; every later event waits behind it, so each channel's events
keep their order. A background task (supervised) retries the oldest with backoff and runs
each from the step where it stopped: a feature that already handled it does not again.

The backlog is bounded: past `capacity` events the oldest is dropped, with an ERROR line.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from bot.events import Event
from bot.features.base import EventContext

__all__ = ["CAPACITY", "Backlog", "Held", "retry_delay"]

logger = logging.getLogger(__name__)
#: Events held at most; past this the oldest are dropped.
CAPACITY = 10_000
#: Log a dropped event once per this many (the first one always).
DROP_LOG_EVERY = 1_000


def retry_delay(attempt: int) -> float:
    """Seconds before retry `attempt` (0, 1, …) of the held events: 0.5, 1, 2, 4, 5, 5 …"""
    return min(5.0, 0.5 * float(2 ** min(attempt, 4)))


@dataclass(slots=True, eq=False)
class Held:
    """One event on its way through the engine; `step` is where it goes on: 0 resolves and
    runs its command, N runs the features from the Nth (1-based)."""

    event: Event
    key: tuple[str, ...] | None
    context: EventContext | None = None
    step: int = 0


class Backlog:
    """A bounded FIFO of held events."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._items: deque[Held] = deque()
        #: Events dropped because the backlog was full, since the start.
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Held]:
        return iter(self._items)

    def hold(self, held: Held) -> None:
        """Add `held` at the end; drop the oldest if that makes the backlog too long."""
        self._items.append(held)
        while len(self._items) > self.capacity:
            lost = self._items.popleft()
            self.dropped += 1
            if self.dropped % DROP_LOG_EVERY == 1 or DROP_LOG_EVERY == 1:
                logger.error(
                    "database still unreachable and %d events held: dropped the oldest, "
                    "%s %s (%d dropped so far)",
                    self.capacity,
                    type(lost.event).__name__,
                    lost.key,
                    self.dropped,
                )

    def oldest(self) -> Held | None:
        """The event to retry first, if any."""
        return self._items[0] if self._items else None

    def done(self, held: Held) -> None:
        """`held` went through: remove it (unless it was dropped meanwhile)."""
        if self._items and self._items[0] is held:
            self._items.popleft()
