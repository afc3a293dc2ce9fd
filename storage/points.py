"""Points storage: per-member totals (compare-and-swap), the append-only ledger, thanks pairs,
leaderboards and level roles."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.activity import dialect_insert, insert_ignoring_duplicates, newest_messages
from storage.models import (
    Base,
    LevelRole,
    Member,
    MessageLog,
    PointsLedger,
    PointsPeriod,
    PointsTotal,
    ThanksGiven,
)

__all__ = [
    "LedgerEntry",
    "LedgerKey",
    "Period",
    "Standing",
    "Totals",
    "add_ledger_entries",
    "add_period_xp",
    "add_thanks",
    "bot_members",
    "delete_level_role",
    "get_many_totals",
    "get_totals",
    "ledger_history",
    "ledger_key",
    "level_roles",
    "rank_of",
    "recent_message_texts",
    "recorded_entries",
    "recorded_sources",
    "save_many_totals",
    "save_totals",
    "set_level_role",
    "thanked_on",
    "top_members",
]


@dataclass(frozen=True, slots=True)
class Totals:
    """A member's running totals and the anti-farming state that goes with them."""

    member_id: int
    community_id: int
    xp: int = 0
    level: int = 0
    reputation: int = 0
    day: str | None = None
    day_xp: int = 0
    day_reaction_xp: int = 0
    last_message_xp_at: datetime | None = None
    streak: int = 0
    last_checkin_day: str | None = None
    version: int = 0


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One change: `amount` of `currency` ("xp" or "rep") for `reason`."""

    community_id: int
    member_id: int
    currency: str
    amount: int
    reason: str
    source: str
    at: datetime
    actor_member_id: int | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Standing:
    """A leaderboard line."""

    member_id: int
    name: str
    xp: int
    level: int


_TOTAL_FIELDS = tuple(Totals.__dataclass_fields__)


async def get_totals(session: AsyncSession, *, community_id: int, member_id: int) -> Totals:
    """A member's totals; a member who never earned gets a fresh row."""
    found = await get_many_totals(session, community_id=community_id, member_ids=[member_id])
    return found[member_id]


async def get_many_totals(
    session: AsyncSession, *, community_id: int, member_ids: Sequence[int]
) -> dict[int, Totals]:
    """`get_totals` for many members at once (fresh rows for those who never earned)."""
    await insert_ignoring_duplicates(
        session,
        table=Base.metadata.tables[PointsTotal.__tablename__],
        rows=[asdict(Totals(member_id=m, community_id=community_id)) for m in member_ids],
    )
    found: dict[int, Totals] = {}
    for start in range(0, len(member_ids), 500):  # bounded IN lists
        chunk = member_ids[start : start + 500]
        rows = await session.execute(select(PointsTotal).where(PointsTotal.member_id.in_(chunk)))
        for row in rows.scalars():
            found[row.member_id] = Totals(**{name: getattr(row, name) for name in _TOTAL_FIELDS})
    return found


