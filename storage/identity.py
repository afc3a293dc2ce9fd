"""Communities, groups, accounts and members: who and where, resolved once and cached above."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String, cast, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Account,
    Community,
    FaqAnswer,
    FaqUnanswered,
    Group,
    Member,
    MemberAccount,
    MessageLog,
    ModerationAction,
    ReactionLog,
    Schedule,
    ScheduleRun,
)

__all__ = [
    "FORGOTTEN_NAME",
    "ChannelRef",
    "CommunityInfo",
    "GroupInfo",
    "community_groups",
    "ensure_group",
    "ensure_member",
    "find_members",
    "get_community",
    "list_communities",
    "member_account",
    "move_group",
    "update_community",
]

#: A member's name after /forgetme; such a member is no longer found by name or id.
FORGOTTEN_NAME = "(forgotten member)"


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """A channel on a platform, as the platform names it."""

    platform: str
    group: str
    channel: str
    thread: str | None = None


@dataclass(frozen=True, slots=True)
class CommunityInfo:
    """A community's identity and settings as the engine needs them."""

    id: int
    name: str
    language: str
    timezone: str
    mod_channel: ChannelRef | None = None
    #: Settings changed with `/config`, sorted by key (see `bot.overrides`).
    overrides: tuple[tuple[str, Any], ...] = ()

    def override(self, key: str, default: Any = None) -> Any:
        """The value `/config` set for `key`, or `default`."""
        return next((value for k, value in self.overrides if k == key), default)


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """A platform group and the community it belongs to."""

    id: int
    community: CommunityInfo


def _info(row: Community) -> CommunityInfo:
    mod = None
    if row.mod_platform and row.mod_group and row.mod_channel:
        mod = ChannelRef(row.mod_platform, row.mod_group, row.mod_channel, row.mod_thread)
    return CommunityInfo(
        id=row.id,
        name=row.name,
        language=row.language,
        timezone=row.timezone,
        mod_channel=mod,
        overrides=tuple(
            (key, tuple(value) if isinstance(value, list) else value)
            for key, value in sorted((row.settings or {}).items())
        ),
    )


async def _find_group(session: AsyncSession, platform: str, external_id: str) -> GroupInfo | None:
    query = (
        select(Group.id, Community)
        .join(Community, Community.id == Group.community_id)
        .where(Group.platform == platform, Group.external_id == external_id)
    )
    row = (await session.execute(query)).first()
    return None if row is None else GroupInfo(id=row[0], community=_info(row[1]))


async def ensure_group(
    session: AsyncSession,
    *,
    platform: str,
    external_id: str,
    name: str,
    language: str,
    timezone: str,
    now: datetime,
) -> GroupInfo:
    """Return the group, creating it with a community of its own the first time it is seen.

    A community still named after the group's id (first seen through an event without the
    title, such as a join) takes the group's title. Safe when two processes see a new group at
    once: the loser of the insert race re-reads.
    """
    found = await _find_group(session, platform, external_id)
    if found is not None and found.community.name == external_id and name != external_id:
        await session.execute(
            update(Community).where(Community.id == found.community.id).values(name=name)
        )
        await session.execute(
            update(Group)
            .where(Group.platform == platform, Group.external_id == external_id)
            .values(name=name)
        )
        found = GroupInfo(id=found.id, community=replace(found.community, name=name))
    if found is not None:
        return found
    try:
        async with session.begin_nested():
            community = Community(name=name, language=language, timezone=timezone, created_at=now)
            session.add(community)
            await session.flush()
            session.add(
                Group(
                    community_id=community.id,
                    platform=platform,
                    external_id=external_id,
                    name=name,
                    created_at=now,
                )
            )
    except IntegrityError:
        pass
    found = await _find_group(session, platform, external_id)
    if found is None:  # pragma: no cover - the insert or the competitor's insert must exist
        raise RuntimeError(f"group {platform}:{external_id} vanished while being created")
    return found


