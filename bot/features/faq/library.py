"""A community's FAQ in memory: entries and the search index, rebuilt when they change."""

from __future__ import annotations

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
    """Per-community FAQ shelves, loaded lazily and dropped when an entry changes."""

    def __init__(
        self, database: Database, clock: Clock, index_factory: IndexFactory = FaqIndex
    ) -> None:
        self._database = database
        self._clock = clock
        self._index_factory = index_factory
        self._shelves: dict[int, Shelf] = {}

    async def shelf(self, community_id: int) -> Shelf:
        """The community's enabled entries and index (loaded if missing or stale)."""
        now = self._clock.now()
        shelf = self._shelves.get(community_id)
        if shelf is not None and now - shelf.loaded_at < REFRESH:
            return shelf
        async with self._database.session() as session:
            entries = await list_entries(session, community_id=community_id)
        enabled = {entry.id: entry for entry in entries if entry.enabled and entry.questions}
        index = self._index_factory([(entry.id, entry.questions) for entry in enabled.values()])
        shelf = self._shelves[community_id] = Shelf(enabled, index, now)
        return shelf

    def changed(self, community_id: int) -> None:
        """Forget the community's shelf; the next question reloads it."""
        self._shelves.pop(community_id, None)
