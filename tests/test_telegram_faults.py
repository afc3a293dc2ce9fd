"""Telegram faults end to end: real python-telegram-bot against the fake Bot API.

A token revoked while polling, entities that split a character, a stop with a backlog, and a
second process polling the same token.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.console import ConsoleAdapter
from adapters.runner import serve
from adapters.telegram_adapter import TelegramAdapter
from bot.bootstrap import build_engine
from bot.clock import ManualClock
from bot.engine import Engine
from storage.models import MessageLog
from tests.fakes.telegram_server import FakeTelegram
from tests.test_telegram_adapter import message

ROOT = Path(__file__).resolve().parents[1]
CONFLICT = (
    "telegram: another process is polling this bot token (409 Conflict); only one may — "
    "stop the other or use a webhook (telegram.webhook_url); retrying until it lets go"
)
BOB = {"id": 12, "is_bot": False, "first_name": "Bob"}


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def _engine(tmp_path: Path, base_url: str, clock: ManualClock) -> Engine:
    from tests.conftest import make_settings

    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'h.db'}",
        telegram={"token": "123:TEST", "api_base_url": base_url},
    )
    return build_engine(settings, clock=clock)


async def _stored(engine: Engine) -> dict[str, MessageLog]:
    async with engine.services.database.session() as session:
        rows = (await session.execute(select(MessageLog))).scalars()
        return {row.message_id: row for row in rows}


async def _eventually(check: Callable[[], Awaitable[bool] | bool], timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while True:
            result = check()
            if result if isinstance(result, bool) else await result:
                return
            await asyncio.sleep(0.01)


def _lines(caplog: pytest.LogCaptureFixture, part: str) -> list[logging.LogRecord]:
    """Hearth's and python-telegram-bot's log lines containing `part` (not the HTTP
    client's and the fake server's request lines)."""
    wire = ("httpx", "aiohttp.access")
    return [r for r in caplog.records if part in r.getMessage() and r.name not in wire]


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info]


# ---------------------------------------------------------------------- item 4: revoked token


async def test_a_token_revoked_while_polling_ends_hearth_with_one_clear_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeTelegram()
    engine = _engine(tmp_path, await fake.start(), ManualClock(datetime.now(UTC)))
    adapter = TelegramAdapter(engine.services.settings, engine.services.clock)
    with caplog.at_level(logging.INFO):
        serving = asyncio.create_task(serve(engine, [adapter]))
        await fake.wait_for("getUpdates", timeout=30)
        await fake.push(message("/help"))
        (reply,) = await fake.wait_for("sendMessage")
        assert reply["text"].startswith("Commands you can use:")
        fake.revoke()  # in @BotFather, while Hearth polls
        status = await asyncio.wait_for(serving, 30)  # Hearth ends instead of idling
    await fake.stop()
    assert status == 1
    (line,) = _lines(caplog, "stopped accepting the token")
    assert line.levelno == logging.ERROR
    assert line.getMessage().startswith("telegram: telegram.token: Telegram stopped accepting")
    assert "put the current token in telegram.token and restart Hearth" in line.getMessage()
    (last,) = _lines(caplog, "no platform left to serve")
    assert last.levelno == logging.ERROR
    assert _tracebacks(caplog) == []
    assert not [
        r for r in caplog.records if r.name.startswith("adapters") and "TEST" in r.getMessage()
    ]


async def test_a_revoked_token_leaves_the_console_running_until_its_input_ends(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Decision: the console ending its input ends Hearth with 0, as without Telegram; the
    Telegram failure is the ERROR line in the log."""
    fake = FakeTelegram()
    clock = ManualClock(datetime.now(UTC))
    engine = _engine(tmp_path, await fake.start(), clock)
    telegram = TelegramAdapter(engine.services.settings, clock)
    read_end, write_end = os.pipe()
    typed = os.fdopen(write_end, "w", encoding="utf-8")
    out = io.StringIO()
    console = ConsoleAdapter(
        community="c",
        user="you",
        admin=False,
        clock=clock,
        stdin=os.fdopen(read_end, encoding="utf-8"),
        stdout=out,
        interactive=False,
    )
    serving = asyncio.create_task(serve(engine, [telegram, console]))
    await fake.wait_for("getUpdates", timeout=30)
    fake.revoke()
    await _eventually(lambda: bool(_lines(caplog, "stopped accepting the token")))
    assert not serving.done()  # the console is still there
    typed.write("/help\n")
    typed.close()  # end of input
    assert await asyncio.wait_for(serving, 30) == 0
    await fake.stop()
    assert "hearth> Commands you can use:" in out.getvalue()
    assert "no platform left" not in caplog.text
    assert _tracebacks(caplog) == []


# ---------------------------------------------------------------------- item 6: broken entities


