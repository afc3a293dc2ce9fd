"""The console adapter: a chat with Hearth in the terminal, the embedded default.

Interactive (stdin is a terminal): a prompt; each line is a message from the console member,
lines starting with ``/`` are commands. Piped: each line is one message, processed in order;
``@name: text`` is a message from member ``name``. Every line Hearth writes starts with
``hearth> ``. At end of input Hearth flushes, stops and exits 0.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import sys
import threading
import time
from typing import TextIO

from bot.clock import Clock
from bot.engine import Engine
from bot.events import (
    Action,
    Author,
    CommandInvoked,
    DeleteMessage,
    DirectMessage,
    Event,
    GrantRole,
    Message,
    Place,
    Post,
    React,
    Reply,
    Restrict,
    Role,
)
from bot.i18n import N_, translator

__all__ = ["PLATFORM", "ConsoleAdapter", "parse_line"]

PLATFORM = "console"
PREFIX = "hearth> "
_SPEAKER = re.compile(r"^@([^\s:]{1,64}):\s?(.*)$", re.DOTALL)
_COMMAND = re.compile(r"^/([^\s@/]+)(?:@\S+)?(?:\s+(.*))?$", re.DOTALL)


def parse_line(
    line: str,
    *,
    place: Place,
    default_user: str,
    admin: bool,
    message_id: str,
    clock: Clock,
) -> Event | None:
    """Turn one console line into an event (None for a blank line)."""
    text = line.rstrip("\r\n")
    user = default_user
    speaker = _SPEAKER.match(text)
    if speaker:
        user, text = speaker.group(1), speaker.group(2)
    if not text.strip():
        return None
    author = Author(user_id=user, name=user)
    command = _COMMAND.match(text.strip())
    if command:
        role = Role.ADMIN if admin and user == default_user else Role.MEMBER
        return CommandInvoked(
            place=place,
            invoker=author,
            name=command.group(1),
            args=(command.group(2) or "").strip(),
            sent_at=clock.now(),
            invoker_role=role,
            message_id=message_id,
        )
    return Message(
        place=place,
        message_id=message_id,
        author=author,
        text=text,
        sent_at=clock.now(),
        mentions=tuple(re.findall(r"@(\w+)", text)),
    )


def _render(action: Action) -> str:
    if isinstance(action, Reply):
        return action.text
    if isinstance(action, Post):
        # A poll without text of its own (a scheduled poll) leads with its question.
        head = action.text or (action.poll.question if action.poll else "")
        lines = [f"[#{action.target.channel_id}] {head}".rstrip()]
        if action.image:
            lines.append(f"[image: {action.image}]")
        if action.poll:
            if action.text:
                lines.append(action.poll.question)
            lines += [f"{n}. {option}" for n, option in enumerate(action.poll.options, 1)]
        return "\n".join(lines)
    if isinstance(action, DirectMessage):
        attached = f"\n[file: {action.file}]" if action.file else ""
        return f"(to @{action.user_id}) {action.text}{attached}"
    if isinstance(action, GrantRole):
        return f"(role {action.role_id} → @{action.user_id})"
    if isinstance(action, React):
        return f"({action.emoji} on message {action.message_id})"
    if isinstance(action, DeleteMessage):
        return f"(deleted message {action.message_id}: {action.reason})"
    if isinstance(action, Restrict):
        until = f" until {action.until:%Y-%m-%d %H:%M} UTC" if action.until else ""
        return f"({action.sanction.value} @{action.user_id}{until}: {action.reason})"
    raise AssertionError(f"unhandled action {action!r}")  # pragma: no cover


class _LineReader:
    """Reads stdin on a daemon thread so a blocked read never holds up shutdown."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=1000)
        self._loop = asyncio.get_running_loop()
        threading.Thread(target=self._pump, name="console-stdin", daemon=True).start()

    def _pump(self) -> None:
        try:
            for line in self._stream:
                asyncio.run_coroutine_threadsafe(self._queue.put(line), self._loop).result()
        except (OSError, ValueError, RuntimeError):
            pass  # stream closed or loop gone: treat as end of input
        finally:
            try:
                asyncio.run_coroutine_threadsafe(self._queue.put(None), self._loop)
            except RuntimeError:
                pass

    async def readline(self) -> str | None:
        """The next line, or None at end of input."""
        return await self._queue.get()


class ConsoleAdapter:
    """Terminal chat with the engine."""

    name = PLATFORM

    def __init__(
        self,
        *,
        community: str,
        user: str,
        admin: bool,
        clock: Clock,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        interactive: bool | None = None,
    ) -> None:
        self.place = Place(PLATFORM, community, "general")
        self.user = user
        self.admin = admin
        self.clock = clock
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.interactive = self.stdin.isatty() if interactive is None else interactive
        # Message ids must not repeat across runs sharing one database.
        self._run = f"{time.time_ns():x}"
        self._counter = itertools.count(1)

    def _write(self, text: str) -> None:
        for line in text.splitlines() or [""]:
            self.stdout.write(f"{PREFIX}{line}\n")
        self.stdout.flush()

    async def member_role(self, group_id: str, user_id: str) -> Role | None:
        """The console's user is an admin when started with admin rights; anyone else a member."""
        return Role.ADMIN if self.admin and user_id == self.user else Role.MEMBER

    async def perform(self, action: Action) -> str | None:
        """Print the action as `hearth> ` lines."""
        self._write(_render(action))
        return None

    async def run(self, engine: Engine) -> None:
        """Read lines until end of input, handling each one before reading the next."""
        reader = _LineReader(self.stdin)
        if self.interactive:
            group = await engine.services.directory.group(PLATFORM, self.place.group_id)
            tr = translator(group.community.language)
            self._write(
                tr(
                    N_(
                        "Hearth console for {community}. You are @{user}. Send /help for "
                        "commands, Ctrl+D to quit."
                    )
                ).format(community=self.place.group_id, user=self.user)
            )
        while True:
            if self.interactive:
                self.stdout.write(f"{self.user}> ")
                self.stdout.flush()
            line = await reader.readline()
            if line is None:
                return
            event = parse_line(
                line,
                place=self.place,
                default_user=self.user,
                admin=self.admin,
                message_id=f"{self._run}-{next(self._counter)}",
                clock=self.clock,
            )
            if event is None:
                continue
            await engine.process(event)
