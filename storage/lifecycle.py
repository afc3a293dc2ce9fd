"""Member metrics for digests, aggregated in SQL: joins and leaves, cohort retention and
lifecycle segments (new, active, at risk, dormant, never active).

Times are UTC instants computed by the caller in the community's time zone (see
`storage.analytics` for the conventions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, distinct, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from storage.analytics import (
    MemberCount,
    active_flags,
    day_index,
    day_start,
    member_activity_exists,
)
from storage.models import Member, MemberEvent, MessageLog

__all__ = [
    "SEGMENTS",
    "Flow",
    "Retention",
    "Segments",
    "cohort_retention",
    "member_flow",
    "segments",
]

SEGMENTS = ("new", "active", "at_risk", "dormant", "never")


@dataclass(frozen=True, slots=True)
class Flow:
    """Members who joined and left in a period; `net` is joins minus leaves (events)."""

    joined: int
    left: int
    net: int


@dataclass(frozen=True, slots=True)
class Retention:
    """Of `size` members in the joining cohorts, `retained` were active in the window."""

    size: int
    retained: int

    @property
    def share(self) -> float | None:
        """`retained / size`, or None for an empty cohort."""
        return self.retained / self.size if self.size else None


@dataclass(frozen=True, slots=True)
class Segments:
    """How many current members are in each lifecycle segment (see `SEGMENTS`)."""

    counts: dict[str, int]

    @property
    def total(self) -> int:
        """Current members (those who have not left)."""
        return sum(self.counts.values())


async def member_flow(
    session: AsyncSession, *, community_id: int, start: datetime, end: datetime
) -> Flow:
    """Distinct members who joined and who left in ``[start, end)``, and the net change in
    membership (join events minus leave events: a member who left and came back counts +0)."""
    in_period = (
        MemberEvent.community_id == community_id,
        MemberEvent.at >= start,
        MemberEvent.at < end,
    )
    is_join = MemberEvent.kind == "join"
    is_leave = MemberEvent.kind == "leave"
    query = select(
        func.count(distinct(case((is_join, MemberEvent.member_id)))),
        func.count(distinct(case((is_leave, MemberEvent.member_id)))),
        func.coalesce(func.sum(case((is_join, 1), (is_leave, -1), else_=0)), 0),
    ).where(*in_period)
    joined, left, net = (await session.execute(query)).one()
    return Flow(int(joined), int(left), int(net))


async def cohort_retention(
    session: AsyncSession,
    *,
    community_id: int,
    bounds: Sequence[datetime],
    cohort_days: int,
    first: int,
    last: int,
) -> Retention:
    """Retention of the members who joined on each of the first `cohort_days` local days.

    A member who joined on day ``D`` (index into `bounds`) is retained when they posted or
    reacted on some day ``D + first`` … ``D + last``; activity on the joining day itself does
    not count. A member is in a day's cohort once however often they joined that day; one who
    joined again on a later day is in that day's cohort too. `bounds` must reach
    ``cohort_days + last`` days.
    """
    cohort_end = bounds[cohort_days]
    cohort = (
        select(
            MemberEvent.member_id.label("member_id"),
            day_index(MemberEvent.at, bounds[: cohort_days + 1]).label("day"),
        )
        .where(
            MemberEvent.community_id == community_id,
            MemberEvent.kind == "join",
            MemberEvent.at >= bounds[0],
            MemberEvent.at < cohort_end,
        )
        .distinct()
        .subquery("cohort")
    )
    window_start = day_start(cohort.c.day + first, bounds)
    window_end = day_start(cohort.c.day + last + 1, bounds)
    retained = member_activity_exists(cohort.c.member_id, window_start, window_end)
    query = select(func.count(), func.coalesce(func.sum(case((retained, 1), else_=0)), 0))
    size, kept = (await session.execute(query.select_from(cohort))).one()
    return Retention(int(size), int(kept))


def _membership(community_id: int, end: datetime) -> Any:
    """Per member with join or leave events before `end`: the last join and the last leave."""
    is_join, is_leave = MemberEvent.kind == "join", MemberEvent.kind == "leave"
    return (
        select(
            MemberEvent.member_id,
            func.max(case((is_join, MemberEvent.at))).label("joined"),
            func.max(case((is_leave, MemberEvent.at))).label("left"),
        )
        .where(MemberEvent.community_id == community_id, MemberEvent.at < end)
        .group_by(MemberEvent.member_id)
        .subquery("events")
    )


def _member_states(
    community_id: int,
    end: datetime,
    new_since: datetime,
    active_since: datetime,
    at_risk_since: datetime,
) -> Any:
    """One row per current human member at `end`: id, name, segment, and for at-risk members
    their messages in the at-risk window (0 for the others). Two grouped scans (who was active
    since `active_since` and since `at_risk_since`, mostly from the `member_days` rollup;
    member events) joined to the members, so the cost follows the window and the member
    count, not the history."""
    window = active_flags(community_id, [(active_since, end), (at_risk_since, end)])
    events = _membership(community_id, end)
    gone = events.c.left.is_not(None) & (
        events.c.joined.is_(None) | (events.c.joined < events.c.left)
    )
    segment = case(
        (events.c.joined >= new_since, "new"),
        (window.c.w0 == 1, "active"),
        (window.c.w1 == 1, "at_risk"),
        (member_activity_exists(Member.id, None, at_risk_since), "dormant"),
        else_="never",
    )
    return (
        select(
            Member.id.label("member_id"),
            Member.display_name.label("name"),
            segment.label("segment"),
        )
        .outerjoin(window, window.c.member_id == Member.id)
        .outerjoin(events, events.c.member_id == Member.id)
        .where(
            Member.community_id == community_id,
            Member.is_bot.is_(False),
            ~func.coalesce(gone, False),
            # Imported history: a member created later but active before `end` counts too.
            # (A CASE, so the activity is looked up only for those members: as an OR,
            # PostgreSQL hashed every reaction before `end`, a cost that grew with history.)
            case(
                (Member.created_at < end, true()),
                else_=member_activity_exists(Member.id, None, end),
            ),
        )
        .subquery("states")
    )


async def segments(
    session: AsyncSession,
    *,
    community_id: int,
    end: datetime,
    new_since: datetime,
    active_since: datetime,
    at_risk_since: datetime,
    limit: int = 10,
) -> tuple[Segments, list[MemberCount]]:
    """Current members at `end` by lifecycle segment, and the `limit` at-risk members with
    the most messages in the at-risk window (with that count).

    Segments, first match wins: new (last joined at or after `new_since`), active (active at
    or after `active_since`), at risk (active since `at_risk_since` but not since
    `active_since`), dormant (active only before), never active. A member whose last join or
    leave before `end` is a leave is not counted. One query: window functions count each
    segment and rank its members.
    """
    states = _member_states(community_id, end, new_since, active_since, at_risk_since)
    # Messages (not commands) in the at-risk window, counted for at-risk members only.
    sent = (
        select(func.count())
        .where(
            MessageLog.member_id == states.c.member_id,
            MessageLog.sent_at >= at_risk_since,
            MessageLog.sent_at < end,
            MessageLog.community_id == community_id,
            MessageLog.is_command.is_(False),
        )
        .scalar_subquery()
    )
    states = select(
        states, case((states.c.segment == "at_risk", sent), else_=0).label("messages")
    ).subquery("scored")
    ranked = select(
        states,
        func.count().over(partition_by=states.c.segment).label("size"),
        func.row_number()
        .over(
            partition_by=states.c.segment,
            order_by=(states.c.messages.desc(), states.c.name, states.c.member_id),
        )
        .label("rank"),
    ).subquery("ranked")
    query = (
        select(
            ranked.c.segment, ranked.c.size, ranked.c.member_id, ranked.c.name, ranked.c.messages
        )
        .where((ranked.c.rank == 1) | ((ranked.c.segment == "at_risk") & (ranked.c.rank <= limit)))
        .order_by(ranked.c.segment, ranked.c.rank)
    )
    counts = dict.fromkeys(SEGMENTS, 0)
    at_risk = []
    for segment, size, member_id, name, messages in (await session.execute(query)).all():
        counts[str(segment)] = int(size)
        if segment == "at_risk":
            at_risk.append(MemberCount(int(member_id), str(name), int(messages)))
    return Segments(counts), at_risk