async def test_an_entity_splitting_an_emoji_is_ignored_and_the_message_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeTelegram()
    engine = _engine(tmp_path, await fake.start(), ManualClock(datetime.now(UTC)))
    adapter = TelegramAdapter(engine.services.settings, engine.services.clock)
    serving = asyncio.create_task(serve(engine, [adapter]))
    await fake.wait_for("getUpdates", timeout=30)
    # 🎉 is two UTF-16 code units (0 and 1): an entity starting at 1 splits it.
    text = "🎉 hello everyone, welcome @bob"  # 31 code units
    entities = [
        {"type": "mention", "offset": 1, "length": 4},  # inside the surrogate pair
        {"type": "mention", "offset": 27, "length": 4},  # @bob, correct
        {"type": "mention", "offset": 40, "length": 3},  # past the end
        {"type": "text_mention", "offset": 29, "length": 5, "user": BOB},  # runs over the end
    ]
    await fake.push(message(text, message_id=801, entities=entities))
    await _eventually(lambda: not fake.unconfirmed())  # processed and committed
    await fake.push(message("/rank", message_id=802))
    (rank,) = await fake.wait_for("sendMessage")
    serving.cancel()
    await asyncio.gather(serving, return_exceptions=True)
    await fake.stop()
    stored = await _stored(_engine(tmp_path, fake.base_url, ManualClock(datetime.now(UTC))))
    assert stored["801"].text == text
    assert stored["801"].mentions == 1  # only @bob
    assert "Alice" in rank["text"]
    assert ", 0 XP" not in rank["text"]  # the message earned its XP
    assert _tracebacks(caplog) == []


# ---------------------------------------------------------------------- item 8: two pollers


async def test_a_second_poller_is_reported_once_and_polling_resumes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeTelegram()
    conflict = {
        "ok": False,
        "error_code": 409,
        "description": "Conflict: terminated by other getUpdates request; make sure that only "
        "one bot instance is running",
    }
    for _ in range(6):
        fake.script("getUpdates", 409, conflict)
    clock = ManualClock(datetime.now(UTC))
    engine = _engine(tmp_path, await fake.start(), clock)
    waits: list[float] = []

    async def pause(seconds: float) -> None:  # backoff without waiting
        waits.append(seconds)
        if len(waits) == 4:  # the conflict has lasted a while: time to say it again
            clock.advance(timedelta(minutes=5))

    adapter = TelegramAdapter(engine.services.settings, clock, sleep=pause)
    with caplog.at_level(logging.INFO):
        serving = asyncio.create_task(serve(engine, [adapter]))
        await fake.push(message("after the conflict", message_id=901))
        await _eventually(lambda: not fake.unconfirmed(), timeout=30)
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
    await fake.stop()
    said = _lines(caplog, "409 Conflict")
    assert [r.getMessage() for r in said] == [CONFLICT, CONFLICT]  # first, then 5 minutes on
    assert all(r.levelno == logging.WARNING for r in said)
    assert waits == [1, 2, 4, 8, 16, 32]  # backoff, not a tight loop
    assert len(_lines(caplog, "polling again, the other process let go")) == 1
    assert _tracebacks(caplog) == []
    stored = await _stored(_engine(tmp_path, fake.base_url, clock))
    assert stored["901"].text == "after the conflict"


# ---------------------------------------------------------------------- item 7: SIGTERM


@contextlib.asynccontextmanager
async def _hearth(cwd: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """`hearth run` in `cwd` (its hearth.toml), killed at the end if it is still running."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    environment["PYTHONPATH"] = str(ROOT)
    with (cwd / "stderr.log").open("a") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "adapters.cli",
            "run",
            cwd=cwd,
            env=environment,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log,
        )
        try:
            yield process
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def _stop_within(process: asyncio.subprocess.Process, seconds: float) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(process.wait(), seconds)
    except TimeoutError:
        raise AssertionError(f"Hearth did not exit within {seconds} s of SIGTERM") from None


def _rows(database: Path) -> list[str]:
    with sqlite3.connect(database) as db:
        return [row[0] for row in db.execute("SELECT message_id FROM messages")]


async def test_sigterm_with_a_backlog_stops_in_time_and_loses_nothing(tmp_path: Path) -> None:
    fake = FakeTelegram()
    base_url = await fake.start()
    (tmp_path / "hearth.toml").write_text(
        f'[telegram]\ntoken = "{fake.token}"\napi_base_url = "{base_url}"\n'
        "[moderation]\nenabled = false\n",  # 1,000 messages from one member are no flood here
        encoding="utf-8",
    )
    wanted = {str(n) for n in range(1, 1001)}
    for n in range(1, 1001):
        # Some are commands, answered through a slow API (as from far away).
        text = "/help" if n % 50 == 1 else f"backlog message {n}"
        await fake.push(message(text, message_id=n))
    fake.latency["sendMessage"] = 0.6

    try:
        async with _hearth(tmp_path) as first:
            await fake.wait_for("sendMessage", 2, timeout=60)  # 50 handled, answering the 51st
            assert await _stop_within(first, 10) == 0
        stored = _rows(tmp_path / "hearth.db")
        unconfirmed = {str(u["message"]["message_id"]) for u in fake.unconfirmed()}
        assert {str(n) for n in range(1, 52)} <= set(stored)  # the one in hand was finished
        assert set(stored) | unconfirmed == wanted  # nothing confirmed that is not stored
        assert len(unconfirmed) > 500  # the backlog stayed with Telegram

        fake.latency.clear()
        async with _hearth(tmp_path) as second:
            await _eventually(lambda: not fake.unconfirmed(), timeout=120)
            assert await _stop_within(second, 10) == 0
    finally:
        await fake.stop()
    rows = _rows(tmp_path / "hearth.db")
    assert len(rows) == 1000
    assert set(rows) == wanted  # every message once, none doubled
    assert "Traceback" not in (tmp_path / "stderr.log").read_text(encoding="utf-8")
