"""Activity metrics for digests, aggregated in SQL: messages, active members, per-day series,
top posters and channels, and activity by time of day.

Periods arrive as UTC instants (`start` inclusive, `end` exclusive) and, for per-day results,
as a list of local midnights (`bounds`): day ``i`` is ``[bounds[i], bounds[i + 1])``. Callers
compute them in the community's time zone, so every function here is exact across daylight
saving changes and the same on SQLite and PostgreSQL.

"Active" means posted (a message or a command) or reacted. Active members over long windows
are counted on the `member_days` rollup (one row per member and UTC day) for the whole UTC
days inside a window, and on the messages and reactions themselves only for the partial days
at its edges, so the count is exact in every time zone and reads at most two days of raw rows
per window edge.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    case,
    cast,
    distinct,
    extract,
    false,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.activity import utc_day
from storage.models import Member, MemberDay, MessageLog, ReactionLog, UTCDateTime

__all__ = [
    "ChannelCount",
    "MemberCount",
    "MessageMix",
    "active_flags",
    "bot_members",
    "count_active",
    "daily_activity",
    "day_index",
    "day_start",
    "member_activity_exists",
    "message_buckets",
    "message_mix",
    "top_posters",
]


@dataclass(frozen=True, slots=True)
class MemberCount:
    """A member, their display name and a number (messages, XP, thanks…)."""

    member_id: int
    name: str
    value: int


@dataclass(frozen=True, slots=True)
class ChannelCount:
    """A channel and how many messages it had."""

    platform: str
    channel_id: str
    messages: int


@dataclass(frozen=True, slots=True)
class MessageMix:
    """Where a period's messages were posted and what they were."""

    #: The busiest channels, most messages first.
    channels: list[ChannelCount]
    #: (kind, messages) of every kind seen (`bot.events.MESSAGE_KINDS`), most first.
    kinds: list[tuple[str, int]]


def day_index(column: Any, bounds: Sequence[datetime]) -> Any:
    """SQL for the index of the local day (``bounds[i] <= column < bounds[i + 1]``) of a time.

    The caller restricts `column` to ``[bounds[0], bounds[-1])``.
    """
    whens = [(column < literal(bound, UTCDateTime()), i) for i, bound in enumerate(bounds[1:])]
    return case(*whens, else_=len(bounds) - 1)


def day_start(index: Any, bounds: Sequence[datetime]) -> Any:
    """SQL for ``bounds[index]`` given a day index expression (indexes past the end clamp)."""
    whens = {i: literal(bound, UTCDateTime()) for i, bound in enumerate(bounds)}
    return case(whens, value=index, else_=literal(bounds[-1], UTCDateTime()))


def _activity(community_id: int, start: datetime, end: datetime) -> Any:
    """(member_id, at) of every message, command and reaction in ``[start, end)``."""
    posts = select(MessageLog.member_id.label("member_id"), MessageLog.sent_at.label("at")).where(
        MessageLog.community_id == community_id,
        MessageLog.sent_at >= start,
        MessageLog.sent_at < end,
    )
    reactions = select(ReactionLog.member_id, ReactionLog.at).where(
        ReactionLog.community_id == community_id,
        ReactionLog.at >= start,
        ReactionLog.at < end,
    )
    return union_all(posts, reactions).subquery("activity")


def _posts(community_id: int, start: datetime, end: datetime) -> list[Any]:
    return [
        MessageLog.community_id == community_id,
        MessageLog.sent_at >= start,
        MessageLog.sent_at < end,
        MessageLog.is_command.is_(False),
    ]


