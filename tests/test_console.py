"""The console adapter in-process: line parsing, interactive prompt, rendering."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from adapters.console import ConsoleAdapter, parse_line
from adapters.runner import serve
from bot.bootstrap import build_engine
from bot.clock import ManualClock
from bot.events import CommandInvoked, Message, Place, Poll, Post, Role
from tests.conftest import make_settings

PLACE = Place("console", "console", "general")


_CLOCK = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))


def _parse(line: str, admin: bool = False) -> object:
    return parse_line(
        line, place=PLACE, default_user="you", admin=admin, message_id="1", clock=_CLOCK
    )


def test_lines_become_messages_and_commands() -> None:
    message = _parse("hello @bob")
    assert isinstance(message, Message)
    assert (message.author.user_id, message.text, message.mentions) == (
        "you",
        "hello @bob",
        ("bob",),
    )
    spoken = _parse("@alice: 你好")
    assert isinstance(spoken, Message)
    assert (spoken.author.user_id, spoken.text) == ("alice", "你好")
    command = _parse("/faq@hearth_bot add q | a", admin=True)
    assert isinstance(command, CommandInvoked)
    assert (command.name, command.args, command.invoker_role) == ("faq", "add q | a", Role.ADMIN)
    other = _parse("@alice: /timezone UTC", admin=True)
    assert isinstance(other, CommandInvoked)
    assert other.invoker_role is Role.MEMBER
    assert _parse("   \n") is None
    assert _parse("@alice:   ") is None


async def test_interactive_session_shows_banner_and_prompt(tmp_path: Path) -> None:
    clock = _CLOCK
    engine = build_engine(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"), clock=clock)
    out = io.StringIO()
    console = ConsoleAdapter(
        community="console",
        user="you",
        admin=False,
        clock=clock,
        stdin=io.StringIO("/help\n"),
        stdout=out,
        interactive=True,
    )
    assert await serve(engine, [console]) == 0
    text = out.getvalue()
    assert text.startswith("hearth> Hearth console for console. You are @you.")
    assert "you #1> hearth> Commands you can use:" in text


async def test_posts_and_polls_render_as_text(tmp_path: Path) -> None:
    out = io.StringIO()
    console = ConsoleAdapter(
        community="c",
        user="you",
        admin=False,
        clock=_CLOCK,
        stdin=io.StringIO(""),
        stdout=out,
        interactive=False,
    )
    await console.perform(
        Post(PLACE, "Weekly poll", poll=Poll("Tea or coffee?", ("tea", "coffee")))
    )
    assert out.getvalue().splitlines() == [
        "hearth> [#general] Weekly poll",
        "hearth> Tea or coffee?",
        "hearth> 1. tea",
        "hearth> 2. coffee",
    ]
