"""Moderation storage: blocked phrases, warnings and the audit log. Every query is scoped to
one community, so a command in one community can never see or change another's records."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.activity import insert_if_absent, newest_messages
from storage.models import (
    BlockedPhrase,
    Member,
    MemberEvent,
    MemberWarning,
    MessageLog,
    ModerationAction,
)

__all__ = [
    "AuditEntry",
    "LoggedMessage",
    "ModerationSummary",
    "PastIncident",
    "WarningEntry",
    "actions_of_warning",
    "add_phrase",
    "add_warning",
    "count_warnings",
    "find_action",
    "last_join",
    "list_phrases",
    "list_warnings",
    "mark_undone",
    "member_recent_messages",
    "moderation_counts",
    "recent_actions",
    "recent_incidents",
    "recent_messages",
    "record_action",
    "remove_phrase",
    "revoke_warning",
]


@dataclass(frozen=True, slots=True)
class WarningEntry:
    """A warning as `/warnings` lists it."""

    id: int
    member_id: int
    reason: str
    at: datetime
    by: str | None
    revoked: bool


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit log."""

    id: int
    member_id: int
    member: str
    by: str | None
    kind: str
    rule: str
    reason: str
    platform: str
    group_id: str
    channel_id: str | None
    message_id: str | None
    text: str | None
    warning_id: int | None
    until: datetime | None
    at: datetime
    undone: bool


async def add_phrase(
    session: AsyncSession, *, community_id: int, phrase: str, now: datetime
) -> bool:
    """Block a phrase; False if it was already blocked."""
    row = {"community_id": community_id, "phrase": phrase, "created_at": now}
    return await insert_if_absent(session, table=BlockedPhrase.__table__, row=row)  # type: ignore[arg-type]


async def remove_phrase(session: AsyncSession, *, community_id: int, phrase: str) -> bool:
    """Unblock a phrase; False if it was not blocked."""
    result = await session.execute(
        delete(BlockedPhrase).where(
            BlockedPhrase.community_id == community_id, BlockedPhrase.phrase == phrase
        )
    )
    return int(getattr(result, "rowcount", 0) or 0) > 0


async def list_phrases(session: AsyncSession, *, community_id: int) -> list[str]:
    """The community's blocked phrases, alphabetically."""
    query = (
        select(BlockedPhrase.phrase)
        .where(BlockedPhrase.community_id == community_id)
        .order_by(BlockedPhrase.phrase)
    )
    return [str(p) for p in (await session.execute(query)).scalars()]


async def add_warning(
    session: AsyncSession,
    *,
    community_id: int,
    member_id: int,
    by_member_id: int | None,
    reason: str,
    now: datetime,
) -> int:
    """Record a warning; returns its id."""
    result = await session.execute(
        insert(MemberWarning)
        .values(
            community_id=community_id,
            member_id=member_id,
            by_member_id=by_member_id,
            reason=reason[:500],
            at=now,
        )
        .returning(MemberWarning.id)
    )
    return int(result.scalar_one())


async def count_warnings(
    session: AsyncSession, *, community_id: int, member_id: int, since: datetime
) -> int:
    """Warnings of a member given since `since` and not revoked."""
    query = select(func.count()).where(
        MemberWarning.community_id == community_id,
        MemberWarning.member_id == member_id,
        MemberWarning.at >= since,
        MemberWarning.revoked_at.is_(None),
    )
    return int((await session.execute(query)).scalar_one())


async def list_warnings(
    session: AsyncSession, *, community_id: int, member_id: int, limit: int = 20
) -> list[WarningEntry]:
    """A member's warnings, newest first, with who gave them."""
    giver = Member.__table__.alias("giver")
    query = (
        select(
            MemberWarning.id,
            MemberWarning.member_id,
            MemberWarning.reason,
            MemberWarning.at,
            giver.c.display_name,
            MemberWarning.revoked_at,
        )
        .outerjoin(giver, giver.c.id == MemberWarning.by_member_id)
        .where(MemberWarning.community_id == community_id, MemberWarning.member_id == member_id)
        .order_by(MemberWarning.at.desc(), MemberWarning.id.desc())
        .limit(limit)
    )
    return [
        WarningEntry(int(i), int(m), str(r), at, None if b is None else str(b), rv is not None)
        for i, m, r, at, b, rv in (await session.execute(query)).all()
    ]


