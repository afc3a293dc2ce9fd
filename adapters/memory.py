"""An in-memory adapter: tests push events and read what the bot did.

Modelled on errbot's test backend; every feature test goes through it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime

from bot.clock import Clock
from bot.engine import Engine
from bot.errors import DeliveryFailed
from bot.events import (
    Action,
    Author,
    CommandInvoked,
    DirectMessage,
    Event,
    MemberJoined,
    MemberLeft,
    Message,
    Place,
    Post,
    ReactionAdded,
    Reply,
    Role,
)

__all__ = ["MemoryAdapter"]


class MemoryAdapter:
    """Builds events for one group, sends them through the engine, records the actions."""

    name = "memory"

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        *,
        platform: str = "memory",
        group: str = "group-1",
        channel: str = "general",
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.platform = platform
        self.group = group
        self.channel = channel
        self.performed: list[Action] = []
        self.refuse: Callable[[Action], DeliveryFailed | None] = lambda action: None
        #: Members' current roles as the platform would report them (unknown if absent).
        self.roles: dict[str, Role] = {}
        self._ids = itertools.count(1)
        engine.attach(platform, self.perform, self.member_role)

    async def run(self, engine: Engine) -> None:
        """Nothing to receive on its own: tests call `send` and friends."""

    async def member_role(self, group_id: str, user_id: str) -> Role | None:
        """The role set in `roles` for `user_id`; None (unknown) otherwise."""
        return self.roles.get(user_id)

    async def perform(self, action: Action) -> str | None:
        """Record the action, unless `refuse` says the platform refuses it; messages sent get
        ids ``bot-1``, ``bot-2``…"""
        failure = self.refuse(action)
        if failure is not None:
            raise failure
        self.performed.append(action)
        if isinstance(action, Reply | Post | DirectMessage):
            return f"bot-{len(self.performed)}"
        return None

    def place(self, channel: str | None = None, thread: str | None = None) -> Place:
        """The place of a channel in this adapter's group."""
        return Place(self.platform, self.group, channel or self.channel, thread)

    async def send(self, event: Event) -> list[Action]:
        """Hand `event` to the engine, deliver the actions (recording them) and return them."""
        actions = await self.engine.handle(event)
        await self.engine.services.dispatcher.dispatch(actions)
        return actions

    async def say(
        self,
        user: str,
        text: str,
        *,
        channel: str | None = None,
        thread: str | None = None,
        message_id: str | None = None,
        reply_to: str | None = None,
        mentions: tuple[str, ...] = (),
        at: datetime | None = None,
        is_bot: bool = False,
    ) -> list[Action]:
        """Post `text` as `user` (a plain message, never parsed as a command)."""
        return await self.send(
            Message(
                place=self.place(channel, thread),
                message_id=message_id or str(next(self._ids)),
                author=Author(user_id=user, name=user, is_bot=is_bot),
                text=text,
                sent_at=at or self.clock.now(),
                reply_to=reply_to,
                mentions=mentions,
            )
        )

    async def command(
        self,
        user: str,
        line: str,
        *,
        role: Role = Role.MEMBER,
        channel: str | None = None,
        message_id: str | None = None,
    ) -> list[str]:
        """Run `/name args` as `user` with `role`; return the texts of the replies."""
        name, _, args = line.removeprefix("/").partition(" ")
        actions = await self.send(
            CommandInvoked(
                place=self.place(channel),
                invoker=Author(user_id=user, name=user),
                name=name,
                args=args.strip(),
                sent_at=self.clock.now(),
                invoker_role=role,
                message_id=message_id or str(next(self._ids)),
            )
        )
        return [action.text for action in actions if isinstance(action, Reply)]

    async def join(self, user: str, *, at: datetime | None = None) -> list[Action]:
        """`user` joins the group."""
        author = Author(user_id=user, name=user)
        return await self.send(
            MemberJoined(self.platform, self.group, author, at or self.clock.now())
        )

    async def leave(self, user: str, *, at: datetime | None = None) -> list[Action]:
        """`user` leaves the group."""
        author = Author(user_id=user, name=user)
        return await self.send(
            MemberLeft(self.platform, self.group, author, at or self.clock.now())
        )

    async def react(
        self, user: str, message_id: str, emoji: str = "👍", *, channel: str | None = None
    ) -> list[Action]:
        """`user` reacts to a message."""
        return await self.send(
            ReactionAdded(
                place=self.place(channel),
                message_id=message_id,
                reactor=Author(user_id=user, name=user),
                emoji=emoji,
                at=self.clock.now(),
            )
        )
