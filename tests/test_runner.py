"""Running adapters side by side: one failing platform never stops the others."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from adapters.console import ConsoleAdapter
from adapters.runner import serve
from bot.bootstrap import build_engine
from bot.clock import ManualClock
from bot.engine import Engine
from bot.errors import ConfigError
from bot.events import Action, Role
from storage.activity import count_messages
from tests.conftest import make_settings


class Silent:
    """What every fake platform shares: it cannot tell members' roles."""

    async def member_role(self, group_id: str, user_id: str) -> Role | None:
        return None


class Broken(Silent):
    name = "broken"

    async def run(self, engine: Engine) -> None:
        raise RuntimeError("bug in the adapter")

    async def perform(self, action: Action) -> None:
        raise AssertionError("never called")


class Forever(Silent):
    name = "forever"

    def __init__(self) -> None:
        self.cancelled = False

    async def run(self, engine: Engine) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise

    async def perform(self, action: Action) -> None:
        raise AssertionError("never called")


async def test_a_crashing_adapter_does_not_stop_the_console(
    tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    engine = build_engine(make_settings(url), clock=clock)
    out = io.StringIO()
    console = ConsoleAdapter(
        community="c",
        user="you",
        admin=False,
        clock=clock,
        stdin=io.StringIO("one\ntwo\n/help\n"),
        stdout=out,
        interactive=False,
    )
    forever = Forever()
    assert await serve(engine, [Broken(), console, forever]) == 0
    assert "adapter broken stopped with an error" in caplog.text
    assert "Commands you can use:" in out.getvalue()
    assert forever.cancelled  # the console finishing its input stops the rest

    check = build_engine(make_settings(url), clock=clock)
    group = await check.services.directory.group("console", "c")
    async with check.services.database.session() as session:
        assert await count_messages(session, community_id=group.community.id) == 3
    await check.services.database.close()


class RejectedToken(Silent):
    name = "rejected"

    async def run(self, engine: Engine) -> None:
        raise ConfigError("discord.token: Discord rejected the token")

    async def perform(self, action: Action) -> None:
        raise AssertionError("never called")


class Flaky(Silent):
    """Cannot connect twice, then runs until its input ends."""

    name = "flaky"

    def __init__(self) -> None:
        self.attempts = 0

    async def run(self, engine: Engine) -> None:
        self.attempts += 1
        if self.attempts < 3:
            raise ConnectionRefusedError("connection refused")

    async def perform(self, action: Action) -> None:
        raise AssertionError("never called")


async def test_every_adapter_failing_is_a_non_zero_exit(
    tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    engine = build_engine(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"), clock=clock)
    assert await serve(engine, [Broken(), RejectedToken()], delay=lambda attempt: 0) == 1
    assert "rejected: discord.token: Discord rejected the token; this platform stays off" in (
        caplog.text
    )


async def test_unreachable_platform_is_retried_with_backoff(
    tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    engine = build_engine(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"), clock=clock)
    flaky, delays = Flaky(), []
    assert await serve(engine, [flaky], delay=lambda attempt: delays.append(attempt) or 0) == 0
    assert flaky.attempts == 3
    assert delays == [0, 1]
    assert "flaky: cannot connect (connection refused); retrying" in caplog.text


def test_backoff_grows_and_is_capped() -> None:
    from adapters.runner import backoff

    assert 1 <= backoff(0) <= 1.5
    assert 8 <= backoff(3) <= 12
    assert 300 <= backoff(20) <= 450


async def test_cancelling_serve_stops_every_adapter_and_the_engine(
    tmp_path: Path, clock: ManualClock
) -> None:
    engine = build_engine(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"), clock=clock)
    forever = Forever()
    serving = asyncio.create_task(serve(engine, [forever]))
    while not engine.services.dispatcher.platforms():  # started and attached
        await asyncio.sleep(0)
    await asyncio.sleep(0)
    serving.cancel()
    await asyncio.gather(serving, return_exceptions=True)
    assert forever.cancelled  # no adapter outlives the engine
