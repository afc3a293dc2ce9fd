"""FAQ storage: entries with their phrasings, usage counters and unanswered questions.

The answers and unanswered questions the FAQ logs while it chats are written in batches by
`storage.counters.FaqLog`; this module reads them back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import String, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.activity import insert_if_absent
from storage.models import Base, FaqAnswer, FaqEntry, FaqQuestion, FaqUnanswered, FaqVote

__all__ = [
    "MAX_KEY",
    "MAX_TAGS",
    "Entry",
    "Unanswered",
    "add_entry",
    "clean_tags",
    "count_answers",
    "delete_entry",
    "get_entry",
    "list_entries",
    "recent_answers",
    "recent_unanswered",
    "record_vote",
    "update_entry",
]


@dataclass(frozen=True, slots=True)
class Entry:
    """An FAQ entry with its phrasings."""

    id: int
    key: str
    questions: tuple[str, ...]
    answer: str
    tags: tuple[str, ...]
    enabled: bool
    times_answered: int = 0
    helpful: int = 0
    not_helpful: int = 0
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Unanswered:
    """A question that got no answer."""

    text: str | None
    member_id: int
    at: datetime
    best_entry_id: int | None
    best_score: float


#: Longest entry key and tag list (the columns' sizes).
MAX_KEY: int = cast(String, FaqEntry.__table__.c.key.type).length or 0
MAX_TAGS: int = cast(String, FaqEntry.__table__.c.tags.type).length or 0


def _tags(raw: str) -> tuple[str, ...]:
    return tuple(tag for tag in raw.split(",") if tag)


def clean_tags(values: Iterable[str]) -> tuple[str, ...]:
    """Tags as stored: lower case, each once, a comma inside a value separating two."""
    tags = (tag.strip().lower() for value in values for tag in value.split(","))
    return tuple(dict.fromkeys(tag for tag in tags if tag))


async def list_entries(
    session: AsyncSession, *, community_id: int, tag: str | None = None
) -> list[Entry]:
    """Every entry of a community (optionally with `tag`), phrasings in the order added."""
    rows = (
        (
            await session.execute(
                select(FaqEntry).where(FaqEntry.community_id == community_id).order_by(FaqEntry.id)
            )
        )
        .scalars()
        .all()
    )
    ids = [row.id for row in rows]
    questions: dict[int, list[str]] = {entry_id: [] for entry_id in ids}
    if ids:
        query = (
            select(FaqQuestion.entry_id, FaqQuestion.text)
            .where(FaqQuestion.entry_id.in_(ids))
            .order_by(FaqQuestion.id)
        )
        for entry_id, text in (await session.execute(query)).all():
            questions[entry_id].append(text)
    entries = [
        Entry(
            id=row.id,
            key=row.key,
            questions=tuple(questions[row.id]),
            answer=row.answer,
            tags=_tags(row.tags),
            enabled=row.enabled,
            times_answered=row.times_answered,
            helpful=row.helpful,
            not_helpful=row.not_helpful,
            updated_at=row.updated_at,
        )
        for row in rows
    ]
    return [entry for entry in entries if tag is None or tag in entry.tags]


async def get_entry(session: AsyncSession, *, community_id: int, entry_id: int) -> Entry | None:
    """One entry of a community by id."""
    for entry in await list_entries(session, community_id=community_id):
        if entry.id == entry_id:
            return entry
    return None


async def add_entry(
    session: AsyncSession,
    *,
    community_id: int,
    questions: Sequence[str],
    answer: str,
    now: datetime,
    tags: Sequence[str] = (),
    key: str | None = None,
    author_member_id: int | None = None,
    enabled: bool = True,
) -> int:
    """Create an entry; returns its id. Without `key` the entry is named ``faq-<id>``."""
    row = FaqEntry(
        community_id=community_id,
        key=key or "",
        answer=answer,
        tags=",".join(tags),
        enabled=enabled,
        author_member_id=author_member_id,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    if not key:
        row.key = f"faq-{row.id}"
    session.add_all(FaqQuestion(entry_id=row.id, text=text) for text in questions)
    await session.flush()
    return row.id


async def update_entry(
    session: AsyncSession,
    *,
    community_id: int,
    entry_id: int,
    now: datetime,
    answer: str | None = None,
    questions: Sequence[str] | None = None,
    add_question: str | None = None,
    tags: Sequence[str] | None = None,
    enabled: bool | None = None,
) -> bool:
    """Change an entry; `questions` replaces the phrasings, `add_question` adds one.
    Returns False if the community has no such entry."""
    values: dict[str, object] = {"updated_at": now}
    if answer is not None:
        values["answer"] = answer
    if tags is not None:
        values["tags"] = ",".join(tags)
    if enabled is not None:
        values["enabled"] = enabled
    result = await session.execute(
        update(FaqEntry)
        .where(FaqEntry.id == entry_id, FaqEntry.community_id == community_id)
        .values(**values)
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        return False
    if questions is not None:
        await session.execute(delete(FaqQuestion).where(FaqQuestion.entry_id == entry_id))
        session.add_all(FaqQuestion(entry_id=entry_id, text=text) for text in questions)
    if add_question is not None:
        session.add(FaqQuestion(entry_id=entry_id, text=add_question))
    await session.flush()
    return True


async def delete_entry(session: AsyncSession, *, community_id: int, entry_id: int) -> bool:
    """Remove an entry and its phrasings; False if there was none."""
    owned = await session.execute(
        select(FaqEntry.id).where(FaqEntry.id == entry_id, FaqEntry.community_id == community_id)
    )
    if owned.scalar_one_or_none() is None:
        return False
    await session.execute(delete(FaqQuestion).where(FaqQuestion.entry_id == entry_id))
    await session.execute(
        update(FaqAnswer).where(FaqAnswer.entry_id == entry_id).values(entry_id=None)
    )
    await session.execute(delete(FaqEntry).where(FaqEntry.id == entry_id))
    return True


async def recent_answers(
    session: AsyncSession, *, community_id: int, since: datetime
) -> list[tuple[str, str, int, datetime]]:
    """The latest automatic answer of each entry in each channel since `since`: (platform,
    channel id, entry id, time), for the answer cooldown to survive a restart."""
    query = (
        select(FaqAnswer.platform, FaqAnswer.channel_id, FaqAnswer.entry_id, func.max(FaqAnswer.at))
        .where(
            FaqAnswer.community_id == community_id,
            FaqAnswer.at >= since,
            FaqAnswer.entry_id.is_not(None),
        )
        .group_by(FaqAnswer.platform, FaqAnswer.channel_id, FaqAnswer.entry_id)
    )
    return [
        (platform, channel, entry, at)
        for platform, channel, entry, at in (await session.execute(query)).all()
        if entry is not None
    ]


async def count_answers(
    session: AsyncSession, *, community_id: int, start: datetime, end: datetime
) -> int:
    """Automatic answers given in ``[start, end)``."""
    query = select(func.count()).where(
        FaqAnswer.community_id == community_id, FaqAnswer.at >= start, FaqAnswer.at < end
    )
    return int((await session.execute(query)).scalar_one())


async def record_vote(
    session: AsyncSession, *, entry_id: int, member_id: int, helpful: bool, at: datetime
) -> bool:
    """A member says an entry's answer helped (or did not): once per member and entry, a
    changed mind moving the vote. True if the entry's counts changed."""
    if await session.get(FaqEntry, entry_id) is None:
        return False  # removed since it answered
    mine = (FaqVote.entry_id == entry_id, FaqVote.member_id == member_id)
    current = await session.scalar(select(FaqVote.helpful).where(*mine))
    if current is not None and bool(current) == helpful:
        return False
    column = FaqEntry.helpful if helpful else FaqEntry.not_helpful
    counts = {column.key: column + 1}
    if current is None:
        row = {"entry_id": entry_id, "member_id": member_id, "helpful": helpful, "at": at}
        if not await insert_if_absent(session, table=Base.metadata.tables["faq_votes"], row=row):
            return False  # the same vote arriving twice at once
    else:
        await session.execute(update(FaqVote).where(*mine).values(helpful=helpful, at=at))
        other = FaqEntry.not_helpful if helpful else FaqEntry.helpful
        counts[other.key] = other - 1
    await session.execute(update(FaqEntry).where(FaqEntry.id == entry_id).values(counts))
    return True


async def recent_unanswered(
    session: AsyncSession, *, community_id: int, since: datetime
) -> list[Unanswered]:
    """Unanswered questions since `since`, newest first."""
    query = (
        select(FaqUnanswered)
        .where(FaqUnanswered.community_id == community_id, FaqUnanswered.at >= since)
        .order_by(FaqUnanswered.at.desc())
        .limit(5000)
    )
    return [
        Unanswered(row.text, row.member_id, row.at, row.best_entry_id, row.best_score)
        for row in (await session.execute(query)).scalars()
    ]
