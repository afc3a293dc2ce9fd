"""What Hearth posts: FAQ entries and unanswered questions, schedules and their runs, digests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, Id, UTCDateTime

__all__ = [
    "DigestRun",
    "DigestSubscription",
    "FaqAnswer",
    "FaqEntry",
    "FaqQuestion",
    "FaqUnanswered",
    "FaqVote",
    "Schedule",
    "ScheduleRun",
]


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


class FaqVote(Base):
    """A member's say on whether an entry's answer helped (👍/👎 or `/faq feedback`): one per
    member and entry, the latest counting; the entry's `helpful`/`not_helpful` sum them."""

    __tablename__ = "faq_votes"
    __table_args__ = (UniqueConstraint("entry_id", "member_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("faq_entries.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    helpful: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


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


class FaqAnswer(Base):
    """An automatic answer given: which entry answered which message, when (for digests)."""

    __tablename__ = "faq_answers"
    __table_args__ = (
        UniqueConstraint("community_id", "platform", "channel_id", "message_id"),
        Index("ix_faq_answers_community_id_at", "community_id", "at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    #: Kept (as NULL) when the entry is removed, so the history stays.
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("faq_entries.id", ondelete="SET NULL"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    platform: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
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
    sharing the database never send it twice (the unique key decides the race). A claim is
    renewed after each recipient; one left pending (its process stopped) expires and is
    taken over."""

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
    #: How many times it was claimed: a pending claim not renewed in time may be taken over,
    #: and the number tells the process that lost it to stop.
    attempts: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    #: The recipients already sent to (see `storage.digest.DigestClaim`).
    delivered: Mapped[list[str] | None] = mapped_column(JSON)


class DigestSubscription(Base):
    """A moderator's or admin's wish to receive a community's digest by private message."""

    __tablename__ = "digest_subscriptions"
    __table_args__ = (UniqueConstraint("community_id", "platform", "user_id", "kind"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    #: The account the digest is sent to.
    platform: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))
    #: day or week.
    kind: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
