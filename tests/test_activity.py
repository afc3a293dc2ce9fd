"""The activity log on both databases: what is stored, once, batched, and forgotten on time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.clock import ManualClock
from bot.events import Role
from bot.features.activity import ActivityFeature
from storage import writer as writer_module
from storage.activity import count_member_events, count_reactions
from storage.models import MessageLog
from tests.conftest import Harness, make_settings, start_harness


async def _rows(h: Harness) -> list[MessageLog]:
    await h.engine.services.writer.flush()
    async with h.database.session() as session:
        query = select(MessageLog).order_by(MessageLog.id)
        return list((await session.execute(query)).scalars())


async def _community(h: Harness) -> int:
    return (await h.engine.services.directory.group(h.chat.platform, h.chat.group)).community.id


async def test_messages_are_logged_with_their_details(any_harness: Harness) -> None:
    h = any_harness
    await h.chat.say("alice", "大家好，今天天气不错", message_id="1", mentions=("bob",))
    h.clock.advance(timedelta(minutes=3))
    await h.chat.say("bob", "thanks @alice", message_id="2", reply_to="1", channel="random")
    await h.chat.command("alice", "/help", message_id="3")
    first, second, command = await _rows(h)
    assert (first.message_id, first.length, first.text) == ("1", 10, "大家好，今天天气不错")
    assert first.mentions == 1
    assert first.sent_at == h.clock.now() - timedelta(minutes=3)
    assert (second.reply_to, second.channel_id) == ("1", "random")
    assert second.member_id != first.member_id
    assert command.is_command
    assert command.text == "/help"
    assert command.member_id == first.member_id


async def test_joins_leaves_and_reactions_count_once(any_harness: Harness) -> None:
    h = any_harness
    at = h.clock.now()
    await h.chat.join("carol", at=at)
    await h.chat.join("carol", at=at)  # redelivered update
    await h.chat.leave("carol")
    await h.chat.say("alice", "hi", message_id="9")
    await h.chat.react("carol", "9", "👍")
    await h.chat.react("carol", "9", "👍")
    await h.chat.react("dave", "9", "👍")
    await h.engine.services.writer.flush()
    community = await _community(h)
    async with h.database.session() as session:
        assert await count_member_events(session, community_id=community, kind="join") == 1
        assert await count_member_events(session, community_id=community, kind="leave") == 1
        assert await count_reactions(session, community_id=community) == 2


async def test_text_is_not_kept_when_disabled(sqlite_url: str, clock: ManualClock) -> None:
    h = await start_harness(
        make_settings(sqlite_url, activity={"store_message_text": False}), clock
    )
    await h.chat.say("alice", "private thoughts")
    (row,) = await _rows(h)
    assert row.text is None
    assert row.length == len("private thoughts")
    await h.engine.stop()


async def test_old_text_is_forgotten_after_retention(sqlite_url: str, clock: ManualClock) -> None:
    h = await start_harness(make_settings(sqlite_url, activity={"text_retention_days": 30}), clock)
    await h.chat.say("alice", "old news", message_id="1")
    clock.advance(timedelta(days=29))
    await h.chat.say("alice", "fresh", message_id="2")
    clock.advance(timedelta(days=2))
    (activity,) = [f for f in h.engine.features if isinstance(f, ActivityFeature)]
    assert await activity.purge_expired_text() == 1
    assert [row.text for row in await _rows(h)] == [None, "fresh"]
    await h.engine.stop()


async def test_rows_are_written_in_batches_and_flushed_on_stop(
    sqlite_url: str, clock: ManualClock
) -> None:
    h = await start_harness(make_settings(sqlite_url, database={"batch_size": 3}), clock)
    writer = h.engine.services.writer
    for n in range(2):
        await h.chat.say("alice", f"message {n}")
    assert (writer.pending, writer.written) == (2, 0)
    await h.chat.say("alice", "third fills the batch")
    await writer.settle()  # the full batch is written in the background
    assert (writer.pending, writer.written) == (0, 3)
    await h.chat.say("alice", "queued at stop")
    await h.engine.stop()

    h2 = await start_harness(make_settings(sqlite_url), clock)
    assert len(await _rows(h2)) == 4
    await h2.engine.stop()


async def test_a_failed_batch_is_kept_and_retried(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real = writer_module.insert_ignoring_duplicates

    async def flaky(session, *, table, rows):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        await real(session, table=table, rows=rows)

    monkeypatch.setattr(writer_module, "insert_ignoring_duplicates", flaky)
    await harness.chat.say("alice", "do not lose me")
    with pytest.raises(OperationalError):
        await harness.engine.services.writer.flush()
    assert harness.engine.services.writer.pending == 1
    assert [row.text for row in await _rows(harness)] == ["do not lose me"]


async def test_commands_from_admins_are_logged_like_any_message(harness: Harness) -> None:
    await harness.chat.command("root", "/timezone Asia/Shanghai", role=Role.ADMIN)
    (row,) = await _rows(harness)
    assert row.text == "/timezone Asia/Shanghai"
