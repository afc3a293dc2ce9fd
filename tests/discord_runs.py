"""Hearth processes on the fake Discord for the kill and shard tests: start `hearth run` (through
`tests.discord_process`), read what it stored, and compare two runs' databases."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text

from storage.database import Database
from tests.fakes.discord_server import FakeDiscord

ROOT = Path(__file__).resolve().parents[1]
#: What the bot does that a member sees: messages posted, roles changed, moderation.
SEEN = r"/channels/\d+/messages|/guilds/.*|/interactions/.*|/webhooks/.*"


def write_config(directory: Path, url: str, **sections: str) -> None:
    """A hearth.toml in `directory`: Discord, the database `url`, and extra sections (name →
    TOML body)."""
    body = f'[discord]\ntoken = "test-token"\n{sections.pop("discord", "")}\n'
    body += f'[database]\nurl = "{url}"\nflush_interval = 0.2\n'
    for name, values in sections.items():
        body += f"[{name}]\n{values}\n"
    (directory / "hearth.toml").write_text(body, encoding="utf-8")


@asynccontextmanager
async def hearth(directory: Path, fake: FakeDiscord) -> AsyncIterator[asyncio.subprocess.Process]:
    """`hearth run` in `directory` (its hearth.toml) against `fake`, killed at the end if it
    still runs; its stderr goes to ``directory/stderr.log``."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    environment.update(
        PYTHONPATH=str(ROOT),
        NO_PROXY="127.0.0.1,localhost",
        FAKE_DISCORD_API=fake.api_base,
        FAKE_DISCORD_GATEWAY=fake.gateway_url,
    )
    with (directory / "stderr.log").open("a") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.discord_process",
            cwd=directory,
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


async def kill(process: asyncio.subprocess.Process) -> None:
    """SIGKILL: nothing is flushed, nothing is said goodbye."""
    process.send_signal(signal.SIGKILL)
    await process.wait()


async def stop(process: asyncio.subprocess.Process, seconds: float = 15) -> int:
    """SIGTERM and the exit status (within `seconds`)."""
    process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(process.wait(), seconds)
    except TimeoutError:
        raise AssertionError(f"Hearth did not exit within {seconds} s of SIGTERM") from None


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout: float = 30, what: str = "condition"
) -> None:
    """Poll `check` until it holds."""
    try:
        async with asyncio.timeout(timeout):
            while not await check():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


def tracebacks(*directories: Path) -> str:
    """The end of the first stderr log that holds a traceback ('' when none does)."""
    for directory in directories:
        log = (directory / "stderr.log").read_text(encoding="utf-8")
        if "Traceback" in log:
            return log[-4000:]
    return ""


class Reader:
    """Reads a Hearth database (SQLite or PostgreSQL) while processes write it."""

    def __init__(self, url: str) -> None:
        self.database = Database(url)

    async def close(self) -> None:
        """Close the connections."""
        await self.database.close()

    async def rows(self, query: str) -> list[tuple[Any, ...]]:
        """The rows of `query` ([] while the schema is not there yet)."""
        try:
            async with self.database.session() as session:
                return [tuple(row) for row in await session.execute(text(query))]
        except Exception as error:
            if "messages" in str(error) or "no such table" in str(error):
                return []
            raise

    async def stored(self) -> set[str]:
        """The ids of the messages logged."""
        return {str(row[0]) for row in await self.rows("SELECT message_id FROM messages")}

    async def reaction_awards(self) -> int:
        """Reactions whose XP is committed."""
        rows = await self.rows("SELECT count(*) FROM points_ledger WHERE reason = 'reaction'")
        return int(rows[0][0]) if rows else 0

    async def snapshot(self) -> dict[str, Counter[tuple[Any, ...]]]:
        """What must match between runs, members named by their Discord ids and
        communities by their guild ids."""
        who = dict(
            await self.rows(
                "SELECT ma.member_id, a.external_id FROM member_accounts ma "
                "JOIN accounts a ON a.id = ma.account_id"
            )
        )
        where = dict(
            await self.rows("SELECT community_id, external_id FROM groups")  # one group each
        )

        async def rows(
            query: str, members: tuple[int, ...] = (), communities: tuple[int, ...] = ()
        ) -> Counter[tuple[Any, ...]]:
            found: Counter[tuple[Any, ...]] = Counter()
            for row in await self.rows(query):
                named = tuple(
                    who.get(v) if i in members else where.get(v) if i in communities else v
                    for i, v in enumerate(row)
                )
                found[named] += 1
            return found

        return {
            "messages": await rows(
                "SELECT community_id, channel_id, message_id, member_id, is_command, text "
                "FROM messages",
                (3,),
                (0,),
            ),
            "reactions": await rows(
                "SELECT community_id, message_id, member_id, emoji FROM reactions", (2,), (0,)
            ),
            "ledger": await rows(
                "SELECT member_id, currency, reason, source, amount, actor_member_id "
                "FROM points_ledger",
                (0, 5),
            ),
            "totals": await rows(
                "SELECT member_id, xp, level, reputation FROM points_totals WHERE xp > 0", (0,)
            ),
            "periods": await rows("SELECT member_id, kind, start, xp FROM points_periods", (0,)),
            "thanks": await rows("SELECT giver_id, receiver_id, day FROM thanks_given", (0, 1)),
            "faq unanswered": await rows(
                "SELECT message_id, member_id, text FROM faq_unanswered", (1,)
            ),
        }

    async def ledger_sums_are_totals(self) -> None:
        """Every member's XP and reputation totals are the sums of their ledger."""
        for currency, column in (("xp", 1), ("rep", 2)):
            sums = dict(
                await self.rows(
                    "SELECT member_id, sum(amount) FROM points_ledger "
                    f"WHERE currency = '{currency}' GROUP BY member_id"
                )
            )
            totals = await self.rows("SELECT member_id, xp, reputation FROM points_totals")
            assert {row[0]: row[column] for row in totals if row[column]} == sums, currency


def differences(
    clean: dict[str, Counter[Any]], other: dict[str, Counter[Any]]
) -> dict[str, dict[str, list[Any]]]:
    """Per table, rows the other run lost and rows it has twice (or more than the clean)."""

    def diff(a: Counter[Any], b: Counter[Any]) -> dict[str, list[Any]]:
        lost = sorted((a - b).elements(), key=str)[:5]
        return {"lost": lost, "doubled": sorted((b - a).elements(), key=str)[:5]}

    return {name: diff(clean[name], other[name]) for name in clean if clean[name] != other[name]}