async def revoke_warning(
    session: AsyncSession, *, community_id: int, warning_id: int, now: datetime
) -> int | None:
    """Revoke a warning of this community; returns the warned member, or None if there is no
    such (active) warning here."""
    found = (
        await session.execute(
            select(MemberWarning.member_id).where(
                MemberWarning.id == warning_id,
                MemberWarning.community_id == community_id,
                MemberWarning.revoked_at.is_(None),
            )
        )
    ).scalar_one_or_none()
    if found is None:
        return None
    await session.execute(
        update(MemberWarning).where(MemberWarning.id == warning_id).values(revoked_at=now)
    )
    return int(found)


async def record_action(session: AsyncSession, **fields: Any) -> int:
    """Add one entry to the audit log; returns its id."""
    if fields.get("reason"):
        fields["reason"] = str(fields["reason"])[:500]
    result = await session.execute(
        insert(ModerationAction).values(**fields).returning(ModerationAction.id)
    )
    return int(result.scalar_one())


def _audit_query() -> Any:
    target = Member.__table__.alias("target")
    actor = Member.__table__.alias("actor")
    return (
        select(ModerationAction, target.c.display_name, actor.c.display_name)
        .join(target, target.c.id == ModerationAction.member_id)
        .outerjoin(actor, actor.c.id == ModerationAction.by_member_id)
    )


def _entry(row: Any) -> AuditEntry:
    action, member, by = row
    return AuditEntry(
        id=action.id,
        member_id=action.member_id,
        member=str(member),
        by=None if by is None else str(by),
        kind=action.kind,
        rule=action.rule,
        reason=action.reason,
        platform=action.platform,
        group_id=action.group_id,
        channel_id=action.channel_id,
        message_id=action.message_id,
        text=action.text,
        warning_id=action.warning_id,
        until=action.until,
        at=action.at,
        undone=action.undone_at is not None,
    )


async def find_action(
    session: AsyncSession, *, community_id: int, action_id: int
) -> AuditEntry | None:
    """One audit entry of this community."""
    query = _audit_query().where(
        ModerationAction.id == action_id, ModerationAction.community_id == community_id
    )
    row = (await session.execute(query)).first()
    return None if row is None else _entry(row)


async def actions_of_warning(
    session: AsyncSession, *, community_id: int, warning_id: int
) -> list[AuditEntry]:
    """Every audit entry that came of one warning (the deletion, a mute or ban it led to)."""
    query = (
        _audit_query()
        .where(
            ModerationAction.community_id == community_id,
            ModerationAction.warning_id == warning_id,
        )
        .order_by(ModerationAction.id)
    )
    return [_entry(row) for row in (await session.execute(query)).all()]


async def recent_actions(
    session: AsyncSession, *, community_id: int, limit: int = 10
) -> list[AuditEntry]:
    """The latest audit entries of a community, newest first."""
    query = (
        _audit_query()
        .where(ModerationAction.community_id == community_id)
        .order_by(ModerationAction.at.desc(), ModerationAction.id.desc())
        .limit(limit)
    )
    return [_entry(row) for row in (await session.execute(query)).all()]


async def mark_undone(
    session: AsyncSession, *, community_id: int, action_ids: Sequence[int], by: int, now: datetime
) -> None:
    """Mark audit entries as undone by a moderator."""
    await session.execute(
        update(ModerationAction)
        .where(ModerationAction.community_id == community_id, ModerationAction.id.in_(action_ids))
        .values(undone_at=now, undone_by=by)
    )


async def last_join(session: AsyncSession, *, community_id: int, member_id: int) -> datetime | None:
    """When the member last joined one of the community's groups, if a join is logged."""
    query = select(func.max(MemberEvent.at)).where(
        MemberEvent.community_id == community_id,
        MemberEvent.member_id == member_id,
        MemberEvent.kind == "join",
    )
    last: datetime | None = (await session.execute(query)).scalar_one()  # aware: max keeps the type
    return last


