"""Moderation: blocked phrases, warnings and the audit log of every action."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, Id, UTCDateTime

__all__ = ["BlockedPhrase", "MemberWarning", "ModerationAction"]


class BlockedPhrase(Base):
    """A word or phrase a community does not allow (admin-managed)."""

    __tablename__ = "blocked_phrases"
    __table_args__ = (UniqueConstraint("community_id", "phrase"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    #: As the admin typed it (matching folds case, width, spaces and symbols).
    phrase: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MemberWarning(Base):
    """A warning given to a member, by a moderator or automatically; revoked ones stay."""

    __tablename__ = "warnings"
    __table_args__ = (
        Index("ix_warnings_community_id_member_id_at", "community_id", "member_id", "at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    #: The moderator; NULL for an automatic warning.
    by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    reason: Mapped[str] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ModerationAction(Base):
    """One moderation action, automatic or manual: who, what, why and the message."""

    __tablename__ = "moderation_actions"
    __table_args__ = (Index("ix_moderation_actions_community_id_at", "community_id", "at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    #: The member acted on.
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    #: The moderator; NULL when Hearth acted on its own.
    by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    #: held, deleted, warned, muted, banned, reported, unwarned, unmuted, unbanned.
    kind: Mapped[str] = mapped_column(String(16))
    #: flood, repeat, link, invite, words, ladder or manual.
    rule: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500))
    platform: Mapped[str] = mapped_column(String(16))
    group_id: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64))
    #: The message's text (removed by /forgetme like every stored text).
    text: Mapped[str | None] = mapped_column(Text)
    warning_id: Mapped[int | None] = mapped_column(ForeignKey("warnings.id"))
    until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    undone_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
