"""Storage for history imports: bulk inserts that skip repeated rows (counting or returning
the new ones), bulk member creation, and placing an exported group in a chosen community."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.activity import Row, dialect_insert, insert_ignoring_duplicates
from storage.bulk import sqlite_insert_or_ignore
from storage.models import Account, Base, Community, Group, Member, MemberAccount, MemberDay

__all__ = [
    "GroupElsewhere",
    "add_active_days",
    "add_group_to_community",
    "ensure_members",
    "group_created_at",
    "insert_counting",
    "insert_new",
    "mark_bots",
    "prepare_bulk_writes",
]

_CHUNK = 500
_MEMBERS = Base.metadata.tables[Member.__tablename__]
_MEMBER_DAYS = Base.metadata.tables[MemberDay.__tablename__]


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
    columns = [table.c[name] for name in returning]
    statement = dialect_insert(session, table).on_conflict_do_nothing().returning(*columns)
    result = await session.execute(statement, list(rows))
    return [tuple(row) for row in result.all()]


#: SQLite page cache of a bulk-writing connection, in KiB (the default is 2 MiB): the message
#: indexes by member and by reply are written all over, and a 2 MiB cache re-reads their pages
#: for every batch (measured on 500,000 messages: the writer's wait fell by about half).
BULK_CACHE_KIB = 16_384
#: Pages of write-ahead log before a checkpoint on that connection (default 1,000): fewer,
#: larger checkpoints (each one syncs the file) while an import writes batch after batch.
BULK_CHECKPOINT_PAGES = 10_000


async def prepare_bulk_writes(session: AsyncSession) -> None:
    """Tune the session's connection for writing large batches (SQLite; nothing elsewhere).

    The settings belong to the pooled connection and stay with it; they are safe for any
    later use (a bigger cache, less frequent checkpoints), only less frugal.
    """
    if session.get_bind().dialect.name == "sqlite":
        connection = await session.connection()
        await connection.exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
        await connection.exec_driver_sql(f"PRAGMA wal_autocheckpoint={BULK_CHECKPOINT_PAGES}")


async def group_created_at(session: AsyncSession, *, group_id: int) -> datetime:
    """When Hearth first saw a group (live or by an import): logged history sent before it
    can only have come from an import."""
    query = select(Group.created_at).where(Group.id == group_id)
    return (await session.execute(query)).scalar_one()


async def insert_counting(session: AsyncSession, *, table: Table, rows: Sequence[Row]) -> int:
    """Insert `rows` (all with the same keys), skipping those that repeat a unique key; return
    how many were new (on SQLite through the driver's ``executemany``: `storage.bulk`)."""
    if not rows:
        return 0
    if session.get_bind().dialect.name == "sqlite":
        return await sqlite_insert_or_ignore(session, table=table, rows=rows)
    return len(await insert_new(session, table=table, rows=rows, returning=("community_id",)))


async def add_active_days(
    session: AsyncSession, *, messages: Iterable[Row] = (), reactions: Iterable[Row] = ()
) -> None:
    """`storage.activity.record_active_days` in bulk: the `member_days` rollup of logged
    message and reaction rows (call in the transaction that inserts them)."""
    # The UTC date of each row first (cheap), its midnight once per member and day.
    days = {
        (row["community_id"], row["member_id"], row["sent_at"].astimezone(UTC).date())
        for row in messages
    }
    days.update(
        (row["community_id"], row["member_id"], row["at"].astimezone(UTC).date())
        for row in reactions
    )
    rows = [
        {"community_id": c, "member_id": m, "day": datetime(d.year, d.month, d.day, tzinfo=UTC)}
        for c, m, d in sorted(days)
    ]
    await insert_counting(session, table=_MEMBER_DAYS, rows=rows)


async def mark_bots(
    session: AsyncSession, *, platform: str, users: Sequence[str], members: Sequence[int]
) -> None:
    """Mark accounts (platform user ids) and members as bots (never the other way)."""
    for start in range(0, len(users), _CHUNK):
        await session.execute(
            update(Account)
            .where(
                Account.platform == platform, Account.external_id.in_(users[start : start + _CHUNK])
            )
            .values(is_bot=True)
        )
    for start in range(0, len(members), _CHUNK):
        await session.execute(
            update(Member).where(Member.id.in_(members[start : start + _CHUNK])).values(is_bot=True)
        )


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
) -> dict[str, tuple[int, bool]]:
    """Member ids in a community of many platform accounts, creating those that are new, in a
    few statements (`storage.identity.ensure_member` does one account at a time).

    `accounts` are (user id, name, is bot). Returns user id → (member id, the account's stored
    bot flag: an existing account keeps the one it has, e.g. from the live adapter).
    Safe against a concurrent creator: the unique (community, account) key decides, and members
    created here that lost that race are deleted again.
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
    account_ids: dict[str, tuple[int, bool]] = {}
    users = [user for user, _, _ in accounts]
    for start in range(0, len(users), _CHUNK):
        chunk = users[start : start + _CHUNK]
        query = select(Account.external_id, Account.id, Account.is_bot).where(
            Account.platform == platform, Account.external_id.in_(chunk)
        )
        account_ids.update(
            {str(row[0]): (int(row[1]), bool(row[2])) for row in await session.execute(query)}
        )
    accounts_of = [account for account, _ in account_ids.values()]
    links = await _links(session, community_id, accounts_of)
    missing = [
        (user, name, bot) for user, name, bot in accounts if account_ids[user][0] not in links
    ]
    if missing:
        statement = insert(_MEMBERS).returning(_MEMBERS.c.id, sort_by_parameter_order=True)
        created_ids = await session.execute(
            statement,
            [
                {
                    "community_id": community_id,
                    "display_name": name[:200],
                    "is_bot": bot,
                    "created_at": now,
                }
                for _, name, bot in missing
            ],
        )
        created = [
            (account_ids[user][0], int(member))
            for (user, _, _), (member,) in zip(missing, created_ids.all(), strict=True)
        ]
        await insert_ignoring_duplicates(
            session,
            table=link_table,
            rows=[
                {"community_id": community_id, "account_id": account, "member_id": member}
                for account, member in created
            ],
        )
        links = await _links(session, community_id, accounts_of)
        lost = [member for account, member in created if links[account] != member]
        if lost:
            await session.execute(delete(Member).where(Member.id.in_(lost)))
    return {user: (links[account_ids[user][0]], account_ids[user][1]) for user in users}


async def _links(session: AsyncSession, community_id: int, accounts: list[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    for start in range(0, len(accounts), _CHUNK):
        query = select(MemberAccount.account_id, MemberAccount.member_id).where(
            MemberAccount.community_id == community_id,
            MemberAccount.account_id.in_(accounts[start : start + _CHUNK]),
        )
        found.update({int(row[0]): int(row[1]) for row in await session.execute(query)})
    return found
