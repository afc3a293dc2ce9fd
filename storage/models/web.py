"""The web dashboard's sign-in: one-time links and the sessions they start."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, Id, UTCDateTime

__all__ = ["WebLink", "WebSession"]


class _Holder:
    """What a link and a session share: a token's hash and whose rights, where."""

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    #: None: the operator (`hearth web link`), with admin rights.
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    #: The platform account the role is checked with.
    platform: Mapped[str | None] = mapped_column(String(16))
    user_id: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebLink(_Holder, Base):
    """A one-time sign-in link (`/dashboard`, `hearth web link`): only its token's SHA-256
    is stored; used once, within minutes."""

    __tablename__ = "web_links"

    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebSession(_Holder, Base):
    """A signed-in browser: the cookie's SHA-256, whose rights in which community, and when
    those rights were last confirmed with the platform."""

    __tablename__ = "web_sessions"

    #: The token every form of this session carries (CSRF).
    csrf: Mapped[str] = mapped_column(String(64))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
