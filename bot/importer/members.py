"""Member ids for imported rows, resolved in bulk: a few statements per batch for every account
seen for the first time, instead of a transaction per account (an export names thousands).

Also which members are bots: those whose account Hearth already knows as a bot (the live
adapters record the platforms' exact flag), and those the export's reader recognised as bots
(marked as bots in the database at the next `resolve()`; never the other way)."""

from __future__ import annotations

from typing import Any

from bot.clock import Clock
from bot.events import Author
from storage.database import Database
from storage.importing import ensure_members, mark_bots

__all__ = ["MemberIds"]

Key = tuple[int, str, str]


class MemberIds:
    """Fills ``member_id`` of queued rows; `resolve()` before writing them."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock
        self._ids: dict[Key, int] = {}
        self._wanted: dict[Key, Author] = {}
        self._waiting: list[tuple[dict[str, Any], Key]] = []
        self._lookups: list[tuple[dict[str, Any], Key]] = []
        self._bot_keys: set[Key] = set()
        self._new_bots: set[Key] = set()
        self.bots: set[int] = set()  # member ids

    def __len__(self) -> int:
        """Accounts seen so far."""
        return len(self._ids) + len(self._wanted)

    def fill(self, row: dict[str, Any], community_id: int, platform: str, author: Author) -> None:
        """Set the row's ``member_id`` now if the account is known, else at `resolve()`."""
        key = (community_id, platform, author.user_id)
        if author.is_bot and key not in self._bot_keys:
            self._bot_keys.add(key)
            self._new_bots.add(key)
        member = self._ids.get(key)
        row["member_id"] = member
        if member is None:
            self._wanted.setdefault(key, author)
            self._waiting.append((row, key))

    def find(self, row: dict[str, Any], community_id: int, platform: str, user_id: str) -> None:
        """Set the row's ``member_id`` at `resolve()` to the account's member if this import
        has seen the account by then (None otherwise); creates nothing."""
        self._lookups.append((row, (community_id, platform, user_id)))

    async def resolve(self) -> None:
        """Create or find every account seen for the first time, and mark newly recognised
        bots, in one transaction."""
        if self._wanted or self._new_bots:
            async with self._database.session() as session, session.begin():
                await self._create(session)
                await self._mark(session)
        for row, key in self._waiting:
            row["member_id"] = self._ids[key]
        for row, key in self._lookups:
            row["member_id"] = self._ids.get(key)
        self._waiting, self._lookups = [], []

    async def _create(self, session: Any) -> None:
        now = self._clock.now()
        by_group: dict[tuple[int, str], list[tuple[str, str, bool]]] = {}
        for (community, platform, user), author in self._wanted.items():
            name = author.name or user
            is_bot = (community, platform, user) in self._bot_keys
            by_group.setdefault((community, platform), []).append((user, name, is_bot))
        for (community, platform), accounts in by_group.items():
            found = await ensure_members(
                session, community_id=community, platform=platform, accounts=accounts, now=now
            )
            for user, (member, stored_bot) in found.items():
                key = (community, platform, user)
                self._ids[key] = member
                if stored_bot:  # known as a bot before this import: nothing to mark
                    self._bot_keys.add(key)
                    self._new_bots.discard(key)
                    self.bots.add(member)
        self._wanted = {}

    async def _mark(self, session: Any) -> None:
        ready = [key for key in self._new_bots if key in self._ids]
        by_platform: dict[str, list[Key]] = {}
        for key in ready:
            by_platform.setdefault(key[1], []).append(key)
        for platform, keys in by_platform.items():
            members = [self._ids[key] for key in keys]
            await mark_bots(
                session, platform=platform, users=[key[2] for key in keys], members=members
            )
            self.bots.update(members)
        self._new_bots.difference_update(ready)
