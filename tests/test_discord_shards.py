"""Two Hearth processes on one PostgreSQL, the Discord shards split between them (issue 17):
every message is counted once, in its guild's community, with its XP.

Both `hearth run` processes start at the same moment on an empty database (both migrate it),
each runs one of two shards of a bot in two guilds, and the same forty members post, thank and
react in both guilds at once, so both processes create the same accounts and points rows
concurrently. One process is killed mid-stream and restarted while the other carries on; what
was posted in its guild while it was down comes back through its backfill, and only its own.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _fresh_postgres_url
from tests.discord_runs import Reader, eventually, hearth, kill, stop, tracebacks, write_config
from tests.fakes.discord_server import FakeDiscord, Guild, member
from tests.postgres import PostgresServer

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")

MEMBERS = [member(3000 + k, f"member{k}") for k in range(40)]
MESSAGES = 1200
XP = 20


def _messages(maker: FakeDiscord, guilds: list[Guild], start: datetime) -> list[dict[str, Any]]:
    """Messages one second apart, alternating guilds, each member in both; every 25th a
    thanks reply to the message two before (same guild)."""
    made: list[dict[str, Any]] = []
    for n in range(MESSAGES):
        guild = guilds[n % 2]
        author = MEMBERS[(n // 2) % len(MEMBERS)]
        extra: dict[str, Any] = {}
        text = f"message {n} in guild {n % 2}"
        if n % 25 == 24:
            to = made[n - 2]
            text = f"thanks a lot for message {n - 2}!"  # each different: no repeat filter
            reference = {"message_id": to["id"], "channel_id": to["channel_id"]}
            extra = {"type": 19, "message_reference": {**reference, "guild_id": str(guild.id)}}
        made.append(
            maker.message(
                author, text, channel=guild.general, at=start + timedelta(seconds=n), **extra
            )
        )
    return made


async def test_two_processes_with_split_shards_count_every_message_once(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    url = await _fresh_postgres_url(postgres)
    fake = FakeDiscord(guilds=2)
    guilds = fake.guilds
    assert {guild.shard(2) for guild in guilds} == {0, 1}
    start = datetime.fromtimestamp(int(time.time()) - 3600, UTC)
    messages = _messages(fake, guilds, start)
    directories = [tmp_path / "shard0", tmp_path / "shard1"]
    for shard, directory in enumerate(directories):
        directory.mkdir()
        write_config(
            directory,
            url,
            discord=f"shard_count = 2\nshard_ids = [{shard}]",
            moderation="enabled = false",  # 1,200 messages in minutes are no flood here
            points=f"message_xp_min = {XP}\nmessage_xp_max = {XP}\ndaily_cap = 1000000",
            schedule="worker = false",
        )
    await fake.start()
    reader = Reader(url)
    posted: set[str] = set()

    async def stored_all() -> bool:
        return posted <= await reader.stored()

    async def both_connected() -> bool:
        return all(fake.connected(guild.id) == 1 for guild in guilds)

    try:
        async with AsyncExitStack() as processes:
            # Both at once, on an empty database: both migrate it.
            first, second = [
                await processes.enter_async_context(hearth(directory, fake))
                for directory in directories
            ]
            await eventually(both_connected, timeout=60, what="both shards")
            third = len(messages) // 3
            for message in messages[:third]:
                posted.add(message["id"])
                await fake.dispatch("MESSAGE_CREATE", message)
                await asyncio.sleep(0)
            await eventually(stored_all, what="the first third")
            # Shard 1's process dies; its guild's messages meanwhile exist only in history.
            down = next(g for g in guilds if g.shard(2) == 1)
            await kill(second)
            for message in messages[third : 2 * third]:
                posted.add(message["id"])
                if int(message["guild_id"]) == down.id:
                    fake.post(message)
                else:
                    await fake.dispatch("MESSAGE_CREATE", message)
            second = await processes.enter_async_context(hearth(directories[1], fake))
            await eventually(stored_all, timeout=60, what="the backfill")
            for message in messages[2 * third :]:
                posted.add(message["id"])
                await fake.dispatch("MESSAGE_CREATE", message)
                await asyncio.sleep(0)
            await eventually(stored_all, what="the rest")
            assert await stop(first) == 0
            assert await stop(second) == 0
        assert tracebacks(*directories) == ""
        stored = await reader.rows(
            "SELECT g.external_id, m.message_id, count(*) FROM messages m "
            "JOIN groups g ON g.id = m.group_id GROUP BY g.external_id, m.message_id"
        )
        await reader.ledger_sums_are_totals()
        accounts = await reader.rows(
            "SELECT external_id, count(*) FROM accounts GROUP BY external_id"
        )
        members = await reader.rows(
            "SELECT c.id, count(*) FROM members m JOIN communities c ON c.id = m.community_id "
            "GROUP BY c.id"
        )
        thanks = await reader.rows(
            "SELECT count(*) FROM points_ledger WHERE reason = 'thanks' AND currency = 'xp'"
        )
        awards = await reader.rows(
            "SELECT source, count(*) FROM points_ledger WHERE reason = 'message' GROUP BY source"
        )
    finally:
        await reader.close()
        await fake.close()
    assert len(stored) == MESSAGES
    assert max(count for _, _, count in stored) == 1  # none counted twice
    guild_of = {m["id"]: m["guild_id"] for m in messages}
    assert all(guild_of[message_id] == guild for guild, message_id, _ in stored)
    assert Counter(guild for guild, _, _ in stored) == {str(g.id): MESSAGES // 2 for g in guilds}
    # One account per Discord user although both processes met each user at once; a member
    # of each of the two communities.
    assert sorted(count for _, count in accounts) == [1] * len(MEMBERS)
    assert sorted(count for _, count in members) == [len(MEMBERS), len(MEMBERS)]
    # Once a day per giver and receiver in a community.
    pairs = {
        (
            n % 2,
            (n // 2) % len(MEMBERS),
            (n - 2) // 2 % len(MEMBERS),
            (start + timedelta(seconds=n)).date(),
        )
        for n in range(24, MESSAGES, 25)
    }
    assert thanks[0][0] == len(pairs)
    # Each member posts every 80 s in each guild (past the 60 s cooldown): every message
    # earns its XP once, whichever process handled it, live or backfilled.
    assert dict(awards) == {f"message:{m['id']}": 1 for m in messages}
