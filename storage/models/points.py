"""Points: totals, the ledger, thanks, level roles and per-period totals."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, Id, UTCDateTime

__all__ = ["LevelRole", "PointsLedger", "PointsPeriod", "PointsTotal", "ThanksGiven"]


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
