"""Webhook mode end to end: Telegram's requests POSTed to Hearth's own webhook server, real
python-telegram-bot against the fake Bot API; 200 only once the update is committed (issue 17
item 3)."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from sqlalchemy import func, select

from adapters.telegram_adapter import ALLOWED_UPDATES, TelegramAdapter
from adapters.telegram_webhook import MAX_BODY, SECRET_HEADER
from bot.bootstrap import build_engine
from bot.clock import ManualClock
from bot.engine import Engine
from storage.database import Database
from storage.models import MessageLog, PointsLedger
from tests.conftest import make_settings
from tests.fakes.telegram_server import FakeTelegram
from tests.postgres import Cluster, postgres_cluster

GROUP = -1001777
ALICE = {"id": 11, "is_bot": False, "first_name": "Alice", "language_code": "en"}
BOB = {"id": 12, "is_bot": False, "first_name": "Bob"}
SECRET = "s3cret-token"
HOOK = "https://hearth.example/tg/hook"
_update_ids = count(1)
_message_ids = count(300)


def update(text: str, *, user: dict[str, Any] = ALICE) -> dict[str, Any]:
    """A Telegram update as Telegram POSTs it: a group message (a command if `/…`)."""
    body: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": {"id": GROUP, "type": "supergroup", "title": "Tea house"},
        "from": user,
        "text": text,
    }
    if text.startswith("/"):
        body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": next(_update_ids), "message": body}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Hook:
    """Hearth in webhook mode, the fake Bot API it talks to, and a reader of its database."""

    fake: FakeTelegram
    engine: Engine
    task: asyncio.Task[None]
    reader: Database
    port: int
    http: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tg/hook"

    async def post(
        self, body: dict[str, Any] | bytes, *, secret: str | None = SECRET
    ) -> aiohttp.ClientResponse:
        """POST as Telegram does; returns the (read) response."""
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        if isinstance(body, bytes):
            headers["Content-Type"] = "application/json"
            request = self.http.post(self.url, data=body, headers=headers)
        else:
            request = self.http.post(self.url, json=body, headers=headers)
        async with request as response:
            await response.read()
            return response

    async def stored(self) -> list[str]:
        """Texts of the message rows committed so far (read apart from Hearth: no flush)."""
        async with self.reader.session() as session:
            rows = await session.execute(select(MessageLog.text).order_by(MessageLog.id))
            return [text or "" for text in rows.scalars()]

    async def ledger(self) -> int:
        async with self.reader.session() as session:
            found = await session.execute(select(func.count()).select_from(PointsLedger))
            return int(found.scalar_one())

    def replies(self) -> list[str]:
        return [str(m["text"]) for m in self.fake.sent("sendMessage")]


@asynccontextmanager
async def webhook_hearth(url: str) -> AsyncIterator[Hook]:
    """Hearth with telegram.webhook_url set, listening on 127.0.0.1 (webhook registered)."""
    fake = FakeTelegram()
    base_url = await fake.start()
    port = _free_port()
    settings = make_settings(
        url,
        telegram={
            "token": fake.token,
            "api_base_url": base_url,
            "webhook_url": HOOK,
            "webhook_listen": "127.0.0.1",
            "webhook_port": port,
            "webhook_secret": SECRET,
        },
    )
    clock = ManualClock(datetime.now(UTC))
    engine = build_engine(settings, clock=clock)
    await engine.start()
    adapter = TelegramAdapter(settings, clock, retry_delays=(0.0,))
    engine.attach(adapter.name, adapter.perform, adapter.member_role)
    task = asyncio.create_task(adapter.run(engine))
    reader = Database(url)
    try:
        await fake.wait_for("setWebhook")  # sent once Hearth listens
        async with aiohttp.ClientSession() as http:
            yield Hook(fake, engine, task, reader, port, http)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await engine.stop()
        await reader.close()
        await fake.stop()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
async def hook(tmp_path: Path) -> AsyncIterator[Hook]:
    async with webhook_hearth(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}") as running:
        yield running


async def test_the_webhook_is_registered_with_the_secret_and_the_update_kinds(hook: Hook) -> None:
    (registered,) = hook.fake.sent("setWebhook")
    assert registered["url"] == HOOK
    assert registered["secret_token"] == SECRET
    assert registered["allowed_updates"] == list(ALLOWED_UPDATES)
    assert not hook.fake.sent("deleteWebhook")  # only polling removes it
    assert not hook.fake.sent("getUpdates")


async def test_200_means_the_message_is_in_the_database_and_replies_went_out(hook: Hook) -> None:
    # The test settings write batches only every 60 s: a row is there right after the 200
    # only because the 200 waited for the commit.
    response = await hook.post(update("hello everyone, how is the tea today?"))
    assert response.status == 200
    assert await hook.stored() == ["hello everyone, how is the tea today?"]
    assert await hook.ledger() == 1  # the XP it earned is committed with it
    response = await hook.post(update("/rank"))
    assert response.status == 200
    (answer,) = hook.replies()  # sent before the answer to Telegram
    assert answer.startswith("Alice — level")
    assert (await hook.stored())[-1] == "/rank"


async def test_a_wrong_or_missing_secret_is_refused_and_nothing_stored(hook: Hook) -> None:
    wrong = await hook.post(update("sneaky"), secret="nope")
    assert wrong.status == 403
    missing = await hook.post(update("sneaky too"), secret=None)
    assert missing.status == 403
    await hook.engine.services.writer.flush()
    assert await hook.stored() == []
    assert hook.replies() == []


async def test_the_same_update_posted_twice_counts_once(hook: Hook) -> None:
    hello = update("hello from a flaky network")
    assert (await hook.post(hello)).status == 200
    assert (await hook.post(hello)).status == 200
    twice = await asyncio.gather(hook.post(hello), hook.post(hello))
    assert [r.status for r in twice] == [200, 200]
    assert await hook.stored() == ["hello from a flaky network"]
    assert await hook.ledger() == 1
    command = update("/rank")
    for _ in range(2):
        assert (await hook.post(command)).status == 200
    assert len(hook.replies()) == 1  # a redelivered command is not answered again


async def test_garbage_is_refused_with_400_and_no_traceback(
    hook: Hook, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        for body in (b"{not json", b"\xff\xfe", b"[1, 2]", b'{"message": {}}', b'{"update_id": 1'):
            response = await hook.post(body)
            assert response.status == 400, body
        typed = await hook.post({"update_id": 5, "message": {"text": "no chat, no date"}})
        assert typed.status == 400
    assert not [r for r in caplog.records if r.exc_info]
    assert any("not an update" in r.getMessage() for r in caplog.records)
    huge = await hook.post(b'{"update_id": 1, "x": "' + b"a" * MAX_BODY + b'"}')
    assert huge.status == 413
    # Only POSTs on the webhook's path are served.
    async with hook.http.get(hook.url) as got:
        assert got.status == 405
    async with hook.http.post(f"http://127.0.0.1:{hook.port}/other", json=update("x")) as other:
        assert other.status == 404
    assert await hook.stored() == []
    # And Hearth still takes real updates.
    assert (await hook.post(update("still here"))).status == 200
    assert await hook.stored() == ["still here"]


async def test_a_stop_finishes_the_request_under_way_then_refuses_connections(
    hook: Hook,
) -> None:
    hook.fake.latency["sendMessage"] = 0.3  # the reply is slow: the request is still open
    posting = asyncio.ensure_future(hook.post(update("/help")))
    await hook.fake.wait_for("sendMessage")
    hook.task.cancel()  # Hearth stops while the request is being handled
    response = await posting
    assert response.status == 200
    assert await hook.stored() == ["/help"]
    await asyncio.gather(hook.task, return_exceptions=True)
    with pytest.raises(aiohttp.ClientConnectionError):
        await hook.post(update("too late"))


# ---------------------------------------------------------------------- the database away


@pytest.fixture
def own_postgres() -> Iterator[Cluster]:
    """A PostgreSQL server of this test's own, which it may stop and start."""
    with postgres_cluster() as cluster:
        yield cluster


