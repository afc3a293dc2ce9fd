"""What every feature is given and what it must provide."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.clock import Clock
from bot.commands import Command
from bot.config import Settings
from bot.delivery import Dispatcher
from bot.directory import Directory
from bot.events import Action, Event
from bot.i18n import Translator
from storage.database import Database
from storage.identity import CommunityInfo
from storage.writer import ActivityWriter

__all__ = ["BaseFeature", "EventContext", "Feature", "Services"]


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

    async def stop(self) -> None:
        """Nothing to stop by default."""
