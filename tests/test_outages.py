"""Faults a community must survive, through the real python-telegram-bot client and the fake
Bot API: PostgreSQL stopped and started again mid-run, a NUL character on PostgreSQL, and
background tasks that fail (issue 25 items 1, 2, 3)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import asyncpg
import pytest
from sqlalchemy import select

from adapters.telegram_adapter import TelegramAdapter
from bot.backlog import Backlog, Held
from bot.bootstrap import build_engine
from bot.clock import ManualClock
from bot.engine import Engine
from bot.events import Author, MemberJoined, Message, Role
from bot.features.schedule.feature import ScheduleFeature
from storage.activity import purge_message_text
from storage.models import Community, Member, MessageLog
from tests.conftest import Harness, _fresh_postgres_url, make_settings
from tests.fakes.telegram_server import FakeTelegram
from tests.postgres import Cluster, PostgresServer, postgres_cluster

pytestmark = pytest.mark.postgres

GROUP = -1002500
_ids = count(700)


def user(n: int, name: str | None = None) -> dict[str, Any]:
    return {"id": n, "is_bot": False, "first_name": name or f"Member {n}"}


def message(text: str, sender: dict[str, Any], title: str = "Tea house") -> dict[str, Any]:
    body: dict[str, Any] = {
        "message_id": next(_ids),
        "date": int(time.time()),
        "chat": {"id": GROUP, "type": "supergroup", "title": title},
        "from": sender,
        "text": text,
    }
    if text.startswith("/"):
        body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"message": body}


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    """Wait for a state the bot reaches asynchronously (polled, no fixed sleeps)."""
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.02)


class Hearth:
    """Hearth with its Telegram adapter, running against the fake Bot API."""

    def __init__(self, fake: FakeTelegram, engine: Engine, task: asyncio.Task[None]) -> None:
        self.fake, self.engine, self.task = fake, engine, task

    async def rows(self) -> list[MessageLog]:
        await self.engine.services.writer.flush()
        async with self.engine.services.database.session() as session:
            return list((await session.execute(select(MessageLog))).scalars())

    async def until_rows(self, expected: int) -> list[MessageLog]:
        found: list[MessageLog] = []

        async def reached() -> bool:
            nonlocal found
            try:
                found = await self.rows()
            except Exception:  # the database may still be starting
                return False
            return len(found) >= expected

        await eventually(reached)
        return found

    def texts(self, chat_id: int = GROUP) -> list[str]:
        return [m["text"] for m in self.fake.sent("sendMessage") if m["chat_id"] == str(chat_id)]


async def start_hearth(url: str, clock: ManualClock, **sections: Any) -> Hearth:
    fake = FakeTelegram()
    base_url = await fake.start()
    settings = make_settings(
        url, telegram={"token": fake.token, "api_base_url": base_url}, **sections
    )
    engine = build_engine(settings, clock=clock)
    await engine.start()
    adapter = TelegramAdapter(settings, clock, retry_delays=(0.0,))
    engine.attach(adapter.name, adapter.perform, adapter.member_role)
    task = asyncio.create_task(adapter.run(engine))
    await fake.wait_for("getUpdates")
    return Hearth(fake, engine, task)


async def stop_hearth(hearth: Hearth) -> None:
    hearth.task.cancel()
    await asyncio.gather(hearth.task, return_exceptions=True)
    await hearth.engine.stop()
    await hearth.fake.stop()


@pytest.fixture
def own_postgres() -> Iterator[Cluster]:
    """A PostgreSQL server of this test's own, which it may stop and start."""
    with postgres_cluster() as cluster:
        yield cluster


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


async def _database(server: PostgresServer) -> str:
    connection = await asyncpg.connect(
        host=str(server.socket_dir), user=server.user, database="postgres"
    )
    try:
        await connection.execute('CREATE DATABASE "outage"')
    finally:
        await connection.close()
    return server.url("outage")


