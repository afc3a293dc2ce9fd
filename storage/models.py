"""Typed SQLAlchemy 2 models: the schema of record (migrations must match it)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Account",
    "Base",
    "Community",
    "DigestRun",
    "FaqEntry",
    "FaqQuestion",
    "FaqUnanswered",
    "Group",
    "LevelRole",
    "Member",
    "MemberAccount",
    "MemberDay",
    "MemberEvent",
    "MessageLog",
    "PointsLedger",
    "PointsPeriod",
    "PointsTotal",
    "ReactionLog",
    "Schedule",
    "ScheduleRun",
    "ThanksGiven",
    "UTCDateTime",
]

# Stable constraint names so migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    SQLite has no time zone type, so values are stored as naive UTC and made aware on read;
    a naive value on write is a bug and is refused.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to UTC (naive UTC for SQLite)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored; use UTC-aware times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return the stored value as an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base with the shared naming convention."""

    metadata = MetaData(naming_convention=NAMING)


class Community(Base):
    """Hearth's unit: points, FAQ, schedules and digests belong to one community."""

    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Where moderator alerts go: a channel (and topic) of one of the community's groups.
    mod_platform: Mapped[str | None] = mapped_column(String(16))
    mod_group: Mapped[str | None] = mapped_column(String(64))
    mod_channel: Mapped[str | None] = mapped_column(String(64))
    mod_thread: Mapped[str | None] = mapped_column(String(64))


class Group(Base):
    """One place on a platform (a Discord guild, a Telegram group), mapped to a community."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Account(Base):
    """A platform user (platform + user id), shared by every community they are in."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)


class Member(Base):
    """A person in a community; one or more accounts belong to them there."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MemberAccount(Base):
    """Which member an account is in a community (linking accounts is a data change)."""

    __tablename__ = "member_accounts"
    __table_args__ = (UniqueConstraint("community_id", "account_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)


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


class PointsTotal(Base):
    """A member's running totals, kept beside the ledger for fast reads and leaderboards.

    `version` makes every update a compare-and-swap, so two processes (or two concurrent
    messages) can never both apply a change computed from the same state.
    """

    __tablename__ = "points_totals"
    __table_args__ = (Index("ix_points_totals_community_id_xp", "community_id", "xp"),)

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    xp: Mapped[int] = mapped_column(BigInteger, default=0)
    level: Mapped[int] = mapped_column(Integer, default=0)
    reputation: Mapped[int] = mapped_column(Integer, default=0)
    day: Mapped[str | None] = mapped_column(String(10))
    day_xp: Mapped[int] = mapped_column(Integer, default=0)
    day_reaction_xp: Mapped[int] = mapped_column(Integer, default=0)
    last_message_xp_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    streak: Mapped[int] = mapped_column(Integer, default=0)
    last_checkin_day: Mapped[str | None] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer, default=0)


class PointsLedger(Base):
    """Append-only: every change of XP or reputation, with its reason and source."""

    __tablename__ = "points_ledger"
    __table_args__ = (
        Index("ix_points_ledger_community_id_at", "community_id", "at"),
        Index("ix_points_ledger_member_id_at", "member_id", "at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    currency: Mapped[str] = mapped_column(String(8))
    amount: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(200))
    actor_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    note: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ThanksGiven(Base):
    """One row per giver → receiver per local day: thanks count once a day per pair."""

    __tablename__ = "thanks_given"
    __table_args__ = (UniqueConstraint("giver_id", "receiver_id", "day"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    giver_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    receiver_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    day: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class LevelRole(Base):
    """A platform role granted on reaching a level, per platform group."""

    __tablename__ = "level_roles"
    __table_args__ = (UniqueConstraint("community_id", "platform", "group_external_id", "level"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    platform: Mapped[str] = mapped_column(String(16))
    group_external_id: Mapped[str] = mapped_column(String(64))
    level: Mapped[int] = mapped_column(Integer)
    role_id: Mapped[str] = mapped_column(String(64))


class PointsPeriod(Base):
    """XP gained per member per local week and month, kept with each change so weekly and
    monthly leaderboards are one indexed query, like the all-time one."""

    __tablename__ = "points_periods"
    __table_args__ = (Index("ix_points_periods_board", "community_id", "kind", "start", "xp"),)

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    start: Mapped[str] = mapped_column(String(10), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    xp: Mapped[int] = mapped_column(BigInteger, default=0)


class FaqEntry(Base):
    """An admin-written answer, with counters of how it is used."""

    __tablename__ = "faq_entries"
    __table_args__ = (UniqueConstraint("community_id", "key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    #: Stable name for files (`hearth faq import/export`): the file's id, or "faq-<id>".
    key: Mapped[str] = mapped_column(String(100))
    answer: Mapped[str] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(String(500), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    author_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    times_answered: Mapped[int] = mapped_column(Integer, default=0)
    helpful: Mapped[int] = mapped_column(Integer, default=0)
    not_helpful: Mapped[int] = mapped_column(Integer, default=0)


class FaqQuestion(Base):
    """One phrasing of an entry's question."""

    __tablename__ = "faq_questions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("faq_entries.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)


