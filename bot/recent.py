"""Bounded memories: recent items (the oldest forgotten first, in O(1)) and per-key state
that matters for a while (forgotten once it no longer does)."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

__all__ = ["Expiring", "Recent", "micros"]

K = TypeVar("K")
V = TypeVar("V")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(moment: datetime | timedelta) -> int:
    """A moment (microseconds since 1970) or a duration (in microseconds), exactly: the
    compact form `Expiring`'s users keep times in."""
    if isinstance(moment, datetime):
        moment = moment - _EPOCH
    return moment // _MICROSECOND


class Recent(Generic[K, V]):
    """A mapping that keeps only its last `capacity` entries.

    OrderedDict pops its oldest key in O(1); a plain dict's ``next(iter())`` slows down as
    deleted slots pile up at its front (measured: it cost a third of the ingest time).
    """

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[K, V] = OrderedDict()

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K) -> V | None:
        """The value remembered for `key`, if it is still remembered."""
        return self._items.get(key)

    def put(self, key: K, value: V) -> None:
        """Remember `value` for `key` as the newest entry, forgetting the oldest when full."""
        if key in self._items:
            self._items.move_to_end(key)
        self._items[key] = value
        if len(self._items) > self._capacity:
            self._items.popitem(last=False)

    def pop(self, key: K) -> V | None:
        """Forget `key`; its value if it was remembered."""
        return self._items.pop(key, None)


class Expiring(Generic[K, V]):
    """Per-key state that matters until a moment, for at most `capacity` keys.

    Each value comes with the moment (an int, e.g. microseconds) after which it no longer
    decides anything. Entries whose moment has passed are dropped as newer ones are put
    (nothing is lost: forgetting them is the same as keeping them). Beyond `capacity`, the
    least recently used entry is dropped although it may still matter; `lost` then tells,
    for a key not in memory, whether its state has to be rebuilt from storage.
    """

    __slots__ = ("_capacity", "_items", "_lost_until", "_swept")

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[K, tuple[int, V]] = OrderedDict()
        #: The latest moment up to which a state dropped beyond `capacity` mattered.
        self._lost_until: int | None = None
        #: The latest `now` expired entries were dropped at.
        self._swept: int | None = None

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K) -> V | None:
        """The state of `key`, if it is in memory."""
        found = self._items.get(key)
        return None if found is None else found[1]

    def put(self, key: K, value: V, *, until: int, now: int) -> None:
        """Keep `value` for `key` (it matters up to `until`) as the most recently used entry;
        drop entries that stopped mattering before `now`, then the least recently used ones
        beyond `capacity`."""
        items = self._items
        items[key] = (until, value)
        items.move_to_end(key)
        swept = False
        for _ in range(2):  # amortised: each entry is put once before it can be swept once
            oldest = next(iter(items.values()))
            if oldest[0] >= now:
                break
            items.popitem(last=False)
            swept = True
        if swept and (self._swept is None or now > self._swept):
            self._swept = now
        while len(items) > self._capacity:
            _, (until_, _) = items.popitem(last=False)
            if until_ >= now and (self._lost_until is None or until_ > self._lost_until):
                self._lost_until = until_

    def pop(self, key: K) -> V | None:
        """Forget `key` (its state no longer matters); its value if it was in memory."""
        found = self._items.pop(key, None)
        return None if found is None else found[1]

    def lost(self, key: K, now: int) -> bool:
        """Whether `key`, not in memory, may have had a state that still matters at `now`:
        one dropped beyond `capacity`, or (`now` older than a sweep) one dropped as expired."""
        if key in self._items:
            return False
        if self._lost_until is not None and now <= self._lost_until:
            return True
        return self._swept is not None and now < self._swept