async def _database(cluster: Cluster) -> str:
    server = cluster.server
    connection = await asyncpg.connect(
        host=str(server.socket_dir), user=server.user, database="postgres"
    )
    try:
        await connection.execute('CREATE DATABASE "webhook"')
    finally:
        await connection.close()
    return server.url("webhook")


@pytest.mark.postgres
async def test_an_update_that_cannot_be_committed_is_refused_and_stored_once_redelivered(
    own_postgres: Cluster,
) -> None:
    async with webhook_hearth(await _database(own_postgres)) as hook:
        assert (await hook.post(update("before the outage"))).status == 200
        assert await hook.stored() == ["before the outage"]
        own_postgres.stop()
        # Alice is known (her row waits in the batch); Bob is new (resolving him needs the
        # database, so his message is held): neither can be committed.
        during = [update("while PostgreSQL is down"), update("me too", user=BOB)]
        for body in during:
            refused = await hook.post(body)
            assert refused.status == 503
            assert refused.headers["Retry-After"].isdigit()
        again = await hook.post(during[0])  # Telegram tries again; still down
        assert again.status == 503
        own_postgres.start()
        for body in during:  # Telegram delivers them again
            assert (await hook.post(body)).status == 200
        expected = ["before the outage", "while PostgreSQL is down", "me too"]
        assert await hook.stored() == expected
        for body in during:  # and once more: still once
            assert (await hook.post(body)).status == 200
        await hook.engine.services.writer.flush()
        assert await hook.stored() == expected
        assert await hook.ledger() == 2  # Alice once (then her cooldown), Bob once
