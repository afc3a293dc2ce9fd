"""Sign-in for the web dashboard: one-time links and sessions, stored by their tokens' hashes.

A token itself never reaches the database: a stolen copy of it cannot sign anybody in.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import WebLink, WebSession

__all__ = [
    "Holder",
    "SessionInfo",
    "create_link",
    "create_session",
    "end_session",
    "find_session",
    "take_link",
    "token_hash",
    "touch_session",
]


def token_hash(token: str) -> str:
    """The SHA-256 (hex) a token is stored and looked up by."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Holder:
    """Who a link or a session is for: a member of a community with a role (member None: the
    operator, `hearth web link`), and the platform account the role is checked with."""

    community_id: int
    member_id: int | None
    role: int
    platform: str | None = None
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A session that has not ended or expired."""

    id: int
    holder: Holder
    csrf: str
    checked_at: datetime
    expires_at: datetime


def _holds(holder: Holder) -> dict[str, object]:
    """The columns a link and a session share: whose rights, in which community."""
    return {
        "community_id": holder.community_id,
        "member_id": holder.member_id,
        "platform": holder.platform,
        "user_id": holder.user_id,
        "role": holder.role,
    }


async def create_link(
    session: AsyncSession, *, token: str, holder: Holder, now: datetime, expires_at: datetime
) -> None:
    """Store a new one-time link."""
    session.add(
        WebLink(
            token_hash=token_hash(token), created_at=now, expires_at=expires_at, **_holds(holder)
        )
    )


async def take_link(session: AsyncSession, *, token: str, now: datetime) -> Holder | None:
    """Use a link: who it signs in, or None when it is unknown, used or expired. Two
    requests with the same link: one wins (the update is conditional on it being unused)."""
    hashed = token_hash(token)
    taken = await session.execute(
        update(WebLink)
        .where(WebLink.token_hash == hashed, WebLink.used_at.is_(None), WebLink.expires_at > now)
        .values(used_at=now)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    link = (await session.execute(select(WebLink).where(WebLink.token_hash == hashed))).scalar_one()
    return Holder(link.community_id, link.member_id, link.role, link.platform, link.user_id)


async def create_session(
    session: AsyncSession,
    *,
    token: str,
    csrf: str,
    holder: Holder,
    now: datetime,
    expires_at: datetime,
) -> None:
    """Store a new session for `holder`, its rights confirmed `now`."""
    session.add(
        WebSession(
            token_hash=token_hash(token),
            csrf=csrf,
            created_at=now,
            checked_at=now,
            expires_at=expires_at,
            **_holds(holder),
        )
    )


async def find_session(session: AsyncSession, *, token: str, now: datetime) -> SessionInfo | None:
    """The live session of a cookie's token (None when unknown, ended or expired)."""
    row = (
        await session.execute(
            select(WebSession).where(
                WebSession.token_hash == token_hash(token),
                WebSession.ended_at.is_(None),
                WebSession.expires_at > now,
            )
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    holder = Holder(row.community_id, row.member_id, row.role, row.platform, row.user_id)
    return SessionInfo(row.id, holder, row.csrf, row.checked_at, row.expires_at)


async def touch_session(
    session: AsyncSession, *, session_id: int, role: int, checked_at: datetime
) -> None:
    """Record a fresh check of the holder's rights (their role now)."""
    await session.execute(
        update(WebSession)
        .where(WebSession.id == session_id)
        .values(role=role, checked_at=checked_at)
    )


async def end_session(session: AsyncSession, *, session_id: int, now: datetime) -> None:
    """Sign out: the session's cookie no longer works."""
    await session.execute(
        update(WebSession).where(WebSession.id == session_id).values(ended_at=now)
    )
