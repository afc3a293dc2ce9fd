"""Kill -9 and restart on Discord lose nothing and double nothing (issue 17): the real
discord.py client against the fake Discord, Hearth in a subprocess (`hearth run`) on SQLite.

Discord never redelivers: what Hearth received but had not committed when it was killed, and
everything posted while it was down, exists only in channel history, which the backfill reads
after the restart. 3,000 messages (thanks replies, FAQ questions answered and not) in two
channels, and reactions, stream in; Hearth is killed with SIGKILL mid-stream three times,
each time while messages it was sent are not yet written; the next 150 messages are posted
while it is down; it is restarted. The final database equals that of a clean run of the same
stream: messages, reactions, ledger, XP totals (= ledger sums), period XP, thanks.

What the backfill reads is counted but never answered: no FAQ answer, no level-up post, no
reply for a message read from history (the fake records everything Hearth sent).

Reactions are sent live only, and each chunk's before its messages once Hearth has committed
the previous ones: Discord keeps no record of who reacted while Hearth was down or of a
reaction a killed process had received (history has counts only), so those are lost on
Discord by nature; reactions posted during an outage are sent after it, as late reactions.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.discord_runs import (
    SEEN,
    Reader,
    differences,
    eventually,
    hearth,
    kill,
    stop,
    tracebacks,
    write_config,
)
from tests.fakes.discord_server import GENERAL_ID, GUILD_ID, MODS_ID, FakeDiscord, member

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")

MEMBERS = [member(2000 + k, f"member{k}") for k in range(40)]
ROOT = member(1999, "root")
MANAGE_SERVER = 1 << 5
MESSAGES = 3000
CHUNK = 150
#: Kill in these chunks (when a third of it is stored); the chunk after each is posted while
#: Hearth is down.
KILLS = (3, 9, 15)
QUESTION = "How do I reserve a table?"
ANSWER = "Ask at the counter."
CALLBACK = r"/interactions/\d+/[^/]+/callback"


@dataclass
class Chunk:
    """Reactions to the previous chunk's messages, then this chunk's messages."""

    reactions: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)


def _stream(start: datetime) -> tuple[dict[str, Any], list[Chunk]]:
    """The /faq add interaction and the chunks: 3,000 messages one second apart (each member
    every 40 s, so about half earn XP past the cooldown), thanks replies, FAQ questions."""
    maker = FakeDiscord()  # ids made once, the same in both runs
    faq = maker.interaction(
        ROOT,
        "faq",
        [
            {
                "type": 1,
                "name": "add",
                "options": [
                    {"name": "question", "type": 3, "value": QUESTION},
                    {"name": "answer", "type": 3, "value": ANSWER},
                ],
            }
        ],
        permissions=MANAGE_SERVER,
    )
    # Sent with the stream, not on the fake's default day (months ago): a text older than
    # activity.text_retention_days is blanked by the purge each start runs.
    faq["id"] = str(maker.snowflake(start))
    chunks = [Chunk() for _ in range(MESSAGES // CHUNK)]
    made: dict[int, dict[str, Any]] = {}
    for n in range(1, MESSAGES + 1):
        author = MEMBERS[n % len(MEMBERS)]
        channel = MODS_ID if n % 3 == 0 else GENERAL_ID
        extra: dict[str, Any] = {}
        if n % 25 == 7 and n > 3:
            text = "thanks a lot!"
            to = made[n - 3]  # same channel
            extra = {
                "type": 19,
                "message_reference": {
                    "message_id": to["id"],
                    "channel_id": to["channel_id"],
                    "guild_id": str(GUILD_ID),
                },
            }
        elif n % 100 == 11:
            text = QUESTION
        elif n % 50 == 36:
            text = f"what is the weather on mars on day {n}?"
        else:
            text = f"message {n} from the tea house"
        message = maker.message(
            author, text, channel=channel, at=start + timedelta(seconds=n), **extra
        )
        made[n] = message
        chunk = chunks[(n - 1) // CHUNK]
        chunk.messages.append(message)
        if n % 10 == 5 and (n - 1) // CHUNK + 1 < len(chunks):
            reactor = MEMBERS[(n + 7) % len(MEMBERS)]
            chunks[(n - 1) // CHUNK + 1].reactions.append(
                {
                    "user_id": reactor["user"]["id"],
                    "channel_id": message["channel_id"],
                    "message_id": message["id"],
                    "message_author_id": author["user"]["id"],
                    "guild_id": str(GUILD_ID),
                    "member": reactor,
                    "emoji": {"id": None, "name": "👍"},
                    "type": 0,
                    "burst": False,
                }
            )
    return faq, chunks


@dataclass
class Outcome:
    """What one run left: the database and what Hearth sent to Discord."""

    snapshot: dict[str, Counter[tuple[Any, ...]]]
    #: Message ids Hearth replied to, with how many replies each got.
    replies: Counter[str]
    #: Messages, level-ups and other things Hearth posted, by text.
    posts: Counter[str]
    #: Per kill: messages Hearth had been sent but not stored when it was killed.
    in_flight: list[int]
    #: Messages only the backfill could read (posted while down or in flight at a kill).
    backfilled: set[str]
    #: What Hearth did on Discord between each restart and the end of its backfill.
    while_backfilling: list[str]


def _replies(fake: FakeDiscord) -> tuple[Counter[str], Counter[str]]:
    replies: Counter[str] = Counter()
    posts: Counter[str] = Counter()
    for call in fake.calls:
        if call.method == "POST" and re.fullmatch(r"/channels/\d+/messages", call.path):
            reference = (call.json or {}).get("message_reference")
            if reference:
                replies[str(reference["message_id"])] += 1
            else:
                posts[str(call.json.get("content"))] += 1
    return replies, posts


async def _dispatch(fake: FakeDiscord, event: str, data: dict[str, Any]) -> None:
    try:
        await fake.dispatch(event, data)
    except ConnectionError:
        pass  # the socket of a killed process: the message is in history all the same


async def _run(
    directory: Path, faq: dict[str, Any], chunks: list[Chunk], kills: tuple[int, ...]
) -> Outcome:
    """Stream `chunks` through Hearth, killing it in each chunk of `kills` and posting the
    chunk after it while Hearth is down, then restarting it."""
    url = f"sqlite+aiosqlite:///{directory / 'hearth.db'}"
    fake = FakeDiscord()
    await fake.start()
    write_config(
        directory,
        url,
        moderation="enabled = false",  # 3,000 messages in an hour are no flood here
        # Fixed amounts (the default draws 15-25), no caps reached: one result possible.
        points="message_xp_min = 20\nmessage_xp_max = 20\ndaily_cap = 1000000\n"
        "reaction_daily_cap = 1000000",
        faq="answer_cooldown_minutes = 0",  # kept in memory only: every hit is answered
        schedule="worker = false",
    )
    reader = Reader(url)
    posted: set[str] = set()
    held: list[dict[str, Any]] = []
    reactions = 0
    in_flight: list[int] = []
    backfilled: set[str] = set()
    while_backfilling: list[str] = []

    async def caught_up() -> bool:
        return posted <= await reader.stored() and await reader.reaction_awards() >= reactions

    async def connected() -> bool:
        return fake.connected(GUILD_ID) > 0

    def seen_since(mark: int) -> list[str]:
        return [
            f"{c.method} {c.path}"
            for c in fake.calls[mark:]
            if c.method != "GET" and re.fullmatch(SEEN, c.path)
        ]

    async def live(chunk: Chunk, *, kill_at: int | None = None) -> None:
        nonlocal reactions, held
        for reaction in held + chunk.reactions:
            await _dispatch(fake, "MESSAGE_REACTION_ADD", reaction)
            reactions += 1
        held = []
        await eventually(caught_up, what="the reactions")
        for message in chunk.messages:
            posted.add(message["id"])
            await _dispatch(fake, "MESSAGE_CREATE", message)
            # Before a kill, slower than the writer's flushes (every 0.2 s): the kill then
            # finds messages received but not yet committed.
            await asyncio.sleep(0 if kill_at is None else 0.005)
        if kill_at is None:
            await eventually(caught_up, what="the chunk")

    try:
        async with AsyncExitStack() as processes:
            process = await processes.enter_async_context(hearth(directory, fake))
            await eventually(connected, what="the gateway")
            await _dispatch(fake, "INTERACTION_CREATE", faq)
            await fake.wait_for("POST", CALLBACK, timeout=30)
            index = 0
            while index < len(chunks):
                if index not in kills:
                    await live(chunks[index])
                    index += 1
                    continue
                # Kill while this chunk's messages are being handled: a third stored.
                before = len(await reader.stored())
                feeding = asyncio.ensure_future(live(chunks[index], kill_at=CHUNK // 3))

                async def a_third_stored(before: int = before) -> bool:
                    return len(await reader.stored()) >= before + CHUNK // 3

                await eventually(a_third_stored, what="a third of the chunk")
                await kill(process)
                await feeding
                stored = await reader.stored()
                in_flight.append(len(posted - stored))
                backfilled |= posted - stored
                # Posted while Hearth is down: only history has them.
                for message in chunks[index + 1].messages:
                    fake.post(message)
                    posted.add(message["id"])
                    backfilled.add(message["id"])
                held += chunks[index + 1].reactions
                index += 2
                mark = len(fake.calls)
                await process.wait()
                # The restart: a new process in the same directory.
                process = await processes.enter_async_context(hearth(directory, fake))
                await eventually(caught_up, what="the backfill")
                while_backfilling += seen_since(mark)
            for reaction in held:
                await _dispatch(fake, "MESSAGE_REACTION_ADD", reaction)
                reactions += 1
            await eventually(caught_up, what="the last reactions")
            assert await stop(process) == 0
    finally:
        await fake.close()
    try:
        await reader.ledger_sums_are_totals()
        snapshot = await reader.snapshot()
    finally:
        await reader.close()
    assert tracebacks(directory) == ""
    replies, posts = _replies(fake)
    return Outcome(snapshot, replies, posts, in_flight, backfilled, while_backfilling)


async def test_three_kills_on_discord_lose_nothing_and_double_nothing(tmp_path: Path) -> None:
    faq, chunks = _stream(datetime.fromtimestamp(int(time.time()) - 2 * 3600, UTC))
    (tmp_path / "clean").mkdir()
    (tmp_path / "killed").mkdir()
    clean = await _run(tmp_path / "clean", faq, chunks, ())
    killed = await _run(tmp_path / "killed", faq, chunks, KILLS)

    messages = clean.snapshot["messages"]
    assert len(messages) == MESSAGES + 1  # and the /faq add command
    assert max(messages.values()) == 1
    assert sum(clean.snapshot["reactions"].values()) == MESSAGES // 10 - CHUNK // 10
    assert {"message", "reaction", "thanks"} <= {row[2] for row in clean.snapshot["ledger"]}
    assert sum(clean.snapshot["faq unanswered"].values()) >= MESSAGES // 50
    questions = {m["id"] for c in chunks for m in c.messages if m["content"] == QUESTION}
    assert set(clean.replies) == questions  # every question answered once
    assert max(clean.replies.values()) == 1
    assert any("level" in text.lower() for text in clean.posts)  # level-ups are announced

    assert differences(clean.snapshot, killed.snapshot) == {}  # 0 lost, 0 doubled
    # Each kill cut off messages Hearth had been sent: only the backfill brought them back.
    assert all(count > 0 for count in killed.in_flight), killed.in_flight
    assert len(killed.backfilled) >= len(KILLS) * CHUNK
    # Nothing was said about what the backfill read: no FAQ answer, no level-up, no reply.
    assert killed.while_backfilling == []
    assert max(killed.replies.values()) == 1  # no question answered twice
    unanswered = set(clean.replies) - set(killed.replies)
    posted_while_down = {m["id"] for k in KILLS for m in chunks[k + 1].messages}
    assert questions & posted_while_down <= unanswered <= killed.backfilled
    assert sum(killed.posts.values()) < sum(clean.posts.values())  # fewer level-ups said
