"""What every feature is given and what it must provide."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.clock import Clock
from bot.commands import Command, CommandCall
from bot.config import Settings
from bot.delivery import Dispatcher
from bot.directory import Directory
from bot.errors import InvalidArguments, NotFound
from bot.events import Action, Event
from bot.i18n import N_, Translator
from storage.database import Database
from storage.identity import CommunityInfo, find_members
from storage.writer import ActivityWriter

__all__ = ["DM_CLOSED", "BaseFeature", "EventContext", "Feature", "Services", "resolve_member"]

#: What a member is told when a command's private message could not reach them.
DM_CLOSED = N_(
    "I could not send you a private message. Start a chat with me (or allow direct messages "
    "from this server) and try /{command} again."
)


@dataclass(frozen=True, slots=True)
class Services:
    """Shared dependencies, built once by the composition root (tests replace them)."""

    settings: Settings
    database: Database
    writer: ActivityWriter
    directory: Directory
    dispatcher: Dispatcher
    clock: Clock
    rng: random.Random


@dataclass(frozen=True, slots=True)
class EventContext:
    """Who and where an event is, resolved by the engine before features see it."""

    community: CommunityInfo
    group_id: int
    member_id: int
    tr: Translator


class Feature(Protocol):
    """A feature: handles events, owns commands, may run background work."""

    name: str

    def commands(self) -> Sequence[Command]:
        """Commands this feature owns."""
        ...

    async def on_event(self, event: Event, context: EventContext) -> Sequence[Action]:
        """React to one event; return the actions to perform (often none)."""
        ...

    async def start(self) -> None:
        """Start background work (called once, after migrations)."""
        ...

    async def tick(self) -> Sequence[object]:
        """Do the background work that is due now (scheduled posts, digests); return what
        was done. Background loops call it; so does the console after moving its clock."""
        ...

    async def next_due(self) -> datetime | None:
        """When background work is next due (None: nothing planned), so a moved clock can
        stop at each due moment instead of jumping past it."""
        ...

    async def stop(self) -> None:
        """Stop background work (called once, before storage is flushed)."""
        ...


class BaseFeature:
    """Do-nothing defaults so a feature implements only what it needs."""

    name = "base"

    def __init__(self, services: Services) -> None:
        self.services = services

    def commands(self) -> Sequence[Command]:
        """No commands by default."""
        return ()

    async def on_event(self, event: Event, context: EventContext) -> Sequence[Action]:
        """Ignore events by default."""
        return ()

    async def start(self) -> None:
        """Nothing to start by default."""

    async def tick(self) -> Sequence[object]:
        """No background work by default."""
        return ()

    async def next_due(self) -> datetime | None:
        """Nothing planned by default."""
        return None

    async def stop(self) -> None:
        """Nothing to stop by default."""


async def resolve_member(database: Database, call: CommandCall, ref: str) -> tuple[int, str]:
    """(member id, name) of the one member of the caller's community that `ref` (a mention,
    a platform id or a name) names.

    Raises:
        NotFound: nobody here is called that.
        InvalidArguments: several members are.
    """
    async with database.session() as session:
        found = await find_members(
            session, community_id=call.community.id, platform=call.event.place.platform, ref=ref
        )
    if not found:
        raise NotFound(call.tr(N_("No member called {name} here.")).format(name=ref))
    if len(found) > 1:
        raise InvalidArguments(
            call.tr(N_("{name} matches several members; use a mention.")).format(name=ref)
        )
    return found[0]
