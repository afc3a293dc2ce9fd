"""The dashboard's member and moderation lists: members by lifecycle segment (the digest's
segments, `storage.lifecycle`), one member's messages per local day, the community's recent
warnings and the audit log a page at a time. Every query is scoped to one community."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.analytics import day_index
from storage.identity import FORGOTTEN_NAME
from storage.lifecycle import _member_states
from storage.models import Member, MemberWarning, MessageLog, ModerationAction, PointsTotal
from storage.moderation import AuditEntry, _audit_query, _entry

__all__ = [
    "MemberInfo",
    "MemberRow",
    "WarningLine",
    "Windows",
    "audit_page",
    "get_member",
    "list_members",
    "member_daily_messages",
    "member_segment",
    "recent_warnings",
]


@dataclass(frozen=True, slots=True)
class Windows:
    """The lifecycle windows at `end` (as `storage.lifecycle.segments` takes them)."""

    end: datetime
    new_since: datetime
    active_since: datetime
    at_risk_since: datetime


@dataclass(frozen=True, slots=True)
class MemberRow:
    """A current member in a list: name, lifecycle segment, XP and level."""

    member_id: int
    name: str
    segment: str
    xp: int
    level: int


@dataclass(frozen=True, slots=True)
class MemberInfo:
    """One member of a community."""

    member_id: int
    name: str
    is_bot: bool
    first_seen: datetime
    forgotten: bool


@dataclass(frozen=True, slots=True)
class WarningLine:
    """A warning of the community, with whom it warned."""

    id: int
    member_id: int
    member: str
    reason: str
    at: datetime
    by: str | None
    revoked: bool


def _states(community_id: int, windows: Windows) -> Any:
    return _member_states(
        community_id, windows.end, windows.new_since, windows.active_since, windows.at_risk_since
    )


async def list_members(
    session: AsyncSession,
    *,
    community_id: int,
    windows: Windows,
    search: str = "",
    segment: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[int, list[MemberRow]]:
    """Current human members (not forgotten ones) whose name contains `search` (any case),
    of one segment or all, by name: how many match, and the page ``[offset, offset+limit)``."""
    states = _states(community_id, windows)
    name = states.c.name
    conditions = [name != FORGOTTEN_NAME]
    if search.strip():
        conditions.append(func.lower(name).contains(search.strip().lower(), autoescape=True))
    if segment is not None:
        conditions.append(states.c.segment == segment)
    total = (
        await session.execute(select(func.count()).select_from(states).where(*conditions))
    ).scalar_one()
    query = (
        select(
            states.c.member_id,
            name,
            states.c.segment,
            func.coalesce(PointsTotal.xp, 0),
            func.coalesce(PointsTotal.level, 0),
        )
        .select_from(states)
        .outerjoin(PointsTotal, PointsTotal.member_id == states.c.member_id)
        .where(*conditions)
        .order_by(func.lower(name), states.c.member_id)
        .offset(offset)
        .limit(limit)
    )
    rows = [
        MemberRow(int(m), str(n), str(s), int(xp), int(level))
        for m, n, s, xp, level in (await session.execute(query)).all()
    ]
    return int(total), rows


async def member_segment(
    session: AsyncSession, *, community_id: int, member_id: int, windows: Windows
) -> str | None:
    """The member's lifecycle segment, or None when they are not a current member (left,
    or a bot)."""
    states = _states(community_id, windows)
    query = select(states.c.segment).where(states.c.member_id == member_id)
    found = (await session.execute(query)).scalar_one_or_none()
    return None if found is None else str(found)


async def get_member(
    session: AsyncSession, *, community_id: int, member_id: int
) -> MemberInfo | None:
    """A member of this community (None: no such member here)."""
    row = await session.get(Member, member_id)
    if row is None or row.community_id != community_id:
        return None
    forgotten = row.display_name == FORGOTTEN_NAME
    return MemberInfo(row.id, row.display_name, row.is_bot, row.created_at, forgotten)


async def member_daily_messages(
    session: AsyncSession, *, community_id: int, member_id: int, bounds: Sequence[datetime]
) -> list[int]:
    """The member's messages (not commands) on each local day ``[bounds[i], bounds[i+1])``."""
    query = (
        select(day_index(MessageLog.sent_at, bounds).label("day"), func.count())
        .where(
            MessageLog.member_id == member_id,
            MessageLog.community_id == community_id,
            MessageLog.sent_at >= bounds[0],
            MessageLog.sent_at < bounds[-1],
            MessageLog.is_command.is_(False),
        )
        .group_by("day")
    )
    counts = {int(day): int(n) for day, n in (await session.execute(query)).all()}
    return [counts.get(day, 0) for day in range(len(bounds) - 1)]


async def recent_warnings(
    session: AsyncSession, *, community_id: int, limit: int = 20
) -> list[WarningLine]:
    """The community's latest warnings, newest first, with the warned member and the giver."""
    target = Member.__table__.alias("target")
    giver = Member.__table__.alias("giver")
    query = (
        select(
            MemberWarning.id,
            MemberWarning.member_id,
            target.c.display_name,
            MemberWarning.reason,
            MemberWarning.at,
            giver.c.display_name,
            MemberWarning.revoked_at,
        )
        .join(target, target.c.id == MemberWarning.member_id)
        .outerjoin(giver, giver.c.id == MemberWarning.by_member_id)
        .where(MemberWarning.community_id == community_id)
        .order_by(MemberWarning.at.desc(), MemberWarning.id.desc())
        .limit(limit)
    )
    return [
        WarningLine(
            int(i), int(m), str(n), str(r), at, None if b is None else str(b), v is not None
        )
        for i, m, n, r, at, b, v in (await session.execute(query)).all()
    ]


async def audit_page(
    session: AsyncSession, *, community_id: int, offset: int = 0, limit: int = 25
) -> tuple[int, list[AuditEntry]]:
    """The audit log newest first: how many entries there are, and one page of them."""
    total = (
        await session.execute(
            select(func.count()).where(ModerationAction.community_id == community_id)
        )
    ).scalar_one()
    query = (
        _audit_query()
        .where(ModerationAction.community_id == community_id)
        .order_by(ModerationAction.at.desc(), ModerationAction.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return int(total), [_entry(row) for row in (await session.execute(query)).all()]