async def test_messages_sent_while_postgresql_is_down_are_all_stored_after_it(
    own_postgres: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock(datetime.now(UTC))
    hearth = await start_hearth(await _database(own_postgres.server), clock)
    try:
        alice = user(11, "Alice")
        before = message("hello before the outage", alice)
        update_id = await hearth.fake.push(before)
        await hearth.until_rows(1)

        async def confirmed() -> bool:  # processed, committed and confirmed: Hearth is idle
            return hearth.fake.confirmed > update_id

        await eventually(confirmed)
        own_postgres.stop()
        # Members Hearth never saw (resolving them needs the database) and Alice, known.
        during = [
            message(f"message {n} while the database is down", user(20 + n % 4) if n % 3 else alice)
            for n in range(10)
        ]
        during.append(message("/rank", user(40, "Newcomer")))
        first_held = await hearth.fake.push(during[0])
        for update in during[1:5]:
            await hearth.fake.push(update)
        await hearth.fake.push(during[2])  # delivered twice: the copy is dropped, not the held
        for update in during[5:]:
            await hearth.fake.push(update)
        # The command (sent last) is told at once that it will run later; no answer yet.
        notice = await hearth.fake.wait_for("sendMessage", timeout=20)
        assert [m["text"] for m in notice] == [
            "Hearth is having trouble with its database right now. Your command will run as "
            "soon as the database is back."
        ]
        with pytest.raises(ConnectionError):  # what an adapter awaits before confirming
            await hearth.engine.commit()
        assert len(hearth.engine.backlog) == len(during)

        # Nothing held is confirmed to Telegram: the poller waits for the commit (a crash now
        # would have it all delivered again) instead of fetching on and confirming.
        async def waiting_to_commit() -> bool:
            return any("cannot commit processed updates" in r.getMessage() for r in caplog.records)

        await eventually(waiting_to_commit)
        assert hearth.fake.confirmed <= first_held
        own_postgres.start()

        rows = await hearth.until_rows(1 + len(during))
        stored = sorted(int(row.message_id) for row in rows)
        sent = sorted(int(u["message"]["message_id"]) for u in [before, *during])
        assert stored == sent  # every message, none twice
        texts = {row.message_id: row.text for row in rows}
        for update in during:
            body = update["message"]
            assert texts[str(body["message_id"])] == body["text"]
        answers = await hearth.fake.wait_for("sendMessage", 2)
        assert answers[1]["text"].startswith("Newcomer — level 0")  # the held /rank, answered
        assert len(hearth.engine.backlog) == 0
        async with hearth.engine.services.database.session() as session:
            members = (await session.execute(select(Member.id))).scalars().all()
        assert len(members) == 1 + 4 + 1  # Alice, the four new members, the newcomer
        assert not [r for r in caplog.records if "event dropped" in r.getMessage()]
    finally:
        await stop_hearth(hearth)


async def test_a_nul_character_on_postgresql_costs_only_itself(postgres: PostgresServer) -> None:
    clock = ManualClock(datetime.now(UTC))
    hearth = await start_hearth(await _fresh_postgres_url(postgres), clock)
    try:
        await hearth.fake.push(message("poison\x00 here", user(11, "Al\x00ice"), "Tea\x00house"))
        later = [message(f"fine message {n}", user(12 + n % 2)) for n in range(5)]
        for update in later:
            await hearth.fake.push(update)
        rows = await hearth.until_rows(6)
        assert sorted(row.text or "" for row in rows) == [
            *(f"fine message {n}" for n in range(5)),
            "poison here",
        ]
        async with hearth.engine.services.database.session() as session:
            names = set((await session.execute(select(Member.display_name))).scalars())
            communities = set((await session.execute(select(Community.name))).scalars())
        assert "Alice" in names
        assert communities == {"Teahouse"}
        assert hearth.engine.services.writer.set_aside == 0
    finally:
        await stop_hearth(hearth)


def _fail_once(real: Callable[..., Awaitable[Any]], gate: asyncio.Event | None = None) -> Any:
    failures = [RuntimeError("an unexpected bug")]

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        if failures:
            if gate is not None:
                await gate.wait()
            raise failures.pop()
        return await real(*args, **kwargs)

    return flaky


async def test_a_schedule_loop_that_fails_is_restarted_and_still_posts(
    postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("bot.tasks.restart_delay", lambda attempt: 0.01)
    clock = ManualClock(datetime.now(UTC))
    url = await _fresh_postgres_url(postgres)
    hearth = await start_hearth(url, clock, schedule={"tick_seconds": 300})
    try:
        root = user(99, "Root")
        hearth.fake.set_status(GROUP, 99, "creator")
        when = f"{clock.now() + timedelta(hours=1):%Y-%m-%d %H:%M}"
        await hearth.fake.push(message(f"/schedule add {when} | Morning tea!", root))
        (added,) = await hearth.fake.wait_for("sendMessage")
        assert added["text"].startswith("Scheduled"), added["text"]
        schedule = hearth.engine.feature(ScheduleFeature)
        assert schedule is not None
        monkeypatch.setattr(schedule.runner, "tick", _fail_once(schedule.runner.tick))
        clock.advance(timedelta(hours=1, minutes=1))
        with caplog.at_level(logging.ERROR, logger="bot.tasks"):
            schedule.wake()
            posted = await hearth.fake.wait_for("sendMessage", 2, timeout=10)
        assert posted[1]["text"] == "Morning tea!"
        (failure,) = [r for r in caplog.records if r.name == "bot.tasks"]
        assert "schedule failed unexpectedly; restarting" in failure.getMessage()
        assert failure.exc_info is not None
    finally:
        await stop_hearth(hearth)


async def test_the_text_purger_survives_an_unexpected_error(
    postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An error the purger did not expect used to end it for the life of the process: old
    message text was then kept for ever."""
    monkeypatch.setattr("bot.tasks.restart_delay", lambda attempt: 0.01)
    gate = asyncio.Event()
    flaky = _fail_once(purge_message_text, gate)
    monkeypatch.setattr("bot.features.activity.purge_message_text", flaky)
    # Hearth's clock is past the retention period of everything sent now.
    clock = ManualClock(datetime.now(UTC) + timedelta(days=31))
    hearth = await start_hearth(await _fresh_postgres_url(postgres), clock)
    try:
        await hearth.fake.push(message("an old secret", user(11)))
        (row,) = await hearth.until_rows(1)
        assert row.text == "an old secret"
        gate.set()  # the purge that was waiting fails now; the restarted one forgets the text

        async def forgotten() -> bool:
            return [r.text for r in await hearth.rows()] == [None]

        await eventually(forgotten, timeout=10)
        assert any("activity-purge failed unexpectedly" in r.getMessage() for r in caplog.records)
    finally:
        await stop_hearth(hearth)


def test_the_backlog_is_bounded_and_drops_the_oldest_with_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backlog = Backlog(capacity=3)
    events = [
        Held(MemberJoined("telegram", "g", Author(str(n), f"m{n}"), datetime.now(UTC)), (str(n),))
        for n in range(5)
    ]
    with caplog.at_level(logging.ERROR, logger="bot.backlog"):
        for held in events:
            backlog.hold(held)
    assert list(backlog) == events[2:]
    assert backlog.dropped == 2
    (line,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "dropped the oldest" in line.getMessage()
    backlog.done(events[3])  # not the oldest: nothing happens
    assert backlog.oldest() is events[2]


async def test_a_backfilled_message_held_through_an_outage_still_does_nothing(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message read back from history counts but is never answered or acted on — also when
    the database was down and it ran late from the backlog (it used to act then)."""
    h = harness
    await h.chat.command("root", "/mod words add free money", role=Role.ADMIN)
    h.chat.performed.clear()

    def spam(n: int) -> Message:
        return Message(
            h.chat.place(),
            f"b{n}",
            Author("7", "spammer"),
            "get free money now",
            h.clock.now(),
            backfilled=True,
        )

    assert await h.engine.handle(spam(1)) == []  # would be a deletion and a warning live
    real_context, real_reachable = h.engine._context, h.database.reachable

    async def down(event: object) -> object:
        raise OSError("connection refused")

    async def unreachable() -> bool:
        return False

    monkeypatch.setattr(h.engine, "_context", down)
    monkeypatch.setattr(h.database, "reachable", unreachable)
    assert await h.chat.send(spam(2)) == []
    assert len(h.engine.backlog) == 1
    monkeypatch.setattr(h.engine, "_context", real_context)
    monkeypatch.setattr(h.database, "reachable", real_reachable)
    assert await h.engine.drain()
    assert h.chat.performed == []
    await h.engine.services.writer.flush()
    async with h.database.session() as session:
        stored = (await session.execute(select(MessageLog.message_id))).scalars().all()
    assert {"b1", "b2"} <= set(stored)