class FaqUnanswered(Base):
    """A question nobody's FAQ entry matched confidently (text only if text is kept)."""

    __tablename__ = "faq_unanswered"
    __table_args__ = (
        UniqueConstraint("community_id", "platform", "channel_id", "message_id"),
        Index("ix_faq_unanswered_community_id_at", "community_id", "at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    platform: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str | None] = mapped_column(Text)
    best_entry_id: Mapped[int | None] = mapped_column(Integer)
    best_score: Mapped[float] = mapped_column(Float, default=0.0)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Schedule(Base):
    """A post that repeats (cron, daily/weekly/monthly, every n) or happens once.

    `next_run_at` is computed from the trigger and `last_run_at` is the planned time of the
    newest run claimed; the claim is a conditional update on both, so two processes sharing
    the database never take the same run.
    """

    __tablename__ = "schedules"
    __table_args__ = (Index("ix_schedules_paused_next_run_at", "paused", "next_run_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    group_id: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(64))
    thread_id: Mapped[str | None] = mapped_column(String(64))
    #: The trigger as written (``daily 09:00``, ``0 9 * * MON-FRI``…), without the time zone.
    expression: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    #: text, image, poll or rotate.
    kind: Mapped[str] = mapped_column(String(8))
    #: The text; an image's caption; a poll's question.
    text: Mapped[str] = mapped_column(Text, default="")
    image: Mapped[str | None] = mapped_column(String(2000))
    #: A poll's options, or the items of a rotating list.
    items: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Items of a rotating list posted so far (the next one is items[position % len]).
    position: Mapped[int] = mapped_column(Integer, default=0)
    promo: Mapped[bool] = mapped_column(Boolean, default=False)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    pause_reason: Mapped[str | None] = mapped_column(String(500))
    author_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ScheduleRun(Base):
    """One run of a schedule: planned, posted (or missed, blocked, failed), with the message
    id so digests can report what was posted and how members reacted to it.

    The unique key on (schedule, planned time) makes a run exist once whatever races.
    """

    __tablename__ = "schedule_runs"
    __table_args__ = (
        UniqueConstraint("schedule_id", "planned_at"),
        Index("ix_schedule_runs_community_id_planned_at", "community_id", "planned_at"),
        Index("ix_schedule_runs_outcome_retry_at", "outcome", "retry_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    #: Kept (as NULL) when the schedule is removed, so the history stays.
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id", ondelete="SET NULL"))
    platform: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(64))
    promo: Mapped[bool] = mapped_column(Boolean, default=False)
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: pending, posted, retrying, failed, missed or blocked.
    outcome: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message_id: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(String(500))


class DigestRun(Base):
    """One digest of one period of a community: claimed before it is sent, so two processes
    sharing the database never send it twice (the unique key decides the race)."""

    __tablename__ = "digest_runs"
    __table_args__ = (UniqueConstraint("community_id", "kind", "period_start"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    #: day or week.
    kind: Mapped[str] = mapped_column(String(8))
    #: The period's first local day (ISO date).
    period_start: Mapped[str] = mapped_column(String(10))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: pending (claimed), sent or failed.
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(String(500))
