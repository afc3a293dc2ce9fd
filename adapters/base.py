"""The adapter port: how a platform connects to the engine."""

from __future__ import annotations

from typing import Protocol

from bot.engine import Engine
from bot.events import Action, Role

__all__ = ["Adapter"]


class Adapter(Protocol):
    """A platform connection: feeds events to the engine and performs its actions."""

    #: The platform name; the engine routes this platform's actions to `perform`.
    name: str

    async def run(self, engine: Engine) -> None:
        """Receive events and hand them to `engine` until the input ends or the task is
        cancelled. Returning means the adapter is done (the console at end of input)."""
        ...

    async def perform(self, action: Action) -> str | None:
        """Carry out one action on the platform; return the id of the message it sent
        (the first, when a long text was split), or None.

        Raises:
            DeliveryFailed: the platform refused (closed DMs, missing permission, gone) and
                the engine tells the community's moderators; or, with problem UNSUPPORTED,
                the platform has no such thing (role grants on Telegram).
        """
        ...

    async def member_role(self, group_id: str, user_id: str) -> Role | None:
        """The account's current role in a group of this platform, or None when the
        platform cannot tell (the engine then keeps what it knew)."""
        ...
