"""Discord backfill end to end: what was posted while Hearth was away is read from channel
history after start and after every reconnect, counted once and answered never (the real
discord.py client against the fake Discord, every feature on)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import discord
import pytest
import yarl
from sqlalchemy import func, select

from adapters.discord_adapter import DiscordAdapter
from bot.bootstrap import build_engine
from bot.clock import ManualClock
from bot.engine import Engine
from storage.database import Database
from storage.models import FaqAnswer, MessageLog, PointsLedger, PointsTotal
from tests.conftest import START, make_settings
from tests.fakes.discord_server import (
    GENERAL_ID,
    MODS_ID,
    REWARD_ROLE_ID,
    FakeDiscord,
    member,
)

ALICE = member(1001, "alice")
BOB = member(1003, "bob")
ROOT = member(1002, "root")
MANAGE_SERVER = 1 << 5
CALLBACK = r"/interactions/\d+/[^/]+/callback"
HISTORY = r"/channels/\d+/messages"
QUESTION = "How do I join the weekly raid?"
ANSWER = "Sign up in the raids channel before Friday."
#: The clock when Hearth first starts: an hour after the fake's first snowflakes.
BOOT = START + timedelta(hours=1)


@dataclass
class Hearth:
    """One running Hearth process (engine and adapter) on the shared database and fake."""

    engine: Engine
    adapter: DiscordAdapter
    task: asyncio.Task[None]

    async def backfilled(self, count: int = 1) -> None:
        """Wait until `count` backfills have finished."""
        async with asyncio.timeout(5):
            while self.adapter.backfills < count:
                await asyncio.sleep(0.005)

    async def logged(self, count: int) -> None:
        """Wait until `count` messages are logged (gateway events are handled in tasks)."""
        async with asyncio.timeout(5):
            while True:
                await self.engine.services.writer.flush()
                async with self.engine.services.database.session() as session:
                    logged = await session.scalar(select(func.count()).select_from(MessageLog))
                if (logged or 0) >= count:
                    return
                await asyncio.sleep(0.005)

    async def stop(self) -> None:
        """Disconnect and stop the engine (which writes everything queued)."""
        self.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.task
        await self.engine.stop()


@dataclass
class Counts:
    """What the database holds, read after Hearth stopped."""

    messages: list[str]
    xp: dict[int, int]
    ledger: int
    answers: int


Start = Callable[..., Awaitable[Hearth]]


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    server = FakeDiscord()
    await server.start()
    monkeypatch.setattr(discord.http.Route, "BASE", server.api_base)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url)
    )
    yield server
    await server.close()


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"


@pytest.fixture
async def start(url: str, clock: ManualClock) -> AsyncIterator[Start]:
    """Start Hearth (every feature) on the shared database; stopped after the test."""
    running: list[Hearth] = []
    clock.set(BOOT)

    async def launch(**discord_settings: Any) -> Hearth:
        settings = make_settings(
            url,
            discord={"token": "test-token", **discord_settings},
            # Every message earns 50 XP: two make level 1 (100 XP).
            points={"message_xp_min": 50, "message_xp_max": 50},
            schedule={"worker": False},
        )
        engine = build_engine(settings, clock=clock)
        await engine.start()
        adapter = DiscordAdapter(settings, clock, client_options={"guild_ready_timeout": 0.05})
        engine.attach(adapter.name, adapter.perform, adapter.member_role)
        task = asyncio.create_task(adapter.run(engine))
        hearth = Hearth(engine, adapter, task)
        running.append(hearth)
        async with asyncio.timeout(3):
            await adapter.ready.wait()
        return hearth

    yield launch
    for hearth in running:
        if not hearth.task.done():
            await hearth.stop()


async def _counts(url: str) -> Counts:
    database = Database(url)
    try:
        async with database.session() as session:
            ids = (await session.execute(select(MessageLog.message_id))).scalars()
            totals = (await session.execute(select(PointsTotal))).scalars()
            ledger = await session.scalar(select(func.count()).select_from(PointsLedger))
            answers = await session.scalar(select(func.count()).select_from(FaqAnswer))
            return Counts(
                messages=sorted(ids),
                xp={t.member_id: t.xp for t in totals},
                ledger=int(ledger or 0),
                answers=int(answers or 0),
            )
    finally:
        await database.close()


async def _command(fake: FakeDiscord, name: str, sub: str, *options: dict[str, Any]) -> str:
    before = len([c for c in fake.calls if c.path.endswith("/callback")])
    group = [{"type": 1, "name": sub, "options": list(options)}]
    interaction = fake.interaction(ROOT, name, group, permissions=MANAGE_SERVER)
    await fake.dispatch("INTERACTION_CREATE", interaction)
    calls = await fake.wait_for("POST", CALLBACK, count=before + 1)
    return str(calls[-1].json["data"]["content"])


def _option(name: str, kind: int, value: Any) -> dict[str, Any]:
    return {"name": name, "type": kind, "value": value}


def _away(fake: FakeDiscord, author: dict[str, Any], text: str, at: datetime, **kw: Any) -> str:
    """A message posted while Hearth is not connected; its id."""
    message = fake.message(author, text, at=at, **kw)
    fake.post(message)
    return str(message["id"])


def _sent_since(fake: FakeDiscord, index: int) -> list[str]:
    """Messages posted, role changes and moderation the bot did after call `index`."""
    return [
        f"{c.method} {c.path}"
        for c in fake.calls[index:]
        if not (c.method == "GET" or c.path.endswith("/commands"))
    ]


async def _prepare(start: Start, fake: FakeDiscord) -> None:
    """A first run: an FAQ entry and a level-1 role reward exist, alice said hello live."""
    hearth = await start()
    question = _option("question", 3, QUESTION)
    added = await _command(fake, "faq", "add", question, _option("answer", 3, ANSWER))
    assert added.startswith("Added FAQ entry #1"), added
    level = (_option("level", 4, 1), _option("role", 8, str(REWARD_ROLE_ID)))
    assert (await _command(fake, "levels", "role", *level)).startswith("Reaching level 1")
    await fake.dispatch("MESSAGE_CREATE", fake.message(ALICE, "hello everyone, good morning"))
    await hearth.backfilled()
    await hearth.logged(3)  # the two commands and the hello
    await hearth.stop()


async def test_messages_sent_while_down_are_counted_quietly_after_start(
    start: Start, fake: FakeDiscord, url: str, clock: ManualClock
) -> None:
    await _prepare(start, fake)
    before = await _counts(url)
    assert len(before.messages) == 3
    assert before.ledger == 1
    alice = ALICE["user"]
    # While Hearth is down alice reaches level 1 and asks a question the FAQ answers.
    missed = [
        _away(fake, ALICE, "the new map layout is finished", BOOT + timedelta(minutes=10)),
        _away(fake, ALICE, QUESTION, BOOT + timedelta(minutes=20)),
        _away(
            fake, BOB, "thanks <@1001>, looks great", BOOT + timedelta(minutes=30), mentions=[alice]
        ),
        _away(fake, BOB, "moderators only in here", BOOT + timedelta(minutes=35), channel=MODS_ID),
    ]
    clock.set(BOOT + timedelta(hours=1))
    mark = len(fake.calls)
    hearth = await start()
    await hearth.backfilled()
    # Nothing answered, announced, granted or deleted for what was read from history ...
    assert _sent_since(fake, mark) == []
    # ... but a question asked live now is answered as usual.
    await fake.dispatch("MESSAGE_CREATE", fake.message(ALICE, QUESTION, at=clock.now()))
    (reply,) = await fake.wait_for("POST", rf"/channels/{GENERAL_ID}/messages")
    assert reply.json["content"] == ANSWER
    await hearth.stop()
    after = await _counts(url)
    assert set(missed) < set(after.messages)
    assert len(after.messages) == 8
    # alice: hello, two missed messages, bob's thanks (20) and the live question; bob: two.
    assert sorted(after.xp.values()) == [100, 220]
    assert after.answers == 1  # only the live answer is logged as answered


async def test_a_restart_with_nothing_new_backfills_nothing_and_doubles_nothing(
    start: Start, fake: FakeDiscord, url: str, clock: ManualClock
) -> None:
    await _prepare(start, fake)
    _away(fake, ALICE, "the new map layout is finished", BOOT + timedelta(minutes=10))
    clock.set(BOOT + timedelta(hours=1))
    hearth = await start()
    await hearth.backfilled()
    await hearth.stop()
    first = await _counts(url)
    assert len(first.messages) == 4
    assert first.ledger == 2

    clock.set(BOOT + timedelta(hours=2))
    mark = len(fake.calls)
    hearth = await start()
    await hearth.backfilled()
    await hearth.stop()
    assert await _counts(url) == first
    # History is read only after the last logged message of each channel.
    reads = [c for c in fake.calls[mark:] if c.method == "GET" and c.path.endswith("/messages")]
    general = next(c for c in reads if c.path == f"/channels/{GENERAL_ID}/messages")
    assert general.query["after"] == max(first.messages, key=int)


async def test_backfill_honours_the_window_and_the_per_channel_limit(
    start: Start, fake: FakeDiscord, url: str, clock: ManualClock
) -> None:
    now = BOOT + timedelta(hours=5)
    too_old = _away(fake, ALICE, "an old message from long ago", now - timedelta(hours=3))
    recent = [
        _away(fake, BOB, f"recent message number {n}", now - timedelta(minutes=50 - n))
        for n in range(5)
    ]
    clock.set(now)
    hearth = await start(backfill_hours=2, backfill_messages=3)
    await hearth.backfilled()
    await hearth.stop()
    counts = await _counts(url)
    assert counts.messages == sorted(recent[:3])  # the oldest three inside the window
    assert too_old not in counts.messages

    # The next start goes on from the last one read.
    hearth = await start(backfill_hours=2, backfill_messages=3)
    await hearth.backfilled()
    await hearth.stop()
    assert (await _counts(url)).messages == sorted(recent)

    # 0 turns it off: history is not even read.
    _away(fake, BOB, "one more while away", now + timedelta(minutes=1))
    clock.set(now + timedelta(minutes=2))
    mark = len(fake.calls)
    hearth = await start(backfill_messages=0)
    await fake.dispatch("MESSAGE_CREATE", fake.message(ALICE, "a live message still counts"))
    await hearth.logged(6)
    await hearth.stop()
    assert [c for c in fake.calls[mark:] if c.method == "GET" and "/messages" in c.path] == []
    assert len((await _counts(url)).messages) == 6
    assert hearth.adapter.backfills == 0


@pytest.mark.parametrize("shards", [{}], ids=["plain"])  # two shards: see the report
async def test_each_reconnect_backfills_only_what_is_new(
    start: Start,
    fake: FakeDiscord,
    url: str,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    shards: dict[str, Any],
) -> None:
    async def identify_at_once(
        self: discord.Client, shard_id: int | None, *, initial: bool
    ) -> None:
        """discord.py waits 5 s before identifying again (Discord's rate limit)."""

    monkeypatch.setattr(discord.Client, "before_identify_hook", identify_at_once)
    monkeypatch.setattr(discord.AutoShardedClient, "before_identify_hook", identify_at_once)
    hearth = await start(**shards)
    await hearth.backfilled()
    await fake.dispatch("MESSAGE_CREATE", fake.message(ALICE, "hello everyone, good morning"))
    await hearth.logged(1)
    # The gateway drops; alice posts while it reconnects; the session resumes.
    during = _away(fake, ALICE, "posted while reconnecting", BOOT + timedelta(minutes=5))
    clock.set(BOOT + timedelta(minutes=10))
    await fake.reconnect(resume=True)
    await hearth.logged(2)  # read from history: the gateway never delivered it
    assert fake.resumed == max(1, len(shards.get("shard_ids", ())))
    # The session is invalidated: a new IDENTIFY, a new READY.
    later = _away(fake, BOB, "posted during the second outage", BOOT + timedelta(minutes=15))
    clock.set(BOOT + timedelta(minutes=20))
    mark = len(fake.calls)
    await fake.reconnect(resume=False, shard=0 if shards else None)  # one of two shards
    await hearth.logged(3)
    assert fake.identified == 2 + len(shards.get("shard_ids", ()))
    await hearth.stop()
    assert _sent_since(fake, mark) == []
    counts = await _counts(url)
    assert len(counts.messages) == 3
    assert {during, later} < set(counts.messages)
    assert counts.ledger == 3  # each message earned once
    assert sorted(counts.xp.values()) == [50, 100]