async def _find_member(session: AsyncSession, community_id: int, account_id: int) -> int | None:
    query = select(MemberAccount.member_id).where(
        MemberAccount.community_id == community_id, MemberAccount.account_id == account_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def _ensure_account(
    session: AsyncSession, platform: str, external_id: str, name: str, is_bot: bool
) -> int:
    query = select(Account.id).where(
        Account.platform == platform, Account.external_id == external_id
    )
    found = (await session.execute(query)).scalar_one_or_none()
    if found is not None:
        return found
    try:
        async with session.begin_nested():
            account = Account(platform=platform, external_id=external_id, name=name, is_bot=is_bot)
            session.add(account)
            await session.flush()
            return account.id
    except IntegrityError:
        return (await session.execute(query)).scalar_one()


async def ensure_member(
    session: AsyncSession,
    *,
    community_id: int,
    platform: str,
    user_id: str,
    name: str,
    is_bot: bool,
    now: datetime,
) -> int:
    """Return the member id of a platform account in a community, creating both if new.

    By default each account is its own member; linking accounts later re-points
    `member_accounts` rows without touching the activity log's shape.
    """
    account_id = await _ensure_account(session, platform, user_id, name, is_bot)
    member_id = await _find_member(session, community_id, account_id)
    if member_id is not None:
        return member_id
    try:
        async with session.begin_nested():
            member = Member(
                community_id=community_id, display_name=name, is_bot=is_bot, created_at=now
            )
            session.add(member)
            await session.flush()
            session.add(
                MemberAccount(community_id=community_id, account_id=account_id, member_id=member.id)
            )
            await session.flush()
            return member.id
    except IntegrityError:
        found = await _find_member(session, community_id, account_id)
        if found is None:  # pragma: no cover
            raise
        return found


async def get_community(session: AsyncSession, *, community_id: int) -> CommunityInfo | None:
    """Return one community's settings, or None if there is no such community."""
    row = await session.get(Community, community_id)
    return None if row is None else _info(row)


async def update_community(
    session: AsyncSession,
    *,
    community_id: int,
    language: str | None = None,
    timezone: str | None = None,
    mod_channel: ChannelRef | bool | None = False,
) -> None:
    """Change a community's settings; None (False for `mod_channel`) leaves a value as it is.

    `mod_channel=None` clears the moderators' channel.
    """
    values: dict[str, str | None] = {
        key: value
        for key, value in (("language", language), ("timezone", timezone))
        if value is not None
    }
    if mod_channel is None or isinstance(mod_channel, ChannelRef):
        ref = mod_channel
        values["mod_platform"] = ref.platform if ref else None
        values["mod_group"] = ref.group if ref else None
        values["mod_channel"] = ref.channel if ref else None
        values["mod_thread"] = ref.thread if ref else None
    if values:
        await session.execute(
            update(Community).where(Community.id == community_id).values(**values)
        )


async def set_override(
    session: AsyncSession, *, community_id: int, key: str, value: Any | None
) -> None:
    """Set one `/config` setting of a community (None: back to the config file's value)."""
    row = await session.get(Community, community_id, with_for_update=True)
    if row is None:
        raise LookupError(f"community {community_id} does not exist")
    changed = {k: v for k, v in (row.settings or {}).items() if k != key}
    if value is not None:
        changed[key] = value
    row.settings = changed or None


async def move_group(
    session: AsyncSession,
    *,
    platform: str,
    old_external_id: str,
    new_external_id: str,
    message_id_shift: int = 0,
) -> bool:
    """Give a group a new platform id (a Telegram group upgraded to a supergroup), keeping
    its community; its logged messages, reactions, FAQ answers and questions, moderation
    records and scheduled posts move to the new id too.

    `message_id_shift` is added to the moved rows' (numeric) message ids: a supergroup numbers
    its messages from 1 again, so the old group's ids must move out of the way (Telegram
    Desktop's exports shift them by -1,000,000,000, and so does the Telegram adapter).

    Returns False when there is nothing to move or the new id is already a separate group.
    """
    group = (
        await session.execute(
            select(Group).where(Group.platform == platform, Group.external_id == old_external_id)
        )
    ).scalar_one_or_none()
    taken = await _find_group(session, platform, new_external_id)
    if group is None or taken is not None:
        return False
    group.external_id = new_external_id

    def shifted(column: Any) -> Any:
        return cast(cast(column, BigInteger) + message_id_shift, String)

    moved: tuple[Any, ...] = (
        MessageLog,
        ReactionLog,
        FaqUnanswered,
        FaqAnswer,
        ModerationAction,
        ScheduleRun,
    )
    for model in moved:
        values: dict[str, Any] = {"channel_id": new_external_id}
        if message_id_shift:
            values["message_id"] = shifted(model.message_id)
            if model is MessageLog:
                values["reply_to"] = shifted(MessageLog.reply_to)
        if model is ModerationAction:
            values["group_id"] = new_external_id
        await session.execute(
            update(model)
            .where(
                model.community_id == group.community_id,
                model.platform == platform,
                model.channel_id == old_external_id,
            )
            .values(values)
            .execution_options(synchronize_session=False)
        )
    await session.execute(
        update(Community)
        .where(
            Community.id == group.community_id,
            Community.mod_platform == platform,
            Community.mod_group == old_external_id,
        )
        .values(mod_group=new_external_id, mod_channel=new_external_id)
    )
    for column in (Schedule.group_id, Schedule.channel_id):  # scheduled posts follow it
        await session.execute(
            update(Schedule)
            .where(
                Schedule.community_id == group.community_id,
                Schedule.platform == platform,
                column == old_external_id,
            )
            .values({column.key: new_external_id})
        )
    return True


async def find_members(
    session: AsyncSession, *, community_id: int, platform: str, ref: str
) -> list[tuple[int, str]]:
    """Members of a community matching `ref`: a platform user id, or a name (any case).
    Members who asked to be forgotten are not found.

    Returns (member id, display name) pairs; more than one means the name is ambiguous.
    """
    folded = ref.strip().removeprefix("@").lower()
    query = (
        select(Member.id, Member.display_name)
        .join(MemberAccount, MemberAccount.member_id == Member.id)
        .join(Account, Account.id == MemberAccount.account_id)
        .where(Member.community_id == community_id, Member.display_name != FORGOTTEN_NAME)
        .where(
            ((Account.platform == platform) & (Account.external_id == ref.strip()))
            | (func.lower(Account.name) == folded)
            | (func.lower(Member.display_name) == folded)
        )
        .distinct()
        .limit(5)
    )
    return [(int(row[0]), str(row[1])) for row in (await session.execute(query)).all()]


async def member_account(
    session: AsyncSession, *, member_id: int, platform: str
) -> tuple[str, str] | None:
    """(platform user id, name) of a member's account on `platform`, if they have one."""
    query = (
        select(Account.external_id, Account.name)
        .join(MemberAccount, MemberAccount.account_id == Account.id)
        .where(MemberAccount.member_id == member_id, Account.platform == platform)
        .limit(1)
    )
    row = (await session.execute(query)).first()
    return None if row is None else (str(row[0]), str(row[1]))


async def list_communities(session: AsyncSession) -> list[CommunityInfo]:
    """Every community, oldest first."""
    rows = (await session.execute(select(Community).order_by(Community.id))).scalars()
    return [_info(row) for row in rows]


async def community_groups(session: AsyncSession, *, community_id: int) -> list[tuple[str, str]]:
    """(platform, group id) of each group that forms a community, oldest first."""
    query = (
        select(Group.platform, Group.external_id)
        .where(Group.community_id == community_id)
        .order_by(Group.id)
    )
    return [(str(p), str(e)) for p, e in (await session.execute(query)).all()]
