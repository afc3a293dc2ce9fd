"""Digest runs (a digest of one period is claimed in the database before it is sent) and
subscriptions to digests by private message."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.activity import insert_if_absent
from storage.models import Account, Community, DigestRun, DigestSubscription, Group, MemberAccount

__all__ = [
    "account_groups",
    "account_subscriptions",
    "claim_digest",
    "digest_claimed",
    "finish_digest",
    "subscribe",
    "subscribers",
    "unsubscribe",
]


async def claim_digest(
    session: AsyncSession, *, community_id: int, kind: str, period_start: str, now: datetime
) -> bool:
    """Claim the digest of one period; False if it was claimed before (by any process)."""
    row = {
        "community_id": community_id,
        "kind": kind,
        "period_start": period_start,
        "claimed_at": now,
        "outcome": "pending",
        "detail": None,
    }
    return await insert_if_absent(session, table=DigestRun.__table__, row=row)  # type: ignore[arg-type]


async def digest_claimed(
    session: AsyncSession, *, community_id: int, kind: str, period_start: str
) -> bool:
    """Whether the digest of one period was claimed already (by any process)."""
    query = select(DigestRun.id).where(
        DigestRun.community_id == community_id,
        DigestRun.kind == kind,
        DigestRun.period_start == period_start,
    )
    return (await session.execute(query.limit(1))).first() is not None


async def finish_digest(
    session: AsyncSession,
    *,
    community_id: int,
    kind: str,
    period_start: str,
    outcome: str,
    detail: str | None = None,
) -> None:
    """Record how sending a claimed digest went (sent or failed, with the reason)."""
    await session.execute(
        update(DigestRun)
        .where(
            DigestRun.community_id == community_id,
            DigestRun.kind == kind,
            DigestRun.period_start == period_start,
        )
        .values(outcome=outcome, detail=detail[:500] if detail else None)
    )


async def subscribe(
    session: AsyncSession,
    *,
    community_id: int,
    member_id: int,
    platform: str,
    user_id: str,
    kind: str,
    now: datetime,
) -> bool:
    """Subscribe an account to a community's digest by private message; False if it was."""
    row = {
        "community_id": community_id,
        "member_id": member_id,
        "platform": platform,
        "user_id": user_id,
        "kind": kind,
        "created_at": now,
    }
    return await insert_if_absent(session, table=DigestSubscription.__table__, row=row)  # type: ignore[arg-type]


async def unsubscribe(
    session: AsyncSession,
    *,
    platform: str,
    user_id: str,
    kinds: Sequence[str],
    community_id: int | None = None,
) -> int:
    """Remove an account's subscriptions of `kinds` (in one community or all); how many."""
    query = delete(DigestSubscription).where(
        DigestSubscription.platform == platform,
        DigestSubscription.user_id == user_id,
        DigestSubscription.kind.in_(kinds),
    )
    if community_id is not None:
        query = query.where(DigestSubscription.community_id == community_id)
    result = await session.execute(query.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


async def subscribers(
    session: AsyncSession, *, community_id: int, kind: str
) -> list[tuple[str, str]]:
    """(platform, user id) of every account subscribed to a community's digest of `kind`."""
    query = (
        select(DigestSubscription.platform, DigestSubscription.user_id)
        .where(DigestSubscription.community_id == community_id, DigestSubscription.kind == kind)
        .order_by(DigestSubscription.id)
    )
    return [(str(p), str(u)) for p, u in (await session.execute(query)).all()]


async def account_subscriptions(
    session: AsyncSession, *, platform: str, user_id: str
) -> list[tuple[str, str]]:
    """(community name, kind) of every digest an account is subscribed to."""
    query = (
        select(Community.name, DigestSubscription.kind)
        .join(Community, Community.id == DigestSubscription.community_id)
        .where(DigestSubscription.platform == platform, DigestSubscription.user_id == user_id)
        .order_by(Community.name, DigestSubscription.kind)
    )
    return [(str(n), str(k)) for n, k in (await session.execute(query)).all()]


async def account_groups(
    session: AsyncSession, *, platform: str, user_id: str
) -> list[tuple[int, int, str]]:
    """(community id, member id, group id) of every group on `platform` of every community
    an account is a member of: where a private /subscribe looks for the member's rights."""
    query = (
        select(MemberAccount.community_id, MemberAccount.member_id, Group.external_id)
        .join(Account, Account.id == MemberAccount.account_id)
        .join(Group, Group.community_id == MemberAccount.community_id)
        .where(
            Account.platform == platform,
            Account.external_id == user_id,
            Group.platform == platform,
        )
        .order_by(MemberAccount.community_id, Group.id)
    )
    return [(int(c), int(m), str(g)) for c, m, g in (await session.execute(query)).all()]
