"""Point changes decided in memory and written behind, with the activity batch.

A member's totals are read from the database once (on first use, or after eviction) and then
kept; each change is applied to them at once — so level-ups and replies go out right away —
and its writes (the totals, ledger rows, weekly and monthly XP, the thanks pair) wait for the
activity writer's next batch, which commits them with the activity rows that caused them.

Across processes the totals row is still compare-and-swapped on its version when a batch
writes it: if another process (an import, a second Hearth on the same PostgreSQL) changed the
row meanwhile, this batch's gains are added to what is there instead of overwriting it, and
the member is read afresh next time.

Replays change nothing. A ledger row is keyed by the event it comes from (member, source,
reason, currency, moment: `storage.points.ledger_key`); each batch asks the database once
which of its rows are already there — an update Telegram delivered again because Hearth was
killed after committing it but before confirming it, when this process's own duplicate
filter is empty — and drops them, with their amounts taken back off the totals written
(XP, reputation, the day's capped XP, the level). Thanks pairs and the FAQ's rows are written
insert-or-ignore on their own keys.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.points.book import Applied, Rule
from bot.features.points.rules import local_day, period_keys
from bot.recent import Recent
from storage.database import Database
from storage.identity import CommunityInfo
from storage.points import (
    LedgerEntry,
    Period,
    Totals,
    add_ledger_entries,
    add_period_xp,
    add_thanks,
    get_many_totals,
    get_totals,
    ledger_key,
    recorded_entries,
    save_many_totals,
    save_totals,
    score_counts,
    thanked_on,
)
from storage.writer import ActivityWriter

__all__ = ["StagedBook"]

logger = logging.getLogger(__name__)
#: Members whose totals stay in memory (the others are read again when they next earn).
CAPACITY = 50_000
#: Members with unwritten changes a rank is corrected for; beyond, the batch is written first.
MAX_LEFT_OUT = 2_000
#: (giver, day) pairs whose thanks of that day stay in memory.
THANKS_CAPACITY = 100_000
LevelOf = Callable[[CommunityInfo, int], int]
FirstToday = Callable[[], Awaitable[bool]]


@dataclass(slots=True)
class _Dirty:
    """A member's totals as the database has them (`base`) and as they are now."""

    community: CommunityInfo
    base: Totals
    now: Totals


@dataclass(frozen=True, slots=True)
class _Replayed:
    """What a batch's replayed ledger rows had added to a member's totals (taken back)."""

    xp: int = 0
    reputation: int = 0
    #: Of `xp`, what counted to the daily caps on `day` (messages, reactions).
    day_xp: int = 0
    day_reaction_xp: int = 0
    day: str | None = None

    def off(self, totals: Totals, level_of: LevelOf, community: CommunityInfo) -> Totals:
        """`totals` without these gains."""
        xp = max(0, totals.xp - self.xp)
        same_day = totals.day == self.day
        return replace(
            totals,
            xp=xp,
            level=level_of(community, xp),
            reputation=totals.reputation - self.reputation,
            day_xp=max(0, totals.day_xp - self.day_xp) if same_day else totals.day_xp,
            day_reaction_xp=(
                max(0, totals.day_reaction_xp - self.day_reaction_xp)
                if same_day
                else totals.day_reaction_xp
            ),
        )


def _replayed(dirty: _Dirty, entries: list[LedgerEntry]) -> _Replayed:
    day = dirty.now.day
    zone = dirty.community.timezone
    xp = [e for e in entries if e.currency == "xp"]
    today = [e for e in xp if e.reason in ("message", "reaction") and local_day(e.at, zone) == day]
    return _Replayed(
        xp=sum(e.amount for e in xp),
        reputation=sum(e.amount for e in entries if e.currency == "rep"),
        day_xp=sum(e.amount for e in today if e.amount > 0),
        day_reaction_xp=sum(e.amount for e in today if e.reason == "reaction"),
        day=day,
    )


@dataclass(slots=True)
class _Batch:
    """One flush's share of the writes."""

    totals: dict[int, _Dirty] = field(default_factory=dict)
    entries: list[LedgerEntry] = field(default_factory=list)
    thanks: list[dict[str, Any]] = field(default_factory=list)
    #: Members whose row another process had changed (read afresh after the commit).
    merged: set[int] = field(default_factory=set)
    #: Gains of replayed events taken back off a member's totals when written.
    replayed: dict[int, _Replayed] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.totals or self.entries or self.thanks)


