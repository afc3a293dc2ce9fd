"""The web dashboard's figures, aggregated in SQL: a period's overview and the leaderboards.

Both read only the window they are asked for, through the indexes the digests use, so their
cost follows the window and the member count, not the length of the history:

* messages are counted per **local hour** (one indexed range count each, on
  ``ix_messages_activity``), which gives the messages per local day and the hour × weekday
  matrix at once, exactly in any time zone (half-hour offsets and daylight saving included);
* active members per local day are one ``COUNT(DISTINCT)`` per day over that day's messages
  and reactions; WAU/MAU, segments and the join/leave flow are `storage.analytics` and
  `storage.lifecycle`, as in the digest (bots are never counted as members);
* leaderboards read `points_totals` (all time) or `points_periods` (a week or a month) as
  `/leaderboard` does (`storage.points`), a page at a time.
"""

from __future__ import annotations

from asyncio import gather
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from itertools import pairwise
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, bindparam, case, distinct, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storage.analytics import bot_members, count_active, day_index, day_start
from storage.analytics import member_activity_exists as active_between
from storage.database import Database
from storage.engagement import count_unanswered
from storage.faq import count_answers
from storage.identity import FORGOTTEN_NAME
from storage.lifecycle import SEGMENTS, Segments, _member_states
from storage.models import Member, MemberEvent, MessageLog, PointsTotal, ReactionLog, UTCDateTime
from storage.points import _period_scores

__all__ = ["Board", "Cohort", "Day", "Overview", "Standing", "leaderboard", "overview"]

BoardPeriod = Literal["week", "month", "all"]
_T = TypeVar("_T")
_TIME = UTCDateTime()  # one instance: SQLAlchemy sets up its bind processor once


@dataclass(frozen=True, slots=True)
class Day:
    """One local day: messages (and commands: no), active members, joins and leaves."""

    day: date
    messages: int
    active: int
    joins: int
    leaves: int


@dataclass(frozen=True, slots=True)
class Cohort:
    """Members who joined in one local week (Monday first) and, for each complete week
    after it (1, 2, …), the share of them active in that week (None: an empty cohort)."""

    week: date
    size: int
    shares: tuple[float | None, ...]


@dataclass(frozen=True, slots=True)
class Overview:
    """A period of local days ``[first, end)`` at a glance."""

    days: tuple[Day, ...]
    #: Members active in the 7 and the 30 local days ending with the period.
    wau: int
    mau: int
    segments: Segments
    cohorts: tuple[Cohort, ...]
    #: Messages by local weekday (Monday = 0) and hour: 7 rows of 24.
    hours: tuple[tuple[int, ...], ...]
    #: Questions the FAQ saw in the period, and those it answered.
    questions: int
    answered: int

    @property
    def hit_rate(self) -> float | None:
        """Answered over questions (None without questions)."""
        return self.answered / self.questions if self.questions else None


@dataclass(frozen=True, slots=True)
class Standing:
    """A leaderboard line: 1-based place, name, level and XP (of the period)."""

    rank: int
    member_id: int
    name: str
    level: int
    xp: int


