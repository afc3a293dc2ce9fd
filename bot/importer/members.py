"""Member ids for imported rows, resolved in bulk: a few statements per batch for every account
seen for the first time, instead of a transaction per account (an export names thousands)."""

from __future__ import annotations

from typing import Any

from bot.clock import Clock
from bot.events import Author
from storage.database import Database
from storage.importing import ensure_members

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

    def __len__(self) -> int:
        """Accounts seen so far."""
        return len(self._ids) + len(self._wanted)

    def fill(self, row: dict[str, Any], community_id: int, platform: str, author: Author) -> None:
        """Set the row's ``member_id`` now if the account is known, else at `resolve()`."""
        key = (community_id, platform, author.user_id)
        member = self._ids.get(key)
        row["member_id"] = member
        if member is None:
            self._wanted.setdefault(key, author)
            self._waiting.append((row, key))

    async def resolve(self) -> None:
        """Create or find every account seen for the first time, in one transaction."""
        if self._wanted:
            now = self._clock.now()
            by_group: dict[tuple[int, str], list[tuple[str, str, bool]]] = {}
            for (community, platform, user), author in self._wanted.items():
                name = author.name or user
                by_group.setdefault((community, platform), []).append((user, name, author.is_bot))
            async with self._database.session() as session, session.begin():
                for (community, platform), accounts in by_group.items():
                    found = await ensure_members(
                        session,
                        community_id=community,
                        platform=platform,
                        accounts=accounts,
                        now=now,
                    )
                    for user, member in found.items():
                        self._ids[(community, platform, user)] = member
            self._wanted = {}
        for row, key in self._waiting:
            row["member_id"] = self._ids[key]
        self._waiting = []
