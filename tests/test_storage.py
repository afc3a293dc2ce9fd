"""Storage on both backends: migrations match the models, identity, idempotent inserts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, select

from storage.activity import count_messages, insert_ignoring_duplicates, purge_message_text
from storage.database import Database, DatabaseError, head_revision
from storage.identity import (
    ensure_group,
    ensure_member,
    get_community,
    move_group,
    update_community,
)
from storage.models import Base, MemberAccount, MessageLog, ScheduleRun

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


async def test_migrations_reach_head_and_match_models(database: Database) -> None:
    assert await database.current_revision() == head_revision()

    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with database.engine.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_upgrade_twice_is_a_no_op(database: Database) -> None:
    await database.upgrade()
    assert await database.current_revision() == head_revision()


async def test_new_group_gets_its_own_community_once(database: Database) -> None:
    async with database.session() as session, session.begin():
        first = await ensure_group(
            session,
            platform="telegram",
            external_id="-100",
            name="Tea club",
            language="zh_Hans",
            timezone="Asia/Shanghai",
            now=NOW,
        )
        again = await ensure_group(
            session,
            platform="telegram",
            external_id="-100",
            name="renamed",
            language="en",
            timezone="UTC",
            now=NOW,
        )
        other = await ensure_group(
            session,
            platform="discord",
            external_id="-100",
            name="Other",
            language="en",
            timezone="UTC",
            now=NOW,
        )
    assert again == first
    assert first.community.name == "Tea club"
    assert first.community.language == "zh_Hans"
    assert other.community.id != first.community.id


async def test_accounts_map_to_members_and_can_be_linked(database: Database) -> None:
    async with database.session() as session, session.begin():
        group = await ensure_group(
            session,
            platform="discord",
            external_id="g1",
            name="G",
            language="en",
            timezone="UTC",
            now=NOW,
        )
        cid = group.community.id
        alice_discord = await ensure_member(
            session,
            community_id=cid,
            platform="discord",
            user_id="1",
            name="alice",
            is_bot=False,
            now=NOW,
        )
        assert alice_discord == await ensure_member(
            session,
            community_id=cid,
            platform="discord",
            user_id="1",
            name="alice",
            is_bot=False,
            now=NOW,
        )
        alice_telegram = await ensure_member(
            session,
            community_id=cid,
            platform="telegram",
            user_id="1",
            name="alice",
            is_bot=False,
            now=NOW,
        )
        assert alice_telegram != alice_discord
        # Linking is a data change: point the Telegram account at the Discord member.
        link = (
            await session.execute(
                select(MemberAccount).where(MemberAccount.member_id == alice_telegram)
            )
        ).scalar_one()
        link.member_id = alice_discord
    async with database.session() as session:
        assert alice_discord == await ensure_member(
            session,
            community_id=cid,
            platform="telegram",
            user_id="1",
            name="alice",
            is_bot=False,
            now=NOW,
        )


async def _seed(database: Database) -> tuple[int, int, int]:
    async with database.session() as session, session.begin():
        group = await ensure_group(
            session,
            platform="discord",
            external_id="g",
            name="G",
            language="en",
            timezone="UTC",
            now=NOW,
        )
        member = await ensure_member(
            session,
            community_id=group.community.id,
            platform="discord",
            user_id="u",
            name="u",
            is_bot=False,
            now=NOW,
        )
    return group.community.id, group.id, member


def _row(cid: int, gid: int, mid: int, message_id: str, sent_at: datetime) -> dict[str, object]:
    return {
        "community_id": cid,
        "group_id": gid,
        "member_id": mid,
        "platform": "discord",
        "channel_id": "c",
        "thread_id": None,
        "message_id": message_id,
        "reply_to": None,
        "mentions": 0,
        "sent_at": sent_at,
        "length": 5,
        "is_command": False,
        "text": "你好 hi",
    }


async def test_duplicate_messages_are_stored_once(database: Database) -> None:
    cid, gid, mid = await _seed(database)
    table = Base.metadata.tables["messages"]
    rows = [
        _row(cid, gid, mid, "1", NOW),
        _row(cid, gid, mid, "1", NOW),
        _row(cid, gid, mid, "2", NOW),
    ]
    async with database.session() as session, session.begin():
        await insert_ignoring_duplicates(session, table=table, rows=rows)
    async with database.session() as session, session.begin():
        await insert_ignoring_duplicates(session, table=table, rows=rows[:1])
    async with database.session() as session:
        assert await count_messages(session, community_id=cid) == 2


async def test_times_round_trip_as_aware_utc(database: Database) -> None:
    cid, gid, mid = await _seed(database)
    shanghai = NOW.astimezone(timezone(timedelta(hours=8)))
    async with database.session() as session, session.begin():
        await insert_ignoring_duplicates(
            session,
            table=Base.metadata.tables["messages"],
            rows=[_row(cid, gid, mid, "1", shanghai)],
        )
    async with database.session() as session:
        stored = (await session.execute(select(MessageLog.sent_at, MessageLog.text))).one()
    assert stored.sent_at == NOW
    assert stored.sent_at.tzinfo is not None
    assert stored.text == "你好 hi"


async def test_naive_times_are_refused(database: Database) -> None:
    cid, gid, mid = await _seed(database)
    with pytest.raises(Exception, match="naive datetime"):
        async with database.session() as session, session.begin():
            await insert_ignoring_duplicates(
                session,
                table=Base.metadata.tables["messages"],
                rows=[_row(cid, gid, mid, "1", NOW.replace(tzinfo=None))],
            )


async def test_purge_forgets_old_text_only(database: Database) -> None:
    cid, gid, mid = await _seed(database)
    rows = [_row(cid, gid, mid, "old", NOW - timedelta(days=100)), _row(cid, gid, mid, "new", NOW)]
    async with database.session() as session, session.begin():
        await insert_ignoring_duplicates(session, table=Base.metadata.tables["messages"], rows=rows)
        purged = await purge_message_text(session, before=NOW - timedelta(days=90))
    assert purged == 1
    async with database.session() as session:
        texts = dict((await session.execute(select(MessageLog.message_id, MessageLog.text))).all())
        assert texts == {"old": None, "new": "你好 hi"}
        assert await count_messages(session, community_id=cid) == 2


async def test_update_community_settings(database: Database) -> None:
    cid, _, _ = await _seed(database)
    async with database.session() as session, session.begin():
        await update_community(session, community_id=cid, timezone="Asia/Shanghai")
    async with database.session() as session:
        info = await get_community(session, community_id=cid)
    assert info is not None
    assert (info.language, info.timezone) == ("en", "Asia/Shanghai")


async def test_unreachable_database_is_a_clear_error(tmp_path: object) -> None:
    database = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    with pytest.raises(DatabaseError, match="cannot upgrade"):
        await database.upgrade()
    await database.close()


async def test_moving_a_group_shifts_its_message_ids(database: Database) -> None:
    """A Telegram group upgraded to a supergroup: its history moves to the new chat id with
    message ids shifted out of the way of the supergroup's, which start from 1 again."""
    cid, gid, mid = await _seed(database)
    table = Base.metadata.tables["messages"]
    first = {**_row(cid, gid, mid, "7", NOW), "channel_id": "g"}
    reply = {**_row(cid, gid, mid, "8", NOW), "channel_id": "g", "reply_to": "7"}
    async with database.session() as session, session.begin():
        await insert_ignoring_duplicates(session, table=table, rows=[first, reply])
        session.add(  # a scheduled post already made in the old group
            ScheduleRun(
                community_id=cid,
                platform="discord",
                channel_id="g",
                planned_at=NOW,
                outcome="posted",
                message_id="5",
            )
        )
        await session.flush()
        moved = await move_group(
            session,
            platform="discord",
            old_external_id="g",
            new_external_id="g2",
            message_id_shift=-1_000_000_000,
        )
    assert moved
    async with database.session() as session, session.begin():
        later = {**_row(cid, gid, mid, "7", NOW), "channel_id": "g2"}
        await insert_ignoring_duplicates(session, table=table, rows=[later])
    async with database.session() as session:
        rows = (
            await session.execute(
                select(MessageLog.channel_id, MessageLog.message_id, MessageLog.reply_to).order_by(
                    MessageLog.id
                )
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        ("g2", "-999999993", None),
        ("g2", "-999999992", "-999999993"),
        ("g2", "7", None),
    ]
    async with database.session() as session:
        run = (await session.execute(select(ScheduleRun.channel_id, ScheduleRun.message_id))).one()
    assert tuple(run) == ("g2", "-999999995")
