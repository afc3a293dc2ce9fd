"""The engine: resolves who and where, dispatches each event through the features in order,
runs commands (parse, permission check, handler) and returns the actions to perform.

Error policy: an *event* fans out to every feature — one failing feature is logged with the
event's ids and skipped. A *command* has one handler — a `UserFacingError` becomes the reply;
anything else is logged and the member gets a short apology.

A database that cannot be reached is not a failure of the event: the event is held (see
`bot.backlog`) and goes on from where it stopped once the database is back; events behind it
wait their turn. A held command is told so at once and answered when it runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import TypeVar

from bot.backlog import Backlog, Held, retry_delay
from bot.cleaning import cleaned
from bot.commands import Command, CommandCall, CommandRegistry, Param, ParamKind, parse_arguments
from bot.delivery import RoleLookup, Sink, safe_action
from bot.errors import PermissionDenied, UserFacingError
from bot.events import (
    Action,
    Author,
    CommandInvoked,
    DeleteMessage,
    Event,
    MemberJoined,
    MemberLeft,
    Message,
    Post,
    ReactionAdded,
    Reply,
    Role,
)
from bot.features.base import EventContext, Feature, Services
from bot.i18n import N_, Translator, translator
from bot.overrides import is_on, switched_off
from bot.recent import Recent
from bot.tasks import finish, spawn, stop_task
from storage.writer import unreachable

__all__ = ["Engine"]

logger = logging.getLogger(__name__)
F = TypeVar("F")
_REFUSALS = {
    Role.MODERATOR: N_("Only moderators and admins can use /{command}."),
    Role.ADMIN: N_("Only admins can use /{command}."),
}
_HELD_COMMAND = N_(
    "Hearth is having trouble with its database right now. Your command will run as soon as "
    "the database is back."
)
_GROUP_REFUSALS = {
    Role.MODERATOR: N_("The /{group} commands are for moderators and admins."),
    Role.ADMIN: N_("The /{group} commands are for admins."),
}


class _RecentKeys:
    """Remembers the last `capacity` event keys, to drop redelivered updates cheaply."""

    def __init__(self, capacity: int) -> None:
        self._keys: Recent[tuple[str, ...], None] = Recent(capacity)

    def seen(self, key: tuple[str, ...]) -> bool:
        """Return True if `key` was seen before; remember it otherwise."""
        if key in self._keys:
            return True
        self._keys.put(key, None)
        return False


def _event_key(event: Event) -> tuple[str, ...] | None:
    if isinstance(event, Message):
        place = event.place
        return ("m", place.platform, place.group_id, place.channel_id, event.message_id)
    if isinstance(event, CommandInvoked) and event.message_id is not None:
        place = event.place
        return ("m", place.platform, place.group_id, place.channel_id, event.message_id)
    if isinstance(event, ReactionAdded):
        place = event.place
        return (
            "r",
            place.platform,
            place.channel_id,
            event.message_id,
            event.reactor.user_id,
            event.emoji,
        )
    if isinstance(event, MemberJoined | MemberLeft):
        kind = "j" if isinstance(event, MemberJoined) else "l"
        return (kind, event.platform, event.group_id, event.member.user_id, event.at.isoformat())
    return None


def _outgoing(event: Event, key: object, actions: Sequence[Action]) -> list[Action]:
    """The actions to perform for `event`: none for a message read back from history (it
    counts, but nothing is said or done about it now, also when it ran late after a database
    outage); the others made safe to send."""
    if isinstance(event, Message) and event.backfilled:
        if actions:
            logger.debug("backfilled message %s: not performing %s", key, actions)
        return []
    return [safe_action(action) for action in actions]


def _where(event: Event) -> tuple[str, str, str | None, Author]:
    """Platform, group id, group title (when known) and the account behind an event."""
    if isinstance(event, Message):
        place, author = event.place, event.author
    elif isinstance(event, CommandInvoked):
        place, author = event.place, event.invoker
    elif isinstance(event, ReactionAdded):
        place, author = event.place, event.reactor
    else:
        return event.platform, event.group_id, None, event.member
    return place.platform, place.group_id, place.group_name, author


def _removes(event: Event, actions: Sequence[Action]) -> bool:
    """Whether `actions` delete the message `event` is (features after moderation skip it;
    the activity log, which comes first, keeps it as the ground truth)."""
    if not isinstance(event, Message):
        return False
    return any(
        isinstance(action, DeleteMessage)
        and action.message_id == event.message_id
        and action.place.channel_id == event.place.channel_id
        for action in actions
    )


class Engine:
    """Dispatches events through `features` (in the given order) and runs commands."""

    def __init__(self, services: Services, features: Sequence[Feature]) -> None:
        self.services = services
        self.features = tuple(features)
        self.registry = CommandRegistry()
        self.registry.register(
            Command(
                name="help",
                handler=self._help,
                help=N_("Show the commands you can use, or how to use one."),
                params=(Param("command", ParamKind.TEXT, required=False),),
                feature="engine",
            )
        )
        for feature in self.features:
            for command in feature.commands():
                self.registry.register(replace(command, feature=command.feature or feature.name))
        self._recent = _RecentKeys(capacity=50_000)
        self._flusher: asyncio.Task[None] | None = None
        self._retrier: asyncio.Task[None] | None = None
        self._refresher: asyncio.Task[None] | None = None
        #: Events waiting for the database, oldest first (see `bot.backlog`).
        self.backlog = Backlog()
        self._holding = asyncio.Event()
        self._draining = asyncio.Lock()
        self._started = False

    async def start(self) -> None:
        """Apply pending migrations, start the batched writer, the retry of held events and
        every feature."""
        await self.services.database.upgrade()
        self._flusher = spawn("activity-writer", self.services.writer.run)
        self._retrier = spawn("held-events", self._retry_held)
        self._refresher = spawn("community-settings", self.services.directory.keep_fresh)
        for feature in self.features:
            await feature.start()
        self._started = True

    async def stop(self) -> None:
        """Process the held events (if the database is back), stop features, write every
        queued row, and close the database."""
        await stop_task(self._retrier)
        self._retrier = None
        await stop_task(self._refresher)
        self._refresher = None
        if self.backlog:
            await self.drain()
        if self.backlog:
            logger.error(
                "stopping with %d events held while the database is unreachable; they are lost",
                len(self.backlog),
            )
        for feature in reversed(self.features):
            try:
                await feature.stop()
            except Exception:
                logger.exception("feature %s failed to stop", feature.name)
        await stop_task(self._flusher)
        self._flusher = None
        try:
            await self.services.writer.flush()
        finally:
            await self.services.database.close()
            self._started = False

    async def run_due(self) -> None:
        """Run every feature's due background work now (after a clock jump); one failing
        feature is logged and the others still run."""
        for feature in self.features:
            try:
                await feature.tick()
            except Exception:
                logger.exception("feature %s failed running its due work", feature.name)

    async def next_due(self) -> datetime | None:
        """The earliest moment any feature has background work due."""
        dues: list[datetime] = []
        for feature in self.features:
            try:
                due = await feature.next_due()
            except Exception:
                logger.exception("feature %s failed telling its next due time", feature.name)
                continue
            if due is not None:
                dues.append(due)
        return min(dues, default=None)

    def feature(self, kind: type[F]) -> F | None:
        """The running feature of class `kind`, if it is part of this engine."""
        return next((f for f in self.features if isinstance(f, kind)), None)

    def attach(self, platform: str, sink: Sink, roles: RoleLookup | None = None) -> None:
        """Have `sink` perform every action for `platform` (adapters call this at start);
        `roles` tells members' rights on the platform outside commands."""
        self.services.dispatcher.attach(platform, sink, roles)

    async def process(self, event: Event) -> None:
        """Handle `event` and deliver the resulting actions through the attached sinks."""
        await self.services.dispatcher.dispatch(await self.handle(event))

    async def handle(self, event: Event) -> list[Action]:
        """Process one event and return the actions to perform.

        A redelivered event (same platform, channel and message id, or the same reaction,
        join or leave) is dropped here and again by the storage's unique keys. While the
        database cannot be reached the event is held and processed when it is back (its
        actions are then delivered through the dispatcher); a held command is answered at
        once with a note that it will run then.
        """
        event = cleaned(event)
        key = _event_key(event)
        if key is not None and self._recent.seen(key):
            logger.debug("dropping redelivered event %s", key)
            return []
        held = Held(event, key)
        if self.backlog:  # older events wait for the database: this one goes behind them
            return await self._hold(held)
        actions, done = await self._advance(held)
        if not done:
            actions += await self._hold(held)
        return actions

    async def _advance(self, held: Held) -> tuple[list[Action], bool]:
        """Take `held` through its remaining steps. Returns its actions and whether it went
        all the way (False: the database is unreachable; `held.step` says where it stopped)."""
        event, key = held.event, held.key
        if held.context is None:
            try:
                held.context = await self._context(event)
            except Exception as error:
                if await self._down(error):
                    return [], False
                logger.exception("cannot resolve %s %s; event dropped", type(event).__name__, key)
                return [], True
        context = held.context
        actions: list[Action] = []
        if held.step == 0:
            if isinstance(event, CommandInvoked):
                try:
                    actions.extend(await self._run_command(event, context))
                except Exception:  # only an unreachable database gets here
                    return [], False
            held.step = 1
        while held.step <= len(self.features):
            feature = self.features[held.step - 1]
            if not is_on(self.services.settings, context.community, feature.name):
                held.step += 1  # switched off in this community with /config
                continue
            try:
                produced = await feature.on_event(event, context)
            except Exception as error:
                if await self._down(error):
                    return _outgoing(event, key, actions), False
                logger.exception(
                    "feature %s failed on %s (community %s, key %s)",
                    feature.name,
                    type(event).__name__,
                    context.community.id,
                    key,
                )
                produced = ()
            held.step += 1
            actions.extend(produced)
            if _removes(event, produced):
                break  # moderation took the message down: it earns and answers nothing
        return _outgoing(event, key, actions), True

    async def _down(self, error: BaseException) -> bool:
        """Whether `error` means the database is down: it looks so, and a trivial query fails
        too (an OSError from anything else, a file name too long, is an ordinary failure)."""
        return unreachable(error) and not await self.services.database.reachable()

    async def _hold(self, held: Held) -> list[Action]:
        """Put `held` in the backlog; a command not yet run is told it will run later."""
        if not self.backlog:
            logger.warning(
                "the database cannot be reached; holding events until it is back (%s %s)",
                type(held.event).__name__,
                held.key,
            )
        self.backlog.hold(held)
        self._holding.set()
        event = held.event
        if not isinstance(event, CommandInvoked) or held.step > 0:
            return []
        tr = translator(await self._language_of(event))
        return [safe_action(Reply(event.place, event.message_id, tr(_HELD_COMMAND)))]

    async def _language_of(self, event: CommandInvoked) -> str:
        """The community's language when the directory knows the group without asking the
        database; the default language otherwise."""
        try:
            group = await self.services.directory.group(event.place.platform, event.place.group_id)
        except Exception:
            return self.services.settings.defaults.language
        return group.community.language

    async def drain(self) -> bool:
        """Process the held events in order, delivering their actions; stop at the first one
        the database is still unreachable for. True when none is left."""
        async with self._draining:
            count = 0
            while (held := self.backlog.oldest()) is not None:
                actions, done = await self._advance(held)
                if actions:
                    await self.services.dispatcher.dispatch(actions)
                if not done:
                    return False
                self.backlog.done(held)
                count += 1
            self._holding.clear()
            if count:
                logger.warning("the database is back; %d held events processed", count)
            return True

    async def commit(self) -> None:
        """Process every held event and write everything queued: what an adapter awaits
        before telling its platform that the events it handed over were delivered.

        Raises:
            ConnectionError: events are still held (the database cannot be reached).
            Exception: the writer could not reach the database; its rows stay queued.
        """
        if not await self.drain():
            raise ConnectionError(f"{len(self.backlog)} events wait for the database")
        await self.services.writer.flush()

    async def _retry_held(self) -> None:
        """Retry the held events with backoff while there are any (runs supervised)."""
        attempt = 0
        while True:
            await self._holding.wait()
            await asyncio.sleep(retry_delay(attempt))
            attempt = 0 if await finish(self.drain()) else attempt + 1

    async def _context(self, event: Event) -> EventContext:
        platform, group_id, group_name, author = _where(event)
        directory = self.services.directory
        group = await directory.group(platform, group_id, group_name)
        member_id = await directory.member(group.community.id, platform, author)
        return EventContext(
            community=group.community,
            group_id=group.id,
            member_id=member_id,
            tr=translator(group.community.language),
        )

    async def command(self, event: CommandInvoked) -> tuple[bool, str]:
        """Run a command for someone outside a chat (the web dashboard): whether it did what
        was asked (False: refused, malformed or failed) and what Hearth answered. Nothing
        is posted; the role check, the parsing and the wording are the chat's."""
        context = await self._context(event)
        try:
            result = await self._call(event, context)
        except UserFacingError as error:
            return False, str(error)
        if isinstance(result, str):
            return True, result
        # What the command does on the platform (a mute lifted, a message restored, a post)
        # happens as it would from the chat; its words come back instead of a reply.
        said = [action.text for action in result if isinstance(action, Reply)]
        undelivered = False
        for action in result:
            if isinstance(action, Reply):
                continue
            delivery = await self.services.dispatcher.deliver(action)
            undelivered = undelivered or not delivery.ok
            if isinstance(action, Post) and action.text:
                said.append(action.text)
        if undelivered:
            said.append(
                context.tr(
                    N_(
                        "Recorded, but not all of it reached the platform: this process is not "
                        "connected to it (run it from the chat, or serve the dashboard from "
                        "hearth run)."
                    )
                )
            )
        return True, "\n".join(said)

    async def _run_command(self, event: CommandInvoked, context: EventContext) -> list[Action]:
        tr = context.tr
        try:
            text_or_actions = await self._call(event, context)
        except UserFacingError as error:
            text_or_actions = str(error)
        except Exception as error:
            if await self._down(error):
                raise  # the command is held and runs again when the database is back
            logger.exception(
                "command /%s failed (community %s, message %s)",
                event.name,
                context.community.id,
                event.message_id,
            )
            text_or_actions = tr(
                N_("Sorry, something went wrong. The admins can find the details in Hearth's log.")
            )
        if isinstance(text_or_actions, str):
            return [Reply(event.place, event.message_id, text_or_actions)]
        return list(text_or_actions)

    async def _call(self, event: CommandInvoked, context: EventContext) -> str | Sequence[Action]:
        tr = context.tr
        resolved = self.registry.resolve(event.name, event.args)
        if resolved is None:
            return self._unknown(event.name, event.invoker_role, tr)
        command, rest = resolved
        if command.role > event.invoker_role:
            raise PermissionDenied(tr(_REFUSALS[command.role]).format(command=command.path))
        refused = switched_off(self.services.settings, context.community, command, tr)
        if refused is not None:
            return refused
        args = parse_arguments(command, rest, tr)
        call = CommandCall(
            event=event,
            community=context.community,
            member_id=context.member_id,
            role=event.invoker_role,
            args=args,
            tr=tr,
        )
        return await command.handler(call)

    def _unknown(self, name: str, role: Role, tr: Translator) -> str:
        """Usage of a group's subcommands, or a pointer to /help for an unknown name."""
        name = name.lower()
        if name in self.registry.groups():
            commands = self.registry.in_group(name)
            visible = [c for c in commands if c.role <= role]
            if not visible:
                needed = min(c.role for c in commands)
                return tr(_GROUP_REFUSALS[needed]).format(group=name)
            lines = [tr(N_("/{group} needs one of these:")).format(group=name)]
            lines += [f"{c.usage(tr)} — {tr(c.help)}" for c in visible]
            return "\n".join(lines)
        return tr(N_("Unknown command /{command}. Send /help to see what you can use.")).format(
            command=name
        )

    async def _help(self, call: CommandCall) -> str:
        tr = call.tr
        wanted = (call.args.get("command") or "").strip().removeprefix("/")
        if wanted:
            name, _, rest = wanted.partition(" ")
            resolved = self.registry.resolve(name, rest)
            if resolved is None:
                return self._unknown(name, call.role, tr)
            command = resolved[0]
            lines = [command.usage(tr), tr(command.help)]
            lines += [f"  {tr(p.name)}: {tr(p.help)}" for p in command.params if p.help]
            return "\n".join(lines)
        lines = [tr(N_("Commands you can use:"))]
        lines += [f"{c.usage(tr)} — {tr(c.help)}" for c in self.registry.visible_to(call.role)]
        return "\n".join(lines)
