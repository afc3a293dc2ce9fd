"""Digest runs (a digest of one period is claimed in the database before it is sent; a claim
left pending by a stopped process expires) and subscriptions to digests by private message."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.activity import insert_if_absent
from storage.models import Account, Community, DigestRun, DigestSubscription, Group, MemberAccount

__all__ = [
    "DigestClaim",
    "account_groups",
    "account_subscriptions",
    "claim_digest",
    "digest_claimed",
    "finish_digest",
    "release_digest",
    "renew_digest",
    "subscribe",
    "subscribers",
    "unsubscribe",
]


@dataclass(frozen=True, slots=True)
class DigestClaim:
    """This process's claim on the digest of one period.

    Attributes:
        run_id: the `digest_runs` row.
        attempt: which claim this is (1 for the first); every later write checks it, so a
            process whose claim was taken over cannot finish or renew it.
        delivered: the recipients an earlier attempt already sent it to.
    """

    run_id: int
    attempt: int
    delivered: tuple[str, ...] = ()


def _run(community_id: int, kind: str, period_start: str) -> ColumnElement[bool]:
    return and_(
        DigestRun.community_id == community_id,
        DigestRun.kind == kind,
        DigestRun.period_start == period_start,
    )


async def claim_digest(
    session: AsyncSession,
    *,
    community_id: int,
    kind: str,
    period_start: str,
    now: datetime,
    expired_before: datetime,
) -> DigestClaim | None:
    """Claim the digest of one period; None if another claim holds it (by any process).

    A claim still pending whose last renewal is older than `expired_before` belongs to a
    process that stopped while sending: it is taken over, and the claim says who already
    received the digest. Two processes taking over at once: only one wins.
    """
    row = {
        "community_id": community_id,
        "kind": kind,
        "period_start": period_start,
        "claimed_at": now,
        "outcome": "pending",
        "detail": None,
        "attempts": 1,
        "delivered": [],
    }
    inserted = await insert_if_absent(session, table=DigestRun.__table__, row=row)  # type: ignore[arg-type]
    query = select(
        DigestRun.id,
        DigestRun.attempts,
        DigestRun.delivered,
        DigestRun.outcome,
        DigestRun.claimed_at,
    ).where(_run(community_id, kind, period_start))
    found = (await session.execute(query)).one()
    if inserted:
        return DigestClaim(int(found.id), 1)
    if found.outcome != "pending" or found.claimed_at >= expired_before:
        return None
    attempt = int(found.attempts) + 1
    result = await session.execute(
        update(DigestRun)
        .where(
            DigestRun.id == found.id,
            DigestRun.outcome == "pending",
            DigestRun.attempts == found.attempts,  # nobody took it over since we looked
        )
        .values(attempts=attempt, claimed_at=now)
    )
    if _count(result) != 1:
        return None
    return DigestClaim(int(found.id), attempt, tuple(found.delivered or ()))


async def digest_claimed(
    session: AsyncSession,
    *,
    community_id: int,
    kind: str,
    period_start: str,
    expired_before: datetime,
) -> bool:
    """Whether the digest of one period is done or held by a live claim (of any process);
    False when it was never claimed or its pending claim expired."""
    query = select(DigestRun.outcome, DigestRun.claimed_at).where(
        _run(community_id, kind, period_start)
    )
    found = (await session.execute(query.limit(1))).first()
    if found is None:
        return False
    return bool(found.outcome != "pending" or found.claimed_at >= expired_before)


def _mine(claim: DigestClaim) -> ColumnElement[bool]:
    return and_(
        DigestRun.id == claim.run_id,
        DigestRun.attempts == claim.attempt,
        DigestRun.outcome == "pending",
    )


async def renew_digest(
    session: AsyncSession, *, claim: DigestClaim, delivered: Sequence[str], now: datetime
) -> bool:
    """Record the recipients sent to so far and renew the claim; False if it was lost."""
    result = await session.execute(
        update(DigestRun).where(_mine(claim)).values(delivered=list(delivered), claimed_at=now)
    )
    return _count(result) == 1


async def release_digest(session: AsyncSession, *, claim: DigestClaim, since: datetime) -> bool:
    """Give a claim up at once (Hearth is stopping): mark it renewed last at `since`, a time
    long expired, so the next process takes it over without waiting."""
    result = await session.execute(update(DigestRun).where(_mine(claim)).values(claimed_at=since))
    return _count(result) == 1


async def finish_digest(
    session: AsyncSession,
    *,
    claim: DigestClaim,
    outcome: str,
    delivered: Sequence[str] = (),
    detail: str | None = None,
) -> bool:
    """Record how sending a claimed digest went (sent or failed, with the reason); False if
    the claim was lost meanwhile (the process that took it over records its own)."""
    result = await session.execute(
        update(DigestRun)
        .where(_mine(claim))
        .values(outcome=outcome, delivered=list(delivered), detail=detail[:500] if detail else None)
    )
    return _count(result) == 1


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


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