@dataclass(frozen=True, slots=True)
class Board:
    """One page of a leaderboard and how many members it ranks in all."""

    period: BoardPeriod
    #: The period's first local day (YYYY-MM-DD; None for all time).
    start: str | None
    standings: tuple[Standing, ...]
    ranked: int


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _hours(start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The local hours between two UTC instants, as UTC spans. Every zone's offset is a
    multiple of 15 minutes, so stepping by 15 minutes finds each hour's first instant."""
    spans: list[tuple[datetime, datetime]] = []
    moment, begun = start, start
    while moment < end:
        moment += timedelta(minutes=15)
        local, previous = moment.astimezone(zone), (moment - timedelta(minutes=15)).astimezone(zone)
        if moment >= end or (local.date(), local.hour) != (previous.date(), previous.hour):
            spans.append((begun, min(moment, end)))
            begun = moment
    return spans


@cache
def _spans(size: int) -> Any:
    """`size` rows (i, a, z) of bound parameters ``i<n>``, ``a<n>``, ``z<n>``, as a CTE:
    the same statement every time, so SQLAlchemy compiles it once (a VALUES list would be
    compiled on every call)."""
    rows = [
        select(
            bindparam(f"i{n}", type_=Integer()).label("i"),
            bindparam(f"a{n}", type_=_TIME).label("a"),
            bindparam(f"z{n}", type_=_TIME).label("z"),
        )
        for n in range(size)
    ]
    return union_all(*rows).cte("spans")


async def _per_span(
    session: AsyncSession, spans: Sequence[tuple[datetime, datetime]], count: Any, size: int
) -> list[int]:
    """``count(spans)`` (a correlated scalar subquery) of every span, in order; `size` spans
    a statement (the last one padded with empty spans)."""
    table = _spans(size)
    query = select(table.c.i, count(table))
    found: dict[int, int] = {}
    for offset in range(0, len(spans), size):
        chunk = list(spans[offset : offset + size])
        chunk += [(spans[-1][1], spans[-1][1])] * (size - len(chunk))
        params: dict[str, Any] = {}
        for n, (a, z) in enumerate(chunk):
            params |= {f"i{n}": offset + n, f"a{n}": a, f"z{n}": z}
        found.update((int(i), int(c or 0)) for i, c in (await session.execute(query, params)).all())
    return [found.get(i, 0) for i in range(len(spans))]


def _messages(community_id: int) -> Any:
    def count(spans: Any) -> Any:
        return (
            select(func.count())
            .where(
                MessageLog.community_id == community_id,
                MessageLog.sent_at >= spans.c.a,
                MessageLog.sent_at < spans.c.z,
                MessageLog.is_command.is_(False),
            )
            .correlate(spans)
            .scalar_subquery()
        )

    return count


def _active(community_id: int, bots: Sequence[int]) -> Any:
    def count(spans: Any) -> Any:
        posted = select(MessageLog.member_id.label("member_id")).where(
            MessageLog.community_id == community_id,
            MessageLog.sent_at >= spans.c.a,
            MessageLog.sent_at < spans.c.z,
        )
        reacted = select(ReactionLog.member_id).where(
            ReactionLog.community_id == community_id,
            ReactionLog.at >= spans.c.a,
            ReactionLog.at < spans.c.z,
        )
        who = union_all(posted.correlate(spans), reacted.correlate(spans)).subquery("who")
        query = select(func.count(distinct(who.c.member_id)))
        if bots:
            query = query.where(who.c.member_id.not_in(bots))
        return query.correlate(spans).scalar_subquery()

    return count


async def _flow(
    session: AsyncSession, community_id: int, bounds: Sequence[datetime]
) -> dict[tuple[int, str], int]:
    """Distinct members who joined and who left on each local day: {(day, kind): count}."""
    day = day_index(MemberEvent.at, bounds).label("day")
    query = (
        select(day, MemberEvent.kind, func.count(distinct(MemberEvent.member_id)))
        .where(
            MemberEvent.community_id == community_id,
            MemberEvent.at >= bounds[0],
            MemberEvent.at < bounds[-1],
        )
        .group_by(day, MemberEvent.kind)
    )
    return {(int(d), str(k)): int(n) for d, k, n in (await session.execute(query)).all()}


async def _cohorts(
    session: AsyncSession,
    community_id: int,
    weeks: Sequence[datetime],
    end: datetime,
    bots: Sequence[int],
) -> list[tuple[int, list[int]]]:
    """For each local week ``i`` of `weeks` (its Monday midnights, one more than the
    cohorts): (members who joined, those of them active in week i + k for k = 1, 2, … while
    that week ends by `end`). One query; each member is looked up by the per-member indexes
    only for the weeks shown."""
    count = len(weeks) - 1
    joined = (
        select(
            MemberEvent.member_id.label("member_id"),
            day_index(MemberEvent.at, weeks).label("week"),
        )
        .where(
            MemberEvent.community_id == community_id,
            MemberEvent.kind == "join",
            MemberEvent.at >= weeks[0],
            MemberEvent.at < weeks[-1],
        )
        .distinct()
    )
    if bots:
        joined = joined.where(MemberEvent.member_id.not_in(bots))
    cohort = joined.subquery("cohort")
    complete = sum(1 for week in weeks[1:] if week <= end)  # weeks that have ended by `end`
    later: list[Any] = []
    for k in range(1, count):
        inside = active_between(
            cohort.c.member_id,
            day_start(cohort.c.week + k, weeks),
            day_start(cohort.c.week + k + 1, weeks),
        )
        shown = cohort.c.week + k < complete
        later.append(func.sum(case((shown & inside, 1), else_=0)))
    query = select(cohort.c.week, func.count(), *later).group_by(cohort.c.week)
    rows = {int(row[0]): [int(n or 0) for n in row[1:]] for row in await session.execute(query)}
    result = []
    for week in range(count):
        size, *kept = rows.get(week, [0] * count)
        result.append((size, kept[: max(0, complete - week - 1)]))
    return result


async def _segments(
    session: AsyncSession,
    community_id: int,
    end: datetime,
    new_since: datetime,
    active_since: datetime,
    at_risk_since: datetime,
) -> Segments:
    """The lifecycle segments' sizes at `end`, by the rules of `storage.lifecycle.segments`
    (the same states query) without ranking the at-risk members, which halves the cost."""
    states = _member_states(community_id, end, new_since, active_since, at_risk_since)
    query = select(states.c.segment, func.count()).group_by(states.c.segment)
    counts = dict.fromkeys(SEGMENTS, 0)
    counts.update((str(s), int(n)) for s, n in (await session.execute(query)).all())
    return Segments(counts)


async def overview(
    database: Database,
    *,
    community_id: int,
    start: date,
    end: date,
    timezone: str,
    new_days: int = 7,
    active_days: int = 7,
    at_risk_days: int = 30,
    cohort_weeks: int = 8,
) -> Overview:
    """The local days ``[start, end)`` of one community in `timezone`.

    Segments are the lifecycle's at the period's end (`storage.lifecycle.segments`, windows
    in days as the digest's settings); cohorts are the (at most `cohort_weeks` last) whole
    local weeks inside the period; the FAQ's questions are those it answered or logged as
    unanswered. The independent reads run at once, each in a session of its own (on two
    cores SQLite's threads and PostgreSQL's backends then work side by side).
    """
    zone = ZoneInfo(timezone)
    dates = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    bounds = [_midnight(day, zone) for day in dates]
    begin, finish = bounds[0], bounds[-1]
    async with database.session() as session:
        bots = await bot_members(session, community_id=community_id)
    hours = _hours(begin, finish, zone)
    week, month = (_midnight(end - timedelta(days=n), zone) for n in (7, 30))
    since = [finish - timedelta(days=n) for n in (new_days, active_days, at_risk_days)]
    monday = start + timedelta(days=-start.weekday() % 7)
    mondays = [monday + timedelta(weeks=i) for i in range((end - monday).days // 7 + 1)]
    mondays = mondays[-cohort_weeks - 1 :] if len(mondays) > 1 else []
    weeks = [_midnight(day, zone) for day in mondays]

    async def read(part: Callable[[AsyncSession], Awaitable[_T]]) -> _T:
        async with database.session() as session:
            return await part(session)

    async def cohorts_and_faq(
        session: AsyncSession,
    ) -> tuple[list[tuple[int, list[int]]], int, int]:
        kept = await _cohorts(session, community_id, weeks, finish, bots) if weeks else []
        answered = await count_answers(session, community_id=community_id, start=begin, end=finish)
        missed = await count_unanswered(session, community_id=community_id, start=begin, end=finish)
        return kept, answered, missed

    per_hour, active, flow, (wau, mau), groups, (cohorts, answered, missed) = await gather(
        read(lambda s: _per_span(s, hours, _messages(community_id), 256)),
        read(lambda s: _per_span(s, list(pairwise(bounds)), _active(community_id, bots), 32)),
        read(lambda s: _flow(s, community_id, bounds)),
        read(
            lambda s: count_active(
                s, community_id=community_id, windows=[(week, finish), (month, finish)], bots=bots
            )
        ),
        read(lambda s: _segments(s, community_id, finish, *since)),
        read(cohorts_and_faq),
    )
    messages = [0] * (len(dates) - 1)
    matrix = [[0] * 24 for _ in range(7)]
    for (moment, _), n in zip(hours, per_hour, strict=True):
        local = moment.astimezone(zone)
        messages[(local.date() - start).days] += n
        matrix[local.weekday()][local.hour] += n
    days = tuple(
        Day(day, messages[i], active[i], flow.get((i, "join"), 0), flow.get((i, "leave"), 0))
        for i, day in enumerate(dates[:-1])
    )
    return Overview(
        days=days,
        wau=wau,
        mau=mau,
        segments=groups,
        cohorts=tuple(
            Cohort(day, size, tuple(n / size if size else None for n in kept))
            for day, (size, kept) in zip(mondays, cohorts, strict=False)
        ),
        hours=tuple(tuple(row) for row in matrix),
        questions=answered + missed,
        answered=answered,
    )


def _period_start(period: BoardPeriod, now: datetime, timezone: str) -> str | None:
    """The first local day of the week (Monday) or month containing `now`, as the points
    feature keys `points_periods` (`bot.features.points.rules.period_keys`)."""
    if period == "all":
        return None
    today = now.astimezone(ZoneInfo(timezone)).date()
    first = today - timedelta(days=today.weekday()) if period == "week" else today.replace(day=1)
    return first.isoformat()


async def leaderboard(
    session: AsyncSession,
    *,
    community_id: int,
    period: BoardPeriod,
    now: datetime,
    timezone: str,
    limit: int = 50,
    offset: int = 0,
) -> Board:
    """A page of the members with the most XP this week, this month (gained in it) or of all
    time, most first (ties by member id), without bots and forgotten members."""
    start = _period_start(period, now, timezone)
    scores = _period_scores(community_id, None if start is None else (period, start)).subquery()
    ranked = (
        select(scores.c.member_id, Member.display_name, PointsTotal.level, scores.c.score)
        .join(Member, Member.id == scores.c.member_id)
        .join(PointsTotal, PointsTotal.member_id == scores.c.member_id)
        .where(
            scores.c.score > 0,
            Member.is_bot.is_(False),
            Member.display_name != FORGOTTEN_NAME,
        )
    )
    page = ranked.order_by(scores.c.score.desc(), scores.c.member_id).limit(limit).offset(offset)
    rows = (await session.execute(page)).all()
    total = select(func.count()).select_from(ranked.subquery())
    return Board(
        period=period,
        start=start,
        standings=tuple(
            Standing(offset + n, int(m), str(name), int(level), int(xp))
            for n, (m, name, level, xp) in enumerate(rows, 1)
        ),
        ranked=int((await session.execute(total)).scalar_one()),
    )
