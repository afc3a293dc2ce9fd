"""Members' control over their data: everything stored about one member, and forgetting it.

Forgetting keeps the rows that aggregate metrics need (a message happened at a time in a
channel; XP amounts) but removes what identifies or says something: message and question
texts, names, ledger notes and sources.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.identity import FORGOTTEN_NAME
from storage.models import (
    Account,
    DigestSubscription,
    FaqAnswer,
    FaqUnanswered,
    FaqVote,
    Member,
    MemberAccount,
    MemberDay,
    MemberEvent,
    MemberWarning,
    MessageLog,
    ModerationAction,
    PointsLedger,
    PointsTotal,
    ReactionLog,
    ThanksGiven,
)

__all__ = [
    "FORGOTTEN_NAME",
    "forget_account_name",
    "forget_member",
    "member_export",
    "memberships",
]


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _rows(rows: Any, *columns: str) -> list[dict[str, Any]]:
    return [{name: _plain(getattr(row, name)) for name in columns} for row in rows]


async def _all(session: AsyncSession, query: Any) -> Any:
    return (await session.execute(query)).scalars().all()


async def member_export(
    session: AsyncSession, *, community_id: int, member_id: int
) -> dict[str, Any]:
    """Everything Hearth stores about a member in one community, as JSON-ready data."""
    member = await session.get(Member, member_id)
    if member is None or member.community_id != community_id:
        return {}
    accounts = (
        (
            await session.execute(
                select(Account)
                .join(MemberAccount, MemberAccount.account_id == Account.id)
                .where(MemberAccount.member_id == member_id)
            )
        )
        .scalars()
        .all()
    )
    totals = await session.get(PointsTotal, member_id)
    return {
        "member": {
            "id": member.id,
            "display_name": member.display_name,
            "first_seen": _plain(member.created_at),
            "is_bot": member.is_bot,
        },
        "accounts": _rows(accounts, "platform", "external_id", "name"),
        "messages": _rows(
            await _all(
                session,
                select(MessageLog)
                .where(MessageLog.member_id == member_id)
                .order_by(MessageLog.sent_at),
            ),
            "platform",
            "channel_id",
            "thread_id",
            "message_id",
            "sent_at",
            "reply_to",
            "length",
            "is_command",
            "kind",
            "text",
        ),
        "joins_and_leaves": _rows(
            await _all(session, select(MemberEvent).where(MemberEvent.member_id == member_id)),
            "kind",
            "at",
        ),
        "active_days": [
            _plain(day)
            for day in await _all(
                session,
                select(MemberDay.day)
                .where(MemberDay.member_id == member_id)
                .order_by(MemberDay.day),
            )
        ],
        "reactions": _rows(
            await _all(session, select(ReactionLog).where(ReactionLog.member_id == member_id)),
            "channel_id",
            "message_id",
            "emoji",
            "at",
        ),
        "points": None
        if totals is None
        else {
            "xp": totals.xp,
            "level": totals.level,
            "reputation": totals.reputation,
            "checkin_streak": totals.streak,
            "last_checkin_day": totals.last_checkin_day,
        },
        "points_ledger": _rows(
            await _all(
                session,
                select(PointsLedger)
                .where(PointsLedger.member_id == member_id)
                .order_by(PointsLedger.at),
            ),
            "currency",
            "amount",
            "reason",
            "source",
            "note",
            "at",
        ),
        "thanks": _rows(
            await _all(
                session,
                select(ThanksGiven).where(
                    or_(ThanksGiven.giver_id == member_id, ThanksGiven.receiver_id == member_id)
                ),
            ),
            "giver_id",
            "receiver_id",
            "day",
        ),
        "unanswered_questions": _rows(
            await _all(session, select(FaqUnanswered).where(FaqUnanswered.member_id == member_id)),
            "channel_id",
            "text",
            "at",
        ),
        "faq_answers": _rows(
            await _all(session, select(FaqAnswer).where(FaqAnswer.member_id == member_id)),
            "entry_id",
            "channel_id",
            "message_id",
            "at",
        ),
        "faq_votes": _rows(
            await _all(session, select(FaqVote).where(FaqVote.member_id == member_id)),
            "entry_id",
            "helpful",
            "at",
        ),
        "warnings": _rows(
            await _all(session, select(MemberWarning).where(MemberWarning.member_id == member_id)),
            "id",
            "reason",
            "at",
            "revoked_at",
        ),
        "moderation_actions": _rows(
            await _all(
                session, select(ModerationAction).where(ModerationAction.member_id == member_id)
            ),
            "id",
            "kind",
            "rule",
            "reason",
            "channel_id",
            "message_id",
            "text",
            "until",
            "at",
            "undone_at",
        ),
        "digest_subscriptions": _rows(
            await _all(
                session,
                select(DigestSubscription).where(DigestSubscription.member_id == member_id),
            ),
            "platform",
            "user_id",
            "kind",
            "created_at",
        ),
    }


async def forget_member(
    session: AsyncSession, *, community_id: int, member_id: int
) -> dict[str, int]:
    """Remove a member's texts, names and ledger details in a community; counts stay."""
    done: dict[str, int] = {}

    async def run(name: str, statement: Any) -> None:
        result = await session.execute(statement.execution_options(synchronize_session=False))
        done[name] = int(getattr(result, "rowcount", 0) or 0)

    await run(
        "messages",
        update(MessageLog)
        .where(MessageLog.member_id == member_id, MessageLog.community_id == community_id)
        .values(text=None),
    )
    await run(
        "questions",
        update(FaqUnanswered)
        .where(FaqUnanswered.member_id == member_id, FaqUnanswered.community_id == community_id)
        .values(text=None),
    )
    await run(
        "ledger",
        update(PointsLedger)
        .where(PointsLedger.member_id == member_id, PointsLedger.community_id == community_id)
        .values(note=None, source="forgotten"),
    )
    await run(
        "moderated_texts",
        update(ModerationAction)
        .where(
            ModerationAction.member_id == member_id,
            ModerationAction.community_id == community_id,
        )
        .values(text=None),
    )
    await run(
        "digest_subscriptions",
        delete(DigestSubscription).where(
            DigestSubscription.member_id == member_id,
            DigestSubscription.community_id == community_id,
        ),
    )
    await run(
        "profile",
        update(Member)
        .where(Member.id == member_id, Member.community_id == community_id)
        .values(display_name=FORGOTTEN_NAME),
    )
    # The platform name sits on the account too; the other communities keep their own copy
    # (the member's display name there).
    accounts = select(MemberAccount.account_id).where(
        MemberAccount.member_id == member_id, MemberAccount.community_id == community_id
    )
    await run("account_names", update(Account).where(Account.id.in_(accounts)).values(name=""))
    return done


async def memberships(
    session: AsyncSession, *, platform: str, user_id: str
) -> list[tuple[int, int]]:
    """(community id, member id) of every community a platform account is a member of."""
    query = (
        select(MemberAccount.community_id, MemberAccount.member_id)
        .join(Account, Account.id == MemberAccount.account_id)
        .where(Account.platform == platform, Account.external_id == user_id)
    )
    return [(int(c), int(m)) for c, m in (await session.execute(query)).all()]


async def forget_account_name(session: AsyncSession, *, platform: str, user_id: str) -> None:
    """Blank the stored name of a platform account (it is shared by its communities)."""
    await session.execute(
        update(Account)
        .where(Account.platform == platform, Account.external_id == user_id)
        .values(name="")
    )