def _whole_days(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The UTC midnights bounding the whole UTC days inside ``[start, end)`` (first ≥ last
    when there are none)."""
    first = utc_day(start)
    if first < start.astimezone(UTC):
        first += timedelta(days=1)
    return first, utc_day(end)


def _merged(spans: Sequence[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(span for span in spans if span[0] < span[1]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def active_flags(community_id: int, windows: Sequence[tuple[datetime, datetime]]) -> Any:
    """Subquery: one row per member active in any ``[start, end)`` of `windows`, with
    `member_id` and, for each window ``i``, a column ``w{i}`` that is 1 if they were active in
    it, else 0.

    Whole UTC days come from `member_days`; the partial days at a window's edges from the
    messages and reactions (read once for all windows).
    """
    days = [_whole_days(start, end) for start, end in windows]
    edges: list[tuple[datetime, datetime]] = []
    for (start, end), (first, last) in zip(windows, days, strict=True):
        edges += [(start, end)] if first >= last else [(start, first), (last, end)]
    whole = [(first, last) for first, last in days if first < last]
    parts: list[Any] = []
    if whole:
        parts.append(
            select(
                MemberDay.member_id.label("member_id"),
                MemberDay.day.label("at"),
                literal(1).label("rolled"),
            ).where(
                MemberDay.community_id == community_id,
                MemberDay.day >= min(first for first, _ in whole),
                MemberDay.day < max(last for _, last in whole),
            )
        )
    for start, end in _merged(edges):
        parts.append(
            select(
                MessageLog.member_id.label("member_id"),
                MessageLog.sent_at.label("at"),
                literal(0).label("rolled"),
            ).where(
                MessageLog.community_id == community_id,
                MessageLog.sent_at >= start,
                MessageLog.sent_at < end,
            )
        )
        parts.append(
            select(
                ReactionLog.member_id.label("member_id"),
                ReactionLog.at.label("at"),
                literal(0).label("rolled"),
            ).where(
                ReactionLog.community_id == community_id,
                ReactionLog.at >= start,
                ReactionLog.at < end,
            )
        )
    if not parts:  # only empty windows
        parts.append(
            select(
                MemberDay.member_id.label("member_id"),
                MemberDay.day.label("at"),
                literal(0).label("rolled"),
            ).where(false())
        )
    combined: Any = parts[0] if len(parts) == 1 else union_all(*parts)
    activity = combined.subquery("activity")
    at, rolled = activity.c.at, activity.c.rolled
    flags = []
    for i, ((start, end), (first, last)) in enumerate(zip(windows, days, strict=True)):
        raw = (rolled == 0) & (at >= start) & (at < end)
        inside = raw | ((rolled == 1) & (at >= first) & (at < last)) if first < last else raw
        flags.append(func.max(case((inside, 1), else_=0)).label(f"w{i}"))
    member = activity.c.member_id
    return select(member.label("member_id"), *flags).group_by(member).subquery("flags")


async def bot_members(session: AsyncSession, *, community_id: int) -> list[int]:
    """Ids of the community's bot members (few; active-member counts leave them out)."""
    query = select(Member.id).where(Member.community_id == community_id, Member.is_bot.is_(True))
    return [int(i) for i in (await session.execute(query)).scalars()]


async def count_active(
    session: AsyncSession,
    *,
    community_id: int,
    windows: Sequence[tuple[datetime, datetime]],
    bots: Sequence[int] = (),
) -> list[int]:
    """Distinct members but `bots` (`bot_members`, looked up once by the caller) who posted
    or reacted in each ``[start, end)`` window, in one scan grouped by member (cheaper than one
    DISTINCT per window; see `active_flags`)."""
    members = active_flags(community_id, windows)
    columns = [members.c[f"w{i}"] for i in range(len(windows))]
    query = select(*(func.coalesce(func.sum(column), 0) for column in columns))
    if bots:
        query = query.where(members.c.member_id.not_in(bots))
    return [int(n) for n in (await session.execute(query)).one()]


async def daily_activity(
    session: AsyncSession,
    *,
    community_id: int,
    bounds: Sequence[datetime],
    bots: Sequence[int] = (),
) -> list[tuple[int, int]]:
    """(messages, active members but `bots`) of each local day delimited by `bounds`."""
    days = len(bounds) - 1
    result = [(0, 0)] * days
    posts = (
        select(day_index(MessageLog.sent_at, bounds).label("day"), func.count())
        .where(*_posts(community_id, bounds[0], bounds[-1]))
        .group_by("day")
    )
    counts = {int(day): int(n) for day, n in (await session.execute(posts)).all()}
    activity = _activity(community_id, bounds[0], bounds[-1])
    active = select(
        day_index(activity.c.at, bounds).label("day"), func.count(distinct(activity.c.member_id))
    ).group_by("day")
    if bots:
        active = active.where(activity.c.member_id.not_in(bots))
    members = {int(day): int(n) for day, n in (await session.execute(active)).all()}
    for day in range(days):
        result[day] = (counts.get(day, 0), members.get(day, 0))
    return result


def _epoch(session: AsyncSession, column: Any) -> Any:
    """SQL for whole seconds since 1970 of a stored time (dialect-specific)."""
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.strftime("%s", column), Integer)
    return cast(func.floor(extract("epoch", column)), BigInteger)


