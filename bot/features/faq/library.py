"""A community's FAQ in memory: entries and the search index, rebuilt when they change."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.text.matcher import FaqIndex, Ranker
from storage.database import Database
from storage.faq import Entry, list_entries

IndexFactory = Callable[[Sequence[tuple[Hashable, Sequence[str]]]], Ranker]

__all__ = ["IndexFactory", "Library", "Shelf"]

#: Another process may have changed the FAQ: re-read it at least this often.
REFRESH = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Shelf:
    """The enabled entries of one community and their index."""

    entries: dict[int, Entry]
    index: Ranker
    loaded_at: datetime


class Library:
    """Per-community FAQ shelves, loaded lazily and dropped when an entry changes.

    A shelf is re-read from the database every `REFRESH` (another process may have changed
    the FAQ), but its index is rebuilt only if the phrasings changed: building one costs
    about a second at 1,500 entries (minutes of encoder time with the semantic stage). The
    build runs in a worker thread, so the event loop keeps serving the other platforms.
    """

    def __init__(
        self, database: Database, clock: Clock, index_factory: IndexFactory = FaqIndex
    ) -> None:
        self._database = database
        self._clock = clock
        self._index_factory = index_factory
        self._shelves: dict[int, Shelf] = {}
        self._loading: dict[int, asyncio.Lock] = {}
        # Bumped by `changed`: a load that began before a change must not be kept.
        self._generation: dict[int, int] = {}

    async def shelf(self, community_id: int) -> Shelf:
        """The community's enabled entries and index (loaded if missing or stale)."""
        shelf = self._shelves.get(community_id)
        if shelf is not None and self._clock.now() - shelf.loaded_at < REFRESH:
            return shelf
        # One load at a time per community: questions arriving meanwhile wait for it.
        async with self._loading.setdefault(community_id, asyncio.Lock()):
            shelf = self._shelves.get(community_id)
            now = self._clock.now()
            if shelf is not None and now - shelf.loaded_at < REFRESH:
                return shelf
            generation = self._generation.get(community_id, 0)
            async with self._database.session() as session:
                entries = await list_entries(session, community_id=community_id)
            enabled = {e.id: e for e in entries if e.enabled and e.questions}
            phrasings = _phrasings(enabled)
            if shelf is not None and _phrasings(shelf.entries) == phrasings:
                index = shelf.index
            else:
                index = await asyncio.to_thread(self._index_factory, phrasings)
            shelf = Shelf(enabled, index, now)
            if self._generation.get(community_id, 0) == generation:
                self._shelves[community_id] = shelf
            return shelf

    def changed(self, community_id: int) -> None:
        """Forget the community's shelf; the next question reloads it."""
        self._shelves.pop(community_id, None)
        self._generation[community_id] = self._generation.get(community_id, 0) + 1


def _phrasings(entries: dict[int, Entry]) -> list[tuple[int, tuple[str, ...]]]:
    """What an index is built from: each entry's id and phrasings."""
    return [(entry.id, entry.questions) for entry in entries.values()]
