"""Level roles through the real discord.py client against the fake Discord: XP taken away
removes the role of the level lost, and a level reached again grants its role once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.engine import Engine
from storage.models import MessageLog
from tests.conftest import make_settings
from tests.discord_hearth import hearth_on_discord
from tests.fakes.discord_server import GUILD_ID, FakeDiscord, member

ALICE = member(1001, "alice")
ROOT = member(1002, "root")
MANAGE_SERVER = 1 << 5
CALLBACK = r"/interactions/\d+/[^/]+/callback"
ROLES = rf"/guilds/{GUILD_ID}/members/1001/roles/(\d+)"
LOW, HIGH = "900000000000000031", "900000000000000032"


class Discord:
    """The engine with every feature, the adapter and the fake they talk to."""

    def __init__(self, engine: Engine, fake: FakeDiscord) -> None:
        self.engine = engine
        self.fake = fake

    async def command(self, name: str, sub: str, *options: dict[str, Any]) -> str:
        """Run `/name sub …` as an admin; the reply's text."""
        before = len([c for c in self.fake.calls if c.path.endswith("/callback")])
        group = [{"type": 1, "name": sub, "options": list(options)}]
        interaction = self.fake.interaction(ROOT, name, group, permissions=MANAGE_SERVER)
        await self.fake.dispatch("INTERACTION_CREATE", interaction)
        calls = await self.fake.wait_for("POST", CALLBACK, count=before + 1)
        return str(calls[-1].json["data"]["content"])

    def role_calls(self) -> list[tuple[str, str]]:
        """("PUT" or "DELETE", role id) of every role change of alice so far."""
        return [
            (call.method, call.path.rsplit("/", 1)[1])
            for call in self.fake.calls
            if call.method in ("PUT", "DELETE") and "/members/1001/roles/" in call.path
        ]


def _option(name: str, kind: int, value: Any) -> dict[str, Any]:
    return {"name": name, "type": kind, "value": value}


@pytest.fixture
async def discord_bot(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[Discord]:
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}",
        discord={"token": "test-token"},
        schedule={"worker": False},
    )
    async with hearth_on_discord(monkeypatch, settings, clock) as (fake, engine):
        yield Discord(engine, fake)


async def _wait_for_message(bot: Discord) -> None:
    async with asyncio.timeout(3):
        while True:
            await bot.engine.services.writer.flush()
            async with bot.engine.services.database.session() as session:
                if (await session.execute(select(MessageLog.id))).first() is not None:
                    return
            await asyncio.sleep(0.005)


async def test_xp_taken_away_moves_alice_down_the_level_roles(discord_bot: Discord) -> None:
    bot = discord_bot
    await bot.fake.dispatch("MESSAGE_CREATE", bot.fake.message(ALICE, "hi"))  # too short: 0 XP
    await _wait_for_message(bot)
    for level, role in ((1, LOW), (2, HIGH)):
        reply = await bot.command(
            "levels", "role", _option("level", 4, level), _option("role", 8, role)
        )
        assert reply == f"Reaching level {level} now grants role {role}."

    async def points(sub: str, amount: int) -> str:
        return await bot.command(
            "points", sub, _option("member", 6, "1001"), _option("amount", 4, amount)
        )

    assert (await points("give", 300)).startswith("alice: +300 XP (now 300 XP, level 2)")
    await bot.fake.wait_for("DELETE", ROLES, count=1)
    assert bot.role_calls() == [("PUT", HIGH), ("DELETE", LOW)]

    assert (await points("take", 100)).startswith("alice: -100 XP (now 200 XP, level 1)")
    await bot.fake.wait_for("DELETE", ROLES, count=2)
    assert bot.role_calls()[2:] == [("PUT", LOW), ("DELETE", HIGH)]

    assert (await points("take", 500)).startswith("alice: -200 XP (now 0 XP, level 0)")
    await bot.fake.wait_for("DELETE", ROLES, count=3)
    assert bot.role_calls()[4:] == [("DELETE", LOW)]  # below every level role: only removed

    await points("give", 50)  # level 0: nothing
    await points("give", 60)  # level 1 again: its role, once
    await points("give", 10)  # still level 1: nothing
    await bot.fake.wait_for("PUT", ROLES, count=3)
    await bot.command("points", "history", _option("member", 6, "1001"))  # one more round trip
    assert bot.role_calls()[5:] == [("PUT", LOW)]
