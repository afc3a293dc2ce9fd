"""Digest runs: a digest of one period is claimed in the database before it is sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.activity import insert_if_absent
from storage.models import DigestRun

__all__ = ["claim_digest", "finish_digest"]


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