async def message_buckets(
    session: AsyncSession, *, community_id: int, start: datetime, end: datetime, seconds: int = 900
) -> dict[int, int]:
    """Messages per `seconds`-long slot since `start` (slot ``k`` begins at start + k·seconds).

    Callers turn slots into local hours and weekdays: every time zone's offset is a multiple
    of 15 minutes, so 900-second slots never straddle a local hour.
    """
    origin = int(start.timestamp())
    slot = cast(func.floor((_epoch(session, MessageLog.sent_at) - origin) / seconds), Integer)
    query = (
        select(slot.label("slot"), func.count())
        .where(*_posts(community_id, start, end))
        .group_by("slot")
    )
    return {int(k): int(n) for k, n in (await session.execute(query)).all()}


async def top_posters(
    session: AsyncSession, *, community_id: int, start: datetime, end: datetime, limit: int = 5
) -> list[MemberCount]:
    """The members with the most messages (not commands) in ``[start, end)``."""
    # Counted per member on the covering activity index first, then named: joining every
    # message to its member before grouping costs twice as much.
    counts = (
        select(MessageLog.member_id.label("member_id"), func.count().label("n"))
        .where(*_posts(community_id, start, end))
        .group_by(MessageLog.member_id)
        .subquery("counts")
    )
    query = (
        select(counts.c.member_id, Member.display_name, counts.c.n)
        .join(Member, Member.id == counts.c.member_id)
        .where(Member.is_bot.is_(False))
        .order_by(counts.c.n.desc(), Member.display_name, counts.c.member_id)
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    return [MemberCount(int(m), str(name), int(n)) for m, name, n in rows]


async def message_mix(
    session: AsyncSession, *, community_id: int, start: datetime, end: datetime, limit: int = 5
) -> MessageMix:
    """The channels with the most messages (not commands) in ``[start, end)`` and the
    messages by kind, from one scan of the window."""
    query = (
        select(MessageLog.platform, MessageLog.channel_id, MessageLog.kind, func.count())
        .where(*_posts(community_id, start, end))
        .group_by(MessageLog.platform, MessageLog.channel_id, MessageLog.kind)
    )
    channels: Counter[tuple[str, str]] = Counter()
    kinds: Counter[str] = Counter()
    for platform, channel, kind, n in (await session.execute(query)).all():
        channels[(str(platform), str(channel))] += int(n)
        kinds[str(kind)] += int(n)
    busiest = sorted(channels.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return MessageMix(
        [ChannelCount(platform, channel, n) for (platform, channel), n in busiest],
        sorted(kinds.items(), key=lambda item: (-item[1], item[0])),
    )


def member_activity_exists(member_id: Any, start: Any, end: Any) -> Any:
    """SQL: the member posted or reacted in ``[start, end)`` (both may be SQL expressions;
    a `start` of None means since the beginning)."""
    # Aliases: the enclosing query may select from the same tables.
    message, reaction = aliased(MessageLog), aliased(ReactionLog)
    posted = [message.member_id == member_id, message.sent_at < end]
    reacted = [reaction.member_id == member_id, reaction.at < end]
    if start is not None:
        posted.append(message.sent_at >= start)
        reacted.append(reaction.at >= start)
    return select(message.id).where(*posted).exists() | (
        select(reaction.id).where(*reacted).exists()
    )