async def save_totals(session: AsyncSession, *, before: Totals, after: Totals) -> bool:
    """Write `after` if the row is still at `before.version`; False if someone was faster."""
    values = {name: getattr(after, name) for name in _TOTAL_FIELDS if name != "member_id"}
    values["version"] = before.version + 1
    result = await session.execute(
        update(PointsTotal)
        .where(PointsTotal.member_id == before.member_id, PointsTotal.version == before.version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


_LEDGER_FIELDS = tuple(LedgerEntry.__dataclass_fields__)


async def add_ledger_entries(session: AsyncSession, *, entries: Sequence[LedgerEntry]) -> None:
    """Append ledger rows (never updated or deleted), in one bulk insert."""
    if entries:
        rows = [{name: getattr(entry, name) for name in _LEDGER_FIELDS} for entry in entries]
        await insert_ignoring_duplicates(  # the ledger has no unique key: every row goes in
            session, table=Base.metadata.tables[PointsLedger.__tablename__], rows=rows
        )


async def thanked_on(session: AsyncSession, *, giver_id: int, day: str) -> set[int]:
    """The members `giver` thanked on `day` (the once-a-day-per-pair rule)."""
    query = select(ThanksGiven.receiver_id).where(
        ThanksGiven.giver_id == giver_id, ThanksGiven.day == day
    )
    return {int(found) for found in (await session.execute(query)).scalars()}


async def add_thanks(session: AsyncSession, *, rows: Sequence[Mapping[str, Any]]) -> None:
    """Record thanks pairs (giver, receiver, day); a pair already recorded is skipped."""
    table = Base.metadata.tables[ThanksGiven.__tablename__]
    await insert_ignoring_duplicates(session, table=table, rows=[dict(row) for row in rows])


async def bot_members(session: AsyncSession, *, member_ids: Sequence[int]) -> set[int]:
    """Which of `member_ids` are bots (thanks never go to a bot)."""
    if not member_ids:
        return set()
    query = select(Member.id).where(Member.id.in_(list(member_ids)), Member.is_bot.is_(True))
    return {int(found) for found in (await session.execute(query)).scalars()}


async def recent_message_texts(
    session: AsyncSession,
    *,
    member_id: int,
    since: datetime,
    until: datetime,
    limit: int = 20,
) -> list[tuple[str, str, str, datetime]]:
    """A member's last `limit` logged text messages (not commands, not media), sent in
    [since, until]: (channel id, message id, text, sent at), oldest first. The repeat filter
    rebuilds itself from them after a restart."""
    columns = (MessageLog.channel_id, MessageLog.message_id, MessageLog.text, MessageLog.sent_at)
    whose = MessageLog.member_id == member_id
    text = (MessageLog.text.is_not(None), MessageLog.kind == "text")
    query = newest_messages(columns, whose, since, until, limit, *text)
    rows = (await session.execute(query)).all()
    return [(str(r[0]), str(r[1]), str(r[2]), r[3]) for r in reversed(rows)]


async def recorded_sources(
    session: AsyncSession, *, community_id: int, prefix: str, since: datetime, until: datetime
) -> set[tuple[int, str, str, str]]:
    """(member, source, reason, currency) of the ledger rows dated in [since, until] whose
    source starts with `prefix`: what an earlier import already awarded in that window (by
    the community and time index, so a batch costs one range read)."""
    query = select(
        PointsLedger.member_id, PointsLedger.source, PointsLedger.reason, PointsLedger.currency
    ).where(
        PointsLedger.community_id == community_id,
        PointsLedger.at >= since,
        PointsLedger.at <= until,
        PointsLedger.source.startswith(prefix, autoescape=True),
    )
    rows = (await session.execute(query)).all()
    return {(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows}


LedgerKey = tuple[int, str, str, str, datetime]
"""(member, source, reason, currency, moment in UTC): the event a ledger row comes from."""


def ledger_key(entry: LedgerEntry) -> LedgerKey:
    """The key of the event `entry` was derived from: replaying that event gives it again."""
    return (entry.member_id, entry.source, entry.reason, entry.currency, _utc(entry.at))


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


async def recorded_entries(
    session: AsyncSession, *, entries: Sequence[LedgerEntry]
) -> set[LedgerKey]:
    """The keys of `entries` the ledger already holds (a replayed or redelivered event).

    One range read per community and chunk of sources, by the community and time index: a
    batch covers a short span, so it reads little. The source is part of the key with the
    moment, so two chats' message #12 of the same member are told apart by their times."""
    wanted = {ledger_key(entry) for entry in entries}
    by_community: dict[int, list[LedgerEntry]] = {}
    for entry in entries:
        by_community.setdefault(entry.community_id, []).append(entry)
    found: set[LedgerKey] = set()
    for community_id, some in by_community.items():
        moments = [_utc(entry.at) for entry in some]
        sources = sorted({entry.source for entry in some})
        for start in range(0, len(sources), 1000):  # bounded IN lists
            query = select(
                PointsLedger.member_id,
                PointsLedger.source,
                PointsLedger.reason,
                PointsLedger.currency,
                PointsLedger.at,
            ).where(
                PointsLedger.community_id == community_id,
                PointsLedger.at >= min(moments),
                PointsLedger.at <= max(moments),
                PointsLedger.source.in_(sources[start : start + 1000]),
            )
            for row in (await session.execute(query)).all():
                key = (int(row[0]), str(row[1]), str(row[2]), str(row[3]), _utc(row[4]))
                if key in wanted:
                    found.add(key)
    return found


Period = tuple[str, str]
"""A leaderboard period: ("week" or "month", its first local day as YYYY-MM-DD)."""


async def add_period_xp(
    session: AsyncSession, *, community_id: int, gained: Mapping[tuple[int, Period], int]
) -> None:
    """Add XP to running totals by (member, period) (one upsert for them all)."""
    rows = [
        {"community_id": community_id, "kind": kind, "start": start, "member_id": member_id}
        | {"xp": amount}
        for (member_id, (kind, start)), amount in gained.items()
        if amount
    ]
    if not rows:
        return
    table = Base.metadata.tables[PointsPeriod.__tablename__]
    adding = dialect_insert(session, table)
    keys = [table.c.community_id, table.c.kind, table.c.start, table.c.member_id]
    upsert = adding.on_conflict_do_update(
        index_elements=keys, set_={"xp": table.c.xp + adding.excluded.xp}
    )
    await session.execute(upsert, rows)


def _period_scores(community_id: int, period: Period | None) -> Any:
    """(member_id, score) rows: total XP, or XP gained in one week or month."""
    if period is None:
        return select(
            PointsTotal.member_id.label("member_id"), PointsTotal.xp.label("score")
        ).where(PointsTotal.community_id == community_id)
    kind, start = period
    return select(PointsPeriod.member_id.label("member_id"), PointsPeriod.xp.label("score")).where(
        PointsPeriod.community_id == community_id,
        PointsPeriod.kind == kind,
        PointsPeriod.start == start,
    )


async def top_members(
    session: AsyncSession, *, community_id: int, limit: int = 10, period: Period | None = None
) -> list[Standing]:
    """The `limit` members with the most XP (all time, or gained in `period`)."""
    scores = _period_scores(community_id, period).subquery()
    query = (
        select(scores.c.member_id, Member.display_name, scores.c.score, PointsTotal.level)
        .join(Member, Member.id == scores.c.member_id)
        .join(PointsTotal, PointsTotal.member_id == scores.c.member_id)
        .where(scores.c.score > 0, Member.is_bot.is_(False))
        .order_by(scores.c.score.desc(), scores.c.member_id)
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    return [Standing(row[0], row[1], int(row[2]), int(row[3])) for row in rows]


async def rank_of(
    session: AsyncSession, *, community_id: int, member_id: int, period: Period | None = None
) -> tuple[int, int, int]:
    """(rank, score, members ranked) of one member; rank counts members strictly ahead + 1."""
    scores = _period_scores(community_id, period).subquery()
    mine_query = select(scores.c.score).where(scores.c.member_id == member_id)
    mine = int((await session.execute(mine_query)).scalar_one_or_none() or 0)
    counts = select(
        func.count().filter(scores.c.score > mine), func.count().filter(scores.c.score > 0)
    )
    ahead, ranked = (await session.execute(counts)).one()
    return int(ahead) + 1, mine, int(ranked)


async def score_counts(
    session: AsyncSession, *, community_id: int, score: int, leaving_out: Collection[int] = ()
) -> tuple[int, int]:
    """(members with more total XP than `score`, members with any XP) in the community, in
    one statement (one snapshot), not counting the members `leaving_out`."""
    counted = PointsTotal.community_id == community_id
    if leaving_out:
        counted = and_(counted, PointsTotal.member_id.not_in(leaving_out))
    counts = select(
        func.count().filter(PointsTotal.xp > score), func.count().filter(PointsTotal.xp > 0)
    ).where(counted)
    ahead, ranked = (await session.execute(counts)).one()
    return int(ahead), int(ranked)


async def ledger_history(
    session: AsyncSession, *, member_id: int, limit: int = 20
) -> list[LedgerEntry]:
    """A member's newest ledger rows first."""
    query = (
        select(PointsLedger)
        .where(PointsLedger.member_id == member_id)
        .order_by(PointsLedger.at.desc(), PointsLedger.id.desc())
        .limit(limit)
    )
    rows = (await session.execute(query)).scalars()
    return [
        LedgerEntry(
            community_id=row.community_id,
            member_id=row.member_id,
            currency=row.currency,
            amount=row.amount,
            reason=row.reason,
            source=row.source,
            at=row.at,
            actor_member_id=row.actor_member_id,
            note=row.note,
        )
        for row in rows
    ]


async def set_level_role(
    session: AsyncSession,
    *,
    community_id: int,
    platform: str,
    group_external_id: str,
    level: int,
    role_id: str,
) -> None:
    """Map `level` to a platform role in one group (replacing an earlier mapping)."""
    await delete_level_role(
        session,
        community_id=community_id,
        platform=platform,
        group_external_id=group_external_id,
        level=level,
    )
    session.add(
        LevelRole(
            community_id=community_id,
            platform=platform,
            group_external_id=group_external_id,
            level=level,
            role_id=role_id,
        )
    )
    await session.flush()


async def delete_level_role(
    session: AsyncSession, *, community_id: int, platform: str, group_external_id: str, level: int
) -> None:
    """Forget the role of `level` in one group."""
    await session.execute(
        delete(LevelRole).where(
            LevelRole.community_id == community_id,
            LevelRole.platform == platform,
            LevelRole.group_external_id == group_external_id,
            LevelRole.level == level,
        )
    )


async def level_roles(
    session: AsyncSession, *, community_id: int, platform: str, group_external_id: str
) -> dict[int, str]:
    """Level → role id for one group."""
    query = select(LevelRole.level, LevelRole.role_id).where(
        LevelRole.community_id == community_id,
        LevelRole.platform == platform,
        LevelRole.group_external_id == group_external_id,
    )
    return {int(level): str(role) for level, role in (await session.execute(query)).all()}


async def save_many_totals(
    session: AsyncSession, *, changes: Sequence[tuple[Totals, Totals]]
) -> set[int]:
    """`save_totals` for many members in two statements: each (before, after) is written if
    the member's row is still at `before.version`. Returns the members whose row had moved
    on (nothing of theirs written). The rows are read with FOR UPDATE (on SQLite the batch's
    earlier writes already hold the database's one write lock), so none moves in between."""
    if not changes:
        return set()
    table = Base.metadata.tables[PointsTotal.__tablename__]
    ids = [before.member_id for before, _ in changes]
    versions: dict[int, int] = {}
    for start in range(0, len(ids), 500):  # bounded IN lists
        query = (
            select(table.c.member_id, table.c.version)
            .where(table.c.member_id.in_(ids[start : start + 500]))
            .with_for_update()
        )
        versions.update((int(m), int(v)) for m, v in (await session.execute(query)).all())
    moved = {b.member_id for b, _ in changes if versions.get(b.member_id) != b.version}
    rows = [
        {
            f"b_{name}" if name == "member_id" else name: getattr(after, name)
            for name in _TOTAL_FIELDS
        }
        | {"version": before.version + 1}
        for before, after in changes
        if before.member_id not in moved
    ]
    if rows:
        statement = table.update().where(table.c.member_id == bindparam("b_member_id"))
        await session.execute(statement, rows)
    return moved
