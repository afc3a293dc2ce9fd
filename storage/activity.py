"""Activity log queries: idempotent inserts, text retention, and simple counts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, Table, cast, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.bulk import Row, sqlite_insert_or_ignore
from storage.models import (
    Base,
    MemberDay,
    MemberEvent,
    MessageLog,
    ModerationAction,
    ReactionLog,
)

__all__ = [
    "Row",
    "count_member_events",
    "count_messages",
    "count_reactions",
    "dialect_insert",
    "insert_if_absent",
    "insert_ignoring_duplicates",
    "latest_message_ids",
    "message_author",
    "newest_messages",
    "purge_message_text",
    "recent_channels",
    "record_active_days",
    "utc_day",
]

_MEMBER_DAYS = Base.metadata.tables[MemberDay.__tablename__]


def dialect_insert(session: AsyncSession, table: Table) -> Any:
    """The INSERT of the session's database, which knows ``ON CONFLICT`` (do nothing, do
    update): SQLite's or PostgreSQL's."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite.insert(table)
    if dialect == "postgresql":
        return postgresql.insert(table)
    raise RuntimeError(f"unsupported database dialect {dialect!r}")  # pragma: no cover


def _insert_or_ignore(session: AsyncSession, table: Table) -> Any:
    return dialect_insert(session, table).on_conflict_do_nothing()


async def insert_ignoring_duplicates(
    session: AsyncSession, *, table: Table, rows: Sequence[Row]
) -> None:
    """Insert `rows` into `table`; a row that repeats a unique key is skipped, not an error.

    On SQLite, rows that all have the same keys go through the driver's ``executemany``
    (`storage.bulk`): the activity writer's batches spend most of their time otherwise in
    SQLAlchemy's per-row parameter processing."""
    if not rows:
        return
    if session.get_bind().dialect.name == "sqlite" and _same_keys(rows):
        await sqlite_insert_or_ignore(session, table=table, rows=rows)
        return
    await session.execute(_insert_or_ignore(session, table), list(rows))


def _same_keys(rows: Sequence[Row]) -> bool:
    keys = rows[0].keys()
    return all(row.keys() == keys for row in rows)


def utc_day(moment: datetime) -> datetime:
    """The UTC midnight starting the UTC day of an aware `moment`."""
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


async def record_active_days(
    session: AsyncSession, *, messages: Iterable[Row] = (), reactions: Iterable[Row] = ()
) -> None:
    """Keep the `member_days` rollup in step with logged message and reaction rows (call in
    the transaction that inserts them; repeats are harmless)."""
    days = {(row["community_id"], utc_day(row["sent_at"]), row["member_id"]) for row in messages}
    days.update((row["community_id"], utc_day(row["at"]), row["member_id"]) for row in reactions)
    rows = [{"community_id": c, "day": d, "member_id": m} for c, d, m in sorted(days)]
    await insert_ignoring_duplicates(session, table=_MEMBER_DAYS, rows=rows)


async def insert_if_absent(session: AsyncSession, *, table: Table, row: Row) -> bool:
    """Insert one row unless it repeats a unique key; True if it was inserted."""
    result = await session.execute(_insert_or_ignore(session, table).values(**row))
    return int(getattr(result, "rowcount", 0) or 0) == 1


async def purge_message_text(session: AsyncSession, *, before: datetime) -> int:
    """Forget the text of messages sent before `before` (metadata stays), also where the
    moderation audit log quoted them. Returns the count of messages."""
    result = await session.execute(
        update(MessageLog)
        .where(MessageLog.sent_at < before, MessageLog.text.is_not(None))
        .values(text=None)
    )
    await session.execute(
        update(ModerationAction)
        .where(ModerationAction.at < before, ModerationAction.text.is_not(None))
        .values(text=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def count_messages(session: AsyncSession, *, community_id: int) -> int:
    """Number of messages logged in a community."""
    query = (
        select(func.count()).select_from(MessageLog).where(MessageLog.community_id == community_id)
    )
    return int((await session.execute(query)).scalar_one())


async def count_member_events(
    session: AsyncSession, *, community_id: int, kind: str, since: datetime | None = None
) -> int:
    """Number of joins (`kind="join"`) or leaves (`"leave"`) logged in a community, all time
    or at `since` and later."""
    query = (
        select(func.count())
        .select_from(MemberEvent)
        .where(MemberEvent.community_id == community_id, MemberEvent.kind == kind)
    )
    if since is not None:
        query = query.where(MemberEvent.at >= since)
    return int((await session.execute(query)).scalar_one())


async def count_reactions(session: AsyncSession, *, community_id: int) -> int:
    """Number of reactions logged in a community."""
    query = (
        select(func.count())
        .select_from(ReactionLog)
        .where(ReactionLog.community_id == community_id)
    )
    return int((await session.execute(query)).scalar_one())


async def message_author(
    session: AsyncSession, *, community_id: int, platform: str, channel_id: str, message_id: str
) -> int | None:
    """The member who wrote a logged message, if it is in the log."""
    query = select(MessageLog.member_id).where(
        MessageLog.community_id == community_id,
        MessageLog.platform == platform,
        MessageLog.channel_id == channel_id,
        MessageLog.message_id == message_id,
    )
    return (await session.execute(query)).scalar_one_or_none()


async def latest_message_ids(
    session: AsyncSession, *, community_id: int, group_id: int, platform: str, since: datetime
) -> dict[tuple[str, str | None], int]:
    """The newest logged message id of each channel (and thread) of a group, among messages
    sent at `since` or later: ``(channel_id, thread_id) → id``. For platforms whose message
    ids are integers that grow with time (Discord snowflakes); one query for the whole group,
    bounded by the time index."""
    newest = func.max(cast(MessageLog.message_id, BigInteger))
    query = (
        select(MessageLog.channel_id, MessageLog.thread_id, newest)
        .where(
            MessageLog.community_id == community_id,
            MessageLog.sent_at >= since,
            MessageLog.group_id == group_id,
            MessageLog.platform == platform,
        )
        .group_by(MessageLog.channel_id, MessageLog.thread_id)
    )
    rows = (await session.execute(query)).all()
    return {(channel, thread): int(top) for channel, thread, top in rows if top is not None}


def newest_messages(
    columns: Sequence[Any],
    whose: ColumnElement[bool],
    since: datetime,
    until: datetime,
    limit: int,
    *also: ColumnElement[bool],
) -> Select[Any]:
    """The newest `limit` messages (not commands) of `whose` sent in [since, until], newest
    first: the flood, repeat and repeat-filter windows rebuild themselves from them."""
    return (
        select(*columns)
        .where(
            whose,
            MessageLog.sent_at >= since,
            MessageLog.sent_at <= until,
            MessageLog.is_command.is_(False),
            *also,
        )
        .order_by(MessageLog.sent_at.desc(), MessageLog.id.desc())
        .limit(limit)
    )


async def recent_channels(
    session: AsyncSession, *, community_id: int, since: datetime
) -> list[tuple[str, str]]:
    """(platform, channel id) of the channels with messages since `since`, busiest first."""
    count = func.count()
    query = (
        select(MessageLog.platform, MessageLog.channel_id)
        .where(MessageLog.community_id == community_id, MessageLog.sent_at >= since)
        .group_by(MessageLog.platform, MessageLog.channel_id)
        .order_by(count.desc(), MessageLog.platform, MessageLog.channel_id)
        .limit(50)
    )
    return [(str(p), str(c)) for p, c in (await session.execute(query)).all()]
