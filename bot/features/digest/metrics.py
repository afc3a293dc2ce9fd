"""Collecting a digest's numbers for one community and period (and the period before it).

Every count is aggregated by the database (`storage.analytics`, `storage.lifecycle`,
`storage.engagement`); Python only maps 15-minute slots to local hours and weekdays, detects
questions in the text of messages logged without a question flag, takes a median and turns XP
into levels with the curve.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import DigestSettings
from bot.features.digest.periods import Period, local_midnight
from bot.features.points.curve import Curve
from bot.text.question import is_question
from storage.analytics import (
    MemberCount,
    MessageMix,
    bot_members,
    count_active,
    daily_activity,
    message_buckets,
    message_mix,
    top_posters,
)
from storage.database import Database
from storage.engagement import (
    PointsActivity,
    ScheduledPosts,
    count_unanswered,
    first_human_replies,
    points_activity,
    question_candidates,
    scheduled_posts,
    top_thanked,
    top_unanswered,
    top_xp,
    xp_before_and_during,
)
from storage.faq import count_answers
from storage.lifecycle import (
    Flow,
    Retention,
    Segments,
    cohort_retention,
    member_flow,
    segments,
)
from storage.moderation import ModerationSummary, moderation_counts

__all__ = [
    "HORIZONS",
    "Headline",
    "Questions",
    "Report",
    "build_report",
    "daily_series",
    "hour_matrix",
]

#: Cohort retention windows, in days after the joining day: (name, first, last).
HORIZONS = (("1d", 1, 1), ("7d", 1, 7), ("30d", 1, 30))
SLOT_SECONDS = 900


class _Window(TypedDict):
    community_id: int
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Headline:
    """The numbers compared with the previous period."""

    messages: int
    active: int
    dau: float
    wau: int
    mau: int
    flow: Flow
    retention: dict[str, Retention]

    @property
    def stickiness(self) -> float | None:
        """Average daily active members over monthly active members (DAU/MAU)."""
        return self.dau / self.mau if self.mau else None


@dataclass(frozen=True, slots=True)
class Questions:
    """Question-like messages and how they were answered."""

    asked: int
    by_faq: int
    by_members: int
    median_first_reply: timedelta | None
    unanswered_logged: int
    top_unanswered: list[tuple[str, int]]


@dataclass(frozen=True, slots=True)
class Report:
    """Everything a digest shows."""

    community: str
    period: Period
    now: Headline
    before: Headline
    segments: Segments
    at_risk: list[MemberCount]
    posters: list[MemberCount]
    earners: list[MemberCount]
    thanked: list[MemberCount]
    mix: MessageMix
    matrix: list[list[int]]
    questions: Questions
    points: PointsActivity
    level_ups: int
    scheduled: ScheduledPosts
    moderation: ModerationSummary

    @property
    def weekly_active_share(self) -> float | None:
        """Members active in the last 7 days over current members."""
        return self.now.wau / self.segments.total if self.segments.total else None

    @property
    def busiest_hour(self) -> int | None:
        """The local hour of day with the most messages (None without messages)."""
        totals = [sum(row[hour] for row in self.matrix) for hour in range(24)]
        return None if not any(totals) else max(range(24), key=lambda hour: totals[hour])


def _windows(period: Period) -> list[tuple[datetime, datetime]]:
    """The period, and the 7 and 30 local days ending with it (for WAU and MAU)."""
    end = period.end
    week = local_midnight(period.last - timedelta(days=6), period.zone)
    month = local_midnight(period.last - timedelta(days=29), period.zone)
    return [(period.start, end), (week, end), (month, end)]


async def _retention(
    session: AsyncSession, community_id: int, period: Period
) -> dict[str, Retention]:
    retention = {}
    for name, first, last in HORIZONS:
        # Cohorts whose whole window ends inside this period: joined `last` days earlier.
        shifted = period.first - timedelta(days=last)
        cohorts = Period(period.kind, shifted, period.last - timedelta(days=last), period.timezone)
        retention[name] = await cohort_retention(
            session,
            community_id=community_id,
            bounds=cohorts.bounds(after=last),
            cohort_days=cohorts.days,
            first=first,
            last=last,
        )
    return retention


async def _headlines(
    session: AsyncSession, community_id: int, period: Period
) -> tuple[Headline, Headline]:
    """The headline numbers of `period` and of the period before it."""
    before = period.previous()
    bots = await bot_members(session, community_id=community_id)
    counts = await count_active(
        session,
        community_id=community_id,
        windows=_windows(period) + _windows(before),
        bots=bots,
    )
    headlines = []
    for index, each in enumerate((period, before)):
        days = await daily_activity(
            session, community_id=community_id, bounds=each.bounds(), bots=bots
        )
        active, wau, mau = counts[3 * index : 3 * index + 3]
        headlines.append(
            Headline(
                messages=sum(messages for messages, _ in days),
                active=active,
                dau=statistics.fmean(active for _, active in days),
                wau=wau,
                mau=mau,
                flow=await member_flow(
                    session, community_id=community_id, start=each.start, end=each.end
                ),
                retention=await _retention(session, community_id, each),
            )
        )
    return headlines[0], headlines[1]


def hour_matrix(slots: dict[int, int], start: datetime, period: Period) -> list[list[int]]:
    """Messages by local weekday (Monday = 0) and hour from 15-minute slots since `start`."""
    zone = period.zone
    matrix = [[0] * 24 for _ in range(7)]
    for slot, count in slots.items():
        local = (start + timedelta(seconds=slot * SLOT_SECONDS)).astimezone(zone)
        matrix[local.weekday()][local.hour] += count
    return matrix


async def _questions(
    session: AsyncSession, community_id: int, period: Period, faq: bool
) -> Questions:
    start, end = period.start, period.end
    candidates = await question_candidates(session, community_id=community_id, start=start, end=end)
    asked = [c for c in candidates if c.question or (c.question is None and is_question(c.text))]
    replies = await first_human_replies(session, ids=[c.id for c in asked])
    waits = sorted(replies[c.id] - c.sent_at for c in asked if c.id in replies)
    logged = await count_unanswered(session, community_id=community_id, start=start, end=end)
    answered = await count_answers(session, community_id=community_id, start=start, end=end)
    return Questions(
        asked=len(asked),
        by_faq=answered if faq else 0,
        by_members=len(waits),
        median_first_reply=_median(waits),
        unanswered_logged=logged,
        top_unanswered=await top_unanswered(
            session, community_id=community_id, start=start, end=end
        ),
    )


def _median(values: list[timedelta]) -> timedelta | None:
    """The median of sorted `values` (the mean of the middle two for an even count)."""
    if not values:
        return None
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle]
    return (values[middle - 1] + values[middle]) / 2


async def _level_ups(session: AsyncSession, community_id: int, period: Period, curve: Curve) -> int:
    changes = await xp_before_and_during(
        session, community_id=community_id, start=period.start, end=period.end
    )
    return sum(
        max(0, curve.level_for(before + during) - curve.level_for(before))
        for before, during in changes
    )


async def build_report(
    database: Database,
    *,
    community_id: int,
    community: str,
    period: Period,
    settings: DigestSettings,
    curve: Curve,
    faq: bool,
) -> Report:
    """Collect the digest of `period` (and the period before it) for one community."""
    start, end = period.start, period.end
    ids = _Window(community_id=community_id, start=start, end=end)
    async with database.session() as session:
        now, before = await _headlines(session, community_id, period)
        groups, at_risk = await segments(
            session,
            community_id=community_id,
            end=end,
            new_since=end - timedelta(days=settings.new_days),
            active_since=end - timedelta(days=settings.active_days),
            at_risk_since=end - timedelta(days=settings.at_risk_days),
        )
        slots = await message_buckets(session, **ids, seconds=SLOT_SECONDS)
        first, last = period.first.isoformat(), period.last.isoformat()
        return Report(
            community=community,
            period=period,
            now=now,
            before=before,
            segments=groups,
            at_risk=at_risk,
            posters=await top_posters(session, **ids),
            earners=await top_xp(session, **ids),
            thanked=await top_thanked(session, **ids),
            mix=await message_mix(session, **ids),
            matrix=hour_matrix(slots, start, period),
            questions=await _questions(session, community_id, period, faq),
            points=await points_activity(session, **ids, first_day=first, last_day=last),
            level_ups=await _level_ups(session, community_id, period, curve),
            scheduled=await scheduled_posts(session, **ids),
            moderation=await moderation_counts(
                session, community_id=community_id, start=start, end=end
            ),
        )


async def daily_series(
    database: Database, *, community_id: int, period: Period, days: int = 30
) -> list[tuple[str, int, int]]:
    """(local date, messages, active members) of the `days` local days ending with `period`."""
    span = Period("day", period.last - timedelta(days=days - 1), period.last, period.timezone)
    async with database.session() as session:
        bots = await bot_members(session, community_id=community_id)
        counts = await daily_activity(
            session, community_id=community_id, bounds=span.bounds(), bots=bots
        )
    return [
        ((span.first + timedelta(days=i)).isoformat(), messages, active)
        for i, (messages, active) in enumerate(counts)
    ]
