"""Applying point changes straight to the database (history imports): one transaction per
batch of members, compare-and-swap on the totals row, ledger rows in the same transaction, so
the total always equals the ledger sum. Live events go through `staged.StagedBook`."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.points.rules import Change, period_keys
from storage.database import Database
from storage.identity import CommunityInfo
from storage.points import (
    LedgerEntry,
    Period,
    Totals,
    add_ledger_entries,
    add_period_xp,
    get_many_totals,
    get_totals,
    save_totals,
)

__all__ = ["Applied", "PointsBook"]

logger = logging.getLogger(__name__)
Rule = Callable[[Totals], Change | None]
ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Applied:
    """What a change did: the totals before and after (equal when nothing changed)."""

    before: Totals
    after: Totals
    changed: bool

    @property
    def levelled_up(self) -> bool:
        """True if the change crossed into a higher level."""
        return self.after.level > self.before.level


class PointsBook:
    """Serializes changes per member in this process; CAS protects across processes."""

    def __init__(self, database: Database) -> None:
        self._database = database
        # SQLite has one writer: queue our own writers instead of racing for its lock.
        self._single_writer = asyncio.Lock() if database.dialect == "sqlite" else None
        self._locks: dict[int, asyncio.Lock] = {}

    def _lock(self, member_id: int) -> asyncio.Lock:
        if self._single_writer is not None:
            return self._single_writer
        return self._locks.setdefault(member_id, asyncio.Lock())

    async def apply(
        self,
        community: CommunityInfo,
        member_id: int,
        rule: Rule,
    ) -> Applied:
        """Apply `rule` to the member's current totals and record it, in one transaction."""
        async with self._lock(member_id):
            for attempt in range(ATTEMPTS):
                try:
                    result = await self._attempt(community, member_id, rule)
                except OperationalError:  # another process holds SQLite's write lock
                    logger.warning("points write for member %s busy; retrying", member_id)
                    result = None
                if result is not None:
                    return result
                await asyncio.sleep(0.01 * (attempt + 1))
        raise RuntimeError(f"points for member {member_id} kept changing under us")

    async def _attempt(
        self,
        community: CommunityInfo,
        member_id: int,
        rule: Rule,
    ) -> Applied | None:
        try:
            async with self._database.session() as session, session.begin():
                before = await get_totals(session, community_id=community.id, member_id=member_id)
                applied = await _write(session, community, {member_id: before}, {member_id: rule})
        except _Conflict:
            return None  # rolled back; the caller retries on fresh totals
        return applied[member_id]

    async def apply_many(
        self, community: CommunityInfo, rules: Mapping[int, Rule]
    ) -> dict[int, Applied]:
        """`apply` for many members in one transaction (an import's batch: thousands of
        members); if any member's totals changed under us, each is applied on its own."""
        members = sorted(rules)
        async with AsyncExitStack() as held:
            for lock in dict.fromkeys(self._lock(m) for m in members):  # sorted: no deadlock
                await held.enter_async_context(lock)
            try:
                return await self._apply_together(community, members, rules)
            except (_Conflict, OperationalError):
                pass  # rolled back; the locks go before the one-by-one path takes them
        return {m: await self.apply(community, m, rules[m]) for m in members}

    async def _apply_together(
        self, community: CommunityInfo, members: list[int], rules: Mapping[int, Rule]
    ) -> dict[int, Applied]:
        async with self._database.session() as session, session.begin():
            totals = await get_many_totals(session, community_id=community.id, member_ids=members)
            return await _write(session, community, totals, rules)


async def _write(
    session: AsyncSession,
    community: CommunityInfo,
    totals: Mapping[int, Totals],
    rules: Mapping[int, Rule],
) -> dict[int, Applied]:
    """Apply each member's rule to their totals read in this transaction: compare-and-swap
    the totals, then the ledger and period rows of all of them together.

    Raises:
        _Conflict: a member's totals changed since they were read.
    """
    applied: dict[int, Applied] = {}
    entries: list[LedgerEntry] = []
    for member, before in totals.items():
        change = rules[member](before)
        if change is None:
            applied[member] = Applied(before, before, changed=False)
            continue
        if not await save_totals(session, before=before, after=change.totals):
            raise _Conflict
        entries.extend(change.entries)
        applied[member] = Applied(before, change.totals, changed=True)
    await add_ledger_entries(session, entries=entries)
    await add_period_xp(
        session, community_id=community.id, gained=_period_gains(community, entries)
    )
    return applied


def _period_gains(
    community: CommunityInfo, entries: Sequence[LedgerEntry]
) -> Counter[tuple[int, Period]]:
    """XP by member and week or month (one upsert for all, however many entries)."""
    gained: Counter[tuple[int, Period]] = Counter()
    for entry in entries:
        if entry.currency == "xp" and entry.amount:
            for period in period_keys(entry.at, community.timezone):
                gained[entry.member_id, period] += entry.amount
    return gained


class _Conflict(Exception):
    """The totals row changed between read and write."""
