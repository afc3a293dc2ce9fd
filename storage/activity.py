"""Activity log queries: idempotent inserts, text retention, and simple counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import MemberEvent, MessageLog, ReactionLog

__all__ = [
    "Row",
    "count_member_events",
    "count_messages",
    "count_reactions",
    "insert_ignoring_duplicates",
    "purge_message_text",
]

Row = Mapping[str, Any]


async def insert_ignoring_duplicates(
    session: AsyncSession, *, table: Table, rows: Sequence[Row]
) -> None:
    """Insert `rows` into `table`; a row that repeats a unique key is skipped, not an error."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        statement: Any = sqlite.insert(table).on_conflict_do_nothing()
    elif dialect == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing()
    else:  # pragma: no cover - config validation only admits the two
        raise RuntimeError(f"unsupported database dialect {dialect!r}")
    await session.execute(statement, list(rows))


async def purge_message_text(session: AsyncSession, *, before: datetime) -> int:
    """Forget the text of messages sent before `before` (metadata stays). Returns the count."""
    result = await session.execute(
        update(MessageLog)
        .where(MessageLog.sent_at < before, MessageLog.text.is_not(None))
        .values(text=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def count_messages(session: AsyncSession, *, community_id: int) -> int:
    """Number of messages logged in a community."""
    query = (
        select(func.count()).select_from(MessageLog).where(MessageLog.community_id == community_id)
    )
    return int((await session.execute(query)).scalar_one())


async def count_member_events(session: AsyncSession, *, community_id: int, kind: str) -> int:
    """Number of joins (`kind="join"`) or leaves (`"leave"`) logged in a community."""
    query = (
        select(func.count())
        .select_from(MemberEvent)
        .where(MemberEvent.community_id == community_id, MemberEvent.kind == kind)
    )
    return int((await session.execute(query)).scalar_one())


async def count_reactions(session: AsyncSession, *, community_id: int) -> int:
    """Number of reactions logged in a community."""
    query = (
        select(func.count())
        .select_from(ReactionLog)
        .where(ReactionLog.community_id == community_id)
    )
    return int((await session.execute(query)).scalar_one())
