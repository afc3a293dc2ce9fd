"""Safety across the whole command registry: permissions, isolation, hostile input."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from adapters.memory import MemoryAdapter
from bot.clock import ManualClock
from bot.commands import Command, ParamKind
from bot.events import Author, CommandInvoked, Message, Role
from storage.models import MessageLog
from tests.conftest import Harness, make_settings, start_harness

REFUSALS = {
    Role.MODERATOR: "Only moderators and admins can use /{path}.",
    Role.ADMIN: "Only admins can use /{path}.",
}


def _sample_args(command: Command) -> str:
    """Arguments that parse for the command's parameters (permission comes first anyway)."""
    values = []
    for param in command.params:
        if param.kind is ParamKind.INTEGER:
            values.append(str(param.minimum or 1))
        elif param.choices:
            values.append(param.choices[0])
        elif param.kind is ParamKind.MEMBER:
            values.append("@alice")
        else:
            values.append("x")
    return (f" {command.separator} " if command.separator else " ").join(values)


async def test_every_privileged_command_is_refused_to_those_below_it(harness: Harness) -> None:
    privileged = [c for c in harness.engine.registry if c.role > Role.MEMBER]
    assert len(privileged) >= 15  # the registry really was walked
    for command in privileged:
        below = [role for role in Role if role < command.role]
        for role in below:
            line = f"/{command.path} {_sample_args(command)}"
            replies = await harness.chat.command("mallory", line, role=role)
            assert replies == [REFUSALS[command.role].format(path=command.path)], line


async def test_commands_cannot_reach_another_community(harness: Harness) -> None:
    h = harness
    other = MemoryAdapter(h.engine, h.clock, group="group-2")
    await other.command("boss", "/faq add Where are the rules? | Pinned.", role=Role.ADMIN)
    await other.command("boss", "/schedule add daily 09:00 | Good morning!", role=Role.ADMIN)
    await other.say("carol", "hello from the other community")
    await other.command("boss", "/warn carol rude", role=Role.ADMIN)  # warning and action #1
    await other.command("boss", "/mod words add secret", role=Role.ADMIN)
    id_commands = [
        c
        for c in h.engine.registry
        if c.params and c.params[0].name == "id" and c.params[0].kind is ParamKind.INTEGER
    ]
    assert len(id_commands) >= 8
    for command in id_commands:
        rest = [
            _sample_args(Command(c.name, c.handler, c.help, params=(p,)))
            for c in (command,)
            for p in command.params[1:]
        ]
        joined = f" {command.separator} " if command.separator else " "
        line = f"/{command.path} {joined.join(['1', *rest])}".strip()
        (reply,) = await h.chat.command("root", line, role=Role.ADMIN)
        assert reply.startswith(("There is no", "No schedule", "no schedule")), (line, reply)
    (history,) = await h.chat.command("root", "/points history carol", role=Role.ADMIN)
    assert history == "No member called carol here."
    assert await h.chat.command("root", "/mod words list", role=Role.ADMIN) == [
        "No blocked phrases."
    ]
    (warnings,) = await other.command("boss", "/warnings carol", role=Role.ADMIN)
    assert "#1" in warnings
    assert "(revoked)" not in warnings  # /unwarn 1 in the first community changed nothing
    (shown,) = await other.command("boss", "/faq show 1")
    assert shown.startswith("#1")
    listing = await other.command("boss", "/schedule list", role=Role.ADMIN)
    assert "Good morning!" in listing[0]


HOSTILE = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F), max_size=50),
    st.sampled_from(
        [
            "<b>@everyone</b>",
            "*_~`|",
            "\u202e\u200b",
            "/" * 50,
            "| | |",
            '"""',
            "@" * 100,
            "💥" * 500,
            "a" * 100_000,
        ]
    ),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text=HOSTILE, seed=st.integers(0, 10_000))
def test_hostile_input_never_escapes_the_engine(
    tmp_path_factory: pytest.TempPathFactory, text: str, seed: int
) -> None:
    asyncio.run(_hostile(tmp_path_factory.mktemp("hostile"), text, seed))


async def _hostile(root: object, text: str, seed: int) -> None:
    clock = ManualClock(datetime(2026, 3, 1, tzinfo=UTC))
    h = await start_harness(make_settings(f"sqlite+aiosqlite:///{root}/h.db"), clock)
    rng = random.Random(seed)
    try:
        names = sorted({c.group or c.name for c in h.engine.registry})
        author = Author("eve", text[:50] or "eve")
        place = h.chat.place()
        for n, name in enumerate(rng.sample(names, min(6, len(names)))):
            role = rng.choice(list(Role))
            event = CommandInvoked(place, author, name, text, clock.now(), role, f"c{n}")
            assert isinstance(await h.engine.handle(event), list)
        message = Message(
            place, "m1", author, text, clock.now(), reply_to="m0", mentions=(text[:20],)
        )
        await h.engine.handle(message)
        await h.engine.handle(message)  # redelivered
        await h.engine.services.writer.flush()
        async with h.database.session() as session:
            count = (
                await session.execute(
                    select(func.count())
                    .select_from(MessageLog)
                    .where(MessageLog.message_id == "m1")
                )
            ).scalar_one()
        assert count == 1
    finally:
        await h.engine.stop()