class StagedBook:
    """Applies point changes in memory; the activity writer's batches write them."""

    def __init__(self, database: Database, writer: ActivityWriter, level_of: LevelOf) -> None:
        self._database = database
        self._writer = writer
        self._level_of = level_of
        self._cache: Recent[int, Totals] = Recent(CAPACITY)
        self._loading: dict[int, asyncio.Future[Totals]] = {}
        self._pending = _Batch()
        self._inflight: _Batch | None = None
        self._thanked: Recent[tuple[int, str], set[int]] = Recent(THANKS_CAPACITY)
        writer.attach(self)

    # --- reading ------------------------------------------------------------------------

    async def totals(self, community_id: int, member_id: int) -> Totals:
        """The member's current totals, changes not yet written included."""
        found = self._current(member_id)
        if found is not None:
            return found
        loading = self._loading.get(member_id)
        if loading is not None:
            return await asyncio.shield(loading)
        future: asyncio.Future[Totals] = asyncio.get_running_loop().create_future()
        self._loading[member_id] = future
        try:
            async with self._database.session() as session, session.begin():
                loaded = await get_totals(session, community_id=community_id, member_id=member_id)
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: waiters get it, nobody is warned it was lost
            raise
        finally:
            del self._loading[member_id]
        current = self._current(member_id)  # staged while we were reading
        if current is None:
            self._cache.put(member_id, loaded)
            current = loaded
        future.set_result(current)
        return current

    async def rank(self, community_id: int, member_id: int) -> tuple[Totals, int, int]:
        """The member's totals, their all-time rank (members strictly ahead, plus one) and
        how many members have XP — changes not yet written included, without writing them.

        Members with changes not yet written (or being written) are counted from memory, the
        others by the database, in one statement: whether a batch commits during the read
        does not matter.
        """
        mine = self._current(member_id) or await self.totals(community_id, member_id)
        mine = self._current(member_id) or mine
        unwritten = {
            member: dirty.now.xp
            for batch in (self._inflight, self._pending)
            if batch is not None
            for member, dirty in batch.totals.items()
            if dirty.community.id == community_id
        }
        unwritten[member_id] = mine.xp
        if len(unwritten) > MAX_LEFT_OUT:  # a huge batch: too long a list, write it first
            await self._writer.flush()
            unwritten = {member_id: mine.xp}
        async with self._database.session() as session:
            ahead, ranked = await score_counts(
                session, community_id=community_id, score=mine.xp, leaving_out=list(unwritten)
            )
        ahead += sum(xp > mine.xp for xp in unwritten.values())
        ranked += sum(xp > 0 for xp in unwritten.values())
        return mine, ahead + 1, ranked

    def _current(self, member_id: int) -> Totals | None:
        dirty = self._pending.totals.get(member_id)
        if dirty is None and self._inflight is not None:
            dirty = self._inflight.totals.get(member_id)
        if dirty is not None:
            return dirty.now
        return self._cache.get(member_id)

    # --- changing -----------------------------------------------------------------------

    async def apply(
        self,
        community: CommunityInfo,
        member_id: int,
        rule: Rule,
        *,
        first_today: FirstToday | None = None,
    ) -> Applied:
        """Apply `rule` to the member's totals now; the writes go with the next batch.

        `first_today` runs first; if it returns False nothing changes (the once-a-day checks).
        """
        if first_today is not None and not await first_today():
            before = await self.totals(community.id, member_id)
            return Applied(before, before, changed=False)
        before = await self.totals(community.id, member_id)
        # No await from here on: the read, the rule and the staging are one step.
        change = rule(before)
        if change is None:
            return Applied(before, before, changed=False)
        dirty = self._pending.totals.get(member_id)
        if dirty is None:
            self._pending.totals[member_id] = _Dirty(community, before, change.totals)
        else:
            dirty.now = change.totals
        self._cache.put(member_id, change.totals)
        self._pending.entries.extend(change.entries)
        return Applied(before, change.totals, changed=True)

    async def thanks_once(
        self, community_id: int, giver: int, receiver: int, day: str, at: datetime
    ) -> bool:
        """Record that `giver` thanked `receiver` on `day`; False if they already had."""
        key = (giver, day)
        receivers = self._thanked.get(key)
        if receivers is None:
            async with self._database.session() as session:
                receivers = await thanked_on(session, giver_id=giver, day=day)
            receivers |= {
                int(row["receiver_id"])
                for batch in (self._pending, self._inflight)
                if batch is not None
                for row in batch.thanks
                if row["giver_id"] == giver and row["day"] == day
            }
            self._thanked.put(key, receivers)
        if receiver in receivers:
            return False
        receivers.add(receiver)
        self._pending.thanks.append(
            {
                "community_id": community_id,
                "giver_id": giver,
                "receiver_id": receiver,
                "day": day,
                "at": at,
            }
        )
        return True

    # --- the batch (storage.writer.BatchPart) -----------------------------------------

    def take(self) -> _Batch | None:
        """Hand every pending write to the flush that starts."""
        if not self._pending:
            return None
        self._inflight, self._pending = self._pending, _Batch()
        return self._inflight

    async def write(self, session: AsyncSession, taken: object) -> None:
        """Write the batch's totals (compare-and-swap), ledger, period XP and thanks; ledger
        rows already recorded (a replayed event) are dropped and their gains taken back."""
        assert isinstance(taken, _Batch)
        taken.merged.clear()
        taken.replayed.clear()
        entries = await self._new_entries(session, taken)
        written: dict[int, Totals] = {}
        for member_id, dirty in taken.totals.items():
            now = dirty.now
            replayed = taken.replayed.get(member_id)
            if replayed is not None:
                now = replayed.off(now, self._level_of, dirty.community)
            written[member_id] = now
        changes = [(taken.totals[m].base, now) for m, now in written.items()]
        for member_id in await save_many_totals(session, changes=changes):
            await self._merge(session, taken.totals[member_id], written[member_id])
            taken.merged.add(member_id)
        await add_ledger_entries(session, entries=entries)
        gains: dict[int, Counter[tuple[int, Period]]] = {}
        for entry in entries:
            if entry.currency == "xp" and entry.amount:
                zone = taken.totals[entry.member_id].community.timezone
                by_period = gains.setdefault(entry.community_id, Counter())
                for period in period_keys(entry.at, zone):
                    by_period[entry.member_id, period] += entry.amount
        for community_id, gained in gains.items():
            await add_period_xp(session, community_id=community_id, gained=gained)
        await add_thanks(session, rows=taken.thanks)

    async def _new_entries(self, session: AsyncSession, taken: _Batch) -> list[LedgerEntry]:
        """The batch's ledger rows not yet recorded (nor twice in the batch); what the others
        added to the totals goes to `taken.replayed`."""
        if not taken.entries:
            return []
        known = await recorded_entries(session, entries=taken.entries)
        fresh: list[LedgerEntry] = []
        dropped: dict[int, list[LedgerEntry]] = {}
        for entry in taken.entries:
            key = ledger_key(entry)
            if key in known:
                dropped.setdefault(entry.member_id, []).append(entry)
            else:
                known.add(key)
                fresh.append(entry)
        for member_id, gone in dropped.items():
            dirty = taken.totals.get(member_id)
            if dirty is not None:
                taken.replayed[member_id] = _replayed(dirty, gone)
        if dropped:
            logger.info(
                "%d ledger rows of replayed events not written again",
                sum(len(gone) for gone in dropped.values()),
            )
        return fresh

    async def _merge(self, session: AsyncSession, dirty: _Dirty, now: Totals) -> None:
        """Add this batch's gains (`now` less `dirty.base`) to a row another process changed
        meanwhile."""
        for _ in range(5):
            found = await get_many_totals(
                session, community_id=dirty.community.id, member_ids=[dirty.base.member_id]
            )
            current = found[dirty.base.member_id]
            merged = _merged(current, dirty.base, now)
            merged = replace(merged, level=self._level_of(dirty.community, merged.xp))
            if await save_totals(session, before=current, after=merged):
                logger.info(
                    "points of member %s changed in another process; gains added to them",
                    dirty.base.member_id,
                )
                return
        raise RuntimeError(f"points of member {dirty.base.member_id} kept changing under us")

    def committed(self, taken: object) -> None:
        """The batch is in the database: its totals are the new base of later changes."""
        assert isinstance(taken, _Batch)
        for member_id, dirty in taken.totals.items():
            later = self._pending.totals.get(member_id)
            if member_id in taken.merged:
                if later is None:
                    self._cache.pop(member_id)  # read the merged row afresh next time
                    continue
                # Rare: changes already staged on the old row; they merge on their own flush.
                later.base = replace(later.base, version=-1)
                continue
            replayed = taken.replayed.get(member_id)
            now = dirty.now
            if replayed is not None:
                now = replayed.off(now, self._level_of, dirty.community)
            written = replace(now, version=dirty.base.version + 1)
            if later is None:
                if self._cache.get(member_id) is dirty.now:
                    self._cache.put(member_id, written)
            else:
                # Staged on top of the totals before the replayed gains were taken back.
                if replayed is not None:
                    later.now = replayed.off(later.now, self._level_of, dirty.community)
                later.base = written
                later.now = replace(later.now, version=written.version)
                self._cache.put(member_id, later.now)
        if self._inflight is taken:
            self._inflight = None

    def restore(self, taken: object) -> None:
        """The batch failed: its writes go first in the next one."""
        assert isinstance(taken, _Batch)
        for member_id, dirty in taken.totals.items():
            later = self._pending.totals.get(member_id)
            if later is None:
                self._pending.totals[member_id] = dirty
            else:
                later.base = dirty.base
        self._pending.entries[:0] = taken.entries
        self._pending.thanks[:0] = taken.thanks
        if self._inflight is taken:
            self._inflight = None


def _merged(current: Totals, base: Totals, now: Totals) -> Totals:
    """`current` (another process's row) plus what this process added to `base`."""
    same_day = current.day == now.day
    day_xp = now.day_xp - (base.day_xp if base.day == now.day else 0)
    reaction_xp = now.day_reaction_xp - (base.day_reaction_xp if base.day == now.day else 0)
    later_checkin = max(current.last_checkin_day or "", now.last_checkin_day or "") or None
    checked = now if later_checkin == now.last_checkin_day else current
    last_xp = [t for t in (current.last_message_xp_at, now.last_message_xp_at) if t is not None]
    return replace(
        current,
        xp=max(0, current.xp + now.xp - base.xp),
        reputation=current.reputation + now.reputation - base.reputation,
        day=now.day,
        day_xp=(current.day_xp if same_day else 0) + day_xp,
        day_reaction_xp=(current.day_reaction_xp if same_day else 0) + reaction_xp,
        last_message_xp_at=max(last_xp) if last_xp else None,
        streak=checked.streak,
        last_checkin_day=later_checkin,
    )
