"""Engagement metrics for digests, aggregated in SQL: questions and their first human reply,
unanswered FAQ questions, points (XP, check-ins, level changes, streaks, thanks) and the
scheduled posts sent with the replies and reactions they drew.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, and_, case, cast, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.analytics import MemberCount
from storage.models import (
    FaqUnanswered,
    Member,
    MessageLog,
    PointsLedger,
    PointsTotal,
    ReactionLog,
    ScheduleRun,
    ThanksGiven,
)

__all__ = [
    "Candidate",
    "PointsActivity",
    "ScheduledPosts",
    "count_unanswered",
    "first_human_replies",
    "points_activity",
    "question_candidates",
    "scheduled_posts",
    "top_thanked",
    "top_unanswered",
    "top_xp",
    "xp_before_and_during",
]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A message whose text may be a question."""

    id: int
    text: str
    sent_at: datetime
    #: The question flag stored when logged (None: unknown, detect it from `text`).
    question: bool | None = None


@dataclass(frozen=True, slots=True)
class PointsActivity:
    """XP awarded (net of admin takes), check-ins, and the longest current check-in streak
    among members who checked in during the period."""

    xp: int
    checkins: int
    longest_streak: int


# "checkin:YYYY-MM-DD:" — the streak follows.
_CHECKIN_PREFIX = "checkin:0000-00-00:"


@dataclass(frozen=True, slots=True)
class ScheduledPosts:
    """Scheduled posts sent, and the replies and reactions they drew (so far)."""

    posted: int
    replies: int
    reactions: int


async def question_candidates(
    session: AsyncSession, *, community_id: int, start: datetime, end: datetime
) -> list[Candidate]:
    """Messages (not commands) in ``[start, end)`` that may be questions: those flagged as
    questions when logged (without their text: it is not needed), and those with stored text
    logged without the flag (before migration 0008), which the caller checks."""
    period = (
        MessageLog.community_id == community_id,
        MessageLog.sent_at >= start,
        MessageLog.sent_at < end,
        MessageLog.is_command.is_(False),
    )
    # `= true` and `IS NULL AND text IS NOT NULL` as written in the partial indexes'
    # conditions (ix_messages_questions, ix_messages_unflagged), so the planners use them.
    flagged = select(MessageLog.id, MessageLog.sent_at).where(
        *period, MessageLog.is_question == true()
    )
    found = [Candidate(int(i), "", at, True) for i, at in (await session.execute(flagged)).all()]
    unflagged = select(MessageLog.id, MessageLog.text, MessageLog.sent_at).where(
        *period, MessageLog.is_question.is_(None), MessageLog.text.is_not(None)
    )
    rows = (await session.execute(unflagged)).all()
    return found + [Candidate(int(i), str(text), at, None) for i, text, at in rows]


async def first_human_replies(
    session: AsyncSession, *, ids: Sequence[int], chunk: int = 500
) -> dict[int, datetime]:
    """For each message row id, when another member first replied to it (if anyone did)."""
    question = aliased(MessageLog)
    reply = aliased(MessageLog)
    found: dict[int, datetime] = {}
    for offset in range(0, len(ids), chunk):
        query = (
            select(question.id, func.min(reply.sent_at))
            .join(
                reply,
                and_(
                    reply.community_id == question.community_id,
                    reply.reply_to == question.message_id,
                    reply.platform == question.platform,
                    reply.channel_id == question.channel_id,
                    reply.member_id != question.member_id,
                    reply.sent_at >= question.sent_at,
                ),
            )
            .where(question.id.in_(ids[offset : offset + chunk]))
            .group_by(question.id)
        )
        found.update({int(i): at for i, at in (await session.execute(query)).all()})
    return found


async def top_unanswered(
    session: AsyncSession, *, community_id: int, start: datetime, end: datetime, limit: int = 3
) -> list[tuple[str, int]]:
    """The most often asked questions the FAQ could not answer, with how often (exact text)."""
    count = func.count().label("n")
    query = (
        select(FaqUnanswered.text, count)
        .where(
            FaqUnanswered.community_id == community_id,
            FaqUnanswered.at >= start,
            FaqUnanswered.at < end,
            FaqUnanswered.text.is_not(None),
        )
        .group_by(FaqUnanswered.text)
        .order_by(count.desc(), FaqUnanswered.text)
        .limit(limit)
    )
    return [(str(text), int(n)) for text, n in (await session.execute(query)).all()]


async def count_unanswered(
    session: AsyncSession, *, community_id: int, start: datetime, end: datetime
) -> int:
    """Questions the FAQ logged as unanswered in ``[start, end)``."""
    query = select(func.count()).where(
        FaqUnanswered.community_id == community_id,
        FaqUnanswered.at >= start,
        FaqUnanswered.at < end,
    )
    return int((await session.execute(query)).scalar_one())


