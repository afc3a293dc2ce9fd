"""The console adapter: a chat with Hearth in the terminal, the embedded default.

Interactive (stdin is a terminal): a prompt; each line is a message from the console member,
lines starting with ``/`` are commands. Piped: each line is one input, processed in order.
Beside messages and commands, lines can play replies, reactions, joins, leaves and the passing
of time (``adapters/console_script.py`` has the syntax). Every line Hearth writes starts with
``hearth> ``. At end of input Hearth flushes, stops and exits 0. Input that is not valid UTF-8
is read with replacement characters, never refused.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
import threading
import time
from datetime import datetime, timedelta
from typing import Protocol, TextIO

from adapters.console_script import ClockMove, ScriptError, Transcript, parse_line
from bot.engine import Engine
from bot.events import (
    Action,
    DeleteMessage,
    DirectMessage,
    GrantRole,
    Place,
    Post,
    React,
    Reply,
    Restrict,
    Role,
)
from bot.i18n import N_, translator
from bot.localtime import local_time

__all__ = ["PLATFORM", "ConsoleAdapter", "MovableClock", "parse_line"]

logger = logging.getLogger(__name__)
#: Due moments one clock move stops at, at most (a year of hourly posts fits).
_MAX_STOPS = 10_000
PLATFORM = "console"
PREFIX = "hearth> "


class MovableClock(Protocol):
    """A clock the console can move (``~ +1d``): the manual clock, or the shifted wall clock."""

    def now(self) -> datetime:
        """The current time (UTC)."""
        ...

    def advance(self, delta: timedelta) -> None:
        """Move forward by `delta`."""
        ...

    def set(self, moment: datetime) -> None:
        """Jump to `moment`."""
        ...


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
        user = action.user_id
        removed = "".join(f" (role {role} removed from @{user})" for role in action.revoke)
        given = f"(role {action.role_id} → @{action.user_id})" if action.role_id else ""
        return (given + removed).strip()
    if isinstance(action, React):
        return f"({action.emoji} on message {action.message_id})"
    if isinstance(action, DeleteMessage):
        return f"(deleted message {action.message_id}: {action.reason})"
    if isinstance(action, Restrict):
        until = f" until {local_time(action.until, 'UTC')}" if action.until else ""
        return f"({action.sanction.value} @{action.user_id}{until}: {action.reason})"
    raise AssertionError(f"unhandled action {action!r}")  # pragma: no cover


def _lenient(stream: TextIO) -> TextIO:
    """`stream` decoding bad bytes as U+FFFD instead of failing (or smuggling surrogates)."""
    if isinstance(stream, io.TextIOWrapper):
        stream.reconfigure(errors="replace")
    return stream


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
        except (OSError, ValueError, RuntimeError) as error:
            # The stream closed or the loop is gone: end of input, said once.
            logger.warning("console input ended: %s", error)
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
        clock: MovableClock,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        interactive: bool | None = None,
    ) -> None:
        self.place = Place(PLATFORM, community, "general")
        self.user = user
        self.admin = admin
        self.clock = clock
        self.stdin = _lenient(stdin or sys.stdin)
        self.stdout = _lenient(stdout or sys.stdout)
        self.interactive = self.stdin.isatty() if interactive is None else interactive
        # Message ids must not repeat across runs sharing one database.
        self.transcript = Transcript(
            place=self.place, user=user, admin=admin, run=f"{time.time_ns():x}", clock=clock
        )

    def _write(self, text: str) -> None:
        for line in text.splitlines() or [""]:
            self.stdout.write(f"{PREFIX}{line}\n")
        self.stdout.flush()

    async def member_role(self, group_id: str, user_id: str) -> Role | None:
        """The console's user is an admin when started with admin rights; anyone else a member."""
        return Role.ADMIN if self.admin and user_id == self.user else Role.MEMBER

    async def perform(self, action: Action) -> str | None:
        """Print the action as `hearth> ` lines; a reply or post gets an id others can name."""
        self._write(_render(action))
        if isinstance(action, Reply | Post):
            return self.transcript.sent_by_hearth()
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
                # The number the next message gets, for replies and reactions to point at.
                self.stdout.write(f"{self.user} #{self.transcript.next_number}> ")
                self.stdout.flush()
            line = await reader.readline()
            if line is None:
                return
            try:
                read = self.transcript.read(line)
            except ScriptError as error:
                self._write(f"(console: {error})")
                continue
            if isinstance(read, ClockMove):
                await self._move_clock(read, engine)
            elif read is not None:
                await engine.process(read)

    async def _move_clock(self, move: ClockMove, engine: Engine) -> None:
        """Move time as the line says, stopping at each moment work falls due on the way
        (scheduled posts, digests) as if the time had passed with Hearth running."""
        clock = self.clock
        target = clock.now() + move.by if move.by is not None else move.to
        if target is None or target < clock.now():
            self._write("(console: the clock only moves forward)")
            return
        last: datetime | None = None
        for _ in range(_MAX_STOPS):
            due = await engine.next_due()
            if due is None or due > target or (last is not None and due <= last):
                break  # nothing more on the way (or work that does not move on: stop)
            last = due
            if due > clock.now():
                clock.set(due)
            await engine.run_due()
        clock.set(target)
        await engine.run_due()
        self._write(f"(console: it is now {local_time(clock.now(), 'UTC')})")