@dataclass(frozen=True, slots=True)
class ModerationSummary:
    """A period's moderation for the digest."""

    #: Automatic actions kept, by rule (flood, repeat, link, invite, words, ladder).
    automatic: Counter[str]
    warnings: int
    #: Automatic actions undone by a moderator: false positives.
    undone: int


async def moderation_counts(
    session: AsyncSession, *, community_id: int, start: datetime, end: datetime
) -> ModerationSummary:
    """For the digest: automatic actions by rule (not undone), warnings given, and
    automatic actions undone as false positives, in [start, end)."""
    rows = await session.execute(
        select(ModerationAction.rule, ModerationAction.undone_at.is_(None), func.count())
        .where(
            ModerationAction.community_id == community_id,
            ModerationAction.by_member_id.is_(None),
            ModerationAction.at >= start,
            ModerationAction.at < end,
        )
        .group_by(ModerationAction.rule, ModerationAction.undone_at.is_(None))
    )
    automatic: Counter[str] = Counter()
    undone = 0
    for rule, kept, count in rows.all():
        if kept:
            automatic[str(rule)] += int(count)
        else:
            undone += int(count)
    warned = await session.execute(
        select(func.count()).where(
            MemberWarning.community_id == community_id,
            MemberWarning.at >= start,
            MemberWarning.at < end,
        )
    )
    return ModerationSummary(automatic, int(warned.scalar_one()), undone)


@dataclass(frozen=True, slots=True)
class LoggedMessage:
    """A logged message as the flood and repeat rules read it back after a restart."""

    member_id: int
    platform: str
    text: str | None
    sent_at: datetime


async def recent_messages(
    session: AsyncSession, *, community_id: int, since: datetime, until: datetime, limit: int
) -> list[LoggedMessage]:
    """The community's messages (not commands) sent in [since, until], oldest first; the
    newest `limit` of them if there are more. `text` is None once retention forgot it."""
    columns = (MessageLog.member_id, MessageLog.platform, MessageLog.text, MessageLog.sent_at)
    query = newest_messages(columns, MessageLog.community_id == community_id, since, until, limit)
    rows = (await session.execute(query)).all()
    return [LoggedMessage(int(m), str(p), t, at) for m, p, t, at in reversed(rows)]


async def member_recent_messages(
    session: AsyncSession, *, member_id: int, since: datetime, until: datetime, limit: int
) -> list[tuple[str, str, str, str | None, datetime]]:
    """One member's messages (not commands) sent in [since, until], oldest first, the newest
    `limit` if there are more: (platform, channel id, message id, text, sent at). The flood
    and repeat rules rebuild a member's window from them after forgetting it."""
    columns = (
        MessageLog.platform,
        MessageLog.channel_id,
        MessageLog.message_id,
        MessageLog.text,
        MessageLog.sent_at,
    )
    query = newest_messages(columns, MessageLog.member_id == member_id, since, until, limit)
    rows = (await session.execute(query)).all()
    return [(str(p), str(c), str(m), t, at) for p, c, m, t, at in reversed(rows)]


@dataclass(frozen=True, slots=True)
class PastIncident:
    """An automatic deletion or hold of the audit log, read back after a restart."""

    member_id: int
    rule: str
    at: datetime
    #: Whether it gave a warning (the first deletion of an incident does, the rest do not).
    warned: bool


async def recent_incidents(
    session: AsyncSession, *, community_id: int, since: datetime, limit: int
) -> list[PastIncident]:
    """Hearth's own deletions and holds in the community since `since` (undone ones too: a
    moderator's undo does not make the rule's window forget them), oldest first."""
    query = (
        select(
            ModerationAction.member_id,
            ModerationAction.rule,
            ModerationAction.at,
            ModerationAction.warning_id,
        )
        .where(
            ModerationAction.community_id == community_id,
            ModerationAction.at >= since,
            ModerationAction.by_member_id.is_(None),
            ModerationAction.kind.in_(("deleted", "held")),
        )
        .order_by(ModerationAction.at.desc(), ModerationAction.id.desc())
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    return [PastIncident(int(m), str(r), at, w is not None) for m, r, at, w in reversed(rows)]
