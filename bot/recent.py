"""A bounded memory of recent items: the oldest is forgotten first, in O(1)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

__all__ = ["Recent"]

K = TypeVar("K")
V = TypeVar("V")


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
