"""The activity log: messages, daily active members, joins and leaves, reactions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, Id, UTCDateTime

__all__ = ["MemberDay", "MemberEvent", "MessageLog", "ReactionLog"]


class MessageLog(Base):
    """One row per message ever seen; the ground truth for activity metrics.

    The unique key makes a redelivered update count once.
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint(
            "community_id", "platform", "channel_id", "message_id", name="uq_messages_once"
        ),
        # Covers the digests' scans of a time window (who was active, messages, not commands).
        Index("ix_messages_activity", "community_id", "sent_at", "member_id", "is_command"),
        Index("ix_messages_member_id_sent_at", "member_id", "sent_at"),
        # Digests: replies to a message (first human reply, replies to scheduled posts).
        Index("ix_messages_community_id_reply_to", "community_id", "reply_to"),
        # Digests: the questions of a window (flagged when logged), and the texts logged
        # before the flag existed; partial, so they stay small and cheap to write.
        Index(
            "ix_messages_questions",
            "community_id",
            "sent_at",
            sqlite_where=sql("is_question = 1"),
            postgresql_where=sql("is_question = true"),
        ),
        Index(
            "ix_messages_unflagged",
            "community_id",
            "sent_at",
            sqlite_where=sql("is_question IS NULL AND text IS NOT NULL"),
            postgresql_where=sql("is_question IS NULL AND text IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    platform: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(64))
    thread_id: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(64))
    reply_to: Mapped[str | None] = mapped_column(String(64))
    mentions: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    length: Mapped[int] = mapped_column(Integer)
    is_command: Mapped[bool] = mapped_column(Boolean, default=False)
    #: `bot.events.MESSAGE_KINDS`: text, photo, sticker, voice, poll, ...
    kind: Mapped[str] = mapped_column(String(16), default="text", server_default="text")
    text: Mapped[str | None] = mapped_column(Text)
    # `bot.text.question.is_question` of the text, set when logged; None (rows logged before
    # migration 0008): unknown, the digest runs the detector on the stored text.
    is_question: Mapped[bool | None] = mapped_column(Boolean)


class MemberDay(Base):
    """A member was active (posted, ran a command or reacted) on a UTC day (`day` is its
    midnight): a rollup of `messages` and `reactions` written with them, so digests count
    active members over weeks without reading every message."""

    __tablename__ = "member_days"

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    day: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)


class MemberEvent(Base):
    """A join or a leave; a redelivered one (same group, member, kind, time) counts once."""

    __tablename__ = "member_events"
    __table_args__ = (
        UniqueConstraint("group_id", "member_id", "kind", "at"),
        Index("ix_member_events_community_id_at", "community_id", "at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReactionLog(Base):
    """A reaction; the same member's same emoji on the same message counts once."""

    __tablename__ = "reactions"
    __table_args__ = (
        UniqueConstraint(
            "community_id",
            "platform",
            "channel_id",
            "message_id",
            "member_id",
            "emoji",
            name="uq_reactions_once",
        ),
        Index("ix_reactions_activity", "community_id", "at", "member_id"),
        # Digests: a member's reactions in a window (retention, lifecycle segments).
        Index("ix_reactions_member_id_at", "member_id", "at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    platform: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(64))
    emoji: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
