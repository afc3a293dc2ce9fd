"""Storage for history imports: inserts that report which rows were new, and placing an
exported group in a chosen community."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.activity import Row, insert_ignoring_duplicates
from storage.models import Account, Base, Community, Group, Member, MemberAccount

__all__ = [
    "GroupElsewhere",
    "add_group_to_community",
    "ensure_members",
    "insert_new",
]

_CHUNK = 500


class GroupElsewhere(Exception):
    """The platform group already belongs to another community."""

    def __init__(self, community_name: str) -> None:
        super().__init__(community_name)
        self.community_name = community_name


async def insert_new(
    session: AsyncSession, *, table: Table, rows: Sequence[Row], returning: Sequence[str]
) -> list[tuple[Any, ...]]:
    """Insert `rows`, skipping those that repeat a unique key; return the `returning` columns
    of the rows that were new (``INSERT … ON CONFLICT DO NOTHING RETURNING``)."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    columns = [table.c[name] for name in returning]
    if dialect == "sqlite":
        statement: Any = sqlite.insert(table).on_conflict_do_nothing().returning(*columns)
    elif dialect == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing().returning(*columns)
    else:  # pragma: no cover
        raise RuntimeError(f"unsupported database dialect {dialect!r}")
    result = await session.execute(statement, list(rows))
    return [tuple(row) for row in result.all()]


async def add_group_to_community(
    session: AsyncSession,
    *,
    community_id: int,
    platform: str,
    external_id: str,
    name: str,
    now: datetime,
) -> None:
    """Make a platform group part of a community (nothing to do if it already is).

    Raises:
        GroupElsewhere: the group is already part of another community.
    """
    query = (
        select(Group.community_id, Community.name)
        .join(Community, Community.id == Group.community_id)
        .where(Group.platform == platform, Group.external_id == external_id)
    )
    found = (await session.execute(query)).first()
    if found is not None:
        if found[0] != community_id:
            raise GroupElsewhere(str(found[1]))
        return
    session.add(
        Group(
            community_id=community_id,
            platform=platform,
            external_id=external_id,
            name=name,
            created_at=now,
        )
    )
    await session.flush()


async def ensure_members(
    session: AsyncSession,
    *,
    community_id: int,
    platform: str,
    accounts: Sequence[tuple[str, str, bool]],
    now: datetime,
) -> dict[str, int]:
    """Member ids in a community of many platform accounts, creating those that are new, in a
    few statements (`storage.identity.ensure_member` does one account at a time).

    `accounts` are (user id, name, is bot). Returns user id → member id. Safe against a
    concurrent creator: the unique (community, account) key decides, and members created
    here that lost that race are deleted again.
    """
    account_table = Base.metadata.tables[Account.__tablename__]
    link_table = Base.metadata.tables[MemberAccount.__tablename__]
    await insert_ignoring_duplicates(
        session,
        table=account_table,
        rows=[
            {"platform": platform, "external_id": user, "name": name[:200], "is_bot": is_bot}
            for user, name, is_bot in accounts
        ],
    )
    account_ids: dict[str, int] = {}
    users = [user for user, _, _ in accounts]
    for start in range(0, len(users), _CHUNK):
        chunk = users[start : start + _CHUNK]
        query = select(Account.external_id, Account.id).where(
            Account.platform == platform, Account.external_id.in_(chunk)
        )
        account_ids.update({str(row[0]): int(row[1]) for row in await session.execute(query)})
    links = await _links(session, community_id, list(account_ids.values()))
    missing = [(user, name, bot) for user, name, bot in accounts if account_ids[user] not in links]
    if missing:
        created = []
        for user, name, bot in missing:
            member = Member(
                community_id=community_id, display_name=name[:200], is_bot=bot, created_at=now
            )
            session.add(member)
            created.append((account_ids[user], member))
        await session.flush()
        await insert_ignoring_duplicates(
            session,
            table=link_table,
            rows=[
                {"community_id": community_id, "account_id": account, "member_id": member.id}
                for account, member in created
            ],
        )
        links = await _links(session, community_id, list(account_ids.values()))
        lost = [member.id for account, member in created if links[account] != member.id]
        if lost:
            await session.execute(delete(Member).where(Member.id.in_(lost)))
    return {user: links[account_ids[user]] for user in users}


async def _links(session: AsyncSession, community_id: int, accounts: list[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    for start in range(0, len(accounts), _CHUNK):
        query = select(MemberAccount.account_id, MemberAccount.member_id).where(
            MemberAccount.community_id == community_id,
            MemberAccount.account_id.in_(accounts[start : start + _CHUNK]),
        )
        found.update({int(row[0]): int(row[1]) for row in await session.execute(query)})
    return found