async def points_activity(
    session: AsyncSession,
    *,
    community_id: int,
    start: datetime,
    end: datetime,
    first_day: str,
    last_day: str,
) -> PointsActivity:
    """XP awarded and check-ins in ``[start, end)``, and the longest check-in streak reached
    in it (from the streak recorded in each check-in's ledger source, ``checkin:<day>:<n>``;
    for check-ins logged before sources carried it, the current streak of members who last
    checked in on a local day `first_day`..`last_day`)."""
    ledger = select(
        func.coalesce(func.sum(case((PointsLedger.currency == "xp", PointsLedger.amount))), 0),
        func.count(case((PointsLedger.reason == "checkin", PointsLedger.id))),
    ).where(
        PointsLedger.community_id == community_id,
        PointsLedger.at >= start,
        PointsLedger.at < end,
    )
    xp, checkins = (await session.execute(ledger)).one()
    recorded = select(
        func.max(
            case(
                (
                    func.length(PointsLedger.source) > len(_CHECKIN_PREFIX),
                    cast(func.substr(PointsLedger.source, len(_CHECKIN_PREFIX) + 1), Integer),
                )
            )
        )
    ).where(
        PointsLedger.community_id == community_id,
        PointsLedger.reason == "checkin",
        PointsLedger.at >= start,
        PointsLedger.at < end,
    )
    reached = (await session.execute(recorded)).scalar_one()
    if reached is not None:
        return PointsActivity(int(xp), int(checkins), int(reached))
    streak = select(func.coalesce(func.max(PointsTotal.streak), 0)).where(
        PointsTotal.community_id == community_id,
        PointsTotal.last_checkin_day >= first_day,
        PointsTotal.last_checkin_day <= last_day,
    )
    longest = (await session.execute(streak)).scalar_one()
    return PointsActivity(int(xp), int(checkins), int(longest))


async def xp_before_and_during(
    session: AsyncSession, *, community_id: int, start: datetime, end: datetime
) -> list[tuple[int, int]]:
    """(XP before `start`, XP gained in ``[start, end)``) of each member whose XP changed in
    the period, for counting the levels they crossed."""
    changed = select(PointsLedger.member_id).where(
        PointsLedger.community_id == community_id,
        PointsLedger.currency == "xp",
        PointsLedger.at >= start,
        PointsLedger.at < end,
    )
    before = case((PointsLedger.at < start, PointsLedger.amount), else_=0)
    during = case((PointsLedger.at >= start, PointsLedger.amount), else_=0)
    query = (
        select(func.sum(before), func.sum(during))
        .where(
            PointsLedger.member_id.in_(changed),
            PointsLedger.currency == "xp",
            PointsLedger.at < end,
        )
        .group_by(PointsLedger.member_id)
    )
    return [(int(b), int(d)) for b, d in (await session.execute(query)).all()]


async def _ranked(session: AsyncSession, query: object) -> list[MemberCount]:
    rows = (await session.execute(query)).all()  # type: ignore[call-overload]
    return [MemberCount(int(m), str(name), int(n)) for m, name, n in rows]


async def top_xp(
    session: AsyncSession, *, community_id: int, start: datetime, end: datetime, limit: int = 5
) -> list[MemberCount]:
    """The members who gained the most XP in ``[start, end)``."""
    gained = func.sum(PointsLedger.amount).label("n")
    query = (
        select(PointsLedger.member_id, Member.display_name, gained)
        .join(Member, Member.id == PointsLedger.member_id)
        .where(
            PointsLedger.community_id == community_id,
            PointsLedger.currency == "xp",
            PointsLedger.at >= start,
            PointsLedger.at < end,
        )
        .group_by(PointsLedger.member_id, Member.display_name)
        .having(gained > 0)
        .order_by(gained.desc(), Member.display_name, PointsLedger.member_id)
        .limit(limit)
    )
    return await _ranked(session, query)


async def top_thanked(
    session: AsyncSession, *, community_id: int, start: datetime, end: datetime, limit: int = 5
) -> list[MemberCount]:
    """The members thanked by the most (giver, day) pairs in ``[start, end)``."""
    count = func.count().label("n")
    query = (
        select(ThanksGiven.receiver_id, Member.display_name, count)
        .join(Member, Member.id == ThanksGiven.receiver_id)
        .where(
            ThanksGiven.community_id == community_id,
            ThanksGiven.at >= start,
            ThanksGiven.at < end,
        )
        .group_by(ThanksGiven.receiver_id, Member.display_name)
        .order_by(count.desc(), Member.display_name, ThanksGiven.receiver_id)
        .limit(limit)
    )
    return await _ranked(session, query)


async def scheduled_posts(
    session: AsyncSession, *, community_id: int, start: datetime, end: datetime
) -> ScheduledPosts:
    """Scheduled posts sent in ``[start, end)``, the replies to them and reactions on them."""
    sent = (
        select(ScheduleRun.platform, ScheduleRun.channel_id, ScheduleRun.message_id)
        .where(
            ScheduleRun.community_id == community_id,
            ScheduleRun.outcome == "posted",
            ScheduleRun.posted_at >= start,
            ScheduleRun.posted_at < end,
        )
        .subquery("sent")
    )
    posted = select(func.count()).select_from(sent)
    replies = (
        select(func.count())
        .select_from(MessageLog)
        .join(
            sent,
            and_(
                MessageLog.platform == sent.c.platform,
                MessageLog.channel_id == sent.c.channel_id,
                MessageLog.reply_to == sent.c.message_id,
            ),
        )
        .where(MessageLog.community_id == community_id, MessageLog.sent_at >= start)
    )
    reactions = (
        select(func.count())
        .select_from(ReactionLog)
        .join(
            sent,
            and_(
                ReactionLog.platform == sent.c.platform,
                ReactionLog.channel_id == sent.c.channel_id,
                ReactionLog.message_id == sent.c.message_id,
            ),
        )
        .where(ReactionLog.community_id == community_id, ReactionLog.at >= start)
    )
    return ScheduledPosts(
        int((await session.execute(posted)).scalar_one()),
        int((await session.execute(replies)).scalar_one()),
        int((await session.execute(reactions)).scalar_one()),
    )
