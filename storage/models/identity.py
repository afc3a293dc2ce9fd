"""Who is who: communities, their platform groups, accounts and members."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, Id, UTCDateTime

__all__ = ["Account", "Community", "Group", "Member", "MemberAccount"]


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
    #: Settings an admin changed with `/config` (key → value, see `bot.overrides`); None: none.
    settings: Mapped[dict[str, Any] | None] = mapped_column(JSON)


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
